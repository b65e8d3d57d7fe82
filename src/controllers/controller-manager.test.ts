// The controller manager against the in-memory store, with time on a ManualClock and ManualTimers:
// watches to keys, deduplication, one key never on two workers, re-queue on change, back-off,
// requeueAfterMs, resync, feed errors, leadership and draining on stop.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino, type Logger } from 'pino';
import { ManualClock } from '../domain/clock.js';
import { MemoryStore } from '../store/memory-store.js';
import {
  CompactedError,
  type Change,
  type Compare,
  type ListOptions,
  type Op,
  type Store,
  type StoredRecord,
  type TxnResult,
  type WatchOptions,
  type Watcher,
} from '../store/store.js';
import type { Controller, SyncResult, WatchSpec } from './controller.js';
import { ControllerManager, REWATCH_DELAY_MS, type ControllerManagerDeps } from './controller-manager.js';
import { ManualTimers, settle } from './manual-timers.js';

interface LogLine {
  level: number;
  msg: string;
  controller?: string;
  key?: string;
  retryInMs?: number;
  failures?: number;
}

function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const PREFIX = '/things/';

/** A controller whose keys are the names under /things/, recording every sync. */
class RecordingController implements Controller {
  readonly watches: WatchSpec[];
  readonly syncs: string[] = [];
  listCalls = 0;
  keys: string[] = [];
  private readonly running = new Map<string, number>();
  /** Most syncs of one key seen running at the same time. */
  maxSameKey = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Decides what a sync does; default: succeed at once. */
  onSync: (key: string, n: number) => Promise<SyncResult | void> | SyncResult | void = () => undefined;

  constructor(readonly name = 'test') {
    this.watches = [
      {
        prefix: PREFIX,
        keysOf: (c: Change) => {
          const k = c.key.slice(PREFIX.length);
          if (k === 'bad') throw new Error('cannot map this one');
          return k.startsWith('ignored') ? [] : [k];
        },
      },
    ];
  }

  async listKeys(): Promise<string[]> {
    this.listCalls++;
    return [...this.keys];
  }

  async sync(key: string): Promise<SyncResult | void> {
    const n = this.syncs.filter((k) => k === key).length + 1;
    this.syncs.push(key);
    const same = (this.running.get(key) ?? 0) + 1;
    this.running.set(key, same);
    this.maxSameKey = Math.max(this.maxSameKey, same);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.onSync(key, n);
    } finally {
      this.inFlight--;
      this.running.set(key, (this.running.get(key) ?? 1) - 1);
    }
  }

  count(key: string): number {
    return this.syncs.filter((k) => k === key).length;
  }
}

/** A MemoryStore whose feeds the test can break, as a backend's stream would. */
class BreakableFeedStore implements Store {
  readonly backend = 'memory';
  private readonly feeds = new Set<{ w: Watcher; onError: ((e: Error) => void) | undefined }>();
  watchCalls: { prefix: string; fromRevision: number | undefined }[] = [];
  constructor(readonly inner = new MemoryStore()) {}
  get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    return this.inner.get<T>(key);
  }
  getMany<T>(k: readonly string[]): Promise<(StoredRecord<T> | undefined)[]> {
    return this.inner.getMany<T>(k);
  }
  list<T>(prefix: string, o?: ListOptions): Promise<StoredRecord<T>[]> {
    return this.inner.list<T>(prefix, o);
  }
  count(prefix: string): Promise<number> {
    return this.inner.count(prefix);
  }
  txn(c: readonly Compare[], o: readonly Op[]): Promise<TxnResult> {
    return this.inner.txn(c, o);
  }
  revision(): Promise<number> {
    return this.inner.revision();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  watch(
    prefix: string,
    o: WatchOptions,
    onChange: (c: Change) => void,
    onError?: (e: Error) => void,
  ): Watcher {
    this.watchCalls.push({ prefix, fromRevision: o.fromRevision });
    const w = this.inner.watch(prefix, o, onChange, onError);
    const entry = { w, onError };
    this.feeds.add(entry);
    return {
      close: () => {
        this.feeds.delete(entry);
        w.close();
      },
    };
  }
  /** Ends every open feed with `err`. */
  breakFeeds(err: Error): void {
    for (const f of [...this.feeds]) {
      this.feeds.delete(f);
      f.w.close();
      f.onError?.(err);
    }
  }
}

