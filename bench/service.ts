// bench/service: Berth's service scheduler against Docker Swarm on the same machine and the same
// Docker engine, in one run (issue 5):
//   1. converge a new service of 50 tasks: CreateService until ServicesStable, against
//      `docker service create --replicas 50` until 50 tasks run. Goal: Berth ≤ 0.5 × Swarm.
//      Three rounds a side, interleaved, and their medians compared (--converge-rounds 1 for a
//      single try): on this 2-core VM the same converge varies by a quarter from one minute to
//      the next, on both sides, so one try against one try is a coin toss near the goal.
//      Each round also times the engine alone making the same 50 containers through its API
//      (--engine-floor off to skip): the floor under both sides, printed for scale only.
//   2. a rolling update of 20 tasks (maximumPercent 200, minimumHealthyPercent 100; a new task
//      definition revision changing an environment variable) until the new deployment is COMPLETED
//      and the service stable, against `docker service update --update-parallelism 20
//      --update-order start-first --env-add X=2` until its UpdateStatus is completed with 20 new
//      tasks running. Goal: ≤ Swarm's time.
//   3. a task's container killed from outside (SIGKILL through the Docker API, as `docker kill`)
//      until a replacement runs, median of 10. Goal: under 2 s and below Swarm's.
//
//   npm run bench:service -- [--tasks 50] [--update-tasks 20] [--kills 10] [--converge-rounds 3]
//     [--engine-floor on|off] [--poll-ms 50]
//     [--kill-poll-ms 20] [--max-seconds 1500] [--only berth|swarm]
//     [--swarm-restart-delay 0s] [--swarm-update-monitor 5s]
//
// Workload on both sides: the locally built busybox image running `sleep 3600` behind an init
// process (so SIGTERM stops it at once), a 32 MiB memory limit; Berth on awsvpc (--berth-network),
// Swarm on its default network (both: a namespace per task on a Docker bridge).
// Berth's side is a fresh `berth up` driven through the ECS API as a user would (ServicesStable is
// checked with the SDK waiter's own acceptors, polled every --poll-ms instead of the waiter's 15 s
// minimum delay). Swarm's side is driven with the `docker service` CLI for changes and the Docker
// API for polling; its image is given by local image id, so Swarm never tries a registry.
// Both sides get the same waits: Berth replaces a stopped task at once, so Swarm's
// `--restart-delay` (stock 5 s) is 0; Berth counts a task without health checks as healthy after
// a 5 s stability window (the service scheduler's default), so Swarm keeps its stock 5 s
// `--update-monitor`. `--swarm-update-monitor 1ms` measures Swarm without that wait (0 means
// "the default" to the CLI, so 1ms is the smallest).
//
// Phases alternate (Berth 1, Swarm 1, ... per converge round, then Berth 2+3, Swarm 2+3), and each
// side removes its service and waits for its tasks to stop before the other side starts, so only
// one side has containers running while it is measured (Berth's stopped containers stay until its
// agent's clean-up wait, as ECS's do; the engine alone and Swarm remove theirs). The swarm is
// initialised (listening on 127.0.0.1 only) when the engine is not in one, and left at the end
// only then. Every service, container and task
// definition made here is removed at the end, also on failure or Ctrl-C.
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type DesiredStatus,
  type ECSClient,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import Dockerode from 'dockerode';
import { ecsClient } from '../test/support/berth-process.js';
import { busyboxImage, ensureBusyboxImage } from '../test/support/images.js';
import { startBerthUp, waitForTasks, type UpProcess } from '../test/up/up-process.js';
import { newRunLabel, removeContainersLabelled, run } from './support/berth.js';
import { makeDeadline, pollUntil } from './support/bounds.js';
import { waitForQuiet } from './support/quiet.js';
import { median } from './support/stats.js';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '50' },
    'update-tasks': { type: 'string', default: '20' },
    kills: { type: 'string', default: '10' },
    /** Converge rounds per side, interleaved (Berth, Swarm, Berth, ...); the medians are compared. */
    'converge-rounds': { type: 'string', default: '3' },
    /** DescribeServices / Docker task-list polling while converging and updating. */
    'poll-ms': { type: 'string', default: '50' },
    /** Finer polling for the kill runs, whose times are well under a few seconds. */
    'kill-poll-ms': { type: 'string', default: '20' },
    'max-seconds': { type: 'string', default: '1500' },
    /** Measure one side alone (no ratios then). */
    only: { type: 'string' },
    'swarm-restart-delay': { type: 'string', default: '0s' },
    'swarm-update-monitor': { type: 'string', default: '5s' },
    /** Berth's task networking: awsvpc (a namespace and an address per task) or bridge (Docker's). */
    'berth-network': { type: 'string', default: 'awsvpc' },
    /** A third converge per round: the engine alone making the same containers (on|off). */
    'engine-floor': { type: 'string', default: 'on' },
  },
});
const TASKS = Math.max(1, Number(args.tasks));
const UPDATE_TASKS = Math.max(1, Number(args['update-tasks']));
const KILLS = Math.max(1, Number(args.kills));
const CONVERGE_ROUNDS = Math.max(1, Number(args['converge-rounds']));
const POLL_MS = Math.max(1, Number(args['poll-ms']));
const KILL_POLL_MS = Math.max(1, Number(args['kill-poll-ms']));
const RESTART_DELAY = args['swarm-restart-delay'];
const UPDATE_MONITOR = args['swarm-update-monitor'];
if (args.only !== undefined && args.only !== 'berth' && args.only !== 'swarm')
  throw new Error(`--only must be berth or swarm, not ${args.only}`);
