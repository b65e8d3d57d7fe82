// Unit tests for the in-memory runtime: it must behave like Docker where the task runner can
// tell (event order, exit codes, stop timeouts, ports, addresses, errors), with time under test control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../domain/clock.js';
import type { ContainerEvent, EventStream, RuntimeEvent } from './container-runtime.js';
import {
  CannotCreateContainerError,
  CannotCreateNetworkError,
  CannotPullContainerError,
  CannotRemoveContainerError,
  CannotRemoveNetworkError,
  CannotRemoveVolumeError,
  CannotStartContainerError,
  ContainerNotFoundError,
  DockerTimeoutError,
  DockerUnavailableError,
} from './errors.js';
import { FakeRuntime, ManualScheduler } from './fake-runtime.js';

const image = 'app:1';

function setup(o: ConstructorParameters<typeof FakeRuntime>[0] = {}): {
  rt: FakeRuntime;
  sched: ManualScheduler;
} {
  const sched = new ManualScheduler(new ManualClock(Date.UTC(2026, 0, 1)));
  const rt = new FakeRuntime({ scheduler: sched, ...o });
  rt.addImage(image);
  return { rt, sched };
}

/** Reads events already queued on a stream without waiting for more. */
async function drain(stream: EventStream): Promise<RuntimeEvent[]> {
  const out: RuntimeEvent[] = [];
  const it = stream[Symbol.asyncIterator]();
  for (;;) {
    const r = await Promise.race([it.next(), new Promise<'idle'>((res) => setImmediate(() => res('idle')))]);
    if (r === 'idle' || r.done) return out;
    out.push(r.value);
  }
}

const actions = (evs: RuntimeEvent[]): string[] =>
  evs.filter((e): e is ContainerEvent => e.type === 'container').map((e) => e.action);

test('create and start: running with a pid, a bridge address and a dynamic host port', async () => {
  const { rt, sched } = setup({ ephemeralPorts: [50000, 50010] });
  const events = rt.events();
  const id = await rt.createContainer({
    name: 'web',
    image,
    labels: { 'com.amazonaws.ecs.task-arn': 'arn:t' },
    portBindings: [{ containerPort: 80 }, { containerPort: 81, hostPort: 8081 }],
  });
  const created = await rt.inspectContainer(id);
  assert.equal(created.status, 'created');
  assert.equal(created.startedAt, undefined);
  await rt.startContainer(id);
  await rt.startContainer(id); // already running: no-op, like Docker's 304
  const s = await rt.inspectContainer('web');
  assert.equal(s.status, 'running');
  assert.ok(s.pid && s.pid > 0);
  assert.equal(s.startedAt, sched.now());
  assert.deepEqual(s.ports, [
    { containerPort: 80, protocol: 'tcp', hostPort: 50000, hostIp: '0.0.0.0' },
    { containerPort: 81, protocol: 'tcp', hostPort: 8081, hostIp: '0.0.0.0' },
  ]);
  assert.equal(s.networks[0]?.name, 'bridge');
  assert.equal(s.networks[0]?.ipv4Address, '172.17.0.2');
  assert.deepEqual(s.labels, { 'com.amazonaws.ecs.task-arn': 'arn:t' });
  const evs = await drain(events);
  assert.deepEqual(evs[0], { type: 'stream', state: 'connected', resumed: false });
  assert.deepEqual(actions(evs), ['create', 'start']);
  events.close();
});

test('create refuses what Docker refuses, with Docker wording', async () => {
  const { rt } = setup();
  await rt.createContainer({ name: 'c-a', image });
  await assert.rejects(
    rt.createContainer({ name: 'c-a', image }),
    (e: unknown) =>
      e instanceof CannotCreateContainerError && e.kind === 'conflict' && /already in use/.test(e.message),
  );
  await assert.rejects(
    rt.createContainer({ name: 'c-b', image: 'missing:1' }),
    (e: unknown) =>
      e instanceof CannotCreateContainerError &&
      e.kind === 'not-found' &&
      /No such image: missing:1/.test(e.message),
  );
  await assert.rejects(
    rt.createContainer({ name: 'c-c', image, memoryMiB: 64, memoryReservationMiB: 128 }),
    /memory reservation limit/,
  );
  await assert.rejects(
    rt.createContainer({ name: 'c-d', image, memoryMiB: 4 }),
    /Minimum memory limit allowed is 6MB/,
  );
  await assert.rejects(rt.createContainer({ name: 'bad name!', image }), /Invalid container name/);
  await assert.rejects(
    rt.createContainer({ name: 'x', image }),
    /Invalid container name/,
    'Docker wants two characters or more',
  );
  await assert.rejects(
    rt.createContainer({ name: 'c-e', image, healthCheck: { command: ['curl'] } }),
    /CMD, CMD-SHELL or NONE/,
  );
  await assert.rejects(
    rt.createContainer({ name: 'c-f', image, networkMode: { network: 'nope' } }),
    (e: unknown) => e instanceof CannotCreateContainerError && e.kind === 'not-found',
  );
  await assert.rejects(rt.inspectContainer('zzz'), ContainerNotFoundError);
});

