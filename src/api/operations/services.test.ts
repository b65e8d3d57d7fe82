import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  ClusterRecord,
  ContainerInstanceRecord,
  ServiceDeploymentRecord,
  ServiceRecord,
} from '../../domain/records.js';
import type { CreateServiceRequest, RegisterTaskDefinitionRequest } from '../../generated/ecs/types.js';
import { keys } from '../../store/keys.js';
import type { RequestContext } from '../context.js';
import { NOT_IDEMPOTENT_MESSAGE, SCALED_ABOVE_ZERO_MESSAGE, serviceOperations as ops } from './services.js';
import { taskDefinitionOperations } from './task-definitions.js';
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

async function seedCluster(ctx: RequestContext, name = 'prod', extra: Partial<ClusterRecord> = {}) {
  const value: ClusterRecord = {
    clusterName: name,
    clusterArn: `${ARN}:cluster/${name}`,
    status: 'ACTIVE',
    tags: [],
    ...extra,
  };
  await ctx.store.txn([], [{ kind: 'put', key: keys.cluster(ctx, name), value }]);
}

async function seedInstance(ctx: RequestContext, id: string, status = 'ACTIVE') {
  const value: ContainerInstanceRecord = {
    containerInstanceArn: `${ARN}:container-instance/prod/${id}`,
    cluster: 'prod',
    status,
    agentConnected: true,
    tags: [],
  };
  await ctx.store.txn([], [{ kind: 'put', key: keys.containerInstance(ctx, 'prod', id), value }]);
}

async function register(ctx: RequestContext, req: Partial<RegisterTaskDefinitionRequest> = {}) {
  return (
    await taskDefinitionOperations.RegisterTaskDefinition!(ctx, {
      family: 'web',
      containerDefinitions: [{ name: 'app', image: 'busybox', memory: 128 }],
      ...req,
    })
  ).taskDefinition!;
}

async function setup() {
  const ctx = testContext();
  await seedCluster(ctx);
  await register(ctx);
  return ctx;
}

const create = (ctx: RequestContext, req: Partial<CreateServiceRequest> = {}) =>
  ops.CreateService!(ctx, {
    cluster: 'prod',
    serviceName: 'web',
    taskDefinition: 'web',
    desiredCount: 2,
    ...req,
  });

async function stored(ctx: RequestContext, name = 'web') {
  return (await ctx.store.get<ServiceRecord>(keys.service(ctx, 'prod', name)))!.value;
}

async function history(ctx: RequestContext, name = 'web') {
  return (
    await ctx.store.list<ServiceDeploymentRecord>(keys.serviceDeploymentsOfService(ctx, 'prod', name))
  ).map((r) => r.value);
}