const managers: { m: ControllerManager; timers: ManualTimers }[] = [];
afterEach(async () => {
  // A test that failed may leave a sync blocked: let the drain bound pass instead of hanging.
  for (const { m, timers } of managers.splice(0)) {
    const stopping = m.stop();
    timers.advance(1_000);
    await stopping;
  }
});

function setup(opts: Partial<ControllerManagerDeps> & { store?: Store } = {}) {
  const clock = new ManualClock(1_000_000);
  const timers = new ManualTimers(clock);
  const store = opts.store ?? new MemoryStore();
  const { log, lines } = capturingLogger();
  const m = new ControllerManager({ store, clock, log, timers, drainTimeoutMs: 1_000, ...opts });
  managers.push({ m, timers });
  const put = (name: string) => store.txn([], [{ kind: 'put', key: PREFIX + name, value: { name } }]);
  return { clock, timers, store, m, lines, put };
}

describe('ControllerManager', () => {
  it('syncs every listed key at start, then the keys of watched changes', async () => {
    const { m, put } = setup();
    const c = new RecordingController();
    c.keys = ['a', 'b'];
    m.register(c);
    await m.start();
    await settle();
    assert.deepEqual([...c.syncs].sort(), ['a', 'b']);
    await put('c');
    await put('ignored-1');
    await settle();
    assert.deepEqual([...c.syncs].sort(), ['a', 'b', 'c']);
    await m.stop();
  });

  it('one store watch per prefix, shared by the controllers on it', async () => {
    const store = new BreakableFeedStore();
    const { m, put } = setup({ store });
    const c1 = new RecordingController('one');
    const c2 = new RecordingController('two');
    m.register(c1);
    m.register(c2);
    await m.start();
    assert.deepEqual(
      store.watchCalls.map((w) => w.prefix),
      [PREFIX],
    );
    await put('x');
    await settle();
    assert.deepEqual([c1.syncs, c2.syncs], [['x'], ['x']]);
  });

  it('deduplicates: a key changed many times while waiting in the queue is synced once', async () => {
    const { m, put } = setup({ workers: 1 });
    const c = new RecordingController();
    const gate = deferred();
    c.onSync = (k) => (k === 'blocker' ? gate.promise : undefined);
    c.keys = ['blocker'];
    m.register(c);
    await m.start();
    await settle();
    for (let i = 0; i < 5; i++) await put('x');
    await settle();
    assert.equal(c.count('x'), 0, 'the only worker is busy');
    assert.equal(m.stats().queued, 1);
    gate.resolve();
    await settle();
    assert.equal(c.count('x'), 1);
  });

  it('never runs one key on two workers; a change during its sync runs it once more afterwards', async () => {
    const { m, put } = setup({ workers: 4 });
    const c = new RecordingController();
    const gate = deferred();
    c.onSync = (_k, n) => (n === 1 ? gate.promise : undefined);
    m.register(c);
    await m.start();
    await put('x');
    await settle();
    assert.equal(c.count('x'), 1);
    await put('x');
    await put('x');
    await settle();
    assert.equal(c.count('x'), 1, 'not started again while running');
    gate.resolve();
    await settle();
    assert.equal(c.count('x'), 2, 'run again for the changes made meanwhile, once');
    assert.equal(c.maxSameKey, 1);
  });

  it('runs different keys in parallel, up to the worker count', async () => {
    const { m } = setup({ workers: 3 });
    const c = new RecordingController();
    const gate = deferred();
    c.onSync = () => gate.promise;
    c.keys = ['a', 'b', 'c', 'd', 'e'];
    m.register(c);
    await m.start();
    await settle();
    assert.equal(c.inFlight, 3);
    gate.resolve();
    await settle();
    assert.equal(c.syncs.length, 5);
    assert.equal(c.maxInFlight, 3);
  });

  it('retries a failed sync with exponential back-off and logs the controller and key', async () => {
    const { m, timers, lines } = setup({ backoffBaseMs: 5, backoffMaxMs: 30_000 });
    const c = new RecordingController('flaky');
    c.keys = ['k'];
    c.onSync = (_k, n) => {
      if (n <= 3) throw new Error(`boom ${n}`);
    };
    m.register(c);
    await m.start();
    await settle();
    assert.equal(c.count('k'), 1);
    const step = async (ms: number) => {
      timers.advance(ms);
      await settle();
    };
    await step(4);
    assert.equal(c.count('k'), 1, 'not before 5 ms');
    await step(1);
    assert.equal(c.count('k'), 2);
    await step(9);
    assert.equal(c.count('k'), 2, 'not before 10 ms');
    await step(1);
    assert.equal(c.count('k'), 3);
    await step(20);
    assert.equal(c.count('k'), 4, 'the fourth attempt succeeds');
    await step(10_000);
    assert.equal(c.count('k'), 4, 'no retry after a success');
    const warned = lines.filter((l) => l.msg === 'sync failed; retrying after back-off');
    assert.deepEqual(
      warned.map((l) => [l.controller, l.key, l.retryInMs, l.failures]),
      [
        ['flaky', 'k', 5, 1],
        ['flaky', 'k', 10, 2],
        ['flaky', 'k', 20, 3],
      ],
    );
  });

  it('caps the back-off', async () => {
    const { m, timers, lines } = setup({ backoffBaseMs: 5, backoffMaxMs: 20 });
    const c = new RecordingController();
    c.keys = ['k'];
    c.onSync = () => {
      throw new Error('always');
    };
    m.register(c);
    await m.start();
    for (let i = 0; i < 5; i++) {
      await settle();
      timers.advance(20);
    }
    await settle();
    const delays = lines.filter((l) => l.retryInMs !== undefined).map((l) => l.retryInMs);
    assert.deepEqual(delays.slice(0, 5), [5, 10, 20, 20, 20]);
  });

  it('honours requeueAfterMs', async () => {
    const { m, timers } = setup();
    const c = new RecordingController();
    c.keys = ['k'];
    c.onSync = (_k, n) => (n === 1 ? { requeueAfterMs: 1_000 } : undefined);
    m.register(c);
    await m.start();
    await settle();
    timers.advance(999);
    await settle();
    assert.equal(c.count('k'), 1);
    timers.advance(1);
    await settle();
    assert.equal(c.count('k'), 2);
    timers.advance(60_000);
    await settle();
    assert.equal(c.count('k'), 2 + 2, 'only the periodic resyncs (30 s) after that');
  });

  it('resyncs every key every resyncIntervalMs, including keys listed later', async () => {
    const { m, timers } = setup({ resyncIntervalMs: 10_000 });
    const c = new RecordingController();
    c.keys = ['a'];
    m.register(c);
    await m.start();
    await settle();
    assert.equal(c.count('a'), 1);
    timers.advance(9_999);
    await settle();
    assert.equal(c.count('a'), 1);
    timers.advance(1);
    await settle();
    assert.equal(c.count('a'), 2);
    c.keys = ['a', 'b'];
    timers.advance(10_000);
    await settle();
    assert.deepEqual([c.count('a'), c.count('b')], [3, 1]);
  });

  it('a compacted feed: lists every key again and watches from a fresh revision', async () => {
    const store = new BreakableFeedStore();
    const { m, timers, put } = setup({ store });
    const c = new RecordingController();
    c.keys = ['a'];
    m.register(c);
    await m.start();
    await settle();
    assert.equal(c.listCalls, 1);
    await put('before');
    await settle();
    store.breakFeeds(new CompactedError(1, 10));
    timers.advance(0);
    await settle();
    assert.equal(c.listCalls, 2, 're-listed');
    assert.equal(store.watchCalls.length, 2, 'watching again');
    assert.equal(store.watchCalls[1]!.fromRevision, await store.revision());
    await put('after');
    await settle();
    assert.equal(c.count('after'), 1);
  });

  it('any other feed error: follows again from the last revision seen, missing nothing', async () => {
    const store = new BreakableFeedStore();
    const { m, timers, put } = setup({ store });
    const c = new RecordingController();
    m.register(c);
    await m.start();
    await put('one');
    await settle();
    store.breakFeeds(new Error('stream reset'));
    await put('while-broken');
    await settle();
    assert.equal(c.count('while-broken'), 0);
    timers.advance(REWATCH_DELAY_MS);
    await settle();
    assert.equal(c.count('while-broken'), 1, 'replayed from the last revision');
    assert.equal(c.listCalls, 1, 'no re-listing needed');
    await put('later');
    await settle();
    assert.equal(c.count('later'), 1);
  });

  it('a keysOf that throws loses that change only, not the feed', async () => {
    const { m, put, lines } = setup();
    const c = new RecordingController();
    m.register(c);
    await m.start();
    await put('bad');
    await put('good');
    await settle();
    assert.deepEqual(c.syncs, ['good']);
    assert.ok(lines.some((l) => l.msg === 'keysOf failed; change ignored' && l.controller === 'test'));
  });

  it('does no work while not the leader; the first resync as leader syncs every key', async () => {
    let leader = false;
    const { m, timers, put } = setup({ isLeader: () => leader, resyncIntervalMs: 10_000 });
    const c = new RecordingController();
    c.keys = ['a'];
    m.register(c);
    await m.start();
    await put('b');
    timers.advance(10_000);
    await settle();
    assert.deepEqual(c.syncs, []);
    leader = true;
    timers.advance(10_000);
    await settle();
    assert.deepEqual(c.syncs, ['a']);
  });

  it('stop drains: waits for in-flight syncs, starts nothing queued, ignores later changes', async () => {
    const { m, put } = setup({ workers: 1 });
    const c = new RecordingController();
    const gate = deferred();
    c.onSync = (k) => (k === 'a' ? gate.promise : undefined);
    c.keys = ['a', 'b'];
    m.register(c);
    await m.start();
    await settle();
    let stopped = false;
    const stopping = m.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'waits for the sync of a');
    gate.resolve();
    await stopping;
    await put('c');
    await settle();
    assert.deepEqual(c.syncs, ['a'], 'b was queued, c came after stop: neither ran');
    assert.throws(() => m.register(new RecordingController('late')), /stopped/);
  });

  it('stop gives up waiting after drainTimeoutMs', async () => {
    const { m, timers, lines } = setup({ drainTimeoutMs: 1_000 });
    const c = new RecordingController();
    c.keys = ['stuck'];
    c.onSync = () => new Promise<void>(() => undefined);
    m.register(c);
    await m.start();
    await settle();
    let stopped = false;
    const stopping = m.stop().then(() => (stopped = true));
    await settle();
    timers.advance(999);
    await settle();
    assert.equal(stopped, false);
    timers.advance(1);
    await stopping;
    assert.ok(lines.some((l) => l.msg === 'controller syncs still running at stop; leaving them'));
  });

  it('enqueue: now or after a delay; unknown controllers, duplicate names and late registrations are refused', async () => {
    const { m, timers } = setup();
    const c = new RecordingController();
    m.register(c);
    assert.throws(() => m.register(new RecordingController()), /registered twice/);
    await m.start();
    assert.throws(() => m.register(new RecordingController('other')), /running/);
    assert.throws(() => m.enqueue('nope', 'k'), /no controller named nope/);
    m.enqueue('test', 'now');
    m.enqueue('test', 'later', 500);
    await settle();
    assert.deepEqual(c.syncs, ['now']);
    timers.advance(500);
    await settle();
    assert.deepEqual(c.syncs, ['now', 'later']);
  });
});