const berthNetworkArg = args['berth-network'];
if (berthNetworkArg !== 'awsvpc' && berthNetworkArg !== 'bridge')
  throw new Error(`--berth-network must be awsvpc or bridge, not ${berthNetworkArg}`);
const BERTH_NETWORK: 'awsvpc' | 'bridge' = berthNetworkArg;
if (args['engine-floor'] !== 'on' && args['engine-floor'] !== 'off')
  throw new Error(`--engine-floor must be on or off, not ${args['engine-floor']}`);
const ENGINE_FLOOR = args['engine-floor'] === 'on';
const DO_BERTH = args.only !== 'swarm';
const DO_SWARM = args.only !== 'berth';
const deadline = makeDeadline('bench:service', Number(args['max-seconds']), { interruptible: true });

const runLabel = newRunLabel();
const MEMORY_MIB = 32;
const CLUSTER = 'default';
const FAMILY = 'bench-service';
const CONVERGE_NAME = `bench-service-converge-${runLabel.value}`;
const UPDATE_NAME = `bench-service-update-${runLabel.value}`;
/** Bound on each wait for a phase to converge; the whole run is bounded by --max-seconds too. */
const PHASE_TIMEOUT_MS = 300_000;
/** Bound on waits outside the timed windows (set-up, settling between kills, teardown). */
const SETTLE_TIMEOUT_MS = 180_000;
const KILL_TIMEOUT_MS = 60_000;

const docker = new Dockerode();
// A closed pipe (`| head`) must not kill the run before its cleanup has removed what it made.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

interface UpdateResult {
  /** Until done: Berth's new deployment COMPLETED and stable; Swarm's update completed. */
  ms: number;
  /** Until the new tasks all ran and no old one did (before the bookkeeping said done). */
  replacedMs: number | undefined;
  /** Running tasks, highest and lowest seen while polling. */
  peakRunning: number;
  lowestRunning: number;
}

interface Side {
  /** One time per converge round. */
  converge?: Outcome<number[]>;
  update?: Outcome<UpdateResult>;
  kills?: Outcome<number[]>;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Runs a measured step; a failure is recorded (and the other steps still run) unless the run
 * itself is out of time or interrupted.
 */
/** Before each timed phase: how long the machine took to go quiet, and whether it did. */
const quietWaits: string[] = [];

async function attempt<T>(
  what: string,
  fn: () => Promise<T>,
  opts: { timed?: boolean } = {},
): Promise<Outcome<T>> {
  deadline.check();
  if (opts.timed) {
    const q = await waitForQuiet({ timeoutMs: Math.min(60_000, Math.max(0, deadline.remainingMs())) });
    quietWaits.push(
      `${what} ${(q.waitedMs / 1000).toFixed(1)} s${q.quiet ? '' : ` (still ${(q.busy * 100).toFixed(0)}% busy)`}`,
    );
  }
  process.stderr.write(`${what} ...\n`);
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    deadline.check();
    process.stderr.write(`${what} FAILED: ${errorText(e)}\n`);
    return { ok: false, error: errorText(e) };
  }
}

