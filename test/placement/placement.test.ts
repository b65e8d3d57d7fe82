// The placement engine through the ECS API of a real `berth server`: instances registered with
// zones, sizes and attributes, served by scripted agents; RunTask / StartTask with strategies and
// constraints, the cluster query language in constraints and in ListContainerInstances, capacity
// provider shares, GPUs, and RunTask's failure reasons. Each test has its own cluster.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import {
  CreateCapacityProviderCommand,
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  PutAttributesCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  type ECSClient,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';
import { PlacementCluster, tally, type InstanceSpec } from './harness.js';

let server: BerthProcess;
let ecs: ECSClient;
const clusters: PlacementCluster[] = [];
let n = 0;

async function cluster(specs: readonly InstanceSpec[]): Promise<PlacementCluster> {
  const c = await PlacementCluster.create(ecs, server.url, `place-${++n}`);
  clusters.push(c);
  await c.addInstances(specs);
  return c;
}

async function run(c: PlacementCluster, input: Omit<RunTaskCommandInput, 'cluster'>) {
  return ecs.send(new RunTaskCommand({ cluster: c.name, launchType: 'EC2', ...input }));
}

async function invalidParameter(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { name?: string; message?: string };
    assert.equal(err.name, 'InvalidParameterException', err.message);
    return err.message ?? '';
  }
  assert.fail('expected InvalidParameterException');
}

before(async () => {
  server = await startBerthServer();
  ecs = ecsClient(server.url);
  const small = (family: string, memory: number, extra: object = {}) =>
    ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        containerDefinitions: [{ name: 'app', image: 'busybox', cpu: 128, memory, ...extra }],
      }),
    );
  await small('web', 256);
  await small('big', 1024);
  await small('checked', 128, { healthCheck: { command: ['CMD', 'true'] } });
  await small('gpu', 128, { resourceRequirements: [{ type: 'GPU', value: '1' }] });
  await small('ported', 64, { portMappings: [{ containerPort: 80, hostPort: 8080 }] });
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'prod-only',
      containerDefinitions: [{ name: 'app', image: 'busybox', memory: 128 }],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack == prod' }],
    }),
  );
});

