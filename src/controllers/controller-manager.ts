// Runs the controllers (controller.ts): follows the store's change feed, turns changes into
// controller keys, and has a few async workers call `sync(key)` (see README.md for the diagram).
//
// - One store.watch per distinct prefix, shared by every controller watching it. A compacted
//   feed (CompactedError) means changes were lost: re-list (listKeys of every controller on that
//   prefix) and watch again from the store's revision read before the listing. Any other feed
//   error: watch again from the last revision seen (repeats are harmless: keys are deduplicated
//   and syncs are level-triggered).
// - One work queue (work-queue.ts) of (controller, key) items shared by all controllers: keys are
//   deduplicated, one (controller, key) never runs on two workers at once, a key changed during
//   its sync runs again afterwards, a failed sync is retried with exponential back-off (logged
//   with the controller's name and the key), and `requeueAfterMs` is honoured.
// - Every resyncIntervalMs every key of every controller is enqueued again: a missed change or a
//   timer lost in a crash costs at most one interval.
// - Leadership: several replicas may share one etcd, and only one must run the controllers.
//   `isLeader()` is asked before each sync and each resync listing; a non-leader drops the items
//   it is handed (the first resync after it becomes leader lists everything again). The embedded
//   store has one server, so the default is "always leader".
// - stop() drains: no new work is handed out, queued and delayed keys are dropped (the next start
//   lists everything anyway), and in-flight syncs get up to drainTimeoutMs to finish.
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { CompactedError, type Change, type Store, type Watcher } from '../store/store.js';
import type { Controller, SyncResult, WatchSpec } from './controller.js';
import { WorkQueue, realTimers, type Timers } from './work-queue.js';

export interface ControllerManagerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** How often every key of every controller is enqueued again. Default 30 s. */
  resyncIntervalMs?: number;
  /** Syncs that may run at once, across all controllers. Default 4. */
  workers?: number;
  /** Whether this replica runs the controllers now (etcd leader election later). Default: always. */
  isLeader?: () => boolean;
  /** First retry delay after a failed sync; doubles per failure up to backoffMaxMs. Default 5 ms. */
  backoffBaseMs?: number;
  /** Longest retry delay. Default 30 s. */
  backoffMaxMs?: number;
  /** How long stop() waits for in-flight syncs. Default 10 s. */
  drainTimeoutMs?: number;
  /** Where delays come from; tests pass ManualTimers. Default: Node's timers. */
  timers?: Timers;
}

export const DEFAULT_RESYNC_INTERVAL_MS = 30_000;
export const DEFAULT_WORKERS = 4;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/** Pause before following the feed again after it failed (other than compaction). */
export const REWATCH_DELAY_MS = 200;

/** Separates controller name and key in a queue item (names may not contain it). */
const SEP = '\u0000';