/** Teardown failures are reported but do not stop the run: the final cleanup removes leftovers. */
async function bestEffort(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    process.stderr.write(`warning: ${what}: ${errorText(e)}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Berth, through the ECS API.

interface BerthSide {
  ecs: ECSClient;
  up: UpProcess;
  definitions: string[];
}

async function registerDefinition(b: BerthSide, x: string): Promise<string> {
  const r = await b.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      networkMode: BERTH_NETWORK,
      requiresCompatibilities: ['EC2'],
      containerDefinitions: [
        {
          name: 'sleeper',
          image: busyboxImage,
          command: ['sleep', '3600'],
          memory: MEMORY_MIB,
          stopTimeout: 2,
          linuxParameters: { initProcessEnabled: true },
          environment: [{ name: 'X', value: x }],
          // Finds this run's containers for the final cleanup, whatever Berth did with its tasks.
          dockerLabels: { [runLabel.key]: runLabel.value },
        },
      ],
    }),
  );
  const arn = r.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new Error('RegisterTaskDefinition returned no taskDefinitionArn');
  b.definitions.push(arn);
  return arn;
}

async function describeService(ecs: ECSClient, name: string): Promise<Service> {
  const r = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }));
  const s = r.services?.[0];
  if (!s) throw new Error(`DescribeServices did not find ${name}: ${JSON.stringify(r.failures)}`);
  return s;
}

/**
 * The ServicesStable waiter's acceptors: success when the service has exactly one deployment
 * and runningCount == desiredCount; failure once it is DRAINING or INACTIVE (MISSING throws in
 * describeService).
 */
function isServiceStable(s: Service): boolean {
  if (s.status === 'DRAINING' || s.status === 'INACTIVE')
    throw new Error(`service ${s.serviceName} is ${s.status}`);
  return s.deployments?.length === 1 && s.runningCount === s.desiredCount;
}

function showService(s: Service | undefined): string {
  if (!s) return 'no DescribeServices answer yet';
  const deployments = (s.deployments ?? []).map(
    (d) =>
      `${d.id} ${d.status} ${d.rolloutState ?? '-'} desired ${d.desiredCount} running ${d.runningCount} pending ${d.pendingCount} failed ${d.failedTasks}`,
  );
  const events = (s.events ?? []).slice(0, 3).map((e) => e.message);
  return `${s.serviceName} ${s.status}: desired ${s.desiredCount} running ${s.runningCount} pending ${s.pendingCount}; deployments [${deployments.join('; ')}]; latest events ${JSON.stringify(events)}`;
}

async function listServiceTasks(
  ecs: ECSClient,
  name: string,
  desiredStatus: DesiredStatus,
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const r = await ecs.send(
      new ListTasksCommand({ cluster: CLUSTER, serviceName: name, desiredStatus, nextToken }),
    );
    arns.push(...(r.taskArns ?? []));
    nextToken = r.nextToken;
    if (!nextToken) return arns;
  }
  throw new Error(`ListTasks for ${name} still had pages after 100`);
}

async function describeTasks(ecs: ECSClient, arns: string[]): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const r = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns.slice(i, i + 100) }));
    tasks.push(...(r.tasks ?? []));
  }
  return tasks;
}

/** The service's tasks that are meant to run and do, sorted by ARN; throws unless there are `count`. */
async function berthRunningTasks(
  ecs: ECSClient,
  name: string,
  count: number,
  definition?: string,
): Promise<Task[]> {
  const tasks = await describeTasks(ecs, await listServiceTasks(ecs, name, 'RUNNING'));
  const running = tasks.filter(
    (t) => t.lastStatus === 'RUNNING' && (definition === undefined || t.taskDefinitionArn === definition),
  );
  if (running.length !== count || tasks.length !== count) {
    throw new Error(
      `${name}: expected ${count} tasks RUNNING${definition ? ` on ${definition}` : ''}, DescribeTasks shows ${running.length} of ${tasks.length}`,
    );
  }
  return running.sort((a, b) => (a.taskArn ?? '').localeCompare(b.taskArn ?? ''));
}

function createService(b: BerthSide, name: string, definition: string, count: number): Promise<unknown> {
  return b.ecs.send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: name,
      taskDefinition: definition,
      desiredCount: count,
      launchType: 'EC2',
      ...(BERTH_NETWORK === 'awsvpc'
        ? { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-bench'] } } }
        : {}),
      deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 },
    }),
  );
}

async function waitServiceStable(
  ecs: ECSClient,
  name: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  let last: Service | undefined;
  await pollUntil(
    async () => {
      last = await describeService(ecs, name);
      return isServiceStable(last) && last.desiredCount === count ? true : undefined;
    },
    {
      timeoutMs,
      intervalMs: POLL_MS,
      deadline,
      describe: () => `${name} to be stable: ${showService(last)}`,
    },
  );
}

async function berthConverge(b: BerthSide, definition: string): Promise<number> {
  const t0 = performance.now();
  await createService(b, CONVERGE_NAME, definition, TASKS);
  await waitServiceStable(b.ecs, CONVERGE_NAME, TASKS, PHASE_TIMEOUT_MS);
  const ms = performance.now() - t0;
  // Outside the timed window: stable must mean the tasks really run.
  await berthRunningTasks(b.ecs, CONVERGE_NAME, TASKS, definition);
  return ms;
}

async function berthUpdate(b: BerthSide): Promise<UpdateResult> {
  const t0 = performance.now();
  // A new revision is part of the change, as a changed spec is part of `docker service update`.
  const next = await registerDefinition(b, '2');
  const r = await b.ecs.send(
    new UpdateServiceCommand({
      cluster: CLUSTER,
      service: UPDATE_NAME,
      taskDefinition: next,
      deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 },
    }),
  );
  const primaryId = r.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
  if (!primaryId) throw new Error(`UpdateService answered no PRIMARY deployment: ${showService(r.service)}`);
  let replacedMs: number | undefined;
  let peakRunning = 0;
  let lowestRunning = Infinity;
  let last: Service | undefined;
  await pollUntil(
    async () => {
      const s = (last = await describeService(b.ecs, UPDATE_NAME));
      const ds = s.deployments ?? [];
      const running = ds.reduce((n, d) => n + (d.runningCount ?? 0), 0);
      peakRunning = Math.max(peakRunning, running);
      lowestRunning = Math.min(lowestRunning, running);
      const primary = ds.find((d) => d.id === primaryId);
      if (!primary || primary.status !== 'PRIMARY' || primary.rolloutState === 'FAILED')
        throw new Error(`the new deployment ${primaryId} failed or was replaced: ${showService(s)}`);
      const oldRunning = running - (primary.runningCount ?? 0);
      if (replacedMs === undefined && primary.runningCount === UPDATE_TASKS && oldRunning === 0)
        replacedMs = performance.now() - t0;
      return isServiceStable(s) && primary.rolloutState === 'COMPLETED' ? true : undefined;
    },
    {
      timeoutMs: PHASE_TIMEOUT_MS,
      intervalMs: POLL_MS,
      deadline,
      describe: () => `deployment ${primaryId} COMPLETED and stable: ${showService(last)}`,
    },
  );
  const ms = performance.now() - t0;
  await berthRunningTasks(b.ecs, UPDATE_NAME, UPDATE_TASKS, next);
  return { ms, replacedMs, peakRunning, lowestRunning };
}

async function containerOfTask(taskArn: string): Promise<string> {
  const found = await docker.listContainers({
    filters: { label: [`com.amazonaws.ecs.task-arn=${taskArn}`], status: ['running'] },
  });
  const id = found[0]?.Id;
  if (!id) throw new Error(`no running container for ${taskArn}`);
  return id;
}

/** Kills one task's container at a time; each time until the service runs a new task and counts it. */
/**
 * The victim of a kill run, on both sides: the task that has run longest. A task killed in its
 * first seconds is a crash loop to Berth's launch back-off (a task whose container exits within
 * 5 s of starting counts as failed, and after two such failures launches wait 5 s), which is not
 * what this row measures; picking by id or ARN order sometimes picked the last run's replacement.
 */
function longestRunning<T>(tasks: T[], startedAt: (t: T) => number | undefined): T {
  const sorted = [...tasks].sort((a, b) => (startedAt(a) ?? Infinity) - (startedAt(b) ?? Infinity));
  const first = sorted[0];
  if (first === undefined) throw new Error('no running task to kill');
  return first;
}

async function berthKills(b: BerthSide): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    await waitServiceStable(b.ecs, UPDATE_NAME, UPDATE_TASKS, SETTLE_TIMEOUT_MS);
    const tasks = await berthRunningTasks(b.ecs, UPDATE_NAME, UPDATE_TASKS);
    const victim = longestRunning(tasks, (t) => t.startedAt?.getTime()).taskArn!;
    const container = await containerOfTask(victim);
    const known = new Set(tasks.map((t) => t.taskArn!));
    const t0 = performance.now();
    await docker.getContainer(container).kill();
    let seen = '';
    await pollUntil(
      async () => {
        const fresh = (await listServiceTasks(b.ecs, UPDATE_NAME, 'RUNNING')).filter((a) => !known.has(a));
        if (fresh.length === 0) return ((seen = 'no new task yet'), undefined);
        const started = (await describeTasks(b.ecs, fresh)).filter((t) => t.lastStatus === 'RUNNING');
        if (started.length === 0) return ((seen = `${fresh.length} new task(s), none RUNNING`), undefined);
        const s = await describeService(b.ecs, UPDATE_NAME);
        seen = showService(s);
        return s.runningCount === s.desiredCount ? true : undefined;
      },
      {
        timeoutMs: KILL_TIMEOUT_MS,
        intervalMs: KILL_POLL_MS,
        deadline,
        describe: () => `a replacement for ${victim} RUNNING: ${seen}`,
      },
    );
    times.push(performance.now() - t0);
    // Untimed: the killed task must be seen STOPPED before the next kill.
    await waitForTasks(b.ecs, CLUSTER, [victim], 'STOPPED', {
      timeoutMs: SETTLE_TIMEOUT_MS,
      intervalMs: 100,
    });
  }
  return times;
}

/** Scales to 0 and deletes the service, then waits for every task it had to stop. */
async function berthRemoveService(b: BerthSide, name: string): Promise<void> {
  const arns = new Set(await listServiceTasks(b.ecs, name, 'RUNNING'));
  try {
    await b.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: name, desiredCount: 0 }));
    await b.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: name, force: true }));
  } catch (e) {
    // Never created (its phase failed before): only stray tasks could be left.
    if ((e as { name?: string }).name !== 'ServiceNotFoundException') throw e;
    if (arns.size === 0) return;
  }
  try {
    await pollUntil(
      async () => {
        const left = await listServiceTasks(b.ecs, name, 'RUNNING');
        left.forEach((a) => arns.add(a));
        return left.length === 0 ? true : undefined;
      },
      {
        // No deadline: teardown also runs once the run is out of time; it has its own bound.
        timeoutMs: SETTLE_TIMEOUT_MS,
        intervalMs: 200,
        describe: () => `${name}'s tasks to be stopped`,
      },
    );
  } catch (e) {
    // The scheduler did not stop them: stop them directly so the next phase starts clean.
    process.stderr.write(`warning: ${errorText(e)}; stopping the tasks with StopTask\n`);
    for (const task of await listServiceTasks(b.ecs, name, 'RUNNING'))
      await b.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task, reason: 'bench:service cleanup' }));
  }
  await waitForTasks(b.ecs, CLUSTER, [...arns], 'STOPPED', { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 200 });
}