after(async () => {
  for (const c of clusters) c.close();
  const dir = server?.dataDir;
  await server?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('strategies', () => {
  it('spread over zones keeps every zone within one task of the others, then spreads inside each zone', async () => {
    const c = await cluster([
      { name: 'a1', zone: 'us-east-1a' },
      { name: 'a2', zone: 'us-east-1a' },
      { name: 'a3', zone: 'us-east-1a' },
      { name: 'b1', zone: 'us-east-1b' },
      { name: 'b2', zone: 'us-east-1b' },
      { name: 'c1', zone: 'us-east-1c' },
    ]);
    const placed: string[] = [];
    for (const count of [1, 10, 4, 9, 6]) {
      const r = await run(c, {
        taskDefinition: 'web',
        count,
        placementStrategy: [
          { type: 'spread', field: 'attribute:ecs.availability-zone' },
          { type: 'spread', field: 'instanceId' },
        ],
      });
      assert.deepEqual(r.failures, []);
      placed.push(...c.placedOn(r.tasks!));
      const zones = Object.values(tally(placed.map((name) => name[0]!)));
      assert.ok(
        Math.max(...zones) - Math.min(...zones) <= 1,
        `zones uneven: ${JSON.stringify(tally(placed))}`,
      );
    }
    assert.deepEqual(tally(placed.map((name) => name[0]!)), { a: 10, b: 10, c: 10 });
    // Inside each zone the tasks spread over its instances: 10 on 3 is 4/3/3, on 2 is 5/5.
    const each = tally(placed);
    assert.deepEqual([each.a1!, each.a2!, each.a3!].sort(), [3, 3, 4]);
    assert.deepEqual([each.b1, each.b2, each.c1], [5, 5, 10]);
    // The tasks say where they run.
    const described = await c.describe(
      (
        await run(c, {
          taskDefinition: 'web',
          placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
        })
      ).tasks!.map((t) => t.taskArn!),
    );
    assert.match(described[0]!.availabilityZone ?? '', /^us-east-1[abc]$/);
  });

  it('binpack on memory fills the instance with the least memory left before the next', async () => {
    const c = await cluster([
      { name: 'large', memory: 2048 },
      { name: 'small', memory: 1024 },
      { name: 'medium', memory: 1536 },
    ]);
    const r = await run(c, {
      taskDefinition: 'web',
      count: 10,
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
    });
    assert.deepEqual(r.failures, []);
    assert.deepEqual(c.placedOn(r.tasks!), [
      ...Array<string>(4).fill('small'),
      ...Array<string>(6).fill('medium'),
    ]);
    // The next call goes on filling `large` (the only one with room), and the one after that fails.
    const more = await run(c, {
      taskDefinition: 'web',
      count: 10,
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
    });
    assert.deepEqual(c.placedOn(more.tasks!), Array<string>(8).fill('large'));
    assert.deepEqual(
      c.reasons(more.failures),
      [
        ['large', 'RESOURCE:MEMORY'],
        ['medium', 'RESOURCE:MEMORY'],
        ['small', 'RESOURCE:MEMORY'],
      ].sort((x, y) => (c.arnOf.get(x[0]!)! < c.arnOf.get(y[0]!)! ? -1 : 1)),
    );
  });

  it('by default (no strategy) spreads a call over the instances', async () => {
    const c = await cluster([{ name: 'x' }, { name: 'y' }, { name: 'z' }]);
    const r = await run(c, { taskDefinition: 'web', count: 6 });
    assert.deepEqual(Object.values(tally(c.placedOn(r.tasks!))), [2, 2, 2]);
  });
});

describe('constraints', () => {
  it('memberOf with attributes put after registration, task groups and the task definition’s own constraint', async () => {
    const c = await cluster([{ name: 'p1' }, { name: 'p2' }, { name: 's1' }, { name: 'none' }]);
    await ecs.send(
      new PutAttributesCommand({
        cluster: c.name,
        attributes: [
          { name: 'stack', value: 'prod', targetId: c.arnOf.get('p1')! },
          { name: 'stack', value: 'prod', targetId: c.arnOf.get('p2')! },
          { name: 'stack', value: 'staging', targetId: c.arnOf.get('s1')! },
        ],
      }),
    );
    const prod = await run(c, {
      taskDefinition: 'web',
      count: 6,
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack == prod' }],
    });
    assert.deepEqual(tally(c.placedOn(prod.tasks!)), { p1: 3, p2: 3 });

    const defined = await run(c, { taskDefinition: 'prod-only', count: 4 });
    assert.deepEqual(new Set(c.placedOn(defined.tasks!)), new Set(['p1', 'p2']));

    // Away from the instances running `web` tasks (group family:web): s1 and none.
    const apart = await run(c, {
      taskDefinition: 'web',
      group: 'batch',
      count: 4,
      placementConstraints: [{ type: 'memberOf', expression: 'not(task:group == family:web)' }],
    });
    assert.deepEqual(new Set(c.placedOn(apart.tasks!)), new Set(['s1', 'none']));
    const combined = await run(c, {
      taskDefinition: 'web',
      placementConstraints: [
        {
          type: 'memberOf',
          expression:
            'attribute:stack in [staging, qa] or (attribute:stack !exists and runningTasksCount >= 0)',
        },
        { type: 'memberOf', expression: 'agentVersion >= 1.14.5 && agentConnected == true' },
      ],
      count: 10,
    });
    assert.deepEqual(new Set(c.placedOn(combined.tasks!)), new Set(['s1', 'none']));
  });

  it('distinctInstance puts one task of the group per instance and says ATTRIBUTE for the rest', async () => {
    const c = await cluster([{ name: 'd1' }, { name: 'd2' }, { name: 'd3' }]);
    const r = await run(c, {
      taskDefinition: 'web',
      group: 'singleton',
      count: 5,
      placementConstraints: [{ type: 'distinctInstance' }],
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
    });
    assert.deepEqual(c.placedOn(r.tasks!).sort(), ['d1', 'd2', 'd3']);
    assert.deepEqual(new Set(c.reasons(r.failures).map(([, reason]) => reason)), new Set(['ATTRIBUTE']));
    assert.equal(r.failures!.length, 3);
    assert.match(r.failures![0]!.detail ?? '', /already runs a task of group singleton/);
    // Another group is not counted.
    const other = await run(c, {
      taskDefinition: 'web',
      group: 'other',
      count: 3,
      placementConstraints: [{ type: 'distinctInstance' }],
    });
    assert.equal(other.tasks!.length, 3);
  });

  it('a malformed expression is refused with where and why, in RunTask and in RegisterTaskDefinition', async () => {
    const c = await cluster([{ name: 'only' }]);
    const m1 = await invalidParameter(
      run(c, {
        taskDefinition: 'web',
        placementConstraints: [
          { type: 'memberOf', expression: 'attribute:stack == prod' },
          { type: 'memberOf', expression: 'attribute:stack == prod and (runningTasksCount > 2' },
        ],
      }),
    );
    assert.match(
      m1,
      /^placementConstraints\[1\]\.expression is not a valid cluster query expression: .+ at column \d+\.$/,
    );
    const m2 = await invalidParameter(
      run(c, {
        taskDefinition: 'web',
        placementConstraints: [{ type: 'memberOf', expression: 'registeredAt > yesterday' }],
      }),
    );
    assert.match(m2, /'yesterday' is not a date/);
    const m3 = await invalidParameter(
      ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'bad-expression',
          containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }],
          placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ (t2' }],
        }),
      ),
    );
    assert.match(m3, /^placementConstraints\[0\]\.expression is not a valid cluster query expression: /);
    const m4 = await invalidParameter(
      run(c, { taskDefinition: 'web', placementStrategy: [{ type: 'spread', field: 'zone' }] }),
    );
    assert.match(m4, /^placementStrategy\[0\]\.field must be instanceId, host or attribute:<name>/);
    const m5 = await invalidParameter(
      run(c, {
        taskDefinition: 'web',
        placementStrategy: Array.from({ length: 6 }, () => ({ type: 'random' as const })),
      }),
    );
    assert.match(m5, /at most 5 strategies/);
  });
});

