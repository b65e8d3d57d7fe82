import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keys } from '../../store/keys.js';
import type { ContainerInstanceRecord, ServiceRecord, TaskRecord } from '../../domain/records.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { testContext } from './test-context.js';
import { clusterOperations } from './clusters.js';
import { capacityProviderOperations } from './capacity-providers.js';
import { accountSettingOperations } from './account-settings.js';

const ops = {
  ...clusterOperations,
  ...capacityProviderOperations,
  ...accountSettingOperations,
} as Required<OperationGroup>;
const ARN = (name: string): string => `arn:aws:ecs:us-east-1:123456789012:cluster/${name}`;
const ASG = 'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/asg';

async function put(ctx: RequestContext, key: string, value: unknown): Promise<void> {
  const r = await ctx.store.txn([], [{ kind: 'put', key, value }]);
  assert.equal(r.succeeded, true);
}

async function addInstance(ctx: RequestContext, cluster: string, id: string, status: string): Promise<void> {
  const rec: ContainerInstanceRecord = {
    containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/${cluster}/${id}`,
    cluster,
    status,
    tags: [],
  };
  await put(ctx, keys.containerInstance(ctx, cluster, id), rec);
}

async function addTask(
  ctx: RequestContext,
  cluster: string,
  id: string,
  task: Partial<TaskRecord>,
): Promise<void> {
  const rec: TaskRecord = {
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/${cluster}/${id}`,
    clusterArn: ARN(cluster),
    tags: [],
    berth: {},
    ...task,
  };
  await put(ctx, keys.task(ctx, cluster, id), rec);
}