async function berthRemoveDefinitions(b: BerthSide): Promise<void> {
  for (const arn of b.definitions)
    await b.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })).catch(() => undefined);
  if (b.definitions.length)
    await b.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: b.definitions }));
}

// ---------------------------------------------------------------------------------------------
// Docker Swarm, through the `docker service` CLI (changes) and the Docker API (polling).

interface SwarmSide {
  /** Swarm was inactive and this run initialised it: it leaves again at the end. */
  initialised: boolean;
  /** docker_gwbridge existed before `swarm init` (which creates it and `swarm leave` keeps it). */
  gwbridgeExisted: boolean;
  imageId: string;
}

interface SwarmTask {
  ID: string;
  CreatedAt?: string;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
  Spec: { ContainerSpec?: { Env?: string[] } };
}

interface SwarmService {
  UpdateStatus?: { State?: string; Message?: string };
}

async function networkExists(name: string): Promise<boolean> {
  try {
    await docker.getNetwork(name).inspect();
    return true;
  } catch {
    return false;
  }
}

async function joinSwarm(): Promise<SwarmSide> {
  const imageId = (await docker.getImage(busyboxImage).inspect()).Id;
  const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
  const state = info.Swarm?.LocalNodeState;
  if (state === 'active') {
    if (!info.Swarm?.ControlAvailable)
      throw new Error('this engine is a swarm worker, not a manager: it cannot create services');
    return { initialised: false, gwbridgeExisted: true, imageId };
  }
  if (state !== 'inactive') throw new Error(`the engine's swarm state is ${state}, not inactive or active`);
  const gwbridgeExisted = await networkExists('docker_gwbridge');
  await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377'], {
    timeout: 60_000,
  });
  return { initialised: true, gwbridgeExisted, imageId };
}

