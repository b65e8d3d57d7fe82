// The task engine against the fake container runtime: whole task lifecycles, reports as the
// control plane would receive them, and re-adoption after a simulated kill -9.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import type { AgentTask, ReportMessage, TaskStateReport } from '../../domain/agent-protocol.js';
import { systemClock } from '../../domain/clock.js';
import type { ContainerDefinition } from '../../generated/ecs/types.js';
import { parseCidr } from '../network/ipam.js';
import { PAUSE_IMAGE } from '../network/pause-image.js';
import { macAddressFor, type AttachRequest, type NamespacePlumber } from '../network/plumbing.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import { FakeRuntime } from '../runtime/fake-runtime.js';
import { StateFile } from '../state/state-file.js';
import { LABEL_CONTAINER_NAME, LABEL_HOST_ID, LABEL_TASK_ARN } from './labels.js';
import { TaskEngine } from './task-engine.js';
import { agentTask, c } from './test-support.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
const engines: TaskEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Harness {
  rt: FakeRuntime;
  engine: TaskEngine;
  state: StateFile;
  dir: string;
  reports: ReportMessage[];
  /** What onRuntimeHealth was told, in order. */
  health: string[];
  /** Acknowledge reports as the control plane does. */
  autoAck: boolean;
  last(taskArn?: string): TaskStateReport | undefined;
  until(what: string, pred: (r: TaskStateReport) => boolean, timeoutMs?: number): Promise<TaskStateReport>;
}

async function harness(
  o: {
    rt?: FakeRuntime;
    dir?: string;
    cleanupWaitMs?: number;
    autoAck?: boolean;
    plumber?: NamespacePlumber;
    netwaitPath?: string;
    reportHoldMs?: number;
  } = {},
): Promise<Harness> {
  const rt = o.rt ?? new FakeRuntime();
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'berth-engine-'));
  if (!o.dir) dirs.push(dir);
  rt.addImage(PAUSE_IMAGE);
  const state = StateFile.open(dir, { flushDelayMs: 5, newHostId: () => 'host-1' });
  const h: Harness = {
    rt,
    dir,
    state,
    reports: [],
    health: [],
    autoAck: o.autoAck ?? true,
    engine: undefined as unknown as TaskEngine,
    last: (arn) => h.reports.filter((r) => arn === undefined || r.change.taskArn === arn).at(-1)?.change,
    until: (what, pred, timeoutMs) =>
      waitFor(
        what,
        () => {
          const r = h.last();
          return r && pred(r) ? r : undefined;
        },
        timeoutMs,
      ),
  };
  h.engine = new TaskEngine({
    runtime: rt,
    clock: systemClock,
    log,
    state,
    settings: {
      hostId: 'host-1',
      pullPolicy: 'if-not-present',
      cleanupWaitMs: o.cleanupWaitMs ?? 60_000,
      containerStartTimeoutMs: 10_000,
      retryPolicy: { minMs: 10, maxMs: 50, factor: 2, jitter: 0 },
      taskNetwork: {
        networkName: 'berth-task-net',
        cidr: parseCidr('198.19.0.0/28'),
        hostId: 'host-1',
        ...(o.plumber
          ? {
              plumbing: {
                plumber: o.plumber,
                filesDir: join(dir, 'task-net'),
                ...(o.netwaitPath ? { netwaitPath: o.netwaitPath } : {}),
              },
            }
          : {}),
      },
    },
    region: 'us-east-1',
    availabilityZone: 'us-east-1a',
    metadataBaseUrl: () => 'http://169.254.170.2',
    send: (m) => {
      h.reports.push(m);
      if (h.autoAck) setImmediate(() => h.engine.onAck(m.id, true));
      return true;
    },
    onRuntimeHealth: (status, reason) =>
      h.health.push(reason === undefined ? status : `${status}: ${reason}`),
    ...(o.reportHoldMs !== undefined ? { reportHoldMs: o.reportHoldMs } : {}),
  });
  engines.push(h.engine);
  await h.engine.start();
  h.engine.onSessionReady();
  return h;
}