interface Feed {
  prefix: string;
  specs: { controller: Controller; spec: WatchSpec }[];
  watcher: Watcher | undefined;
  /** Last revision delivered, to resume from after a feed error. */
  lastRevision: number;
  retryTimer: unknown;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class ControllerManager {
  private state: State = 'new';
  private readonly controllers = new Map<string, Controller>();
  private readonly feeds = new Map<string, Feed>();
  private readonly queue: WorkQueue;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly resyncIntervalMs: number;
  private readonly workerCount: number;
  private readonly drainTimeoutMs: number;
  private readonly isLeader: () => boolean;
  private workerLoops: Promise<void>[] = [];
  private resyncTimer: unknown;

  constructor(private readonly deps: ControllerManagerDeps) {
    this.log = deps.log.child({ component: 'controller-manager' });
    this.timers = deps.timers ?? realTimers;
    this.resyncIntervalMs = deps.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS;
    this.workerCount = deps.workers ?? DEFAULT_WORKERS;
    this.drainTimeoutMs = deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.isLeader = deps.isLeader ?? (() => true);
    if (!(this.resyncIntervalMs > 0))
      throw new Error(`resyncIntervalMs must be > 0, got ${this.resyncIntervalMs}`);
    if (!Number.isInteger(this.workerCount) || this.workerCount < 1)
      throw new Error(`workers must be an integer ≥ 1, got ${this.workerCount}`);
    this.queue = new WorkQueue({
      clock: deps.clock,
      timers: this.timers,
      ...(deps.backoffBaseMs !== undefined ? { backoffBaseMs: deps.backoffBaseMs } : {}),
      ...(deps.backoffMaxMs !== undefined ? { backoffMaxMs: deps.backoffMaxMs } : {}),
    });
  }

  /** Adds a controller; only before start(). Names are unique. */
  register(c: Controller): void {
    if (this.state !== 'new')
      throw new Error(`cannot register controller ${c.name}: the manager is ${this.state}`);
    if (c.name === '' || c.name.includes(SEP))
      throw new Error(`invalid controller name ${JSON.stringify(c.name)}`);
    if (this.controllers.has(c.name)) throw new Error(`controller ${c.name} is registered twice`);
    this.controllers.set(c.name, c);
  }

  /** Names of the registered controllers, in registration order. */
  get names(): string[] {
    return [...this.controllers.keys()];
  }

  /**
   * Asks for a sync of `key` by the named controller (now, or after afterMs). For controllers
   * that learn of work outside their watches. Ignored once stopping.
   */
  enqueue(controllerName: string, key: string, afterMs?: number): void {
    if (!this.controllers.has(controllerName)) throw new Error(`no controller named ${controllerName}`);
    const item = controllerName + SEP + key;
    if (afterMs !== undefined && afterMs > 0) this.queue.addAfter(item, afterMs);
    else this.queue.add(item);
  }

  /** Follows the feeds, enqueues every key, starts the workers and the periodic resync. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`cannot start a controller manager that is ${this.state}`);
    this.state = 'starting';
    for (const c of this.controllers.values()) {
      for (const spec of c.watches) {
        let feed = this.feeds.get(spec.prefix);
        if (!feed) {
          feed = {
            prefix: spec.prefix,
            specs: [],
            watcher: undefined,
            lastRevision: 0,
            retryTimer: undefined,
          };
          this.feeds.set(spec.prefix, feed);
        }
        feed.specs.push({ controller: c, spec });
      }
    }
    // Watch from the revision read before listing: nothing written after the listing is missed.
    const revision = await this.deps.store.revision();
    if (this.state !== 'starting') return;
    for (const feed of this.feeds.values()) this.follow(feed, revision);
    await Promise.all([...this.controllers.values()].map((c) => this.enqueueAll(c)));
    // stop() during the listing: it already closed the feeds and the queue.
    if (this.state !== 'starting') return;
    for (let i = 0; i < this.workerCount; i++) {
      this.workerLoops.push(
        this.work().catch((err: unknown) => this.log.error({ err }, 'controller worker crashed')),
      );
    }
    this.armResync();
    this.state = 'running';
    this.log.info(
      { controllers: this.names, workers: this.workerCount, resyncIntervalMs: this.resyncIntervalMs },
      'controllers running',
    );
  }

  /** Stops the feeds and the resync, drops pending work, and waits (bounded) for in-flight syncs. */
  async stop(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    this.timers.clear(this.resyncTimer);
    for (const feed of this.feeds.values()) {
      this.timers.clear(feed.retryTimer);
      feed.watcher?.close();
      feed.watcher = undefined;
    }
    this.queue.shutDown();
    let timer: unknown;
    const drained = await Promise.race([
      Promise.all(this.workerLoops).then(() => true),
      new Promise<boolean>((res) => (timer = this.timers.set(() => res(false), this.drainTimeoutMs))),
    ]);
    this.timers.clear(timer);
    if (!drained) {
      this.log.warn(
        { inFlight: this.queue.processingItems.map(describeItem), drainTimeoutMs: this.drainTimeoutMs },
        'controller syncs still running at stop; leaving them',
      );
    }
    this.state = 'stopped';
    this.log.info('controllers stopped');
  }

  /** Queue sizes, for tests and metrics. */
  stats(): { queued: number; delayed: number; processing: number } {
    return {
      queued: this.queue.length,
      delayed: this.queue.delayedCount,
      processing: this.queue.processingItems.length,
    };
  }

  // --- feeds -----------------------------------------------------------------------------------

  private follow(feed: Feed, fromRevision: number): void {
    feed.lastRevision = Math.max(feed.lastRevision, fromRevision);
    feed.watcher = this.deps.store.watch(
      feed.prefix,
      { fromRevision },
      (c) => this.onChange(feed, c),
      (err) => this.onFeedError(feed, err),
    );
  }

  private onChange(feed: Feed, c: Change): void {
    feed.lastRevision = Math.max(feed.lastRevision, c.revision);
    for (const { controller, spec } of feed.specs) {
      let keys: string[];
      try {
        keys = spec.keysOf(c);
      } catch (err) {
        // A throwing watcher would end the feed for every controller on it.
        this.log.error({ err, controller: controller.name, key: c.key }, 'keysOf failed; change ignored');
        continue;
      }
      for (const k of keys) this.queue.add(controller.name + SEP + k);
    }
  }

  private onFeedError(feed: Feed, err: Error): void {
    feed.watcher = undefined;
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const compacted = err instanceof CompactedError;
    if (compacted) this.log.warn({ err, prefix: feed.prefix }, 'store feed compacted; listing again');
    else this.log.warn({ err, prefix: feed.prefix }, 'store feed ended; following it again');
    this.timers.clear(feed.retryTimer);
    feed.retryTimer = this.timers.set(
      () => {
        feed.retryTimer = undefined;
        this.refollow(feed, compacted).catch((e: unknown) => {
          this.onFeedError(feed, e instanceof Error ? e : new Error(String(e)));
        });
      },
      compacted ? 0 : REWATCH_DELAY_MS,
    );
  }

  private async refollow(feed: Feed, compacted: boolean): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (!compacted) {
      // The last revision again: a multi-key revision may have been cut in the middle.
      this.follow(feed, Math.max(0, feed.lastRevision - 1));
      return;
    }
    const revision = await this.deps.store.revision();
    if (this.state !== 'running' && this.state !== 'starting') return;
    feed.lastRevision = 0;
    this.follow(feed, revision);
    const controllers = new Set(feed.specs.map((s) => s.controller));
    await Promise.all([...controllers].map((c) => this.enqueueAll(c)));
  }

