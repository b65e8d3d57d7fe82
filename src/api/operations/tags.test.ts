import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Tag } from '../../generated/ecs/types.js';
import type {
  CapacityProviderRecord,
  ClusterRecord,
  ContainerInstanceRecord,
  ServiceRecord,
  TaskDefinitionRecord,
  TaskRecord,
} from '../../domain/records.js';
import { keys } from '../../store/keys.js';
import type { RequestContext } from '../context.js';
import { testContext } from './test-context.js';
import {
  INACTIVE_CLUSTER_MESSAGE,
  checkTagLimit,
  mergeTags,
  removeTags,
  tagOperations as ops,
} from './tags.js';

const A = 'arn:aws:ecs:us-east-1:123456789012';
const CI_ID = '0123456789abcdef0123456789abcdef';
const TASK_SET_ID = 'ecs-svc/1234567890123456789';

const ARNS = {
  cluster: `${A}:cluster/prod`,
  taskDefinition: `${A}:task-definition/web:3`,
  capacityProvider: `${A}:capacity-provider/cp1`,
  containerInstance: `${A}:container-instance/prod/${CI_ID}`,
  task: `${A}:task/prod/abc123`,
  service: `${A}:service/prod/web`,
  taskSet: `${A}:task-set/prod/web/${TASK_SET_ID}`,
};

async function put(ctx: RequestContext, key: string, value: unknown) {
  await ctx.store.txn([], [{ kind: 'put', key, value }]);
}

/** One record of every taggable kind, each starting with one tag. */
async function seedAll(ctx: RequestContext, clusterStatus: ClusterRecord['status'] = 'ACTIVE') {
  const start: Tag[] = [{ key: 'origin', value: 'seed' }];
  const cluster: ClusterRecord = {
    clusterName: 'prod',
    clusterArn: ARNS.cluster,
    status: clusterStatus,
    tags: start,
  };
  const td: TaskDefinitionRecord = {
    taskDefinitionArn: ARNS.taskDefinition,
    family: 'web',
    revision: 3,
    tags: start,
  };
  const cp: CapacityProviderRecord = { name: 'cp1', capacityProviderArn: ARNS.capacityProvider, tags: start };
  const ci: ContainerInstanceRecord = {
    containerInstanceArn: ARNS.containerInstance,
    cluster: 'prod',
    status: 'ACTIVE',
    version: 4,
    tags: start,
  };
  const task: TaskRecord = { taskArn: ARNS.task, clusterArn: ARNS.cluster, tags: start, berth: {} };
  const service: ServiceRecord = {
    serviceArn: ARNS.service,
    serviceName: 'web',
    clusterArn: ARNS.cluster,
    tags: start,
    taskSets: [
      {
        id: 'ecs-svc/999',
        taskSetArn: `${A}:task-set/prod/web/ecs-svc/999`,
        tags: [{ key: 'other', value: 'set' }],
      },
      { id: TASK_SET_ID, taskSetArn: ARNS.taskSet, tags: start },
    ],
  };
  await put(ctx, keys.cluster(ctx, 'prod'), cluster);
  await put(ctx, keys.taskDefinition(ctx, 'web', 3), td);
  await put(ctx, keys.capacityProvider(ctx, 'cp1'), cp);
  await put(ctx, keys.containerInstance(ctx, 'prod', CI_ID), ci);
  await put(ctx, keys.task(ctx, 'prod', 'abc123'), task);
  await put(ctx, keys.service(ctx, 'prod', 'web'), service);
}

function fails(code: string, pattern?: RegExp) {
  return (e: unknown): boolean => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (pattern) assert.match(err.message ?? '', pattern);
    return true;
  };
}

const list = async (ctx: RequestContext, resourceArn: string) =>
  (await ops.ListTagsForResource!(ctx, { resourceArn })).tags;

describe('tag helpers', () => {
  it('mergeTags overwrites existing keys in place and appends new ones', () => {
    assert.deepEqual(
      mergeTags(
        [
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
        ],
        [{ key: 'b', value: 'x' }, { key: 'c', value: '3' }, { key: 'd' }],
      ),
      [
        { key: 'a', value: '1' },
        { key: 'b', value: 'x' },
        { key: 'c', value: '3' },
        { key: 'd', value: '' },
      ],
    );
  });
  it('removeTags drops the named keys only', () => {
    assert.deepEqual(
      removeTags(
        [
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
        ],
        ['a', 'zz'],
      ),
      [{ key: 'b', value: '2' }],
    );
  });
  it('checkTagLimit allows 50 user tags plus aws: ones, not 51', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    checkTagLimit([...fifty, { key: 'aws:ecs:clusterName', value: 'prod' }]);
    assert.throws(() => checkTagLimit([...fifty, { key: 'k50', value: 'v' }]), /at most 50 tags; got 51/);
  });
});

