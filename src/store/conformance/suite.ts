// The behaviour every Store backend must show, as one node:test suite. A backend's test file
// calls runStoreConformance with a factory that opens a fresh, empty store (its own file,
// namespace or process) and a cleanup that removes it.
// Revisions are only compared with each other, never with literals: a backend need not start at 0.
// Watch delivery may be synchronous or asynchronous, so watch tests wait for what they expect.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompactedError, type Change, type Op, type Store, type Watcher } from '../store.js';
import { updateRecord } from '../cas.js';
import { MAX_TXN_OPS } from '../txn-rules.js';

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

const WAIT_MS = 5_000;

/** Polls until `done()` holds; fails with `what` after WAIT_MS. */
export async function waitFor(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Lets asynchronous deliveries that are already due happen (used before asserting that nothing came). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
}

function put(key: string, value: unknown): Op {
  return { kind: 'put', key, value };
}

function del(key: string): Op {
  return { kind: 'delete', key };
}

/** A watch whose changes and errors pile up in arrays. */
function collect(
  store: Store,
  prefix: string,
  fromRevision?: number,
): { changes: Change[]; errors: Error[]; watcher: Watcher } {
  const changes: Change[] = [];
  const errors: Error[] = [];
  const watcher = store.watch(
    prefix,
    fromRevision === undefined ? {} : { fromRevision },
    (c) => changes.push(c),
    (e) => errors.push(e),
  );
  return { changes, errors, watcher };
}

const brief = (cs: readonly Change[]) => cs.map((c) => `${c.type} ${c.key}`);

export interface ConformanceOptions {
  /**
   * Opens a fresh store that keeps at least `revisions` revisions of change history, and not
   * many more (within a few dozen). Without it the compaction test is not registered, so
   * every backend whose history is bounded should provide it.
   */
  openWithHistory?: (revisions: number) => Promise<OpenedStore>;
}