  // --- resync ----------------------------------------------------------------------------------

  private armResync(): void {
    this.resyncTimer = this.timers.set(() => {
      if (this.state !== 'running') return;
      this.armResync();
      if (!this.isLeader()) return;
      for (const c of this.controllers.values()) void this.enqueueAll(c);
    }, this.resyncIntervalMs);
  }

  /** Enqueues every key the controller lists; a failed listing is logged (the next resync retries). */
  private async enqueueAll(c: Controller): Promise<void> {
    let keys: string[];
    try {
      keys = await c.listKeys();
    } catch (err) {
      this.log.error({ err, controller: c.name }, 'listKeys failed; retried at the next resync');
      return;
    }
    for (const k of keys) this.queue.add(c.name + SEP + k);
  }

  // --- workers ---------------------------------------------------------------------------------

  private async work(): Promise<void> {
    for (;;) {
      const item = await this.queue.get();
      if (item === undefined) return;
      try {
        await this.process(item);
      } finally {
        this.queue.done(item);
      }
    }
  }

  private async process(item: string): Promise<void> {
    const cut = item.indexOf(SEP);
    const name = item.slice(0, cut);
    const key = item.slice(cut + 1);
    const c = this.controllers.get(name);
    if (!c) return;
    if (!this.isLeader()) {
      this.queue.forget(item);
      return;
    }
    let result: SyncResult | void;
    try {
      result = await c.sync(key);
    } catch (err) {
      const retryInMs = this.queue.addRateLimited(item);
      this.log.warn(
        { err, controller: name, key, failures: this.queue.failures(item), retryInMs },
        'sync failed; retrying after back-off',
      );
      return;
    }
    this.queue.forget(item);
    const after = result?.requeueAfterMs;
    if (after !== undefined && Number.isFinite(after)) this.queue.addAfter(item, Math.max(0, after));
  }
}

function describeItem(item: string): { controller: string; key: string } {
  const cut = item.indexOf(SEP);
  return { controller: item.slice(0, cut), key: item.slice(cut + 1) };
}
