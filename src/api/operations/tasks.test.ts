import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  ClusterRecord,
  ContainerInstanceRecord,
  ManagedHostRecord,
  ServiceRecord,
  TaskRecord,
} from '../../domain/records.js';
import { instanceRemaining } from '../../domain/task/resources.js';
import type { RegisterTaskDefinitionRequest, RunTaskRequest } from '../../generated/ecs/types.js';
import { keys } from '../../store/keys.js';
import type { RequestContext } from '../context.js';
import { taskDefinitionOperations } from './task-definitions.js';
import { testContext } from './test-context.js';
import {
  FARGATE_CAPACITY_UNAVAILABLE,
  NO_CONTAINER_INSTANCES_MESSAGE,
  TASK_NOT_FOUND_MESSAGE,
  claimedTaskId,
  runTaskFingerprint,
  taskOperations as ops,
} from './tasks.js';

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

async function seedInstance(
  ctx: RequestContext,
  id: string,
  opts: { memory?: number; cpu?: number; status?: string; agentConnected?: boolean; cluster?: string } = {},
): Promise<string> {
  const cluster = opts.cluster ?? 'prod';
  const resources = [
    { name: 'CPU', type: 'INTEGER', integerValue: opts.cpu ?? 2048 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: opts.memory ?? 2048 },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '2375', '2376', '51678', '51679', '51680'] },
    { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
  ];
  const arn = `${ARN}:container-instance/${cluster}/${id}`;
  const value: ContainerInstanceRecord = {
    containerInstanceArn: arn,
    cluster,
    status: opts.status ?? 'ACTIVE',
    agentConnected: opts.agentConnected ?? true,
    registeredResources: resources,
    remainingResources: resources,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    version: 1,
    // What a Berth agent advertises that these tests' definitions require (awsvpc: task-eni).
    attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1b' }, { name: 'ecs.capability.task-eni' }],
    tags: [],
  };
  await ctx.store.txn([], [{ kind: 'put', key: keys.containerInstance(ctx, cluster, id), value }]);
  return arn;
}

async function seedManagedHost(ctx: RequestContext, hostId = 'local', cpu = 4096, memory = 8192) {
  const value: ManagedHostRecord = {
    hostId,
    availabilityZone: 'local-1a',
    agentConnected: true,
    registered: { cpu, memory },
    remaining: { cpu, memory },
    runningTasksCount: 0,
    pendingTasksCount: 0,
    updatedAt: 0,
  };
  await ctx.store.txn([], [{ kind: 'put', key: keys.managedHost(hostId), value }]);
}

async function register(ctx: RequestContext, req: Partial<RegisterTaskDefinitionRequest> = {}) {
  const out = await taskDefinitionOperations.RegisterTaskDefinition!(ctx, {
    family: 'web',
    containerDefinitions: [{ name: 'app', image: 'busybox', memory: 256, cpu: 128 }],
    ...req,
  });
  return out.taskDefinition!;
}

const WEBSERVER: Partial<RegisterTaskDefinitionRequest> = {
  family: 'webserver',
  containerDefinitions: [{ name: 'web', image: 'nginx', memory: 100, cpu: 99 }],
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  memory: '512',
  cpu: '256',
};

async function setup() {
  const ctx = testContext();
  await seedCluster(ctx);
  return ctx;
}

async function run(ctx: RequestContext, input: Partial<RunTaskRequest> = {}) {
  return ops.RunTask!(ctx, { cluster: 'prod', taskDefinition: 'web', ...input });
}

async function storedInstance(ctx: RequestContext, id: string) {
  return (await ctx.store.get<ContainerInstanceRecord>(keys.containerInstance(ctx, 'prod', id)))!.value;
}

