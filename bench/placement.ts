// bench/placement: placement at ECS's largest cluster size, in two halves.
//
// 1-5. The engine alone (src/scheduler/engine.ts), no API, no store. A simulated cluster of 5,000
//    container instances in 3 zones, mixed sizes (2/4/8/16 vCPU, 4 GiB per vCPU) and attributes
//    (`stack` prod/staging, `ecs.instance-type`), a few DRAINING and disconnected; 50,000 tasks
//    placed with spread(attribute:ecs.availability-zone) + binpack(memory) +
//    memberOf(attribute:stack == prod). Prints placements/s and p99 per decision for one session
//    placing every task (a service scaling out) and for RunTask-sized requests (a new session per
//    10 tasks on an updated snapshot), how the time per placement grows from 500 to 5,000
//    instances, the peers of issue 4 as ratios, and the memory holding the snapshot and tasks.
// 6. End to end: a real `berth server` on the embedded SQLite store, the same kind of cluster
//    registered through the API (RegisterContainerInstance) and served by scripted agents (100
//    instances per session, as the gateway allows) that report each task RUNNING as soon as it
//    is pushed to them; clients send RunTask (count 10, the same strategies and constraint) until
//    the tasks are placed. Prints RunTask tasks/s (placed, and reported RUNNING), latencies, and
//    the server's memory holding the instances and tasks.
//
//   npm run bench:placement -- [--instances 5000] [--tasks 50000] [--seed 42] [--max-seconds 120]
//                              [--e2e-instances 5000] [--e2e-tasks 50000] [--e2e-clients 8]
//                              [--e2e-max-seconds 300] [--e2e-port N] [--no-engine] [--no-e2e]
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import {
  AGENT_SESSION_PATH,
  PROTOCOL_VERSION,
  parseServerMessage,
  type AgentTask,
} from '../src/domain/agent-protocol.js';
import type { TaskRecord } from '../src/domain/records.js';
import { PlacementSession, type TaskPlacementRequest } from '../src/scheduler/engine.js';
import { parsePlacementConstraints, parsePlacementStrategies } from '../src/scheduler/placement-spec.js';
import { seededRng, type Rng } from '../src/scheduler/rng.js';
import type { PlacementInstance } from '../src/scheduler/snapshot.js';
import { startBerthServer, type BerthProcess } from '../test/support/berth-process.js';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '5000' },
    tasks: { type: 'string', default: '50000' },
    seed: { type: 'string', default: '42' },
    /** Each measured run stops early (and says so) past this many seconds. */
    'max-seconds': { type: 'string', default: '120' },
    'e2e-instances': { type: 'string', default: '5000' },
    'e2e-tasks': { type: 'string', default: '50000' },
    /** Concurrent RunTask callers. */
    'e2e-clients': { type: 'string', default: '8' },
    /** The end-to-end load stops (and says so) past this many seconds. */
    'e2e-max-seconds': { type: 'string', default: '300' },
    /** Load a berth server already listening on this port (e.g. one under --cpu-prof) instead of starting one. */
    'e2e-port': { type: 'string' },
    'no-engine': { type: 'boolean', default: false },
    'no-e2e': { type: 'boolean', default: false },
  },
});
const INSTANCES = Number(args.instances);
const TASKS = Number(args.tasks);
const SEED = Number(args.seed);
const MAX_MS = Number(args['max-seconds']) * 1000;
const TASKS_PER_INSTANCE = TASKS / INSTANCES;
const GROWTH_SIZES = [500, 1000, 2500, 5000].filter((n) => n <= INSTANCES);
const RUN_TASK_COUNT = 10;
const E2E_INSTANCES = Number(args['e2e-instances']);
const E2E_TASKS = Number(args['e2e-tasks']);
const E2E_CLIENTS = Number(args['e2e-clients']);
const E2E_MAX_MS = Number(args['e2e-max-seconds']) * 1000;
const E2E_GOAL_PER_SECOND = 500;

