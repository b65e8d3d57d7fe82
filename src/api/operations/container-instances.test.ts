import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../../generated/ecs/types.js';
import { containerInstanceArn } from '../../domain/arn.js';
import type { ClusterRecord, ContainerInstanceRecord, TaskRecord } from '../../domain/records.js';
import { keys } from '../../store/keys.js';
import type { RequestContext } from '../context.js';
import { testContext } from './test-context.js';
import { MAX_INSTANCES_PER_CLUSTER, containerInstanceOperations as ops } from './container-instances.js';

const ACCOUNT_ARN = 'arn:aws:ecs:us-east-1:123456789012';
// testContext's ids: newId() #n is 00000000-0000-4000-8000-<n padded to 12>.
const idOf = (n: number): string => `00000000000040008000${String(n).padStart(12, '0')}`;

const total: Resource[] = [
  { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: 3800 },
];
const doc = JSON.stringify({
  instanceId: 'i-0aaaabbbbccccdddd',
  availabilityZone: 'us-east-1a',
  instanceType: 't3.medium',
  region: 'us-east-1',
});

async function seedCluster(ctx: RequestContext, name: string, status: ClusterRecord['status'] = 'ACTIVE') {
  const value: ClusterRecord = {
    clusterName: name,
    clusterArn: `${ACCOUNT_ARN}:cluster/${name}`,
    status,
    tags: [],
  };
  await ctx.store.txn([], [{ kind: 'put', key: keys.cluster(ctx, name), value }]);
}

async function register(ctx: RequestContext, cluster = 'prod', extra: object = {}) {
  const out = await ops.RegisterContainerInstance!(ctx, { cluster, totalResources: total, ...extra });
  return out.containerInstance!;
}

async function stored(ctx: RequestContext, cluster: string, id: string) {
  return (await ctx.store.get<ContainerInstanceRecord>(keys.containerInstance(ctx, cluster, id)))?.value;
}

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
  await seedCluster(ctx, 'prod');
  return ctx;
}

