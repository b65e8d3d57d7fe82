import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ReportResult } from '../control/tasks.js';
import type { TaskStateReport } from '../domain/agent-protocol.js';
import { ReportQueue, retryDelayMs } from './report-queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await tick(5);
  assert.ok(cond(), `timed out waiting for ${what}`);
}

function report(task: string, status: TaskStateReport['status']): TaskStateReport {
  return { taskArn: `arn:aws:ecs:us-east-1:1:task/c/${task}`, status, containers: [] };
}

/**
 * A queue over a scripted store: `fails(change)` says whether applying that report throws now.
 * Jobs run one after another, as the session's inbound queue runs them.
 */
function harness(fails: (r: TaskStateReport) => boolean, o: { retryBaseMs?: number } = {}) {
  const applied: string[] = [];
  const calls: number[] = [];
  const acks: { id: string; result: ReportResult }[] = [];
  const gate: { wait?: Promise<void> } = {};
  let chain = Promise.resolve();
  const queue = new ReportQueue({
    async apply(changes) {
      calls.push(changes.length);
      await gate.wait;
      await tick(1);
      // As applyTaskReports: one transaction, so a failure anywhere applies nothing.
      if (changes.some(fails)) throw new Error('store unavailable');
      for (const c of changes) applied.push(`${c.taskArn.split('/').pop()}:${c.status}`);
      return changes.map(() => ({ applied: true }));
    },
    ack: (id, result) => acks.push({ id, result }),
    schedule: (job) => {
      chain = chain.then(job);
    },
    log: pino({ level: 'silent' }),
    maxBatch: 48,
    retryBaseMs: o.retryBaseMs ?? 20,
    retryMaxMs: 80,
  });
  return { queue, applied, calls, acks, gate, idle: () => chain };
}

describe('ReportQueue', () => {
  it('applies what arrives during an apply as one batch, in order, and acknowledges each report', async () => {
    const h = harness(() => false);
    let open!: () => void;
    h.gate.wait = new Promise<void>((r) => (open = r));
    h.queue.push({ id: 'r0', change: report('a', 'PENDING') });
    await until(() => h.calls.length === 1, 'the first apply');
    for (let i = 1; i < 5; i++) h.queue.push({ id: `r${i}`, change: report(`t${i}`, 'RUNNING') });
    open();
    await h.idle();
    await h.idle();
    assert.deepEqual(h.calls, [1, 4]);
    assert.deepEqual(
      h.acks.map((a) => a.id),
      ['r0', 'r1', 'r2', 'r3', 'r4'],
    );
    h.queue.close();
  });

  it('a batch that throws is applied one by one: the others are acknowledged, the failing one retried until it goes in', async () => {
    let storeDown = true;
    const h = harness((r) => r.taskArn.endsWith('/bad') && storeDown);
    h.queue.push({ id: 'r0', change: report('first', 'RUNNING') });
    h.queue.push({ id: 'r1', change: report('ok1', 'RUNNING') });
    h.queue.push({ id: 'r2', change: report('bad', 'RUNNING') });
    h.queue.push({ id: 'r3', change: report('ok2', 'RUNNING') });
    await h.idle();
    await h.idle();
    assert.deepEqual(h.calls, [4, 1, 1, 1, 1], 'the batch failed, then went in one at a time');
    assert.deepEqual(
      h.acks.map((a) => a.id),
      ['r0', 'r1', 'r3'],
      'the failing report is not acknowledged and holds nobody up',
    );
    // Later reports are not blocked while it waits for its retry.
    h.queue.push({ id: 'r4', change: report('later', 'RUNNING') });
    await h.idle();
    assert.deepEqual(h.acks.at(-1)?.id, 'r4');
    // Retried (after 20 ms, then 40) while the store stays down, then applied once it is back.
    await until(() => h.calls.length >= 8, 'two retries');
    assert.deepEqual(h.calls.slice(6, 8), [1, 1], 'the retries take the failing report alone');
    storeDown = false;
    await until(() => h.acks.some((a) => a.id === 'r2'), 'the retry after the store came back');
    assert.deepEqual(h.acks.at(-1), { id: 'r2', result: { applied: true } });
    assert.equal(h.applied.filter((a) => a === 'bad:RUNNING').length, 1);
    h.queue.close();
  });

  it('drops a retry once a newer report of the same task came in: an old snapshot never overwrites a newer one', async () => {
    // PENDING of task x cannot be applied; its RUNNING can.
    const h = harness((r) => r.status === 'PENDING');
    h.queue.push({ id: 'old', change: report('x', 'PENDING') });
    await h.idle();
    assert.equal(h.acks.length, 0);
    h.queue.push({ id: 'new', change: report('x', 'RUNNING') });
    await h.idle();
    await tick(100);
    await h.idle();
    assert.deepEqual(h.applied, ['x:RUNNING']);
    assert.deepEqual(h.calls, [1, 1], 'the old report was not tried again');
    assert.deepEqual(
      h.acks.map((a) => a.id),
      ['new'],
    );
    h.queue.close();
  });

  it('stops retrying when closed', async () => {
    const h = harness(() => true, { retryBaseMs: 10 });
    h.queue.push({ id: 'r0', change: report('a', 'RUNNING') });
    await h.idle();
    h.queue.close();
    await tick(60);
    await h.idle();
    assert.deepEqual(h.calls, [1]);
    assert.deepEqual(h.acks, []);
  });

  it('retry delays double from the base up to the maximum', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 40].map((n) => retryDelayMs(n, 500, 30_000)),
      [500, 1000, 2000, 4000, 8000, 16000, 30000],
    );
  });
});