/** Peers (issue 4, ECS-SEMANTICS §11): whole schedulers, so the ratios flatter an engine alone. */
const PEERS = [
  { name: 'Kubernetes scheduler_perf floor (5,000 nodes, 50,000 pods)', perSecond: 810 },
  { name: 'Nomad C1M (5 servers, ≈1M containers in < 5 min)', perSecond: 3750 },
];
const GOAL_PER_SECOND = 5000;

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const SIZES = [
  { vcpu: 2, type: 'm5.large' },
  { vcpu: 4, type: 'm5.xlarge' },
  { vcpu: 8, type: 'm5.2xlarge' },
  { vcpu: 16, type: 'm5.4xlarge' },
];

function buildCluster(n: number, rng: Rng): PlacementInstance[] {
  const out: PlacementInstance[] = [];
  for (let i = 0; i < n; i++) {
    const size = SIZES[Math.floor(rng() * SIZES.length)]!;
    const zone = ZONES[i % ZONES.length]!;
    const stack = rng() < 2 / 3 ? 'prod' : 'staging';
    const roll = rng();
    const id = `ci-${String(i).padStart(6, '0')}`;
    const attributes = new Map<string, string | undefined>([
      ['ecs.availability-zone', zone],
      ['ecs.instance-type', size.type],
      ['ecs.os-type', 'linux'],
      ['ecs.cpu-architecture', 'x86_64'],
      ['ecs.capability.task-eni', undefined],
      ['stack', stack],
    ]);
    out.push({
      id,
      arn: `arn:aws:ecs:us-east-1:123456789012:container-instance/bench/${id}`,
      status: roll < 0.01 ? 'DRAINING' : 'ACTIVE',
      agentConnected: !(roll >= 0.01 && roll < 0.02),
      agentVersion: '1.80.0',
      ec2InstanceId: `i-${(0x10000000 + i).toString(16)}`,
      registeredAt: 1_700_000_000 + i,
      runningTasksCount: 0,
      pendingTasksCount: 0,
      attributes,
      taskGroups: new Map(),
      remaining: {
        cpu: size.vcpu * 1024,
        memory: size.vcpu * 4096 - 256,
        ports: new Set([22, 2375, 2376, 51678, 51679, 51680]),
        portsUdp: new Set(),
      },
      gpuIds: [],
    });
  }
  return out;
}

const request: TaskPlacementRequest = {
  cpu: 256,
  memory: 1024,
  group: 'service:web',
  strategies: parsePlacementStrategies([
    { type: 'spread', field: 'attribute:ecs.availability-zone' },
    { type: 'binpack', field: 'memory' },
  ]),
  constraints: parsePlacementConstraints([{ type: 'memberOf', expression: 'attribute:stack == prod' }]),
};

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Run {
  placed: number;
  failed: number;
  totalMs: number;
  /** Per decision, microseconds, sorted. */
  decisionsUs: Float64Array;
  setupMs: number;
  truncated: boolean;
  placedOn: Int32Array;
}