test('a process that exits reports its code through inspect and a die event, and frees its port', async () => {
  const { rt, sched } = setup();
  const events = rt.events({ labels: { team: 'a' } });
  const id = await rt.createContainer({
    name: 'job',
    image,
    labels: { team: 'a' },
    portBindings: [{ containerPort: 80, hostPort: 8080 }],
  });
  const other = await rt.createContainer({ name: 'other', image, labels: { team: 'b' } });
  await rt.startContainer(id);
  await rt.startContainer(other);
  await sched.advance(1500);
  rt.exitContainer(id, 3);
  const s = await rt.inspectContainer(id);
  assert.equal(s.status, 'exited');
  assert.equal(s.exitCode, 3);
  assert.equal(s.finishedAt, Date.UTC(2026, 0, 1) + 1500);
  assert.deepEqual(s.ports, []);
  assert.equal(s.networks[0]?.ipv4Address, undefined, 'address released on exit');
  const evs = (await drain(events)).filter((e): e is ContainerEvent => e.type === 'container');
  assert.deepEqual(
    evs.map((e) => [e.action, e.containerId]),
    [
      ['create', id],
      ['start', id],
      ['die', id],
    ],
    'only events of containers matching the label filter',
  );
  assert.equal(evs[2]?.exitCode, 3);
  // The static port is free again.
  const again = await rt.createContainer({
    name: 'job2',
    image,
    portBindings: [{ containerPort: 80, hostPort: 8080 }],
  });
  await rt.startContainer(again);
  events.close();
});

test('stop: a process that exits on SIGTERM stops at once with its own code', async () => {
  const { rt } = setup();
  rt.setBehaviour('graceful', { onStop: { exitCode: 0 } });
  const events = rt.events();
  const id = await rt.createContainer({ name: 'graceful', image });
  await rt.startContainer(id);
  assert.deepEqual(await rt.stopContainer(id, 30), { stopped: true });
  assert.equal((await rt.inspectContainer(id)).exitCode, 0);
  assert.deepEqual(await rt.stopContainer(id, 30), { stopped: false }, 'stopping a stopped container');
  const evs = (await drain(events)).filter((e): e is ContainerEvent => e.type === 'container');
  assert.deepEqual(
    evs.map((e) => e.action),
    ['create', 'start', 'kill', 'die', 'stop'],
  );
  assert.equal(evs[2]?.signal, '15');
  events.close();
});

test('stop: a process ignoring SIGTERM is killed (137) only when the timeout has passed', async () => {
  const { rt, sched } = setup();
  rt.addImage('stubborn:1', { behaviour: { onStop: 'ignore' } });
  const events = rt.events();
  const id = await rt.createContainer({ name: 'c-s', image: 'stubborn:1' });
  await rt.startContainer(id);
  let result: unknown;
  const stopping = rt.stopContainer(id, 10).then((r) => (result = r));
  await sched.advance(9_999);
  assert.equal(result, undefined, 'still waiting before the timeout');
  assert.equal((await rt.inspectContainer(id)).status, 'running');
  await sched.advance(1);
  await stopping;
  assert.deepEqual(result, { stopped: true });
  const s = await rt.inspectContainer(id);
  assert.equal(s.exitCode, 137);
  assert.equal(s.finishedAt, Date.UTC(2026, 0, 1) + 10_000);
  const evs = (await drain(events)).filter((e): e is ContainerEvent => e.type === 'container');
  assert.deepEqual(
    evs.map((e) => [e.action, e.signal ?? e.exitCode ?? '']),
    [
      ['create', ''],
      ['start', ''],
      ['kill', '15'],
      ['kill', '9'],
      ['die', 137],
      ['stop', ''],
    ],
  );
  events.close();
});