describe('RunTask on EC2', () => {
  it('creates a PROVISIONING task on a connected instance and reserves its resources', async () => {
    const ctx = await setup();
    const ci = await seedInstance(ctx, 'ci1');
    await register(ctx);
    const out = await run(ctx, { startedBy: 'cli', tags: [{ key: 'k', value: 'v' }] });
    assert.deepEqual(out.failures, []);
    assert.equal(out.tasks!.length, 1);
    const t = out.tasks![0]!;
    assert.match(t.taskArn!, /^arn:aws:ecs:us-east-1:123456789012:task\/prod\/[0-9a-f]{32}$/);
    assert.equal(t.containerInstanceArn, ci);
    assert.equal(t.lastStatus, 'PROVISIONING');
    assert.equal(t.desiredStatus, 'RUNNING');
    assert.equal(t.launchType, 'EC2');
    assert.equal(t.group, 'family:web');
    assert.equal(t.startedBy, 'cli');
    assert.equal(t.availabilityZone, 'us-east-1b');
    assert.deepEqual(t.tags, [{ key: 'k', value: 'v' }]);
    assert.equal('berth' in t, false);
    assert.equal(t.containers![0]!.memory, '256');
    assert.equal(t.containers![0]!.cpu, '128');
    const left = instanceRemaining((await storedInstance(ctx, 'ci1')).remainingResources);
    assert.equal(left.cpu, 2048 - 128);
    assert.equal(left.memory, 2048 - 256);
  });

  it('checks count, startedBy, group, referenceId and clientToken', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx);
    await assert.rejects(
      run(ctx, { count: 0 }),
      fails('InvalidParameterException', /count must be between 1 and 10/),
    );
    await assert.rejects(
      run(ctx, { count: 11 }),
      fails('InvalidParameterException', /count must be between 1 and 10; got 11/),
    );
    await assert.rejects(
      run(ctx, { startedBy: 'x'.repeat(129) }),
      fails('InvalidParameterException', /startedBy can be at most 128/),
    );
    await assert.rejects(
      run(ctx, { group: 'g'.repeat(256) }),
      fails('InvalidParameterException', /group can be at most 255/),
    );
    await assert.rejects(
      run(ctx, { referenceId: 'r'.repeat(1025) }),
      fails('InvalidParameterException', /referenceId/),
    );
    await assert.rejects(
      run(ctx, { clientToken: 'has space' }),
      fails('InvalidParameterException', /clientToken/),
    );
    await assert.rejects(
      run(ctx, { clientToken: 't'.repeat(65) }),
      fails('InvalidParameterException', /clientToken/),
    );
  });

  it("answers ECS's errors for a missing cluster, no instances, and missing or inactive definitions", async () => {
    const ctx = await setup();
    await register(ctx);
    await assert.rejects(run(ctx, { cluster: 'nope' }), fails('ClusterNotFoundException'));
    await assert.rejects(
      run(ctx),
      fails('InvalidParameterException', new RegExp(`^${NO_CONTAINER_INSTANCES_MESSAGE}$`)),
    );
    await seedInstance(ctx, 'ci1');
    await assert.rejects(
      run(ctx, { taskDefinition: 'other' }),
      fails('ClientException', /^TaskDefinition not found\.$/),
    );
    await taskDefinitionOperations.DeregisterTaskDefinition!(ctx, { taskDefinition: 'web:1' });
    await assert.rejects(
      run(ctx, { taskDefinition: 'web:1' }),
      fails('ClientException', /^TaskDefinition is inactive$/),
    );
  });

  it('reports failures and creates no task when nothing fits', async () => {
    const ctx = await setup();
    const a = await seedInstance(ctx, 'ci1', { memory: 100 });
    const b = await seedInstance(ctx, 'ci2', { cpu: 64 });
    const c = await seedInstance(ctx, 'ci3', { agentConnected: false });
    await register(ctx);
    const out = await run(ctx);
    assert.deepEqual(out.tasks, []);
    assert.deepEqual(out.failures, [
      {
        arn: a,
        reason: 'RESOURCE:MEMORY',
        detail: 'Container instance ci1 has insufficient memory available.',
      },
      {
        arn: b,
        reason: 'RESOURCE:CPU',
        detail: 'Container instance ci2 has insufficient CPU units available.',
      },
      { arn: c, reason: 'AGENT', detail: 'Container instance ci3 encountered error "AGENT".' },
    ]);
    assert.equal(await ctx.store.count(keys.tasksOfCluster(ctx, 'prod')), 0);
  });

  it('reports RESOURCE:PORTS for a static host port already taken', async () => {
    const ctx = await setup();
    const ci = await seedInstance(ctx, 'ci1');
    await register(ctx, {
      containerDefinitions: [
        { name: 'app', image: 'busybox', memory: 64, portMappings: [{ containerPort: 80, hostPort: 8080 }] },
      ],
    });
    const out = await run(ctx, { count: 2 });
    assert.equal(out.tasks!.length, 1);
    assert.deepEqual(out.failures, [
      {
        arn: ci,
        reason: 'RESOURCE:PORTS',
        detail: 'Container instance ci1 is already using a port required by your task.',
      },
    ]);
  });

  it('never overcommits an instance under 20 concurrent RunTasks', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1', { memory: 5 * 256 + 200 });
    await register(ctx);
    const results = await Promise.all(Array.from({ length: 20 }, () => run(ctx)));
    assert.equal(results.flatMap((r) => r.tasks ?? []).length, 5);
    assert.equal(results.filter((r) => r.failures!.some((f) => f.reason === 'RESOURCE:MEMORY')).length, 15);
    const ci = await storedInstance(ctx, 'ci1');
    assert.equal(instanceRemaining(ci.remainingResources).memory, 200);
    assert.equal(ci.pendingTasksCount, 5);
  });

  it('checks overrides and placement, and refuses what Berth cannot honour', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx);
    await assert.rejects(
      run(ctx, { overrides: { containerOverrides: [{ name: 'nope', command: ['x'] }] } }),
      fails(
        'InvalidParameterException',
        /^Override for container named nope is not a container in the TaskDefinition\.$/,
      ),
    );
    const out = await run(ctx, {
      overrides: { containerOverrides: [{ name: 'app', memory: 512, command: ['sleep', '1'] }] },
    });
    assert.equal(out.tasks![0]!.containers![0]!.memory, '512');
    assert.deepEqual(out.tasks![0]!.overrides!.containerOverrides, [
      { name: 'app', memory: 512, command: ['sleep', '1'] },
    ]);
    await assert.rejects(
      run(ctx, { placementStrategy: [{ type: 'binpack', field: 'disk' }] }),
      fails('InvalidParameterException', /^placementStrategy\[0\]\.field must be cpu or memory/),
    );
    await assert.rejects(
      run(ctx, { placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack ==' }] }),
      fails(
        'InvalidParameterException',
        /^placementConstraints\[0\]\.expression is not a valid cluster query expression: .*column/,
      ),
    );
    // ci1 already runs a task of the group family:web (the run above): distinctInstance refuses it.
    const distinct = await run(ctx, {
      placementConstraints: [{ type: 'distinctInstance' }],
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
    });
    assert.deepEqual(distinct.tasks, []);
    assert.deepEqual(
      distinct.failures!.map((f) => f.reason),
      ['ATTRIBUTE'],
    );
    const otherGroup = await run(ctx, {
      group: 'batch',
      placementConstraints: [{ type: 'distinctInstance' }],
    });
    assert.equal(otherGroup.tasks![0]!.group, 'batch');
    await assert.rejects(
      run(ctx, { enableExecuteCommand: true }),
      fails('InvalidParameterException', /enableExecuteCommand/),
    );
  });

  it('propagates definition tags and adds managed tags', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx, { tags: [{ key: 'team', value: 'a' }] });
    const out = await run(ctx, {
      propagateTags: 'TASK_DEFINITION',
      enableECSManagedTags: true,
      tags: [{ key: 'env', value: 'dev' }],
    });
    assert.deepEqual(out.tasks![0]!.tags, [
      { key: 'team', value: 'a' },
      { key: 'env', value: 'dev' },
      { key: 'aws:ecs:clusterName', value: 'prod' },
    ]);
    await assert.rejects(
      run(ctx, { propagateTags: 'SERVICE' }),
      fails('InvalidParameterException', /propagateTags SERVICE/),
    );
    await assert.rejects(
      run(ctx, { tags: [{ key: 'aws:x', value: 'y' }] }),
      fails('InvalidParameterException', /reserved prefix/),
    );
  });
});

