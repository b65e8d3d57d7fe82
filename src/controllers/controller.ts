// A controller is a level-triggered reconcile loop keyed by resource (Kubernetes style): store
// changes only enqueue keys; `sync(key)` rereads desired and observed state and takes the next
// step. The manager (controller-manager.ts) deduplicates keys, never runs one key on two workers
// at once, retries failures with back-off, and resyncs every key periodically, so a sync may be
// run twice or interrupted by a crash at any point and the system still converges.
import type { Change } from '../store/store.js';

export interface SyncResult {
  /** Run this key again after this many ms even if nothing changes (timers: back-off, grace periods). */
  requeueAfterMs?: number;
}

export interface WatchSpec {
  /** Store key prefix to follow (e.g. '/' for everything, then filter in keyOf). */
  prefix: string;
  /** The controller key a change concerns, or undefined to ignore it. May return several. */
  keysOf(change: Change): string[];
}

export interface Controller {
  readonly name: string;
  readonly watches: readonly WatchSpec[];
  /** Every key that exists now: enqueued at start and at each periodic resync. */
  listKeys(): Promise<string[]>;
  /** Converge one key. Throwing retries it with back-off (and logs the error). */
  sync(key: string): Promise<SyncResult | void>;
}
