import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keys } from '../../store/keys.js';
import type { CapacityProviderRecord, ServiceRecord } from '../../domain/records.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { testContext } from './test-context.js';
import { clusterOperations } from './clusters.js';
import { capacityProviderOperations } from './capacity-providers.js';

const ops = { ...clusterOperations, ...capacityProviderOperations } as Required<OperationGroup>;
const CP_ARN = (name: string): string => `arn:aws:ecs:us-east-1:123456789012:capacity-provider/${name}`;
const asg = (n: number): string =>
  `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:${n}:autoScalingGroupName/asg-${n}`;

const managedInstances = {
  infrastructureRoleArn: 'arn:aws:iam::123456789012:role/infra',
  instanceLaunchTemplate: {
    ec2InstanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/ecs',
    networkConfiguration: { subnets: ['subnet-1'] },
  },
};

async function createAsg(ctx: RequestContext, name: string, n: number): Promise<void> {
  await ops.CreateCapacityProvider(ctx, { name, autoScalingGroupProvider: { autoScalingGroupArn: asg(n) } });
}

describe('CreateCapacityProvider', () => {
  it('creates an Auto Scaling group provider with ECS defaults and tags', async () => {
    const ctx = testContext();
    const { capacityProvider } = await ops.CreateCapacityProvider(ctx, {
      name: 'cp1',
      autoScalingGroupProvider: { autoScalingGroupArn: asg(1) },
      tags: [{ key: 'team', value: 'a' }],
    });
    assert.deepEqual(capacityProvider, {
      capacityProviderArn: CP_ARN('cp1'),
      name: 'cp1',
      status: 'ACTIVE',
      autoScalingGroupProvider: {
        autoScalingGroupArn: asg(1),
        managedScaling: {
          status: 'DISABLED',
          targetCapacity: 100,
          minimumScalingStepSize: 1,
          maximumScalingStepSize: 10000,
          instanceWarmupPeriod: 300,
        },
        managedTerminationProtection: 'DISABLED',
        managedDraining: 'ENABLED',
      },
      type: 'EC2_AUTOSCALING',
      tags: [{ key: 'team', value: 'a' }],
    });
    assert.ok(await ctx.store.get(keys.capacityProvider(ctx, 'cp1')), 'persisted');
  });

  it('refuses reserved, malformed and taken names', async () => {
    const ctx = testContext();
    for (const name of ['FARGATE', 'fargate-x', 'aws1', 'ECS_cp']) {
      await assert.rejects(
        ops.CreateCapacityProvider(ctx, { name, autoScalingGroupProvider: { autoScalingGroupArn: asg(1) } }),
        { code: 'ClientException', message: /prefixed/ },
        name,
      );
    }
    await assert.rejects(
      ops.CreateCapacityProvider(ctx, {
        name: 'has space',
        autoScalingGroupProvider: { autoScalingGroupArn: asg(1) },
      }),
      { code: 'InvalidParameterException' },
    );
    await createAsg(ctx, 'cp1', 1);
    await assert.rejects(
      ops.CreateCapacityProvider(ctx, {
        name: 'cp1',
        autoScalingGroupProvider: { autoScalingGroupArn: asg(2) },
      }),
      { code: 'ClientException', message: /already exists/ },
    );
  });

  it('refuses an Auto Scaling group another provider uses', async () => {
    const ctx = testContext();
    await createAsg(ctx, 'cp1', 1);
    await assert.rejects(
      ops.CreateCapacityProvider(ctx, {
        name: 'cp2',
        autoScalingGroupProvider: { autoScalingGroupArn: asg(1) },
      }),
      { code: 'ClientException', message: /Auto Scaling group ARN is already being used .*cp1/ },
    );
  });

  it('needs exactly one kind of provider, and valid tags and scaling', async () => {
    const ctx = testContext();
    await assert.rejects(ops.CreateCapacityProvider(ctx, { name: 'cp' }), {
      code: 'InvalidParameterException',
    });
    await assert.rejects(
      ops.CreateCapacityProvider(ctx, {
        name: 'cp',
        autoScalingGroupProvider: { autoScalingGroupArn: asg(1) },
        managedInstancesProvider: managedInstances,
      }),
      { code: 'InvalidParameterException', message: /exactly one/ },
    );
    await assert.rejects(
      ops.CreateCapacityProvider(ctx, {
        name: 'cp',
        autoScalingGroupProvider: { autoScalingGroupArn: asg(1) },
        tags: [{ key: 'aws:owner', value: 'x' }],
      }),
      { code: 'InvalidParameterException', message: /reserved/ },
    );
    await assert.rejects(
      ops.CreateCapacityProvider(ctx, {
        name: 'cp',
        autoScalingGroupProvider: { autoScalingGroupArn: asg(1), managedTerminationProtection: 'ENABLED' },
      }),
      { code: 'ClientException', message: /managed termination protection/ },
    );
  });

  it('creates a Managed Instances provider inside an existing cluster', async () => {
    const ctx = testContext();
    await assert.rejects(
      ops.CreateCapacityProvider(ctx, { name: 'mi', managedInstancesProvider: managedInstances }),
      {
        code: 'InvalidParameterException',
        message: /cluster is required/,
      },
    );
    await assert.rejects(
      ops.CreateCapacityProvider(ctx, {
        name: 'mi',
        cluster: 'nope',
        managedInstancesProvider: managedInstances,
      }),
      { code: 'ClusterNotFoundException' },
    );
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    const { capacityProvider } = await ops.CreateCapacityProvider(ctx, {
      name: 'mi',
      cluster: 'c',
      managedInstancesProvider: managedInstances,
    });
    assert.equal(capacityProvider?.type, 'MANAGED_INSTANCES');
    assert.equal(capacityProvider?.cluster, 'c');
    assert.equal(
      capacityProvider?.managedInstancesProvider?.infrastructureRoleArn,
      managedInstances.infrastructureRoleArn,
    );
    // The cluster cannot go while its scoped provider is there.
    await assert.rejects(ops.DeleteCluster(ctx, { cluster: 'c' }), {
      code: 'ClientException',
      message: /Cluster Scoped Capacity Providers/,
    });
  });
});