describe('RegisterContainerInstance', () => {
  it('registers an ACTIVE instance with a 32-hex id, resources, attributes and tags', async () => {
    const ctx = await setup();
    const ci = await register(ctx, 'prod', {
      instanceIdentityDocument: doc,
      versionInfo: { agentVersion: '1.0.0', agentHash: 'abc', dockerVersion: '27.1' },
      attributes: [{ name: 'stack', value: 'blue' }],
      tags: [{ key: 'team', value: 'a' }],
    });
    const id = idOf(1);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(ci.containerInstanceArn, `${ACCOUNT_ARN}:container-instance/prod/${id}`);
    assert.equal(ci.ec2InstanceId, 'i-0aaaabbbbccccdddd');
    assert.equal(ci.status, 'ACTIVE');
    assert.equal(ci.agentConnected, false);
    assert.equal(ci.version, 1);
    assert.equal(ci.runningTasksCount, 0);
    assert.equal(ci.pendingTasksCount, 0);
    assert.equal(ci.registeredAt, ctx.clock.now() / 1000);
    assert.deepEqual(ci.versionInfo, { agentVersion: '1.0.0', agentHash: 'abc', dockerVersion: '27.1' });
    assert.deepEqual(ci.tags, [{ key: 'team', value: 'a' }]);
    assert.deepEqual(
      ci.registeredResources?.map((r) => r.name),
      ['CPU', 'MEMORY', 'PORTS', 'PORTS_UDP'],
    );
    assert.deepEqual(ci.remainingResources, ci.registeredResources);
    const attrs = Object.fromEntries((ci.attributes ?? []).map((a) => [a.name, a.value]));
    assert.equal(attrs['ecs.availability-zone'], 'us-east-1a');
    assert.equal(attrs['ecs.instance-type'], 't3.medium');
    assert.equal(attrs['ecs.os-type'], 'linux');
    assert.equal(attrs['stack'], 'blue');
    assert.equal('cluster' in ci, false, 'the internal cluster member stays off the wire');

    const rec = await stored(ctx, 'prod', id);
    assert.equal(rec?.cluster, 'prod');
    assert.equal(rec?.containerInstanceArn, ci.containerInstanceArn);
  });

  it('uses the default cluster and generates an EC2-like id without a document', async () => {
    const ctx = testContext();
    await seedCluster(ctx, 'default');
    const ci = await ops.RegisterContainerInstance!(ctx, { totalResources: total });
    assert.match(ci.containerInstance!.containerInstanceArn!, /:container-instance\/default\//);
    assert.match(ci.containerInstance!.ec2InstanceId!, /^i-[0-9a-f]{17}$/);
  });

  it('accepts the cluster as an ARN', async () => {
    const ctx = await setup();
    const ci = await register(ctx, `${ACCOUNT_ARN}:cluster/prod`);
    assert.match(ci.containerInstanceArn!, /container-instance\/prod\//);
  });

  it('needs an ACTIVE cluster', async () => {
    const ctx = await setup();
    await assert.rejects(register(ctx, 'nope'), fails('ClusterNotFoundException'));
    await seedCluster(ctx, 'old', 'INACTIVE');
    await assert.rejects(register(ctx, 'old'), fails('ClusterNotFoundException'));
  });

  it('validates tags, resources and the identity document', async () => {
    const ctx = await setup();
    await assert.rejects(
      register(ctx, 'prod', { tags: [{ key: 'aws:x', value: '1' }] }),
      fails('InvalidParameterException', /aws:/),
    );
    await assert.rejects(
      ops.RegisterContainerInstance!(ctx, { cluster: 'prod' }),
      fails('InvalidParameterException', /totalResources must include CPU/),
    );
    await assert.rejects(
      register(ctx, 'prod', { instanceIdentityDocument: 'not json' }),
      fails('InvalidParameterException', /instanceIdentityDocument/),
    );
    assert.equal(await ctx.store.count(keys.containerInstancesOfCluster(ctx, 'prod')), 0);
  });

  it('re-registers an existing instance in place when the agent sends its ARN', async () => {
    const ctx = await setup();
    const first = await register(ctx, 'prod', {
      instanceIdentityDocument: doc,
      tags: [{ key: 'a', value: '1' }],
    });
    ctx.clock.advance(60_000);
    const again = await register(ctx, 'prod', {
      containerInstanceArn: first.containerInstanceArn,
      instanceIdentityDocument: doc,
      versionInfo: { agentVersion: '2.0.0' },
      tags: [{ key: 'b', value: '2' }],
    });
    assert.equal(again.containerInstanceArn, first.containerInstanceArn);
    assert.equal(again.version, 2);
    assert.equal(again.registeredAt, first.registeredAt);
    assert.deepEqual(again.versionInfo, { agentVersion: '2.0.0' });
    assert.deepEqual(again.tags, [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    assert.equal(await ctx.store.count(keys.containerInstancesOfCluster(ctx, 'prod')), 1);
  });

  it('re-registers by bare id too', async () => {
    const ctx = await setup();
    await register(ctx);
    const again = await register(ctx, 'prod', { containerInstanceArn: idOf(1) });
    assert.equal(again.version, 2);
  });

  it('refuses a containerInstanceArn that is unknown, of another cluster, or deregistered', async () => {
    const ctx = await setup();
    await seedCluster(ctx, 'other');
    const ci = await register(ctx);
    await assert.rejects(
      register(ctx, 'prod', {
        containerInstanceArn: containerInstanceArn(ctx, 'prod', 'ffffffffffffffffffffffffffffffff'),
      }),
      fails('InvalidParameterException', /was not found in cluster prod/),
    );
    await assert.rejects(
      register(ctx, 'other', { containerInstanceArn: ci.containerInstanceArn }),
      fails('InvalidParameterException', /does not name a container instance of cluster other/),
    );
    await ops.DeregisterContainerInstance!(ctx, {
      cluster: 'prod',
      containerInstance: ci.containerInstanceArn!,
    });
    await assert.rejects(
      register(ctx, 'prod', { containerInstanceArn: ci.containerInstanceArn }),
      fails('ClientException', /INACTIVE/),
    );
  });

  it('a registration far below the quota counts the records and reads none of them', async () => {
    const ctx = await setup();
    await register(ctx);
    const listed: string[] = [];
    const list = ctx.store.list.bind(ctx.store);
    ctx.store.list = ((prefix: string, ...rest: unknown[]) => {
      listed.push(prefix);
      return (list as (...a: unknown[]) => unknown)(prefix, ...rest);
    }) as typeof ctx.store.list;
    await register(ctx);
    assert.deepEqual(
      listed.filter((p) => p.includes('container-instances')),
      [],
    );
  });

  it(`refuses more than ${MAX_INSTANCES_PER_CLUSTER} registered instances per cluster`, async () => {
    const ctx = await setup();
    const seeded = Array.from({ length: MAX_INSTANCES_PER_CLUSTER }, (_, i) => {
      const id = `seed${String(i).padStart(6, '0')}`;
      const value: ContainerInstanceRecord = {
        containerInstanceArn: containerInstanceArn(ctx, 'prod', id),
        status: i === 0 ? 'INACTIVE' : 'ACTIVE',
        cluster: 'prod',
        tags: [],
      };
      return { kind: 'put' as const, key: keys.containerInstance(ctx, 'prod', id), value };
    });
    for (let i = 0; i < seeded.length; i += 100) await ctx.store.txn([], seeded.slice(i, i + 100));
    // 4999 registered (one of the 5000 records is INACTIVE): one more fits, the next does not.
    await register(ctx);
    await assert.rejects(register(ctx), fails('ClientException', /limit is 5000/));
  });
});

describe('DescribeContainerInstances', () => {
  it('finds instances by id, long ARN and short ARN; reports unknown ones as MISSING with the full ARN', async () => {
    const ctx = await setup();
    const a = await register(ctx, 'prod', { tags: [{ key: 't', value: 'v' }] });
    const idA = idOf(1);
    const out = await ops.DescribeContainerInstances!(ctx, {
      cluster: 'prod',
      containerInstances: [
        idA,
        a.containerInstanceArn!,
        `${ACCOUNT_ARN}:container-instance/${idA}`,
        'ffffffffffffffffffffffffffffffff',
        `${ACCOUNT_ARN}:container-instance/other/${idA}`,
        'bad/ref',
      ],
    });
    assert.equal(out.containerInstances?.length, 1, 'duplicates are answered once');
    assert.equal(out.containerInstances?.[0]?.containerInstanceArn, a.containerInstanceArn);
    assert.equal(out.containerInstances?.[0]?.tags, undefined, 'tags only with include TAGS');
    assert.equal(out.containerInstances?.[0]?.healthStatus, undefined);
    assert.deepEqual(out.failures, [
      { arn: `${ACCOUNT_ARN}:container-instance/other/${idA}`, reason: 'MISSING' },
      { arn: 'bad/ref', reason: 'MISSING' },
      { arn: `${ACCOUNT_ARN}:container-instance/prod/ffffffffffffffffffffffffffffffff`, reason: 'MISSING' },
    ]);
  });

  it('includes tags and health when asked', async () => {
    const ctx = await setup();
    await register(ctx, 'prod', { tags: [{ key: 't', value: 'v' }] });
    const out = await ops.DescribeContainerInstances!(ctx, {
      cluster: 'prod',
      containerInstances: [idOf(1)],
      include: ['TAGS', 'CONTAINER_INSTANCE_HEALTH'],
    });
    assert.deepEqual(out.containerInstances?.[0]?.tags, [{ key: 't', value: 'v' }]);
    assert.deepEqual(out.containerInstances?.[0]?.healthStatus, {
      overallStatus: 'INSUFFICIENT_DATA',
      details: [],
    });
  });

  it('shows deregistered instances as INACTIVE', async () => {
    const ctx = await setup();
    const a = await register(ctx);
    await ops.DeregisterContainerInstance!(ctx, { cluster: 'prod', containerInstance: idOf(1) });
    const out = await ops.DescribeContainerInstances!(ctx, {
      cluster: 'prod',
      containerInstances: [a.containerInstanceArn!],
    });
    assert.equal(out.containerInstances?.[0]?.status, 'INACTIVE');
  });

  it('checks the reference list and the cluster', async () => {
    const ctx = await setup();
    await assert.rejects(
      ops.DescribeContainerInstances!(ctx, { cluster: 'prod', containerInstances: [] }),
      fails('InvalidParameterException', /containerInstances cannot be empty/),
    );
    await assert.rejects(
      ops.DescribeContainerInstances!(ctx, {
        cluster: 'prod',
        containerInstances: Array.from({ length: 101 }, (_, i) => `id${i}`),
      }),
      fails('InvalidParameterException', /at most 100/),
    );
    await assert.rejects(
      ops.DescribeContainerInstances!(ctx, { cluster: 'nope', containerInstances: ['x'] }),
      fails('ClusterNotFoundException'),
    );
  });
});

describe('ListContainerInstances', () => {
  async function fiveInstances() {
    const ctx = await setup();
    const arns: string[] = [];
    for (let i = 0; i < 5; i++) arns.push((await register(ctx)).containerInstanceArn!);
    return { ctx, arns };
  }

  it('lists every status but INACTIVE by default, and filters by status', async () => {
    const { ctx, arns } = await fiveInstances();
    await ops.UpdateContainerInstancesState!(ctx, {
      cluster: 'prod',
      containerInstances: [arns[1]!],
      status: 'DRAINING',
    });
    await ops.DeregisterContainerInstance!(ctx, { cluster: 'prod', containerInstance: arns[2]! });

    const all = await ops.ListContainerInstances!(ctx, { cluster: 'prod' });
    assert.deepEqual(new Set(all.containerInstanceArns), new Set([arns[0], arns[1], arns[3], arns[4]]));
    assert.equal(all.nextToken, undefined);
    const draining = await ops.ListContainerInstances!(ctx, { cluster: 'prod', status: 'DRAINING' });
    assert.deepEqual(draining.containerInstanceArns, [arns[1]]);
    const active = await ops.ListContainerInstances!(ctx, { cluster: 'prod', status: 'ACTIVE' });
    assert.equal(active.containerInstanceArns?.length, 3);
  });

  it('filters with the cluster query language: attributes, status, task groups', async () => {
    const ctx = await setup();
    const t3 = await register(ctx, 'prod', {
      instanceIdentityDocument: doc,
      attributes: [{ name: 'stack', value: 'prod' }],
    });
    const other = await register(ctx, 'prod', { attributes: [{ name: 'stack', value: 'staging' }] });
    const bare = await register(ctx);
    const list = async (filter: string, status?: 'DRAINING') =>
      new Set(
        (await ops.ListContainerInstances!(ctx, { cluster: 'prod', filter, ...(status ? { status } : {}) }))
          .containerInstanceArns,
      );
    assert.deepEqual(await list('attribute:ecs.instance-type =~ t3.*'), new Set([t3.containerInstanceArn]));
    assert.deepEqual(
      await list('attribute:stack in [prod, staging] and not attribute:ecs.availability-zone exists'),
      new Set([other.containerInstanceArn]),
    );
    assert.deepEqual(
      await list('attribute:stack != prod'),
      new Set([other.containerInstanceArn, bare.containerInstanceArn]),
    );
    assert.deepEqual(await list('agentConnected == true'), new Set());
    // task:group reads the cluster's live tasks: a stopping one no longer counts.
    const task = (id: string, instance: string, desiredStatus: string): TaskRecord => ({
      taskArn: `${ACCOUNT_ARN}:task/prod/${id}`,
      clusterArn: `${ACCOUNT_ARN}:cluster/prod`,
      containerInstanceArn: instance,
      group: 'database',
      desiredStatus,
      lastStatus: 'RUNNING',
      tags: [],
      berth: {},
    });
    await ctx.store.txn(
      [],
      [
        {
          kind: 'put',
          key: keys.task(ctx, 'prod', 't1'),
          value: task('t1', t3.containerInstanceArn!, 'RUNNING'),
        },
        {
          kind: 'put',
          key: keys.task(ctx, 'prod', 't2'),
          value: task('t2', bare.containerInstanceArn!, 'STOPPED'),
        },
      ],
    );
    assert.deepEqual(await list('task:group == database'), new Set([t3.containerInstanceArn]));
    assert.deepEqual(
      await list('not(task:group == database)'),
      new Set([other.containerInstanceArn, bare.containerInstanceArn]),
    );
    await ops.UpdateContainerInstancesState!(ctx, {
      cluster: 'prod',
      containerInstances: [other.containerInstanceArn!],
      status: 'DRAINING',
    });
    assert.deepEqual(await list('attribute:stack exists', 'DRAINING'), new Set([other.containerInstanceArn]));
  });

  it('pages with maxResults and nextToken', async () => {
    const { ctx, arns } = await fiveInstances();
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ops.ListContainerInstances!(ctx, { cluster: 'prod', maxResults: 2, nextToken });
      assert.ok((page.containerInstanceArns?.length ?? 0) <= 2);
      seen.push(...(page.containerInstanceArns ?? []));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), [...arns].sort());
  });

  it('refuses a bad maxResults, a foreign nextToken, a filter and an unknown cluster', async () => {
    const ctx = await setup();
    await assert.rejects(
      ops.ListContainerInstances!(ctx, { cluster: 'prod', maxResults: 0 }),
      fails('InvalidParameterException', /maxResults/),
    );
    await assert.rejects(
      ops.ListContainerInstances!(ctx, { cluster: 'prod', nextToken: 'garbage!' }),
      fails('InvalidParameterException', /nextToken/),
    );
    await assert.rejects(
      ops.ListContainerInstances!(ctx, {
        cluster: 'prod',
        filter: 'attribute:ecs.instance-type = t3.medium',
      }),
      fails(
        'InvalidParameterException',
        /^filter is not a valid cluster query expression: unknown operator .*at column 29\./,
      ),
    );
    await assert.rejects(
      ops.ListContainerInstances!(ctx, { cluster: 'nope' }),
      fails('ClusterNotFoundException'),
    );
  });
});

describe('DeregisterContainerInstance', () => {
  async function putTask(ctx: RequestContext, id: string, instanceArn: string, desiredStatus: string) {
    const value: TaskRecord = {
      taskArn: `${ACCOUNT_ARN}:task/prod/${id}`,
      clusterArn: `${ACCOUNT_ARN}:cluster/prod`,
      containerInstanceArn: instanceArn,
      desiredStatus,
      lastStatus: 'RUNNING',
      tags: [],
      berth: {},
    };
    await ctx.store.txn([], [{ kind: 'put', key: keys.task(ctx, 'prod', id), value }]);
  }

  it('marks the instance INACTIVE, bumps its version, and is safe to repeat', async () => {
    const ctx = await setup();
    const ci = await register(ctx);
    const out = await ops.DeregisterContainerInstance!(ctx, {
      cluster: 'prod',
      containerInstance: ci.containerInstanceArn!,
    });
    assert.equal(out.containerInstance?.status, 'INACTIVE');
    assert.equal(out.containerInstance?.agentConnected, false);
    assert.equal(out.containerInstance?.version, 2);
    const again = await ops.DeregisterContainerInstance!(ctx, {
      cluster: 'prod',
      containerInstance: idOf(1),
    });
    assert.equal(again.containerInstance?.version, 2);
    assert.equal((await stored(ctx, 'prod', idOf(1)))?.status, 'INACTIVE');
  });

  it('refuses while tasks that should run are on the instance, unless forced', async () => {
    const ctx = await setup();
    const ci = await register(ctx);
    const other = await register(ctx);
    await putTask(ctx, 't1', ci.containerInstanceArn!, 'RUNNING');
    await putTask(ctx, 't2', ci.containerInstanceArn!, 'STOPPED');
    await putTask(ctx, 't3', other.containerInstanceArn!, 'RUNNING');
    await assert.rejects(
      ops.DeregisterContainerInstance!(ctx, { cluster: 'prod', containerInstance: ci.containerInstanceArn! }),
      fails('InvalidParameterException', /found 1 running task/),
    );
    assert.equal((await stored(ctx, 'prod', idOf(1)))?.status, 'ACTIVE');
    const forced = await ops.DeregisterContainerInstance!(ctx, {
      cluster: 'prod',
      containerInstance: ci.containerInstanceArn!,
      force: true,
    });
    assert.equal(forced.containerInstance?.status, 'INACTIVE');
  });

  it('lets an instance go once its tasks are told to stop', async () => {
    const ctx = await setup();
    const ci = await register(ctx);
    await putTask(ctx, 't1', ci.containerInstanceArn!, 'STOPPED');
    const out = await ops.DeregisterContainerInstance!(ctx, { cluster: 'prod', containerInstance: idOf(1) });
    assert.equal(out.containerInstance?.status, 'INACTIVE');
  });

  it('refuses unknown instances and unknown clusters', async () => {
    const ctx = await setup();
    await assert.rejects(
      ops.DeregisterContainerInstance!(ctx, {
        cluster: 'prod',
        containerInstance: 'ffffffffffffffffffffffffffffffff',
      }),
      fails('InvalidParameterException', /not found in cluster prod/),
    );
    await assert.rejects(
      ops.DeregisterContainerInstance!(ctx, { cluster: 'nope', containerInstance: 'x' }),
      fails('ClusterNotFoundException'),
    );
  });
});

describe('UpdateContainerInstancesState', () => {
  it('drains and reactivates, bumping the version only on a change', async () => {
    const ctx = await setup();
    const ci = await register(ctx);
    const drained = await ops.UpdateContainerInstancesState!(ctx, {
      cluster: 'prod',
      containerInstances: [ci.containerInstanceArn!],
      status: 'DRAINING',
    });
    assert.deepEqual(drained.failures, []);
    assert.equal(drained.containerInstances?.[0]?.status, 'DRAINING');
    assert.equal(drained.containerInstances?.[0]?.version, 2);
    const same = await ops.UpdateContainerInstancesState!(ctx, {
      cluster: 'prod',
      containerInstances: [idOf(1)],
      status: 'DRAINING',
    });
    assert.equal(same.containerInstances?.[0]?.version, 2);
    const back = await ops.UpdateContainerInstancesState!(ctx, {
      cluster: 'prod',
      containerInstances: [idOf(1)],
      status: 'ACTIVE',
    });
    assert.equal(back.containerInstances?.[0]?.status, 'ACTIVE');
    assert.equal(back.containerInstances?.[0]?.version, 3);
    assert.equal((await stored(ctx, 'prod', idOf(1)))?.version, 3);
  });

  it('reports unknown instances as MISSING and deregistered ones as INACTIVE', async () => {
    const ctx = await setup();
    const a = await register(ctx);
    const b = await register(ctx);
    await ops.DeregisterContainerInstance!(ctx, {
      cluster: 'prod',
      containerInstance: b.containerInstanceArn!,
    });
    const out = await ops.UpdateContainerInstancesState!(ctx, {
      cluster: 'prod',
      containerInstances: [
        a.containerInstanceArn!,
        'ffffffffffffffffffffffffffffffff',
        b.containerInstanceArn!,
      ],
      status: 'DRAINING',
    });
    assert.deepEqual(
      out.containerInstances?.map((c) => c.containerInstanceArn),
      [a.containerInstanceArn],
    );
    assert.deepEqual(
      out.failures?.map((f) => [f.arn, f.reason]),
      [
        [`${ACCOUNT_ARN}:container-instance/prod/ffffffffffffffffffffffffffffffff`, 'MISSING'],
        [b.containerInstanceArn, 'INACTIVE'],
      ],
    );
  });

  it('accepts only ACTIVE or DRAINING and at most 10 instances', async () => {
    const ctx = await setup();
    await register(ctx);
    await assert.rejects(
      ops.UpdateContainerInstancesState!(ctx, {
        cluster: 'prod',
        containerInstances: [idOf(1)],
        status: 'REGISTERING',
      }),
      fails('InvalidParameterException', /only be set to ACTIVE or DRAINING; got REGISTERING/),
    );
    await assert.rejects(
      ops.UpdateContainerInstancesState!(ctx, {
        cluster: 'prod',
        containerInstances: Array.from({ length: 11 }, (_, i) => `id${i}`),
        status: 'DRAINING',
      }),
      fails('InvalidParameterException', /at most 10/),
    );
    await assert.rejects(
      ops.UpdateContainerInstancesState!(ctx, {
        cluster: 'nope',
        containerInstances: ['x'],
        status: 'ACTIVE',
      }),
      fails('ClusterNotFoundException'),
    );
  });
});