describe('RunTask networking and capacity', () => {
  it('requires an awsvpc configuration with subnets for awsvpc tasks, and refuses one for others', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx, { networkMode: 'awsvpc' });
    await assert.rejects(
      run(ctx),
      fails(
        'InvalidParameterException',
        /^Network Configuration must be provided when networkMode 'awsvpc' is specified\.$/,
      ),
    );
    await assert.rejects(
      run(ctx, { networkConfiguration: { awsvpcConfiguration: { subnets: [] } } }),
      fails('InvalidParameterException', /^subnets can not be empty\.$/),
    );
    const out = await run(ctx, { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'] } } });
    const t = out.tasks![0]!;
    assert.equal(t.attachments![0]!.type, 'ElasticNetworkInterface');
    assert.equal(t.attachments![0]!.status, 'PRECREATED');
    assert.deepEqual(t.attachments![0]!.details, [{ name: 'subnetId', value: 'subnet-a' }]);

    await register(ctx, { family: 'bridged' });
    await assert.rejects(
      run(ctx, {
        taskDefinition: 'bridged',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['s'] } },
      }),
      fails('InvalidParameterException', /not valid for the given networkMode/),
    );
  });

  it('runs the FARGATE webserver example on managed capacity', async () => {
    const ctx = await setup();
    await seedManagedHost(ctx);
    await register(ctx, WEBSERVER);
    const out = await run(ctx, {
      taskDefinition: 'webserver',
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
    });
    assert.deepEqual(out.failures, []);
    const t = out.tasks![0]!;
    assert.equal(t.launchType, 'FARGATE');
    assert.equal(t.containerInstanceArn, undefined);
    assert.equal(t.platformVersion, '1.4.0');
    assert.equal(t.platformFamily, 'Linux');
    assert.equal(t.cpu, '256');
    assert.equal(t.memory, '512');
    assert.equal(t.availabilityZone, 'local-1a');
    const host = (await ctx.store.get<ManagedHostRecord>(keys.managedHost('local')))!.value;
    assert.deepEqual(host.remaining, { cpu: 4096 - 256, memory: 8192 - 512 });
  });

  it('checks FARGATE compatibility, platform version and capacity', async () => {
    const ctx = await setup();
    await register(ctx);
    await assert.rejects(
      run(ctx, { launchType: 'FARGATE' }),
      fails('InvalidParameterException', /^Task definition does not support launch_type FARGATE\.$/),
    );
    await register(ctx, WEBSERVER);
    const net = { awsvpcConfiguration: { subnets: ['s'] } };
    await assert.rejects(
      run(ctx, {
        taskDefinition: 'webserver',
        launchType: 'FARGATE',
        networkConfiguration: net,
        platformVersion: '9.9.9',
      }),
      fails('PlatformUnknownException'),
    );
    const none = await run(ctx, {
      taskDefinition: 'webserver',
      launchType: 'FARGATE',
      networkConfiguration: net,
    });
    assert.deepEqual(none.tasks, []);
    assert.equal(none.failures![0]!.reason, FARGATE_CAPACITY_UNAVAILABLE);
    await seedManagedHost(ctx, 'small', 128, 256);
    const small = await run(ctx, {
      taskDefinition: 'webserver',
      launchType: 'FARGATE',
      networkConfiguration: net,
    });
    assert.deepEqual(
      small.failures!.map((f) => f.reason),
      ['RESOURCE:CPU'],
    );
  });

  it('uses a capacity provider strategy, or the cluster default, and checks association', async () => {
    const ctx = testContext();
    await seedCluster(ctx, 'prod', {
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1, base: 0 }],
    });
    await seedCluster(ctx, 'bare');
    await seedManagedHost(ctx);
    await register(ctx, WEBSERVER);
    const net = { awsvpcConfiguration: { subnets: ['s'] } };
    const viaDefault = await run(ctx, { taskDefinition: 'webserver', networkConfiguration: net });
    assert.equal(viaDefault.tasks![0]!.capacityProviderName, 'FARGATE_SPOT');
    assert.equal(viaDefault.tasks![0]!.launchType, 'FARGATE');
    const split = await run(ctx, {
      taskDefinition: 'webserver',
      networkConfiguration: net,
      count: 3,
      capacityProviderStrategy: [
        { capacityProvider: 'FARGATE', base: 1, weight: 0 },
        { capacityProvider: 'FARGATE_SPOT', weight: 1 },
      ],
    });
    assert.deepEqual(
      split.tasks!.map((t) => t.capacityProviderName),
      ['FARGATE', 'FARGATE_SPOT', 'FARGATE_SPOT'],
    );
    await assert.rejects(
      run(ctx, {
        cluster: 'bare',
        taskDefinition: 'webserver',
        networkConfiguration: net,
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }],
      }),
      fails('InvalidParameterException', /not associated with the cluster/),
    );
    await assert.rejects(
      run(ctx, {
        taskDefinition: 'webserver',
        networkConfiguration: net,
        launchType: 'FARGATE',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }],
      }),
      fails('InvalidParameterException', /both a launch type and capacity provider strategy/),
    );
  });
});