test('stop: a slow graceful exit inside the timeout keeps its own exit code', async () => {
  const { rt, sched } = setup();
  rt.setBehaviour('slow', { onStop: { exitCode: 143, afterMs: 2000 } });
  const id = await rt.createContainer({ name: 'slow', image });
  await rt.startContainer(id);
  const stopping = rt.stopContainer(id, 5);
  await sched.advance(2000);
  await stopping;
  assert.equal((await rt.inspectContainer(id)).exitCode, 143);
  assert.equal(sched.pending, 0, 'the SIGKILL timer was not left behind');
});

test('processes that exit by themselves, after their time', async () => {
  const { rt, sched } = setup();
  rt.addImage('batch:1', { behaviour: { exitAfterMs: 60_000, exitCode: 2 } });
  const id = await rt.createContainer({ name: 'c-b', image: 'batch:1' });
  await rt.startContainer(id);
  await sched.advance(59_000);
  assert.equal((await rt.inspectContainer(id)).status, 'running');
  await sched.advance(1_000);
  const s = await rt.inspectContainer(id);
  assert.equal(s.status, 'exited');
  assert.equal(s.exitCode, 2);
});

test('static host port conflicts fail the start, like Docker', async () => {
  const { rt } = setup();
  const a = await rt.createContainer({
    name: 'c-a',
    image,
    portBindings: [{ containerPort: 80, hostPort: 8080 }],
  });
  const b = await rt.createContainer({
    name: 'c-b',
    image,
    portBindings: [{ containerPort: 80, hostPort: 8080 }],
  });
  await rt.startContainer(a);
  await assert.rejects(
    rt.startContainer(b),
    (e: unknown) =>
      e instanceof CannotStartContainerError &&
      e.kind === 'conflict' &&
      /port is already allocated/.test(e.message),
  );
  assert.equal((await rt.inspectContainer(b)).status, 'created');
  // Same port on udp is a different binding.
  const c = await rt.createContainer({
    name: 'c-c',
    image,
    portBindings: [{ containerPort: 80, hostPort: 8080, protocol: 'udp' }],
  });
  await rt.startContainer(c);
});

test('health: starting, then healthy after one interval; unhealthy after start period and retries', async () => {
  const { rt, sched } = setup();
  rt.setBehaviour('sick', { health: 'unhealthy' });
  const events = rt.events({ actions: ['health_status'] });
  const ok = await rt.createContainer({
    name: 'ok',
    image,
    healthCheck: { command: ['CMD-SHELL', 'true'], intervalMs: 5000 },
  });
  const sick = await rt.createContainer({
    name: 'sick',
    image,
    healthCheck: { command: ['CMD', 'false'], intervalMs: 5000, retries: 2, startPeriodMs: 10_000 },
  });
  const none = await rt.createContainer({ name: 'none', image });
  for (const id of [ok, sick, none]) await rt.startContainer(id);
  assert.equal((await rt.inspectContainer(ok)).health?.status, 'starting');
  assert.equal((await rt.inspectContainer(none)).health, undefined);
  await sched.advance(5000);
  assert.equal((await rt.inspectContainer(ok)).health?.status, 'healthy');
  assert.equal((await rt.inspectContainer(sick)).health?.status, 'starting');
  await sched.advance(14_999);
  assert.equal((await rt.inspectContainer(sick)).health?.status, 'starting');
  await sched.advance(1);
  const h = (await rt.inspectContainer(sick)).health;
  assert.equal(h?.status, 'unhealthy');
  assert.equal(h?.failingStreak, 2);
  rt.setHealth(ok, 'unhealthy');
  const evs = (await drain(events)).filter((e): e is ContainerEvent => e.type === 'container');
  assert.deepEqual(
    evs.map((e) => [e.containerId, e.health]),
    [
      [ok, 'healthy'],
      [sick, 'unhealthy'],
      [ok, 'unhealthy'],
    ],
  );
  events.close();
});

test('OOM: memory use above the hard limit kills with 137 and OOMKilled', async () => {
  const { rt } = setup();
  rt.setBehaviour('hog', { memoryUsageMiB: 300 });
  const events = rt.events();
  const id = await rt.createContainer({ name: 'hog', image, memoryMiB: 256 });
  await rt.startContainer(id);
  const s = await rt.inspectContainer(id);
  assert.equal(s.status, 'exited');
  assert.equal(s.exitCode, 137);
  assert.equal(s.oomKilled, true);
  assert.deepEqual(actions(await drain(events)), ['create', 'start', 'oom', 'die']);
  const other = await rt.createContainer({ name: 'other', image });
  await rt.startContainer(other);
  rt.oomKill(other);
  assert.equal((await rt.inspectContainer(other)).oomKilled, true);
  events.close();
});