describe('ListContainerInstances filter', () => {
  it('filters with the cluster query language, attributes and task groups alike', async () => {
    const c = await cluster([
      { name: 'm5', zone: 'us-east-1a', attributes: { 'ecs.instance-type': 'm5.large' } },
      { name: 't3', zone: 'us-east-1b', attributes: { 'ecs.instance-type': 't3.small' } },
      { name: 'off', zone: 'us-east-1b', connect: false },
    ]);
    const list = async (filter: string) =>
      new Set(
        (
          await ecs.send(new ListContainerInstancesCommand({ cluster: c.name, filter }))
        ).containerInstanceArns!.map((arn) => c.nameOf.get(arn)!),
      );
    assert.deepEqual(await list('attribute:ecs.instance-type =~ t3.*'), new Set(['t3']));
    assert.deepEqual(
      await list('attribute:ecs.availability-zone == us-east-1b and agentConnected == false'),
      new Set(['off']),
    );
    assert.deepEqual(await list('attribute:ecs.instance-type not_exists'), new Set(['off']));
    await run(c, {
      taskDefinition: 'web',
      group: 'database',
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type == m5.large' }],
    });
    assert.deepEqual(await list('task:group == database'), new Set(['m5']));
    assert.deepEqual(
      await list('runningTasksCount == 0'),
      new Set(['m5', 't3', 'off']),
      'a PROVISIONING task is not running',
    );
    const msg = await invalidParameter(
      ecs.send(new ListContainerInstancesCommand({ cluster: c.name, filter: 'attribute:x in [a, b' })),
    );
    assert.match(msg, /^filter is not a valid cluster query expression: .*column \d+\.$/);
  });
});

