// Services end to end: a real `berth server`, a real `berth agent` on the local Docker engine, and
// the AWS CLI's own waiters (`aws ecs wait services-stable`, `tasks-running`, `tasks-stopped`,
// `services-inactive`).
// Covers: a service reaching its steady state, a container killed from outside being replaced, a
// rolling update, the circuit breaker rolling back an image that does not exist, and
// DeleteService --force draining to INACTIVE.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';
import { busyboxImage, ensureBusyboxImage, startTestRegistry, type TestRegistry } from '../support/images.js';
import {
  createCluster,
  describeTask,
  docker,
  runId,
  startAgentProcess,
  sweep,
  waitFor,
  waitForInstance,
  type AgentProcess,
} from '../agent/agent-harness.js';

const run = promisify(execFile);
const cluster = `svc-${runId}`;
const network = `berth-it-svc-${runId}`;
let server: BerthProcess;
let agent: AgentProcess;
let ecs: ECSClient;
let registry: TestRegistry;

/** The AWS CLI against Berth; waiters poll every 15 s (the model's delay), so they get 3 minutes. */
async function aws(...args: string[]): Promise<string> {
  const { stdout } = await run('aws', ['--endpoint-url', server.url, '--output', 'json', 'ecs', ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'berth',
      AWS_SECRET_ACCESS_KEY: 'berth',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    },
    timeout: 180_000,
  });
  return stdout;
}

async function describe1(name: string): Promise<Service> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
  const s = out.services?.[0];
  if (!s) throw new Error(`service ${name} not found: ${JSON.stringify(out.failures)}`);
  return s;
}

async function register(family: string, image: string, extra: { command?: string[] } = {}): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: 'app', image, memory: 32, command: extra.command ?? ['sleep', '3600'] }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

async function serviceTasks(name: string): Promise<string[]> {
  const out = await ecs.send(new ListTasksCommand({ cluster, serviceName: name }));
  return out.taskArns ?? [];
}

before(async () => {
  await ensureBusyboxImage();
  registry = await startTestRegistry({ repositories: ['berth/present'] });
  server = await startBerthServer();
  ecs = ecsClient(server.url);
  await createCluster(ecs, cluster);
  agent = startAgentProcess({
    endpoint: server.url,
    cluster,
    taskSubnet: '198.19.44.0/24',
    taskNetwork: network,
  });
  await waitForInstance(ecs, cluster, agent);
});

after(async () => {
  await agent?.kill();
  await server?.stop();
  await registry?.close();
  await sweep([cluster], [network]);
});

describe('services on a real agent', () => {
  it('reaches a steady state (aws ecs wait services-stable), its tasks run, and a killed container is replaced', async () => {
    await register('svc-web', busyboxImage);
    await ecs.send(
      new CreateServiceCommand({ cluster, serviceName: 'web', taskDefinition: 'svc-web', desiredCount: 2 }),
    );
    await aws('wait', 'services-stable', '--cluster', cluster, '--services', 'web');
    const s = await describe1('web');
    assert.equal(s.runningCount, 2);
    assert.equal(s.deployments?.length, 1);
    const tasks = await serviceTasks('web');
    assert.equal(tasks.length, 2);
    await aws('wait', 'tasks-running', '--cluster', cluster, '--tasks', ...tasks);

    const victim = await describeTask(ecs, cluster, tasks[0]!);
    const containerId = victim.containers?.[0]?.runtimeId;
    assert.ok(containerId, 'the task reports its container');
    await docker.getContainer(containerId).kill();
    await waitFor(
      'a replacement task',
      async () => {
        const now = await serviceTasks('web');
        return now.length === 2 && !now.includes(tasks[0]!) ? now : undefined;
      },
      30_000,
      200,
    );
    await aws('wait', 'services-stable', '--cluster', cluster, '--services', 'web');
    const events = (await describe1('web')).events?.map((e) => e.message ?? '') ?? [];
    assert.ok(
      events.some((m) => m.includes(`(task ${tasks[0]!.split('/').pop()}) stopped:`)),
      events.join('\n'),
    );
  });

  it('rolls out a new task definition and ends with one deployment', async () => {
    const v2 = await register('svc-web', busyboxImage, { command: ['sh', '-c', 'exec sleep 3601'] });
    await ecs.send(new UpdateServiceCommand({ cluster, service: 'web', taskDefinition: v2 }));
    await aws('wait', 'services-stable', '--cluster', cluster, '--services', 'web');
    const s = await describe1('web');
    assert.equal(s.deployments?.length, 1);
    assert.equal(s.deployments?.[0]?.taskDefinition, v2);
    for (const arn of await serviceTasks('web')) {
      assert.equal((await describeTask(ecs, cluster, arn)).taskDefinitionArn, v2);
    }
  });

  it('circuit breaker: an image that does not exist fails the deployment and rolls back', async () => {
    await register('svc-cb', busyboxImage);
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: 'cb',
        taskDefinition: 'svc-cb',
        desiredCount: 1,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    await aws('wait', 'services-stable', '--cluster', cluster, '--services', 'cb');
    // Only a COMPLETED deployment can be rolled back to: its task has to prove stable first.
    const good = await waitFor(
      'the first deployment to complete',
      async () => {
        const d = (await describe1('cb')).deployments?.[0];
        return d?.rolloutState === 'COMPLETED' ? d : undefined;
      },
      30_000,
      200,
    );
    const bad = await register('svc-cb', `${registry.host}/berth/absent:latest`);
    await ecs.send(new UpdateServiceCommand({ cluster, service: 'cb', taskDefinition: bad }));
    let last: Service | undefined;
    const back = await waitFor(
      'the rollback to complete',
      async () => {
        const s = (last = await describe1('cb'));
        const d = s.deployments ?? [];
        return d.length === 1 && d[0]!.id === good.id && d[0]!.rolloutState === 'COMPLETED' ? s : undefined;
      },
      90_000,
      500,
    ).catch((e: unknown) => {
      throw new Error(
        `${String(e)}\nservice: ${JSON.stringify(last, null, 1)}\nserver: ${server.output().slice(-3000)}`,
      );
    });
    const events = back.events?.map((e) => e.message ?? '') ?? [];
    assert.ok(
      events.some((m) => /deployment failed: tasks failed to start\./.test(m)),
      events.join('\n'),
    );
    assert.ok(events.some((m) => m.includes(`rolling back to deployment ${good.id}`)));
    assert.ok(events.some((m) => /stopped: CannotPullContainerError/.test(m)));
    assert.equal(back.taskDefinition, good.taskDefinition);
    await aws('wait', 'services-stable', '--cluster', cluster, '--services', 'cb');
  });

  it('DeleteService --force stops the tasks (wait tasks-stopped) and drains the service to INACTIVE (wait services-inactive)', async () => {
    const running = await serviceTasks('cb');
    assert.equal(running.length, 1);
    await aws('delete-service', '--cluster', cluster, '--service', 'cb', '--force');
    await aws('wait', 'tasks-stopped', '--cluster', cluster, '--tasks', ...running);
    await aws('wait', 'services-inactive', '--cluster', cluster, '--services', 'cb');
    assert.equal((await describe1('cb')).status, 'INACTIVE');
    assert.deepEqual(await serviceTasks('cb'), []);
  });
});
