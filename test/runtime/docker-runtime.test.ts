// Integration tests: DockerRuntime against the real engine at /var/run/docker.sock, with the
// locally built busybox image and an in-process registry on 127.0.0.1. Every container, network
// and volume carries this run's label and a unique name; each test removes what it made, and a
// final sweep removes anything a failed test left. Every wait is bounded.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type {
  ContainerEvent,
  ContainerSpec,
  ContainerState,
  EventStream,
  LogLine,
  RuntimeEvent,
} from '../../src/agent/runtime/container-runtime.js';
import { DockerRuntime } from '../../src/agent/runtime/docker-runtime.js';
import {
  CannotCreateContainerError,
  CannotCreateNetworkError,
  CannotPullContainerError,
  CannotRemoveVolumeError,
  CannotStartContainerError,
  ContainerNotFoundError,
  DockerTimeoutError,
  DockerUnavailableError,
} from '../../src/agent/runtime/errors.js';
import { busyboxImage, ensureBusyboxImage, startTestRegistry } from '../support/images.js';

const runId = randomBytes(4).toString('hex');
const runLabel = { 'org.berth.test.run': runId };
const docker = new Dockerode();
const rt = new DockerRuntime();
let busyboxId = '';

const unique = (what: string): string => `berth-rt-${runId}-${what}-${randomBytes(2).toString('hex')}`;

const cleanups = new WeakMap<TestContext, (() => unknown)[]>();

/**
 * Registers cleanup for the test, run last-in first-out like Go's t.Cleanup, so containers go
 * before the networks and volumes they use; every step runs even when an earlier one fails.
 */
function defer(t: TestContext, fn: () => unknown): void {
  let stack = cleanups.get(t);
  if (!stack) {
    const steps: (() => unknown)[] = [];
    stack = steps;
    cleanups.set(t, steps);
    t.after(async () => {
      const errors: unknown[] = [];
      for (const step of steps.reverse()) {
        try {
          await step();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
    });
  }
  stack.push(fn);
}

/** Creates a container labelled for this run; the test removes it when it ends. */
async function create(
  t: TestContext,
  spec: Omit<ContainerSpec, 'name' | 'image'> & { name?: string; image?: string },
): Promise<string> {
  const id = await rt.createContainer({
    ...spec,
    name: spec.name ?? unique('c'),
    image: spec.image ?? busyboxImage,
    labels: { ...runLabel, ...(spec.labels ?? {}) },
  });
  defer(t, () => rt.removeContainer(id, { force: true }));
  return id;
}

async function run(t: TestContext, spec: Parameters<typeof create>[1]): Promise<string> {
  const id = await create(t, spec);
  await rt.startContainer(id);
  return id;
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const waitExited = (id: string, timeoutMs = 15_000): Promise<ContainerState> =>
  waitFor(
    `${id} to exit`,
    async () => {
      const s = await rt.inspectContainer(id);
      return s.status === 'exited' ? s : undefined;
    },
    timeoutMs,
  );

/** Settles like `p`, or rejects once `ms` have passed; the timer never outlives the race. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Pulls items from a stream until `pick` returns something, within a time bound. */
async function nextMatching<T, R>(
  iter: AsyncIterator<T>,
  pick: (item: T) => R | undefined,
  timeoutMs: number,
  what: string,
): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await within(iter.next(), Math.max(1, deadline - Date.now()), what);
    if (r.done) throw new Error(`stream ended while waiting for ${what}`);
    const v = pick(r.value);
    if (v !== undefined) return v;
  }
}

async function openEvents(
  t: TestContext,
  labels: Record<string, string>,
): Promise<{ stream: EventStream; it: AsyncIterator<RuntimeEvent> }> {
  const stream = rt.events({ labels });
  defer(t, () => stream.close());
  const it = stream[Symbol.asyncIterator]();
  await nextMatching(
    it,
    (e) => (e.type === 'stream' && e.state === 'connected' ? e : undefined),
    10_000,
    'events connected',
  );
  return { stream, it };
}

const containerEvent =
  (id: string, action: ContainerEvent['action'], pred: (e: ContainerEvent) => boolean = () => true) =>
  (e: RuntimeEvent): ContainerEvent | undefined =>
    e.type === 'container' && e.containerId === id && e.action === action && pred(e) ? e : undefined;

async function allLogs(id: string): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const stream = await rt.logs(id);
  for await (const l of stream) lines.push(l);
  return lines;
}

const stdout = (lines: LogLine[]): string[] => lines.filter((l) => l.stream === 'stdout').map((l) => l.text);

async function httpGet(url: string, timeoutMs = 10_000): Promise<string> {
  return waitFor(
    `${url} to answer`,
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return res.ok ? await res.text() : undefined;
    },
    timeoutMs,
    200,
  );
}

/**
 * A unix-socket proxy in front of the engine whose connections the test can cut, and which can
 * refuse new ones: an engine outage as the runtime sees it, without touching dockerd.
 */