describe('DescribeCapacityProviders', () => {
  it('lists FARGATE, FARGATE_SPOT and stored ACTIVE providers when none is named', async () => {
    const ctx = testContext();
    await createAsg(ctx, 'b-cp', 1);
    await createAsg(ctx, 'a-cp', 2);
    const out = await ops.DescribeCapacityProviders(ctx, {});
    assert.deepEqual(
      out.capacityProviders?.map((p) => p.name),
      ['FARGATE', 'FARGATE_SPOT', 'a-cp', 'b-cp'],
    );
    assert.deepEqual(out.capacityProviders?.[0], {
      capacityProviderArn: CP_ARN('FARGATE'),
      name: 'FARGATE',
      status: 'ACTIVE',
      type: 'FARGATE',
    });
    assert.deepEqual(out.failures, []);
    assert.equal(out.nextToken, undefined);
  });

  it('describes by name or ARN and reports unknown ones as MISSING', async () => {
    const ctx = testContext();
    await createAsg(ctx, 'cp1', 1);
    const out = await ops.DescribeCapacityProviders(ctx, {
      capacityProviders: [
        CP_ARN('cp1'),
        'FARGATE_SPOT',
        'ghost',
        'arn:aws:ecs:us-east-1:123456789012:cluster/x',
      ],
    });
    assert.deepEqual(
      out.capacityProviders?.map((p) => p.name),
      ['cp1', 'FARGATE_SPOT'],
    );
    assert.deepEqual(out.failures, [
      { arn: CP_ARN('ghost'), reason: 'MISSING' },
      { arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/x', reason: 'MISSING' },
    ]);
  });

  it('includes tags only with include TAGS', async () => {
    const ctx = testContext();
    await ops.CreateCapacityProvider(ctx, {
      name: 'cp1',
      autoScalingGroupProvider: { autoScalingGroupArn: asg(1) },
      tags: [{ key: 'k', value: 'v' }],
    });
    const plain = await ops.DescribeCapacityProviders(ctx, { capacityProviders: ['cp1'] });
    assert.equal('tags' in plain.capacityProviders![0]!, false);
    const tagged = await ops.DescribeCapacityProviders(ctx, {
      capacityProviders: ['cp1'],
      include: ['TAGS'],
    });
    assert.deepEqual(tagged.capacityProviders![0]!.tags, [{ key: 'k', value: 'v' }]);
  });

  it('pages with maxResults (1–10, 10 by default)', async () => {
    const ctx = testContext();
    for (let i = 0; i < 10; i++) await createAsg(ctx, `cp${i}`, i);
    const first = await ops.DescribeCapacityProviders(ctx, {});
    assert.equal(first.capacityProviders?.length, 10);
    assert.ok(first.nextToken);
    const rest = await ops.DescribeCapacityProviders(ctx, { nextToken: first.nextToken });
    assert.deepEqual(
      rest.capacityProviders?.map((p) => p.name),
      ['cp8', 'cp9'],
    );
    assert.equal(rest.nextToken, undefined);

    const p1 = await ops.DescribeCapacityProviders(ctx, { maxResults: 3 });
    const p2 = await ops.DescribeCapacityProviders(ctx, { maxResults: 3, nextToken: p1.nextToken });
    assert.deepEqual(
      p2.capacityProviders?.map((p) => p.name),
      ['cp1', 'cp2', 'cp3'],
    );
    await assert.rejects(ops.DescribeCapacityProviders(ctx, { maxResults: 11 }), {
      code: 'InvalidParameterException',
    });
  });

  it('narrows to a cluster’s providers, Managed Instances ones included', async () => {
    const ctx = testContext();
    await createAsg(ctx, 'cp1', 1);
    await createAsg(ctx, 'cp2', 2);
    await ops.CreateCluster(ctx, { clusterName: 'c', capacityProviders: ['FARGATE', 'cp2'] });
    await ops.CreateCapacityProvider(ctx, {
      name: 'mi',
      cluster: 'c',
      managedInstancesProvider: managedInstances,
    });
    const out = await ops.DescribeCapacityProviders(ctx, { cluster: 'c' });
    assert.deepEqual(
      out.capacityProviders?.map((p) => p.name),
      ['FARGATE', 'cp2', 'mi'],
    );
    const named = await ops.DescribeCapacityProviders(ctx, { cluster: 'c', capacityProviders: ['cp1'] });
    assert.deepEqual(named.failures, [{ arn: CP_ARN('cp1'), reason: 'MISSING' }]);
    await assert.rejects(ops.DescribeCapacityProviders(ctx, { cluster: 'nope' }), {
      code: 'ClusterNotFoundException',
    });
  });
});

describe('UpdateCapacityProvider', () => {
  it('merges Auto Scaling group settings', async () => {
    const ctx = testContext();
    await createAsg(ctx, 'cp1', 1);
    const { capacityProvider } = await ops.UpdateCapacityProvider(ctx, {
      name: 'cp1',
      autoScalingGroupProvider: {
        managedScaling: { status: 'ENABLED', targetCapacity: 75 },
        managedTerminationProtection: 'ENABLED',
      },
    });
    assert.equal(capacityProvider?.updateStatus, 'UPDATE_COMPLETE');
    assert.deepEqual(capacityProvider?.autoScalingGroupProvider, {
      autoScalingGroupArn: asg(1),
      managedScaling: {
        status: 'ENABLED',
        targetCapacity: 75,
        minimumScalingStepSize: 1,
        maximumScalingStepSize: 10000,
        instanceWarmupPeriod: 300,
      },
      managedTerminationProtection: 'ENABLED',
      managedDraining: 'ENABLED',
    });
    const described = await ops.DescribeCapacityProviders(ctx, { capacityProviders: ['cp1'] });
    assert.equal(
      described.capacityProviders?.[0]?.autoScalingGroupProvider?.managedScaling?.targetCapacity,
      75,
    );
  });

  it('refuses Fargate, unknown providers and the wrong kind of update', async () => {
    const ctx = testContext();
    await assert.rejects(
      ops.UpdateCapacityProvider(ctx, {
        name: 'FARGATE',
        autoScalingGroupProvider: { managedDraining: 'DISABLED' },
      }),
      { code: 'ClientException', message: /reserved/ },
    );
    await assert.rejects(
      ops.UpdateCapacityProvider(ctx, {
        name: 'ghost',
        autoScalingGroupProvider: { managedDraining: 'DISABLED' },
      }),
      { code: 'ClientException', message: /does not exist/ },
    );
    await createAsg(ctx, 'cp1', 1);
    await assert.rejects(
      ops.UpdateCapacityProvider(ctx, {
        name: 'cp1',
        managedInstancesProvider: { infrastructureRoleArn: 'r', instanceLaunchTemplate: {} },
      }),
      { code: 'InvalidParameterException', message: /autoScalingGroupProvider/ },
    );
  });

  it('updates a Managed Instances provider only through its cluster', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    await ops.CreateCapacityProvider(ctx, {
      name: 'mi',
      cluster: 'c',
      managedInstancesProvider: managedInstances,
    });
    const update = {
      infrastructureRoleArn: 'arn:aws:iam::123456789012:role/infra2',
      instanceLaunchTemplate: { networkConfiguration: { subnets: ['subnet-2'] } },
    };
    await assert.rejects(ops.UpdateCapacityProvider(ctx, { name: 'mi', managedInstancesProvider: update }), {
      code: 'ClientException',
      message: /belongs to cluster c/,
    });
    const { capacityProvider } = await ops.UpdateCapacityProvider(ctx, {
      name: 'mi',
      cluster: 'c',
      managedInstancesProvider: update,
    });
    assert.equal(
      capacityProvider?.managedInstancesProvider?.infrastructureRoleArn,
      update.infrastructureRoleArn,
    );
    assert.deepEqual(
      capacityProvider?.managedInstancesProvider?.instanceLaunchTemplate?.networkConfiguration,
      {
        subnets: ['subnet-2'],
      },
    );
  });
});

