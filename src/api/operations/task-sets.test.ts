import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRecord, ServiceRecord } from '../../domain/records.js';
import { keys } from '../../store/keys.js';
import type { RequestContext } from '../context.js';
import { serviceOperations } from './services.js';
import { tagOperations } from './tags.js';
import { taskDefinitionOperations } from './task-definitions.js';
import { EXTERNAL_ONLY_MESSAGE, taskSetOperations as ops } from './task-sets.js';
import { testContext } from './test-context.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012';

function fails(code: string, pattern?: RegExp) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (pattern) assert.match(err.message ?? '', pattern);
    return true;
  };
}

async function setup() {
  const ctx = testContext();
  const cluster: ClusterRecord = {
    clusterName: 'prod',
    clusterArn: `${ARN}:cluster/prod`,
    status: 'ACTIVE',
    tags: [],
  };
  await ctx.store.txn([], [{ kind: 'put', key: keys.cluster(ctx, 'prod'), value: cluster }]);
  await taskDefinitionOperations.RegisterTaskDefinition!(ctx, {
    family: 'web',
    containerDefinitions: [{ name: 'app', image: 'busybox', memory: 128 }],
  });
  await serviceOperations.CreateService!(ctx, {
    cluster: 'prod',
    serviceName: 'ext',
    desiredCount: 4,
    deploymentController: { type: 'EXTERNAL' },
  });
  return ctx;
}

const createSet = (ctx: RequestContext, extra: Record<string, unknown> = {}) =>
  ops.CreateTaskSet!(ctx, { cluster: 'prod', service: 'ext', taskDefinition: 'web', ...extra });

async function stored(ctx: RequestContext) {
  return (await ctx.store.get<ServiceRecord>(keys.service(ctx, 'prod', 'ext')))!.value;
}

describe('task sets', () => {
  it('CreateTaskSet: an ACTIVE task set at ceil(desired × scale / 100), inside the service', async () => {
    const ctx = await setup();
    const { taskSet } = await createSet(ctx, {
      scale: { value: 30, unit: 'PERCENT' },
      externalId: 'blue',
      tags: [{ key: 'k', value: 'v' }],
    });
    assert.match(taskSet!.id!, /^ecs-svc\/[0-9]{19}$/);
    assert.equal(taskSet!.taskSetArn, `${ARN}:task-set/prod/ext/${taskSet!.id}`);
    assert.equal(taskSet!.status, 'ACTIVE');
    assert.equal(taskSet!.computedDesiredCount, 2);
    assert.equal(taskSet!.externalId, 'blue');
    assert.equal(taskSet!.launchType, 'EC2');
    assert.equal(taskSet!.stabilityStatus, 'STABILIZING');
    assert.deepEqual(taskSet!.tags, [{ key: 'k', value: 'v' }]);
    const svc = await stored(ctx);
    assert.equal(svc.taskSets!.length, 1);
    assert.deepEqual(svc.berth!.deployments[taskSet!.id!], { healthChecked: false });
  });

  it('task sets are taggable through their ARN (TagResource finds them in the service)', async () => {
    const ctx = await setup();
    const { taskSet } = await createSet(ctx);
    await tagOperations.TagResource!(ctx, {
      resourceArn: taskSet!.taskSetArn!,
      tags: [{ key: 'x', value: 'y' }],
    });
    const listed = await tagOperations.ListTagsForResource!(ctx, { resourceArn: taskSet!.taskSetArn! });
    assert.deepEqual(listed.tags, [{ key: 'x', value: 'y' }]);
  });

  it('UpdateTaskSet scales; UpdateServicePrimaryTaskSet switches the primary and the service definition', async () => {
    const ctx = await setup();
    const a = (await createSet(ctx)).taskSet!;
    const b = (await createSet(ctx, { scale: { value: 0, unit: 'PERCENT' } })).taskSet!;
    const scaled = await ops.UpdateTaskSet!(ctx, {
      cluster: 'prod',
      service: 'ext',
      taskSet: b.id!,
      scale: { value: 50, unit: 'PERCENT' },
    });
    assert.equal(scaled.taskSet!.computedDesiredCount, 2);
    await ops.UpdateServicePrimaryTaskSet!(ctx, {
      cluster: 'prod',
      service: 'ext',
      primaryTaskSet: a.taskSetArn!,
    });
    const p = await ops.UpdateServicePrimaryTaskSet!(ctx, {
      cluster: 'prod',
      service: 'ext',
      primaryTaskSet: b.id!,
    });
    assert.equal(p.taskSet!.status, 'PRIMARY');
    const svc = await stored(ctx);
    assert.deepEqual(
      svc.taskSets!.map((t) => t.status),
      ['ACTIVE', 'PRIMARY'],
    );
    assert.equal(svc.taskDefinition, `${ARN}:task-definition/web:1`);
    await assert.rejects(
      ops.UpdateTaskSet!(ctx, {
        cluster: 'prod',
        service: 'ext',
        taskSet: 'ecs-svc/1234567890123456789',
        scale: { value: 1 },
      }),
      fails('TaskSetNotFoundException'),
    );
    await assert.rejects(
      ops.UpdateTaskSet!(ctx, {
        cluster: 'prod',
        service: 'ext',
        taskSet: a.id!,
        scale: { value: 101, unit: 'PERCENT' },
      }),
      fails('InvalidParameterException', /scale.value/),
    );
  });

  it('DeleteTaskSet needs scale 0 or force, then drains', async () => {
    const ctx = await setup();
    const a = (await createSet(ctx)).taskSet!;
    await assert.rejects(
      ops.DeleteTaskSet!(ctx, { cluster: 'prod', service: 'ext', taskSet: a.id! }),
      fails('InvalidParameterException', /force/),
    );
    const d = await ops.DeleteTaskSet!(ctx, { cluster: 'prod', service: 'ext', taskSet: a.id!, force: true });
    assert.equal(d.taskSet!.status, 'DRAINING');
    assert.equal(d.taskSet!.computedDesiredCount, 0);
  });

  it('DescribeTaskSets: all or the named ones, MISSING for others, tags with include', async () => {
    const ctx = await setup();
    const a = (await createSet(ctx, { tags: [{ key: 'k', value: 'v' }] })).taskSet!;
    await createSet(ctx);
    assert.equal((await ops.DescribeTaskSets!(ctx, { cluster: 'prod', service: 'ext' })).taskSets!.length, 2);
    const one = await ops.DescribeTaskSets!(ctx, {
      cluster: 'prod',
      service: 'ext',
      taskSets: [a.taskSetArn!, 'ecs-svc/1'],
      include: ['TAGS'],
    });
    assert.equal(one.taskSets!.length, 1);
    assert.deepEqual(one.taskSets![0]!.tags, [{ key: 'k', value: 'v' }]);
    assert.deepEqual(one.failures, [{ arn: 'ecs-svc/1', reason: 'MISSING' }]);
  });

  it('only EXTERNAL services have task sets', async () => {
    const ctx = await setup();
    await serviceOperations.CreateService!(ctx, {
      cluster: 'prod',
      serviceName: 'ecs',
      taskDefinition: 'web',
      desiredCount: 0,
    });
    await assert.rejects(
      ops.CreateTaskSet!(ctx, { cluster: 'prod', service: 'ecs', taskDefinition: 'web' }),
      fails('InvalidParameterException', new RegExp(EXTERNAL_ONLY_MESSAGE)),
    );
    await assert.rejects(
      ops.CreateTaskSet!(ctx, { cluster: 'prod', service: 'nope', taskDefinition: 'web' }),
      fails('ServiceNotFoundException'),
    );
  });
});
