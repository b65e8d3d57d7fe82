import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskDefinitionStatus } from '../../generated/ecs/types.js';
import type { TaskDefinitionRecord } from '../records.js';
import { DELETE_FAILURE_ACTIVE, deletionRequested, deregistered, familyStatus } from './lifecycle.js';
import { assertEcsError } from './test-support.js';

const td = (status: TaskDefinitionStatus): TaskDefinitionRecord => ({
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
  family: 'web',
  revision: 1,
  status,
  containerDefinitions: [],
  registeredAt: 1,
  tags: [],
});

const NOW = Date.UTC(2026, 0, 2);

describe('deregistered', () => {
  it('turns ACTIVE into INACTIVE with deregisteredAt in epoch seconds', () => {
    const before = td('ACTIVE');
    const after = deregistered(before, NOW);
    assert.equal(after.status, 'INACTIVE');
    assert.equal(after.deregisteredAt, NOW / 1000);
    assert.equal(before.status, 'ACTIVE');
  });
  it('leaves an INACTIVE revision as it is', () => {
    const inactive = { ...td('INACTIVE'), deregisteredAt: 5 };
    assert.equal(deregistered(inactive, NOW), inactive);
  });
  it('refuses a revision being deleted', () => {
    assertEcsError(
      () => deregistered(td('DELETE_IN_PROGRESS'), NOW),
      'ClientException',
      /in the process of being deleted/,
    );
  });
});

describe('deletionRequested', () => {
  it('refuses ACTIVE with the ECS reason', () => {
    assert.deepEqual(deletionRequested(td('ACTIVE'), NOW), { failure: DELETE_FAILURE_ACTIVE });
    assert.match(DELETE_FAILURE_ACTIVE, /still in ACTIVE status\. Please deregister/);
  });
  it('turns INACTIVE into DELETE_IN_PROGRESS with deleteRequestedAt', () => {
    const out = deletionRequested(td('INACTIVE'), NOW);
    assert.ok('record' in out);
    assert.equal(out.record.status, 'DELETE_IN_PROGRESS');
    assert.equal(out.record.deleteRequestedAt, NOW / 1000);
  });
  it('leaves a revision already being deleted as it is', () => {
    const deleting = td('DELETE_IN_PROGRESS');
    assert.deepEqual(deletionRequested(deleting, NOW), { record: deleting });
  });
});

describe('familyStatus', () => {
  it('is ACTIVE when any revision is ACTIVE', () => {
    assert.equal(familyStatus(['INACTIVE', 'ACTIVE', 'DELETE_IN_PROGRESS']), 'ACTIVE');
  });
  it('is INACTIVE when revisions exist and none is ACTIVE', () => {
    assert.equal(familyStatus(['INACTIVE']), 'INACTIVE');
    assert.equal(familyStatus(['DELETE_IN_PROGRESS', 'INACTIVE']), 'INACTIVE');
  });
  it('is undefined without revisions', () => {
    assert.equal(familyStatus([]), undefined);
  });
});