describe('TagResource / UntagResource / ListTagsForResource on every taggable resource', () => {
  for (const [kind, arn] of Object.entries(ARNS)) {
    it(`tags, lists and untags a ${kind}`, async () => {
      const ctx = testContext();
      await seedAll(ctx);
      assert.deepEqual(await list(ctx, arn), [{ key: 'origin', value: 'seed' }]);
      await ops.TagResource!(ctx, {
        resourceArn: arn,
        tags: [
          { key: 'origin', value: 'changed' },
          { key: 'team', value: 'payments' },
        ],
      });
      assert.deepEqual(await list(ctx, arn), [
        { key: 'origin', value: 'changed' },
        { key: 'team', value: 'payments' },
      ]);
      await ops.UntagResource!(ctx, { resourceArn: arn, tagKeys: ['origin', 'not-there'] });
      assert.deepEqual(await list(ctx, arn), [{ key: 'team', value: 'payments' }]);
    });
  }

  it('touches only the addressed task set of a service, and not the service itself', async () => {
    const ctx = testContext();
    await seedAll(ctx);
    await ops.TagResource!(ctx, { resourceArn: ARNS.taskSet, tags: [{ key: 'ts', value: '1' }] });
    const service = (await ctx.store.get<ServiceRecord>(keys.service(ctx, 'prod', 'web')))!.value;
    assert.deepEqual(service.tags, [{ key: 'origin', value: 'seed' }]);
    assert.deepEqual(service.taskSets![0]!.tags, [{ key: 'other', value: 'set' }]);
    assert.deepEqual(service.taskSets![1]!.tags, [
      { key: 'origin', value: 'seed' },
      { key: 'ts', value: '1' },
    ]);
  });

  it('leaves the rest of the record alone (a container instance keeps its version)', async () => {
    const ctx = testContext();
    await seedAll(ctx);
    await ops.TagResource!(ctx, { resourceArn: ARNS.containerInstance, tags: [{ key: 'x', value: 'y' }] });
    const ci = (await ctx.store.get<ContainerInstanceRecord>(keys.containerInstance(ctx, 'prod', CI_ID)))!
      .value;
    assert.equal(ci.version, 4);
    assert.equal(ci.status, 'ACTIVE');
  });
});

describe('tag limits and reserved keys', () => {
  it('keeps ECS-managed aws: tags, lists them, and does not count them against 50', async () => {
    const ctx = testContext();
    await seedAll(ctx);
    const task = (await ctx.store.get<TaskRecord>(keys.task(ctx, 'prod', 'abc123')))!.value;
    await put(ctx, keys.task(ctx, 'prod', 'abc123'), {
      ...task,
      tags: [{ key: 'aws:ecs:clusterName', value: 'prod' }],
    });
    const fifty = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: String(i) }));
    await ops.TagResource!(ctx, { resourceArn: ARNS.task, tags: fifty });
    const tags = await list(ctx, ARNS.task);
    assert.equal(tags?.length, 51);
    assert.deepEqual(tags?.[0], { key: 'aws:ecs:clusterName', value: 'prod' });
    await assert.rejects(
      ops.TagResource!(ctx, { resourceArn: ARNS.task, tags: [{ key: 'one-more', value: 'x' }] }),
      fails('InvalidParameterException', /at most 50 tags/),
    );
    // Overwriting an existing key does not grow the list.
    await ops.TagResource!(ctx, { resourceArn: ARNS.task, tags: [{ key: 'k0', value: 'new' }] });
  });

  it('refuses to add or remove aws: keys, and invalid or duplicate tags', async () => {
    const ctx = testContext();
    await seedAll(ctx);
    await assert.rejects(
      ops.TagResource!(ctx, { resourceArn: ARNS.cluster, tags: [{ key: 'AWS:x', value: '1' }] }),
      fails('InvalidParameterException', /reserved prefix 'aws:'/),
    );
    await assert.rejects(
      ops.UntagResource!(ctx, { resourceArn: ARNS.cluster, tagKeys: ['aws:ecs:clusterName'] }),
      fails('InvalidParameterException', /cannot be removed/),
    );
    await assert.rejects(
      ops.TagResource!(ctx, {
        resourceArn: ARNS.cluster,
        tags: [
          { key: 'd', value: '1' },
          { key: 'd', value: '2' },
        ],
      }),
      fails('InvalidParameterException', /Duplicate tag key/),
    );
    await assert.rejects(
      ops.TagResource!(ctx, { resourceArn: ARNS.cluster, tags: [{ key: 'k', value: 'x'.repeat(257) }] }),
      fails('InvalidParameterException', /too long/),
    );
    await assert.rejects(
      ops.UntagResource!(ctx, { resourceArn: ARNS.cluster, tagKeys: [''] }),
      fails('InvalidParameterException', /tagKeys\[0\] cannot be empty/),
    );
    assert.deepEqual(await list(ctx, ARNS.cluster), [{ key: 'origin', value: 'seed' }], 'nothing changed');
  });
});