test('pull policies, registry auth and registry failures', async () => {
  const { rt } = setup();
  assert.deepEqual((await rt.pullImage(image, { policy: 'if-not-present' })).pulled, false);
  await assert.rejects(
    rt.pullImage('absent:1', { policy: 'never' }),
    (e: unknown) => e instanceof CannotPullContainerError && e.kind === 'not-found' && !e.retriable,
  );
  await assert.rejects(rt.pullImage('absent:1'), /manifest for absent:1 not found/);

  rt.addRegistryImage('127.0.0.1:5000/team/app:2', { requireAuth: { username: 'c-u', password: 'p' } });
  await assert.rejects(
    rt.pullImage('127.0.0.1:5000/team/app:2'),
    (e: unknown) =>
      e instanceof CannotPullContainerError &&
      e.kind === 'unauthorized' &&
      /no basic auth credentials/.test(e.message),
  );
  const pulled = await rt.pullImage('127.0.0.1:5000/team/app:2', {
    auth: { username: 'c-u', password: 'p' },
  });
  assert.equal(pulled.pulled, true);
  assert.equal((await rt.inspectImage('127.0.0.1:5000/team/app:2'))?.id, pulled.imageId);

  rt.setRegistryError('127.0.0.1:5000', 'dial tcp 127.0.0.1:5000: connect: connection refused');
  await assert.rejects(
    rt.pullImage('127.0.0.1:5000/team/app:2', { policy: 'always', auth: { username: 'c-u', password: 'p' } }),
    (e: unknown) =>
      e instanceof CannotPullContainerError && e.retriable && /connection refused/.test(e.message),
  );
  const cached = await rt.pullImage('127.0.0.1:5000/team/app:2', { policy: 'remote-or-cached' });
  assert.equal(cached.pulled, false);
  assert.equal(cached.imageId, pulled.imageId);
  assert.match(cached.fallbackReason ?? '', /connection refused/);
  assert.equal(
    rt.calls.find((c) => c.op === 'pullImage' && JSON.stringify(c.args).includes('"u"')),
    undefined,
    'credentials are not recorded',
  );
});

test('logs: backlog with tail and since, follow until the container exits', async () => {
  const { rt, sched } = setup();
  rt.setBehaviour('talk', { logs: [{ text: 'boot' }, { stream: 'stderr', text: 'warn' }] });
  const id = await rt.createContainer({ name: 'talk', image });
  await rt.startContainer(id);
  await sched.advance(1000);
  rt.writeLog(id, 'stdout', 'later');
  const all = [];
  for await (const l of await rt.logs(id)) all.push([l.stream, l.text]);
  assert.deepEqual(all, [
    ['stdout', 'boot'],
    ['stderr', 'warn'],
    ['stdout', 'later'],
  ]);
  const tail = [];
  for await (const l of await rt.logs(id, { tail: 1 })) tail.push(l.text);
  assert.deepEqual(tail, ['later']);
  const since = [];
  for await (const l of await rt.logs(id, { since: Date.UTC(2026, 0, 1) + 500 })) since.push(l.text);
  assert.deepEqual(since, ['later']);

  const follow = await rt.logs(id, { follow: true, tail: 0 });
  const seen: string[] = [];
  const reading = (async () => {
    for await (const l of follow) seen.push(l.text);
  })();
  rt.writeLog(id, 'stdout', 'live-1');
  await sched.advance(10);
  assert.deepEqual(seen, ['live-1'], 'lines arrive while the container runs');
  rt.writeLog(id, 'stdout', 'live-2');
  rt.exitContainer(id, 0);
  await reading;
  assert.deepEqual(seen, ['live-1', 'live-2']);
});

