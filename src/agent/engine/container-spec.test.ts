import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '../../generated/ecs/types.js';
import type { AgentTask } from '../../domain/agent-protocol.js';
import { CannotCreateContainerError } from '../runtime/errors.js';
import { buildContainerSpec, effectiveDefinition, isNetworkNone, type SpecInput } from './container-spec.js';
import { agentTask, c, TASK_ARN } from './test-support.js';
import { planVolumes } from './volumes.js';

function build(task: AgentTask, name = 'app', more: Partial<SpecInput> = {}) {
  return buildContainerSpec({
    task,
    container: name,
    dockerName: `ecs-web-3-${name}-aaaa`,
    metadataId: 'meta-1',
    dockerNames: Object.fromEntries(
      (task.taskDefinition.containerDefinitions ?? []).map((d) => [d.name!, `ecs-web-3-${d.name!}-aaaa`]),
    ),
    volumes: planVolumes(task).sources,
    metadataBaseUrl: 'http://169.254.170.2',
    hostId: 'host-1',
    ...more,
  });
}

const one = (def: Partial<ContainerDefinition>, extra: Parameters<typeof agentTask>[1] = {}): AgentTask =>
  agentTask([c('app', def)], extra);

describe('buildContainerSpec: basics', () => {
  it('maps image, command, entryPoint, workingDirectory, user and the Docker name', () => {
    const { spec } = build(
      one({
        command: ['sh', '-c', 'x'],
        entryPoint: ['/bin/busybox'],
        workingDirectory: '/w',
        user: '1000:1000',
      }),
    );
    assert.equal(spec.name, 'ecs-web-3-app-aaaa');
    assert.equal(spec.image, 'img/app:1');
    assert.deepEqual(spec.command, ['sh', '-c', 'x']);
    assert.deepEqual(spec.entryPoint, ['/bin/busybox']);
    assert.equal(spec.workingDir, '/w');
    assert.equal(spec.user, '1000:1000');
  });

  it('puts the ECS labels over the docker labels, and the Berth ones', () => {
    const { spec } = build(one({ dockerLabels: { team: 'a', 'com.amazonaws.ecs.cluster': 'spoofed' } }));
    assert.deepEqual(spec.labels, {
      team: 'a',
      'com.amazonaws.ecs.cluster': 'prod',
      'com.amazonaws.ecs.task-arn': TASK_ARN,
      'com.amazonaws.ecs.container-name': 'app',
      'com.amazonaws.ecs.task-definition-family': 'web',
      'com.amazonaws.ecs.task-definition-version': '3',
      'org.berth.host-id': 'host-1',
      'org.berth.metadata-id': 'meta-1',
    });
  });

  it('sets the metadata URIs and lets override variables replace definition ones', () => {
    const task = one(
      {
        environment: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
      {
        overrides: {
          containerOverrides: [
            {
              name: 'app',
              environment: [
                { name: 'B', value: 'over' },
                { name: 'C', value: '3' },
              ],
              command: ['echo', 'o'],
            },
          ],
        },
      },
    );
    const { spec } = build(task);
    assert.equal(spec.env?.A, '1');
    assert.equal(spec.env?.B, 'over');
    assert.equal(spec.env?.C, '3');
    assert.equal(spec.env?.ECS_CONTAINER_METADATA_URI_V4, 'http://169.254.170.2/v4/meta-1');
    assert.equal(spec.env?.ECS_CONTAINER_METADATA_URI, 'http://169.254.170.2/v3/meta-1');
    assert.equal(spec.env?.AWS_EXECUTION_ENV, 'AWS_ECS_EC2');
    assert.deepEqual(spec.command, ['echo', 'o']);
  });

  it('does not let a definition variable replace the metadata URI', () => {
    const { spec } = build(one({ environment: [{ name: 'ECS_CONTAINER_METADATA_URI_V4', value: 'x' }] }));
    assert.equal(spec.env?.ECS_CONTAINER_METADATA_URI_V4, 'http://169.254.170.2/v4/meta-1');
  });
});

describe('buildContainerSpec: resources', () => {
  it('cpu → shares (0 and absent → 2), memory → hard limit, memoryReservation → soft limit', () => {
    assert.equal(build(one({ cpu: 0 })).spec.cpuShares, 2);
    assert.equal(build(one({})).spec.cpuShares, 2);
    const { spec, limits } = build(one({ cpu: 256, memory: 128, memoryReservation: 64 }));
    assert.equal(spec.cpuShares, 256);
    assert.equal(spec.memoryMiB, 128);
    assert.equal(spec.memoryReservationMiB, 64);
    assert.deepEqual(limits, { cpu: 256, memory: 128 });
    assert.equal(spec.nanoCpus, undefined);
  });

  it('applies cpu / memory / memoryReservation overrides', () => {
    const task = one(
      { cpu: 10, memory: 100 },
      { overrides: { containerOverrides: [{ name: 'app', cpu: 20, memory: 200, memoryReservation: 50 }] } },
    );
    const { spec } = build(task);
    assert.equal(spec.cpuShares, 20);
    assert.equal(spec.memoryMiB, 200);
    assert.equal(spec.memoryReservationMiB, 50);
    assert.equal(effectiveDefinition(task, 'app').memory, 200);
  });

  it('task-level cpu and memory cap each container (FARGATE)', () => {
    const task = agentTask([c('app', { memory: undefined, cpu: 99 })], {
      launchType: 'FARGATE',
      cpu: '256',
      memory: '512',
      taskDefinition: { networkMode: 'awsvpc' },
    });
    const { spec } = build(task, 'app', { pauseContainer: 'p1' });
    assert.equal(spec.nanoCpus, 250_000_000);
    assert.equal(spec.memoryMiB, 512);
    assert.equal(spec.cpuShares, 99);
    assert.equal(spec.env?.AWS_EXECUTION_ENV, 'AWS_ECS_FARGATE');
    assert.equal(spec.env?.AWS_REGION, 'us-east-1');
  });

  it('a container memory below the task memory stays; above it is capped; the reservation follows', () => {
    assert.equal(build(agentTask([c('app', { memory: 100 })], { memory: '512' })).spec.memoryMiB, 100);
    const capped = build(
      agentTask([c('app', { memory: 1024, memoryReservation: 900 })], { memory: '512' }),
    ).spec;
    assert.equal(capped.memoryMiB, 512);
    assert.equal(capped.memoryReservationMiB, 512);
  });
});

describe('buildContainerSpec: network modes', () => {
  const ports = {
    portMappings: [
      { containerPort: 80 },
      { containerPort: 53, hostPort: 5353, protocol: 'udp' as const },
      { containerPort: 81, hostPort: 0 },
    ],
  };

  it('bridge publishes mappings; hostPort 0 or absent is dynamic', () => {
    const { spec } = build(one(ports));
    assert.equal(spec.networkMode, 'bridge');
    assert.deepEqual(spec.portBindings, [
      { containerPort: 80, protocol: 'tcp' },
      { containerPort: 53, protocol: 'udp', hostPort: 5353 },
      { containerPort: 81, protocol: 'tcp' },
    ]);
  });

  it('bridge expands a container port range into dynamic bindings', () => {
    const { spec } = build(one({ portMappings: [{ containerPortRange: '8000-8002' }] }));
    assert.deepEqual(
      spec.portBindings?.map((p) => p.containerPort),
      [8000, 8001, 8002],
    );
  });

  it('host uses the host network and the container ports', () => {
    const { spec } = build(one(ports, { taskDefinition: { networkMode: 'host' } }));
    assert.equal(spec.networkMode, 'host');
    assert.deepEqual(spec.portBindings?.[0], { containerPort: 80, protocol: 'tcp', hostPort: 80 });
  });

  it('none has no network and no ports', () => {
    const { spec } = build(one({}, { taskDefinition: { networkMode: 'none' } }));
    assert.equal(spec.networkMode, 'none');
    assert.equal(spec.portBindings, undefined);
  });

  it('none with the agent’s files: a namespace the engine leaves alone, the files mounted, DNS settings in them not in Docker’s', () => {
    const dns = { dnsServers: ['1.1.1.1'], extraHosts: [{ hostname: 'x', ipAddress: '1.2.3.4' }] };
    const files = { resolvConf: '/d/t/app/resolv.conf', hosts: '/d/t/app/hosts' };
    for (const task of [
      one({ ...dns, hostname: 'h' }, { taskDefinition: { networkMode: 'none' } }),
      one({ ...dns, hostname: 'h', disableNetworking: true }, { taskDefinition: { networkMode: 'bridge' } }),
    ]) {
      assert.equal(isNetworkNone(task, 'app'), true);
      const { spec } = build(task, 'app', { dnsFiles: files });
      assert.equal(spec.networkMode, 'isolated');
      assert.equal(spec.hostname, 'h');
      assert.deepEqual(
        (spec.mounts ?? []).filter((m) => m.target === '/etc/resolv.conf' || m.target === '/etc/hosts'),
        [
          { type: 'bind', source: files.resolvConf, target: '/etc/resolv.conf' },
          { type: 'bind', source: files.hosts, target: '/etc/hosts' },
        ],
      );
      assert.equal(spec.dnsServers, undefined);
      assert.equal(spec.extraHosts, undefined);
    }
    // Other modes are not `none`, and files do not change them.
    assert.equal(isNetworkNone(one({}, { taskDefinition: { networkMode: 'bridge' } }), 'app'), false);
    assert.equal(isNetworkNone(one({}, { taskDefinition: { networkMode: 'host' } }), 'app'), false);
    const bridge = build(one({}, { taskDefinition: { networkMode: 'bridge' } }), 'app', { dnsFiles: files });
    assert.equal(bridge.spec.networkMode, 'bridge');
  });

  it('awsvpc joins the pause container and leaves ports, hostname and DNS to it', () => {
    const task = one(
      {
        ...ports,
        hostname: 'h',
        dnsServers: ['1.1.1.1'],
        extraHosts: [{ hostname: 'x', ipAddress: '1.2.3.4' }],
      },
      { taskDefinition: { networkMode: 'awsvpc' } },
    );
    const { spec } = build(task, 'app', { pauseContainer: 'pause-id' });
    assert.deepEqual(spec.networkMode, { container: 'pause-id' });
    assert.equal(spec.portBindings, undefined);
    assert.equal(spec.hostname, undefined);
    assert.equal(spec.dnsServers, undefined);
    assert.equal(spec.extraHosts, undefined);
  });

  it('awsvpc without a pause container is refused (retriable: the network is not ready)', () => {
    assert.throws(
      () => build(one({}, { taskDefinition: { networkMode: 'awsvpc' } })),
      (e: unknown) => e instanceof CannotCreateContainerError && e.retriable,
    );
  });

  it('bridge links name the sibling Docker containers with their alias', () => {
    const task = agentTask([c('app', { links: ['db:database', 'cache'] }), c('db'), c('cache')]);
    assert.deepEqual(build(task).spec.links, [
      { container: 'ecs-web-3-db-aaaa', alias: 'database' },
      { container: 'ecs-web-3-cache-aaaa', alias: 'cache' },
    ]);
  });

  it('bridge and none keep hostname and DNS settings', () => {
    const { spec } = build(
      one({
        hostname: 'h1',
        dnsServers: ['9.9.9.9'],
        dnsSearchDomains: ['corp'],
        extraHosts: [{ hostname: 'x', ipAddress: '1.2.3.4' }],
      }),
    );
    assert.equal(spec.hostname, 'h1');
    assert.deepEqual(spec.dnsServers, ['9.9.9.9']);
    assert.deepEqual(spec.dnsSearchDomains, ['corp']);
    assert.deepEqual(spec.extraHosts, [{ hostname: 'x', ipAddress: '1.2.3.4' }]);
  });

  it('host mode keeps extra hosts but no hostname (Docker refuses it there)', () => {
    const { spec } = build(
      one(
        { hostname: 'h1', extraHosts: [{ hostname: 'x', ipAddress: '1.2.3.4' }] },
        { taskDefinition: { networkMode: 'host' } },
      ),
    );
    assert.equal(spec.hostname, undefined);
    assert.deepEqual(spec.extraHosts, [{ hostname: 'x', ipAddress: '1.2.3.4' }]);
  });
});

describe('buildContainerSpec: storage', () => {
  it('host volumes bind, empty volumes are task-owned Docker volumes, docker volumes keep their scope', () => {
    const task = agentTask(
      [
        c('app', {
          mountPoints: [
            { sourceVolume: 'h', containerPath: '/h', readOnly: true },
            { sourceVolume: 'scratch', containerPath: '/s' },
            { sourceVolume: 'shared', containerPath: '/x' },
            { sourceVolume: 'mine', containerPath: '/m' },
          ],
        }),
      ],
      {
        taskDefinition: {
          volumes: [
            { name: 'h', host: { sourcePath: '/srv/data' } },
            { name: 'scratch' },
            {
              name: 'shared',
              dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local' },
            },
            {
              name: 'mine',
              dockerVolumeConfiguration: {
                scope: 'task',
                driverOpts: { type: 'tmpfs', device: 'tmpfs' },
                labels: { a: 'b' },
              },
            },
          ],
        },
      },
    );
    const { spec } = build(task);
    assert.deepEqual(spec.mounts, [
      { type: 'bind', source: '/srv/data', target: '/h', readOnly: true },
      { type: 'volume', source: 'berth-0123456789abcdef0123456789abcdef-scratch', target: '/s' },
      { type: 'volume', source: 'shared', target: '/x' },
      { type: 'volume', source: 'berth-0123456789abcdef0123456789abcdef-mine', target: '/m' },
    ]);
    const plan = planVolumes(task);
    assert.deepEqual(
      plan.create.map((v) => v.name),
      [
        'berth-0123456789abcdef0123456789abcdef-scratch',
        'shared',
        'berth-0123456789abcdef0123456789abcdef-mine',
      ],
    );
    assert.deepEqual(plan.create[2]?.driverOptions, { type: 'tmpfs', device: 'tmpfs' });
    assert.equal(plan.create[2]?.labels?.a, 'b');
    assert.equal(plan.create[2]?.labels?.['com.amazonaws.ecs.task-arn'], TASK_ARN);
    assert.deepEqual(plan.mustExist, []);
  });

  it('a shared volume without autoprovision must exist', () => {
    const task = agentTask([c('app')], {
      taskDefinition: { volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'shared' } }] },
    });
    assert.deepEqual(planVolumes(task).mustExist, ['v']);
  });

  it('EFS volumes and FARGATE host volumes are refused', () => {
    const efs = agentTask([c('app')], {
      taskDefinition: { volumes: [{ name: 'e', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] },
    });
    assert.throws(() => planVolumes(efs), /EFS volumes are not supported/);
    const fg = agentTask([c('app')], {
      launchType: 'FARGATE',
      taskDefinition: { volumes: [{ name: 'h', host: { sourcePath: '/x' } }] },
    });
    assert.throws(() => planVolumes(fg), /not supported on FARGATE/);
  });

  it('volumesFrom names sibling containers; tmpfs mounts come from linuxParameters', () => {
    const task = agentTask([
      c('app', {
        volumesFrom: [{ sourceContainer: 'data', readOnly: true }],
        linuxParameters: { tmpfs: [{ containerPath: '/run', size: 64, mountOptions: ['noexec'] }] },
      }),
      c('data'),
    ]);
    const { spec } = build(task);
    assert.deepEqual(spec.volumesFrom, [{ container: 'ecs-web-3-data-aaaa', readOnly: true }]);
    assert.deepEqual(spec.mounts, [{ type: 'tmpfs', target: '/run', sizeMiB: 64, options: ['noexec'] }]);
  });
});