export function runStoreConformance(
  name: string,
  open: () => Promise<OpenedStore>,
  options: ConformanceOptions = {},
): void {
  /** Runs `body` against a fresh store and always cleans up. */
  const withStore = (body: (store: Store) => Promise<void>) => async () => {
    const opened = await open();
    try {
      await body(opened.store);
    } finally {
      await opened.cleanup();
    }
  };

  async function putOne(store: Store, key: string, value: unknown): Promise<number> {
    const r = await store.txn([], [put(key, value)]);
    assert.equal(r.succeeded, true);
    return r.revision;
  }

  void describe(`Store conformance: ${name}`, () => {
    void describe('records', () => {
      void it(
        'gets nothing for an absent key',
        withStore(async (store) => {
          assert.equal(await store.get('/nope'), undefined);
          assert.equal(await store.count(''), 0);
        }),
      );

      void it(
        'puts a record whose version and createRevision are the txn revision',
        withStore(async (store) => {
          const before = await store.revision();
          const rev = await putOne(store, '/a', { n: 1, s: 'x', list: [1, { deep: true }] });
          assert.ok(rev > before);
          assert.equal(await store.revision(), rev);
          const rec = await store.get<{ n: number }>('/a');
          assert.deepEqual(rec, {
            key: '/a',
            value: { n: 1, s: 'x', list: [1, { deep: true }] },
            version: rev,
            createRevision: rev,
          });
        }),
      );

      void it(
        'round-trips JSON values: unicode, numbers, nulls, empty containers',
        withStore(async (store) => {
          const value = {
            name: 'été ☃ 𝄞',
            big: 2 ** 53 - 1,
            frac: 0.125,
            neg: -3,
            nil: null,
            a: [],
            o: {},
            t: true,
          };
          await putOne(store, '/v', value);
          assert.deepEqual((await store.get('/v'))?.value, value);
        }),
      );

      void it(
        'returns frozen values, nested objects included',
        withStore(async (store) => {
          await putOne(store, '/f', { inner: { list: [1, 2] } });
          const rec = await store.get<{ inner: { list: number[] } }>('/f');
          assert.ok(rec);
          assert.ok(Object.isFrozen(rec.value));
          assert.ok(Object.isFrozen(rec.value.inner));
          assert.ok(Object.isFrozen(rec.value.inner.list));
          assert.throws(() => {
            (rec.value.inner.list as number[]).push(3);
          });
        }),
      );

      void it(
        'moves version to the new revision on update and keeps createRevision',
        withStore(async (store) => {
          const r1 = await putOne(store, '/k', { v: 1 });
          await putOne(store, '/other', {});
          const r3 = await putOne(store, '/k', { v: 2 });
          const rec = await store.get('/k');
          assert.deepEqual(rec, { key: '/k', value: { v: 2 }, version: r3, createRevision: r1 });
        }),
      );

      void it(
        'deletes, and a recreated key gets a new createRevision',
        withStore(async (store) => {
          const r1 = await putOne(store, '/k', 1);
          const rd = await store.txn([], [del('/k')]);
          assert.equal(rd.succeeded, true);
          assert.ok(rd.revision > r1);
          assert.equal(await store.get('/k'), undefined);
          const r3 = await putOne(store, '/k', 2);
          assert.ok(r3 > rd.revision);
          const rec = await store.get('/k');
          assert.equal(rec?.createRevision, r3);
          assert.equal(rec?.version, r3);
        }),
      );

      void it(
        'getMany answers in the order asked, with undefined for absent keys',
        withStore(async (store) => {
          const ra = await putOne(store, '/a', 'A');
          const rb = await putOne(store, '/b', 'B');
          const got = await store.getMany<string>(['/b', '/missing', '/a', '/b']);
          assert.deepEqual(
            got.map((r) => r && [r.key, r.value, r.version]),
            [['/b', 'B', rb], undefined, ['/a', 'A', ra], ['/b', 'B', rb]],
          );
          assert.deepEqual(await store.getMany([]), []);
        }),
      );
    });

    void describe('txn', () => {
      void it(
        'applies every op of a txn atomically at one revision',
        withStore(async (store) => {
          await putOne(store, '/x/gone', 0);
          const before = await store.revision();
          const r = await store.txn([], [put('/x/1', 1), put('/x/2', 2), del('/x/gone')]);
          assert.equal(r.succeeded, true);
          assert.equal(r.revision, before + 1, 'one txn bumps the revision once');
          const [a, b, gone] = await store.getMany(['/x/1', '/x/2', '/x/gone']);
          assert.equal(a?.version, r.revision);
          assert.equal(b?.version, r.revision);
          assert.equal(gone, undefined);
        }),
      );

      void it(
        'writes when every compare holds',
        withStore(async (store) => {
          const r1 = await putOne(store, '/k', 1);
          const r = await store.txn(
            [
              { key: '/k', version: r1 },
              { key: '/absent', version: 0 },
            ],
            [put('/k', 2), put('/absent', 'now here')],
          );
          assert.equal(r.succeeded, true);
          assert.equal((await store.get('/k'))?.value, 2);
          assert.equal((await store.get('/absent'))?.value, 'now here');
        }),
      );

      void it(
        'writes nothing when a compare fails, even if the others hold',
        withStore(async (store) => {
          const ra = await putOne(store, '/a', 'a1');
          const rb = await putOne(store, '/b', 'b1');
          const before = await store.revision();
          const r = await store.txn(
            [
              { key: '/a', version: ra },
              { key: '/b', version: ra }, // stale
            ],
            [put('/a', 'a2'), put('/b', 'b2'), put('/c', 'c1'), del('/a')],
          );
          assert.deepEqual(r, { succeeded: false, revision: before });
          assert.equal(await store.revision(), before);
          const [a, b, c] = await store.getMany(['/a', '/b', '/c']);
          assert.deepEqual([a?.value, a?.version], ['a1', ra]);
          assert.deepEqual([b?.value, b?.version], ['b1', rb]);
          assert.equal(c, undefined);
        }),
      );

      void it(
        'treats version 0 as "absent" in compares',
        withStore(async (store) => {
          const r1 = await store.txn([{ key: '/k', version: 0 }], [put('/k', 'first')]);
          assert.equal(r1.succeeded, true);
          const r2 = await store.txn([{ key: '/k', version: 0 }], [put('/k', 'second')]);
          assert.equal(r2.succeeded, false, 'version 0 fails once the key exists');
          const r3 = await store.txn([{ key: '/never', version: r1.revision }], [put('/k', 'third')]);
          assert.equal(r3.succeeded, false, 'a non-zero version fails on an absent key');
          assert.equal((await store.get('/k'))?.value, 'first');
          await store.txn([], [del('/k')]);
          const r4 = await store.txn([{ key: '/k', version: 0 }], [put('/k', 'again')]);
          assert.equal(r4.succeeded, true, 'version 0 holds again after a delete');
        }),
      );

      void it(
        'keeps the revision for a txn that changes nothing',
        withStore(async (store) => {
          await putOne(store, '/k', 1);
          const before = await store.revision();
          assert.deepEqual(await store.txn([], []), { succeeded: true, revision: before });
          assert.deepEqual(await store.txn([], [del('/absent')]), { succeeded: true, revision: before });
          assert.equal(await store.revision(), before);
        }),
      );

      void it(
        'hands out strictly increasing revisions',
        withStore(async (store) => {
          let last = await store.revision();
          for (let i = 0; i < 10; i++) {
            const r = await store.txn([], [i % 3 === 2 ? del(`/k${i - 1}`) : put(`/k${i}`, i)]);
            assert.ok(r.revision > last, `revision ${r.revision} after ${last}`);
            assert.equal(await store.revision(), r.revision);
            last = r.revision;
          }
        }),
      );

      void it(
        `accepts ${MAX_TXN_OPS} ops and rejects ${MAX_TXN_OPS + 1} without writing`,
        withStore(async (store) => {
          const ops = (n: number, tag: string) => Array.from({ length: n }, (_, i) => put(`/${tag}/${i}`, i));
          const ok = await store.txn([], ops(MAX_TXN_OPS, 'ok'));
          assert.equal(ok.succeeded, true);
          assert.equal(await store.count('/ok/'), MAX_TXN_OPS);
          await assert.rejects(async () => store.txn([], ops(MAX_TXN_OPS + 1, 'big')), /limit is 128/);
          assert.equal(await store.count('/big/'), 0);
          assert.equal(await store.revision(), ok.revision);
        }),
      );

      void it(
        'lets only one of two racing creates win',
        withStore(async (store) => {
          const results = await Promise.all(
            ['one', 'two'].map((who) => store.txn([{ key: '/lock', version: 0 }], [put('/lock', who)])),
          );
          assert.deepEqual(results.map((r) => r.succeeded).sort(), [false, true]);
          const winner = results[0]!.succeeded ? 'one' : 'two';
          assert.equal((await store.get('/lock'))?.value, winner);
        }),
      );

      void it(
        'ends 20 parallel updateRecord increments at exactly 20',
        withStore(async (store) => {
          await Promise.all(
            Array.from({ length: 20 }, () =>
              updateRecord<{ n: number }>(store, '/counter', (cur) => ({ n: (cur?.n ?? 0) + 1 })),
            ),
          );
          assert.deepEqual((await store.get('/counter'))?.value, { n: 20 });
        }),
      );
    });

    void describe('list and count', () => {
      void it(
        'lists in key order, only under the prefix',
        withStore(async (store) => {
          await store.txn(
            [],
            [put('/a/b/2', 2), put('/a/bc/1', 'bc'), put('/a/b/1', 1), put('/a/a', 'a'), put('/a/b/10', 10)],
          );
          await putOne(store, '/a/b', 'the prefix itself');
          const keysOf = async (p: string) => (await store.list(p)).map((r) => r.key);
          assert.deepEqual(await keysOf('/a/b/'), ['/a/b/1', '/a/b/10', '/a/b/2']);
          assert.deepEqual(await keysOf('/a/bc/'), ['/a/bc/1']);
          assert.deepEqual(await keysOf('/a/b'), ['/a/b', '/a/b/1', '/a/b/10', '/a/b/2', '/a/bc/1']);
          assert.deepEqual(await keysOf('/a/'), ['/a/a', '/a/b', '/a/b/1', '/a/b/10', '/a/b/2', '/a/bc/1']);
          assert.deepEqual(await keysOf('/z/'), []);
          const all = await store.list('');
          assert.equal(all.length, 6);
          const one = (await store.list<number>('/a/b/1'))[0];
          assert.equal(one?.value, 1);
          assert.equal(typeof one?.version, 'number');
        }),
      );

      void it(
        'keeps prefixes that end in a non-ASCII character apart',
        withStore(async (store) => {
          await store.txn([], [put('/é/1', 1), put('/ê/1', 2), put('/é', 0), put('/éa', 3), put('/f', 4)]);
          assert.deepEqual(
            (await store.list('/é')).map((r) => r.key),
            ['/é', '/é/1', '/éa'],
          );
          assert.equal(await store.count('/é'), 3);
          assert.equal(await store.count('/ê'), 1);
        }),
      );

      void it(
        'pages with startAfter and limit without gaps or repeats',
        withStore(async (store) => {
          const want = Array.from({ length: 23 }, (_, i) => `/p/${String(i).padStart(3, '0')}`);
          await store.txn(
            [],
            want.map((k) => put(k, k)),
          );
          await store.txn([], [put('/o/x', 0), put('/q/x', 0)]);
          const seen: string[] = [];
          let startAfter: string | undefined;
          for (;;) {
            const page = await store.list(
              '/p/',
              startAfter === undefined ? { limit: 5 } : { startAfter, limit: 5 },
            );
            assert.ok(page.length <= 5);
            seen.push(...page.map((r) => r.key));
            if (page.length < 5) break;
            startAfter = page[page.length - 1]!.key;
          }
          assert.deepEqual(seen, want);
          assert.deepEqual(
            (await store.list('/p/', { startAfter: '/p/0205' })).map((r) => r.key),
            want.slice(21),
          );
          assert.deepEqual(
            (await store.list('/p/', { startAfter: '/a', limit: 2 })).map((r) => r.key),
            want.slice(0, 2),
            'a startAfter before the prefix changes nothing',
          );
          assert.deepEqual(await store.list('/p/', { startAfter: '/p/999' }), []);
          assert.deepEqual(await store.list('/p/', { limit: 0 }), []);
        }),
      );

      void it(
        'lists in reverse key order, paging backwards with startAfter',
        withStore(async (store) => {
          const want = Array.from({ length: 12 }, (_, i) => `/r/${String(i).padStart(3, '0')}`);
          await store.txn(
            [],
            want.map((k) => put(k, k)),
          );
          await store.txn([], [put('/q/x', 0), put('/s/x', 0)]);
          const all = (await store.list('/r/', { reverse: true })).map((r) => r.key);
          assert.deepEqual(all, [...want].reverse());
          const seen: string[] = [];
          let startAfter: string | undefined;
          for (;;) {
            const page = await store.list(
              '/r/',
              startAfter === undefined
                ? { limit: 5, reverse: true }
                : { startAfter, limit: 5, reverse: true },
            );
            seen.push(...page.map((r) => r.key));
            if (page.length < 5) break;
            startAfter = page[page.length - 1]!.key;
          }
          assert.deepEqual(seen, [...want].reverse());
          assert.deepEqual(
            (await store.list('/r/', { reverse: true, startAfter: '/r/002' })).map((r) => r.key),
            ['/r/001', '/r/000'],
          );
          assert.deepEqual(
            (await store.list('/r/', { reverse: true, limit: 1 })).map((r) => r.value),
            ['/r/011'],
          );
        }),
      );

      void it(
        'counts records under a prefix',
        withStore(async (store) => {
          await store.txn([], [put('/c/1', 1), put('/c/2', 2), put('/c/3', 3), put('/cc/1', 1)]);
          assert.equal(await store.count('/c/'), 3);
          assert.equal(await store.count('/c'), 4);
          assert.equal(await store.count(''), 4);
          await store.txn([], [del('/c/2')]);
          assert.equal(await store.count('/c/'), 2);
          assert.equal(await store.count('/d/'), 0);
        }),
      );
    });

    void describe('watch', () => {
      void it(
        'delivers live puts and deletes with their revisions and values',
        withStore(async (store) => {
          const w = collect(store, '/w/');
          const r1 = await putOne(store, '/w/a', { n: 1 });
          const r2 = await putOne(store, '/w/a', { n: 2 });
          const r3 = (await store.txn([], [del('/w/a')])).revision;
          await waitFor('three changes', () => w.changes.length >= 3);
          assert.deepEqual(w.changes, [
            { type: 'put', key: '/w/a', value: { n: 1 }, revision: r1 },
            { type: 'put', key: '/w/a', value: { n: 2 }, revision: r2 },
            { type: 'delete', key: '/w/a', value: undefined, revision: r3 },
          ]);
          assert.deepEqual(w.errors, []);
          w.watcher.close();
        }),
      );

      void it(
        'delivers only changes under the prefix',
        withStore(async (store) => {
          const w = collect(store, '/a/b/');
          await store.txn([], [put('/a/bc/1', 0), put('/a/b/1', 1), put('/a/1', 0)]);
          await putOne(store, '/a/b', 0);
          await putOne(store, '/a/b/2', 2);
          await waitFor('two changes', () => w.changes.length >= 2);
          await settle();
          assert.deepEqual(brief(w.changes), ['put /a/b/1', 'put /a/b/2']);
          w.watcher.close();
        }),
      );

      void it(
        'delivers in revision order, and a txn in its op order',
        withStore(async (store) => {
          const w = collect(store, '/o/');
          const revs: number[] = [];
          for (let i = 0; i < 5; i++) {
            revs.push((await store.txn([], [put(`/o/${i}/z`, i), put(`/o/${i}/a`, i)])).revision);
          }
          // Writes not awaited one by one: still one feed in commit order.
          const racing = await Promise.all(
            Array.from({ length: 10 }, (_, i) => store.txn([], [put(`/o/r${i}`, i)])),
          );
          await waitFor('20 changes', () => w.changes.length >= 20);
          const got = w.changes.map((c) => c.revision);
          assert.deepEqual(
            got,
            [...got].sort((a, b) => a - b),
          );
          assert.deepEqual(brief(w.changes.slice(0, 4)), [
            'put /o/0/z',
            'put /o/0/a',
            'put /o/1/z',
            'put /o/1/a',
          ]);
          assert.deepEqual(
            w.changes.slice(10).map((c) => c.revision),
            racing.map((r) => r.revision).sort((a, b) => a - b),
          );
          assert.equal(w.changes[0]!.revision, revs[0]);
          w.watcher.close();
        }),
      );

      void it(
        'replays retained changes after fromRevision, then goes live, without gaps or repeats',
        withStore(async (store) => {
          const r1 = await putOne(store, '/h/k', 'v1');
          const r2 = await putOne(store, '/h/k', 'v2');
          const r3 = (await store.txn([], [del('/h/k'), put('/h/j', 'j1'), put('/elsewhere', 0)])).revision;
          const w = collect(store, '/h/', r1);
          const r4 = await putOne(store, '/h/j', 'j2');
          await waitFor('four changes', () => w.changes.length >= 4);
          await settle();
          assert.deepEqual(w.changes, [
            { type: 'put', key: '/h/k', value: 'v2', revision: r2 },
            { type: 'delete', key: '/h/k', value: undefined, revision: r3 },
            { type: 'put', key: '/h/j', value: 'j1', revision: r3 },
            { type: 'put', key: '/h/j', value: 'j2', revision: r4 },
          ]);
          w.watcher.close();
        }),
      );

      void it(
        'replays nothing when fromRevision is the current revision',
        withStore(async (store) => {
          await putOne(store, '/n/old', 1);
          const w = collect(store, '/n/', await store.revision());
          const r = await putOne(store, '/n/new', 2);
          await waitFor('the new change', () => w.changes.length >= 1);
          await settle();
          assert.deepEqual(
            w.changes.map((c) => [c.key, c.revision]),
            [['/n/new', r]],
          );
          w.watcher.close();
        }),
      );

      void it(
        'stops delivering once closed',
        withStore(async (store) => {
          const closed = collect(store, '/s/');
          const open = collect(store, '/s/');
          await putOne(store, '/s/1', 1);
          await waitFor(
            'first change on both',
            () => closed.changes.length === 1 && open.changes.length === 1,
          );
          closed.watcher.close();
          await putOne(store, '/s/2', 2);
          await putOne(store, '/s/3', 3);
          await waitFor('later changes on the open watcher', () => open.changes.length === 3);
          await settle();
          assert.deepEqual(brief(closed.changes), ['put /s/1']);
          assert.deepEqual(closed.errors, []);
          open.watcher.close();
        }),
      );

      void it(
        'keeps a throwing watcher from failing the txn or starving others; its watch ends with the error',
        withStore(async (store) => {
          const boom = new Error('watcher bug');
          const thrownErrors: Error[] = [];
          let calls = 0;
          const bad = store.watch(
            '/t/',
            {},
            () => {
              calls++;
              throw boom;
            },
            (e) => thrownErrors.push(e),
          );
          const good = collect(store, '/t/');
          const r1 = await store.txn([], [put('/t/1', 1), put('/t/2', 2)]);
          assert.equal(r1.succeeded, true);
          const r2 = await store.txn([], [put('/t/3', 3)]);
          assert.equal(r2.succeeded, true);
          await waitFor('all changes on the good watcher', () => good.changes.length === 3);
          await waitFor('the error on the bad watcher', () => thrownErrors.length === 1);
          await settle();
          assert.equal(calls, 1, 'no delivery after the throw');
          assert.equal(thrownErrors[0], boom);
          assert.deepEqual(brief(good.changes), ['put /t/1', 'put /t/2', 'put /t/3']);
          assert.equal((await store.get('/t/3'))?.version, r2.revision);
          bad.close();
          good.watcher.close();
        }),
      );

      void it(
        'keeps revision order for every watcher when a watcher writes from its callback',
        withStore(async (store) => {
          const writes: Promise<unknown>[] = [];
          const writer = store.watch('/r/', {}, (c) => {
            if (c.key === '/r/start') writes.push(store.txn([], [put('/r/echo', 'from callback')]));
          });
          const other = collect(store, '/r/');
          await store.txn([], [put('/r/start', 1), put('/r/tail', 2)]);
          await waitFor('three changes', () => other.changes.length >= 3);
          await Promise.all(writes);
          await settle();
          assert.deepEqual(brief(other.changes), ['put /r/start', 'put /r/tail', 'put /r/echo']);
          const revs = other.changes.map((c) => c.revision);
          assert.ok(revs[0] === revs[1] && revs[1]! < revs[2]!, `revisions ${revs.join(',')}`);
          writer.close();
          other.watcher.close();
        }),
      );

      void it(
        'runs several watchers on overlapping prefixes independently',
        withStore(async (store) => {
          const all = collect(store, '');
          const some = collect(store, '/m/1');
          await store.txn([], [put('/m/1', 1), put('/m/2', 2), put('/m/10', 10)]);
          await waitFor('deliveries', () => all.changes.length >= 3 && some.changes.length >= 2);
          await settle();
          assert.deepEqual(brief(all.changes), ['put /m/1', 'put /m/2', 'put /m/10']);
          assert.deepEqual(brief(some.changes), ['put /m/1', 'put /m/10']);
          all.watcher.close();
          some.watcher.close();
        }),
      );

      const { openWithHistory } = options;
      if (openWithHistory) {
        void it('ends a watch from a compacted revision with CompactedError, and replays a retained one', async () => {
          const opened = await openWithHistory(10);
          const store = opened.store;
          try {
            const start = await store.revision();
            for (let i = 0; i < 50; i++) await putOne(store, `/c/${i}`, i);
            const old = collect(store, '/c/', start);
            await waitFor('an error', () => old.errors.length >= 1);
            assert.ok(old.errors[0] instanceof CompactedError, `got ${old.errors[0]?.name}`);
            assert.equal((old.errors[0] as CompactedError).requested, start);
            await putOne(store, '/c/after', 0);
            await settle();
            assert.deepEqual(old.changes, [], 'nothing after the error');
            assert.equal(old.errors.length, 1);

            const recent = collect(store, '/c/', (await store.revision()) - 10);
            await putOne(store, '/c/live', 0);
            await waitFor('the retained changes', () => recent.changes.length >= 11);
            await settle();
            assert.deepEqual(recent.errors, []);
            assert.deepEqual(
              recent.changes.map((c) => c.key),
              [...Array.from({ length: 9 }, (_, i) => `/c/${41 + i}`), '/c/after', '/c/live'],
            );
            old.watcher.close();
            recent.watcher.close();
          } finally {
            await opened.cleanup();
          }
        });
      }
    });
  });
}
