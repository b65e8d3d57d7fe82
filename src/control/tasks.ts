// The control-plane side of tasks: the store writes that place, stop and advance them. Used by
// the API (RunTask, StartTask, StopTask, Submit*StateChange) and by the agent gateway
// (applyTaskReport for every report, buildAgentTask for what an agent is sent).
//
// Every write that touches a host's capacity is ONE transaction with compare-and-set on both
// the host record and the task record:
//   placement   host: remaining − reservation, pendingTasksCount + 1     task: created (version 0)
//   report      host: counts follow the task's phase; at STOPPED the     task: the report applied
//               reservation comes back, once (berth.released)
// A transaction that loses a race is retried on fresh state, so concurrent RunTasks never
// overcommit a host and a reservation is never given back twice.
//
// Hosts: EC2 / EXTERNAL tasks run on container instances (keys.containerInstance, resources in
// remainingResources); FARGATE tasks on managed hosts (keys.managedHost, global, cpu and memory
// only), named by the task's berth.managedHostId.
import type { Logger } from 'pino';
import { parseArn, parseTaskDefinitionRef, type Scope } from '../domain/arn.js';
import type { Clock } from '../domain/clock.js';
import type { AgentTask, TaskStateReport } from '../domain/agent-protocol.js';
import { taskCountPhase, type TaskCountPhase } from '../domain/cluster/activity.js';
import type {
  ContainerInstanceRecord,
  ManagedHostRecord,
  TaskDefinitionRecord,
  TaskRecord,
} from '../domain/records.js';
import { applyTaskStateReport } from '../domain/task/apply-report.js';
import type { TaskHost } from '../domain/task/build-task.js';
import {
  instanceRemaining,
  releaseOnInstance,
  releaseOnManaged,
  reserveOnInstance,
  reserveOnManaged,
  type TaskReservation,
} from '../domain/task/resources.js';
import { requestTaskStop } from '../domain/task/stop.js';
import type { TaskStopCode } from '../generated/ecs/types.js';
import { planPlacements, type FitCandidate } from '../scheduler/fit.js';
import { ConflictError, updateRecord } from '../store/cas.js';
import { keys } from '../store/keys.js';
import type { Compare, Op, Store, StoredRecord } from '../store/store.js';

export interface TaskDeps {
  store: Store;
  clock: Clock;
  log: Logger;
}

/**
 * Attempts at one compare-and-set write before giving up. Each lost attempt means another
 * writer succeeded, so N concurrent writers on one host need at most N attempts; this covers
 * bursts far larger than any one host sees.
 */
export const MAX_COMMIT_ATTEMPTS = 64;

// ---------------------------------------------------------------------------------------------
// Hosts

type HostValue =
  { kind: 'instance'; value: ContainerInstanceRecord } | { kind: 'managed'; value: ManagedHostRecord };

interface HostState {
  id: string;
  key: string;
  version: number;
  host: HostValue;
}

/** A host that placement put a task on, or that refused one, as the API reports it. */
export type PlacedHost = TaskHost & { id: string };

function instanceState(rec: StoredRecord<ContainerInstanceRecord>): HostState {
  const arn = rec.value.containerInstanceArn;
  return {
    id: arn.slice(arn.lastIndexOf('/') + 1),
    key: rec.key,
    version: rec.version,
    host: { kind: 'instance', value: rec.value },
  };
}

function managedState(rec: StoredRecord<ManagedHostRecord>): HostState {
  return {
    id: rec.value.hostId,
    key: rec.key,
    version: rec.version,
    host: { kind: 'managed', value: rec.value },
  };
}

function availabilityZoneOf(h: HostValue): string | undefined {
  if (h.kind === 'managed') return h.value.availabilityZone;
  return h.value.attributes?.find((a) => a.name === 'ecs.availability-zone')?.value;
}

function placedHost(s: HostState): PlacedHost {
  const az = availabilityZoneOf(s.host);
  const zone = az !== undefined ? { availabilityZone: az } : {};
  return s.host.kind === 'instance'
    ? { kind: 'instance', id: s.id, containerInstanceArn: s.host.value.containerInstanceArn, ...zone }
    : { kind: 'managed', id: s.id, managedHostId: s.host.value.hostId, ...zone };
}