/** One session places every task (what a service scale-out does). */
function runOneSession(cluster: readonly PlacementInstance[], tasks: number): Run {
  const decisions = new Float64Array(tasks);
  const placedOn = new Int32Array(cluster.length);
  const t0 = process.hrtime.bigint();
  const session = new PlacementSession(cluster, request);
  const setupMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let placed = 0;
  let failed = 0;
  let truncated = false;
  for (let t = 0; t < tasks; t++) {
    const a = process.hrtime.bigint();
    const d = session.next();
    decisions[t] = Number(process.hrtime.bigint() - a) / 1e3;
    if (d.placement) {
      placed++;
      placedOn[d.placement.index] = placedOn[d.placement.index]! + 1;
    } else failed++;
    if ((t & 1023) === 0 && Number(process.hrtime.bigint() - t0) / 1e6 > MAX_MS) {
      truncated = true;
      break;
    }
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const used = decisions.subarray(0, placed + failed).sort();
  return { placed, failed, totalMs, decisionsUs: used, setupMs, truncated, placedOn };
}

/** The snapshot after a task of `group` landed on instance i (what the store would show). */
function withTask(inst: PlacementInstance, req: TaskPlacementRequest): PlacementInstance {
  const taskGroups = new Map(inst.taskGroups);
  taskGroups.set(req.group, (taskGroups.get(req.group) ?? 0) + 1);
  return {
    ...inst,
    pendingTasksCount: inst.pendingTasksCount + 1,
    taskGroups,
    remaining: {
      ...inst.remaining,
      cpu: inst.remaining.cpu - req.cpu,
      memory: inst.remaining.memory - req.memory,
    },
  };
}

/** RunTask-sized requests: a new session per 10 tasks, on a snapshot that shows earlier ones. */
function runRequests(clusterIn: readonly PlacementInstance[], tasks: number): Run & { requests: number } {
  const cluster = [...clusterIn];
  const perRequest: number[] = [];
  const placedOn = new Int32Array(cluster.length);
  let placed = 0;
  let failed = 0;
  let truncated = false;
  let sessionMs = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < tasks; done += RUN_TASK_COUNT) {
    const count = Math.min(RUN_TASK_COUNT, tasks - done);
    const a = process.hrtime.bigint();
    const plan = new PlacementSession(cluster, request).place(count);
    const ms = Number(process.hrtime.bigint() - a) / 1e6;
    sessionMs += ms;
    perRequest.push(ms * 1e3);
    placed += plan.placements.length;
    failed += plan.unplaced;
    // Outside the engine: the store commit would make these visible to the next request.
    for (const p of plan.placements) {
      cluster[p.index] = withTask(cluster[p.index]!, request);
      placedOn[p.index] = placedOn[p.index]! + 1;
    }
    if (Number(process.hrtime.bigint() - t0) / 1e6 > MAX_MS) {
      truncated = done + count < tasks;
      break;
    }
  }
  return {
    placed,
    failed,
    totalMs: sessionMs,
    decisionsUs: Float64Array.from(perRequest).sort(),
    setupMs: 0,
    truncated,
    placedOn,
    requests: perRequest.length,
  };
}

function zoneCounts(cluster: readonly PlacementInstance[], placedOn: Int32Array): Record<string, number> {
  const out: Record<string, number> = {};
  placedOn.forEach((c, i) => {
    if (c === 0) return;
    const z = cluster[i]!.attributes.get('ecs.availability-zone') ?? '(none)';
    out[z] = (out[z] ?? 0) + c;
  });
  return out;
}