async function addService(
  ctx: RequestContext,
  cluster: string,
  name: string,
  svc: Partial<ServiceRecord>,
): Promise<void> {
  const rec: ServiceRecord = {
    serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/${cluster}/${name}`,
    serviceName: name,
    clusterArn: ARN(cluster),
    tags: [],
    ...svc,
  };
  await put(ctx, keys.service(ctx, cluster, name), rec);
}

describe('CreateCluster', () => {
  it('creates `default` with ECS defaults when given nothing', async () => {
    const ctx = testContext();
    const { cluster } = await ops.CreateCluster(ctx, {});
    assert.deepEqual(cluster, {
      clusterArn: ARN('default'),
      clusterName: 'default',
      status: 'ACTIVE',
      registeredContainerInstancesCount: 0,
      runningTasksCount: 0,
      pendingTasksCount: 0,
      activeServicesCount: 0,
      statistics: [],
      tags: [],
      settings: [{ name: 'containerInsights', value: 'disabled' }],
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
      attachments: [],
    });
    const stored = await ctx.store.get(keys.cluster(ctx, 'default'));
    assert.ok(stored, 'the cluster is persisted');
  });

  it('refuses an invalid name', async () => {
    const ctx = testContext();
    await assert.rejects(ops.CreateCluster(ctx, { clusterName: 'bad name' }), {
      code: 'InvalidParameterException',
      message: /cluster name/,
    });
    await assert.rejects(ops.CreateCluster(ctx, { clusterName: 'x'.repeat(256) }), {
      code: 'InvalidParameterException',
    });
  });

  it('stores settings, configuration, tags, capacity providers and strategy', async () => {
    const ctx = testContext();
    const { cluster } = await ops.CreateCluster(ctx, {
      clusterName: 'web',
      settings: [{ name: 'containerInsights', value: 'enhanced' }],
      configuration: { executeCommandConfiguration: { logging: 'DEFAULT' } },
      tags: [{ key: 'team', value: 'blue' }],
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [
        { capacityProvider: 'FARGATE', weight: 1, base: 1 },
        { capacityProvider: 'FARGATE_SPOT', weight: 4 },
      ],
      serviceConnectDefaults: { namespace: 'internal' },
    });
    assert.deepEqual(cluster?.settings, [{ name: 'containerInsights', value: 'enhanced' }]);
    assert.deepEqual(cluster?.configuration, { executeCommandConfiguration: { logging: 'DEFAULT' } });
    assert.deepEqual(cluster?.tags, [{ key: 'team', value: 'blue' }]);
    assert.deepEqual(cluster?.capacityProviders, ['FARGATE', 'FARGATE_SPOT']);
    assert.deepEqual(cluster?.defaultCapacityProviderStrategy, [
      { capacityProvider: 'FARGATE', weight: 1, base: 1 },
      { capacityProvider: 'FARGATE_SPOT', weight: 4, base: 0 },
    ]);
    assert.equal(cluster?.attachmentsStatus, 'UPDATE_COMPLETE');
    assert.deepEqual(cluster?.serviceConnectDefaults, { namespace: 'internal' });
  });

  it('takes containerInsights from the account setting when not given', async () => {
    const ctx = testContext();
    await ops.PutAccountSettingDefault(ctx, { name: 'containerInsights', value: 'enabled' });
    const { cluster } = await ops.CreateCluster(ctx, { clusterName: 'a' });
    assert.deepEqual(cluster?.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    const { cluster: explicit } = await ops.CreateCluster(ctx, {
      clusterName: 'b',
      settings: [{ name: 'containerInsights', value: 'disabled' }],
    });
    assert.deepEqual(explicit?.settings, [{ name: 'containerInsights', value: 'disabled' }]);
  });

  it('returns an existing live cluster unchanged', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c', tags: [{ key: 'v', value: '1' }] });
    const before = await ctx.store.get(keys.cluster(ctx, 'c'));
    const { cluster } = await ops.CreateCluster(ctx, {
      clusterName: 'c',
      tags: [{ key: 'v', value: '2' }],
      settings: [{ name: 'containerInsights', value: 'enabled' }],
    });
    assert.deepEqual(cluster?.tags, [{ key: 'v', value: '1' }]);
    assert.deepEqual(cluster?.settings, [{ name: 'containerInsights', value: 'disabled' }]);
    const after = await ctx.store.get(keys.cluster(ctx, 'c'));
    assert.equal(after?.version, before?.version, 'nothing was written');
  });

  it('starts a deleted cluster afresh', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c', tags: [{ key: 'old', value: 'x' }] });
    await ops.DeleteCluster(ctx, { cluster: 'c' });
    const { cluster } = await ops.CreateCluster(ctx, {
      clusterName: 'c',
      tags: [{ key: 'new', value: 'y' }],
    });
    assert.equal(cluster?.status, 'ACTIVE');
    assert.deepEqual(cluster?.tags, [{ key: 'new', value: 'y' }]);
  });

  it('refuses bad tags, settings, providers and strategies', async () => {
    const ctx = testContext();
    await assert.rejects(ops.CreateCluster(ctx, { clusterName: 'c', tags: [{ key: 'aws:x', value: '1' }] }), {
      code: 'InvalidParameterException',
      message: /reserved prefix/,
    });
    await assert.rejects(
      ops.CreateCluster(ctx, { clusterName: 'c', settings: [{ name: 'containerInsights', value: 'maybe' }] }),
      { code: 'InvalidParameterException', message: /settings\[0\]\.value/ },
    );
    await assert.rejects(ops.CreateCluster(ctx, { clusterName: 'c', capacityProviders: ['nope'] }), {
      code: 'InvalidParameterException',
      message: /nope does not exist/,
    });
    await assert.rejects(
      ops.CreateCluster(ctx, {
        clusterName: 'c',
        capacityProviders: ['FARGATE'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      }),
      { code: 'InvalidParameterException', message: /not associated with the cluster \(FARGATE_SPOT\)/ },
    );
    assert.equal(await ctx.store.get(keys.cluster(ctx, 'c')), undefined, 'nothing was created');
  });

  it('gives an Auto Scaling group provider to one cluster only', async () => {
    const ctx = testContext();
    await ops.CreateCapacityProvider(ctx, {
      name: 'cp1',
      autoScalingGroupProvider: { autoScalingGroupArn: ASG },
    });
    await ops.CreateCluster(ctx, { clusterName: 'one', capacityProviders: ['cp1'] });
    await assert.rejects(ops.CreateCluster(ctx, { clusterName: 'two', capacityProviders: ['cp1'] }), {
      code: 'InvalidParameterException',
      message: /already associated with cluster one/,
    });
  });
});

describe('DescribeClusters', () => {
  it('describes `default` when no cluster is named, and reports missing ones', async () => {
    const ctx = testContext();
    assert.deepEqual(await ops.DescribeClusters(ctx, {}), {
      clusters: [],
      failures: [{ arn: ARN('default'), reason: 'MISSING' }],
    });
    await ops.CreateCluster(ctx, {});
    const out = await ops.DescribeClusters(ctx, {});
    assert.equal(out.clusters?.[0]?.clusterName, 'default');
    assert.deepEqual(out.failures, []);
  });

  it('takes names and ARNs; foreign ARNs and unknown names are MISSING', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'a' });
    const foreign = 'arn:aws:ecs:eu-west-1:123456789012:cluster/a';
    const out = await ops.DescribeClusters(ctx, { clusters: ['a', ARN('a'), 'b', foreign] });
    assert.deepEqual(
      out.clusters?.map((c) => c.clusterArn),
      [ARN('a')],
    );
    assert.deepEqual(out.failures, [
      { arn: ARN('b'), reason: 'MISSING' },
      { arn: foreign, reason: 'MISSING' },
    ]);
  });

  it('refuses more than 100 clusters', async () => {
    const ctx = testContext();
    const many = Array.from({ length: 101 }, (_, i) => `c${i}`);
    await assert.rejects(ops.DescribeClusters(ctx, { clusters: many }), {
      code: 'InvalidParameterException',
    });
  });

  it('includes settings, tags, configuration, attachments and statistics only when asked', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, {
      clusterName: 'c',
      tags: [{ key: 'k', value: 'v' }],
      configuration: { executeCommandConfiguration: { logging: 'NONE' } },
    });
    const plain = (await ops.DescribeClusters(ctx, { clusters: ['c'] })).clusters![0]!;
    for (const member of ['settings', 'tags', 'configuration', 'attachments', 'statistics']) {
      assert.equal(member in plain, false, `${member} without include`);
    }
    assert.deepEqual(plain.capacityProviders, []);

    const full = (
      await ops.DescribeClusters(ctx, {
        clusters: ['c'],
        include: ['SETTINGS', 'TAGS', 'CONFIGURATIONS', 'ATTACHMENTS', 'STATISTICS'],
      })
    ).clusters![0]!;
    assert.deepEqual(full.settings, [{ name: 'containerInsights', value: 'disabled' }]);
    assert.deepEqual(full.tags, [{ key: 'k', value: 'v' }]);
    assert.deepEqual(full.configuration, { executeCommandConfiguration: { logging: 'NONE' } });
    assert.deepEqual(full.attachments, []);
    assert.equal(full.statistics?.length, 16);
    assert.ok(full.statistics?.every((s) => s.value === '0'));

    const onlyTags = (await ops.DescribeClusters(ctx, { clusters: ['c'], include: ['TAGS'] })).clusters![0]!;
    assert.deepEqual(onlyTags.tags, [{ key: 'k', value: 'v' }]);
    assert.equal('settings' in onlyTags, false);
  });

  it('counts instances, tasks and services from the store', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c', capacityProviders: ['FARGATE'] });
    await addInstance(ctx, 'c', 'i1', 'ACTIVE');
    await addInstance(ctx, 'c', 'i2', 'DRAINING');
    await addInstance(ctx, 'c', 'i3', 'INACTIVE');
    await addTask(ctx, 'c', 't1', { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', launchType: 'EC2' });
    await addTask(ctx, 'c', 't2', {
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      capacityProviderName: 'FARGATE',
    });
    await addTask(ctx, 'c', 't3', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', launchType: 'EC2' });
    await addService(ctx, 'c', 's1', { status: 'ACTIVE', launchType: 'EC2' });
    await addService(ctx, 'c', 's2', { status: 'DRAINING', launchType: 'FARGATE' });
    // Another cluster's records do not count.
    await addTask(ctx, 'other', 't9', { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });

    const c = (await ops.DescribeClusters(ctx, { clusters: ['c'], include: ['STATISTICS'] })).clusters![0]!;
    assert.equal(c.registeredContainerInstancesCount, 2);
    assert.equal(c.runningTasksCount, 1);
    assert.equal(c.pendingTasksCount, 1);
    assert.equal(c.activeServicesCount, 1);
    const nonZero = Object.fromEntries(
      (c.statistics ?? []).filter((s) => s.value !== '0').map((s) => [s.name, s.value]),
    );
    assert.deepEqual(nonZero, {
      runningEC2TasksCount: '1',
      pendingFargateTasksCount: '1',
      activeEC2ServiceCount: '1',
      drainingFargateServiceCount: '1',
    });
  });

  it('shows deleted clusters as INACTIVE', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'gone' });
    await ops.DeleteCluster(ctx, { cluster: 'gone' });
    const out = await ops.DescribeClusters(ctx, { clusters: ['gone'] });
    assert.equal(out.clusters?.[0]?.status, 'INACTIVE');
    assert.deepEqual(out.failures, []);
  });
});

describe('ListClusters', () => {
  it('pages through live clusters in name order', async () => {
    const ctx = testContext();
    for (const n of ['e', 'a', 'd', 'b', 'c']) await ops.CreateCluster(ctx, { clusterName: n });
    const p1 = await ops.ListClusters(ctx, { maxResults: 2 });
    assert.deepEqual(p1.clusterArns, [ARN('a'), ARN('b')]);
    assert.ok(p1.nextToken);
    const p2 = await ops.ListClusters(ctx, { maxResults: 2, nextToken: p1.nextToken });
    assert.deepEqual(p2.clusterArns, [ARN('c'), ARN('d')]);
    const p3 = await ops.ListClusters(ctx, { maxResults: 2, nextToken: p2.nextToken });
    assert.deepEqual(p3.clusterArns, [ARN('e')]);
    assert.equal(p3.nextToken, undefined);
    assert.equal((await ops.ListClusters(ctx, {})).clusterArns?.length, 5);
  });

  it('leaves deleted clusters out, also across pages', async () => {
    const ctx = testContext();
    for (const n of ['a', 'b', 'c', 'd']) await ops.CreateCluster(ctx, { clusterName: n });
    const p1 = await ops.ListClusters(ctx, { maxResults: 2 });
    await ops.DeleteCluster(ctx, { cluster: 'b' });
    await ops.DeleteCluster(ctx, { cluster: 'c' });
    const p2 = await ops.ListClusters(ctx, { maxResults: 2, nextToken: p1.nextToken });
    assert.deepEqual(p2.clusterArns, [ARN('d')]);
    assert.deepEqual((await ops.ListClusters(ctx, {})).clusterArns, [ARN('a'), ARN('d')]);
  });

  it('refuses a bad maxResults or nextToken', async () => {
    const ctx = testContext();
    await assert.rejects(ops.ListClusters(ctx, { maxResults: 0 }), { code: 'InvalidParameterException' });
    await assert.rejects(ops.ListClusters(ctx, { maxResults: 101 }), { code: 'InvalidParameterException' });
    await assert.rejects(ops.ListClusters(ctx, { nextToken: 'garbage!' }), {
      code: 'InvalidParameterException',
    });
  });
});

describe('UpdateCluster and UpdateClusterSettings', () => {
  it('changes settings, configuration and the Service Connect default', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    const { cluster } = await ops.UpdateCluster(ctx, {
      cluster: ARN('c'),
      settings: [{ name: 'containerInsights', value: 'enhanced' }],
      configuration: {
        executeCommandConfiguration: { logging: 'OVERRIDE', logConfiguration: { s3BucketName: 'b' } },
      },
      serviceConnectDefaults: { namespace: 'ns1' },
    });
    assert.deepEqual(cluster?.settings, [{ name: 'containerInsights', value: 'enhanced' }]);
    assert.equal(cluster?.configuration?.executeCommandConfiguration?.logging, 'OVERRIDE');
    assert.deepEqual(cluster?.serviceConnectDefaults, { namespace: 'ns1' });

    const cleared = await ops.UpdateCluster(ctx, { cluster: 'c', serviceConnectDefaults: { namespace: '' } });
    assert.equal(cleared.cluster?.serviceConnectDefaults, undefined);
    assert.equal(cleared.cluster?.configuration?.executeCommandConfiguration?.logging, 'OVERRIDE', 'kept');

    const s = await ops.UpdateClusterSettings(ctx, {
      cluster: 'c',
      settings: [{ name: 'containerInsights', value: 'enabled' }],
    });
    assert.deepEqual(s.cluster?.settings, [{ name: 'containerInsights', value: 'enabled' }]);
    const described = (await ops.DescribeClusters(ctx, { clusters: ['c'], include: ['SETTINGS'] }))
      .clusters![0]!;
    assert.deepEqual(described.settings, [{ name: 'containerInsights', value: 'enabled' }]);
  });

  it('refuses unknown and deleted clusters, and bad input', async () => {
    const ctx = testContext();
    await assert.rejects(
      ops.UpdateClusterSettings(ctx, {
        cluster: 'nope',
        settings: [{ name: 'containerInsights', value: 'enabled' }],
      }),
      { code: 'ClusterNotFoundException' },
    );
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    await assert.rejects(
      ops.UpdateCluster(ctx, {
        cluster: 'c',
        configuration: { executeCommandConfiguration: { logging: 'OVERRIDE' } },
      }),
      { code: 'InvalidParameterException', message: /logConfiguration is required/ },
    );
    await ops.DeleteCluster(ctx, { cluster: 'c' });
    await assert.rejects(ops.UpdateCluster(ctx, { cluster: 'c', settings: [] }), {
      code: 'ClusterNotFoundException',
    });
  });
});

describe('DeleteCluster', () => {
  it('marks the cluster INACTIVE and keeps the record', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c', tags: [{ key: 'a', value: 'b' }] });
    const { cluster } = await ops.DeleteCluster(ctx, { cluster: 'c' });
    assert.equal(cluster?.status, 'INACTIVE');
    assert.deepEqual(cluster?.tags, [{ key: 'a', value: 'b' }]);
    const stored = await ctx.store.get<{ status: string }>(keys.cluster(ctx, 'c'));
    assert.equal(stored?.value.status, 'INACTIVE');
    await assert.rejects(ops.DeleteCluster(ctx, { cluster: 'c' }), { code: 'ClusterNotFoundException' });
    await assert.rejects(ops.DeleteCluster(ctx, { cluster: 'never' }), { code: 'ClusterNotFoundException' });
  });

  it('refuses while instances are registered', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    await addInstance(ctx, 'c', 'i1', 'DRAINING');
    await assert.rejects(ops.DeleteCluster(ctx, { cluster: 'c' }), {
      code: 'ClusterContainsContainerInstancesException',
      message: 'The Cluster cannot be deleted while Container Instances are active or draining.',
    });
    await addInstance(ctx, 'c', 'i1', 'INACTIVE');
    await ops.DeleteCluster(ctx, { cluster: 'c' });
  });

  it('refuses while services are live', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    await addService(ctx, 'c', 's', { status: 'ACTIVE' });
    await assert.rejects(ops.DeleteCluster(ctx, { cluster: 'c' }), {
      code: 'ClusterContainsServicesException',
    });
    await addService(ctx, 'c', 's', { status: 'INACTIVE' });
    await ops.DeleteCluster(ctx, { cluster: 'c' });
  });

  it('refuses while tasks are active', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    await addTask(ctx, 'c', 't', { lastStatus: 'STOPPING', desiredStatus: 'STOPPED' });
    await assert.rejects(ops.DeleteCluster(ctx, { cluster: 'c' }), { code: 'ClusterContainsTasksException' });
    await addTask(ctx, 'c', 't', { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });
    await ops.DeleteCluster(ctx, { cluster: 'c' });
  });
});

describe('PutClusterCapacityProviders', () => {
  it('replaces the providers and the default strategy', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c', capacityProviders: ['FARGATE'] });
    const { cluster } = await ops.PutClusterCapacityProviders(ctx, {
      cluster: 'c',
      capacityProviders: ['FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 2 }],
    });
    assert.deepEqual(cluster?.capacityProviders, ['FARGATE_SPOT']);
    assert.deepEqual(cluster?.defaultCapacityProviderStrategy, [
      { capacityProvider: 'FARGATE_SPOT', weight: 2, base: 0 },
    ]);
    assert.equal(cluster?.attachmentsStatus, 'UPDATE_COMPLETE');
    const described = (await ops.DescribeClusters(ctx, { clusters: ['c'] })).clusters![0]!;
    assert.deepEqual(described.capacityProviders, ['FARGATE_SPOT']);

    const emptied = await ops.PutClusterCapacityProviders(ctx, {
      cluster: 'c',
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    });
    assert.deepEqual(emptied.cluster?.capacityProviders, []);
  });

  it('refuses a strategy outside the list and an unknown cluster', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    await assert.rejects(
      ops.PutClusterCapacityProviders(ctx, {
        cluster: 'c',
        capacityProviders: ['FARGATE'],
        defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }],
      }),
      { code: 'InvalidParameterException', message: /not associated/ },
    );
    await assert.rejects(
      ops.PutClusterCapacityProviders(ctx, {
        cluster: 'nope',
        capacityProviders: [],
        defaultCapacityProviderStrategy: [],
      }),
      { code: 'ClusterNotFoundException' },
    );
  });

  it('refuses to remove a provider a service or task still uses', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c', capacityProviders: ['FARGATE', 'FARGATE_SPOT'] });
    await addService(ctx, 'c', 's', {
      status: 'ACTIVE',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    });
    await assert.rejects(
      ops.PutClusterCapacityProviders(ctx, {
        cluster: 'c',
        capacityProviders: ['FARGATE'],
        defaultCapacityProviderStrategy: [],
      }),
      {
        code: 'ResourceInUseException',
        message: /^The specified capacity provider is in use and cannot be removed.*FARGATE_SPOT/,
      },
    );
    // Removing the one nobody uses is fine.
    await ops.PutClusterCapacityProviders(ctx, {
      cluster: 'c',
      capacityProviders: ['FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [],
    });
    await addTask(ctx, 'c', 't', {
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      capacityProviderName: 'FARGATE_SPOT',
    });
    await addService(ctx, 'c', 's', {
      status: 'INACTIVE',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT' }],
    });
    await assert.rejects(
      ops.PutClusterCapacityProviders(ctx, {
        cluster: 'c',
        capacityProviders: [],
        defaultCapacityProviderStrategy: [],
      }),
      { code: 'ResourceInUseException' },
    );
  });

  it('checks stored providers', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'a' });
    await ops.CreateCluster(ctx, { clusterName: 'b' });
    await ops.CreateCapacityProvider(ctx, {
      name: 'cp1',
      autoScalingGroupProvider: { autoScalingGroupArn: ASG },
    });
    const { cluster } = await ops.PutClusterCapacityProviders(ctx, {
      cluster: 'a',
      capacityProviders: ['cp1'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'cp1', weight: 1 }],
    });
    assert.deepEqual(cluster?.capacityProviders, ['cp1']);
    await assert.rejects(
      ops.PutClusterCapacityProviders(ctx, {
        cluster: 'b',
        capacityProviders: ['cp1'],
        defaultCapacityProviderStrategy: [],
      }),
      { code: 'InvalidParameterException', message: /already associated with cluster a/ },
    );
    // Once a lets it go (or is deleted), b may have it.
    await ops.DeleteCluster(ctx, { cluster: 'a' });
    await ops.PutClusterCapacityProviders(ctx, {
      cluster: 'b',
      capacityProviders: ['cp1'],
      defaultCapacityProviderStrategy: [],
    });
  });
});