function candidateOf(s: HostState): FitCandidate {
  const h = s.host;
  const taskCount = (h.value.runningTasksCount ?? 0) + (h.value.pendingTasksCount ?? 0);
  if (h.kind === 'managed') {
    return {
      id: s.id,
      status: 'ACTIVE',
      agentConnected: h.value.agentConnected,
      taskCount,
      remaining: { ...h.value.remaining, ports: new Set(), portsUdp: new Set() },
    };
  }
  return {
    id: s.id,
    status: h.value.status ?? 'ACTIVE',
    agentConnected: h.value.agentConnected === true,
    taskCount,
    remaining: instanceRemaining(h.value.remainingResources),
  };
}

export interface HostChange {
  /** The task's counting phase before and after (domain/cluster/activity.ts). */
  from?: TaskCountPhase;
  to?: TaskCountPhase;
  reserve?: TaskReservation;
  release?: TaskReservation;
}

function countsAfter(
  counts: { runningTasksCount?: number; pendingTasksCount?: number },
  change: HostChange,
): { runningTasksCount: number; pendingTasksCount: number } {
  let running = counts.runningTasksCount ?? 0;
  let pending = counts.pendingTasksCount ?? 0;
  if (change.from === 'RUNNING') running--;
  if (change.from === 'PENDING') pending--;
  if (change.to === 'RUNNING') running++;
  if (change.to === 'PENDING') pending++;
  return { runningTasksCount: Math.max(0, running), pendingTasksCount: Math.max(0, pending) };
}

/** A host record after a task was placed on it or changed phase on it. Pure. */
export function hostAfterTaskChange<T extends HostValue>(h: T, change: HostChange, now: number): T['value'] {
  if (h.kind === 'managed') {
    const v = h.value as ManagedHostRecord;
    let remaining = { ...v.remaining };
    if (change.reserve) remaining = reserveOnManaged(remaining, change.reserve);
    if (change.release) remaining = releaseOnManaged(remaining, v.registered, change.release);
    return { ...v, ...countsAfter(v, change), remaining, updatedAt: now };
  }
  const v = h.value as ContainerInstanceRecord;
  let remaining = v.remainingResources ?? [];
  if (change.reserve) remaining = reserveOnInstance(remaining, change.reserve);
  if (change.release) remaining = releaseOnInstance(remaining, v.registeredResources, change.release);
  return { ...v, ...countsAfter(v, change), remainingResources: remaining, version: (v.version ?? 0) + 1 };
}

/** Where a task's host record lives: its managed host, else its container instance. */
export function hostKeyOfTask(task: TaskRecord): { kind: 'instance' | 'managed'; key: string } | undefined {
  if (task.berth?.managedHostId !== undefined)
    return { kind: 'managed', key: keys.managedHost(task.berth.managedHostId) };
  if (task.containerInstanceArn === undefined) return undefined;
  const p = parseArn(task.containerInstanceArn);
  if (!p || p.resourceType !== 'container-instance' || p.parts.length !== 2) return undefined;
  return {
    kind: 'instance',
    key: keys.containerInstance({ account: p.account, region: p.region }, p.parts[0]!, p.parts[1]!),
  };
}

// ---------------------------------------------------------------------------------------------
// Placement

export type PlacementTarget =
  /** A cluster's container instances: every ACTIVE one, or exactly the named ones (any status). */
  | { kind: 'instances'; scope: Scope; cluster: string; instanceIds?: readonly string[] }
  /** Managed (FARGATE) capacity. */
  | { kind: 'managed' };

export interface PlacementRequest {
  target: PlacementTarget;
  count: number;
  reservation: TaskReservation;
  /** Store key of the index-th task. */
  taskKey(index: number): string;
  /** The index-th task as placed on `host` (pure; may be called more than once per index). */
  buildTask(index: number, host: PlacedHost): TaskRecord;
  /**
   * Task keys may already hold the task from an earlier run of the same request (RunTask with a
   * clientToken): such a task is taken as placed instead of placing another.
   */
  resumable?: boolean;
}

