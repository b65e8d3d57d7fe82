// Unit tests for the Docker JSON mapping: spec → create body, engine JSON → Berth types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fromDockerInspect,
  fromDockerNetwork,
  fromDockerStats,
  fromDockerSummary,
  parseDockerEvent,
  parseDockerTime,
  toDockerCreateBody,
  toDockerHealthcheck,
  toDockerLabelFilter,
} from './docker-mapping.js';
import { CannotCreateContainerError } from './errors.js';

test('toDockerCreateBody maps every spec field to its Docker name and unit', () => {
  const b = toDockerCreateBody({
    name: 'ecs-web-1-app',
    image: 'busybox:latest',
    command: ['-c', 'echo hi'],
    entryPoint: ['sh'],
    env: { A: '1', B: 'x=y' },
    workingDir: '/srv',
    user: '1000:1000',
    labels: { 'com.amazonaws.ecs.cluster': 'default' },
    hostname: 'web',
    portBindings: [
      { containerPort: 80 },
      { containerPort: 53, hostPort: 5353, protocol: 'udp', hostIp: '127.0.0.1' },
    ],
    links: [{ container: 'db', alias: 'database' }, { container: 'cache' }],
    mounts: [
      { type: 'bind', source: '/host/data', target: '/data', readOnly: true },
      { type: 'volume', source: 'vol1', target: '/v' },
      { type: 'tmpfs', target: '/run', sizeMiB: 64, options: ['noexec'] },
    ],
    volumesFrom: [{ container: 'other', readOnly: true }, { container: 'rw' }],
    ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 2048 }],
    readonlyRootfs: true,
    privileged: false,
    capAdd: ['NET_ADMIN'],
    capDrop: ['CHOWN'],
    dnsServers: ['10.0.0.2'],
    dnsSearchDomains: ['svc.local'],
    extraHosts: [{ hostname: 'db.local', ipAddress: '10.0.0.5' }],
    cpuShares: 256,
    memoryMiB: 128,
    memoryReservationMiB: 64,
    maxSwapMiB: 0,
    swappiness: 10,
    nanoCpus: 500_000_000,
    cgroupParent: '/ecs/task-1',
    init: true,
    stopTimeoutSeconds: 12,
    healthCheck: {
      command: ['CMD-SHELL', 'true'],
      intervalMs: 5000,
      timeoutMs: 2000,
      retries: 2,
      startPeriodMs: 1000,
    },
    logConfig: { driver: 'json-file', options: { 'max-size': '10m' } },
    securityOptions: ['no-new-privileges'],
    sysctls: { 'net.core.somaxconn': '1024' },
    shmSizeMiB: 32,
    devices: [{ hostPath: '/dev/fuse' }],
    pidMode: 'host',
    ipcMode: 'shareable',
    tty: true,
    interactive: true,
  });
  assert.equal(b.name, 'ecs-web-1-app');
  assert.deepEqual(b.Cmd, ['-c', 'echo hi']);
  assert.deepEqual(b.Entrypoint, ['sh']);
  assert.deepEqual(b.Env, ['A=1', 'B=x=y']);
  assert.equal(b.WorkingDir, '/srv');
  assert.equal(b.User, '1000:1000');
  assert.equal(b.Hostname, 'web');
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.equal(b.StopTimeout, 12);
  assert.equal(b.Tty, true);
  assert.equal(b.OpenStdin, true);
  assert.deepEqual(b.Healthcheck, {
    Test: ['CMD-SHELL', 'true'],
    Interval: 5e9,
    Timeout: 2e9,
    Retries: 2,
    StartPeriod: 1e9,
  });
  const h = b.HostConfig!;
  assert.equal(h.NetworkMode, 'bridge');
  assert.deepEqual(h.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
  });
  assert.deepEqual(h.Binds, ['/host/data:/data:ro', 'vol1:/v']);
  assert.deepEqual(h.Tmpfs, { '/run': 'noexec,size=64m' });
  assert.deepEqual(h.VolumesFrom, ['other:ro', 'rw:rw']);
  assert.deepEqual(h.Links, ['db:database', 'cache:cache']);
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.equal(h.ReadonlyRootfs, true);
  assert.equal(h.Privileged, false);
  assert.deepEqual(h.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(h.CapDrop, ['CHOWN']);
  assert.deepEqual(h.Dns, ['10.0.0.2']);
  assert.deepEqual(h.DnsSearch, ['svc.local']);
  assert.deepEqual(h.ExtraHosts, ['db.local:10.0.0.5']);
  assert.equal(h.CpuShares, 256);
  assert.equal(h.Memory, 128 * 1024 * 1024);
  assert.equal(h.MemoryReservation, 64 * 1024 * 1024);
  assert.equal(h.MemorySwap, 128 * 1024 * 1024, 'maxSwap 0 means memory+swap = memory: no swap');
  assert.equal(h.MemorySwappiness, 10);
  assert.equal(h.NanoCpus, 500_000_000);
  assert.equal(h.CgroupParent, '/ecs/task-1');
  assert.equal(h.Init, true);
  assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m' } });
  assert.deepEqual(h.SecurityOpt, ['no-new-privileges']);
  assert.deepEqual(h.Sysctls, { 'net.core.somaxconn': '1024' });
  assert.equal(h.ShmSize, 32 * 1024 * 1024);
  assert.deepEqual(h.Devices, [
    { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' },
  ]);
  assert.equal(h.PidMode, 'host');
  assert.equal(h.IpcMode, 'shareable');
  assert.equal(b.NetworkingConfig, undefined);
});