describe('CreateService', () => {
  it('creates an ACTIVE service with ECS defaults and a first PRIMARY deployment', async () => {
    const ctx = await setup();
    const { service } = await create(ctx, { tags: [{ key: 'team', value: 'a' }] });
    assert.equal(service!.serviceArn, `${ARN}:service/prod/web`);
    assert.equal(service!.status, 'ACTIVE');
    assert.equal(service!.desiredCount, 2);
    assert.equal(service!.launchType, 'EC2');
    assert.equal(service!.schedulingStrategy, 'REPLICA');
    assert.deepEqual(service!.deploymentController, { type: 'ECS' });
    assert.deepEqual(service!.deploymentConfiguration, {
      deploymentCircuitBreaker: { enable: false, rollback: false },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    });
    assert.equal(service!.taskDefinition, `${ARN}:task-definition/web:1`);
    assert.deepEqual(service!.tags, [{ key: 'team', value: 'a' }]);
    assert.equal(service!.propagateTags, 'NONE');
    assert.equal((service as Record<string, unknown>).berth, undefined, 'bookkeeping stays internal');
    const [d] = service!.deployments!;
    assert.match(d!.id!, /^ecs-svc\/[0-9]{19}$/);
    assert.equal(d!.status, 'PRIMARY');
    assert.equal(d!.rolloutState, 'IN_PROGRESS');
    assert.equal(d!.rolloutStateReason, `ECS deployment ${d!.id} in progress.`);
    assert.deepEqual([d!.desiredCount, d!.runningCount, d!.pendingCount, d!.failedTasks], [2, 0, 0, 0]);
    assert.match(
      service!.currentServiceDeployment!,
      /^arn:aws:ecs:us-east-1:123456789012:service-deployment\/prod\/web\/[A-Za-z0-9_-]{22}$/,
    );
    const [h] = await history(ctx);
    assert.equal(h!.status, 'IN_PROGRESS');
    assert.equal(h!.berth.deploymentId, d!.id);
  });

  it('answers the same request again with the same service; another request for the name is not idempotent', async () => {
    const ctx = await setup();
    const a = await create(ctx);
    const b = await create(ctx, { clientToken: 'other-token' });
    assert.deepEqual(b.service, a.service);
    await assert.rejects(
      create(ctx, { desiredCount: 3 }),
      fails('InvalidParameterException', new RegExp(NOT_IDEMPOTENT_MESSAGE)),
    );
  });

  it('refuses the name of a DRAINING service and frees it once INACTIVE', async () => {
    const ctx = await setup();
    await create(ctx, { desiredCount: 0 });
    await ops.DeleteService!(ctx, { cluster: 'prod', service: 'web' });
    await assert.rejects(
      create(ctx, { desiredCount: 0 }),
      fails('InvalidParameterException', /not idempotent/),
    );
    await ctx.store.txn(
      [],
      [
        {
          kind: 'put',
          key: keys.service(ctx, 'prod', 'web'),
          value: { ...(await stored(ctx)), status: 'INACTIVE' },
        },
      ],
    );
    const again = await create(ctx, { desiredCount: 1 });
    assert.equal(again.service!.status, 'ACTIVE');
  });

  it('checks the request: name, cluster, task definition, desiredCount', async () => {
    const ctx = await setup();
    await assert.rejects(
      create(ctx, { serviceName: 'bad name' }),
      fails('InvalidParameterException', /serviceName/),
    );
    await assert.rejects(create(ctx, { cluster: 'nope' }), fails('ClusterNotFoundException'));
    await assert.rejects(
      create(ctx, { taskDefinition: 'missing' }),
      fails('ClientException', /TaskDefinition not found/),
    );
    await assert.rejects(
      create(ctx, { desiredCount: undefined }),
      fails('InvalidParameterException', /desiredCount is required/),
    );
    await assert.rejects(
      create(ctx, { desiredCount: 5001 }),
      fails('InvalidParameterException', /desiredCount/),
    );
    await assert.rejects(
      create(ctx, { taskDefinition: undefined }),
      fails('InvalidParameterException', /taskDefinition is required/),
    );
    await taskDefinitionOperations.DeregisterTaskDefinition!(ctx, { taskDefinition: 'web:1' });
    await assert.rejects(create(ctx, { taskDefinition: 'web:1' }), fails('ClientException', /inactive/));
  });

  it('needs awsvpc network configuration and fills its defaults', async () => {
    const ctx = await setup();
    await register(ctx, { family: 'vpc', networkMode: 'awsvpc' });
    await assert.rejects(
      create(ctx, { taskDefinition: 'vpc' }),
      fails('InvalidParameterException', /Network Configuration must be provided/),
    );
    const { service } = await create(ctx, {
      taskDefinition: 'vpc',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
    });
    assert.deepEqual(service!.networkConfiguration, {
      awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: [], assignPublicIp: 'DISABLED' },
    });
    assert.deepEqual(service!.deployments![0]!.networkConfiguration, service!.networkConfiguration);
  });

  it('uses the cluster default capacity provider strategy and shows FARGATE platform fields', async () => {
    const ctx = testContext();
    await seedCluster(ctx, 'prod', {
      capacityProviders: ['FARGATE'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    });
    await register(ctx, {
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
    });
    const { service } = await create(ctx, {
      networkConfiguration: { awsvpcConfiguration: { subnets: ['s'] } },
    });
    assert.deepEqual(service!.capacityProviderStrategy, [
      { capacityProvider: 'FARGATE', weight: 1, base: 0 },
    ]);
    assert.equal(service!.launchType, undefined);
    assert.equal(service!.platformVersion, 'LATEST');
    assert.equal(service!.platformFamily, 'Linux');
    await assert.rejects(
      create(ctx, {
        serviceName: 'x',
        launchType: 'FARGATE',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }],
      }),
      fails('InvalidParameterException', /both a launch type and capacity provider strategy/),
    );
    await assert.rejects(
      create(ctx, {
        serviceName: 'y',
        placementStrategy: [{ type: 'random' }],
        networkConfiguration: { awsvpcConfiguration: { subnets: ['s'] } },
      }),
      fails('InvalidParameterException', /not supported for tasks on FARGATE/),
    );
  });

  it('stores placement constraints and strategies after checking them', async () => {
    const ctx = await setup();
    const { service } = await create(ctx, {
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t2.*' }],
      placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
    });
    assert.equal(service!.placementConstraints!.length, 1);
    assert.equal(service!.placementStrategy!.length, 1);
    await assert.rejects(
      create(ctx, { serviceName: 'b', placementStrategy: [{ type: 'binpack', field: 'disk' }] }),
      fails('InvalidParameterException', /placementStrategy\[0\].field/),
    );
    await assert.rejects(
      create(ctx, {
        serviceName: 'c',
        placementConstraints: [{ type: 'memberOf', expression: 'attribute:x ==' }],
      }),
      fails('InvalidParameterException'),
    );
  });

  it('DAEMON: no desiredCount, defaults 100 / 0, desiredCount = ACTIVE instances', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'i1');
    await seedInstance(ctx, 'i2');
    await seedInstance(ctx, 'i3', 'DRAINING');
    await assert.rejects(
      create(ctx, { schedulingStrategy: 'DAEMON' }),
      fails('InvalidParameterException', /does not support a desired count/),
    );
    const { service } = await create(ctx, { schedulingStrategy: 'DAEMON', desiredCount: undefined });
    assert.equal(service!.desiredCount, 2);
    assert.equal(service!.deploymentConfiguration!.maximumPercent, 100);
    assert.equal(service!.deploymentConfiguration!.minimumHealthyPercent, 0);
  });

  it('EXTERNAL: no deployment and no task definition; task sets come later', async () => {
    const ctx = await setup();
    await assert.rejects(
      create(ctx, { deploymentController: { type: 'EXTERNAL' } }),
      fails('InvalidParameterException', /set per task set/),
    );
    const { service } = await create(ctx, {
      deploymentController: { type: 'EXTERNAL' },
      taskDefinition: undefined,
    });
    assert.deepEqual(service!.deployments, []);
    assert.deepEqual(service!.taskSets, []);
    await assert.rejects(
      create(ctx, { serviceName: 'cd', deploymentController: { type: 'CODE_DEPLOY' } }),
      fails('InvalidParameterException', /CODE_DEPLOY/),
    );
  });

  it('refuses what needs AWS services Berth does not run', async () => {
    const ctx = await setup();
    await assert.rejects(
      create(ctx, { loadBalancers: [{ targetGroupArn: 'tg', containerName: 'app', containerPort: 80 }] }),
      fails('InvalidParameterException', /Elastic Load Balancing/),
    );
  });
});

