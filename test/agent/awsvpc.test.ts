// awsvpc on one host with real Docker: each task its own address on the host's task network
// (two tasks both on port 80), reported as an ElasticNetworkInterface, reachable from the host;
// one-container tasks hold their own namespace, a task of two shares a pause container's;
// the metadata endpoint read from inside a container; FARGATE on the agent's managed capacity
// with the task size as the containers' limits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type Task,
} from '@aws-sdk/client-ecs';
import { ecsClient, startBerthServer, type BerthProcess } from '../support/berth-process.js';
import { busyboxImage, ensureBusyboxImage } from '../support/images.js';
import {
  createCluster,
  docker,
  httpGet,
  inspect,
  removeDir,
  runId,
  startAgentProcess,
  sweep,
  waitFor,
  waitForInstance,
  waitForStatus,
  type AgentProcess,
} from './agent-harness.js';

const cluster = `agent-vpc-${runId}`;
const network = `berth-it-vpc-${runId}`;
let server: BerthProcess;
let agent: AgentProcess;
let ecs: ECSClient;
let binDir: string | undefined;

// The page serves the task's hostname and what the metadata endpoint told the container.
const serve = [
  'mkdir -p /www',
  'wget -q -O /www/meta.json "$ECS_CONTAINER_METADATA_URI_V4"',
  'wget -q -O /www/task.json "$ECS_CONTAINER_METADATA_URI_V4/task"',
  'echo "$MARK" > /www/index.html',
  'exec httpd -f -p 80 -h /www',
].join('; ');

function eniAddress(t: Task): string | undefined {
  return t.attachments
    ?.find((a) => a.type === 'ElasticNetworkInterface')
    ?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
}

before(async () => {
  await ensureBusyboxImage();
  server = await startBerthServer();
  ecs = ecsClient(server.url);
  await createCluster(ecs, cluster);
  // No nsenter on the agent's PATH (only `ip`, which the metadata address needs): the agent
  // plumbs with its netplumb program, which needs neither, so one-container tasks still hold
  // their own namespace (asserted below) instead of falling back to Docker's attachment.
  binDir = mkdtempSync(join(tmpdir(), 'berth-it-path-'));
  symlinkSync(execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim(), join(binDir, 'ip'));
  agent = startAgentProcess({
    endpoint: server.url,
    cluster,
    taskSubnet: '198.19.42.0/24',
    taskNetwork: network,
    managedCapacity: true,
    env: { PATH: binDir },
  });
  await waitForInstance(ecs, cluster, agent);
});

after(async () => {
  await agent?.kill();
  await server?.stop();
  await sweep([cluster], [network]);
  if (agent) removeDir(agent.dataDir);
  if (binDir) removeDir(binDir);
});