describe('failures and concurrency', () => {
  it('names the requirement each instance failed: RESOURCE:MEMORY, RESOURCE:PORTS, ATTRIBUTE, AGENT, DRAINING', async () => {
    const c = await cluster([
      { name: 'tiny', memory: 512 },
      { name: 'busy', attributes: { 'ecs.capability.container-health-check': undefined } },
      { name: 'plain' },
      { name: 'down', connect: false, attributes: { 'ecs.capability.container-health-check': undefined } },
      { name: 'drain', attributes: { 'ecs.capability.container-health-check': undefined } },
    ]);
    await ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster: c.name,
        containerInstances: [c.arnOf.get('drain')!],
        status: 'DRAINING',
      }),
    );
    // `busy` has the capability but little memory left once a big task runs there.
    const first = await run(c, {
      taskDefinition: 'big',
      count: 7,
      placementConstraints: [
        {
          type: 'memberOf',
          expression: 'attribute:ecs.capability.container-health-check exists and agentConnected == true',
        },
      ],
    });
    assert.deepEqual(tally(c.placedOn(first.tasks!)), { busy: 7 });
    const r = await run(c, {
      taskDefinition: 'checked',
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
      overrides: { containerOverrides: [{ name: 'app', memory: 1100 }] },
    });
    assert.deepEqual(r.tasks, []);
    const byName = Object.fromEntries(c.reasons(r.failures));
    assert.deepEqual(byName, {
      tiny: 'RESOURCE:MEMORY',
      busy: 'RESOURCE:MEMORY',
      plain: 'ATTRIBUTE',
      down: 'AGENT',
      drain: 'DRAINING',
    });
    const plain = r.failures!.find((f) => f.arn === c.arnOf.get('plain'))!;
    assert.match(
      plain.detail ?? '',
      /missing an attribute required by your task \(ecs\.capability\.container-health-check\)/,
    );
    // StartTask on a named instance judges the same requirements.
    const started = await ecs.send(
      new StartTaskCommand({
        cluster: c.name,
        taskDefinition: 'checked',
        containerInstances: [c.arnOf.get('plain')!, c.arnOf.get('busy')!],
      }),
    );
    assert.deepEqual(c.placedOn(started.tasks!), ['busy']);
    assert.deepEqual(c.reasons(started.failures), [['plain', 'ATTRIBUTE']]);
    // A static host port: one task per instance, then RESOURCE:PORTS.
    const ports = await run(c, { taskDefinition: 'ported', count: 4 });
    assert.deepEqual(new Set(c.placedOn(ports.tasks!)), new Set(['tiny', 'busy', 'plain']));
    assert.equal(Object.fromEntries(c.reasons(ports.failures)).plain, 'RESOURCE:PORTS');
  });

  it('never overcommits a nearly full instance under 20 concurrent RunTasks', async () => {
    const c = await cluster([{ name: 'full', memory: 5 * 256 + 100, cpu: 8192 }]);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        run(c, { taskDefinition: 'web', placementStrategy: [{ type: 'binpack', field: 'memory' }] }),
      ),
    );
    const placed = results.flatMap((r) => r.tasks ?? []);
    assert.equal(placed.length, 5);
    for (const r of results.filter((x) => (x.tasks ?? []).length === 0)) {
      assert.deepEqual(c.reasons(r.failures), [['full', 'RESOURCE:MEMORY']]);
    }
    const ci = (
      await ecs.send(
        new DescribeContainerInstancesCommand({
          cluster: c.name,
          containerInstances: [c.arnOf.get('full')!],
        }),
      )
    ).containerInstances![0]!;
    assert.equal(ci.remainingResources!.find((x) => x.name === 'MEMORY')!.integerValue, 100);
    assert.equal(ci.pendingTasksCount, 5);
  });

  it('distinctInstance holds under concurrent RunTasks of the same group', async () => {
    const c = await cluster([{ name: 'u1' }, { name: 'u2' }, { name: 'u3' }, { name: 'u4' }]);
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        run(c, {
          taskDefinition: 'web',
          group: 'leader',
          placementConstraints: [{ type: 'distinctInstance' }],
        }),
      ),
    );
    const placed = results.flatMap((r) => c.placedOn(r.tasks ?? []));
    assert.deepEqual(placed.sort(), ['u1', 'u2', 'u3', 'u4']);
  });
});