describe('buildContainerSpec: the rest of the definition', () => {
  it('maps ulimits, readonly root, privileged, capabilities, init, swap, shm, devices, sysctls, security options, tty', () => {
    const { spec } = build(
      one({
        ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 2048 }],
        readonlyRootFilesystem: true,
        privileged: true,
        linuxParameters: {
          capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] },
          initProcessEnabled: true,
          maxSwap: 0,
          swappiness: 10,
          sharedMemorySize: 128,
          devices: [{ hostPath: '/dev/fuse', permissions: ['read', 'write'] }],
        },
        systemControls: [{ namespace: 'net.core.somaxconn', value: '1024' }],
        dockerSecurityOptions: ['no-new-privileges'],
        pseudoTerminal: true,
        interactive: true,
      }),
    );
    assert.deepEqual(spec.ulimits, [{ name: 'nofile', softLimit: 1024, hardLimit: 2048 }]);
    assert.equal(spec.readonlyRootfs, true);
    assert.equal(spec.privileged, true);
    assert.deepEqual(spec.capAdd, ['NET_ADMIN']);
    assert.deepEqual(spec.capDrop, ['MKNOD']);
    assert.equal(spec.init, true);
    assert.equal(spec.maxSwapMiB, 0);
    assert.equal(spec.swappiness, 10);
    assert.equal(spec.shmSizeMiB, 128);
    assert.deepEqual(spec.devices, [{ hostPath: '/dev/fuse', permissions: 'rw' }]);
    assert.deepEqual(spec.sysctls, { 'net.core.somaxconn': '1024' });
    assert.deepEqual(spec.securityOptions, ['no-new-privileges']);
    assert.equal(spec.tty, true);
    assert.equal(spec.interactive, true);
  });

  it('maps the health check to milliseconds and the stop timeout (default 30 s)', () => {
    const { spec } = build(
      one({
        healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 1, startPeriod: 0 },
        stopTimeout: 7,
      }),
    );
    assert.deepEqual(spec.healthCheck, {
      command: ['CMD-SHELL', 'true'],
      intervalMs: 5000,
      timeoutMs: 2000,
      retries: 1,
      startPeriodMs: 0,
    });
    assert.equal(spec.stopTimeoutSeconds, 7);
    assert.equal(build(one({})).spec.stopTimeoutSeconds, 30);
  });

  it('keeps logs readable: json-file by default, awslogs kept locally, other drivers as given', () => {
    const d = build(one({}));
    assert.deepEqual(d.spec.logConfig, { driver: 'json-file', options: {} });
    assert.equal(d.logDriver, 'json-file');
    const aws = build(one({ logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } } }));
    assert.deepEqual(aws.spec.logConfig, { driver: 'json-file' });
    assert.equal(aws.logDriver, 'awslogs');
    assert.deepEqual(aws.logOptions, { 'awslogs-group': 'g' });
    const sys = build(one({ logConfiguration: { logDriver: 'syslog', options: { tag: 't' } } }));
    assert.deepEqual(sys.spec.logConfig, { driver: 'syslog', options: { tag: 't' } });
  });

  it('refuses what it cannot honour, naming the member', () => {
    const refused: [Partial<ContainerDefinition>, RegExp][] = [
      [{ secrets: [{ name: 'S', valueFrom: 'arn:aws:ssm:x' }] }, /secrets are not supported/],
      [{ environmentFiles: [{ value: 'arn:aws:s3:::b/f.env', type: 's3' }] }, /environmentFiles/],
      [{ repositoryCredentials: { credentialsParameter: 'arn' } }, /repositoryCredentials/],
      [{ resourceRequirements: [{ type: 'GPU', value: '1' }] }, /resourceRequirements/],
    ];
    for (const [def, re] of refused) {
      assert.throws(
        () => build(one(def)),
        (e: unknown) => e instanceof CannotCreateContainerError && re.test(e.message) && !e.retriable,
      );
    }
    assert.throws(
      () => build(one({ privileged: true }, { launchType: 'FARGATE' })),
      /privileged is not allowed on FARGATE/,
    );
  });

  it('task pid/ipc modes: host everywhere, task through the pause container', () => {
    const host = build(one({}, { taskDefinition: { pidMode: 'host', ipcMode: 'host' } })).spec;
    assert.equal(host.pidMode, 'host');
    assert.equal(host.ipcMode, 'host');
    const task = build(
      one({}, { taskDefinition: { networkMode: 'awsvpc', pidMode: 'task', ipcMode: 'task' } }),
      'app',
      { pauseContainer: 'p' },
    ).spec;
    assert.equal(task.pidMode, 'container:p');
    assert.equal(task.ipcMode, 'container:p');
  });
});
