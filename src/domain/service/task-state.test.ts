import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyServiceTask, hasEssentialHealthCheck, healthySince, nextJudgementAt } from './task-state.js';
import { T0, task } from './test-support.js';

const s = T0 / 1000;
const plain = { healthChecked: false, gracePeriodMs: 0, stabilityMs: 5000, now: T0 };
const checked = { healthChecked: true, gracePeriodMs: 30_000, stabilityMs: 5000, now: T0 };

describe('classifyServiceTask', () => {
  const cases: [string, Parameters<typeof task>[0], typeof plain, string][] = [
    ['STOPPED', { last: 'STOPPED' }, plain, 'stopped'],
    ['asked to stop, still RUNNING', { desired: 'STOPPED' }, plain, 'stopping'],
    ['PROVISIONING', { last: 'PROVISIONING' }, plain, 'pending'],
    ['ACTIVATING', { last: 'ACTIVATING' }, plain, 'pending'],
    ['RUNNING 2 s without checks', { startedAt: s - 2 }, plain, 'starting'],
    ['RUNNING 5 s without checks', { startedAt: s - 5 }, plain, 'healthy'],
    ['HEALTHY', { health: 'HEALTHY', startedAt: s - 1 }, checked, 'healthy'],
    ['no verdict yet', { health: 'UNKNOWN' }, checked, 'starting'],
    ['UNHEALTHY within the grace period', { health: 'UNHEALTHY', startedAt: s - 10 }, checked, 'starting'],
    ['UNHEALTHY after the grace period', { health: 'UNHEALTHY', startedAt: s - 40 }, checked, 'unhealthy'],
  ];
  for (const [name, o, j, expected] of cases) {
    it(`${name} → ${expected}`, () => assert.equal(classifyServiceTask(task(o), j), expected));
  }
});

describe('judgement timers', () => {
  it('names when a starting task is judged again', () => {
    assert.equal(nextJudgementAt(task({ startedAt: s - 2 }), plain), T0 + 3000);
    assert.equal(nextJudgementAt(task({ startedAt: s - 10 }), plain), undefined);
    assert.equal(nextJudgementAt(task({ health: 'UNHEALTHY', startedAt: s - 10 }), checked), T0 + 20_000);
  });

  it('healthySince: end of the stability window, also for a task that stopped after it', () => {
    assert.equal(healthySince(task({ startedAt: s - 60 }), plain), s - 55);
    assert.equal(
      healthySince(task({ last: 'STOPPED', startedAt: s - 60, stoppedAt: s - 10 }), plain),
      s - 55,
    );
    assert.equal(
      healthySince(task({ last: 'STOPPED', startedAt: s - 60, stoppedAt: s - 58 }), plain),
      undefined,
    );
    assert.equal(healthySince(task({ health: 'HEALTHY', startedAt: s - 60 }), checked), s - 60);
  });

  it('hasEssentialHealthCheck ignores non-essential containers', () => {
    const hc = { command: ['CMD', 'true'] };
    assert.equal(hasEssentialHealthCheck([{ healthCheck: hc }]), true);
    assert.equal(hasEssentialHealthCheck([{ essential: false, healthCheck: hc }, {}]), false);
  });
});