describe('RunTask clientToken', () => {
  it('answers a repeated request with the same tasks and creates no more', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx);
    const first = await run(ctx, { clientToken: 'tok-1', count: 2 });
    const again = await run(ctx, { clientToken: 'tok-1', count: 2 });
    assert.deepEqual(
      again.tasks!.map((t) => t.taskArn),
      first.tasks!.map((t) => t.taskArn),
    );
    assert.equal(await ctx.store.count(keys.tasksOfCluster(ctx, 'prod')), 2);
    // The same token in another cluster is another request.
    await seedCluster(ctx, 'other');
    await seedInstance(ctx, 'ci9', { cluster: 'other' });
    const elsewhere = await run(ctx, { cluster: 'other', clientToken: 'tok-1', count: 2 });
    assert.equal(elsewhere.tasks!.length, 2);
  });

  it('refuses the same token with a different request', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx);
    const first = await run(ctx, { clientToken: 'tok-2' });
    await assert.rejects(
      run(ctx, { clientToken: 'tok-2', startedBy: 'someone-else' }),
      fails('ConflictException', new RegExp(first.tasks![0]!.taskArn!.replace(/[/]/g, '\\/'))),
    );
  });

  it('creates each task once when the same request runs concurrently or resumes', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => run(ctx, { clientToken: 'tok-3', count: 3 })),
    );
    const arns = new Set(results.flatMap((r) => r.tasks!.map((t) => t.taskArn)));
    assert.equal(arns.size, 3);
    assert.equal(await ctx.store.count(keys.tasksOfCluster(ctx, 'prod')), 3);
    for (const r of results) assert.equal(r.tasks!.length, 3);
  });

  it('derives stable task ids and fingerprints', () => {
    assert.equal(claimedTaskId('n', 0), claimedTaskId('n', 0));
    assert.notEqual(claimedTaskId('n', 0), claimedTaskId('n', 1));
    assert.match(claimedTaskId('n', 0), /^[0-9a-f]{32}$/);
    assert.equal(
      runTaskFingerprint({ taskDefinition: 'a', count: 1, clientToken: 'x' }),
      runTaskFingerprint({ count: 1, taskDefinition: 'a', clientToken: 'y' }),
    );
    assert.notEqual(runTaskFingerprint({ taskDefinition: 'a' }), runTaskFingerprint({ taskDefinition: 'b' }));
  });

  it('lets a token be used again after 24 hours', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx);
    const first = await run(ctx, { clientToken: 'tok-4' });
    ctx.clock.advance(24 * 60 * 60 * 1000 + 1);
    const later = await run(ctx, { clientToken: 'tok-4', startedBy: 'new' });
    assert.notEqual(later.tasks![0]!.taskArn, first.tasks![0]!.taskArn);
  });
});

