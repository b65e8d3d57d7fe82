import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  STATISTIC_NAMES,
  capacityKindOfProviderType,
  clusterDeletionBlocker,
  computeClusterCounts,
  computeClusterStatistics,
  isTaskActive,
  serviceCapacityKind,
  taskCapacityKind,
  taskCountPhase,
  type ProviderKindOf,
} from './activity.js';

const kindOf: ProviderKindOf = (name) =>
  name === 'FARGATE' || name === 'FARGATE_SPOT' ? 'FARGATE' : name === 'mi' ? 'MANAGED_INSTANCES' : 'EC2';

describe('task counting', () => {
  it('counts RUNNING as running, whatever is desired', () => {
    assert.equal(taskCountPhase({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' }), 'RUNNING');
    assert.equal(taskCountPhase({ lastStatus: 'RUNNING', desiredStatus: 'STOPPED' }), 'RUNNING');
  });

  it('counts the statuses before RUNNING as pending', () => {
    for (const lastStatus of ['PROVISIONING', 'PENDING', 'ACTIVATING']) {
      assert.equal(taskCountPhase({ lastStatus, desiredStatus: 'RUNNING' }), 'PENDING', lastStatus);
    }
  });

  it('counts tasks on their way down as neither', () => {
    for (const lastStatus of ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']) {
      assert.equal(taskCountPhase({ lastStatus, desiredStatus: 'STOPPED' }), undefined, lastStatus);
    }
  });

  it('treats a task as active until it is STOPPED and no longer wanted running', () => {
    assert.equal(isTaskActive({ lastStatus: 'STOPPING', desiredStatus: 'STOPPED' }), true);
    assert.equal(isTaskActive({ lastStatus: 'STOPPED', desiredStatus: 'RUNNING' }), true);
    assert.equal(isTaskActive({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }), false);
  });
});

describe('computeClusterCounts', () => {
  it('counts registered instances, running and pending tasks, ACTIVE services', () => {
    const counts = computeClusterCounts(
      [{ status: 'ACTIVE' }, { status: 'DRAINING' }, { status: 'INACTIVE' }],
      [
        { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' },
        { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' },
        { lastStatus: 'PENDING', desiredStatus: 'RUNNING' },
        { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
      ],
      [{ status: 'ACTIVE' }, { status: 'DRAINING' }, { status: 'INACTIVE' }],
    );
    assert.deepEqual(counts, {
      registeredContainerInstancesCount: 2,
      runningTasksCount: 2,
      pendingTasksCount: 1,
      activeServicesCount: 1,
    });
  });
});

describe('capacity kinds', () => {
  it('maps provider types to launch types', () => {
    assert.equal(capacityKindOfProviderType('FARGATE_SPOT'), 'FARGATE');
    assert.equal(capacityKindOfProviderType('EC2_AUTOSCALING'), 'EC2');
    assert.equal(capacityKindOfProviderType('MANAGED_INSTANCES'), 'MANAGED_INSTANCES');
  });

  it('takes the launch type, else the provider, else EC2', () => {
    assert.equal(taskCapacityKind({ launchType: 'EXTERNAL' }, kindOf), 'EXTERNAL');
    assert.equal(taskCapacityKind({ capacityProviderName: 'FARGATE_SPOT' }, kindOf), 'FARGATE');
    assert.equal(taskCapacityKind({}, kindOf), 'EC2');
    assert.equal(
      serviceCapacityKind({ capacityProviderStrategy: [{ capacityProvider: 'mi' }] }, kindOf),
      'MANAGED_INSTANCES',
    );
    assert.equal(serviceCapacityKind({}, kindOf), 'EC2');
  });
});

describe('computeClusterStatistics', () => {
  it('answers every ECS statistic in ECS order, as strings', () => {
    assert.deepEqual(STATISTIC_NAMES, [
      'runningEC2TasksCount',
      'runningFargateTasksCount',
      'pendingEC2TasksCount',
      'pendingFargateTasksCount',
      'runningExternalTasksCount',
      'pendingExternalTasksCount',
      'runningManagedInstancesTasksCount',
      'pendingManagedInstancesTasksCount',
      'activeEC2ServiceCount',
      'activeFargateServiceCount',
      'drainingEC2ServiceCount',
      'drainingFargateServiceCount',
      'activeExternalServiceCount',
      'drainingExternalServiceCount',
      'activeManagedInstancesServiceCount',
      'drainingManagedInstancesServiceCount',
    ]);
  });

  it('splits tasks and services by launch type', () => {
    const stats = computeClusterStatistics(
      [
        { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', launchType: 'EC2' },
        { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', capacityProviderName: 'FARGATE' },
        { lastStatus: 'PENDING', desiredStatus: 'RUNNING', capacityProviderName: 'FARGATE_SPOT' },
        { lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', launchType: 'EXTERNAL' },
        { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', launchType: 'EC2' },
      ],
      [
        { status: 'ACTIVE', launchType: 'FARGATE' },
        { status: 'DRAINING', capacityProviderStrategy: [{ capacityProvider: 'mi' }] },
        { status: 'INACTIVE', launchType: 'EC2' },
      ],
      kindOf,
    );
    const byName = Object.fromEntries(stats.map((s) => [s.name, s.value]));
    assert.equal(stats.length, 16);
    assert.deepEqual(Object.fromEntries(Object.entries(byName).filter(([, v]) => v !== '0')), {
      runningEC2TasksCount: '1',
      runningFargateTasksCount: '1',
      pendingFargateTasksCount: '1',
      pendingExternalTasksCount: '1',
      activeFargateServiceCount: '1',
      drainingManagedInstancesServiceCount: '1',
    });
  });
});

describe('clusterDeletionBlocker', () => {
  const empty = { instances: [], services: [], tasks: [], scopedCapacityProviders: [] };

  it('lets an empty cluster go', () => {
    assert.equal(clusterDeletionBlocker(empty), undefined);
    assert.equal(
      clusterDeletionBlocker({
        ...empty,
        instances: [{ status: 'INACTIVE' }],
        services: [{ status: 'INACTIVE' }],
        tasks: [{ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }],
      }),
      undefined,
    );
  });

  it('refuses with ECS errors and wording', () => {
    assert.deepEqual(pick(clusterDeletionBlocker({ ...empty, instances: [{ status: 'DRAINING' }] })), [
      'ClusterContainsContainerInstancesException',
      'The Cluster cannot be deleted while Container Instances are active or draining.',
    ]);
    assert.deepEqual(pick(clusterDeletionBlocker({ ...empty, services: [{ status: 'DRAINING' }] })), [
      'ClusterContainsServicesException',
      'The Cluster cannot be deleted while Services are active.',
    ]);
    assert.deepEqual(
      pick(
        clusterDeletionBlocker({ ...empty, tasks: [{ lastStatus: 'STOPPING', desiredStatus: 'STOPPED' }] }),
      ),
      ['ClusterContainsTasksException', 'The Cluster cannot be deleted while Tasks are active.'],
    );
    assert.equal(
      clusterDeletionBlocker({ ...empty, scopedCapacityProviders: ['mi'] })?.code,
      'ClientException',
    );
  });
});

function pick(e: { code: string; message: string } | undefined): [string, string] | undefined {
  return e ? [e.code, e.message] : undefined;
}
