// One agent session's reports on their way into the store. Reports that arrive while a batch is
// applied wait and go in the next one (up to `maxBatch`, in the order received), so a burst of
// a host's tasks costs a few transactions instead of one per report.
//
// When an apply throws (the store failing, or a report that cannot be applied), nothing is lost
// and nothing blocks the session: the batch is applied again one report at a time, so the others
// are acknowledged, and each report that still fails is tried again later with a growing delay
// for as long as the session lasts. The agent keeps every unacknowledged report in its outbox and
// resends it on its next session too. A retry is dropped once a newer report of the same task has
// arrived: reports are whole snapshots, and the agent's outbox has replaced the old one already.
import type { Logger } from 'pino';
import type { ReportResult } from '../control/tasks.js';
import type { TaskStateReport } from '../domain/agent-protocol.js';

export interface QueuedReport {
  id: string;
  change: TaskStateReport;
}

export interface ReportQueueOptions {
  /** One result per report, in order; throws when the batch could not be applied as a whole. */
  apply(changes: readonly TaskStateReport[]): Promise<ReportResult[]>;
  ack(id: string, result: ReportResult): void;
  /** Runs a job after the session's earlier inbound jobs (AgentSession.enqueueInbound). */
  schedule(job: () => Promise<void>): void;
  log: Logger;
  maxBatch: number;
  /** Delay before the first retry of a failed report; it doubles on each retry up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
}

interface Entry extends QueuedReport {
  /** How many applies of this report have failed. */
  failures: number;
}

/** The delay before retry number `failures` (1 for the first retry). */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

export class ReportQueue {
  private waiting: Entry[] = [];
  /** The id of the newest report received per task, until it is acknowledged. */
  private readonly newest = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly o: ReportQueueOptions) {}

  push(r: QueuedReport): void {
    this.newest.set(r.change.taskArn, r.id);
    this.enqueue([{ ...r, failures: 0 }]);
  }

  /** Stops the retries (the session is over); what was not acknowledged comes again with the next session. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting = [];
  }

  private enqueue(entries: Entry[]): void {
    if (this.closed || entries.length === 0) return;
    const idle = this.waiting.length === 0;
    this.waiting.push(...entries);
    if (idle) this.o.schedule(() => this.run());
  }

  private async run(): Promise<void> {
    const batch = this.waiting.splice(0, this.o.maxBatch);
    if (this.waiting.length > 0) this.o.schedule(() => this.run());
    if (batch.length === 0) return;
    let results: ReportResult[];
    try {
      results = await this.o.apply(batch.map((e) => e.change));
    } catch (err) {
      if (batch.length === 1) return this.failed(batch, err);
      // Whatever made the batch fail, find the reports it was and let the others through.
      const failed: Entry[] = [];
      let lastErr: unknown;
      for (const e of batch) {
        try {
          const [result] = await this.o.apply([e.change]);
          this.acknowledge(e, result);
        } catch (oneErr) {
          failed.push(e);
          lastErr = oneErr;
        }
      }
      return this.failed(failed, lastErr);
    }
    batch.forEach((e, i) => this.acknowledge(e, results[i]));
  }

  private acknowledge(e: Entry, result: ReportResult | undefined): void {
    if (this.newest.get(e.change.taskArn) === e.id) this.newest.delete(e.change.taskArn);
    this.o.ack(e.id, result ?? { applied: false, error: 'no result' });
  }

  private failed(entries: Entry[], err: unknown): void {
    if (entries.length === 0 || this.closed) return;
    const failures = Math.max(...entries.map((e) => e.failures)) + 1;
    const delayMs = retryDelayMs(failures, this.o.retryBaseMs, this.o.retryMaxMs);
    this.o.log.error(
      {
        err,
        reports: entries.map((e) => e.id),
        tasks: entries.map((e) => e.change.taskArn),
        failures,
        retryInMs: delayMs,
      },
      'reports could not be applied; trying again later',
    );
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // A newer snapshot of the task came in meanwhile: it replaces this one, here as in the agent's outbox.
      const current = entries.filter((e) => this.newest.get(e.change.taskArn) === e.id);
      this.enqueue(current.map((e) => ({ ...e, failures: e.failures + 1 })));
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }
}