describe('StartTask', () => {
  it('starts one task on each named instance, MISSING for unknown ones, status as reason', async () => {
    const ctx = await setup();
    const a = await seedInstance(ctx, 'ci1');
    const b = await seedInstance(ctx, 'ci2', { status: 'DRAINING' });
    await register(ctx);
    const out = await ops.StartTask!(ctx, {
      cluster: 'prod',
      taskDefinition: 'web',
      containerInstances: ['ci1', b, `${ARN}:container-instance/prod/nope`],
      startedBy: 'my-scheduler',
    });
    assert.equal(out.tasks!.length, 1);
    assert.equal(out.tasks![0]!.containerInstanceArn, a);
    assert.equal(out.tasks![0]!.startedBy, 'my-scheduler');
    assert.deepEqual(out.failures, [
      { arn: b, reason: 'DRAINING', detail: 'Container instance ci2 is DRAINING, so it takes no new tasks.' },
      { arn: `${ARN}:container-instance/prod/nope`, reason: 'MISSING' },
    ]);
  });

  it('checks its limits', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx);
    const start = (extra: object) =>
      ops.StartTask!(ctx, { cluster: 'prod', taskDefinition: 'web', containerInstances: ['ci1'], ...extra });
    await assert.rejects(
      start({ startedBy: 's'.repeat(37) }),
      fails('InvalidParameterException', /startedBy can be at most 36/),
    );
    await assert.rejects(
      start({ containerInstances: [] }),
      fails('InvalidParameterException', /containerInstances cannot be empty/),
    );
    await assert.rejects(
      start({ containerInstances: Array.from({ length: 11 }, () => 'ci1') }),
      fails('InvalidParameterException', /at most 10/),
    );
  });
});