test('listContainers by label finds only matching containers', async () => {
  const { rt } = setup();
  const a = await rt.createContainer({
    name: 'c-a',
    image,
    labels: { 'com.amazonaws.ecs.cluster': 'c1', run: 'x' },
  });
  const b = await rt.createContainer({ name: 'c-b', image, labels: { 'com.amazonaws.ecs.cluster': 'c1' } });
  await rt.createContainer({ name: 'c-c', image, labels: { 'com.amazonaws.ecs.cluster': 'c2' } });
  await rt.startContainer(a);
  const found = await rt.listContainers({ labels: { 'com.amazonaws.ecs.cluster': 'c1' } });
  assert.deepEqual(found.map((c) => c.id).sort(), [a, b].sort());
  assert.deepEqual(
    (await rt.listContainers({ labels: { run: true } })).map((c) => c.name),
    ['c-a'],
  );
  assert.deepEqual(
    (await rt.listContainers({ all: false })).map((c) => c.name),
    ['c-a'],
  );
});

test('remove: running needs force, missing is fine, destroy is announced', async () => {
  const { rt } = setup();
  const events = rt.events();
  const id = await rt.createContainer({ name: 'c-r', image });
  await rt.startContainer(id);
  await assert.rejects(
    rt.removeContainer(id),
    (e: unknown) => e instanceof CannotRemoveContainerError && e.kind === 'conflict' && e.retriable,
  );
  await rt.removeContainer(id, { force: true });
  await rt.removeContainer(id);
  await assert.rejects(rt.inspectContainer(id), ContainerNotFoundError);
  assert.deepEqual(actions(await drain(events)), ['create', 'start', 'kill', 'die', 'destroy']);
  events.close();
});

test('engine outage: calls fail as unavailable, streams report it and resume', async () => {
  const { rt } = setup();
  const events = rt.events();
  const id = await rt.createContainer({ name: 'c-x', image });
  await rt.startContainer(id);
  rt.setAvailable(false);
  await assert.rejects(rt.ping(), (e: unknown) => e instanceof DockerUnavailableError && e.retriable);
  await assert.rejects(rt.inspectContainer(id), DockerUnavailableError);
  rt.exitContainer(id, 1); // happens while nobody can see it
  rt.setAvailable(true);
  await rt.ping();
  const evs = await drain(events);
  assert.deepEqual(
    evs.map((e) =>
      e.type === 'stream' ? `${e.state}${e.state === 'connected' && e.resumed ? '+resumed' : ''}` : e.action,
    ),
    ['connected', 'create', 'start', 'disconnected', 'connected+resumed'],
    'the die during the outage is not delivered: consumers re-inspect on resume',
  );
  assert.equal((await rt.inspectContainer(id)).exitCode, 1);
  events.close();
});

test('failNext injects errors in order; calls are recorded', async () => {
  const { rt } = setup();
  rt.failNext('startContainer', new DockerTimeoutError('start container x', 1000));
  const id = await rt.createContainer({ name: 'c-x', image });
  await assert.rejects(rt.startContainer(id), DockerTimeoutError);
  await rt.startContainer(id);
  assert.deepEqual(
    rt.calls.map((c) => c.op),
    ['createContainer', 'startContainer', 'startContainer'],
  );
});

test('user networks: fixed addresses, conflicts, overlap, removal with endpoints', async () => {
  const { rt } = setup();
  const netId = await rt.createNetwork({
    name: 'task-net',
    subnet: '10.50.0.0/24',
    gateway: '10.50.0.1',
    labels: { t: '1' },
  });
  await assert.rejects(
    rt.createNetwork({ name: 'other', subnet: '10.50.0.128/25' }),
    (e: unknown) => e instanceof CannotCreateNetworkError && e.kind === 'conflict',
  );
  await assert.rejects(rt.createNetwork({ name: 'task-net' }), /already exists/);
  const a = await rt.createContainer({
    name: 'c-a',
    image,
    networkMode: { network: 'task-net', ipv4Address: '10.50.0.10' },
  });
  const b = await rt.createContainer({
    name: 'c-b',
    image,
    networkMode: { network: 'task-net', ipv4Address: '10.50.0.10' },
  });
  const c = await rt.createContainer({ name: 'c-c', image, networkMode: { network: netId } });
  await rt.startContainer(a);
  await assert.rejects(rt.startContainer(b), /Address already in use/);
  await rt.startContainer(c);
  const sa = await rt.inspectContainer(a);
  assert.deepEqual(
    sa.networks.map((n) => [n.name, n.ipv4Address, n.gateway]),
    [['task-net', '10.50.0.10', '10.50.0.1']],
  );
  assert.equal((await rt.inspectContainer(c)).networks[0]?.ipv4Address, '10.50.0.2');
  const info = await rt.inspectNetwork('task-net');
  assert.deepEqual(info?.subnets, [{ subnet: '10.50.0.0/24', gateway: '10.50.0.1' }]);
  assert.deepEqual(info?.containers.map((x) => x.ipv4Address).sort(), ['10.50.0.10', '10.50.0.2']);
  assert.deepEqual(
    (await rt.listNetworks({ labels: { t: '1' } })).map((n) => n.id),
    [netId],
  );
  await assert.rejects(
    rt.removeNetwork('task-net'),
    (e: unknown) => e instanceof CannotRemoveNetworkError && e.retriable,
  );
  await assert.rejects(
    rt.createContainer({ name: 'c-d', image, networkMode: { network: 'bridge', ipv4Address: '172.17.0.9' } }),
    /user configured subnets/,
  );
  await rt.stopContainer(a, 1);
  await rt.stopContainer(c, 1);
  await rt.removeNetwork('task-net');
  await rt.removeNetwork('task-net');
  assert.equal(await rt.inspectNetwork('task-net'), undefined);
});

