// Stopped tasks are forgotten after the retention, through @aws-sdk/client-ecs against a real
// `berth server` process (retention 3 s, a pass every 200 ms). The container instance's agent is
// a scripted one (src/gateway/fake-agent.ts) so that RunTask places without Docker; the task's
// states come in through SubmitTaskStateChange, as an agent of ECS would send them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  SubmitTaskStateChangeCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { FakeAgent, waitFor } from '../../src/gateway/fake-agent.js';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';

const CLUSTER = 'retention';
const RETENTION_MS = 3_000;

let berth: BerthProcess;
let ecs: ECSClient;
let agent: FakeAgent | undefined;

before(async () => {
  berth = await startBerthServer({
    env: {
      BERTH_STOPPED_TASK_RETENTION_MS: String(RETENTION_MS),
      BERTH_RETENTION_INTERVAL_MS: '200',
    },
  });
  ecs = ecsClient(berth.url);
});

after(async () => {
  agent?.terminate();
  ecs.destroy();
  await berth.stop();
});

async function submit(taskArn: string, status: 'RUNNING' | 'STOPPED'): Promise<void> {
  const r = await ecs.send(
    new SubmitTaskStateChangeCommand({
      cluster: CLUSTER,
      task: taskArn,
      status,
      containers: [{ containerName: 'app', status, ...(status === 'STOPPED' ? { exitCode: 0 } : {}) }],
    }),
  );
  assert.equal(r.acknowledgment, 'ACK');
}

async function listStopped(): Promise<string[]> {
  return (
    (await ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus: 'STOPPED' }))).taskArns ?? []
  );
}

describe('stopped task retention', () => {
  it('a STOPPED task leaves ListTasks and is MISSING for DescribeTasks after the retention', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'ret-web',
        containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64, cpu: 64 }],
      }),
    );
    const ci = await ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: CLUSTER,
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 },
        ],
      }),
    );
    const instanceArn = ci.containerInstance!.containerInstanceArn!;
    const session = await FakeAgent.session(berth.url, {
      hostId: 'retention-host',
      instances: [{ containerInstanceArn: instanceArn }],
    });
    agent = session.agent;
    assert.equal(session.welcome.refusedInstances, undefined);

    const run = await ecs.send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'ret-web', launchType: 'EC2', count: 2 }),
    );
    assert.deepEqual(run.failures, []);
    const [kept, gone] = run.tasks!.map((t) => t.taskArn!) as [string, string];
    await submit(kept, 'RUNNING');
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: gone, reason: 'done with it' }));
    await submit(gone, 'STOPPED');

    const stoppedTask = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [gone] })))
      .tasks![0]!;
    assert.equal(stoppedTask.lastStatus, 'STOPPED');
    assert.equal(stoppedTask.stoppedReason, 'done with it');
    const stoppedAtMs = stoppedTask.stoppedAt!.getTime();
    assert.ok((await listStopped()).includes(gone));

    // Halfway through the retention it is still there.
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAtMs + RETENTION_MS / 2 - Date.now())));
    if (Date.now() < stoppedAtMs + RETENTION_MS - 500) {
      assert.ok((await listStopped()).includes(gone), 'purged before its retention');
    }

    await waitFor(
      'the stopped task to leave ListTasks',
      async () => !(await listStopped()).includes(gone),
      20_000,
      100,
    );
    // The SDK rounds stoppedAt to the millisecond.
    assert.ok(Date.now() >= stoppedAtMs + RETENTION_MS - 1, 'purged before its retention');

    const described = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [gone, kept] }));
    assert.deepEqual(described.failures, [{ arn: gone, reason: 'MISSING' }]);
    assert.deepEqual(
      described.tasks!.map((t) => [t.taskArn, t.lastStatus]),
      [[kept, 'RUNNING']],
    );
    const running = await ecs.send(new ListTasksCommand({ cluster: CLUSTER }));
    assert.deepEqual(running.taskArns, [kept]);
    const instance = await ecs.send(
      new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [instanceArn] }),
    );
    assert.equal(instance.containerInstances![0]!.runningTasksCount, 1);
    assert.equal(instance.containerInstances![0]!.pendingTasksCount, 0);
  });
});