/** A plumber that succeeds and remembers what it was asked. */
function recordingPlumber(): { attached: AttachRequest[]; plumber: NamespacePlumber } {
  const attached: AttachRequest[] = [];
  const plumber: NamespacePlumber = {
    attach: (req) => {
      attached.push(req);
      return Promise.resolve({ macAddress: macAddressFor(req.ip) });
    },
  };
  return { attached, plumber };
}

/** The fake runtime, with the starts of containers named `*-slow-*` waiting until `open()`. */
class GatedRuntime extends FakeRuntime {
  private readonly names = new Map<string, string>();
  private release!: () => void;
  private readonly gate = new Promise<void>((r) => (this.release = r));
  /** Starts waiting at the gate now. */
  waiting = 0;

  open(): void {
    this.release();
  }

  override async createContainer(spec: ContainerSpec): Promise<string> {
    const id = await super.createContainer(spec);
    this.names.set(id, spec.name);
    return id;
  }

  override async startContainer(id: string): Promise<void> {
    if (this.names.get(id)?.includes('-slow-')) {
      this.waiting++;
      await this.gate;
      this.waiting--;
    }
    return super.startContainer(id);
  }
}

const created = (rt: FakeRuntime): ContainerSpec[] =>
  rt.calls.filter((x) => x.op === 'createContainer').map((x) => x.args[0] as ContainerSpec);

function task(containers: ContainerDefinition[], extra: Parameters<typeof agentTask>[1] = {}): AgentTask {
  return agentTask(containers, extra);
}