async function startEngineProxy(
  t: TestContext,
): Promise<{ socketPath: string; cut(): void; refuse: boolean; requests: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-'));
  const socketPath = join(dir, 'docker.sock');
  const open = new Set<Socket>();
  const state = {
    socketPath,
    refuse: false,
    /** Request lines seen (`GET /v1.41/...`), in order. */
    requests: [] as string[],
    cut(): void {
      for (const s of open) s.destroy();
      open.clear();
    },
  };
  const server = createServer((client) => {
    if (state.refuse) return void client.destroy();
    const upstream = connect('/var/run/docker.sock');
    open.add(client).add(upstream);
    client.on('data', (d: Buffer) => {
      for (const m of d.toString('latin1').matchAll(/^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP/gm))
        state.requests.push(`${m[1]} ${m[2]}`);
    });
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  defer(t, async () => {
    state.cut();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });
  return state;
}

const httpdScript = 'mkdir -p /www && echo "$BODY" > /www/index.html && exec httpd -f -p 80 -h /www';

before(async () => {
  busyboxId = (await ensureBusyboxImage(docker)).imageId;
});

after(async () => {
  // Safety net for tests that failed before their own cleanup ran.
  for (const c of await rt.listContainers({ labels: runLabel }))
    await rt.removeContainer(c.id, { force: true });
  for (const n of await rt.listNetworks({ labels: runLabel })) await rt.removeNetwork(n.id);
  const volumes =
    (await docker.listVolumes({ filters: { label: [`org.berth.test.run=${runId}`] } })).Volumes ?? [];
  for (const v of volumes) await rt.removeVolume(v.Name);
});

describe('DockerRuntime against the local engine', { timeout: 180_000 }, () => {
  test('the busybox image helper is idempotent and the runtime sees the image', async () => {
    const again = await ensureBusyboxImage(docker);
    assert.equal(again.built, false, 'second call finds the image');
    assert.equal(again.imageId, busyboxId);
    const img = await rt.inspectImage(busyboxImage);
    assert.ok(img);
    assert.equal(img.id, busyboxId);
    assert.deepEqual(img.config.command, ['sh']);
    assert.equal(img.config.labels['org.berth.test'], 'busybox');
    assert.ok(img.repoTags.includes(busyboxImage));
    assert.equal(await rt.inspectImage(`berth-test/absent-${runId}:latest`), undefined);
  });

  test('engine version and info', async () => {
    await rt.ping();
    const v = await rt.version();
    assert.match(v.apiVersion, /^1\.\d+$/);
    assert.ok(Number(v.apiVersion.split('.')[1]) >= 41);
    const info = await rt.info();
    assert.ok(info.cpus > 0);
    assert.ok(info.memoryBytes > 0);
    assert.ok(info.serverVersion.length > 0);
  });

  test('create, start and inspect a sleeping container', async (t) => {
    const name = unique('sleep');
    const before = Date.now();
    const id = await create(t, { name, command: ['sleep', '300'] });
    const created = await rt.inspectContainer(id);
    assert.equal(created.status, 'created');
    assert.equal(created.startedAt, undefined);
    await rt.startContainer(id);
    await rt.startContainer(id); // a second start is a no-op
    const s = await rt.inspectContainer(name);
    assert.equal(s.id, id);
    assert.equal(s.name, name);
    assert.equal(s.status, 'running');
    assert.equal(s.engineStatus, 'running');
    assert.equal(s.exitCode, undefined);
    assert.ok(s.pid && s.pid > 1);
    assert.ok(s.startedAt && s.startedAt >= before - 2000 && s.startedAt <= Date.now() + 2000);
    assert.equal(s.imageId, busyboxId);
    assert.equal(s.image, busyboxImage);
    assert.equal(s.labels['org.berth.test.run'], runId);
    assert.equal(s.networks[0]?.name, 'bridge');
    assert.match(s.networks[0]?.ipv4Address ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(s.health, undefined);
  });

  test('memory limit, reservation and cpu shares reach Docker and the cgroup', async (t) => {
    const id = await run(t, {
      command: [
        'sh',
        '-c',
        'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.soft_limit_in_bytes /sys/fs/cgroup/cpu/cpu.shares',
      ],
      memoryMiB: 64,
      memoryReservationMiB: 32,
      cpuShares: 256,
      nanoCpus: 500_000_000,
      maxSwapMiB: 0,
      init: true,
      stopTimeoutSeconds: 7,
    });
    const raw = await docker.getContainer(id).inspect();
    assert.equal(raw.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(raw.HostConfig.MemoryReservation, 32 * 1024 * 1024);
    assert.equal(raw.HostConfig.CpuShares, 256);
    assert.equal(raw.HostConfig.NanoCpus, 500_000_000);
    assert.equal(raw.HostConfig.MemorySwap, 64 * 1024 * 1024);
    assert.equal((raw.HostConfig as { Init?: boolean }).Init, true);
    assert.equal((raw.Config as { StopTimeout?: number }).StopTimeout, 7);
    assert.deepEqual(raw.HostConfig.LogConfig, { Type: 'json-file', Config: {} });
    await waitExited(id);
    assert.deepEqual(stdout(await allLogs(id)), [String(64 * 1024 * 1024), String(32 * 1024 * 1024), '256']);
  });

  test('env, command, entryPoint, workingDir, user, hostname, hosts, dns, ulimits, caps and read-only root are honoured', async (t) => {
    const script = [
      'echo "FOO=$FOO"',
      'echo "UID=$(id -u) GID=$(id -g)"',
      'echo "PWD=$(pwd)"',
      'echo "HOST=$(hostname)"',
      'grep db.berth.test /etc/hosts',
      "grep -E '^(nameserver|search)' /etc/resolv.conf",
      'echo "NOFILE=$(ulimit -n)/$(ulimit -Hn)"',
      'grep CapBnd /proc/self/status',
      'touch /probe 2>/dev/null && echo ROOT=rw || echo ROOT=ro',
    ].join('; ');
    const id = await run(t, {
      entryPoint: ['sh', '-c'],
      command: [script],
      env: { FOO: 'bar baz', OTHER: '1' },
      workingDir: '/work/dir',
      user: '1234:2345',
      hostname: 'berth-host',
      labels: { 'com.amazonaws.ecs.container-name': 'app' },
      extraHosts: [{ hostname: 'db.berth.test', ipAddress: '10.1.2.3' }],
      dnsServers: ['10.0.0.53'],
      dnsSearchDomains: ['berth.test'],
      ulimits: [{ name: 'nofile', softLimit: 1234, hardLimit: 2345 }],
      capAdd: ['NET_ADMIN'],
      capDrop: ['CHOWN'],
      readonlyRootfs: true,
    });
    const s = await waitExited(id);
    assert.equal(s.exitCode, 0);
    assert.equal(s.labels['com.amazonaws.ecs.container-name'], 'app');
    const out = stdout(await allLogs(id));
    assert.equal(out[0], 'FOO=bar baz');
    assert.equal(out[1], 'UID=1234 GID=2345');
    assert.equal(out[2], 'PWD=/work/dir');
    assert.equal(out[3], 'HOST=berth-host');
    assert.match(out[4] ?? '', /^10\.1\.2\.3\s+db\.berth\.test$/);
    assert.ok(out.includes('nameserver 10.0.0.53'), out.join('\n'));
    assert.ok(out.includes('search berth.test'), out.join('\n'));
    assert.ok(out.includes('NOFILE=1234/2345'), out.join('\n'));
    const capLine = out.find((l) => l.startsWith('CapBnd:'));
    assert.ok(capLine, out.join('\n'));
    const caps = BigInt(`0x${capLine.split(/\s+/)[1]}`);
    const has = (bit: number): boolean => ((caps >> BigInt(bit)) & 1n) === 1n;
    assert.equal(has(12), true, 'CAP_NET_ADMIN added');
    assert.equal(has(0), false, 'CAP_CHOWN dropped');
    assert.equal(has(1), true, 'CAP_DAC_OVERRIDE kept (default set)');
    assert.equal(out.at(-1), 'ROOT=ro');
  });

  test('an exiting container reports its exit code through inspect and the events stream', async (t) => {
    const testLabel = { 'org.berth.test.case': unique('exit') };
    const { it } = await openEvents(t, testLabel);
    const id = await run(t, { command: ['sh', '-c', 'sleep 0.2; exit 7'], labels: testLabel });
    const start = await nextMatching(it, containerEvent(id, 'start'), 15_000, 'start event');
    const die = await nextMatching(it, containerEvent(id, 'die'), 15_000, 'die event');
    assert.equal(die.exitCode, 7);
    assert.ok(die.time >= start.time);
    assert.equal(die.labels['org.berth.test.case'], testLabel['org.berth.test.case']);
    assert.equal(die.image, busyboxImage);
    const s = await rt.inspectContainer(id);
    assert.equal(s.status, 'exited');
    assert.equal(s.exitCode, 7);
    assert.equal(s.oomKilled, false);
    assert.ok(s.finishedAt && s.startedAt && s.finishedAt >= s.startedAt);
    assert.equal(s.pid, undefined);
  });

  test('stop: a container that traps SIGTERM exits 0 well before the timeout', async (t) => {
    const id = await run(t, {
      command: ['sh', '-c', 'trap "exit 0" TERM; echo ready; while true; do sleep 1; done'],
    });
    const logs = await rt.logs(id, { follow: true });
    defer(t, () => logs.close());
    await nextMatching(
      logs[Symbol.asyncIterator](),
      (l) => (l.text === 'ready' ? l : undefined),
      10_000,
      'ready',
    );
    const t0 = Date.now();
    assert.deepEqual(await rt.stopContainer(id, 20), { stopped: true });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 10_000, `stopped in ${elapsed} ms`);
    const s = await rt.inspectContainer(id);
    assert.equal(s.status, 'exited');
    assert.equal(s.exitCode, 0);
    assert.deepEqual(await rt.stopContainer(id, 20), { stopped: false }, 'already stopped');
  });

  test('stop: a container ignoring SIGTERM is killed after the timeout (137)', async (t) => {
    const testLabel = { 'org.berth.test.case': unique('kill') };
    const { it } = await openEvents(t, testLabel);
    const id = await run(t, {
      command: ['sh', '-c', 'trap "" TERM; echo ready; sleep 1000'],
      labels: testLabel,
    });
    const logs = await rt.logs(id, { follow: true });
    defer(t, () => logs.close());
    await nextMatching(
      logs[Symbol.asyncIterator](),
      (l) => (l.text === 'ready' ? l : undefined),
      10_000,
      'ready',
    );
    const t0 = Date.now();
    await rt.stopContainer(id, 2);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1900, `waited the timeout (${elapsed} ms)`);
    assert.ok(elapsed < 15_000, `then killed (${elapsed} ms)`);
    assert.equal((await rt.inspectContainer(id)).exitCode, 137);
    const term = await nextMatching(it, containerEvent(id, 'kill'), 5000, 'SIGTERM kill event');
    const kill = await nextMatching(it, containerEvent(id, 'kill'), 5000, 'SIGKILL kill event');
    assert.deepEqual([term.signal, kill.signal], ['15', '9']);
    const die = await nextMatching(it, containerEvent(id, 'die'), 5000, 'die event');
    assert.equal(die.exitCode, 137);
  });

  test('OOM: exceeding the hard memory limit is reported as oom, exit 137 and OOMKilled', async (t) => {
    const testLabel = { 'org.berth.test.case': unique('oom') };
    const { it } = await openEvents(t, testLabel);
    const id = await run(t, {
      command: ['sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'],
      memoryMiB: 16,
      maxSwapMiB: 0,
      labels: testLabel,
    });
    // oom and die come from different sources in the engine: accept either order.
    const seen = new Map<string, ContainerEvent>();
    await nextMatching(
      it,
      (e) => {
        if (e.type === 'container' && e.containerId === id) seen.set(e.action, e);
        return seen.has('oom') && seen.has('die') ? true : undefined;
      },
      20_000,
      'oom and die events',
    );
    assert.equal(seen.get('die')?.exitCode, 137);
    const s = await rt.inspectContainer(id);
    assert.equal(s.oomKilled, true);
    assert.equal(s.exitCode, 137);
  });

  test('a dynamic host port is assigned and httpd answers on 127.0.0.1:<port>', async (t) => {
    const id = await run(t, {
      command: ['sh', '-c', httpdScript],
      env: { BODY: `hello from ${runId}` },
      portBindings: [{ containerPort: 80, hostPort: 0 }],
    });
    const s = await waitFor('port assignment', async () => {
      const st = await rt.inspectContainer(id);
      return st.ports.length > 0 ? st : undefined;
    });
    const binding = s.ports.find((p) => p.hostIp === '0.0.0.0') ?? s.ports[0];
    assert.ok(binding);
    assert.equal(binding.containerPort, 80);
    assert.equal(binding.protocol, 'tcp');
    assert.ok(binding.hostPort > 0 && binding.hostPort < 65536);
    assert.equal(await httpGet(`http://127.0.0.1:${binding.hostPort}/`), `hello from ${runId}\n`);
  });

  test('health check: healthy, then unhealthy, through events and inspect', async (t) => {
    const testLabel = { 'org.berth.test.case': unique('health') };
    const { it } = await openEvents(t, testLabel);
    const id = await run(t, {
      command: ['sh', '-c', 'mkdir -p /tmp && touch /tmp/ok && sleep 3 && rm /tmp/ok && sleep 300'],
      healthCheck: {
        command: ['CMD-SHELL', 'test -f /tmp/ok'],
        intervalMs: 500,
        timeoutMs: 2000,
        retries: 1,
      },
      labels: testLabel,
    });
    const healthy = await nextMatching(it, containerEvent(id, 'health_status'), 15_000, 'first health event');
    assert.equal(healthy.health, 'healthy');
    assert.equal((await rt.inspectContainer(id)).health?.status, 'healthy');
    const unhealthy = await nextMatching(
      it,
      containerEvent(id, 'health_status'),
      15_000,
      'second health event',
    );
    assert.equal(unhealthy.health, 'unhealthy');
    const h = (await rt.inspectContainer(id)).health;
    assert.equal(h?.status, 'unhealthy');
    assert.ok((h?.failingStreak ?? 0) >= 1);
    assert.equal(h?.lastExitCode, 1);
  });

  test('a CMD health check that fails from the start turns unhealthy', async (t) => {
    const id = await run(t, {
      command: ['sleep', '300'],
      healthCheck: { command: ['CMD', 'false'], intervalMs: 300, timeoutMs: 2000, retries: 2 },
    });
    const h = await waitFor('unhealthy', async () => {
      const s = await rt.inspectContainer(id);
      return s.health?.status === 'unhealthy' ? s.health : undefined;
    });
    assert.equal(h.failingStreak >= 2, true);
  });

  test('pulling a non-existent image fails with CannotPullContainerError and the registry reason', async () => {
    await assert.rejects(rt.pullImage('127.0.0.1:1/nope:latest'), (e: unknown) => {
      assert.ok(e instanceof CannotPullContainerError, String(e));
      assert.match(e.message, /127\.0\.0\.1:1/);
      assert.match(e.message, /connection refused/);
      assert.equal(e.retriable, true, 'an unreachable registry may come back');
      assert.match(e.reasonText, /^CannotPullContainerError: /);
      return true;
    });
  });

  test('concurrent pulls of one image share one engine call; a finished one is not reused', async (t) => {
    const proxy = await startEngineProxy(t);
    const viaProxy = new DockerRuntime({ socketPath: proxy.socketPath });
    const inspections = (): number =>
      proxy.requests.filter((r) => /^GET \S*\/images\/\S+\/json/.test(r)).length;
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => viaProxy.pullImage(busyboxImage, { policy: 'if-not-present' })),
    );
    assert.deepEqual(new Set(burst.map((r) => r.imageId)), new Set([busyboxId]));
    assert.equal(inspections(), 1);
    await Promise.all([
      viaProxy.pullImage(busyboxImage, { policy: 'if-not-present' }),
      viaProxy.pullImage(busyboxImage, { policy: 'never' }),
    ]);
    assert.equal(inspections(), 3, 'asked again once done, and a different policy is asked on its own');
  });

  test('pull policies against a local registry: auth, missing manifests, cache fallback', async (t) => {
    const creds = { username: 'berth', password: `pw-${runId}` };
    const registry = await startTestRegistry({ repositories: ['berth/bb'], credentials: creds });
    let registryOpen = true;
    defer(t, () => (registryOpen ? registry.close() : undefined));
    const ref = `${registry.host}/berth/bb:latest`;
    defer(t, () => rt.removeImage(ref, { force: true }));

    assert.equal((await rt.pullImage(busyboxImage, { policy: 'if-not-present' })).pulled, false);
    assert.equal((await rt.pullImage(busyboxImage, { policy: 'never' })).imageId, busyboxId);
    await assert.rejects(
      rt.pullImage(`berth-test/absent-${runId}`, { policy: 'never' }),
      (e: unknown) => e instanceof CannotPullContainerError && e.kind === 'not-found' && !e.retriable,
    );

    await assert.rejects(rt.pullImage(ref), (e: unknown) => {
      assert.ok(e instanceof CannotPullContainerError);
      assert.equal(e.kind, 'unauthorized');
      assert.equal(e.retriable, false);
      assert.match(e.message, /no basic auth credentials|unauthorized|authentication required/);
      return true;
    });
    await assert.rejects(
      rt.pullImage(`${registry.host}/berth/bb:v2`, { auth: creds }),
      (e: unknown) =>
        e instanceof CannotPullContainerError && e.kind === 'not-found' && /manifest unknown/.test(e.message),
    );

    const pulled = await rt.pullImage(ref, { auth: creds, policy: 'if-not-present' });
    assert.equal(pulled.pulled, true);
    assert.ok(registry.requests.some((r) => r.url.includes('/blobs/') && r.authorized));
    assert.equal((await rt.inspectImage(ref))?.id, pulled.imageId);
    const id = await run(t, { image: ref, command: ['echo', 'from-registry'] });
    await waitExited(id);
    assert.deepEqual(stdout(await allLogs(id)), ['from-registry']);

    await registry.close();
    registryOpen = false;
    const cached = await rt.pullImage(ref, { auth: creds, policy: 'remote-or-cached' });
    assert.equal(cached.pulled, false);
    assert.equal(cached.imageId, pulled.imageId);
    assert.match(cached.fallbackReason ?? '', /connection refused/);
    await assert.rejects(rt.pullImage(ref, { auth: creds, policy: 'always' }), CannotPullContainerError);
  });

  test('a named network with a fixed address: the container gets it and the host reaches it', async (t) => {
    let subnetBase = '';
    let netId = '';
    const netName = unique('net');
    for (let attempt = 0; attempt < 8 && !netId; attempt++) {
      subnetBase = `10.213.${Math.floor(Math.random() * 256)}`;
      try {
        netId = await rt.createNetwork({
          name: netName,
          subnet: `${subnetBase}.0/24`,
          gateway: `${subnetBase}.1`,
          labels: runLabel,
        });
      } catch (e) {
        // Another network on this host may own that range; try another.
        if (!(e instanceof CannotCreateNetworkError && /overlap/i.test(e.message))) throw e;
      }
    }
    assert.ok(netId, 'a free /24 was found');
    defer(t, () => rt.removeNetwork(netId));
    const ip = `${subnetBase}.10`;
    const id = await run(t, {
      command: ['sh', '-c', httpdScript],
      env: { BODY: 'on-the-task-network' },
      networkMode: { network: netName, ipv4Address: ip, aliases: ['web'] },
    });
    const s = await rt.inspectContainer(id);
    assert.deepEqual(
      s.networks.map((n) => [n.name, n.ipv4Address, n.gateway, n.ipv4PrefixLength]),
      [[netName, ip, `${subnetBase}.1`, 24]],
    );
    const info = await rt.inspectNetwork(netName);
    assert.equal(info?.id, netId);
    assert.deepEqual(info?.subnets, [{ subnet: `${subnetBase}.0/24`, gateway: `${subnetBase}.1` }]);
    assert.equal(info?.labels['org.berth.test.run'], runId);
    assert.deepEqual(
      info?.containers.map((c) => [c.containerId, c.ipv4Address]),
      [[id, ip]],
    );
    assert.ok((await rt.listNetworks({ labels: runLabel })).some((n) => n.id === netId));
    assert.equal(await httpGet(`http://${ip}/`), 'on-the-task-network\n');

    await rt.removeContainer(id, { force: true });
    await rt.removeNetwork(netId);
    await rt.removeNetwork(netId); // idempotent
    assert.equal(await rt.inspectNetwork(netId), undefined);
  });

  test('logs with follow deliver lines while the container runs, stdout and stderr apart', async (t) => {
    const id = await run(t, {
      command: ['sh', '-c', 'echo first; echo err-first >&2; sleep 2; echo second; echo err-second >&2'],
    });
    const stream = await rt.logs(id, { follow: true });
    defer(t, () => stream.close());
    const it = stream[Symbol.asyncIterator]();
    // stdout and stderr are separate pipes: their relative order is not defined, only each one's.
    const early: LogLine[] = [];
    const collect = (into: LogLine[], n: number) => (l: LogLine) => (into.push(l) >= n ? true : undefined);
    await nextMatching(it, collect(early, 2), 10_000, 'the first two lines');
    assert.equal(
      (await rt.inspectContainer(id)).status,
      'running',
      'lines arrived before the container finished',
    );
    assert.deepEqual(early.map((l) => [l.stream, l.text]).sort(), [
      ['stderr', 'err-first'],
      ['stdout', 'first'],
    ]);
    const first = early.find((l) => l.text === 'first')!;
    assert.ok(first.time && Math.abs(first.time - Date.now()) < 60_000);
    const rest: LogLine[] = [];
    await nextMatching(it, collect(rest, 2), 10_000, 'the remaining lines');
    assert.deepEqual(rest.map((l) => [l.stream, l.text]).sort(), [
      ['stderr', 'err-second'],
      ['stdout', 'second'],
    ]);
    // The stream ends by itself once the container exits.
    const end = await within(it.next(), 10_000, 'the log stream to end');
    assert.equal(end.done, true);

    const tail = await rt.logs(id, { tail: 1 });
    const tailed: LogLine[] = [];
    for await (const l of tail) tailed.push(l);
    assert.equal(tailed.length, 1);
    const since = await rt.logs(id, { since: (first.time ?? 0) + 1000 });
    const later: string[] = [];
    for await (const l of since) later.push(l.text);
    assert.ok(!later.includes('first') && later.includes('second'), later.join(','));
  });

  test('listContainers by label finds only ours', async (t) => {
    const mine = unique('list');
    const a = await create(t, { command: ['true'], labels: { 'org.berth.test.case': mine } });
    const b = await run(t, { command: ['sleep', '300'], labels: { 'org.berth.test.case': mine } });
    await create(t, { command: ['true'], labels: { 'org.berth.test.case': `${mine}-other` } });
    const found = await rt.listContainers({ labels: { 'org.berth.test.case': mine } });
    assert.deepEqual(found.map((c) => c.id).sort(), [a, b].sort());
    const byStatus = Object.fromEntries(found.map((c) => [c.id, c.status]));
    assert.deepEqual(byStatus, { [a]: 'created', [b]: 'running' });
    assert.ok(found.every((c) => c.labels['org.berth.test.run'] === runId && c.name.startsWith('berth-rt-')));
    assert.deepEqual(
      (await rt.listContainers({ labels: { 'org.berth.test.case': mine }, all: false })).map((c) => c.id),
      [b],
    );
    const all = await rt.listContainers({ labels: { 'org.berth.test.run': true } });
    assert.ok(all.length >= 3);
  });

  test('named volumes, bind mounts and tmpfs', async (t) => {
    const volume = unique('vol');
    const v = await rt.createVolume({ name: volume, labels: runLabel });
    assert.equal(v.name, volume);
    assert.equal(v.labels['org.berth.test.run'], runId);
    assert.deepEqual(await rt.createVolume({ name: volume, labels: runLabel }), v, 'create is idempotent');
    defer(t, () => rt.removeVolume(volume));
    const hostDir = await mkdtemp(join(tmpdir(), 'berth-rt-'));
    defer(t, () => rm(hostDir, { recursive: true, force: true }));
    await writeFile(join(hostDir, 'in.txt'), 'from-the-host\n');

    const writer = await run(t, {
      command: ['sh', '-c', 'echo persisted > /data/f'],
      mounts: [{ type: 'volume', source: volume, target: '/data' }],
    });
    assert.equal((await waitExited(writer)).exitCode, 0);
    const reader = await run(t, {
      command: [
        'sh',
        '-c',
        'cat /data/f; cat /host/in.txt; touch /data/x 2>/dev/null && echo data=rw || echo data=ro; grep -c " /scratch tmpfs" /proc/mounts',
      ],
      mounts: [
        { type: 'volume', source: volume, target: '/data', readOnly: true },
        { type: 'bind', source: hostDir, target: '/host', readOnly: true },
        { type: 'tmpfs', target: '/scratch', sizeMiB: 8 },
      ],
    });
    assert.equal((await waitExited(reader)).exitCode, 0);
    assert.deepEqual(stdout(await allLogs(reader)), ['persisted', 'from-the-host', 'data=ro', '1']);

    await assert.rejects(
      rt.removeVolume(volume),
      (e: unknown) => e instanceof CannotRemoveVolumeError && e.kind === 'conflict' && e.retriable,
    );
    await rt.removeContainer(writer);
    await rt.removeContainer(reader);
    await rt.removeVolume(volume);
    assert.equal(await rt.inspectVolume(volume), undefined);
  });

  test('stats give one sample with usage, limit and the raw Docker document', async (t) => {
    const id = await run(t, { command: ['sleep', '300'], memoryMiB: 64 });
    const st = await rt.stats(id);
    assert.ok(st.memoryUsageBytes > 0);
    assert.equal(st.memoryLimitBytes, 64 * 1024 * 1024);
    assert.ok(Math.abs(st.read - Date.now()) < 60_000);
    assert.ok(st.cpuTotalUsageNs > 0);
    assert.ok('precpu_stats' in st.raw && 'memory_stats' in st.raw);
  });

  test('errors: name conflict, missing image, bad command, missing container, bad memory', async (t) => {
    const name = unique('dup');
    await create(t, { name, command: ['true'] });
    await assert.rejects(rt.createContainer({ name, image: busyboxImage }), (e: unknown) => {
      assert.ok(e instanceof CannotCreateContainerError);
      assert.equal(e.kind, 'conflict');
      assert.equal(e.retriable, false);
      assert.match(e.message, /already in use/);
      return true;
    });
    await assert.rejects(
      rt.createContainer({ name: unique('noimg'), image: `berth-test/absent-${runId}:latest` }),
      (e: unknown) =>
        e instanceof CannotCreateContainerError && e.kind === 'not-found' && /No such image/.test(e.message),
    );
    await assert.rejects(
      rt.createContainer({
        name: unique('mem'),
        image: busyboxImage,
        memoryMiB: 32,
        memoryReservationMiB: 64,
      }),
      (e: unknown) =>
        e instanceof CannotCreateContainerError && e.kind === 'invalid' && /reservation/.test(e.message),
    );
    const bad = await create(t, { command: ['/no/such/binary'] });
    await assert.rejects(rt.startContainer(bad), (e: unknown) => {
      assert.ok(e instanceof CannotStartContainerError, String(e));
      assert.equal(e.retriable, false);
      assert.match(e.message, /no such file|not found/i);
      return true;
    });
    assert.match((await rt.inspectContainer(bad)).error ?? '', /no such file|not found/i);
    const missing = `berth-rt-${runId}-never-created`;
    await assert.rejects(rt.inspectContainer(missing), ContainerNotFoundError);
    await assert.rejects(rt.stopContainer(missing, 1), ContainerNotFoundError);
    await assert.rejects(rt.startContainer(missing), ContainerNotFoundError);
    await rt.removeContainer(missing); // idempotent
    await assert.rejects(rt.stats(missing), ContainerNotFoundError);
    await assert.rejects(rt.logs(missing), ContainerNotFoundError);
  });

  test('event streams end when closed and when a loop breaks', async () => {
    const stream = rt.events({ labels: runLabel });
    const seen: RuntimeEvent[] = [];
    const loop = (async () => {
      for await (const e of stream) {
        seen.push(e);
        if (e.type === 'stream' && e.state === 'connected') break;
      }
    })();
    await within(loop, 10_000, 'the loop to end');
    assert.deepEqual(seen, [{ type: 'stream', state: 'connected', resumed: false }]);

    const other = rt.events({ labels: runLabel });
    const it = other[Symbol.asyncIterator]();
    await nextMatching(it, (e) => (e.type === 'stream' ? e : undefined), 10_000, 'connected');
    const pending = it.next();
    other.close();
    const r = await within(pending, 5000, 'the closed stream to finish');
    assert.deepEqual(r, { value: undefined, done: true });
  });

  test('events since a past time replay what the engine remembers', async (t) => {
    const testLabel = { 'org.berth.test.case': unique('since') };
    const t0 = Date.now();
    const id = await run(t, { command: ['true'], labels: testLabel });
    await waitExited(id);
    const stream = rt.events({ labels: testLabel, actions: ['start', 'die'] }, { since: t0 - 1000 });
    defer(t, () => stream.close());
    const it = stream[Symbol.asyncIterator]();
    await nextMatching(it, containerEvent(id, 'start'), 10_000, 'replayed start');
    const die = await nextMatching(it, containerEvent(id, 'die'), 10_000, 'replayed die');
    assert.equal(die.exitCode, 0);
  });

  test('an event stream survives a dropped connection and replays what happened meanwhile', async (t) => {
    const proxy = await startEngineProxy(t);
    const viaProxy = new DockerRuntime({
      socketPath: proxy.socketPath,
      timeouts: { eventsReconnectInitialMs: 50, eventsReconnectMaxMs: 200 },
    });
    const testLabel = { 'org.berth.test.case': unique('reconnect') };
    const stream = viaProxy.events({ labels: testLabel });
    defer(t, () => stream.close());
    const it = stream[Symbol.asyncIterator]();
    const isStream = (state: string) => (e: RuntimeEvent) =>
      e.type === 'stream' && e.state === state ? e : undefined;
    await nextMatching(it, isStream('connected'), 10_000, 'first connection');

    proxy.refuse = true;
    proxy.cut();
    await nextMatching(it, isStream('disconnected'), 10_000, 'the drop to be reported');
    // While the stream is down, a container runs and exits.
    const id = await run(t, { command: ['sh', '-c', 'exit 5'], labels: testLabel });
    await waitExited(id);
    proxy.refuse = false;

    const back = await nextMatching(it, isStream('connected'), 10_000, 'the reconnection');
    assert.deepEqual(back, { type: 'stream', state: 'connected', resumed: true });
    await nextMatching(it, containerEvent(id, 'start'), 10_000, 'the missed start, replayed');
    const die = await nextMatching(it, containerEvent(id, 'die'), 10_000, 'the missed die, replayed');
    assert.equal(die.exitCode, 5);
  });

  test('a pull that stops making progress fails with DockerTimeoutError', async (t) => {
    const registry = await startTestRegistry({ repositories: ['berth/stall'], stallBlobs: true });
    defer(t, () => registry.close());
    const impatient = new DockerRuntime({ timeouts: { pullInactivityMs: 1500 } });
    const t0 = Date.now();
    await assert.rejects(impatient.pullImage(`${registry.host}/berth/stall:latest`), (e: unknown) => {
      assert.ok(e instanceof DockerTimeoutError, String(e));
      assert.equal(e.retriable, true);
      assert.match(e.message, /no progress/);
      return true;
    });
    assert.ok(Date.now() - t0 < 15_000);
    assert.ok(
      registry.requests.some((r) => r.url.includes('/blobs/')),
      'the pull reached the blobs',
    );
  });

  test('DockerUnavailableError when the socket does not exist', async () => {
    const down = new DockerRuntime({ socketPath: `/tmp/berth-no-such-docker-${runId}.sock` });
    await assert.rejects(down.ping(), (e: unknown) => {
      assert.ok(e instanceof DockerUnavailableError, String(e));
      assert.equal(e.retriable, true);
      assert.match(e.message, /Cannot connect to the Docker daemon at unix:\/\/\/tmp\/berth-no-such-docker-/);
      return true;
    });
    await assert.rejects(down.inspectContainer('x'), DockerUnavailableError);
    await assert.rejects(
      down.createContainer({ name: 'berth-x', image: busyboxImage }),
      DockerUnavailableError,
    );
    await assert.rejects(down.pullImage('127.0.0.1:1/x'), DockerUnavailableError);
    await assert.rejects(down.logs('x'), DockerUnavailableError);
    const events = down.events();
    const first = await nextMatching(events[Symbol.asyncIterator](), (e) => e, 5000, 'a stream event');
    events.close();
    assert.equal(first.type, 'stream');
    assert.equal(first.type === 'stream' && first.state, 'disconnected');
  });
});