describe('UpdateService', () => {
  it('desiredCount alone changes the service in place, no new deployment', async () => {
    const ctx = await setup();
    await create(ctx);
    const { service } = await ops.UpdateService!(ctx, { cluster: 'prod', service: 'web', desiredCount: 5 });
    assert.equal(service!.desiredCount, 5);
    assert.equal(service!.deployments!.length, 1);
    assert.equal(service!.deployments![0]!.desiredCount, 5);
    assert.equal((await stored(ctx)).berth!.generation, 2);
  });

  it('a new task definition starts a new PRIMARY; the old one becomes ACTIVE and its history STOPPED', async () => {
    const ctx = await setup();
    const first = (await create(ctx)).service!.deployments![0]!;
    await register(ctx, { containerDefinitions: [{ name: 'app', image: 'busybox:2', memory: 128 }] });
    const { service } = await ops.UpdateService!(ctx, {
      cluster: 'prod',
      service: 'web',
      taskDefinition: 'web',
    });
    const [p, a] = service!.deployments!;
    assert.equal(p!.status, 'PRIMARY');
    assert.equal(p!.taskDefinition, `${ARN}:task-definition/web:2`);
    assert.equal(p!.rolloutState, 'IN_PROGRESS');
    assert.equal(a!.id, first.id);
    assert.equal(a!.status, 'ACTIVE');
    assert.equal(service!.taskDefinition, `${ARN}:task-definition/web:2`);
    const hs = await history(ctx);
    assert.equal(hs.length, 2);
    const old = hs.find((h) => h.berth.deploymentId === first.id)!;
    assert.equal(old.status, 'STOPPED');
    const fresh = hs.find((h) => h.berth.deploymentId === p!.id)!;
    assert.equal(fresh.sourceServiceRevisions!.length, 1);
  });

  it('forceNewDeployment starts one with the same definition; the same definition alone does not', async () => {
    const ctx = await setup();
    await create(ctx);
    const same = await ops.UpdateService!(ctx, { cluster: 'prod', service: 'web', taskDefinition: 'web:1' });
    assert.equal(same.service!.deployments!.length, 1);
    const forced = await ops.UpdateService!(ctx, {
      cluster: 'prod',
      service: 'web',
      forceNewDeployment: true,
    });
    assert.equal(forced.service!.deployments!.length, 2);
  });

  it('deploymentConfiguration merges, with no new deployment', async () => {
    const ctx = await setup();
    await create(ctx);
    const { service } = await ops.UpdateService!(ctx, {
      cluster: 'prod',
      service: 'web',
      deploymentConfiguration: {
        minimumHealthyPercent: 50,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    });
    assert.deepEqual(service!.deploymentConfiguration, {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 50,
    });
    assert.equal(service!.deployments!.length, 1);
  });

  it('refuses unknown, DRAINING and DAEMON-incompatible updates', async () => {
    const ctx = await setup();
    await assert.rejects(
      ops.UpdateService!(ctx, { cluster: 'prod', service: 'nope' }),
      fails('ServiceNotFoundException'),
    );
    await create(ctx, { desiredCount: 0 });
    await ops.DeleteService!(ctx, { cluster: 'prod', service: 'web' });
    await assert.rejects(
      ops.UpdateService!(ctx, { cluster: 'prod', service: 'web', desiredCount: 1 }),
      fails('ServiceNotActiveException'),
    );
    await create(ctx, { serviceName: 'd', schedulingStrategy: 'DAEMON', desiredCount: undefined });
    await assert.rejects(
      ops.UpdateService!(ctx, { cluster: 'prod', service: 'd', desiredCount: 3 }),
      fails('InvalidParameterException', /desired count/),
    );
  });
});

describe('DeleteService', () => {
  it('needs desiredCount 0 unless force; DRAINING with desiredCount 0; again answers the same', async () => {
    const ctx = await setup();
    await create(ctx);
    await assert.rejects(
      ops.DeleteService!(ctx, { cluster: 'prod', service: 'web' }),
      fails('InvalidParameterException', new RegExp(SCALED_ABOVE_ZERO_MESSAGE)),
    );
    const { service } = await ops.DeleteService!(ctx, { cluster: 'prod', service: 'web', force: true });
    assert.equal(service!.status, 'DRAINING');
    assert.equal(service!.desiredCount, 0);
    const again = await ops.DeleteService!(ctx, { cluster: 'prod', service: `${ARN}:service/prod/web` });
    assert.equal(again.service!.status, 'DRAINING');
    await assert.rejects(
      ops.DeleteService!(ctx, { cluster: 'prod', service: 'nope' }),
      fails('ServiceNotFoundException'),
    );
  });
});

describe('DescribeServices and ListServices', () => {
  it('describes by name or ARN, MISSING for the rest, tags only with include TAGS', async () => {
    const ctx = await setup();
    await create(ctx, { tags: [{ key: 'k', value: 'v' }] });
    const out = await ops.DescribeServices!(ctx, {
      cluster: 'prod',
      services: ['web', `${ARN}:service/prod/web`, 'ghost', `${ARN}:service/other/web`],
    });
    assert.equal(out.services!.length, 1);
    assert.equal(out.services![0]!.tags, undefined);
    assert.deepEqual(out.failures, [
      { arn: `${ARN}:service/prod/ghost`, reason: 'MISSING' },
      { arn: `${ARN}:service/other/web`, reason: 'MISSING' },
    ]);
    const tagged = await ops.DescribeServices!(ctx, {
      cluster: 'prod',
      services: ['web'],
      include: ['TAGS'],
    });
    assert.deepEqual(tagged.services![0]!.tags, [{ key: 'k', value: 'v' }]);
    await assert.rejects(
      ops.DescribeServices!(ctx, {
        cluster: 'prod',
        services: Array.from({ length: 11 }, (_, i) => `s${i}`),
      }),
      fails('InvalidParameterException', /at most 10/),
    );
    await assert.rejects(
      ops.DescribeServices!(ctx, { cluster: 'nope', services: ['web'] }),
      fails('ClusterNotFoundException'),
    );
  });

  it('lists ACTIVE services with filters and pages of 10 by default', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'i1');
    for (let i = 0; i < 12; i++)
      await create(ctx, { serviceName: `s${String(i).padStart(2, '0')}`, desiredCount: 0 });
    await create(ctx, { serviceName: 'daemon', schedulingStrategy: 'DAEMON', desiredCount: undefined });
    await ops.DeleteService!(ctx, { cluster: 'prod', service: 's00' });
    const first = await ops.ListServices!(ctx, { cluster: 'prod' });
    assert.equal(first.serviceArns!.length, 10);
    const second = await ops.ListServices!(ctx, { cluster: 'prod', nextToken: first.nextToken! });
    const all = [...first.serviceArns!, ...second.serviceArns!];
    assert.equal(second.nextToken, undefined);
    assert.ok(!all.includes(`${ARN}:service/prod/s00`), 'DRAINING services are not listed');
    assert.equal(new Set(all).size, all.length);
    const daemons = await ops.ListServices!(ctx, { cluster: 'prod', schedulingStrategy: 'DAEMON' });
    assert.deepEqual(daemons.serviceArns, [`${ARN}:service/prod/daemon`]);
    const fargate = await ops.ListServices!(ctx, { cluster: 'prod', launchType: 'FARGATE' });
    assert.deepEqual(fargate.serviceArns, []);
  });
});