describe('berth agent: awsvpc', () => {
  it('two awsvpc tasks both listen on port 80, each reachable from the host at its own address', async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'it-vpc',
        networkMode: 'awsvpc',
        containerDefinitions: [
          {
            name: 'web',
            image: busyboxImage,
            memory: 32,
            entryPoint: ['sh', '-c'],
            command: [serve],
            portMappings: [{ containerPort: 80 }],
            linuxParameters: { initProcessEnabled: true },
          },
        ],
      }),
    );
    const arns: string[] = [];
    for (const mark of ['first', 'second']) {
      const out = await ecs.send(
        new RunTaskCommand({
          cluster,
          taskDefinition: 'it-vpc',
          networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a1b'] } },
          overrides: { containerOverrides: [{ name: 'web', environment: [{ name: 'MARK', value: mark }] }] },
        }),
      );
      arns.push(out.tasks![0]!.taskArn!);
    }
    const tasks = await Promise.all(
      arns.map((a) => waitForStatus(ecs, cluster, a, 'RUNNING', 30_000, agent)),
    );
    const ips = tasks.map(eniAddress);
    assert.ok(
      ips.every((ip) => ip && /^198\.19\.42\.\d+$/.test(ip)),
      JSON.stringify(ips),
    );
    assert.notEqual(ips[0], ips[1]);
    const eni = tasks[0]!.attachments!.find((a) => a.type === 'ElasticNetworkInterface')!;
    assert.equal(eni.status, 'ATTACHED');
    const details = Object.fromEntries((eni.details ?? []).map((d) => [d.name, d.value]));
    assert.equal(details.subnetId, 'subnet-0a1b');
    assert.match(details.networkInterfaceId ?? '', /^eni-[0-9a-f]{17}$/);
    assert.match(details.macAddress ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(details.privateDnsName, `ip-${ips[0]!.replace(/\./g, '-')}.ec2.internal`);
    assert.equal(tasks[0]!.containers![0]!.networkInterfaces?.[0]?.privateIpv4Address, ips[0]);

    for (const [i, mark] of ['first', 'second'].entries()) {
      const res = await waitFor(`HTTP at ${ips[i]}`, async () => httpGet(`http://${ips[i]}/`));
      assert.equal(res.body.trim(), mark);
    }

    // The metadata endpoint, read from inside the container.
    const meta = await waitFor('metadata', async () => httpGet(`http://${ips[0]}/meta.json`));
    const m = JSON.parse(meta.body) as {
      Name: string;
      DockerId: string;
      Networks: { NetworkMode: string; IPv4Addresses: string[] }[];
    };
    assert.equal(m.Name, 'web');
    assert.equal(m.DockerId, tasks[0]!.containers![0]!.runtimeId);
    assert.equal(m.Networks[0]?.NetworkMode, 'awsvpc');
    assert.deepEqual(m.Networks[0]?.IPv4Addresses, [ips[0]]);
    const task = JSON.parse((await httpGet(`http://${ips[0]}/task.json`))!.body) as {
      TaskARN: string;
      Family: string;
    };
    assert.equal(task.TaskARN, arns[0]);
    assert.equal(task.Family, 'it-vpc');

    // A one-container task holds its own namespace, plumbed by the agent (no pause container),
    // even without nsenter on the agent's PATH (see before()):
    // Docker does not network it, its program starts behind netwait with the task's hostname.
    const info = await inspect(tasks[0]!.containers![0]!.runtimeId!);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal((info.Config as { NetworkDisabled?: boolean }).NetworkDisabled, true);
    assert.equal(info.Config.Entrypoint?.[0], '/.berth/netwait');
    assert.equal(info.Config.Hostname, `ip-${ips[0]!.replace(/\./g, '-')}.ec2.internal`);
    const own = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: ['org.berth.pause', `com.amazonaws.ecs.task-arn=${arns[0]!}`] }),
    });
    assert.deepEqual(own, []);

    for (const a of arns) await ecs.send(new StopTaskCommand({ cluster, task: a }));
    for (const a of arns) await waitForStatus(ecs, cluster, a, 'STOPPED', 30_000, agent);
    // The pause containers are gone and the addresses no longer answer.
    const pauses = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: ['org.berth.pause', `com.amazonaws.ecs.cluster=${cluster}`] }),
    });
    assert.deepEqual(pauses, []);
    assert.equal(await httpGet(`http://${ips[0]}/`, 500), undefined);
  });

  it('a task of two containers shares one pause namespace: the sidecar reaches the web container on localhost', async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'it-vpc-pair',
        networkMode: 'awsvpc',
        containerDefinitions: [
          {
            name: 'web',
            image: busyboxImage,
            memory: 32,
            stopTimeout: 2,
            entryPoint: ['sh', '-c'],
            command: ['mkdir -p /www && echo pair > /www/index.html && exec httpd -f -p 80 -h /www'],
          },
          {
            name: 'probe',
            image: busyboxImage,
            memory: 32,
            essential: false,
            dependsOn: [{ containerName: 'web', condition: 'START' }],
            entryPoint: ['sh', '-c'],
            command: [
              'for i in $(seq 50); do wget -q -O - http://127.0.0.1/ && exit 0; sleep 0.1; done; exit 1',
            ],
          },
        ],
      }),
    );
    const out = await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: 'it-vpc-pair',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a1b'] } },
      }),
    );
    const arn = out.tasks![0]!.taskArn!;
    const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
    const web = t.containers!.find((c) => c.name === 'web')!;
    const info = await inspect(web.runtimeId!);
    assert.match(info.HostConfig.NetworkMode ?? '', /^container:[0-9a-f]{64}$/);
    const probe = await waitFor('the probe to exit', async () => {
      const d = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }));
      const c = d.tasks?.[0]?.containers?.find((x) => x.name === 'probe');
      return c?.lastStatus === 'STOPPED' ? c : undefined;
    });
    assert.equal(probe.exitCode, 0, 'the sidecar got an answer from 127.0.0.1:80');
    const res = await waitFor('HTTP', async () => httpGet(`http://${eniAddress(t)!}/`));
    assert.equal(res.body.trim(), 'pair');
    await ecs.send(new StopTaskCommand({ cluster, task: arn }));
    await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
    const pauses = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: ['org.berth.pause', `com.amazonaws.ecs.task-arn=${arn}`] }),
    });
    assert.deepEqual(pauses, []);
  });

  it('FARGATE runs on the managed capacity with the task size as the limits, and answers HTTP at its address', async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'it-fargate',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          {
            name: 'web',
            image: busyboxImage,
            cpu: 99,
            stopTimeout: 2,
            entryPoint: ['sh', '-c'],
            command: [serve],
            environment: [{ name: 'MARK', value: 'fargate' }],
          },
        ],
      }),
    );
    const out = await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: 'it-fargate',
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-f'] } },
      }),
    );
    const arn = out.tasks?.[0]?.taskArn;
    assert.ok(arn, JSON.stringify(out.failures));
    const t = await waitForStatus(ecs, cluster, arn, 'RUNNING', 30_000, agent);
    assert.equal(t.launchType, 'FARGATE');
    const info = await inspect(t.containers![0]!.runtimeId!);
    assert.equal(info.HostConfig.NanoCpus, 250_000_000);
    assert.equal(info.HostConfig.Memory, 512 * 1024 * 1024);
    assert.equal(info.HostConfig.CpuShares, 99);
    assert.ok(info.Config.Env.includes('AWS_EXECUTION_ENV=AWS_ECS_FARGATE'));
    const res = await waitFor('HTTP', async () => httpGet(`http://${eniAddress(t)!}/`));
    assert.equal(res.body.trim(), 'fargate');
    await ecs.send(new StopTaskCommand({ cluster, task: arn }));
    await waitForStatus(ecs, cluster, arn, 'STOPPED', 30_000, agent);
  });
});