export interface PlacementResult {
  tasks: TaskRecord[];
  /** Why each host refused the first task that fit nowhere (empty when every task was placed). */
  rejections: { host: PlacedHost; reason: string }[];
  /** There was no candidate host at all (no ACTIVE instance, no managed host). */
  noHosts: boolean;
}

async function loadHosts(store: Store, target: PlacementTarget): Promise<HostState[]> {
  let states: HostState[];
  if (target.kind === 'managed') {
    states = (await store.list<ManagedHostRecord>(keys.managedHosts())).map(managedState);
  } else if (target.instanceIds !== undefined) {
    const recs = await store.getMany<ContainerInstanceRecord>(
      target.instanceIds.map((id) => keys.containerInstance(target.scope, target.cluster, id)),
    );
    states = recs
      .filter((r): r is StoredRecord<ContainerInstanceRecord> => r !== undefined)
      .map(instanceState);
  } else {
    states = (
      await store.list<ContainerInstanceRecord>(
        keys.containerInstancesOfCluster(target.scope, target.cluster),
      )
    )
      .filter((r) => r.value.status === 'ACTIVE')
      .map(instanceState);
  }
  return states.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Places `count` tasks one by one: plan on the current snapshot, commit host and task in one
 * transaction, re-read the hosts when a commit loses a race. Stops at the first task that fits
 * nowhere (ECS places what fits and reports the rest in `failures`).
 */
export async function placeTasks(deps: TaskDeps, req: PlacementRequest): Promise<PlacementResult> {
  const { store } = deps;
  let hosts = await loadHosts(store, req.target);
  const tasks: TaskRecord[] = [];
  for (let index = 0; index < req.count; index++) {
    const taskKey = req.taskKey(index);
    if (req.resumable) {
      const existing = await store.get<TaskRecord>(taskKey);
      if (existing) {
        tasks.push(existing.value);
        continue;
      }
    }
    let placed = false;
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS && !placed; attempt++) {
      if (hosts.length === 0) return { tasks, rejections: [], noHosts: true };
      const plan = planPlacements(hosts.map(candidateOf), req.reservation, 1);
      const chosenId = plan.placements[0];
      if (chosenId === undefined) {
        const byId = new Map(hosts.map((h) => [h.id, h]));
        return {
          tasks,
          rejections: plan.rejections.map((r) => ({
            host: placedHost(byId.get(r.hostId)!),
            reason: r.reason,
          })),
          noHosts: false,
        };
      }
      const host = hosts.find((h) => h.id === chosenId)!;
      const task = req.buildTask(index, placedHost(host));
      const nextHost = hostAfterTaskChange(
        host.host,
        { to: taskCountPhase(task), reserve: req.reservation },
        deps.clock.now(),
      );
      const r = await store.txn(
        [
          { key: host.key, version: host.version },
          { key: taskKey, version: 0 },
        ],
        [
          { kind: 'put', key: host.key, value: nextHost },
          { kind: 'put', key: taskKey, value: task },
        ],
      );
      if (r.succeeded) {
        host.version = r.revision;
        host.host = { kind: host.host.kind, value: nextHost } as HostValue;
        tasks.push(task);
        placed = true;
        deps.log.debug({ taskArn: task.taskArn, host: host.id, attempt }, 'task placed');
        break;
      }
      const existing = await store.get<TaskRecord>(taskKey);
      if (existing) {
        // The same request ran concurrently (same clientToken) and placed this task first.
        tasks.push(existing.value);
        placed = true;
        break;
      }
      hosts = await loadHosts(store, req.target);
    }
    if (!placed) throw new ConflictError(taskKey, MAX_COMMIT_ATTEMPTS);
  }
  return { tasks, rejections: [], noHosts: false };
}

// ---------------------------------------------------------------------------------------------
// Reports from agents