async function leaveSwarm(s: SwarmSide): Promise<void> {
  if (!s.initialised) return;
  await run('docker', ['swarm', 'leave', '--force'], { timeout: 60_000 });
  if (!s.gwbridgeExisted)
    await run('docker', ['network', 'rm', 'docker_gwbridge'], { timeout: 30_000 }).catch(() => undefined);
}

const swarmTasks = async (name: string): Promise<SwarmTask[]> =>
  (await docker.listTasks({ filters: { service: [name] } })) as SwarmTask[];

const isTaskRunning = (t: SwarmTask): boolean => t.DesiredState === 'running' && t.Status.State === 'running';
const hasEnv = (t: SwarmTask, kv: string): boolean => t.Spec.ContainerSpec?.Env?.includes(kv) === true;

function showTasks(tasks: SwarmTask[]): string {
  const byState = new Map<string, number>();
  for (const t of tasks) {
    const k = `${t.DesiredState}/${t.Status.State}`;
    byState.set(k, (byState.get(k) ?? 0) + 1);
  }
  const errors = [...new Set(tasks.map((t) => t.Status.Err).filter(Boolean))].slice(0, 3);
  return `tasks by desired/observed state ${JSON.stringify(Object.fromEntries(byState))}; errors ${JSON.stringify(errors)}`;
}

async function swarmCreate(s: SwarmSide, name: string, replicas: number): Promise<void> {
  await run(
    'docker',
    [
      'service',
      'create',
      '--detach',
      '--no-resolve-image',
      '--name',
      name,
      '--label',
      runLabel.label,
      '--container-label',
      runLabel.label,
      '--replicas',
      String(replicas),
      '--init',
      '--limit-memory',
      `${MEMORY_MIB}M`,
      '--stop-grace-period',
      '2s',
      '--restart-condition',
      'any',
      '--restart-delay',
      RESTART_DELAY,
      '--update-parallelism',
      String(UPDATE_TASKS),
      '--update-order',
      'start-first',
      '--update-monitor',
      UPDATE_MONITOR,
      '--env',
      'X=1',
      s.imageId,
      'sleep',
      '3600',
    ],
    { timeout: 60_000 },
  );
}

async function waitSwarmRunning(
  name: string,
  count: number,
  timeoutMs: number,
  intervalMs: number,
): Promise<void> {
  let last: SwarmTask[] = [];
  await pollUntil(
    async () => {
      last = await swarmTasks(name);
      const wanted = last.filter((t) => t.DesiredState === 'running');
      return wanted.length === count && wanted.every(isTaskRunning) ? true : undefined;
    },
    { timeoutMs, intervalMs, deadline, describe: () => `${count} ${name} tasks running: ${showTasks(last)}` },
  );
}

async function swarmRunningContainers(name: string): Promise<number> {
  const found = await docker.listContainers({
    filters: { label: [`com.docker.swarm.service.name=${name}`], status: ['running'] },
  });
  return found.length;
}

async function swarmConverge(s: SwarmSide): Promise<number> {
  const t0 = performance.now();
  await swarmCreate(s, CONVERGE_NAME, TASKS);
  await waitSwarmRunning(CONVERGE_NAME, TASKS, PHASE_TIMEOUT_MS, POLL_MS);
  const ms = performance.now() - t0;
  const n = await swarmRunningContainers(CONVERGE_NAME);
  if (n !== TASKS) throw new Error(`${CONVERGE_NAME}: ${TASKS} tasks running but ${n} containers`);
  return ms;
}

async function swarmUpdate(): Promise<UpdateResult> {
  const t0 = performance.now();
  await run(
    'docker',
    [
      'service',
      'update',
      '--detach',
      '--update-parallelism',
      String(UPDATE_TASKS),
      '--update-order',
      'start-first',
      '--update-monitor',
      UPDATE_MONITOR,
      '--env-add',
      'X=2',
      UPDATE_NAME,
    ],
    { timeout: 60_000 },
  );
  let replacedMs: number | undefined;
  let peakRunning = 0;
  let lowestRunning = Infinity;
  let lastTasks: SwarmTask[] = [];
  let lastState: string | undefined;
  await pollUntil(
    async () => {
      const [svc, tasks] = await Promise.all([
        docker.getService(UPDATE_NAME).inspect() as Promise<SwarmService>,
        swarmTasks(UPDATE_NAME),
      ]);
      lastTasks = tasks;
      lastState = svc.UpdateStatus?.State;
      if (lastState === 'paused' || lastState?.startsWith('rollback'))
        throw new Error(`the update is ${lastState}: ${svc.UpdateStatus?.Message}; ${showTasks(tasks)}`);
      const running = tasks.filter((t) => t.Status.State === 'running');
      peakRunning = Math.max(peakRunning, running.length);
      lowestRunning = Math.min(lowestRunning, running.length);
      const fresh = running.filter((t) => t.DesiredState === 'running' && hasEnv(t, 'X=2')).length;
      const old = running.length - running.filter((t) => hasEnv(t, 'X=2')).length;
      const replaced = fresh === UPDATE_TASKS && old === 0;
      if (replacedMs === undefined && replaced) replacedMs = performance.now() - t0;
      return replaced && lastState === 'completed' ? true : undefined;
    },
    {
      timeoutMs: PHASE_TIMEOUT_MS,
      intervalMs: POLL_MS,
      deadline,
      describe: () => `the update to complete: UpdateStatus ${lastState}; ${showTasks(lastTasks)}`,
    },
  );
  return { ms: performance.now() - t0, replacedMs, peakRunning, lowestRunning };
}

