import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../domain/clock.js';
import { ManualTimers, settle } from './manual-timers.js';
import { WorkQueue } from './work-queue.js';

function setup(opts: { backoffBaseMs?: number; backoffMaxMs?: number } = {}) {
  const clock = new ManualClock(0);
  const timers = new ManualTimers(clock);
  const q = new WorkQueue({ clock, timers, ...opts });
  return { clock, timers, q };
}

/** Takes every item ready now (without waiting). */
async function drainReady(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.length > 0) out.push((await q.get())!);
  return out;
}

describe('WorkQueue', () => {
  it('hands items out in the order first added, each once however often it was added', async () => {
    const { q } = setup();
    for (const k of ['a', 'b', 'a', 'c', 'b', 'a']) q.add(k);
    assert.equal(q.length, 3);
    assert.deepEqual(await drainReady(q), ['a', 'b', 'c']);
  });

  it('never hands out an item being processed; an add meanwhile queues it again on done', async () => {
    const { q } = setup();
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a');
    q.add('a');
    assert.equal(q.length, 0, 'not handed out while processing');
    assert.deepEqual(q.processingItems, ['a']);
    q.done('a');
    assert.equal(q.length, 1, 'queued again, once');
    assert.equal(await q.get(), 'a');
    q.done('a');
    assert.equal(q.length, 0, 'not queued again without a new add');
  });

  it('a waiting get() receives the next item added', async () => {
    const { q } = setup();
    const waiting = q.get();
    q.add('x');
    assert.equal(await waiting, 'x');
    assert.deepEqual(q.processingItems, ['x']);
  });

  it('addAfter holds the item back until due; the earliest of several delays wins', async () => {
    const { q, timers } = setup();
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 200);
    assert.equal(q.delayedCount, 1);
    timers.advance(49);
    assert.equal(q.length, 0);
    timers.advance(1);
    assert.equal(q.length, 1);
    assert.equal(timers.size, 0, 'the later delays were not kept');
    q.addAfter('b', 0);
    assert.deepEqual(await drainReady(q), ['a', 'b']);
  });

  it('back-off doubles per failure up to the cap and starts over after forget', () => {
    const { q } = setup({ backoffBaseMs: 5, backoffMaxMs: 30 });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => q.addRateLimited('k')),
      [5, 10, 20, 30, 30],
    );
    assert.equal(q.failures('k'), 5);
    assert.equal(q.addRateLimited('other'), 5, 'per item');
    q.forget('k');
    assert.equal(q.failures('k'), 0);
    assert.equal(q.addRateLimited('k'), 5);
  });

  it('default back-off runs from 5 ms to 30 s', () => {
    const { q } = setup();
    const delays = Array.from({ length: 16 }, () => q.addRateLimited('k'));
    assert.equal(delays[0], 5);
    assert.equal(delays[1], 10);
    assert.equal(delays.at(-1), 30_000);
    assert.ok(delays.every((d, i) => i === 0 || d >= delays[i - 1]!));
  });

  it('shutDown drops queued and delayed items, wakes waiting gets, and refuses new ones', async () => {
    const { q, timers } = setup();
    q.add('a');
    q.addAfter('b', 10);
    const taken = await q.get();
    assert.equal(taken, 'a');
    const w1 = q.get();
    q.shutDown();
    assert.equal(await w1, undefined);
    assert.equal(await q.get(), undefined);
    assert.equal(timers.size, 0, 'delayed timers cleared');
    q.add('c');
    q.addAfter('d', 5);
    timers.advance(100);
    assert.equal(q.length, 0);
    // The item in flight can still finish.
    q.add('a');
    q.done('a');
    assert.equal(q.length, 0);
    assert.deepEqual(q.processingItems, []);
    await settle(1);
  });
});