/** The store key of a task from its ARN (`task/<cluster>/<id>`), or undefined for anything else. */
export function taskKeyFromArn(taskArn: string): string | undefined {
  const p = parseArn(taskArn);
  if (!p || p.service !== 'ecs' || p.resourceType !== 'task' || p.parts.length !== 2) return undefined;
  const [cluster, id] = p.parts as [string, string];
  if (cluster === '' || id === '') return undefined;
  return keys.task({ account: p.account, region: p.region }, cluster, id);
}

/**
 * Applies an agent's report to its task (forward only: a repeated or older report changes
 * nothing and still counts as applied). When the task changes counting phase the host's
 * running/pending counts follow, and when it reaches STOPPED its reservation goes back to the
 * host, exactly once, all in the same transaction as the task update.
 * Unknown task → applied: false (the report can be dropped). Throws ConflictError only when
 * every attempt lost a race (the caller keeps the report and retries later).
 */
export async function applyTaskReport(
  deps: { store: Store; clock: Clock; log: Logger },
  report: TaskStateReport,
): Promise<{ applied: boolean; error?: string }> {
  const key = taskKeyFromArn(report.taskArn);
  if (key === undefined) return { applied: false, error: `'${report.taskArn}' is not a task ARN` };
  for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
    const cur = await deps.store.get<TaskRecord>(key);
    if (!cur) return { applied: false, error: `task ${report.taskArn} was not found` };
    const now = deps.clock.now();
    const outcome = applyTaskStateReport(cur.value, report, now);
    if (!outcome.changed) return { applied: true };

    let next = outcome.task;
    const releaseNow = outcome.reachedStopped && cur.value.berth?.released !== true;
    if (releaseNow) next = { ...next, berth: { ...next.berth, released: true } };
    const change: HostChange = {
      from: taskCountPhase(cur.value),
      to: taskCountPhase(next),
      ...(releaseNow && cur.value.berth?.reserved ? { release: cur.value.berth.reserved } : {}),
    };

    const compares: Compare[] = [{ key, version: cur.version }];
    const ops: Op[] = [{ kind: 'put', key, value: next }];
    const hostKey = hostKeyOfTask(cur.value);
    if (hostKey && (change.from !== change.to || change.release)) {
      const hostRec = await deps.store.get<ContainerInstanceRecord | ManagedHostRecord>(hostKey.key);
      if (hostRec) {
        const host = { kind: hostKey.kind, value: hostRec.value } as HostValue;
        compares.push({ key: hostKey.key, version: hostRec.version });
        ops.push({ kind: 'put', key: hostKey.key, value: hostAfterTaskChange(host, change, now) });
      }
    }
    const r = await deps.store.txn(compares, ops);
    if (r.succeeded) {
      deps.log.debug(
        { taskArn: report.taskArn, lastStatus: next.lastStatus, released: releaseNow, attempt },
        'task report applied',
      );
      return { applied: true };
    }
  }
  throw new ConflictError(key, MAX_COMMIT_ATTEMPTS);
}

// ---------------------------------------------------------------------------------------------
// Stopping

/**
 * Asks the task at `key` to stop (desiredStatus STOPPED with stopCode and reason; the first
 * request wins). Returns the task as stored afterwards, or undefined when there is no such task.
 */
export async function stopTask(
  deps: TaskDeps,
  key: string,
  req: { stopCode?: TaskStopCode; reason?: string },
): Promise<TaskRecord | undefined> {
  return updateRecord<TaskRecord>(deps.store, key, (cur) =>
    cur ? requestTaskStop(cur, { ...req, now: deps.clock.now() }) : undefined,
  );
}

// ---------------------------------------------------------------------------------------------
// What agents are sent

function agentLaunchType(t: TaskRecord): AgentTask['launchType'] {
  return t.launchType === 'FARGATE' || t.launchType === 'EXTERNAL' ? t.launchType : 'EC2';
}