async function swarmKills(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    await waitSwarmRunning(UPDATE_NAME, UPDATE_TASKS, SETTLE_TIMEOUT_MS, POLL_MS);
    const tasks = await swarmTasks(UPDATE_NAME);
    const victim = longestRunning(tasks.filter(isTaskRunning), (t) =>
      t.CreatedAt ? Date.parse(t.CreatedAt) : undefined,
    );
    const container = victim.Status.ContainerStatus?.ContainerID;
    if (!container) throw new Error(`swarm task ${victim.ID} has no container`);
    const known = new Set(tasks.map((t) => t.ID));
    const t0 = performance.now();
    await docker.getContainer(container).kill();
    let last: SwarmTask[] = [];
    await pollUntil(
      async () => {
        last = await swarmTasks(UPDATE_NAME);
        const fresh = last.filter((t) => !known.has(t.ID) && isTaskRunning(t));
        return fresh.length > 0 && last.filter(isTaskRunning).length === UPDATE_TASKS ? true : undefined;
      },
      {
        timeoutMs: KILL_TIMEOUT_MS,
        intervalMs: KILL_POLL_MS,
        deadline,
        describe: () => `a replacement for swarm task ${victim.ID} running: ${showTasks(last)}`,
      },
    );
    times.push(performance.now() - t0);
  }
  return times;
}

/** `docker service rm`, then waits for the service's containers to be gone (force-removes stragglers). */
async function swarmRemoveService(name: string): Promise<void> {
  await run('docker', ['service', 'rm', name], { timeout: 60_000 }).catch((e: unknown) => {
    if (!/not found/i.test(errorText(e))) throw e;
  });
  const all = async (): Promise<string[]> =>
    (
      await docker.listContainers({
        all: true,
        filters: { label: [`com.docker.swarm.service.name=${name}`] },
      })
    ).map((c) => c.Id);
  try {
    await pollUntil(async () => ((await all()).length === 0 ? true : undefined), {
      timeoutMs: SETTLE_TIMEOUT_MS,
      intervalMs: 200,
      describe: () => `${name}'s containers to be removed`,
    });
  } catch (e) {
    process.stderr.write(`warning: ${errorText(e)}; removing them\n`);
    const left = await all();
    if (left.length) await run('docker', ['rm', '-f', ...left], { timeout: 120_000 });
  }
}

/** Every swarm service this run labelled, whatever state the run ended in. */
async function swarmRemoveLabelled(): Promise<void> {
  const { stdout } = await run('docker', ['service', 'ls', '-q', '--filter', `label=${runLabel.label}`], {
    timeout: 60_000,
  });
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return;
  const names = await Promise.all(
    ids.map(async (id) => ((await docker.getService(id).inspect()) as { Spec: { Name: string } }).Spec.Name),
  );
  for (const name of names) await swarmRemoveService(name);
}

// ---------------------------------------------------------------------------------------------
// Report.

const secs = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
const millis = (ms: number | undefined): string => (ms === undefined ? '-' : `${ms.toFixed(0)} ms`);

function cell<T>(o: Outcome<T> | undefined, show: (v: T) => string): string {
  if (!o) return 'not run';
  return o.ok ? show(o.value) : 'FAILED';
}

function line(label: string, berth: string, swarm: string, ratio: string, goal: string): void {
  console.log(
    `${label.padEnd(48)} ${berth.padStart(12)} ${swarm.padStart(12)} ${ratio.padStart(7)}   ${goal}`,
  );
}

