import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BACKOFF_MAX_MS,
  UNHEALTHY_STOP_REASON,
  circuitBreakerThreshold,
  countFailedTasks,
  isFailedTask,
  launchBackoffMs,
} from './circuit-breaker.js';
import { T0, task } from './test-support.js';

const j = { healthChecked: false, gracePeriodMs: 0, stabilityMs: 5000, now: T0 };
const s = T0 / 1000;

describe('circuitBreakerThreshold', () => {
  const bounded = { enable: true, rollback: true };
  for (const [desired, expected] of [
    [0, 3],
    [1, 3],
    [6, 3],
    [7, 4],
    [10, 5],
    [399, 200],
    [1000, 200],
  ] as const) {
    it(`clamp(ceil(0.5 × ${desired}), 3, 200) = ${expected}`, () => {
      assert.equal(circuitBreakerThreshold(bounded, desired), expected);
    });
  }
  it('thresholdConfiguration forms', () => {
    assert.equal(
      circuitBreakerThreshold({ ...bounded, thresholdConfiguration: { type: 'COUNT', value: 7 } }, 100),
      7,
    );
    assert.equal(
      circuitBreakerThreshold(
        { ...bounded, thresholdConfiguration: { type: 'BOUNDED_PERCENT', value: 20 } },
        100,
      ),
      20,
    );
    assert.equal(
      circuitBreakerThreshold(
        { ...bounded, thresholdConfiguration: { type: 'BOUNDED_PERCENT', value: 1 } },
        100,
      ),
      3,
    );
    assert.equal(
      circuitBreakerThreshold(
        { ...bounded, thresholdConfiguration: { type: 'UNBOUNDED_PERCENT', value: 1 } },
        100,
      ),
      1,
    );
    assert.equal(
      circuitBreakerThreshold(
        { ...bounded, thresholdConfiguration: { type: 'UNBOUNDED_PERCENT', value: 300 } },
        100,
      ),
      300,
    );
  });
});

describe('isFailedTask', () => {
  const cases: [string, Parameters<typeof task>[0], boolean][] = [
    ['never RUNNING (stage 1)', { last: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedAt: s }, true],
    [
      'exited within the stability window (stage 2)',
      { last: 'STOPPED', startedAt: s - 2, stoppedAt: s - 1, stopCode: 'EssentialContainerExited' },
      true,
    ],
    [
      'exited after running for long',
      { last: 'STOPPED', startedAt: s - 100, stoppedAt: s - 1, stopCode: 'EssentialContainerExited' },
      false,
    ],
    [
      'stopped by the scheduler',
      { last: 'STOPPED', stoppedAt: s, stopCode: 'ServiceSchedulerInitiated' },
      false,
    ],
    ['stopped by a user', { last: 'STOPPED', stoppedAt: s, stopCode: 'UserInitiated' }, false],
    [
      'stopped for failed health checks',
      {
        last: 'STOPPED',
        startedAt: s - 500,
        stoppedAt: s,
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: UNHEALTHY_STOP_REASON,
      },
      true,
    ],
    ['still running', { last: 'RUNNING' }, false],
  ];
  for (const [name, o, expected] of cases) {
    it(`${name}: ${expected}`, () => {
      assert.equal(isFailedTask(task({ startedAt: undefined, ...o }), j), expected);
    });
  }
});

describe('countFailedTasks', () => {
  const failed = (at: number) =>
    task({ last: 'STOPPED', stopCode: 'TaskFailedToStart', startedAt: undefined, stoppedAt: at });

  it('counts failures after the last healthy moment and moves the watermark', () => {
    const ok = task({ startedAt: s - 50 }); // healthy since s - 45
    const fc = countFailedTasks([failed(s - 60), failed(s - 40), failed(s - 30), ok], j, {});
    assert.deepEqual(fc, { count: 2, lastFailureAt: s - 30, resetAt: s - 45 });
  });

  it('keeps a stored watermark that is newer', () => {
    const fc = countFailedTasks([failed(s - 40), failed(s - 30)], j, { resetAt: s - 35 });
    assert.equal(fc.count, 1);
    assert.equal(fc.resetAt, s - 35);
  });

  it('cumulative counts every failure of the deployment', () => {
    const fc = countFailedTasks([failed(s - 40), failed(s - 30)], j, { resetAt: s - 35, cumulative: true });
    assert.equal(fc.count, 2);
  });

  it('with health checks, a HEALTHY task resets from its start', () => {
    const hc = { ...j, healthChecked: true };
    const fc = countFailedTasks([failed(s - 40), task({ startedAt: s - 35, health: 'HEALTHY' })], hc, {});
    assert.deepEqual(fc, { count: 0, resetAt: s - 35 });
  });
});

describe('launchBackoffMs', () => {
  it('retries twice at once, then 5 s doubling up to 15 minutes', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(launchBackoffMs), [0, 0, 0, 5000, 10000, 20000, 40000]);
    assert.equal(launchBackoffMs(20), BACKOFF_MAX_MS);
    assert.equal(launchBackoffMs(1000), 15 * 60 * 1000);
  });
});