test('toDockerCreateBody leaves unset fields to the image and defaults logging to json-file', () => {
  const b = toDockerCreateBody({ name: 'x', image: 'busybox' });
  assert.equal('Cmd' in b, false);
  assert.equal('Entrypoint' in b, false);
  assert.equal('Env' in b, false);
  assert.equal('Healthcheck' in b, false);
  assert.equal('Memory' in b.HostConfig!, false);
  assert.deepEqual(b.HostConfig!.LogConfig, { Type: 'json-file', Config: {} });
  assert.deepEqual(b.Labels, {});
});

test('network modes: host/none publish no ports, a user network carries its fixed address', () => {
  const host = toDockerCreateBody({
    name: 'x',
    image: 'i',
    networkMode: 'host',
    portBindings: [{ containerPort: 80 }],
  });
  assert.equal(host.HostConfig!.NetworkMode, 'host');
  assert.deepEqual(host.HostConfig!.PortBindings, {});
  assert.deepEqual(host.ExposedPorts, { '80/tcp': {} });

  const peer = toDockerCreateBody({ name: 'x', image: 'i', networkMode: { container: 'abc' } });
  assert.equal(peer.HostConfig!.NetworkMode, 'container:abc');
  assert.equal(peer.NetworkDisabled, undefined);

  // 'isolated': no engine sandbox at all (NetworkDisabled), not Docker's 'none' sandbox.
  const isolated = toDockerCreateBody({ name: 'x', image: 'i', networkMode: 'isolated' });
  assert.equal(isolated.HostConfig!.NetworkMode, 'none');
  assert.equal(isolated.NetworkDisabled, true);
  assert.equal(toDockerCreateBody({ name: 'x', image: 'i', networkMode: 'none' }).NetworkDisabled, undefined);

  const user = toDockerCreateBody({
    name: 'x',
    image: 'i',
    networkMode: { network: 'task-net', ipv4Address: '10.9.0.5', aliases: ['web'] },
    portBindings: [{ containerPort: 8080, hostPort: 0 }],
  });
  assert.equal(user.HostConfig!.NetworkMode, 'task-net');
  assert.deepEqual(user.HostConfig!.PortBindings, { '8080/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(user.NetworkingConfig, {
    EndpointsConfig: { 'task-net': { IPAMConfig: { IPv4Address: '10.9.0.5' }, Aliases: ['web'] } },
  });
});

