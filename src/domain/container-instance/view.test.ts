import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerInstanceRecord } from '../records.js';
import { toContainerInstanceView } from './view.js';

const record: ContainerInstanceRecord = {
  containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/c/abc',
  status: 'ACTIVE',
  version: 3,
  tags: [{ key: 'team', value: 'a' }],
  cluster: 'c',
};

describe('toContainerInstanceView', () => {
  it('leaves out the internal cluster, tags and health unless asked for', () => {
    assert.deepEqual(toContainerInstanceView(record), {
      containerInstanceArn: record.containerInstanceArn,
      status: 'ACTIVE',
      version: 3,
    });
  });
  it('adds tags for TAGS and health for CONTAINER_INSTANCE_HEALTH', () => {
    const view = toContainerInstanceView(record, ['TAGS', 'CONTAINER_INSTANCE_HEALTH']);
    assert.deepEqual(view.tags, [{ key: 'team', value: 'a' }]);
    assert.deepEqual(view.healthStatus, { overallStatus: 'INSUFFICIENT_DATA', details: [] });
    assert.equal('cluster' in view, false);
  });
  it('shows the health an agent reported', () => {
    const reported = { ...record, healthStatus: { overallStatus: 'OK' as const, details: [] } };
    assert.equal(
      toContainerInstanceView(reported, ['CONTAINER_INSTANCE_HEALTH']).healthStatus?.overallStatus,
      'OK',
    );
  });
});
