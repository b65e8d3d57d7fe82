// The controllers' work queue (Kubernetes client-go's rate-limited, delaying workqueue in one):
// - add() deduplicates: an item waiting in the queue is in it once, however often it is added;
// - an item handed out by get() is "processing" until done(), and is never handed out again
//   meanwhile; an add() during that time marks it dirty and done() queues it again, so a change
//   that happened while a sync ran is always seen by a later sync;
// - addAfter() holds an item back (one timer per item: the earliest due time wins);
// - addRateLimited() holds it back by an exponential back-off that grows per item until forget();
// - shutDown() hands out no more work: queued and delayed items are dropped, get() resolves
//   undefined. Items still processing finish normally (their owner waits for them).
// Time comes from an injected Clock and Timers, so tests run it on a ManualClock.
import type { Clock } from '../domain/clock.js';

/** Where delays come from: real timers in the server, ManualTimers (manual-timers.ts) in tests. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Node's timers, unref'd: a pending retry or resync never keeps a process alive on its own. */
export const realTimers: Timers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface WorkQueueOptions {
  clock: Clock;
  timers?: Timers;
  /** First back-off delay; each further failure doubles it. Default 5 ms. */
  backoffBaseMs?: number;
  /** Longest back-off delay. Default 30 s. */
  backoffMaxMs?: number;
}

export const DEFAULT_BACKOFF_BASE_MS = 5;
export const DEFAULT_BACKOFF_MAX_MS = 30_000;

export class WorkQueue {
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  /** FIFO of items ready to be handed out; `head` is the next one (avoids O(n) shifts). */
  private ready: string[] = [];
  private head = 0;
  /** Items that need processing: queued, or to be queued again when their processing ends. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { due: number; handle: unknown }>();
  private readonly failureCounts = new Map<string, number>();
  private readonly getters: ((item: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions) {
    this.clock = opts.clock;
    this.timers = opts.timers ?? realTimers;
    this.backoffBaseMs = opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.backoffMaxMs = opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  }

  add(item: string): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.hand(item);
  }

  /** Adds the item once `ms` have passed (at once when ms ≤ 0). */
  addAfter(item: string, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(item);
      return;
    }
    const due = this.clock.now() + ms;
    const existing = this.delayed.get(item);
    if (existing) {
      if (existing.due <= due) return;
      this.timers.clear(existing.handle);
    }
    const handle = this.timers.set(() => {
      this.delayed.delete(item);
      this.add(item);
    }, ms);
    this.delayed.set(item, { due, handle });
  }

  /** Adds the item after its next back-off delay (base × 2^failures, capped); returns that delay. */
  addRateLimited(item: string): number {
    const failures = this.failureCounts.get(item) ?? 0;
    this.failureCounts.set(item, failures + 1);
    const delay = Math.min(this.backoffBaseMs * 2 ** Math.min(failures, 52), this.backoffMaxMs);
    this.addAfter(item, delay);
    return delay;
  }

  /** Ends the item's back-off (it succeeded). */
  forget(item: string): void {
    this.failureCounts.delete(item);
  }

  /** How many times in a row the item has failed. */
  failures(item: string): number {
    return this.failureCounts.get(item) ?? 0;
  }

  /** The next item to process (now marked processing), or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const item = this.take();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((res) => this.getters.push(res));
  }

  /** Processing of the item ended; it is queued again if it was added meanwhile. */
  done(item: string): void {
    this.processing.delete(item);
    if (!this.shuttingDown && this.dirty.has(item)) this.hand(item);
  }

  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const d of this.delayed.values()) this.timers.clear(d.handle);
    this.delayed.clear();
    this.ready = [];
    this.head = 0;
    this.dirty.clear();
    for (const g of this.getters.splice(0)) g(undefined);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Items ready to be handed out. */
  get length(): number {
    return this.ready.length - this.head;
  }

  /** Items held back by addAfter / addRateLimited. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  get processingItems(): string[] {
    return [...this.processing];
  }

  /** Gives the item to a waiting get(), or queues it. The item is dirty and not processing. */
  private hand(item: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(item);
      this.processing.add(item);
      getter(item);
      return;
    }
    this.ready.push(item);
  }

  private take(): string | undefined {
    if (this.head >= this.ready.length) return undefined;
    const item = this.ready[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    this.dirty.delete(item);
    this.processing.add(item);
    return item;
  }
}