function report(berth: Side, swarm: Side, engine: Side, machine: string): void {
  const both = <T>(b: Outcome<T> | undefined, s: Outcome<T> | undefined): [T, T] | undefined =>
    b?.ok && s?.ok ? [b.value, s.value] : undefined;
  const verdict = (met: boolean): string => (met ? 'MET' : 'NOT MET');
  console.log('');
  console.log(machine);
  console.log('');
  line('', 'berth', 'swarm', 'ratio', 'goal');

  const c = both(berth.converge, swarm.converge);
  const cRatio = c ? median(c[0]) / median(c[1]) : undefined;
  line(
    `1. converge a new service of ${TASKS} tasks${CONVERGE_ROUNDS > 1 ? `, median of ${CONVERGE_ROUNDS}` : ''}`,
    cell(berth.converge, (v) => secs(median(v))),
    cell(swarm.converge, (v) => secs(median(v))),
    cRatio === undefined ? '-' : cRatio.toFixed(2),
    `≤ 0.5${cRatio === undefined ? '' : ` ${verdict(cRatio <= 0.5)}`}`,
  );
  if (CONVERGE_ROUNDS > 1) {
    const rounds = (v: number[]): string => v.map((x) => (x / 1000).toFixed(2)).join(' ');
    if (berth.converge?.ok) console.log(`   berth rounds (s): ${rounds(berth.converge.value)}`);
    if (swarm.converge?.ok) console.log(`   swarm rounds (s): ${rounds(swarm.converge.value)}`);
    if (c)
      console.log(
        `   ratio by round: ${c[0].map((x, i) => (c[1][i] ? (x / c[1][i]).toFixed(2) : '-')).join(' ')}`,
      );
  }
  if (engine.converge) {
    // For scale: how far above the engine's own time each side is.
    const e = engine.converge;
    const over = (side: Side): string =>
      side.converge?.ok && e.ok ? `${(median(side.converge.value) / median(e.value)).toFixed(2)}×` : '-';
    console.log(
      e.ok
        ? `   engine alone, the same ${TASKS} containers created and started at once (s): ${e.value.map((x) => (x / 1000).toFixed(2)).join(' ')}; median ${secs(median(e.value))}: berth ${over(berth)}, swarm ${over(swarm)} of it`
        : `   engine alone: FAILED (${e.error})`,
    );
  }

  // maximumPercent 200 / minimumHealthyPercent 100 (start-first for Swarm) bound the number of
  // running tasks: an update that dips below the floor is faster for a reason that does not count.
  const maxRunning = Math.floor((UPDATE_TASKS * 200) / 100);
  const inBounds = (v: UpdateResult): boolean =>
    v.peakRunning <= maxRunning && v.lowestRunning >= UPDATE_TASKS;
  const u = both(berth.update, swarm.update);
  const uRatio = u ? u[0].ms / u[1].ms : undefined;
  line(
    `2. rolling update of ${UPDATE_TASKS} tasks (200% / 100%)`,
    cell(berth.update, (v) => secs(v.ms)),
    cell(swarm.update, (v) => secs(v.ms)),
    uRatio === undefined ? '-' : uRatio.toFixed(2),
    `≤ 1, in bounds${u && uRatio !== undefined ? ` ${verdict(uRatio <= 1 && inBounds(u[0]))}` : ''}`,
  );
  const uReplaced = u?.[0].replacedMs !== undefined && u[1].replacedMs !== undefined;
  line(
    '   of which: all new running, no old running',
    cell(berth.update, (v) => secs(v.replacedMs)),
    cell(swarm.update, (v) => secs(v.replacedMs)),
    uReplaced ? (u[0].replacedMs! / u[1].replacedMs!).toFixed(2) : '-',
    '',
  );
  const bounds = (v: UpdateResult): string =>
    `${inBounds(v) ? '' : '(!) '}${v.peakRunning} / ${v.lowestRunning}`;
  line(
    '   running tasks seen, highest / lowest',
    cell(berth.update, bounds),
    cell(swarm.update, bounds),
    '',
    `bounds ≤ ${maxRunning} / ≥ ${UPDATE_TASKS}`,
  );

  const k = both(berth.kills, swarm.kills);
  const bKill = berth.kills?.ok ? median(berth.kills.value) : undefined;
  const sKill = swarm.kills?.ok ? median(swarm.kills.value) : undefined;
  const kRatio = k ? bKill! / sKill! : undefined;
  const kGoal =
    bKill === undefined ? '' : ` ${verdict(bKill < 2000 && (sKill === undefined || bKill < sKill))}`;
  line(
    `3. killed task → replacement RUNNING, median of ${KILLS}`,
    cell(berth.kills, (v) => millis(median(v))),
    cell(swarm.kills, (v) => millis(median(v))),
    kRatio === undefined ? '-' : kRatio.toFixed(2),
    `< 2000 ms and < swarm${kGoal}`,
  );
  for (const [name, o] of [
    ['berth', berth.kills],
    ['swarm', swarm.kills],
  ] as const) {
    if (o?.ok) console.log(`   ${name} runs (ms): ${o.value.map((v) => v.toFixed(0)).join(' ')}`);
  }

  if (quietWaits.length) console.log(`   waits for a quiet machine: ${quietWaits.join(', ')}`);

  const failures: string[] = [];
  for (const [who, side] of [
    ['berth', berth],
    ['swarm', swarm],
  ] as const) {
    for (const phase of ['converge', 'update', 'kills'] as const) {
      const o = side[phase];
      if (o && !o.ok) failures.push(`${who} ${phase}: ${o.error}`);
    }
  }
  if (failures.length) {
    console.log('');
    for (const f of failures) console.log(`FAILED ${f}`);
  }
}

/** For a Berth phase that failed: whether `berth up` still runs, and the end of its log (warn and up). */
function upState(up: UpProcess): string {
  const p = up.proc;
  const state =
    p.exitCode === null && p.signalCode === null
      ? 'still running'
      : `exited (${String(p.exitCode ?? p.signalCode)})`;
  const tail = up.output().trimEnd().split('\n').slice(-30).join('\n   ');
  return `berth up: ${state}; the end of its output:\n   ${tail}`;
}

async function machineNote(load: string): Promise<string> {
  const v = (await docker.version()) as { Version?: string; ApiVersion?: string };
  const cpu = cpus();
  return [
    `bench:service on this machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown cpu'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${load} at the start (an idle machine is near 0)`,
    `both against the same Docker engine ${v.Version ?? '?'} (API ${v.ApiVersion ?? '?'}): Berth's agent runs its tasks there, Swarm is its built-in orchestrator`,
    `workload: ${busyboxImage} \`sleep 3600\` with an init process, ${MEMORY_MIB} MiB memory limit, image local; network: Berth ${BERTH_NETWORK === 'awsvpc' ? "awsvpc (a namespace and an address per task on the agent's task bridge)" : "bridge (Docker's default bridge)"}, Swarm its default (a namespace per task on Docker's bridge)`,
    `swarm: image by local id (no registry), --restart-delay ${RESTART_DELAY} (stock 5s; Berth: none), --update-monitor ${UPDATE_MONITOR} (stock 5s; Berth's task stability window: 5 s)`,
    `polling every ${POLL_MS} ms (converge, update) and ${KILL_POLL_MS} ms (kills) on both sides`,
    "before each timed phase, a wait until the CPUs are under 10% busy (so one phase's teardown is not billed to the next)",
  ].join('\n');
}

/**
 * The floor under both sides, for scale (not a goal): the same containers (image, command,
 * init, memory limit, no network of their own, as Berth's awsvpc containers are made) created and
 * started through the Docker API all at once, until every start returned. Nothing schedules,
 * plumbs or reports them.
 */
