import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, type BackoffPolicy } from './backoff.js';

describe('backoffDelay', () => {
  const p: BackoffPolicy = { minMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };
  it('doubles from the minimum up to the maximum without jitter at the midpoint', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(p, a, 0.5));
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
  it('spreads by the jitter fraction and never exceeds the maximum', () => {
    assert.equal(backoffDelay(p, 0, 0), 400);
    assert.equal(backoffDelay(p, 0, 0.999999), 600);
    assert.equal(backoffDelay(p, 10, 0.999999), 30_000);
    assert.equal(backoffDelay(p, 10, 0), 24_000);
  });
  it('treats negative attempts as the first', () => {
    assert.equal(backoffDelay(p, -3, 0.5), 500);
  });
});