test('health checks: ECS defaults, CMD form kept, CMD-SHELL rejoined, bad forms rejected', () => {
  assert.deepEqual(toDockerHealthcheck({ command: ['CMD', 'curl', '-f', 'http://x'] }), {
    Test: ['CMD', 'curl', '-f', 'http://x'],
    Interval: 30e9,
    Timeout: 5e9,
    Retries: 3,
    StartPeriod: 0,
  });
  assert.deepEqual(toDockerHealthcheck({ command: ['CMD-SHELL', 'curl', '-f', 'x'] }).Test, [
    'CMD-SHELL',
    'curl -f x',
  ]);
  assert.deepEqual(toDockerHealthcheck({ command: ['NONE'] }), { Test: ['NONE'] });
  assert.throws(
    () => toDockerHealthcheck({ command: ['curl', 'x'] }),
    (e: unknown) => e instanceof CannotCreateContainerError && e.kind === 'invalid' && !e.retriable,
  );
  assert.throws(() => toDockerHealthcheck({ command: ['CMD'] }), CannotCreateContainerError);
});

test('fromDockerInspect: running container with health, dynamic ports and networks', () => {
  const s = fromDockerInspect({
    Id: 'abc',
    Name: '/web',
    Image: 'sha256:img',
    Created: '2026-01-01T00:00:00.5Z',
    State: {
      Status: 'running',
      Pid: 4242,
      ExitCode: 0,
      OOMKilled: false,
      StartedAt: '2026-01-01T00:00:01.123456789Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      Health: { Status: 'healthy', FailingStreak: 0, Log: [{ ExitCode: 0, Output: 'ok\n' }] },
    },
    Config: { Image: 'busybox:latest', Labels: { a: 'b' } },
    NetworkSettings: {
      Ports: {
        '80/tcp': [
          { HostIp: '0.0.0.0', HostPort: '49160' },
          { HostIp: '::', HostPort: '49160' },
        ],
        '53/udp': null,
      },
      Networks: {
        bridge: {
          NetworkID: 'n1',
          IPAddress: '172.17.0.3',
          IPPrefixLen: 16,
          Gateway: '172.17.0.1',
          MacAddress: 'm',
        },
      },
    },
  });
  assert.equal(s.name, 'web');
  assert.equal(s.status, 'running');
  assert.equal(s.exitCode, undefined, 'no exit code while running');
  assert.equal(s.pid, 4242);
  assert.equal(s.createdAt, Date.UTC(2026, 0, 1, 0, 0, 0, 500));
  assert.equal(s.startedAt, Date.UTC(2026, 0, 1, 0, 0, 1, 123));
  assert.equal(s.finishedAt, undefined);
  assert.deepEqual(s.health, { status: 'healthy', failingStreak: 0, lastOutput: 'ok', lastExitCode: 0 });
  assert.deepEqual(s.ports, [
    { containerPort: 80, protocol: 'tcp', hostPort: 49160, hostIp: '0.0.0.0' },
    { containerPort: 80, protocol: 'tcp', hostPort: 49160, hostIp: '::' },
  ]);
  assert.deepEqual(s.networks, [
    {
      name: 'bridge',
      networkId: 'n1',
      ipv4Address: '172.17.0.3',
      ipv4PrefixLength: 16,
      gateway: '172.17.0.1',
      macAddress: 'm',
    },
  ]);
  assert.deepEqual(s.labels, { a: 'b' });
});

test('fromDockerInspect: exited and OOM-killed; dead and removing count as exited', () => {
  const s = fromDockerInspect({
    Id: 'x',
    Name: '/x',
    State: {
      Status: 'exited',
      ExitCode: 137,
      OOMKilled: true,
      Pid: 0,
      StartedAt: '2026-01-01T00:00:01Z',
      FinishedAt: '2026-01-01T00:00:02Z',
    },
    NetworkSettings: {
      Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '49160' }] },
      Networks: { bridge: { IPAddress: '' } },
    },
  });
  assert.equal(s.status, 'exited');
  assert.equal(s.exitCode, 137);
  assert.equal(s.oomKilled, true);
  assert.equal(s.pid, undefined);
  assert.equal(s.finishedAt, Date.UTC(2026, 0, 1, 0, 0, 2));
  assert.deepEqual(s.ports, [], 'a stopped container holds no host ports');
  assert.deepEqual(s.networks, [{ name: 'bridge' }]);
  assert.equal(fromDockerInspect({ Id: 'd', State: { Status: 'dead' } }).status, 'exited');
  assert.equal(fromDockerInspect({ Id: 'd', State: { Status: 'paused' } }).status, 'running');
  assert.equal(fromDockerInspect({ Id: 'd', State: { Status: 'created', ExitCode: 0 } }).exitCode, undefined);
});

