// A push-to-pull queue: producers (a Docker HTTP stream, the fake engine) push items, one consumer
// pulls them with `for await`. Leaving the loop early closes the producer, so streams never leak.
// A high-water mark lets a socket-backed producer pause instead of buffering without bound.

interface Waiter<T> {
  resolve: (r: IteratorResult<T>) => void;
  reject: (e: unknown) => void;
}

export interface AsyncQueueOptions {
  /** Called once when the consumer closes the queue (directly or by leaving a for-await loop). */
  onClose?: () => void;
  /** Buffer size at which `onPressure(true)` is called; `onPressure(false)` once half drained. */
  highWaterMark?: number;
  onPressure?: (paused: boolean) => void;
}

export class AsyncQueue<T> implements AsyncIterable<T> {
  private buffer: T[] = [];
  private readonly waiters: Waiter<T>[] = [];
  private ended = false;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private paused = false;

  constructor(private readonly options: AsyncQueueOptions = {}) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Items pushed after end or close are dropped. */
  push(item: T): void {
    if (this.ended) return;
    const w = this.waiters.shift();
    if (w) {
      w.resolve({ value: item, done: false });
      return;
    }
    this.buffer.push(item);
    const hwm = this.options.highWaterMark;
    if (hwm !== undefined && !this.paused && this.buffer.length >= hwm) {
      this.paused = true;
      this.options.onPressure?.(true);
    }
  }

  /** The producer is done; buffered items are still delivered, then `error` (if any) is thrown once. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    while (this.waiters.length > 0 && this.buffer.length === 0) {
      const w = this.waiters.shift()!;
      this.settleEnded(w);
    }
  }

  /** The consumer is done: drop what is buffered and tell the producer to stop. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = [];
    this.failure = undefined;
    this.end();
    this.options.onClose?.();
  }

  private settleEnded(w: Waiter<T>): void {
    const f = this.failure;
    if (f) {
      this.failure = undefined;
      w.reject(f.error);
    } else {
      w.resolve({ value: undefined, done: true });
    }
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) {
      const value = this.buffer.shift() as T;
      const hwm = this.options.highWaterMark;
      if (this.paused && hwm !== undefined && this.buffer.length <= hwm / 2) {
        this.paused = false;
        this.options.onPressure?.(false);
      }
      return Promise.resolve({ value, done: false });
    }
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      if (this.ended) this.settleEnded(w);
      else this.waiters.push(w);
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** A sleep that a close can cut short (resolves early, never rejects). */
export function interruptibleSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