/** Everything an agent needs to run the task, built from the task and its task definition. */
export async function buildAgentTask(
  deps: { store: Store },
  taskRecord: StoredRecord<TaskRecord>,
): Promise<AgentTask> {
  const t = taskRecord.value;
  const arn = parseArn(t.taskArn);
  const tdRef = t.taskDefinitionArn === undefined ? undefined : parseTaskDefinitionRef(t.taskDefinitionArn);
  const tdArn = t.taskDefinitionArn === undefined ? undefined : parseArn(t.taskDefinitionArn);
  if (!arn || !tdRef || tdRef.revision === undefined || !tdArn) {
    throw new Error(`task ${t.taskArn} has no usable task definition ARN (${String(t.taskDefinitionArn)})`);
  }
  const td = await deps.store.get<TaskDefinitionRecord>(
    keys.taskDefinition({ account: tdArn.account, region: tdArn.region }, tdRef.family, tdRef.revision),
  );
  if (!td) throw new Error(`task definition ${t.taskDefinitionArn} of task ${t.taskArn} is not in the store`);
  const { tags: _tags, ...taskDefinition } = td.value;
  const containerArns: Record<string, string> = {};
  for (const c of t.containers ?? []) if (c.name && c.containerArn) containerArns[c.name] = c.containerArn;
  const eniAttachmentId = t.attachments?.find((a) => a.type === 'ElasticNetworkInterface')?.id;
  return {
    taskArn: t.taskArn,
    clusterArn: t.clusterArn,
    account: arn.account,
    region: arn.region,
    version: taskRecord.version,
    desiredStatus: t.desiredStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    ...(t.stopCode !== undefined ? { stopCode: t.stopCode } : {}),
    ...(t.stoppedReason !== undefined ? { stoppedReason: t.stoppedReason } : {}),
    launchType: agentLaunchType(t),
    ...(t.containerInstanceArn !== undefined ? { containerInstanceArn: t.containerInstanceArn } : {}),
    ...(t.availabilityZone !== undefined ? { availabilityZone: t.availabilityZone } : {}),
    taskDefinition,
    overrides: t.overrides ?? {},
    ...(t.cpu !== undefined ? { cpu: t.cpu } : {}),
    ...(t.memory !== undefined ? { memory: t.memory } : {}),
    containerArns,
    ...(t.berth?.awsvpcConfiguration ? { awsvpcConfiguration: t.berth.awsvpcConfiguration } : {}),
    ...(eniAttachmentId !== undefined ? { eniAttachmentId } : {}),
    ...(t.group !== undefined ? { group: t.group } : {}),
    ...(t.startedBy !== undefined ? { startedBy: t.startedBy } : {}),
    tags: t.tags ?? [],
    createdAt: t.createdAt ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Tasks of a host (what a (re)connecting agent is sent)

function isActiveOn(t: TaskRecord): boolean {
  return t.lastStatus !== 'STOPPED';
}

/** Tasks placed on a container instance that are not STOPPED yet. */
export async function listActiveTasksOnInstance(
  deps: { store: Store },
  containerInstanceArn: string,
): Promise<StoredRecord<TaskRecord>[]> {
  const p = parseArn(containerInstanceArn);
  if (!p || p.resourceType !== 'container-instance' || p.parts.length !== 2) return [];
  const tasks = await deps.store.list<TaskRecord>(
    keys.tasksOfCluster({ account: p.account, region: p.region }, p.parts[0]!),
  );
  return tasks.filter((r) => r.value.containerInstanceArn === containerInstanceArn && isActiveOn(r.value));
}

const TASK_KEY = /^\/[^/]+\/[^/]+\/tasks\//;

/**
 * Tasks placed on a managed host that are not STOPPED yet. Managed hosts serve every account and
 * region, and tasks are stored per account and region, so this reads the whole store: fine for
 * `berth up`'s single host; an index comes when managed capacity grows beyond a few hosts.
 */
export async function listActiveTasksOnManagedHost(
  deps: { store: Store },
  hostId: string,
): Promise<StoredRecord<TaskRecord>[]> {
  const all = await deps.store.list<TaskRecord>('/');
  return all.filter(
    (r) => TASK_KEY.test(r.key) && r.value.berth?.managedHostId === hostId && isActiveOn(r.value),
  );
}