test('volumes: idempotent create, in-use removal refused, implicit creation by a mount', async () => {
  const { rt } = setup();
  const v = await rt.createVolume({ name: 'data', labels: { a: 'b' } });
  assert.deepEqual(await rt.createVolume({ name: 'data' }), v);
  const id = await rt.createContainer({
    name: 'c-x',
    image,
    mounts: [
      { type: 'volume', source: 'data', target: '/d' },
      { type: 'volume', source: 'auto', target: '/e' },
    ],
  });
  assert.ok(await rt.inspectVolume('auto'));
  await assert.rejects(
    rt.removeVolume('data'),
    (e: unknown) => e instanceof CannotRemoveVolumeError && e.kind === 'conflict',
  );
  await rt.removeContainer(id);
  await rt.removeVolume('data');
  await rt.removeVolume('data');
  assert.equal(await rt.inspectVolume('data'), undefined);
});

test('events since a time replay history; closing ends the loop', async () => {
  const { rt, sched } = setup();
  const t0 = sched.now();
  const a = await rt.createContainer({ name: 'c-a', image });
  await sched.advance(1000);
  await rt.startContainer(a);
  const stream = rt.events({}, { since: t0 + 500 });
  const seen: RuntimeEvent[] = [];
  const loop = (async () => {
    for await (const e of stream) seen.push(e);
  })();
  await sched.advance(1);
  stream.close();
  await loop;
  assert.deepEqual(actions(seen), ['start']);
});

test('stats: usage, limit and a Docker-shaped raw document', async () => {
  const { rt } = setup({ cpus: 2 });
  rt.setBehaviour('c-s', { memoryUsageMiB: 10 });
  const id = await rt.createContainer({ name: 'c-s', image, memoryMiB: 64 });
  await rt.startContainer(id);
  const st = await rt.stats(id);
  assert.equal(st.memoryUsageBytes, 10 * 1024 * 1024);
  assert.equal(st.memoryLimitBytes, 64 * 1024 * 1024);
  assert.equal(st.onlineCpus, 2);
  const raw = st.raw as { memory_stats: { usage: number }; precpu_stats: unknown };
  assert.equal(raw.memory_stats.usage, st.memoryUsageBytes);
  assert.ok(raw.precpu_stats);
  const later = await rt.stats(id);
  assert.ok(later.cpuTotalUsageNs > st.cpuTotalUsageNs);
});

test('scale: a thousand short tasks run and finish on simulated time', async () => {
  const { rt, sched } = setup({ ephemeralPorts: [40000, 41999] });
  rt.addImage('short:1', { behaviour: { exitAfterMs: 30_000 } });
  const events = rt.events({ actions: ['die'] });
  const ids: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const id = await rt.createContainer({
      name: `t${i}`,
      image: 'short:1',
      portBindings: [{ containerPort: 80 }],
    });
    await rt.startContainer(id);
    ids.push(id);
  }
  const ports = new Set(
    (await Promise.all(ids.map((id) => rt.inspectContainer(id)))).map((s) => s.ports[0]?.hostPort),
  );
  assert.equal(ports.size, 1000, 'every dynamic port distinct');
  await sched.advance(30_000);
  const dies = (await drain(events)).filter((e) => e.type === 'container');
  assert.equal(dies.length, 1000);
  assert.equal((await rt.info()).containersRunning, 0);
  events.close();
});