describe('TaskEngine with the fake runtime', () => {
  it('runs a task to RUNNING, reported once, with the ECS labels on the container', async () => {
    const h = await harness();
    h.rt.addImage('img/app:1');
    const t = task([c('app', { portMappings: [{ containerPort: 80 }] })]);
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    const r = await h.until('RUNNING', (x) => x.status === 'RUNNING');
    assert.equal(r.containers[0]!.status, 'RUNNING');
    assert.ok(r.containers[0]!.runtimeId);
    assert.equal(r.containers[0]!.networkBindings?.[0]?.containerPort, 80);
    assert.ok((r.containers[0]!.networkBindings?.[0]?.hostPort ?? 0) >= 49153);
    // Reports queued before the previous one left are merged (each is a whole snapshot).
    const statuses = h.reports.map((x) => x.change.status);
    assert.equal(statuses.filter((s) => s === 'RUNNING').length, 1);
    assert.ok(
      statuses.every((s) => s === 'PENDING' || s === 'RUNNING'),
      statuses.join(','),
    );
    assert.ok(r.pullStartedAt !== undefined && r.pullStoppedAt !== undefined && r.startedAt !== undefined);
    const spec = created(h.rt)[0]!;
    assert.equal(spec.labels?.[LABEL_TASK_ARN], t.taskArn);
    assert.equal(spec.labels?.[LABEL_HOST_ID], 'host-1');
    assert.match(spec.name, /^ecs-web-3-app-[0-9a-f]{20}$/);
    // The same desired state again changes nothing and reports nothing.
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    const sentBefore = h.reports.length;
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(h.reports.length, sentBefore);
    assert.equal(created(h.rt).length, 1);
    // The view serves the metadata endpoint.
    const snap = h.engine.byTaskArn(t.taskArn);
    assert.equal(snap?.knownStatus, 'RUNNING');
    const meta = h.engine.byMetadataId(snap!.containers[0]!.metadataId);
    assert.equal(meta?.container.name, 'app');
  });

  /** A task whose start waits at the gate, then a second task that runs at once beside it. */
  async function slowThenFast(reportHoldMs: number) {
    const rt = new GatedRuntime();
    const h = await harness({ rt, reportHoldMs });
    rt.addImage('img/app:1');
    rt.addImage('img/slow:1');
    const slow = task([c('slow')], { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/slow' });
    const fast = task([c('app')], { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/fast' });
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [slow] });
    await waitFor('the slow start called', () => rt.waiting === 1);
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [slow, fast] });
    const running = (arn: string) =>
      h.reports.some((m) => m.change.taskArn === arn && m.change.status === 'RUNNING');
    return { rt, h, slow, fast, running };
  }

  it('holds reports while another Docker call is in flight and sends them when it ends', async () => {
    // Long enough that only the end of the slow start can release the report within the test.
    const { rt, h, slow, fast, running } = await slowThenFast(60_000);
    await waitFor('the fast task running', () => h.engine.byTaskArn(fast.taskArn)?.knownStatus === 'RUNNING');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(running(fast.taskArn), false, 'held while the slow start runs');
    rt.open();
    await waitFor('both RUNNING reports', () => running(fast.taskArn) && running(slow.taskArn));
  });

  it('sends held reports after the hold even while a Docker call never ends', async () => {
    const { rt, h, slow, fast, running } = await slowThenFast(50);
    await waitFor('the fast task reported RUNNING', () => running(fast.taskArn));
    assert.equal(rt.waiting, 1, 'the slow start is still in flight');
    assert.notEqual(h.engine.byTaskArn(slow.taskArn)?.knownStatus, 'RUNNING');
    rt.open(); // lets the engine stop
  });

  it('an essential container that exits stops the task with EssentialContainerExited and its exit code', async () => {
    const h = await harness();
    h.rt.addImage('img/app:1', { behaviour: { exitAfterMs: 30, exitCode: 3 } });
    h.rt.addImage('img/side:1');
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [task([c('app'), c('side', { stopTimeout: 1 })])] });
    const r = await h.until('STOPPED', (x) => x.status === 'STOPPED');
    assert.equal(r.stopCode, 'EssentialContainerExited');
    assert.equal(r.reason, 'Essential container in task exited');
    assert.equal(r.containers.find((x) => x.containerName === 'app')?.exitCode, 3);
    assert.equal(r.containers.find((x) => x.containerName === 'side')?.status, 'STOPPED');
    assert.ok(r.executionStoppedAt !== undefined);
    assert.ok(h.reports.some((x) => x.change.status === 'RUNNING'));
  });

  it('an image that cannot be pulled: STOPPED, TaskFailedToStart, CannotPullContainerError with the registry reason', async () => {
    const h = await harness();
    h.engine.onTasks({
      type: 'tasks',
      full: true,
      tasks: [task([c('app', { image: 'registry.local/missing:1' })])],
    });
    const r = await h.until('STOPPED', (x) => x.status === 'STOPPED');
    assert.equal(r.stopCode, 'TaskFailedToStart');
    assert.match(
      r.reason ?? '',
      /^CannotPullContainerError: manifest for registry\.local\/missing:1 not found/,
    );
    assert.equal(r.containers[0]!.reason, r.reason);
    assert.equal(created(h.rt).length, 0);
  });

  it('a container that cannot start: STOPPED, TaskFailedToStart, CannotStartContainerError', async () => {
    const h = await harness();
    h.rt.addImage('img/app:1', {
      behaviour: { startError: 'exec: "nope": executable file not found in $PATH' },
    });
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [task([c('app')])] });
    const r = await h.until('STOPPED', (x) => x.status === 'STOPPED');
    assert.equal(r.stopCode, 'TaskFailedToStart');
    assert.match(r.reason ?? '', /^CannotStartContainerError: exec: "nope"/);
    assert.equal(r.containers[0]!.reason, r.reason);
  });

  it('StopTask: SIGTERM, then SIGKILL after the container stopTimeout', async () => {
    const h = await harness();
    h.rt.addImage('img/app:1', { behaviour: { onStop: 'ignore' } });
    const t = task([c('app', { stopTimeout: 1 })]);
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    await h.until('RUNNING', (x) => x.status === 'RUNNING');
    const asked = Date.now();
    h.engine.onTasks({
      type: 'tasks',
      full: false,
      tasks: [
        {
          ...t,
          version: 2,
          desiredStatus: 'STOPPED',
          stopCode: 'UserInitiated',
          stoppedReason: 'Task stopped by user',
        },
      ],
    });
    const r = await h.until('STOPPED', (x) => x.status === 'STOPPED', 5000);
    assert.ok(Date.now() - asked >= 900, 'waited for the stop timeout');
    assert.equal(r.stopCode, 'UserInitiated');
    assert.equal(r.reason, 'Task stopped by user');
    assert.equal(r.containers[0]!.exitCode, 137);
    const stop = h.rt.calls.find((x) => x.op === 'stopContainer');
    assert.equal(stop?.args[1], 1);
  });

  it('dependsOn: the app starts after its init container succeeded', async () => {
    const h = await harness();
    h.rt.addImage('img/init:1', { behaviour: { exitAfterMs: 20, exitCode: 0 } });
    h.rt.addImage('img/app:1');
    h.engine.onTasks({
      type: 'tasks',
      full: true,
      tasks: [
        task([
          c('init', { essential: false }),
          c('app', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
        ]),
      ],
    });
    const r = await h.until('RUNNING', (x) => x.status === 'RUNNING');
    assert.equal(r.containers.find((x) => x.containerName === 'init')?.status, 'STOPPED');
    const starts = h.rt.calls.filter((x) => x.op === 'startContainer').map((x) => x.args[0]);
    const ids = Object.fromEntries(r.containers.map((x) => [x.containerName, x.runtimeId]));
    assert.deepEqual(starts, [ids.init, ids.app]);
  });

  it('health checks make the task HEALTHY', async () => {
    const h = await harness();
    h.rt.addImage('img/app:1', { behaviour: { health: 'healthy' } });
    h.engine.onTasks({
      type: 'tasks',
      full: true,
      tasks: [task([c('app', { healthCheck: { command: ['CMD', 'true'], interval: 5 } })])],
    });
    await h.until('RUNNING', (x) => x.status === 'RUNNING');
    assert.equal(h.last()?.healthStatus, 'UNKNOWN');
    const id = h.last()!.containers[0]!.runtimeId!;
    h.rt.setHealth(id, 'healthy');
    const r = await h.until('HEALTHY', (x) => x.healthStatus === 'HEALTHY');
    assert.equal(r.containers[0]!.healthStatus, 'HEALTHY');
  });

  it('awsvpc: each task gets its own address on the task network, released when it stops', async () => {
    const h = await harness();
    h.rt.addImage('img/app:1');
    const vpc = (id: string): AgentTask =>
      task([c('app', { portMappings: [{ containerPort: 80 }] })], {
        taskArn: `arn:aws:ecs:us-east-1:123456789012:task/prod/${id}`,
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['subnet-7'] },
      });
    const [a, b] = [vpc('aaaa'), vpc('bbbb')];
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [a, b] });
    const ra = await waitFor('a RUNNING', () =>
      h.last(a.taskArn)?.status === 'RUNNING' ? h.last(a.taskArn) : undefined,
    );
    const rb = await waitFor('b RUNNING', () =>
      h.last(b.taskArn)?.status === 'RUNNING' ? h.last(b.taskArn) : undefined,
    );
    assert.notEqual(ra.eni?.privateIPv4Address, rb.eni?.privateIPv4Address);
    assert.match(ra.eni!.privateIPv4Address, /^198\.19\.0\.\d+$/);
    assert.equal(ra.eni?.subnetId, 'subnet-7');
    assert.match(ra.eni!.privateDnsName, /^ip-198-19-0-\d+\.ec2\.internal$/);
    const net = await h.rt.inspectNetwork('berth-task-net');
    assert.equal(net?.subnets[0]?.subnet, '198.19.0.0/28');
    const appSpec = created(h.rt).find(
      (s) => s.labels?.[LABEL_CONTAINER_NAME] === 'app' && s.labels[LABEL_TASK_ARN] === a.taskArn,
    )!;
    assert.equal(typeof appSpec.networkMode, 'object');
    assert.ok('container' in (appSpec.networkMode as object));
    h.engine.onTasks({
      type: 'tasks',
      full: true,
      tasks: [{ ...a, version: 2, desiredStatus: 'STOPPED', stopCode: 'UserInitiated' }, b],
    });
    await waitFor('a STOPPED', () => h.last(a.taskArn)?.status === 'STOPPED');
    // The pause container is gone with the task.
    const pauses = (
      await h.rt.listContainers({ labels: { [LABEL_TASK_ARN]: a.taskArn, 'org.berth.pause': 'true' } })
    ).length;
    assert.equal(pauses, 0);
    // The address is free again (it is not held by any task in the state).
    const held = Object.values(h.state.data.tasks).flatMap((s) =>
      s.network?.status !== 'RELEASED' && s.network?.ip ? [s.network.ip] : [],
    );
    assert.deepEqual(held, [rb.eni!.privateIPv4Address]);
  });

  it('awsvpc plumbed by the agent: an isolated pause namespace, eth0 attached, DNS files mounted', async () => {
    const { attached, plumber } = recordingPlumber();
    const h = await harness({ plumber });
    h.rt.addImage('img/app:1');
    const t = task(
      [c('app', { dnsServers: ['10.9.9.9'], extraHosts: [{ hostname: 'db', ipAddress: '10.1.1.1' }] })],
      {
        taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/cccc',
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['subnet-7'] },
      },
    );
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    const r = await h.until('RUNNING', (x) => x.status === 'RUNNING');
    const ip = r.eni!.privateIPv4Address;

    const pause = created(h.rt).find((s) => s.labels?.['org.berth.pause'] === 'true')!;
    assert.equal(pause.networkMode, 'isolated');
    assert.equal(pause.hostname, `ip-${ip.replace(/\./g, '-')}.ec2.internal`);
    assert.equal(pause.dnsServers, undefined, 'Docker writes no DNS files for an isolated namespace');
    const pauseState = await h.rt.inspectContainer(pause.name);
    assert.equal(attached.length, 1);
    assert.deepEqual(attached[0], {
      pid: pauseState.pid,
      bridge: `br-${(await h.rt.inspectNetwork('berth-task-net'))!.id.slice(0, 12)}`,
      ip,
      prefixLength: 28,
      gateway: '198.19.0.1',
    });
    assert.equal(r.eni?.macAddress, macAddressFor(ip));

    const app = created(h.rt).find((s) => s.labels?.[LABEL_CONTAINER_NAME] === 'app')!;
    const binds = Object.fromEntries(
      (app.mounts ?? []).map((m) => [m.target, 'source' in m ? m.source : '']),
    );
    const resolv = binds['/etc/resolv.conf']!;
    const hosts = binds['/etc/hosts']!;
    assert.equal(readFileSync(resolv, 'utf8'), 'nameserver 10.9.9.9\n');
    assert.match(readFileSync(hosts, 'utf8'), new RegExp(`^${ip.replace(/\./g, '\\.')}\\tip-`, 'm'));
    assert.match(readFileSync(hosts, 'utf8'), /^10\.1\.1\.1\tdb$/m);

    h.engine.onTasks({
      type: 'tasks',
      full: true,
      tasks: [{ ...t, version: 2, desiredStatus: 'STOPPED', stopCode: 'UserInitiated' }],
    });
    await h.until('STOPPED', (x) => x.status === 'STOPPED');
    await waitFor('DNS files removed with the network', () => !existsSync(resolv));
  });

  it('awsvpc, one container: it holds its own namespace behind netwait, plumbed after its start', async () => {
    const { attached, plumber } = recordingPlumber();
    const h = await harness({
      netwaitPath: '/var/lib/berth/bin/netwait',
      plumber,
    });
    h.rt.addImage('img/app:1', {
      config: { entryPoint: ['/docker-entrypoint.sh'], command: ['serve', '--port', '80'] },
    });
    const t = task([c('app', { command: ['serve', '--port', '8080'] })], {
      taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/dddd',
      taskDefinition: { networkMode: 'awsvpc' },
      awsvpcConfiguration: { subnets: ['subnet-7'] },
    });
    // Its DNS files and ready directory are written while the engine creates the container (the
    // engine needs them at start): at create they are not there yet, at start they are.
    const seen: string[] = [];
    const hostsOf = (spec: ContainerSpec) => {
      const m = spec.mounts?.find((x) => x.target === '/etc/hosts');
      return m?.type === 'bind' ? m.source : '';
    };
    const { createContainer, startContainer } = h.rt;
    let hosts = '';
    h.rt.createContainer = (spec: ContainerSpec) => {
      hosts = hostsOf(spec);
      seen.push(`create: files ${existsSync(hosts) ? 'there' : 'not there'}`);
      return createContainer.call(h.rt, spec);
    };
    h.rt.startContainer = (id: string) => {
      const ready = join(dirname(hosts), 'net');
      seen.push(`start: files ${existsSync(hosts) && existsSync(ready) ? 'there' : 'not there'}`);
      return startContainer.call(h.rt, id);
    };
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    const r = await h.until('RUNNING', (x) => x.status === 'RUNNING');
    assert.deepEqual(seen, ['create: files not there', 'start: files there']);
    const ip = r.eni!.privateIPv4Address;
    assert.equal(r.eni?.macAddress, macAddressFor(ip));

    const specs = created(h.rt);
    assert.equal(specs.length, 1, 'no pause container');
    const app = specs[0]!;
    assert.equal(app.networkMode, 'isolated');
    assert.equal(app.hostname, `ip-${ip.replace(/\./g, '-')}.ec2.internal`);
    // The image's entrypoint with the definition's command, behind netwait and its ready file.
    assert.deepEqual(app.entryPoint, [
      '/.berth/netwait',
      '/.berth/net/ready',
      '/docker-entrypoint.sh',
      'serve',
      '--port',
      '8080',
    ]);
    assert.equal(app.command, undefined);
    const mounts = Object.fromEntries((app.mounts ?? []).map((m) => [m.target, m]));
    assert.deepEqual(mounts['/.berth/netwait'], {
      type: 'bind',
      source: '/var/lib/berth/bin/netwait',
      target: '/.berth/netwait',
      readOnly: true,
    });
    const readyDir = (mounts['/.berth/net'] as { source: string }).source;
    assert.ok(mounts['/etc/resolv.conf'] && mounts['/etc/hosts']);

    const appState = await h.rt.inspectContainer(app.name);
    assert.equal(attached.length, 1);
    assert.equal(attached[0]!.pid, appState.pid, "the container's own process is plumbed");
    assert.equal(attached[0]!.ip, ip);
    assert.ok(existsSync(join(readyDir, 'ready')), 'the ready file exists once RUNNING is reported');

    h.engine.onTasks({
      type: 'tasks',
      full: true,
      tasks: [{ ...t, version: 2, desiredStatus: 'STOPPED', stopCode: 'UserInitiated' }],
    });
    await h.until('STOPPED', (x) => x.status === 'STOPPED');
    await waitFor('the ready directory removed with the network', () => !existsSync(readyDir));
  });

  it('awsvpc, one container: a failed plumbing stops the container and the task says why', async () => {
    const h = await harness({
      netwaitPath: '/var/lib/berth/bin/netwait',
      plumber: { attach: () => Promise.reject(new Error('RTNETLINK answers: File exists')) },
    });
    h.rt.addImage('img/app:1', { config: { command: ['serve'] } });
    const t = task([c('app')], {
      taskDefinition: { networkMode: 'awsvpc' },
      awsvpcConfiguration: { subnets: ['subnet-7'] },
    });
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    const r = await h.until('STOPPED', (x) => x.status === 'STOPPED', 15_000);
    assert.match(r.reason ?? '', /RTNETLINK answers: File exists/);
    const running = (await h.rt.listContainers({ all: true })).filter((x) => x.status === 'running');
    assert.deepEqual(running, []);
  });

  it('awsvpc plumbing that fails stops the task with the reason and leaves no pause container', async () => {
    const plumber: NamespacePlumber = {
      attach: () => Promise.reject(new Error('ip link add bv0: Operation not permitted')),
    };
    const h = await harness({ plumber });
    h.rt.addImage('img/app:1');
    const t = task([c('app')], {
      taskDefinition: { networkMode: 'awsvpc' },
      awsvpcConfiguration: { subnets: ['subnet-7'] },
    });
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    const r = await h.until('STOPPED', (x) => x.status === 'STOPPED', 15_000);
    assert.match(r.reason ?? '', /Operation not permitted/);
    const pauses = await h.rt.listContainers({ labels: { 'org.berth.pause': 'true' } });
    assert.equal(pauses.length, 0);
  });

  it('a task the control plane no longer lists is stopped', async () => {
    const h = await harness();
    h.rt.addImage('img/app:1');
    const t = task([c('app', { stopTimeout: 1 })]);
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    await h.until('RUNNING', (x) => x.status === 'RUNNING');
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [] });
    const r = await h.until('STOPPED', (x) => x.status === 'STOPPED');
    assert.match(r.reason ?? '', /no longer assigned/);
  });

  it('cleans up a stopped task after the wait, only once its last report is acknowledged', async () => {
    const h = await harness({ cleanupWaitMs: 50, autoAck: false });
    h.rt.addImage('img/app:1', { behaviour: { exitAfterMs: 10 } });
    // Remembered finished tasks: the day-old ones go at the next clean-up, the rest stay.
    const day = 24 * 3_600_000;
    h.state.data.finished = { 'arn:old-1': Date.now() - day - 2, 'arn:old-2': Date.now() - day - 1 };
    h.state.data.finished['arn:recent'] = Date.now() - 3_600_000;
    const t = task([c('app')]);
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    await h.until('STOPPED', (x) => x.status === 'STOPPED');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(h.rt.containerIds().length, 1, 'kept while the report is unacknowledged');
    for (const m of h.reports) h.engine.onAck(m.id, true);
    await waitFor('cleanup', () => h.engine.taskCount === 0);
    assert.equal(h.rt.containerIds().length, 0);
    assert.deepEqual(Object.keys(h.state.data.finished), ['arn:recent', t.taskArn]);
    assert.ok(Math.abs(h.engine.cleanedUpAt(t.taskArn)! - Date.now()) < 10_000, 'berth logs can say when');
    // A late copy of the finished task is not run again.
    h.engine.onTasks({ type: 'tasks', full: false, tasks: [t] });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.engine.taskCount, 0);
  });

  it('re-adopts running containers after a restart: nothing restarted, created twice or orphaned', async () => {
    const rt = new FakeRuntime();
    const h1 = await harness({ rt });
    rt.addImage('img/app:1');
    rt.addImage('img/other:1');
    const t = task([c('app')]);
    const other = task([c('other')], { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/other' });
    h1.engine.onTasks({ type: 'tasks', full: true, tasks: [t, other] });
    await waitFor(
      'both RUNNING',
      () => h1.last(t.taskArn)?.status === 'RUNNING' && h1.last(other.taskArn)?.status === 'RUNNING',
    );
    const id = h1.last(t.taskArn)!.containers[0]!.runtimeId!;
    const otherId = h1.last(other.taskArn)!.containers[0]!.runtimeId!;
    // "kill -9": the engine stops without a final write; the next one reads what is on disk.
    await h1.engine.stop();
    const createsBefore = created(rt).length;
    const startsBefore = rt.calls.filter((x) => x.op === 'startContainer').length;

    const h2 = await harness({ rt, dir: h1.dir });
    // The control plane still wants `t`, not `other` (stopped meanwhile by someone).
    h2.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(created(rt).length, createsBefore, 'no container created again');
    assert.equal(rt.calls.filter((x) => x.op === 'startContainer').length, startsBefore, 'nothing restarted');
    assert.equal((await rt.inspectContainer(id)).status, 'running');
    assert.equal(h2.engine.byTaskArn(t.taskArn)?.knownStatus, 'RUNNING');
    assert.equal(h2.engine.byTaskArn(t.taskArn)?.containers[0]?.dockerId, id);
    // The task no longer assigned is stopped.
    await waitFor('other stopped', () => h2.last(other.taskArn)?.status === 'STOPPED');
    assert.equal((await rt.inspectContainer(otherId)).status, 'exited');
  });

  it('awsvpc, one container: a restart between its start and its plumbing plumbs it then', async () => {
    const rt = new FakeRuntime();
    const { attached, plumber } = recordingPlumber();
    const h1 = await harness({ rt, plumber, netwaitPath: '/var/lib/berth/bin/netwait' });
    rt.addImage('img/app:1', { config: { command: ['serve'] } });
    const t = task([c('app')], {
      taskDefinition: { networkMode: 'awsvpc' },
      awsvpcConfiguration: { subnets: ['subnet-7'] },
    });
    h1.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    await h1.until('RUNNING', (x) => x.status === 'RUNNING');
    await h1.engine.stop();
    // As if the agent had died before the ready file: the container still waits in netwait.
    const app = created(rt)[0]!;
    const readyDir = (app.mounts ?? []).find((m) => m.target === '/.berth/net') as { source: string };
    rmSync(join(readyDir.source, 'ready'));

    const h2 = await harness({ rt, dir: h1.dir, plumber, netwaitPath: '/var/lib/berth/bin/netwait' });
    h2.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    await waitFor('plumbed again', () => attached.length === 2);
    await waitFor('ready', () => existsSync(join(readyDir.source, 'ready')));
    assert.equal(attached[1]!.pid, (await rt.inspectContainer(app.name)).pid);
    assert.equal(h2.engine.byTaskArn(t.taskArn)?.knownStatus, 'RUNNING');
    assert.equal(created(rt).length, 1, 'the same container, not a new one');
  });

  it('a container that exited while the agent was down ends its task after the restart', async () => {
    const rt = new FakeRuntime();
    const h1 = await harness({ rt });
    rt.addImage('img/app:1');
    const t = task([c('app')]);
    h1.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    await h1.until('RUNNING', (x) => x.status === 'RUNNING');
    const id = h1.last()!.containers[0]!.runtimeId!;
    await h1.engine.stop();
    rt.exitContainer(id, 42);

    const h2 = await harness({ rt, dir: h1.dir });
    const r = await h2.until('STOPPED', (x) => x.status === 'STOPPED');
    assert.equal(r.containers[0]!.exitCode, 42);
    assert.equal(r.stopCode, 'EssentialContainerExited');
  });

  it('containers of tasks the state does not know are adopted by a task the control plane assigns, the rest removed', async () => {
    const rt = new FakeRuntime();
    rt.addImage('img/app:1');
    const t = task([c('app')]);
    // Left by an agent whose state was lost: one container of a task still assigned, one of a gone task.
    const keep = await rt.createContainer({
      name: 'ecs-web-3-app-kept',
      image: 'img/app:1',
      labels: { [LABEL_HOST_ID]: 'host-1', [LABEL_TASK_ARN]: t.taskArn, [LABEL_CONTAINER_NAME]: 'app' },
    });
    await rt.startContainer(keep);
    const orphan = await rt.createContainer({
      name: 'ecs-gone-1-x-1',
      image: 'img/app:1',
      labels: { [LABEL_HOST_ID]: 'host-1', [LABEL_TASK_ARN]: 'arn:gone', [LABEL_CONTAINER_NAME]: 'x' },
    });
    await rt.startContainer(orphan);
    const h = await harness({ rt });
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [t] });
    const r = await h.until('RUNNING', (x) => x.status === 'RUNNING');
    assert.equal(r.containers[0]!.runtimeId, keep);
    await waitFor('orphan removed', () => !rt.containerIds().includes(orphan));
    assert.equal(created(rt).length, 2, 'only the two made by the test');
  });

  it('an engine outage: what exited meanwhile is found when the engine is back', async () => {
    const h = await harness();
    h.rt.addImage('img/app:1');
    h.engine.onTasks({ type: 'tasks', full: true, tasks: [task([c('app')])] });
    await h.until('RUNNING', (x) => x.status === 'RUNNING');
    const id = h.last()!.containers[0]!.runtimeId!;
    h.rt.setAvailable(false);
    h.rt.exitContainer(id, 9);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(h.last()?.status, 'RUNNING', 'nothing seen while the engine is away');
    h.rt.setAvailable(true);
    const r = await h.until('STOPPED', (x) => x.status === 'STOPPED');
    assert.equal(r.containers[0]!.exitCode, 9);
    // The control plane hears of the outage and of the return (instance healthStatus).
    assert.deepEqual(
      h.health.filter((x, i, all) => all[i - 1] !== x).map((x) => x.split(':')[0]),
      ['OK', 'IMPAIRED', 'OK'],
    );
    assert.match(h.health.find((x) => x.startsWith('IMPAIRED')) ?? '', /Docker engine unreachable/);
  });
});