async function engineConverge(label: { key: string; value: string }): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: TASKS }, async () => {
      const c = await docker.createContainer({
        Image: busyboxImage,
        Cmd: ['sleep', '3600'],
        Labels: { [label.key]: label.value },
        NetworkDisabled: true,
        HostConfig: { Init: true, Memory: MEMORY_MIB * 1024 * 1024, NetworkMode: 'none' },
      });
      await c.start();
    }),
  );
  return performance.now() - t0;
}

/**
 * One converge round of a side: timed, its time added to the side's list (a failure ends the
 * side's rounds), then its teardown whatever happened.
 */
async function convergeRound(
  side: Side,
  what: string,
  fn: () => Promise<number>,
  teardown: { what: string; run: () => Promise<void> },
): Promise<void> {
  if (side.converge?.ok === false) return;
  const before = side.converge?.ok ? side.converge.value : [];
  const r = await attempt(what, fn, { timed: true });
  side.converge = r.ok ? { ok: true, value: [...before, r.value] } : r;
  await bestEffort(teardown.what, teardown.run);
}

async function main(): Promise<void> {
  const berthResults: Side = {};
  const swarmResults: Side = {};
  const engineResults: Side = {};
  let b: BerthSide | undefined;
  let s: SwarmSide | undefined;
  let up: UpProcess | undefined;
  // Taken before this run adds its own load: other work on the machine skews both sides.
  const startLoad = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  try {
    await ensureBusyboxImage();
    if (DO_BERTH) {
      up = await startBerthUp();
      b = { ecs: ecsClient(up.url), up, definitions: [] };
    }
    if (DO_SWARM) s = await joinSwarm();
    const note = await machineNote(startLoad);

    // Converge rounds interleave the sides, so a drift of the machine's speed during the run
    // (seen here: a quarter either way between runs minutes apart) lands on both.
    const first = b ? await registerDefinition(b, '1') : undefined;
    for (let round = 1; round <= CONVERGE_ROUNDS; round++) {
      const of = CONVERGE_ROUNDS > 1 ? ` (round ${round} of ${CONVERGE_ROUNDS})` : '';
      if (b && first) {
        const bb = b;
        await convergeRound(berthResults, `berth: converge${of}`, () => berthConverge(bb, first), {
          what: 'removing the berth converge service',
          run: () => berthRemoveService(bb, CONVERGE_NAME),
        });
      }
      if (s) {
        const ss = s;
        await convergeRound(swarmResults, `swarm: converge${of}`, () => swarmConverge(ss), {
          what: 'removing the swarm converge service',
          run: () => swarmRemoveService(CONVERGE_NAME),
        });
      }
      if (ENGINE_FLOOR) {
        const label = { key: runLabel.key, value: `${runLabel.value}-engine` };
        await convergeRound(engineResults, `engine alone: converge${of}`, () => engineConverge(label), {
          what: 'removing the engine-floor containers',
          run: () => removeContainersLabelled(`${label.key}=${label.value}`),
        });
      }
    }

    if (b) {
      const bb = b;
      const first = b.definitions[0]!;
      const ready = await attempt('berth: update set-up', async () => {
        await createService(bb, UPDATE_NAME, first, UPDATE_TASKS);
        await waitServiceStable(bb.ecs, UPDATE_NAME, UPDATE_TASKS, SETTLE_TIMEOUT_MS);
        await berthRunningTasks(bb.ecs, UPDATE_NAME, UPDATE_TASKS, first);
      });
      if (ready.ok) {
        berthResults.update = await attempt('berth: rolling update', () => berthUpdate(bb), { timed: true });
        berthResults.kills = await attempt('berth: kills', () => berthKills(bb), { timed: true });
      } else {
        berthResults.update = berthResults.kills = { ok: false, error: `set-up: ${ready.error}` };
      }
      await bestEffort('removing the berth update service', () => berthRemoveService(bb, UPDATE_NAME));
    }
    if (s) {
      const ss = s;
      const ready = await attempt('swarm: update set-up', async () => {
        await swarmCreate(ss, UPDATE_NAME, UPDATE_TASKS);
        await waitSwarmRunning(UPDATE_NAME, UPDATE_TASKS, SETTLE_TIMEOUT_MS, POLL_MS);
      });
      if (ready.ok) {
        swarmResults.update = await attempt('swarm: rolling update', () => swarmUpdate(), { timed: true });
        swarmResults.kills = await attempt('swarm: kills', () => swarmKills(), { timed: true });
      } else {
        swarmResults.update = swarmResults.kills = { ok: false, error: `set-up: ${ready.error}` };
      }
      await bestEffort('removing the swarm update service', () => swarmRemoveService(UPDATE_NAME));
    }

    report(berthResults, swarmResults, engineResults, note);
    if (up && (['converge', 'update', 'kills'] as const).some((p) => berthResults[p]?.ok === false)) {
      console.log(upState(up));
    }
  } finally {
    if (s) await bestEffort('removing swarm services', swarmRemoveLabelled);
    if (b) {
      const bb = b;
      await bestEffort('removing task definitions', () => berthRemoveDefinitions(bb));
      b.ecs.destroy();
    }
    if (up) {
      const u = up;
      await bestEffort('stopping berth up', async () => void (await u.stop()));
      await bestEffort('cleaning up after berth up', () => u.cleanup());
    }
    await removeContainersLabelled(runLabel.label);
    if (s) {
      const ss = s;
      await bestEffort('leaving the swarm', () => leaveSwarm(ss));
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