describe('DeleteCapacityProvider', () => {
  it('marks a free provider INACTIVE, DELETE_COMPLETE; its name can be used again', async () => {
    const ctx = testContext();
    await createAsg(ctx, 'cp1', 1);
    const { capacityProvider } = await ops.DeleteCapacityProvider(ctx, { capacityProvider: CP_ARN('cp1') });
    assert.equal(capacityProvider?.status, 'INACTIVE');
    assert.equal(capacityProvider?.updateStatus, 'DELETE_COMPLETE');
    const stored = await ctx.store.get<CapacityProviderRecord>(keys.capacityProvider(ctx, 'cp1'));
    assert.equal(stored?.value.status, 'INACTIVE');
    // Still describable by name, but no longer listed.
    const byName = await ops.DescribeCapacityProviders(ctx, { capacityProviders: ['cp1'] });
    assert.equal(byName.capacityProviders?.[0]?.status, 'INACTIVE');
    const all = await ops.DescribeCapacityProviders(ctx, {});
    assert.deepEqual(
      all.capacityProviders?.map((p) => p.name),
      ['FARGATE', 'FARGATE_SPOT'],
    );
    await assert.rejects(ops.DeleteCapacityProvider(ctx, { capacityProvider: 'cp1' }), {
      code: 'ClientException',
    });
    // The Auto Scaling group is free again too.
    await createAsg(ctx, 'cp1', 1);
  });

  it('answers DELETE_FAILED while a live cluster lists the provider', async () => {
    const ctx = testContext();
    await createAsg(ctx, 'cp1', 1);
    await ops.CreateCluster(ctx, { clusterName: 'c', capacityProviders: ['cp1'] });
    const { capacityProvider } = await ops.DeleteCapacityProvider(ctx, { capacityProvider: 'cp1' });
    assert.equal(capacityProvider?.status, 'ACTIVE');
    assert.equal(capacityProvider?.updateStatus, 'DELETE_FAILED');
    assert.equal(
      capacityProvider?.updateStatusReason,
      'The capacity provider cannot be deleted because it is associated with cluster: c. Remove the capacity provider from the cluster and try again.',
    );
    const stored = await ctx.store.get<CapacityProviderRecord>(keys.capacityProvider(ctx, 'cp1'));
    assert.equal(stored?.value.updateStatus, 'DELETE_FAILED');

    await ops.PutClusterCapacityProviders(ctx, {
      cluster: 'c',
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    });
    const retried = await ops.DeleteCapacityProvider(ctx, { capacityProvider: 'cp1' });
    assert.equal(retried.capacityProvider?.status, 'INACTIVE');
    assert.equal(retried.capacityProvider?.updateStatusReason, undefined);
  });

  it('refuses FARGATE and FARGATE_SPOT, and unknown providers', async () => {
    const ctx = testContext();
    for (const name of ['FARGATE', 'FARGATE_SPOT']) {
      await assert.rejects(ops.DeleteCapacityProvider(ctx, { capacityProvider: name }), {
        code: 'ClientException',
        message: /reserved and can't be deleted/,
      });
    }
    await assert.rejects(ops.DeleteCapacityProvider(ctx, { capacityProvider: 'ghost' }), {
      code: 'ClientException',
      message: /does not exist/,
    });
  });

  it('deletes a Managed Instances provider from its cluster unless a service uses it', async () => {
    const ctx = testContext();
    await ops.CreateCluster(ctx, { clusterName: 'c' });
    await ops.CreateCapacityProvider(ctx, {
      name: 'mi',
      cluster: 'c',
      managedInstancesProvider: managedInstances,
    });
    await assert.rejects(ops.DeleteCapacityProvider(ctx, { capacityProvider: 'mi' }), {
      code: 'ClientException',
    });
    const svc: ServiceRecord = {
      serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/c/s',
      serviceName: 's',
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c',
      status: 'ACTIVE',
      capacityProviderStrategy: [{ capacityProvider: 'mi', weight: 1 }],
      tags: [],
    };
    await ctx.store.txn([], [{ kind: 'put', key: keys.service(ctx, 'c', 's'), value: svc }]);
    const failed = await ops.DeleteCapacityProvider(ctx, { capacityProvider: 'mi', cluster: 'c' });
    assert.equal(failed.capacityProvider?.updateStatus, 'DELETE_FAILED');
    await ctx.store.txn(
      [],
      [{ kind: 'put', key: keys.service(ctx, 'c', 's'), value: { ...svc, status: 'INACTIVE' } }],
    );
    const done = await ops.DeleteCapacityProvider(ctx, { capacityProvider: 'mi', cluster: 'c' });
    assert.equal(done.capacityProvider?.status, 'INACTIVE');
    await ops.DeleteCluster(ctx, { cluster: 'c' });
  });
});
