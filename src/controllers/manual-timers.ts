// Timers driven by a ManualClock, for tests of the work queue, the controller manager and the
// controllers: nothing fires until the test moves time with advance(). Ships in src/ (like the
// fake agent) so that unit and integration tests share it.
import type { ManualClock } from '../domain/clock.js';
import type { Timers } from './work-queue.js';

interface Pending {
  due: number;
  fn: () => void;
}

export class ManualTimers implements Timers {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly clock: ManualClock) {}

  set(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { due: this.clock.now() + Math.max(0, ms), fn });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /**
   * Moves the clock forward by `ms`, firing every timer that falls due on the way, earliest first
   * (and in the order they were set when due together), each with the clock at its due time.
   * Timers set by those callbacks fire too if they fall due within the step.
   */
  advance(ms: number): void {
    const target = this.clock.now() + ms;
    for (;;) {
      let next: [number, Pending] | undefined;
      for (const e of this.pending) {
        if (e[1].due > target) continue;
        if (!next || e[1].due < next[1].due) next = e;
      }
      if (!next) break;
      this.pending.delete(next[0]);
      if (next[1].due > this.clock.now()) this.clock.set(next[1].due);
      next[1].fn();
    }
    this.clock.set(target);
  }

  /** Timers not fired or cleared yet. */
  get size(): number {
    return this.pending.size;
  }

  /** When the earliest pending timer falls due, if any. */
  get nextDue(): number | undefined {
    let due: number | undefined;
    for (const p of this.pending.values()) if (due === undefined || p.due < due) due = p.due;
    return due;
  }
}

/** Lets promise callbacks and queued I/O callbacks run (several rounds: work often hops a few times). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