describe('capacity providers and GPUs', () => {
  it('places each capacity provider share on that provider’s instances, base first', async () => {
    // od: a named group (attribute ecs.capacity-provider); spot: its Auto Scaling group's name.
    const [od, spot, empty] = ['od', 'spot', 'empty'];
    const c = await cluster([
      { name: 'od1', attributes: { 'ecs.capacity-provider': od } },
      { name: 'od2', attributes: { 'ecs.capacity-provider': od } },
      { name: 'spot1', attributes: { 'ecs.autoscaling-group': 'spot-asg' } },
      { name: 'other' },
    ]);
    const asg = (name: string) =>
      `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0d4fcf34-51b0-4b1e-8a3a-9c2a1f6f5a11:autoScalingGroupName/${name}`;
    for (const name of [od, spot, empty]) {
      await ecs.send(
        new CreateCapacityProviderCommand({
          name,
          autoScalingGroupProvider: { autoScalingGroupArn: asg(`${name}-asg`) },
        }),
      );
    }
    await ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: c.name,
        capacityProviders: [od, spot, empty],
        defaultCapacityProviderStrategy: [{ capacityProvider: spot, weight: 1 }],
      }),
    );
    const r = await ecs.send(
      new RunTaskCommand({
        cluster: c.name,
        taskDefinition: 'web',
        count: 8,
        capacityProviderStrategy: [
          { capacityProvider: od, base: 2, weight: 1 },
          { capacityProvider: spot, weight: 2 },
        ],
      }),
    );
    assert.deepEqual(r.failures, []);
    const pairs = r.tasks!.map((t) => [t.capacityProviderName, c.nameOf.get(t.containerInstanceArn!)]);
    assert.deepEqual(tally(pairs.map(([p]) => p!)), { [od]: 4, [spot]: 4 });
    for (const [p, inst] of pairs)
      assert.ok(p === od ? inst!.startsWith('od') : inst === 'spot1', `${p} on ${inst}`);
    // The cluster's default strategy is used without one; a provider without instances fails by name.
    const viaDefault = await ecs.send(
      new RunTaskCommand({ cluster: c.name, taskDefinition: 'web', count: 2 }),
    );
    assert.deepEqual(c.placedOn(viaDefault.tasks!), ['spot1', 'spot1']);
    // Weights 1:1 over 4 tasks: 2 for `empty` (nothing to place them on), 2 for `od`.
    const none = await ecs.send(
      new RunTaskCommand({
        cluster: c.name,
        taskDefinition: 'web',
        count: 4,
        capacityProviderStrategy: [
          { capacityProvider: empty, weight: 1 },
          { capacityProvider: od, weight: 1 },
        ],
      }),
    );
    assert.deepEqual(new Set(c.placedOn(none.tasks!)), new Set(['od1', 'od2']));
    assert.deepEqual(
      none.failures!.map((f) => [f.arn!.split('/').pop(), f.reason]),
      [[empty, 'No Container Instances were found in your capacity provider.']],
    );
  });

  it('gives a task GPUs of its own and takes them back when it stops', async () => {
    const c = await cluster([{ name: 'g', gpus: ['gpu-0', 'gpu-1'] }, { name: 'nogpu' }]);
    const first = await run(c, { taskDefinition: 'gpu', count: 3 });
    assert.deepEqual(c.placedOn(first.tasks!), ['g', 'g']);
    assert.deepEqual(first.tasks!.map((t) => t.containers![0]!.gpuIds).sort(), [['gpu-0'], ['gpu-1']]);
    assert.deepEqual(
      new Set(c.reasons(first.failures)),
      new Set(
        [
          ['g', 'RESOURCE:GPU'],
          ['nogpu', 'RESOURCE:GPU'],
        ].map((x) => x as [string, string]),
      ),
    );
    const freeGpus = async () =>
      (
        await ecs.send(
          new DescribeContainerInstancesCommand({ cluster: c.name, containerInstances: [c.arnOf.get('g')!] }),
        )
      ).containerInstances![0]!.remainingResources!.find((x) => x.name === 'GPU')!.stringSetValue;
    assert.deepEqual(await freeGpus(), []);
    const stopped = first.tasks![0]!;
    await ecs.send(new StopTaskCommand({ cluster: c.name, task: stopped.taskArn! }));
    const agent = c.agents[0]!;
    agent.send({
      type: 'report',
      id: 'gpu-stop',
      change: {
        taskArn: stopped.taskArn,
        status: 'STOPPED',
        containers: [{ containerName: 'app', status: 'STOPPED', exitCode: 0 }],
      },
    });
    assert.equal((await agent.next('ack', { where: (a) => a.id === 'gpu-stop' })).applied, true);
    assert.deepEqual(await freeGpus(), stopped.containers![0]!.gpuIds);
    const again = await run(c, { taskDefinition: 'gpu' });
    assert.deepEqual(again.tasks![0]!.containers![0]!.gpuIds, stopped.containers![0]!.gpuIds);
  });
});