describe('tag errors for ARNs and missing resources', () => {
  it('answers InvalidParameterException for malformed, foreign and untaggable ARNs', async () => {
    const ctx = testContext();
    await seedAll(ctx);
    for (const resourceArn of [
      'prod',
      'arn:aws:s3:::bucket/x',
      'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      `${A}:container/prod/abc123/c1`,
      `${A}:service/web`,
    ]) {
      await assert.rejects(
        ops.ListTagsForResource!(ctx, { resourceArn }),
        fails('InvalidParameterException'),
        resourceArn,
      );
      await assert.rejects(
        ops.TagResource!(ctx, { resourceArn, tags: [{ key: 'a', value: 'b' }] }),
        fails('InvalidParameterException'),
        resourceArn,
      );
    }
  });

  it('answers ClusterNotFoundException when the cluster does not exist', async () => {
    const ctx = testContext();
    await seedAll(ctx);
    for (const resourceArn of [`${A}:cluster/ghost`, `${A}:task/ghost/abc123`, `${A}:service/ghost/web`]) {
      await assert.rejects(ops.ListTagsForResource!(ctx, { resourceArn }), fails('ClusterNotFoundException'));
      await assert.rejects(
        ops.TagResource!(ctx, { resourceArn, tags: [{ key: 'a', value: 'b' }] }),
        fails('ClusterNotFoundException'),
      );
    }
  });

  it('answers the inactive-cluster InvalidParameterException for a deleted cluster and its resources', async () => {
    const ctx = testContext();
    await seedAll(ctx, 'INACTIVE');
    for (const resourceArn of [ARNS.cluster, ARNS.containerInstance, ARNS.taskSet]) {
      await assert.rejects(ops.ListTagsForResource!(ctx, { resourceArn }), (e: unknown) => {
        fails('InvalidParameterException')(e);
        assert.equal((e as Error).message, INACTIVE_CLUSTER_MESSAGE);
        return true;
      });
      await assert.rejects(
        ops.UntagResource!(ctx, { resourceArn, tagKeys: ['origin'] }),
        fails('InvalidParameterException'),
      );
    }
    // Resources outside clusters are unaffected.
    await ops.TagResource!(ctx, { resourceArn: ARNS.taskDefinition, tags: [{ key: 'a', value: 'b' }] });
  });

  it('answers ResourceNotFoundException to Tag/Untag and InvalidParameterException to List for a missing resource', async () => {
    const ctx = testContext();
    await seedAll(ctx);
    const missing = [
      `${A}:task-definition/web:4`,
      `${A}:capacity-provider/nope`,
      `${A}:container-instance/prod/ffffffffffffffffffffffffffffffff`,
      `${A}:task/prod/nope`,
      `${A}:service/prod/nope`,
      `${A}:task-set/prod/web/ecs-svc/000`,
      `${A}:task-set/prod/nope/ecs-svc/000`,
    ];
    for (const resourceArn of missing) {
      await assert.rejects(
        ops.TagResource!(ctx, { resourceArn, tags: [{ key: 'a', value: 'b' }] }),
        fails('ResourceNotFoundException', /wasn't found/),
        resourceArn,
      );
      await assert.rejects(
        ops.UntagResource!(ctx, { resourceArn, tagKeys: ['a'] }),
        fails('ResourceNotFoundException'),
        resourceArn,
      );
      await assert.rejects(
        ops.ListTagsForResource!(ctx, { resourceArn }),
        fails('InvalidParameterException', /wasn't found/),
        resourceArn,
      );
    }
    assert.equal(await ctx.store.get(keys.taskDefinition(ctx, 'web', 4)), undefined, 'no record is created');
  });
});
