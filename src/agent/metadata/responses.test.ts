import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  containerResponse,
  subnetGatewayOf,
  taskCpuVcpus,
  taskMemoryMiB,
  taskResponse,
} from './responses.js';
import { agentTask, containerSnapshot, T0, taskSnapshot } from './test-support.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('task metadata v4 documents', () => {
  it('describes a FARGATE awsvpc container with its interface details', () => {
    const task = taskSnapshot();
    const c = task.containers[0]!;
    assert.deepEqual(containerResponse(task, c, 'v4'), {
      DockerId: 'd0c0e1d',
      Name: 'web',
      DockerName: 'ecs-webserver-4-web-abc',
      Image: 'nginx',
      ImageID: 'sha256:1111',
      Labels: { 'com.amazonaws.ecs.container-name': 'web' },
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 99, Memory: 100 },
      CreatedAt: iso(T0 + 1_000),
      StartedAt: iso(T0 + 1_500),
      Type: 'NORMAL',
      Networks: [
        {
          NetworkMode: 'awsvpc',
          IPv4Addresses: ['198.18.4.7'],
          AttachmentIndex: 0,
          MACAddress: '02:42:c6:12:04:07',
          IPv4SubnetCIDRBlock: '198.18.4.0/24',
          PrivateDNSName: 'ip-198-18-4-7.ec2.internal',
          SubnetGatewayIpv4Address: '198.18.4.1/24',
        },
      ],
      LogDriver: 'json-file',
      ContainerARN: 'arn:aws:ecs:us-east-1:123456789012:container/default/0123/c-web',
    });
  });

  it('describes the task: cluster ARN on Fargate, CPU in vCPUs, memory in MiB, ISO timestamps', () => {
    const task = taskSnapshot({ executionStoppedAt: T0 + 9_000 });
    const doc = taskResponse(task, 'v4');
    assert.deepEqual(
      { ...doc, Containers: undefined },
      {
        Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/default',
        TaskARN: 'arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef',
        Family: 'webserver',
        Revision: '4',
        DesiredStatus: 'RUNNING',
        KnownStatus: 'RUNNING',
        Containers: undefined,
        Limits: { CPU: 0.25, Memory: 512 },
        PullStartedAt: iso(T0 + 100),
        PullStoppedAt: iso(T0 + 900),
        ExecutionStoppedAt: iso(T0 + 9_000),
        AvailabilityZone: 'us-east-1a',
        LaunchType: 'FARGATE',
        FaultInjectionEnabled: false,
      },
    );
    assert.equal(doc.Containers?.length, 1);
    assert.equal(doc.Containers?.[0]?.Name, 'web');
    assert.equal('TaskTags' in doc, false, 'tags only on taskWithTags');
  });

  it('names the cluster by its short name for instance tasks and reports bridge host ports', () => {
    const task = taskSnapshot({
      task: agentTask({
        launchType: 'EC2',
        taskDefinition: { family: 'api', revision: 12, networkMode: 'bridge' },
        cpu: undefined,
        memory: undefined,
        group: 'service:checkout',
      }),
      eni: undefined,
      containers: [
        containerSnapshot({
          ports: [{ containerPort: 8080, hostPort: 32768, protocol: 'tcp', hostIp: '0.0.0.0' }],
          networks: [{ networkMode: 'bridge', ipv4Addresses: ['172.17.0.5'] }],
          limits: { memory: 64 },
        }),
      ],
    });
    const doc = taskResponse(task, 'v4');
    assert.equal(doc.Cluster, 'default');
    assert.equal(doc.ServiceName, 'checkout');
    assert.equal(doc.LaunchType, 'EC2');
    assert.equal('Limits' in doc, false, 'no task-level limits: omitted');
    const c = doc.Containers![0]!;
    assert.deepEqual(c.Ports, [{ ContainerPort: 8080, Protocol: 'tcp', HostPort: 32768, HostIp: '0.0.0.0' }]);
    assert.deepEqual(c.Networks, [{ NetworkMode: 'bridge', IPv4Addresses: ['172.17.0.5'] }]);
    assert.deepEqual(c.Limits, { CPU: 2, Memory: 64 }, 'CPU has the same floor of 2 shares as the ECS agent');
  });

  it('gives awsvpc ports their container port as host port', () => {
    const task = taskSnapshot({
      containers: [
        containerSnapshot({ ports: [{ containerPort: 80, hostPort: 0, protocol: 'tcp', hostIp: '' }] }),
      ],
    });
    assert.deepEqual(containerResponse(task, task.containers[0]!, 'v4').Ports, [
      { ContainerPort: 80, Protocol: 'tcp', HostPort: 80 },
    ]);
  });

  it('adds TaskTags on taskWithTags only when the task has tags', () => {
    const tagged = taskSnapshot({
      task: agentTask({
        tags: [
          { key: 'env', value: 'dev' },
          { key: 'team', value: 'web' },
        ],
      }),
    });
    assert.deepEqual(taskResponse(tagged, 'v4', { withTags: true }).TaskTags, { env: 'dev', team: 'web' });
    assert.equal('TaskTags' in taskResponse(taskSnapshot(), 'v4', { withTags: true }), false);
  });

  it('reports health, exit codes and the agent vocabulary for containers not yet running', () => {
    const task = taskSnapshot();
    const stopped = containerResponse(
      task,
      containerSnapshot({
        knownStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        exitCode: 0,
        finishedAt: T0 + 5_000,
        health: { status: 'UNHEALTHY', since: T0 + 4_000, output: 'curl: refused', exitCode: 7 },
      }),
      'v4',
    );
    assert.equal(stopped.ExitCode, 0, 'exit code 0 is reported, not dropped');
    assert.equal(stopped.FinishedAt, iso(T0 + 5_000));
    assert.deepEqual(stopped.Health, {
      status: 'UNHEALTHY',
      statusSince: iso(T0 + 4_000),
      exitCode: 7,
      output: 'curl: refused',
    });
    const created = containerResponse(
      task,
      containerSnapshot({ knownStatus: 'PENDING', startedAt: undefined }),
      'v4',
    );
    assert.equal(created.KnownStatus, 'CREATED');
    assert.equal('StartedAt' in created, false);
    const notCreated = containerResponse(
      task,
      containerSnapshot({
        knownStatus: 'PENDING',
        dockerId: undefined,
        dockerName: undefined,
        imageId: undefined,
      }),
      'v4',
    );
    assert.equal(notCreated.KnownStatus, 'NONE');
    assert.equal(notCreated.DockerId, '', 'DockerId is always present, as in the ECS agent');
    assert.equal(notCreated.ImageID, '');
  });
});

