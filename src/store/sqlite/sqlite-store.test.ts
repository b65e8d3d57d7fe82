// The SQLite store: the conformance suite, plus what only a file-backed store has to show
// (reopen, WAL, compaction across reopen, schema version, surviving SIGKILL).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompactedError, type Change, type Store } from '../store.js';
import { runStoreConformance, waitFor } from '../conformance/suite.js';
import {
  openSqliteStore,
  prefixUpperBound,
  SCHEMA_VERSION,
  type SqliteStoreOptions,
} from './sqlite-store.js';

function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sqlite-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function openTemp(options: Partial<SqliteStoreOptions> = {}) {
  const t = tempDir();
  // A subdirectory that does not exist yet: openSqliteStore creates it.
  const path = join(t.dir, 'data', 'berth.db');
  const store = await openSqliteStore({ ...options, path });
  return {
    store,
    path,
    cleanup: async () => {
      await store.close();
      t.remove();
    },
  };
}

runStoreConformance('sqlite', () => openTemp(), {
  openWithHistory: (revisions) => openTemp({ historyRetention: revisions }),
});

// The same suite with the record cache off, so that every read goes through JSON.parse.
runStoreConformance('sqlite (no cache, synchronous=NORMAL)', () =>
  openTemp({ cacheSize: 0, synchronous: 'NORMAL' }),
);