function checkConstraint(cluster: readonly PlacementInstance[], placedOn: Int32Array): number {
  let wrong = 0;
  placedOn.forEach((c, i) => {
    const inst = cluster[i]!;
    if (
      c > 0 &&
      (inst.attributes.get('stack') !== 'prod' || inst.status !== 'ACTIVE' || !inst.agentConnected)
    )
      wrong += c;
  });
  return wrong;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function gcNow(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

function mib(bytes: number): string {
  return `${fmt(bytes / 1048576, 1)} MiB`;
}

interface EngineFigures {
  onePerSecond: number;
  reqPerSecond: number;
  p99Us: number;
}

function engineHalf(): EngineFigures {
  console.log('bench/placement — ENGINE ONLY (src/scheduler/engine.ts: no API, no store, no agents).');
  console.log(
    `cluster: ${fmt(INSTANCES)} instances in ${ZONES.length} zones, 2/4/8/16 vCPU, stack prod≈2/3 / staging≈1/3, ~1% DRAINING, ~1% disconnected`,
  );
  console.log(
    `tasks:   ${fmt(TASKS)} × (256 cpu, 1024 MiB), group service:web, spread(attribute:ecs.availability-zone) + binpack(memory) + memberOf(attribute:stack == prod)`,
  );
  console.log(`node ${process.version}, one thread; seed ${SEED}\n`);

  // Warm-up: let the JIT compile the hot paths before anything is measured.
  runOneSession(buildCluster(Math.min(1000, INSTANCES), seededRng(SEED + 1)), Math.min(10000, TASKS));

  const cluster = buildCluster(INSTANCES, seededRng(SEED));
  const one = runOneSession(cluster, TASKS);
  const onePerSecond = (one.placed + one.failed) / (one.totalMs / 1000);
  console.log('1. one session places every task (a service scaling out):');
  console.log(
    `   ${fmt(one.placed)} placed, ${fmt(one.failed)} unplaced in ${fmt(one.totalMs, 1)} ms (session setup ${fmt(one.setupMs, 2)} ms)${one.truncated ? ' — STOPPED at --max-seconds' : ''}`,
  );
  console.log(
    `   ${fmt(onePerSecond)} placements/s; per decision p50 ${fmt(percentile(one.decisionsUs, 50), 1)} µs, p99 ${fmt(percentile(one.decisionsUs, 99), 1)} µs, max ${fmt(percentile(one.decisionsUs, 100), 1)} µs`,
  );
  console.log(`   tasks per zone: ${JSON.stringify(zoneCounts(cluster, one.placedOn))}`);
  console.log(`   tasks that broke memberOf/status/agent: ${checkConstraint(cluster, one.placedOn)}`);

  const req = runRequests(cluster, TASKS);
  const reqPerSecond = (req.placed + req.failed) / (req.totalMs / 1000);
  console.log(
    `\n2. RunTask-sized requests: a new session per ${RUN_TASK_COUNT} tasks on the updated snapshot:`,
  );
  console.log(
    `   ${fmt(req.requests)} requests, ${fmt(req.placed)} placed, ${fmt(req.failed)} unplaced; engine time ${fmt(req.totalMs, 1)} ms${req.truncated ? ' — STOPPED at --max-seconds' : ''}`,
  );
  console.log(
    `   ${fmt(reqPerSecond)} placements/s; per request (setup over ${fmt(INSTANCES)} instances + ${RUN_TASK_COUNT} decisions) p50 ${fmt(percentile(req.decisionsUs, 50), 1)} µs, p99 ${fmt(percentile(req.decisionsUs, 99), 1)} µs`,
  );
  console.log(`   tasks per zone: ${JSON.stringify(zoneCounts(cluster, req.placedOn))}`);

  console.log(
    `\n3. growth: time per placement by cluster size (one session, ${fmt(TASKS_PER_INSTANCE)} tasks per instance):`,
  );
  console.log('   instances   tasks     placements/s   mean µs   p99 µs   mean vs 500');
  let base: number | undefined;
  for (const n of GROWTH_SIZES) {
    const r = runOneSession(buildCluster(n, seededRng(SEED)), Math.round(n * TASKS_PER_INSTANCE));
    const count = r.placed + r.failed;
    const mean = (r.totalMs * 1000) / count;
    base ??= mean;
    console.log(
      `   ${fmt(n).padStart(9)}   ${fmt(count).padStart(6)}   ${fmt(count / (r.totalMs / 1000)).padStart(12)}   ${fmt(mean, 2).padStart(7)}   ${fmt(percentile(r.decisionsUs, 99), 1).padStart(6)}   ${fmt(mean / base, 2).padStart(6)}×${r.truncated ? '  (stopped at --max-seconds)' : ''}`,
    );
  }

  console.log(`\n4. against the goal and the peers (engine alone vs whole schedulers):`);
  console.log(
    `   goal ≥ ${fmt(GOAL_PER_SECOND)} placements/s on one core: ${fmt(onePerSecond)} (one session) ${onePerSecond >= GOAL_PER_SECOND ? 'MET' : 'NOT MET'}, ${fmt(reqPerSecond)} (requests of ${RUN_TASK_COUNT}) ${reqPerSecond >= GOAL_PER_SECOND ? 'MET' : 'NOT MET'}`,
  );
  for (const p of PEERS) {
    console.log(
      `   ${p.name}: ${fmt(p.perSecond)}/s → ${fmt(onePerSecond / p.perSecond, 1)}× (one session), ${fmt(reqPerSecond / p.perSecond, 1)}× (requests of ${RUN_TASK_COUNT})`,
    );
  }

  // Memory: the snapshot of 5,000 instances with the 50,000 placed tasks, and the tasks themselves
  // as the control plane would hold them (one record-like object each).
  gcNow();
  const before = process.memoryUsage();
  const held = cluster.map((inst, i) => {
    let x = inst;
    for (let k = 0; k < one.placedOn[i]!; k++) x = withTask(x, request);
    return x;
  });
  const tasks: Pick<
    TaskRecord,
    'taskArn' | 'group' | 'containerInstanceArn' | 'lastStatus' | 'desiredStatus' | 'taskDefinitionArn'
  >[] = [];
  held.forEach((inst, i) => {
    for (let k = 0; k < one.placedOn[i]!; k++) {
      tasks.push({
        taskArn: `arn:aws:ecs:us-east-1:123456789012:task/bench/${i.toString(16).padStart(8, '0')}${k.toString(16).padStart(24, '0')}`,
        group: request.group,
        containerInstanceArn: inst.arn!,
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
      });
    }
  });
  gcNow();
  const after = process.memoryUsage();
  console.log(
    `\n5. memory holding ${fmt(held.length)} instances and ${fmt(tasks.length)} placed tasks (snapshot + task summaries):`,
  );
  console.log(
    `   heapUsed ${mib(after.heapUsed)} (+${mib(after.heapUsed - before.heapUsed)} for them), RSS ${mib(after.rss)}; goal for the whole control plane < 1 GiB`,
  );
  return { onePerSecond, reqPerSecond, p99Us: percentile(one.decisionsUs, 99) };
}

// ---------------------------------------------------------------------------------------------
// 6. End to end: berth server + SQLite + scripted agents

const TARGET = 'AmazonEC2ContainerServiceV20141113';
const AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261121/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0';
const E2E_CLUSTER = 'bench-placement';
const INSTANCES_PER_SESSION = 100;

function call<T>(http: HttpAgent, port: number, op: string, body: unknown): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        agent: http,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `${TARGET}.${op}`,
          authorization: AUTH,
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${op} answered ${res.statusCode}: ${text}`));
          else resolve(JSON.parse(text) as T);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * One host's agent, scripted: says hello for its instances, and reports every task pushed to it
 * RUNNING at once (what a fake container runtime does, without the runtime). Keeps counts only.
 */
class ScriptedAgent {
  private seq = 0;
  private readonly seen = new Set<string>();
  private constructor(
    private readonly ws: WebSocket,
    private readonly onRunning: (taskArn: string) => void,
  ) {}

  static async connect(
    baseUrl: string,
    hostId: string,
    instances: readonly string[],
    onRunning: (taskArn: string) => void,
  ): Promise<ScriptedAgent> {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + AGENT_SESSION_PATH);
    const agent = new ScriptedAgent(ws, onRunning);
    const acked = new Map<string, string>();
    const welcomed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${hostId}: no welcome in 10 s`)), 10_000);
      ws.on('message', (data) => {
        const m = parseServerMessage(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
        if (!m) return;
        if (m.type === 'welcome') {
          clearTimeout(timer);
          if (m.refusedInstances)
            reject(new Error(`${hostId}: refused ${JSON.stringify(m.refusedInstances)}`));
          else resolve();
        } else if (m.type === 'tasks') {
          for (const t of m.tasks) agent.report(t, acked);
        } else if (m.type === 'ack') {
          const arn = acked.get(m.id);
          acked.delete(m.id);
          if (arn !== undefined && m.applied) onRunning(arn);
        }
      });
      ws.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        hostId,
        agentVersion: '1.80.0',
        instances: instances.map((containerInstanceArn) => ({ containerInstanceArn })),
      }),
    );
    await welcomed;
    return agent;
  }

  private report(t: AgentTask, acked: Map<string, string>): void {
    if (t.desiredStatus !== 'RUNNING' || this.seen.has(t.taskArn)) return;
    this.seen.add(t.taskArn);
    const id = `r${++this.seq}`;
    acked.set(id, t.taskArn);
    this.ws.send(
      JSON.stringify({
        type: 'report',
        id,
        change: {
          taskArn: t.taskArn,
          status: 'RUNNING',
          startedAt: Date.now() / 1000,
          containers: (t.taskDefinition.containerDefinitions ?? []).map((c, i) => ({
            containerName: c.name,
            status: 'RUNNING',
            runtimeId: `${t.taskArn.slice(-12)}-${i}`,
          })),
        },
      }),
    );
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The registration of instance i: the same mix of sizes, zones and stacks as the engine half. */
function registration(i: number, rng: Rng): unknown {
  const size = SIZES[Math.floor(rng() * SIZES.length)]!;
  return {
    cluster: E2E_CLUSTER,
    totalResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: size.vcpu * 1024 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: size.vcpu * 4096 - 256 },
    ],
    attributes: [
      { name: 'ecs.availability-zone', value: ZONES[i % ZONES.length] },
      { name: 'ecs.instance-type', value: size.type },
      { name: 'stack', value: rng() < 2 / 3 ? 'prod' : 'staging' },
    ],
    versionInfo: { agentVersion: '1.80.0' },
  };
}

function serverRssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kb === undefined ? NaN : Number(kb) / 1024;
  } catch {
    return NaN;
  }
}

async function e2eHalf(engine: EngineFigures | undefined): Promise<void> {
  console.log(
    `\n6. END TO END: RunTask through the API and the store (berth server, embedded SQLite, GROUP commit) with scripted agents`,
  );
  let server: BerthProcess | undefined;
  const agents: ScriptedAgent[] = [];
  const http = new HttpAgent({ keepAlive: true, maxSockets: E2E_CLIENTS + 4 });
  try {
    if (args['e2e-port'] === undefined) server = await startBerthServer();
    const port = server?.port ?? Number(args['e2e-port']);
    const url = `http://127.0.0.1:${port}`;
    await call(http, port, 'CreateCluster', { clusterName: E2E_CLUSTER });
    await call(http, port, 'RegisterTaskDefinition', {
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'busybox', cpu: 256, memory: 1024 }],
    });

    const t0 = performance.now();
    const rng = seededRng(SEED);
    const bodies = Array.from({ length: E2E_INSTANCES }, (_, i) => registration(i, rng));
    const arns: string[] = new Array<string>(E2E_INSTANCES);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < E2E_INSTANCES) {
          const i = next++;
          const r = await call<{ containerInstance: { containerInstanceArn: string } }>(
            http,
            port,
            'RegisterContainerInstance',
            bodies[i],
          );
          arns[i] = r.containerInstance.containerInstanceArn;
        }
      }),
    );
    const registerMs = performance.now() - t0;

    const started = new Map<string, number>();
    const runningLatency: number[] = [];
    let running = 0;
    let allRunning: (() => void) | undefined;
    let target = Number.POSITIVE_INFINITY;
    const onRunning = (arn: string): void => {
      running++;
      const at = started.get(arn);
      if (at !== undefined) runningLatency.push(performance.now() - at);
      if (running >= target) allRunning?.();
    };
    for (let i = 0; i < E2E_INSTANCES; i += INSTANCES_PER_SESSION) {
      agents.push(
        await ScriptedAgent.connect(
          url,
          `bench-host-${i / INSTANCES_PER_SESSION}`,
          arns.slice(i, i + INSTANCES_PER_SESSION),
          onRunning,
        ),
      );
    }
    console.log(
      `   ${fmt(E2E_INSTANCES)} instances registered in ${fmt(registerMs / 1000, 1)} s (${fmt(E2E_INSTANCES / (registerMs / 1000))}/s), ${agents.length} agent sessions connected`,
    );

    const runTask = {
      cluster: E2E_CLUSTER,
      taskDefinition: 'web',
      count: RUN_TASK_COUNT,
      launchType: 'EC2',
      placementStrategy: [
        { type: 'spread', field: 'attribute:ecs.availability-zone' },
        { type: 'binpack', field: 'memory' },
      ],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack == prod' }],
    };
    const calls = Math.ceil(E2E_TASKS / RUN_TASK_COUNT);
    const callMs: number[] = [];
    let issued = 0;
    let placed = 0;
    let failedCalls = 0;
    let errors = 0;
    let stopped = false;
    const loadStart = performance.now();
    const deadline = loadStart + E2E_MAX_MS;
    const progressEvery = Math.max(1, Math.floor(calls / 10));
    await Promise.all(
      Array.from({ length: E2E_CLIENTS }, async () => {
        while (issued < calls && !stopped) {
          if (performance.now() > deadline) {
            stopped = true;
            break;
          }
          const n = issued++;
          const a = performance.now();
          try {
            const r = await call<{ tasks: { taskArn: string }[]; failures: unknown[] }>(
              http,
              port,
              'RunTask',
              runTask,
            );
            for (const t of r.tasks) started.set(t.taskArn, a);
            placed += r.tasks.length;
            if (r.tasks.length < RUN_TASK_COUNT) failedCalls++;
          } catch (e) {
            errors++;
            if (errors <= 3) console.log(`   RunTask error: ${(e as Error).message.slice(0, 300)}`);
          }
          callMs.push(performance.now() - a);
          if ((n + 1) % progressEvery === 0) {
            const s = (performance.now() - loadStart) / 1000;
            console.log(
              `   … ${fmt(placed)} tasks placed in ${fmt(s, 1)} s (${fmt(placed / s)}/s, last call ${fmt(callMs[callMs.length - 1]!, 1)} ms), ${fmt(running)} RUNNING`,
            );
          }
        }
      }),
    );
    const placedMs = performance.now() - loadStart;
    target = placed;
    if (running < placed) {
      await new Promise<void>((resolve) => {
        allRunning = resolve;
        setTimeout(resolve, 30_000);
      });
    }
    const runningMs = performance.now() - loadStart;
    callMs.sort((a, b) => a - b);
    runningLatency.sort((a, b) => a - b);
    const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
    const placedPerSecond = placed / (placedMs / 1000);
    const runningPerSecond = running / (runningMs / 1000);
    console.log(
      `   ${fmt(callMs.length)} RunTask calls (count ${RUN_TASK_COUNT}, ${E2E_CLIENTS} concurrent clients), ${fmt(placed)} tasks placed, ${failedCalls} calls placed fewer than ${RUN_TASK_COUNT}, ${errors} errors${stopped ? ' — STOPPED at --e2e-max-seconds' : ''}`,
    );
    console.log(
      `   placed:  ${fmt(placedPerSecond)} tasks/s over ${fmt(placedMs / 1000, 1)} s; RunTask latency p50 ${fmt(q(callMs, 0.5), 1)} ms, p99 ${fmt(q(callMs, 0.99), 1)} ms`,
    );
    console.log(
      `   RUNNING: ${fmt(running)} reported by the agents and recorded, ${fmt(runningPerSecond)} tasks/s; RunTask → RUNNING recorded p50 ${fmt(q(runningLatency, 0.5), 1)} ms, p99 ${fmt(q(runningLatency, 0.99), 1)} ms`,
    );
    console.log(
      `   server memory (RSS) holding ${fmt(E2E_INSTANCES)} instances and ${fmt(placed)} tasks: ${fmt(serverRssMiB(server?.proc.pid), 1)} MiB; goal < 1 GiB`,
    );
    console.log(`\n7. summary:`);
    if (engine) {
      console.log(
        `   engine alone:  ${fmt(engine.onePerSecond)} placements/s (one session), ${fmt(engine.reqPerSecond)} (requests of ${RUN_TASK_COUNT}), p99 ${fmt(engine.p99Us, 1)} µs per decision; goal ≥ ${fmt(GOAL_PER_SECOND)}`,
      );
    }
    console.log(
      `   end to end:    ${fmt(placedPerSecond)} tasks/s placed, ${fmt(runningPerSecond)} tasks/s RUNNING; goal ≥ ${E2E_GOAL_PER_SECOND}: ${placedPerSecond >= E2E_GOAL_PER_SECOND ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    for (const a of agents) a.close();
    http.destroy();
    await server?.stop();
  }
}

async function main(): Promise<void> {
  const engine = args['no-engine'] ? undefined : engineHalf();
  if (!args['no-e2e']) await e2eHalf(engine);
}

await main();
