import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerInstanceRecord, TaskRecord } from '../domain/records.js';
import { keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Change, Store } from '../store/store.js';
import { PlacementViews } from './placement-views.js';

const scope = { account: '123456789012', region: 'us-east-1' };
const ARN = 'arn:aws:ecs:us-east-1:123456789012';

function instance(id: string, memory = 2048): ContainerInstanceRecord {
  return {
    containerInstanceArn: `${ARN}:container-instance/prod/${id}`,
    cluster: 'prod',
    status: 'ACTIVE',
    agentConnected: true,
    remainingResources: [{ name: 'MEMORY', type: 'INTEGER', integerValue: memory }],
    tags: [],
  };
}

function task(id: string, on: string): TaskRecord {
  return {
    taskArn: `${ARN}:task/prod/${id}`,
    clusterArn: `${ARN}:cluster/prod`,
    containerInstanceArn: `${ARN}:container-instance/prod/${on}`,
    group: 'service:web',
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    tags: [],
    berth: {},
  };
}

async function put(store: Store, key: string, value: unknown): Promise<number> {
  return (await store.txn([], [{ kind: 'put', key, value }])).revision;
}

/** A store whose change feed is held back until release() (a feed that lags the writes), or fails. */
function laggingStore(inner: MemoryStore) {
  const held: (() => void)[] = [];
  let fail: ((e: Error) => void) | undefined;
  let hold = false;
  const store: Store = {
    backend: inner.backend,
    get: (k) => inner.get(k),
    getMany: (ks) => inner.getMany(ks),
    list: (p, o) => inner.list(p, o),
    count: (p) => inner.count(p),
    txn: (c, o) => inner.txn(c, o),
    revision: () => inner.revision(),
    close: () => inner.close(),
    watch: (prefix, options, onChange, onError) => {
      fail = onError;
      return inner.watch(prefix, options, (c: Change) => (hold ? held.push(() => onChange(c)) : onChange(c)));
    },
  };
  return {
    store,
    hold: () => (hold = true),
    release: () => {
      hold = false;
      for (const f of held.splice(0)) f();
    },
    fail: (e: Error) => fail?.(e),
  };
}

describe('PlacementViews', () => {
  it('loads a cluster on first use and follows it: instances, tasks and their groups', async () => {
    const store = new MemoryStore();
    await put(store, keys.containerInstance(scope, 'prod', 'a'), instance('a'));
    await put(store, keys.containerInstance(scope, 'other', 'x'), { ...instance('x'), cluster: 'other' });
    const views = PlacementViews.of(store);
    assert.equal(PlacementViews.of(store), views, 'one per store');
    const view = await views.current(scope, 'prod');
    assert.deepEqual(
      view.snapshot().map((e) => e.instance.id),
      ['a'],
    );
    await put(store, keys.containerInstance(scope, 'prod', 'b'), instance('b', 100));
    await put(store, keys.task(scope, 'prod', 't1'), task('t1', 'a'));
    const again = await views.current(scope, 'prod');
    assert.equal(again, view);
    const [a, b] = view.snapshot();
    assert.deepEqual(Object.fromEntries(a!.instance.taskGroups), { 'service:web': 1 });
    assert.equal(b!.instance.remaining.memory, 100);
  });

  it('current() waits until every write committed before it is applied', async () => {
    const inner = new MemoryStore();
    const lag = laggingStore(inner);
    const views = PlacementViews.of(lag.store);
    await views.current(scope, 'prod');
    lag.hold();
    await put(lag.store, keys.containerInstance(scope, 'prod', 'late'), instance('late'));
    let seen: string[] | undefined;
    const pending = views.current(scope, 'prod').then((v) => (seen = v.snapshot().map((e) => e.instance.id)));
    await new Promise((r) => setImmediate(r));
    assert.equal(seen, undefined, 'still waiting for the feed');
    lag.release();
    await pending;
    assert.deepEqual(seen, ['late']);
    // A revision given explicitly is all it waits for.
    lag.hold();
    await put(lag.store, keys.containerInstance(scope, 'prod', 'later'), instance('later'));
    const early = await views.current(scope, 'prod', 0);
    assert.deepEqual(
      early.snapshot().map((e) => e.instance.id),
      ['late'],
    );
    lag.release();
  });

  it('after a placement commit, the next plan waits for the feed to deliver it', async () => {
    const inner = new MemoryStore();
    const lag = laggingStore(inner);
    const views = PlacementViews.of(lag.store);
    await views.current(scope, 'prod');
    lag.hold();
    const rev = await put(lag.store, keys.containerInstance(scope, 'prod', 'a'), instance('a'));
    views.noteCommitted(scope, 'prod', rev);
    let done = false;
    const pending = views.current(scope, 'prod', 0).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    lag.release();
    await pending;
  });

  it('runs the placements of one cluster one at a time, in arrival order; other clusters do not wait', async () => {
    const views = PlacementViews.of(new MemoryStore());
    const log: string[] = [];
    let releaseFirst!: () => void;
    const gate = new Promise<void>((r) => (releaseFirst = r));
    const first = views.exclusive(scope, 'prod', async () => {
      log.push('1 start');
      await gate;
      log.push('1 end');
      return 1;
    });
    const second = views.exclusive(scope, 'prod', async () => {
      log.push('2 start');
      return 2;
    });
    const other = views.exclusive(scope, 'other', async () => {
      log.push('other');
      return 3;
    });
    assert.equal(await other, 3);
    releaseFirst();
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    assert.deepEqual(log, ['1 start', 'other', '1 end', '2 start']);
    // A placement that throws releases its turn.
    await assert.rejects(
      views.exclusive(scope, 'prod', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await views.exclusive(scope, 'prod', async () => 'next'), 'next');
  });

  it('when the feed fails, waiters learn it and the next caller starts afresh from a listing', async () => {
    const inner = new MemoryStore();
    const lag = laggingStore(inner);
    const views = PlacementViews.of(lag.store);
    await views.current(scope, 'prod');
    lag.hold();
    await put(lag.store, keys.containerInstance(scope, 'prod', 'a'), instance('a'));
    const waiting = views.current(scope, 'prod');
    await new Promise((r) => setImmediate(r));
    lag.fail(new Error('feed ended'));
    await assert.rejects(waiting, /feed ended/);
    const fresh = PlacementViews.of(lag.store);
    assert.notEqual(fresh, views);
    lag.release();
    const view = await fresh.current(scope, 'prod');
    assert.deepEqual(
      view.snapshot().map((e) => e.instance.id),
      ['a'],
    );
  });
});
