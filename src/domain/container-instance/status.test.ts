import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRegistered, isUpdatableStatus, planStateUpdate } from './status.js';

describe('container instance status', () => {
  it('only ACTIVE and DRAINING can be requested', () => {
    assert.equal(isUpdatableStatus('ACTIVE'), true);
    assert.equal(isUpdatableStatus('DRAINING'), true);
    assert.equal(isUpdatableStatus('REGISTERING'), false);
    assert.equal(isUpdatableStatus('INACTIVE'), false);
  });
  it('counts everything but INACTIVE as registered', () => {
    assert.equal(isRegistered('DRAINING'), true);
    assert.equal(isRegistered('REGISTERING'), true);
    assert.equal(isRegistered('INACTIVE'), false);
  });
  it('plans ACTIVE <-> DRAINING, no-ops for the same status, refuses the rest', () => {
    assert.deepEqual(planStateUpdate('ACTIVE', 'DRAINING'), { kind: 'change' });
    assert.deepEqual(planStateUpdate('DRAINING', 'ACTIVE'), { kind: 'change' });
    assert.deepEqual(planStateUpdate('DRAINING', 'DRAINING'), { kind: 'unchanged' });
    const refused = planStateUpdate('INACTIVE', 'DRAINING');
    assert.equal(refused.kind, 'refused');
    assert.equal(refused.kind === 'refused' && refused.reason, 'INACTIVE');
    assert.equal(planStateUpdate('REGISTERING', 'DRAINING').kind, 'refused');
  });
});
