import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareContainerStatus, compareTaskStatus, hasTaskReached, isTaskPendingCount } from './status.js';

describe('task status ordering', () => {
  it('orders the lifecycle', () => {
    assert.equal(compareTaskStatus('PENDING', 'RUNNING'), -1);
    assert.equal(compareTaskStatus('STOPPED', 'RUNNING'), 1);
    assert.equal(compareTaskStatus('RUNNING', 'RUNNING'), 0);
    assert.equal(compareTaskStatus('BOGUS', 'PROVISIONING'), -1);
  });
  it('tells whether a status was reached', () => {
    assert.equal(hasTaskReached('DEACTIVATING', 'RUNNING'), true);
    assert.equal(hasTaskReached('ACTIVATING', 'RUNNING'), false);
    assert.equal(hasTaskReached(undefined, 'PROVISIONING'), false);
  });
  it('orders container statuses and counts pending tasks', () => {
    assert.equal(compareContainerStatus('STOPPED', 'RUNNING'), 1);
    assert.equal(isTaskPendingCount('ACTIVATING'), true);
    assert.equal(isTaskPendingCount('RUNNING'), false);
  });
});
