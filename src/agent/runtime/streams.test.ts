// Unit tests for the push-to-pull queue behind event and log streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncQueue, interruptibleSleep } from './streams.js';

test('items pushed before and after the consumer waits arrive in order; end finishes the loop', async () => {
  const q = new AsyncQueue<number>();
  q.push(1);
  const seen: number[] = [];
  const done = (async () => {
    for await (const n of q) seen.push(n);
  })();
  q.push(2);
  await new Promise((r) => setImmediate(r));
  q.push(3);
  q.end();
  q.push(4); // after end: dropped
  await done;
  assert.deepEqual(seen, [1, 2, 3]);
});

test('an error given to end is thrown after the buffered items', async () => {
  const q = new AsyncQueue<string>();
  q.push('a');
  q.end(new Error('boom'));
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const s of q) seen.push(s);
  }, /boom/);
  assert.deepEqual(seen, ['a']);
});

test('leaving a for-await loop closes the queue and tells the producer once', async () => {
  let closes = 0;
  const q = new AsyncQueue<number>({ onClose: () => closes++ });
  q.push(1);
  q.push(2);
  for await (const n of q) {
    assert.equal(n, 1);
    break;
  }
  assert.equal(closes, 1);
  assert.equal(q.isClosed, true);
  q.close();
  assert.equal(closes, 1);
  const it = q[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

test('close wakes a waiting consumer', async () => {
  const q = new AsyncQueue<number>();
  const it = q[Symbol.asyncIterator]();
  const pending = it.next();
  q.close();
  assert.deepEqual(await pending, { value: undefined, done: true });
});

test('high-water mark pauses the producer and resumes it when half drained', async () => {
  const calls: boolean[] = [];
  const q = new AsyncQueue<number>({ highWaterMark: 4, onPressure: (p) => calls.push(p) });
  for (let i = 0; i < 5; i++) q.push(i);
  assert.deepEqual(calls, [true]);
  const it = q[Symbol.asyncIterator]();
  await it.next();
  await it.next();
  assert.deepEqual(calls, [true]);
  await it.next(); // 2 left ≤ 4/2
  assert.deepEqual(calls, [true, false]);
});

test('interruptibleSleep ends early on abort', async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  const p = interruptibleSleep(10_000, ac.signal);
  ac.abort();
  await p;
  assert.ok(Date.now() - t0 < 1000);
});