void describe('SqliteStore', () => {
  void it('keeps records, versions and the revision counter across close and reopen', async () => {
    const t = tempDir();
    const path = join(t.dir, 'berth.db');
    try {
      const first = await openSqliteStore({ path });
      const r1 = (await first.txn([], [{ kind: 'put', key: '/a', value: { n: 1 } }])).revision;
      const r2 = (await first.txn([], [{ kind: 'put', key: '/a', value: { n: 2 } }])).revision;
      await first.txn([], [{ kind: 'put', key: '/b', value: 'b' }]);
      const r4 = (await first.txn([], [{ kind: 'delete', key: '/b' }])).revision;
      await first.close();

      const second = await openSqliteStore({ path });
      try {
        assert.equal(await second.revision(), r4);
        assert.deepEqual(await second.get('/a'), {
          key: '/a',
          value: { n: 2 },
          version: r2,
          createRevision: r1,
        });
        assert.equal(await second.get('/b'), undefined);
        const r5 = await second.txn(
          [{ key: '/a', version: r2 }],
          [{ kind: 'put', key: '/a', value: { n: 3 } }],
        );
        assert.deepEqual(r5, { succeeded: true, revision: r4 + 1 });
        assert.equal((await second.get('/a'))?.createRevision, r1);
        // The change feed survives too: a watcher can resume from before the restart.
        const seen: Change[] = [];
        const w = second.watch('/', { fromRevision: r1 }, (c) => seen.push(c));
        await waitFor('the replayed feed', () => seen.length >= 4);
        assert.deepEqual(
          seen.map((c) => [c.type, c.key, c.revision]),
          [
            ['put', '/a', r2],
            ['put', '/b', r2 + 1],
            ['delete', '/b', r4],
            ['put', '/a', r4 + 1],
          ],
        );
        w.close();
      } finally {
        await second.close();
      }
    } finally {
      t.remove();
    }
  });

  void it('puts the file in WAL mode and records the schema version', async () => {
    const t = tempDir();
    const path = join(t.dir, 'berth.db');
    try {
      const store = await openSqliteStore({ path });
      await store.txn([], [{ kind: 'put', key: '/k', value: 1 }]);
      await store.close();
      const db = new Database(path, { readonly: true });
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        const tables = db
          .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
          .all()
          .map((r) => r.name);
        assert.deepEqual(tables, ['changes', 'kv', 'meta']);
      } finally {
        db.close();
      }
    } finally {
      t.remove();
    }
  });

  void it('refuses a database whose schema is newer than it knows', async () => {
    const t = tempDir();
    const path = join(t.dir, 'berth.db');
    try {
      const db = new Database(path);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      await assert.rejects(
        openSqliteStore({ path }),
        new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer`),
      );
    } finally {
      t.remove();
    }
  });

  void it('rejects bad options with the option named', async () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'x.db');
      await assert.rejects(openSqliteStore({ path, historyRetention: -1 }), /historyRetention/);
      await assert.rejects(openSqliteStore({ path, cacheSize: 1.5 }), /cacheSize/);
      await assert.rejects(
        openSqliteStore({ path, synchronous: 'OFF' as unknown as 'FULL' }),
        /synchronous must be GROUP, FULL or NORMAL/,
      );
    } finally {
      t.remove();
    }
  });

  void it('gives CompactedError for a revision compacted before a reopen', async () => {
    const t = tempDir();
    const path = join(t.dir, 'berth.db');
    try {
      const first = await openSqliteStore({ path, historyRetention: 5 });
      for (let i = 0; i < 30; i++) await first.txn([], [{ kind: 'put', key: `/k/${i % 3}`, value: i }]);
      await first.close();

      // Reopened with a larger retention: what was compacted stays compacted.
      const second = await openSqliteStore({ path, historyRetention: 1000 });
      try {
        const errors: Error[] = [];
        const seen: Change[] = [];
        second.watch(
          '/k/',
          { fromRevision: 3 },
          (c) => seen.push(c),
          (e) => errors.push(e),
        );
        await waitFor('the error', () => errors.length === 1);
        assert.ok(errors[0] instanceof CompactedError);
        assert.equal(seen.length, 0);

        const recent: Change[] = [];
        const w = second.watch('/k/', { fromRevision: 25 }, (c) => recent.push(c));
        await waitFor('revisions 26..30', () => recent.length >= 5);
        assert.deepEqual(
          recent.map((c) => c.revision),
          [26, 27, 28, 29, 30],
        );
        w.close();
      } finally {
        await second.close();
      }
    } finally {
      t.remove();
    }
  });

  void it('catches a watcher up over more history than one page, then goes live in order', async () => {
    const { store, cleanup } = await openTemp();
    try {
      // 10 txns of 100 ops: 1000 change rows, more than one catch-up page.
      for (let t = 0; t < 10; t++) {
        const ops = Array.from({ length: 100 }, (_, i) => ({
          kind: 'put' as const,
          key: `/p/${t}/${i}`,
          value: i,
        }));
        await store.txn([], ops);
      }
      const seen: Change[] = [];
      const w = store.watch('/p/', { fromRevision: 0 }, (c) => seen.push(c));
      // Written while the watcher is still catching up: must come once, after the backlog.
      const live = await store.txn([], [{ kind: 'put', key: '/p/live', value: 0 }]);
      await waitFor('the whole feed', () => seen.length >= 1001);
      assert.equal(seen.length, 1001);
      const revs = seen.map((c) => c.revision);
      assert.deepEqual(
        revs,
        [...revs].sort((a, b) => a - b),
      );
      assert.equal(new Set(seen.map((c) => c.key)).size, 1001);
      assert.deepEqual(seen.at(-1), { type: 'put', key: '/p/live', value: 0, revision: live.revision });
      w.close();
    } finally {
      await cleanup();
    }
  });

  void it('serves reads from the cache without sharing stale versions', async () => {
    const { store, cleanup } = await openTemp({ cacheSize: 2 });
    try {
      await store.txn([], [{ kind: 'put', key: '/a', value: { v: 1 } }]);
      const a1 = await store.get('/a');
      assert.equal(await store.get('/a'), a1, 'an unchanged record is served from the cache');
      await store.txn([], [{ kind: 'put', key: '/a', value: { v: 2 } }]);
      assert.deepEqual((await store.get('/a'))?.value, { v: 2 });
      await store.txn(
        [],
        [
          { kind: 'put', key: '/b', value: 'b' },
          { kind: 'put', key: '/c', value: 'c' },
        ],
      );
      // '/a' was evicted by the two newer records and is read back from the file.
      assert.deepEqual((await store.get('/a'))?.value, { v: 2 });
      await store.txn([], [{ kind: 'delete', key: '/a' }]);
      assert.equal(await store.get('/a'), undefined);
      const [gone, b] = await store.getMany(['/a', '/b']);
      assert.equal(gone, undefined);
      assert.equal(b?.value, 'b');
      await store.txn([], [{ kind: 'put', key: '/a', value: { v: 3 } }]);
      assert.deepEqual((await store.get('/a'))?.value, { v: 3 });
    } finally {
      await cleanup();
    }
  });

  void it('keeps the cache equal to the file across one batch of txns', async () => {
    // Txns queued in one turn commit as one batch: the cache must end with the last of them,
    // skip the one whose compare failed and the one that threw, and already hold the batch
    // while its group-commit sync is still running (a read then sees what SQLite holds).
    const { store, path, cleanup } = await openTemp({ synchronous: 'GROUP' });
    try {
      await store.txn([], [{ kind: 'put', key: '/gone', value: 0 }]);
      const writes = [
        store.txn([], [{ kind: 'put', key: '/a', value: 1 }]),
        store.txn([], [{ kind: 'put', key: '/a', value: 2 }]),
        store.txn([{ key: '/a', version: 1 }], [{ kind: 'put', key: '/a', value: 'stale' }]),
        store.txn([], [{ kind: 'put', key: '/b', value: 'b' }]),
        store.txn(
          [],
          [
            { kind: 'put', key: '/b', value: 'lost' },
            { kind: 'put', key: '/bad', value: undefined },
          ],
        ),
        store.txn([], [{ kind: 'delete', key: '/gone' }]),
      ];
      const settled = Promise.allSettled(writes);
      await new Promise((r) => queueMicrotask(() => r(undefined))); // the batch commits here
      assert.equal((await store.get('/a'))?.value, 2, 'read before the sync returns');
      const outcomes = await settled;
      assert.deepEqual(
        outcomes.map((o) => (o.status === 'fulfilled' ? o.value.succeeded : 'threw')),
        [true, true, false, true, 'threw', true],
      );
      const [a, b, bad, gone] = await store.getMany(['/a', '/b', '/bad', '/gone']);
      assert.equal(a?.value, 2);
      assert.equal(b?.value, 'b');
      assert.equal(bad, undefined);
      assert.equal(gone, undefined);
      // The same answers from the file itself.
      const db = new Database(path, { readonly: true });
      try {
        const rows = db
          .prepare<[], { key: string; value: string }>('SELECT key, value FROM kv ORDER BY key')
          .all();
        assert.deepEqual(rows, [
          { key: '/a', value: '2' },
          { key: '/b', value: '"b"' },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await cleanup();
    }
  });

  void it('rolls back a txn whose value cannot be stored', async () => {
    const { store, cleanup } = await openTemp();
    try {
      const before = await store.revision();
      await assert.rejects(
        store.txn(
          [],
          [
            { kind: 'put', key: '/ok', value: 1 },
            { kind: 'put', key: '/bad', value: undefined },
          ],
        ),
        /not JSON-serialisable/,
      );
      assert.equal(await store.get('/ok'), undefined);
      assert.equal(await store.revision(), before);
    } finally {
      await cleanup();
    }
  });

  void it('bounds prefix scans correctly at the top of the character range', async () => {
    assert.equal(prefixUpperBound(''), undefined);
    assert.equal(prefixUpperBound('/a/b/'), '/a/b0');
    assert.equal(prefixUpperBound('a\uffff'), 'a\u{10000}');
    assert.equal(prefixUpperBound('a\u{10ffff}'), 'b');
    assert.equal(prefixUpperBound('\ud7ff'), '\ue000');
    const { store, cleanup } = await openTemp();
    try {
      const keys = ['a\uffff', 'a\uffff/1', 'a\u{10000}', 'a\u{10ffff}', 'a\u{10ffff}x', 'b'];
      await store.txn(
        [],
        keys.map((key) => ({ kind: 'put' as const, key, value: key })),
      );
      assert.deepEqual(
        (await store.list('a\uffff')).map((r) => r.key),
        ['a\uffff', 'a\uffff/1'],
      );
      assert.deepEqual(
        (await store.list('a\u{10ffff}')).map((r) => r.key),
        ['a\u{10ffff}', 'a\u{10ffff}x'],
      );
      assert.equal(await store.count('a'), 5);
    } finally {
      await cleanup();
    }
  });

  void it('fails calls after close', async () => {
    const { store, cleanup } = await openTemp();
    await cleanup();
    await assert.rejects(store.get('/k'), /closed/);
    await assert.rejects(store.txn([], []), /closed/);
  });

  void it('loses no acknowledged write when the process is killed with SIGKILL', async () => {
    const t = tempDir();
    const path = join(t.dir, 'berth.db');
    const moduleUrl = new URL('./sqlite-store.js', import.meta.url).href;
    // A short pause between writes keeps the child mid-stream when the kill lands.
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(moduleUrl)});
      const store = await openSqliteStore({ path: process.env.BERTH_TEST_DB });
      for (let i = 0; i < 200; i++) {
        const r = await store.txn([], [{ kind: 'put', key: '/d/' + String(i).padStart(3, '0'), value: { i } }]);
        process.stdout.write('done ' + i + ' ' + r.revision + '\\n');
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      process.stdout.write('finished\\n');
      setInterval(() => undefined, 1000);
    `;
    try {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, BERTH_TEST_DB: path },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.split('\n').filter((l) => l.startsWith('done ')).length >= 40 || out.includes('finished')) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', () => reject(new Error(`child exited before the kill: ${err}`)));
      });
      assert.equal(await exited, 'SIGKILL');
      const acked = out
        .split('\n')
        .filter((l) => l.startsWith('done '))
        .map((l) => l.split(' ').map(Number) as [number, number, number]);
      assert.ok(acked.length >= 40);
      assert.ok(!out.includes('finished'), 'the kill landed mid-way');

      const store: Store = await openSqliteStore({ path });
      try {
        for (const [, i, revision] of acked) {
          const rec = await store.get<{ i: number }>(`/d/${String(i).padStart(3, '0')}`);
          assert.deepEqual(rec?.value, { i }, `acknowledged write ${i} is missing`);
          assert.equal(rec?.version, revision);
        }
        // At most the one write in flight at the kill may have committed without its ack.
        const stored = await store.count('/d/');
        assert.ok(
          stored === acked.length || stored === acked.length + 1,
          `${stored} stored, ${acked.length} acked`,
        );
        assert.equal(await store.revision(), stored);
        // And the file is writable again at the next revision.
        assert.equal((await store.txn([], [{ kind: 'put', key: '/after', value: 1 }])).revision, stored + 1);
      } finally {
        await store.close();
      }
    } finally {
      t.remove();
    }
  });
});