describe('task metadata v3 documents', () => {
  it('leaves out what only v4 has', () => {
    const task = taskSnapshot({
      containers: [
        containerSnapshot({
          ports: [{ containerPort: 80, hostPort: 80, protocol: 'tcp', hostIp: '0.0.0.0' }],
        }),
      ],
    });
    const c = containerResponse(task, task.containers[0]!, 'v3');
    for (const k of ['LogDriver', 'LogOptions', 'ContainerARN']) assert.equal(k in c, false, k);
    assert.deepEqual(c.Networks, [{ NetworkMode: 'awsvpc', IPv4Addresses: ['198.18.4.7'] }]);
    assert.deepEqual(c.Ports, [{ ContainerPort: 80, Protocol: 'tcp', HostPort: 80 }]);
    const t = taskResponse(task, 'v3');
    for (const k of ['LaunchType', 'ServiceName', 'FaultInjectionEnabled']) assert.equal(k in t, false, k);
    assert.deepEqual(t.Limits, { CPU: 0.25, Memory: 512 });
  });
});

describe('unit conversions', () => {
  it('reads task CPU as units or vCPUs', () => {
    assert.equal(taskCpuVcpus('256'), 0.25);
    assert.equal(taskCpuVcpus('4096'), 4);
    assert.equal(taskCpuVcpus('0.5 vCPU'), 0.5);
    assert.equal(taskCpuVcpus('1 vcpu'), 1);
    assert.equal(taskCpuVcpus(undefined), undefined);
    assert.equal(taskCpuVcpus('lots'), undefined);
    assert.equal(taskCpuVcpus('0'), undefined);
  });

  it('reads task memory as MiB or GB', () => {
    assert.equal(taskMemoryMiB('512'), 512);
    assert.equal(taskMemoryMiB('2 GB'), 2048);
    assert.equal(taskMemoryMiB('0.5GB'), 512);
    assert.equal(taskMemoryMiB('1.5'), undefined);
    assert.equal(taskMemoryMiB(undefined), undefined);
  });

  it('derives the subnet gateway as the first address, with its prefix', () => {
    assert.equal(subnetGatewayOf('10.0.2.0/24'), '10.0.2.1/24');
    assert.equal(subnetGatewayOf('198.18.4.77/22'), '198.18.4.1/22');
    assert.equal(subnetGatewayOf('10.0.0.0/8'), '10.0.0.1/8');
    assert.equal(subnetGatewayOf('10.0.0.0/32'), undefined);
    assert.equal(subnetGatewayOf('nonsense'), undefined);
    assert.equal(subnetGatewayOf(undefined), undefined);
  });
});