describe('StopTask, DescribeTasks, ListTasks', () => {
  async function withTasks() {
    const ctx = await setup();
    const ci = await seedInstance(ctx, 'ci1');
    await register(ctx);
    await register(ctx, { family: 'batch' });
    const a = (await run(ctx, { startedBy: 'alice', tags: [{ key: 'k', value: 'v' }] })).tasks![0]!;
    const b = (await run(ctx, { taskDefinition: 'batch' })).tasks![0]!;
    return { ctx, ci, a, b };
  }

  it('stops a task: desiredStatus STOPPED, UserInitiated, the default reason', async () => {
    const { ctx, a } = await withTasks();
    const out = await ops.StopTask!(ctx, { cluster: 'prod', task: a.taskArn! });
    assert.equal(out.task!.desiredStatus, 'STOPPED');
    assert.equal(out.task!.stopCode, 'UserInitiated');
    assert.equal(out.task!.stoppedReason, 'Task stopped by user');
    assert.equal(out.task!.stoppingAt, ctx.clock.now() / 1000);
    const id = a.taskArn!.split('/').pop()!;
    const again = await ops.StopTask!(ctx, { cluster: 'prod', task: id, reason: 'later' });
    assert.equal(again.task!.stoppedReason, 'Task stopped by user');
    await assert.rejects(
      ops.StopTask!(ctx, { cluster: 'prod', task: 'nope' }),
      fails('InvalidParameterException', new RegExp(`^${TASK_NOT_FOUND_MESSAGE}$`)),
    );
    await assert.rejects(
      ops.StopTask!(ctx, { cluster: 'prod', task: `${ARN}:task/other/${id}` }),
      fails('InvalidParameterException', /not found/),
    );
  });

  it('describes by id or ARN, with tags on request, MISSING with the full ARN', async () => {
    const { ctx, a, b } = await withTasks();
    const idA = a.taskArn!.split('/').pop()!;
    const out = await ops.DescribeTasks!(ctx, {
      cluster: 'prod',
      tasks: [idA, b.taskArn!, 'gone', 'arn:aws:ecs:x'],
      include: ['TAGS'],
    });
    assert.deepEqual(
      out.tasks!.map((t) => t.taskArn),
      [a.taskArn, b.taskArn],
    );
    assert.deepEqual(out.tasks![0]!.tags, [{ key: 'k', value: 'v' }]);
    assert.equal('berth' in out.tasks![0]!, false);
    assert.deepEqual(out.failures, [
      { arn: `${ARN}:task/prod/gone`, reason: 'MISSING' },
      { arn: 'arn:aws:ecs:x', reason: 'MISSING' },
    ]);
    const plain = await ops.DescribeTasks!(ctx, { cluster: 'prod', tasks: [idA] });
    assert.equal('tags' in plain.tasks![0]!, false);
    await assert.rejects(
      ops.DescribeTasks!(ctx, { cluster: 'prod', tasks: [] }),
      fails('InvalidParameterException'),
    );
    await assert.rejects(
      ops.DescribeTasks!(ctx, { cluster: 'prod', tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) }),
      fails('InvalidParameterException', /at most 100/),
    );
    await assert.rejects(
      ops.DescribeTasks!(ctx, { cluster: 'nope', tasks: [idA] }),
      fails('ClusterNotFoundException'),
    );
  });

  it('lists with filters; stopped tasks only with desiredStatus STOPPED', async () => {
    const { ctx, ci, a, b } = await withTasks();
    const list = async (extra: object = {}) =>
      (await ops.ListTasks!(ctx, { cluster: 'prod', ...extra })).taskArns!.sort();
    assert.deepEqual(await list(), [a.taskArn, b.taskArn].sort());
    assert.deepEqual(await list({ family: 'batch' }), [b.taskArn]);
    assert.deepEqual(await list({ startedBy: 'alice' }), [a.taskArn]);
    assert.deepEqual(await list({ containerInstance: ci }), [a.taskArn, b.taskArn].sort());
    assert.deepEqual(await list({ launchType: 'FARGATE' }), []);
    await ops.StopTask!(ctx, { cluster: 'prod', task: a.taskArn! });
    assert.deepEqual(await list(), [b.taskArn]);
    assert.deepEqual(await list({ desiredStatus: 'STOPPED' }), [a.taskArn]);
    assert.deepEqual(await list({ desiredStatus: 'PENDING' }), []);
    await assert.rejects(
      ops.ListTasks!(ctx, { cluster: 'prod', serviceName: 'svc' }),
      fails('ServiceNotFoundException'),
    );
    const service: ServiceRecord = {
      serviceArn: `${ARN}:service/prod/svc`,
      serviceName: 'svc',
      clusterArn: `${ARN}:cluster/prod`,
      tags: [],
    };
    await ctx.store.txn([], [{ kind: 'put', key: keys.service(ctx, 'prod', 'svc'), value: service }]);
    assert.deepEqual(await list({ serviceName: 'svc' }), []);

    const page1 = await ops.ListTasks!(ctx, { cluster: 'prod', desiredStatus: 'RUNNING', maxResults: 1 });
    assert.equal(page1.taskArns!.length, 1);
    assert.equal(page1.nextToken, undefined, 'one running task fits one page');
  });

  it('pages through tasks', async () => {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1', { memory: 8192 });
    await register(ctx);
    await run(ctx, { count: 5 });
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ops.ListTasks!(ctx, {
        cluster: 'prod',
        maxResults: 2,
        ...(nextToken ? { nextToken } : {}),
      });
      seen.push(...page.taskArns!);
      nextToken = page.nextToken;
    } while (nextToken);
    assert.equal(new Set(seen).size, 5);
  });
});

