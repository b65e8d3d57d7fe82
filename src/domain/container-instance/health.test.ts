import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRuntimeImpaired, withRuntimeHealth } from './health.js';

describe('withRuntimeHealth', () => {
  it('records an impaired runtime with its reason and the time it changed', () => {
    const h = withRuntimeHealth(undefined, 'IMPAIRED', 'Docker unreachable', 100);
    assert.equal(h.overallStatus, 'IMPAIRED');
    assert.deepEqual(h.details, [
      {
        type: 'CONTAINER_RUNTIME',
        status: 'IMPAIRED',
        statusReason: 'Docker unreachable',
        lastUpdated: 100,
        lastStatusChange: 100,
      },
    ]);
    assert.equal(isRuntimeImpaired(h), true);
  });
  it('keeps lastStatusChange while the status holds, and moves it on a change', () => {
    const a = withRuntimeHealth(undefined, 'OK', undefined, 100);
    const b = withRuntimeHealth(a, 'OK', undefined, 200);
    assert.equal(b.details![0]!.lastStatusChange, 100);
    assert.equal(b.details![0]!.lastUpdated, 200);
    const c = withRuntimeHealth(b, 'IMPAIRED', 'down', 300);
    assert.equal(c.details![0]!.lastStatusChange, 300);
    const d = withRuntimeHealth(c, 'OK', undefined, 400);
    assert.equal(d.overallStatus, 'OK');
    assert.equal(d.details![0]!.statusReason, undefined);
    assert.equal(isRuntimeImpaired(d), false);
  });
});
