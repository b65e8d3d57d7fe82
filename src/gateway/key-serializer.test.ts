import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeySerializer } from './key-serializer.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeySerializer', () => {
  it('runs jobs of one key one at a time, in order, even when an earlier one is slower or fails', async () => {
    const k = new KeySerializer();
    const log: string[] = [];
    const a = k.run('x', async () => {
      log.push('a start');
      await tick(20);
      log.push('a end');
      throw new Error('a failed');
    });
    const b = k.run('x', async () => {
      log.push('b');
      return 2;
    });
    await assert.rejects(a, /a failed/);
    assert.equal(await b, 2);
    assert.deepEqual(log, ['a start', 'a end', 'b']);
  });

  it('runs jobs of different keys concurrently', async () => {
    const k = new KeySerializer();
    const log: string[] = [];
    const slow = k.run('x', async () => {
      await tick(20);
      log.push('x');
    });
    const fast = k.run('y', async () => {
      log.push('y');
    });
    await Promise.all([slow, fast]);
    assert.deepEqual(log, ['y', 'x']);
  });

  it('drain waits for everything submitted, and forgets idle keys', async () => {
    const k = new KeySerializer();
    let done = 0;
    for (let i = 0; i < 5; i++) {
      void k.run(`k${i % 2}`, async () => {
        await tick(5);
        done++;
      });
    }
    await k.drain();
    assert.equal(done, 5);
    await tick(0);
    assert.equal(k.pending, 0);
  });
});