describe('Submit*StateChange', () => {
  async function oneTask(networkMode?: 'awsvpc') {
    const ctx = await setup();
    await seedInstance(ctx, 'ci1');
    await register(ctx, networkMode ? { networkMode } : {});
    const t = (
      await run(ctx, networkMode ? { networkConfiguration: { awsvpcConfiguration: { subnets: ['s'] } } } : {})
    ).tasks![0]!;
    const get = async () =>
      (await ctx.store.get<TaskRecord>(keys.task(ctx, 'prod', t.taskArn!.split('/').pop()!)))!.value;
    return { ctx, t, get };
  }

  it('SubmitTaskStateChange applies the change and answers ACK; STOPPED gives resources back', async () => {
    const { ctx, t, get } = await oneTask();
    const out = await ops.SubmitTaskStateChange!(ctx, {
      cluster: 'prod',
      task: t.taskArn!,
      status: 'RUNNING',
      containers: [{ containerName: 'app', status: 'RUNNING', runtimeId: 'docker-1' }],
      pullStartedAt: 10,
      pullStoppedAt: 11,
    });
    assert.deepEqual(out, { acknowledgment: 'ACK' });
    const running = await get();
    assert.equal(running.lastStatus, 'RUNNING');
    assert.equal(running.pullStartedAt, 10);
    assert.equal(running.containers![0]!.runtimeId, 'docker-1');
    assert.equal((await storedInstance(ctx, 'ci1')).runningTasksCount, 1);

    await ops.SubmitTaskStateChange!(ctx, {
      cluster: 'prod',
      task: t.taskArn!,
      status: 'STOPPED',
      reason: 'done',
    });
    const stopped = await get();
    assert.equal(stopped.lastStatus, 'STOPPED');
    assert.equal(stopped.stoppedReason, 'done');
    const ci = await storedInstance(ctx, 'ci1');
    assert.equal(instanceRemaining(ci.remainingResources).memory, 2048);
    assert.equal(ci.runningTasksCount, 0);

    await assert.rejects(
      ops.SubmitTaskStateChange!(ctx, { cluster: 'prod', task: 'nope', status: 'RUNNING' }),
      fails('InvalidParameterException', new RegExp(TASK_NOT_FOUND_MESSAGE)),
    );
    await assert.rejects(
      ops.SubmitTaskStateChange!(ctx, { cluster: 'prod', task: t.taskArn!, status: 'FLYING' }),
      fails('InvalidParameterException', /not a task status/),
    );
  });

  it('SubmitContainerStateChange moves one container forward', async () => {
    const { ctx, t, get } = await oneTask();
    await ops.SubmitContainerStateChange!(ctx, {
      cluster: 'prod',
      task: t.taskArn!,
      containerName: 'app',
      status: 'RUNNING',
      networkBindings: [{ containerPort: 80, hostPort: 49153, protocol: 'tcp' }],
    });
    const after = await get();
    assert.equal(after.containers![0]!.lastStatus, 'RUNNING');
    assert.deepEqual(after.containers![0]!.networkBindings, [
      { containerPort: 80, hostPort: 49153, protocol: 'tcp' },
    ]);
    assert.equal(after.lastStatus, 'PROVISIONING');
    await assert.rejects(
      ops.SubmitContainerStateChange!(ctx, {
        cluster: 'prod',
        task: t.taskArn!,
        containerName: 'nope',
        status: 'RUNNING',
      }),
      fails('InvalidParameterException', /not a container of the task/),
    );
  });

  it("SubmitAttachmentStateChanges moves the task's ENI attachment", async () => {
    const { ctx, t, get } = await oneTask('awsvpc');
    const id = t.attachments![0]!.id!;
    const out = await ops.SubmitAttachmentStateChanges!(ctx, {
      cluster: 'prod',
      attachments: [{ attachmentArn: `${ARN}:attachment/${id}`, status: 'ATTACHED' }],
    });
    assert.deepEqual(out, { acknowledgment: 'ACK' });
    assert.equal((await get()).attachments![0]!.status, 'ATTACHED');
    await assert.rejects(
      ops.SubmitAttachmentStateChanges!(ctx, {
        cluster: 'prod',
        attachments: [{ attachmentArn: 'nope', status: 'ATTACHED' }],
      }),
      fails('InvalidParameterException', /no task of cluster prod has attachment/),
    );
  });
});