describe('service deployments, revisions and StopServiceDeployment', () => {
  it('lists deployments newest first, filters by status, describes them with live counts', async () => {
    const ctx = await setup();
    await create(ctx);
    ctx.clock.advance(1000);
    await ops.UpdateService!(ctx, { cluster: 'prod', service: 'web', forceNewDeployment: true });
    const list = await ops.ListServiceDeployments!(ctx, { cluster: 'prod', service: 'web' });
    assert.equal(list.serviceDeployments!.length, 2);
    assert.equal(list.serviceDeployments![0]!.status, 'IN_PROGRESS');
    assert.equal(list.serviceDeployments![1]!.status, 'STOPPED');
    const stoppedOnly = await ops.ListServiceDeployments!(ctx, {
      cluster: 'prod',
      service: 'web',
      status: ['STOPPED'],
    });
    assert.equal(stoppedOnly.serviceDeployments!.length, 1);
    const paged = await ops.ListServiceDeployments!(ctx, { cluster: 'prod', service: 'web', maxResults: 1 });
    const next = await ops.ListServiceDeployments!(ctx, {
      cluster: 'prod',
      service: 'web',
      maxResults: 1,
      nextToken: paged.nextToken!,
    });
    assert.deepEqual(
      [paged.serviceDeployments![0]!.serviceDeploymentArn, next.serviceDeployments![0]!.serviceDeploymentArn],
      list.serviceDeployments!.map((d) => d.serviceDeploymentArn),
    );

    const arn = list.serviceDeployments![0]!.serviceDeploymentArn!;
    const svc = structuredClone(await stored(ctx));
    svc.deployments![0]!.runningCount = 2;
    await ctx.store.txn([], [{ kind: 'put', key: keys.service(ctx, 'prod', 'web'), value: svc }]);
    const described = await ops.DescribeServiceDeployments!(ctx, {
      serviceDeploymentArns: [arn, `${ARN}:service-deployment/prod/web/nope`],
    });
    assert.equal(described.serviceDeployments![0]!.targetServiceRevision!.runningTaskCount, 2);
    assert.equal(described.failures![0]!.reason, 'MISSING');
    assert.equal((described.serviceDeployments![0] as Record<string, unknown>).berth, undefined);

    const rev = described.serviceDeployments![0]!.targetServiceRevision!.arn!;
    const revs = await ops.DescribeServiceRevisions!(ctx, {
      serviceRevisionArns: [rev, 'arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1'],
    });
    assert.equal(revs.serviceRevisions![0]!.taskDefinition, `${ARN}:task-definition/web:1`);
    assert.deepEqual(revs.serviceRevisions![0]!.containerImages, [
      { containerName: 'app', image: 'busybox' },
    ]);
    assert.equal(revs.failures!.length, 1);
  });

  it('StopServiceDeployment asks the scheduler to roll back the in-progress deployment', async () => {
    const ctx = await setup();
    await create(ctx);
    const [d] = (await ops.ListServiceDeployments!(ctx, { cluster: 'prod', service: 'web' }))
      .serviceDeployments!;
    await assert.rejects(
      ops.StopServiceDeployment!(ctx, { serviceDeploymentArn: d!.serviceDeploymentArn!, stopType: 'ABORT' }),
      fails('InvalidParameterException', /ROLLBACK/),
    );
    const out = await ops.StopServiceDeployment!(ctx, { serviceDeploymentArn: d!.serviceDeploymentArn! });
    assert.equal(out.serviceDeploymentArn, d!.serviceDeploymentArn);
    const svc = await stored(ctx);
    assert.equal(svc.berth!.rollbackRequested, svc.deployments![0]!.id);
    assert.equal((await history(ctx))[0]!.status, 'ROLLBACK_REQUESTED');
    await assert.rejects(
      ops.StopServiceDeployment!(ctx, { serviceDeploymentArn: d!.serviceDeploymentArn! }),
      fails('ConflictException', /not in progress/),
    );
    await assert.rejects(
      ops.StopServiceDeployment!(ctx, { serviceDeploymentArn: `${ARN}:service-deployment/prod/web/zzz` }),
      fails('ServiceDeploymentNotFoundException'),
    );
  });
});