test('parseDockerEvent: die carries the exit code, health_status its status, labels without engine attributes', () => {
  const die = parseDockerEvent({
    Type: 'container',
    Action: 'die',
    Actor: {
      ID: 'c1',
      Attributes: { exitCode: '3', image: 'busybox', name: 'web', 'com.amazonaws.ecs.cluster': 'default' },
    },
    time: 1700000000,
    timeNano: 1700000000123456789,
  });
  assert.ok(die);
  assert.equal(die.action, 'die');
  assert.equal(die.exitCode, 3);
  assert.equal(die.name, 'web');
  assert.equal(die.image, 'busybox');
  assert.deepEqual(die.labels, { 'com.amazonaws.ecs.cluster': 'default' });
  assert.ok(Math.abs(die.time - 1700000000123.4568) < 0.01);

  const health = parseDockerEvent({
    Type: 'container',
    Action: 'health_status: unhealthy',
    Actor: { ID: 'c1', Attributes: {} },
    timeNano: 1,
  });
  assert.equal(health?.action, 'health_status');
  assert.equal(health?.health, 'unhealthy');

  const kill = parseDockerEvent({
    Type: 'container',
    Action: 'kill',
    Actor: { ID: 'c1', Attributes: { signal: '15' } },
  });
  assert.equal(kill?.signal, '15');

  assert.equal(
    parseDockerEvent({ Type: 'container', Action: 'exec_start: sh -c true', Actor: { ID: 'c1' } }),
    undefined,
  );
  assert.equal(parseDockerEvent({ Type: 'network', Action: 'connect', Actor: { ID: 'n1' } }), undefined);
  assert.equal(parseDockerEvent({ Type: 'container', Action: 'attach', Actor: { ID: 'c1' } }), undefined);
});

test('labels, summaries, networks, stats and times', () => {
  assert.deepEqual(toDockerLabelFilter({ a: 'b', c: true }), ['a=b', 'c']);
  assert.deepEqual(toDockerLabelFilter(undefined), []);
  assert.equal(parseDockerTime('0001-01-01T00:00:00Z'), undefined);
  assert.equal(parseDockerTime(''), undefined);
  assert.equal(parseDockerTime('2026-01-01T00:00:00Z'), Date.UTC(2026, 0, 1));

  const sum = fromDockerSummary({
    Id: 'i',
    Names: ['/n'],
    State: 'exited',
    Labels: null,
    Created: 1700000000,
  });
  assert.deepEqual(sum, {
    id: 'i',
    name: 'n',
    image: '',
    imageId: '',
    status: 'exited',
    engineStatus: 'exited',
    labels: {},
    createdAt: 1700000000000,
  });

  const net = fromDockerNetwork({
    Id: 'n',
    Name: 'task',
    Driver: 'bridge',
    IPAM: { Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.1' }] },
    Containers: { c1: { Name: 'web', IPv4Address: '10.1.0.5/24', MacAddress: 'm' } },
  });
  assert.deepEqual(net.subnets, [{ subnet: '10.1.0.0/24', gateway: '10.1.0.1' }]);
  assert.deepEqual(net.containers, [
    { containerId: 'c1', name: 'web', ipv4Address: '10.1.0.5', macAddress: 'm' },
  ]);

  const raw = {
    read: '2026-01-01T00:00:00Z',
    cpu_stats: { cpu_usage: { total_usage: 10 }, system_cpu_usage: 100, online_cpus: 2 },
    memory_stats: { usage: 1000, limit: 5000 },
    networks: { eth0: { rx_bytes: 1, tx_bytes: 2 }, eth1: { rx_bytes: 10, tx_bytes: 20 } },
  };
  const st = fromDockerStats(raw);
  assert.equal(st.read, Date.UTC(2026, 0, 1));
  assert.equal(st.cpuTotalUsageNs, 10);
  assert.equal(st.systemCpuUsageNs, 100);
  assert.equal(st.onlineCpus, 2);
  assert.equal(st.memoryUsageBytes, 1000);
  assert.equal(st.memoryLimitBytes, 5000);
  assert.equal(st.networkRxBytes, 11);
  assert.equal(st.networkTxBytes, 22);
  assert.equal(st.raw, raw);
});
