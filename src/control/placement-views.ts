// The placement picture of each cluster placement has been asked about, kept current by following
// the store's change feed (one watch on the whole store), so that a RunTask plans on memory
// instead of reading every instance and task of the cluster: at 5,000 instances and 50,000 tasks
// those reads cost far more than the plan. See src/scheduler/cluster-view.ts for what a view holds.
// The service scheduler reads the same views for a service's tasks (the views keep the records of
// service tasks, group service:<name>) and the cluster's instances, so that a pass reads neither
// every task the cluster holds nor its own tasks from the store.
//
// Freshness: `current()` waits until every write committed before the call is applied, so a
// client that registered an instance (or stopped a task) sees it in its next RunTask. Planning on
// a view that lags a concurrent write is safe: the commit compares the version the plan used and
// loses, and the caller waits for the feed to pass the revision that beat it (`caughtUp`) before
// planning again. A feed that ends (an error, a compacted revision) drops every view; the next
// call starts afresh from a listing.
//
// A revision's changes are taken as applied together: both backends deliver a transaction's
// changes in one synchronous run, and waiters resume in a later microtask.
import type { Scope } from '../domain/arn.js';
import type { ContainerInstanceRecord, TaskRecord } from '../domain/records.js';
import { SERVICE_TASK_GROUP_PREFIX } from '../domain/service/ids.js';
import { ClusterView } from '../scheduler/cluster-view.js';
import { keys } from '../store/keys.js';
import type { Change, Store, Watcher } from '../store/store.js';

/** `/<account>/<region>/<container-instances|tasks>/<cluster>/<id>` (keys.ts). */
const WATCHED_KEY = /^\/([^/]+)\/([^/]+)\/(container-instances|tasks)\/([^/]+)\/[^/]+$/;

function nameOf(scope: Scope, cluster: string): string {
  return `${scope.account}/${scope.region}/${cluster}`;
}

interface LoadedView {
  view: ClusterView<TaskRecord>;
  ready: Promise<void>;
}

interface Waiter {
  revision: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class PlacementViews {
  private static readonly byStore = new WeakMap<Store, PlacementViews>();

  /** The views of a store (one feed per store). */
  static of(store: Store): PlacementViews {
    let v = PlacementViews.byStore.get(store);
    if (!v) {
      v = new PlacementViews(store);
      PlacementViews.byStore.set(store, v);
    }
    return v;
  }

  private started: Promise<void> | undefined;
  private watcher: Watcher | undefined;
  /** Every change up to this revision is applied. */
  private applied = 0;
  private failure: Error | undefined;
  private waiters: Waiter[] = [];
  private readonly views = new Map<string, LoadedView>();
  /** Per cluster: the end of the queue of placements waiting for their turn. */
  private readonly turns = new Map<string, Promise<void>>();
  /** Per cluster: the last revision placement committed; the next plan must see it. */
  private readonly placed = new Map<string, number>();

  private constructor(private readonly store: Store) {}

  /**
   * The cluster's view, with every write up to `atLeast` applied (default: every write committed
   * before this call). A caller that queued for its turn passes the revision it read on arrival:
   * what was acknowledged before it arrived is in, and it need not wait for writes still syncing.
   */
  async current(scope: Scope, cluster: string, atLeast?: number): Promise<ClusterView<TaskRecord>> {
    await this.start();
    const loaded = this.load(scope, cluster);
    await loaded.ready;
    const floor = this.placed.get(nameOf(scope, cluster)) ?? 0;
    await this.caughtUp(Math.max(floor, atLeast ?? (await this.store.revision())));
    return loaded.view;
  }

  /**
   * Placement committed tasks of the cluster at `revision`. The next placement's turn can come
   * before the feed delivers that commit; its plan waits for it (a plan without it would pick
   * the same instance, lose the race, and plan again).
   */
  noteCommitted(scope: Scope, cluster: string, revision: number): void {
    const name = nameOf(scope, cluster);
    if ((this.placed.get(name) ?? 0) < revision) this.placed.set(name, revision);
  }

  /**
   * Runs `fn` when the placements of the cluster queued before it are done. Placements in one
   * process then never compete for the same instance (binpack sends every concurrent request to
   * the same one, and all but one would lose each round); other writers (agent reports, another
   * control-plane replica) still can, and the compare-and-set decides.
   */
  async exclusive<T>(scope: Scope, cluster: string, fn: () => Promise<T>): Promise<T> {
    const name = nameOf(scope, cluster);
    const before = this.turns.get(name) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const queue = before.then(() => mine);
    this.turns.set(name, queue);
    await before;
    try {
      return await fn();
    } finally {
      done();
      if (this.turns.get(name) === queue) this.turns.delete(name);
    }
  }

  /** Resolves once every change up to `revision` is applied (e.g. the one that won a race). */
  caughtUp(revision: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.applied >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ revision, resolve, reject }));
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      const from = await this.store.revision();
      this.applied = from;
      this.watcher = this.store.watch(
        '/',
        { fromRevision: from },
        (c) => this.onChange(c),
        (e) => this.onFailure(e),
      );
    })();
    return this.started;
  }

  private load(scope: Scope, cluster: string): LoadedView {
    const name = nameOf(scope, cluster);
    const known = this.views.get(name);
    if (known) return known;
    const view = new ClusterView<TaskRecord>({
      keepRecordsOf: (group) => group.startsWith(SERVICE_TASK_GROUP_PREFIX),
    });
    // Registered before the listing is read: a change that lands meanwhile reaches the view from
    // the feed, and the view keeps the newest version of every key whichever comes first.
    const loaded: LoadedView = { view, ready: Promise.resolve() };
    this.views.set(name, loaded);
    loaded.ready = (async () => {
      const instances = await this.store.list<ContainerInstanceRecord>(
        keys.containerInstancesOfCluster(scope, cluster),
      );
      for (const r of instances) view.applyInstance(r.key, r.value, r.version);
      const tasks = await this.store.list<TaskRecord>(keys.tasksOfCluster(scope, cluster));
      for (const r of tasks) view.applyTask(r.key, r.value, r.version);
      // Past this revision the feed alone brings changes, in order.
      await this.caughtUp(await this.store.revision());
      view.settle();
    })();
    loaded.ready.catch(() => {
      if (this.views.get(name) === loaded) this.views.delete(name);
    });
    return loaded;
  }

  private onChange(c: Change): void {
    const m = WATCHED_KEY.exec(c.key);
    if (m) {
      const loaded = this.views.get(`${m[1]}/${m[2]}/${m[4]}`);
      if (loaded) {
        if (m[3] === 'tasks') loaded.view.applyTask(c.key, c.value as TaskRecord | undefined, c.revision);
        else loaded.view.applyInstance(c.key, c.value as ContainerInstanceRecord | undefined, c.revision);
      }
    }
    if (c.revision > this.applied) {
      this.applied = c.revision;
      if (this.waiters.length > 0) {
        const due = this.waiters.filter((w) => w.revision <= this.applied);
        this.waiters = this.waiters.filter((w) => w.revision > this.applied);
        for (const w of due) w.resolve();
      }
    }
  }

  private onFailure(e: Error): void {
    this.failure = e;
    this.watcher?.close();
    this.views.clear();
    // The next caller starts a new feed from a fresh listing.
    if (PlacementViews.byStore.get(this.store) === this) PlacementViews.byStore.delete(this.store);
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(e);
  }
}
