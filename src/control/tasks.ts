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
//
// Which container instance: the placement engine (src/scheduler/engine.ts) plans on a snapshot of
// the cluster's instances and the groups of their tasks; one PlacementSession serves a request
// (one per capacity provider share) as long as its commits succeed, since it booked exactly what
// the store now holds, and every session is rebuilt from fresh records after a lost
// compare-and-set. Managed hosts keep the plain fit (src/scheduler/fit.ts): they have no
// attributes to constrain, and their tasks belong to every account.
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
import type { Resource, TaskStopCode } from '../generated/ecs/types.js';
import { isInInstanceGroup, type InstanceGroup } from '../scheduler/capacity-provider-instances.js';
import { PlacementSession, type PlacementFailure, type TaskPlacementRequest } from '../scheduler/engine.js';
import { planPlacements, type FitCandidate } from '../scheduler/fit.js';
import {
  DEFAULT_TASK_STRATEGY,
  parsePlacementStrategies,
  type ConstraintSpec,
  type StrategySpec,
} from '../scheduler/placement-spec.js';
import { seedFromString, seededRng } from '../scheduler/rng.js';
import type { VersionedInstance, ViewEntry } from '../scheduler/cluster-view.js';
import type { PlacementInstance } from '../scheduler/snapshot.js';
import { gpuIdsPerContainer } from '../scheduler/task-request.js';
import { ConflictError, updateRecord } from '../store/cas.js';
import { PlacementViews } from './placement-views.js';
import { keys } from '../store/keys.js';
import type { Compare, Op, Store, StoredRecord } from '../store/store.js';
import { MAX_TXN_OPS } from '../store/txn-rules.js';

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
  /** GPU ids placement gave the task (taken out of the instance's free GPU set). */
  reserveGpuIds?: readonly string[];
  /** GPU ids of a stopped task (back into the free set, if the instance still registers them). */
  releaseGpuIds?: readonly string[];
}

/** The instance's free GPU ids (remainingResources GPU) after a task took or gave back some. */
function gpusAfter(
  remaining: Resource[],
  registered: readonly Resource[] | undefined,
  change: HostChange,
): Resource[] {
  const take = change.reserveGpuIds ?? [];
  const give = change.releaseGpuIds ?? [];
  if (take.length === 0 && give.length === 0) return remaining;
  const known = new Set(registered?.find((r) => r.name === 'GPU')?.stringSetValue ?? []);
  return remaining.map((r) => {
    if (r.name !== 'GPU') return r;
    const free = new Set(r.stringSetValue ?? []);
    for (const id of take) free.delete(id);
    for (const id of give) if (known.has(id)) free.add(id);
    return { ...r, stringSetValue: [...known].filter((id) => free.has(id)) };
  });
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
  remaining = gpusAfter(remaining, v.registeredResources, change);
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
  /**
   * A cluster's container instances: every registered one (INACTIVE left out), or exactly the
   * named ones (any status). Only ACTIVE instances with a connected agent take tasks; the others
   * are judged all the same, so that failures say why each instance refused.
   */
  | { kind: 'instances'; scope: Scope; cluster: string; instanceIds?: readonly string[] }
  /** Managed (FARGATE) capacity. */
  | { kind: 'managed' };

/** How the engine chooses among container instances (managed capacity ignores it). */
export interface InstancePlacement {
  /**
   * The tasks' group: `service:<name>` for a service's tasks, else RunTask's group or
   * `family:<family>`. spread, distinctInstance and `task:group` count tasks by it.
   */
  group: string;
  constraints?: readonly ConstraintSpec[];
  /** In order, at most 5; absent: DEFAULT_TASK_STRATEGY (spread over instances). */
  strategies?: readonly StrategySpec[];
  /** The task definition's requiresAttributes. */
  requiredAttributes?: readonly { name: string; value?: string }[];
  /** GPUs per container (gpuRequirements); the task needs their sum, each container gets its ids. */
  gpus?: readonly { container: string; count: number }[];
  /** Seeds `random` and random tie-breaks (e.g. the request id). */
  seed?: string;
  /** The capacity provider whose instances the index-th task must run on; undefined: any instance. */
  instanceGroupOf?(index: number): InstanceGroup | undefined;
}

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
  /** Container instances only. Absent: DEFAULT_TASK_STRATEGY, no constraints, the group ''. */
  placement?: InstancePlacement;
}

export interface PlacementRejection {
  host: PlacedHost;
  reason: string;
  /** The end of a sentence about the host ("has insufficient memory available."). */
  detail?: string;
}

export interface PlacementResult {
  tasks: TaskRecord[];
  /**
   * Why each host refused the first task that fit nowhere (empty when every task was placed);
   * with several capacity provider shares, the hosts of each share that failed.
   */
  rejections: PlacementRejection[];
  /** There was no candidate host at all (no ACTIVE instance, no managed host). */
  noHosts: boolean;
  /** Tasks not placed. */
  unplaced?: number;
  /** The engine's account of the first task that fit nowhere (service events name its closest instance). */
  failure?: PlacementFailure;
  /** Capacity providers of the request that have no registered container instance. */
  providersWithoutInstances?: string[];
}

/** Managed hosts, sorted by id. */
async function loadManagedHosts(store: Store): Promise<HostState[]> {
  const states = (await store.list<ManagedHostRecord>(keys.managedHosts())).map(managedState);
  return states.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Places `count` tasks: plan on a snapshot, commit hosts and tasks together with compare-and-set,
 * plan again on fresh state when a commit loses a race (placeShare). Stops at the first task that
 * fits nowhere (ECS places what fits and reports the rest in `failures`); with capacity provider
 * shares, at the first task of each share that fits nowhere. Managed hosts: one task per commit.
 */
export async function placeTasks(deps: TaskDeps, req: PlacementRequest): Promise<PlacementResult> {
  const target = req.target;
  if (target.kind === 'managed') return placeOnManagedHosts(deps, req);
  // Read on arrival: every write acknowledged before this request is at or below it, so the
  // plan sees them however long the request waits for its turn.
  const arrival = await deps.store.revision();
  return PlacementViews.of(deps.store).exclusive(target.scope, target.cluster, () =>
    placeOnInstances(deps, req, target, arrival),
  );
}

/**
 * Commits one task placed on a managed host: host and task in one transaction, compare-and-set
 * on both. Lost → the task if the same request (clientToken) placed it meanwhile.
 */
async function commitPlacement(
  deps: TaskDeps,
  host: { key: string; version: number; next: unknown },
  taskKey: string,
  task: TaskRecord,
): Promise<{ committed: true; revision: number } | { committed: false; existing?: TaskRecord }> {
  const r = await deps.store.txn(
    [
      { key: host.key, version: host.version },
      { key: taskKey, version: 0 },
    ],
    [
      { kind: 'put', key: host.key, value: host.next },
      { kind: 'put', key: taskKey, value: task },
    ],
  );
  if (r.succeeded) return { committed: true, revision: r.revision };
  const existing = await deps.store.get<TaskRecord>(taskKey);
  return existing ? { committed: false, existing: existing.value } : { committed: false };
}

async function placeOnManagedHosts(deps: TaskDeps, req: PlacementRequest): Promise<PlacementResult> {
  const { store } = deps;
  let hosts = await loadManagedHosts(store);
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
      if (hosts.length === 0) return { tasks, rejections: [], noHosts: true, unplaced: req.count - index };
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
          unplaced: req.count - index,
        };
      }
      const host = hosts.find((h) => h.id === chosenId)!;
      const task = req.buildTask(index, placedHost(host));
      const nextHost = hostAfterTaskChange(
        host.host,
        { to: taskCountPhase(task), reserve: req.reservation },
        deps.clock.now(),
      );
      const c = await commitPlacement(
        deps,
        { key: host.key, version: host.version, next: nextHost },
        taskKey,
        task,
      );
      if (c.committed) {
        host.version = c.revision;
        host.host = { kind: host.host.kind, value: nextHost } as HostValue;
        tasks.push(task);
        placed = true;
        deps.log.debug({ taskArn: task.taskArn, host: host.id, attempt }, 'task placed');
      } else if (c.existing) {
        // The same request ran concurrently (same clientToken) and placed this task first.
        tasks.push(c.existing);
        placed = true;
      } else {
        hosts = await loadManagedHosts(store);
      }
    }
    if (!placed) throw new ConflictError(taskKey, MAX_COMMIT_ATTEMPTS);
  }
  return { tasks, rejections: [], noHosts: false, unplaced: 0 };
}

/**
 * Tasks of one share committed together: each adds a task and at most one host to the
 * transaction, which takes at most 128 operations.
 */
export const MAX_TASKS_PER_COMMIT = 32;

/** The instances a share may use: the named ones, or the cluster's registered ones (of its provider). */
function candidatesOf(
  entries: readonly ViewEntry[],
  target: Extract<PlacementTarget, { kind: 'instances' }>,
  group: InstanceGroup | undefined,
): ViewEntry[] {
  const named = target.instanceIds !== undefined ? new Set(target.instanceIds) : undefined;
  return entries.filter(
    (e) =>
      (named ? named.has(e.instance.id) : e.instance.status !== 'INACTIVE') &&
      (group === undefined || isInInstanceGroup(e.instance.attributes, group)),
  );
}

/** The cluster's view with every write up to `atLeast` applied; a feed that failed is started anew once. */
async function currentView(
  store: Store,
  target: Extract<PlacementTarget, { kind: 'instances' }>,
  atLeast: number,
) {
  try {
    return await PlacementViews.of(store).current(target.scope, target.cluster, atLeast);
  } catch {
    return PlacementViews.of(store).current(target.scope, target.cluster, atLeast);
  }
}

function placedHostOfInstance(inst: PlacementInstance): PlacedHost {
  const zone = inst.attributes.get('ecs.availability-zone');
  return {
    kind: 'instance',
    id: inst.id,
    containerInstanceArn: inst.arn ?? '',
    ...(zone !== undefined ? { availabilityZone: zone } : {}),
  };
}

/** The task with each GPU-asking container's share of the ids placement gave it. */
function withGpuIds(
  task: TaskRecord,
  gpus: readonly { container: string; count: number }[],
  gpuIds: readonly string[],
): TaskRecord {
  if (gpuIds.length === 0) return task;
  const shares = gpuIdsPerContainer(gpus, gpuIds);
  return {
    ...task,
    containers: (task.containers ?? []).map((c) => {
      const ids = c.name !== undefined ? shares.get(c.name) : undefined;
      return ids && ids.length > 0 ? { ...c, gpuIds: ids } : c;
    }),
  };
}

/** GPU ids a task's containers hold (given back to the instance when it stops). */
function gpuIdsOfTask(task: TaskRecord): string[] {
  return (task.containers ?? []).flatMap((c) => c.gpuIds ?? []);
}

/** A host a batch places tasks on: the record the plan read, the record to write, and why. */
interface PlannedHost {
  base: VersionedInstance;
  value: ContainerInstanceRecord;
  changes: HostChange[];
}

/**
 * What placement judged an instance by, for telling a write that matters from one that does not:
 * everything but the task counts and the health an agent reports (and the record's own version
 * count). runningTasksCount matters when a constraint reads it.
 */
function placementFactsOf(r: ContainerInstanceRecord, withRunningCount: boolean): string {
  const {
    runningTasksCount,
    pendingTasksCount: _pending,
    version: _version,
    healthStatus: _health,
    ...rest
  } = r;
  return JSON.stringify(withRunningCount ? { ...rest, runningTasksCount } : rest);
}

/**
 * After a lost race: the hosts of the batch re-read, and the batch's changes applied to the fresh
 * records, when what changed meanwhile cannot change the plan's verdicts. The usual loser's case
 * is an agent report moving a task from PENDING to RUNNING on the instance a binpack keeps
 * filling: counts changed, nothing the plan judged did. Anything else (resources, status,
 * attributes...) → undefined, and the caller plans again.
 */
async function rebaseHosts<K>(
  deps: TaskDeps,
  hosts: ReadonlyMap<K, PlannedHost>,
  request: TaskPlacementRequest,
  now: number,
): Promise<Map<K, PlannedHost> | undefined> {
  const readsRunningCount = (request.constraints ?? []).some(
    (c) => c.type === 'memberOf' && c.query.subjects.has('runningTasksCount'),
  );
  const list = [...hosts.entries()];
  const fresh = await deps.store.getMany<ContainerInstanceRecord>(list.map(([, h]) => h.base.key));
  const out = new Map<K, PlannedHost>();
  for (const [i, [id, h]] of list.entries()) {
    const f = fresh[i];
    if (!f) return undefined;
    if (f.version === h.base.version) {
      out.set(id, h);
      continue;
    }
    if (placementFactsOf(f.value, readsRunningCount) !== placementFactsOf(h.base.value, readsRunningCount))
      return undefined;
    let value = f.value;
    for (const change of h.changes) value = hostAfterTaskChange({ kind: 'instance', value }, change, now);
    out.set(id, { base: { key: f.key, version: f.version, value: f.value }, value, changes: h.changes });
  }
  return out;
}

/** The tasks of a request that go to the same instances: all of them, or one capacity provider's. */
interface Share {
  name: string;
  group: InstanceGroup | undefined;
  /** Task indexes, in order. */
  indexes: number[];
}

type ShareOutcome =
  | { kind: 'done' }
  | { kind: 'failed'; failure: PlacementFailure }
  | { kind: 'noHosts' }
  | { kind: 'noProviderInstances' };

async function placeOnInstances(
  deps: TaskDeps,
  req: PlacementRequest,
  target: Extract<PlacementTarget, { kind: 'instances' }>,
  arrival: number,
): Promise<PlacementResult> {
  const spec = req.placement ?? { group: '' };
  const byIndex: (TaskRecord | undefined)[] = Array.from({ length: req.count }, () => undefined);
  if (req.resumable) {
    const existing = await deps.store.getMany<TaskRecord>(byIndex.map((_, i) => req.taskKey(i)));
    existing.forEach((r, i) => {
      if (r) byIndex[i] = r.value;
    });
  }
  const shares = new Map<string, Share>();
  byIndex.forEach((done, index) => {
    if (done) return;
    const group = spec.instanceGroupOf?.(index);
    const name = group?.provider ?? '';
    const share = shares.get(name) ?? { name, group, indexes: [] };
    share.indexes.push(index);
    shares.set(name, share);
  });

  const failures: PlacementFailure[] = [];
  const providersWithoutInstances: string[] = [];
  let noHosts = false;
  for (const share of shares.values()) {
    const outcome = await placeShare(deps, req, target, share, byIndex, arrival);
    if (outcome.kind === 'noHosts') {
      noHosts = true;
      break;
    }
    if (outcome.kind === 'noProviderInstances') providersWithoutInstances.push(share.name);
    if (outcome.kind === 'failed') failures.push(outcome.failure);
  }
  const tasks = byIndex.filter((t): t is TaskRecord => t !== undefined);
  const unplaced = req.count - tasks.length;
  if (noHosts) return { tasks, rejections: [], noHosts: true, unplaced };
  return {
    tasks,
    rejections: failures.flatMap((f) =>
      f.rejections.map((r) => ({
        host: { kind: 'instance' as const, id: r.instanceId, containerInstanceArn: r.instanceArn ?? '' },
        reason: r.reason,
        detail: r.detail,
      })),
    ),
    noHosts: false,
    unplaced,
    ...(failures[0] ? { failure: failures[0] } : {}),
    ...(providersWithoutInstances.length > 0 ? { providersWithoutInstances } : {}),
  };
}

/**
 * Places one share's tasks: a session on the current view plans up to MAX_TASKS_PER_COMMIT
 * tasks, and hosts and tasks are committed in one transaction (compare-and-set on every host the
 * plan used, creation of every task key). The session plans on after a commit (it booked what the
 * store now holds); a lost race throws it away and plans again on a view that has caught up.
 */
async function placeShare(
  deps: TaskDeps,
  req: PlacementRequest,
  target: Extract<PlacementTarget, { kind: 'instances' }>,
  share: Share,
  byIndex: (TaskRecord | undefined)[],
  arrival: number,
): Promise<ShareOutcome> {
  const spec = req.placement ?? { group: '' };
  const engineRequest: TaskPlacementRequest = {
    cpu: req.reservation.cpu,
    memory: req.reservation.memory,
    ports: req.reservation.ports,
    portsUdp: req.reservation.portsUdp,
    gpu: (spec.gpus ?? []).reduce((sum, g) => sum + g.count, 0),
    group: spec.group,
    constraints: spec.constraints ?? [],
    strategies: spec.strategies ?? parsePlacementStrategies(DEFAULT_TASK_STRATEGY),
    requiredAttributes: spec.requiredAttributes ?? [],
  };
  let pendingIndexes = share.indexes;
  let lost = 0;
  /** The view a plan reads must show every write up to here. */
  let atLeast = arrival;
  let plan:
    | {
        session: PlacementSession;
        candidates: ViewEntry[];
        /** Records written by this session's own commits, by candidate index. */
        committed: Map<number, VersionedInstance>;
      }
    | undefined;
  while (pendingIndexes.length > 0) {
    if (!plan) {
      const view = await currentView(deps.store, target, atLeast);
      const candidates = candidatesOf(view.snapshot(), target, share.group);
      if (share.group !== undefined && candidates.length === 0) return { kind: 'noProviderInstances' };
      const none =
        target.instanceIds !== undefined
          ? candidates.length === 0
          : !candidates.some((e) => e.instance.status === 'ACTIVE');
      if (share.group === undefined && none) return { kind: 'noHosts' };
      const rng = seededRng(seedFromString(`${spec.seed ?? ''}/${share.name}/${lost}`));
      plan = {
        session: new PlacementSession(
          candidates.map((e) => e.instance),
          engineRequest,
          { rng },
        ),
        candidates,
        committed: new Map(),
      };
    }

    let failure: PlacementFailure | undefined;
    const planned: { index: number; at: number; inst: PlacementInstance; gpuIds: readonly string[] }[] = [];
    for (const index of pendingIndexes.slice(0, MAX_TASKS_PER_COMMIT)) {
      const d = plan.session.next();
      if (d.failure) {
        failure = d.failure;
        break;
      }
      const at = d.placement.index;
      planned.push({ index, at, inst: plan.candidates[at]!.instance, gpuIds: d.placement.gpuIds });
    }
    if (planned.length === 0) return { kind: 'failed', failure: failure! };

    const now = deps.clock.now();
    let hosts = new Map<number, PlannedHost>();
    const tasks: { index: number; key: string; task: TaskRecord }[] = [];
    for (const p of planned) {
      const task = withGpuIds(
        req.buildTask(p.index, placedHostOfInstance(p.inst)),
        spec.gpus ?? [],
        p.gpuIds,
      );
      const base = plan.committed.get(p.at) ?? plan.candidates[p.at]!.record;
      const host = hosts.get(p.at) ?? { base, value: base.value, changes: [] };
      const change: HostChange = {
        to: taskCountPhase(task),
        reserve: req.reservation,
        reserveGpuIds: p.gpuIds,
      };
      host.value = hostAfterTaskChange({ kind: 'instance', value: host.value }, change, now);
      host.changes.push(change);
      hosts.set(p.at, host);
      tasks.push({ index: p.index, key: req.taskKey(p.index), task });
    }

    let committed: number | undefined;
    for (;;) {
      const r = await deps.store.txn(
        [
          ...[...hosts.values()].map((h) => ({ key: h.base.key, version: h.base.version })),
          ...tasks.map((t) => ({ key: t.key, version: 0 })),
        ],
        [
          ...[...hosts.values()].map((h) => ({ kind: 'put' as const, key: h.base.key, value: h.value })),
          ...tasks.map((t) => ({ kind: 'put' as const, key: t.key, value: t.task })),
        ],
      );
      if (r.succeeded) {
        committed = r.revision;
        break;
      }
      if (++lost >= MAX_COMMIT_ATTEMPTS) throw new ConflictError(tasks[0]!.key, MAX_COMMIT_ATTEMPTS);
      // The write that won is at or below the revision the failed transaction saw.
      atLeast = Math.max(atLeast, r.revision);
      // Tasks of this request another run of it (same clientToken) created meanwhile are taken
      // as placed; the others are planned again.
      const created = await deps.store.getMany<TaskRecord>(tasks.map((t) => t.key));
      if (created.some((rec) => rec !== undefined)) {
        created.forEach((rec, i) => {
          if (rec) byIndex[tasks[i]!.index] = rec.value;
        });
        break;
      }
      const rebased = await rebaseHosts(deps, hosts, engineRequest, now);
      if (!rebased) break;
      hosts = rebased;
    }
    if (committed === undefined) {
      // The plan rests on records that changed in a way that matters: plan again on fresh ones.
      pendingIndexes = pendingIndexes.filter((i) => byIndex[i] === undefined);
      plan = undefined;
      continue;
    }
    PlacementViews.of(deps.store).noteCommitted(target.scope, target.cluster, committed);
    for (const t of tasks) byIndex[t.index] = t.task;
    for (const [at, h] of hosts)
      plan.committed.set(at, { key: h.base.key, version: committed, value: h.value });
    pendingIndexes = pendingIndexes.slice(planned.length);
    deps.log.debug(
      {
        tasks: tasks.map((t) => t.task.taskArn),
        hosts: [...hosts.values()].map((h) => h.base.key),
        lostRaces: lost,
      },
      'tasks placed',
    );
    if (failure) return { kind: 'failed', failure };
  }
  return { kind: 'done' };
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

/** What the agent is told about its report (applied: false means it can be dropped). */
export type ReportResult = { applied: boolean; error?: string };

const notATaskArn = (report: TaskStateReport): ReportResult => ({
  applied: false,
  error: `'${report.taskArn}' is not a task ARN`,
});
const taskNotFound = (report: TaskStateReport): ReportResult => ({
  applied: false,
  error: `task ${report.taskArn} was not found`,
});

/** What a report does to its task: the task after it, and the host change it brings (if any). */
function reportStep(
  cur: TaskRecord,
  report: TaskStateReport,
  now: number,
): { next: TaskRecord; change: HostChange | undefined } | undefined {
  const outcome = applyTaskStateReport(cur, report, now);
  if (!outcome.changed) return undefined;
  let next = outcome.task;
  const releaseNow = outcome.reachedStopped && cur.berth?.released !== true;
  if (releaseNow) next = { ...next, berth: { ...next.berth, released: true } };
  const change: HostChange = {
    from: taskCountPhase(cur),
    to: taskCountPhase(next),
    ...(releaseNow && cur.berth?.reserved ? { release: cur.berth.reserved } : {}),
    ...(releaseNow && gpuIdsOfTask(cur).length > 0 ? { releaseGpuIds: gpuIdsOfTask(cur) } : {}),
  };
  const touchesHost = change.from !== change.to || change.release || change.releaseGpuIds;
  return { next, change: touchesHost ? change : undefined };
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
): Promise<ReportResult> {
  const key = taskKeyFromArn(report.taskArn);
  if (key === undefined) return notATaskArn(report);
  for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
    const cur = await deps.store.get<TaskRecord>(key);
    if (!cur) return taskNotFound(report);
    const now = deps.clock.now();
    const step = reportStep(cur.value, report, now);
    if (!step) return { applied: true };

    const compares: Compare[] = [{ key, version: cur.version }];
    const ops: Op[] = [{ kind: 'put', key, value: step.next }];
    const hostKey = step.change && hostKeyOfTask(cur.value);
    if (hostKey) {
      const hostRec = await deps.store.get<ContainerInstanceRecord | ManagedHostRecord>(hostKey.key);
      if (hostRec) {
        const host = { kind: hostKey.kind, value: hostRec.value } as HostValue;
        compares.push({ key: hostKey.key, version: hostRec.version });
        ops.push({ kind: 'put', key: hostKey.key, value: hostAfterTaskChange(host, step.change!, now) });
      }
    }
    const r = await deps.store.txn(compares, ops);
    if (r.succeeded) {
      deps.log.debug(
        { taskArn: report.taskArn, lastStatus: step.next.lastStatus, attempt },
        'task report applied',
      );
      return { applied: true };
    }
  }
  throw new ConflictError(key, MAX_COMMIT_ATTEMPTS);
}

/**
 * Several reports (one agent's, in the order it sent them) with the same effect as
 * applyTaskReport on each in turn, but in one transaction when they fit: the tasks read once,
 * the reports of one task folded in order, and each host written once with all its tasks'
 * changes. A burst of reports then costs the store one commit and the controllers one wake-up.
 * When another writer wins the race for any of the records, they are applied one by one instead,
 * each with applyTaskReport's retries.
 */
export async function applyTaskReports(
  deps: { store: Store; clock: Clock; log: Logger },
  reports: readonly TaskStateReport[],
): Promise<ReportResult[]> {
  if (reports.length > 1) {
    const together = await applyTogether(deps, reports);
    if (together) return together;
  }
  const out: ReportResult[] = [];
  for (const r of reports) out.push(await applyTaskReport(deps, r));
  return out;
}

/** One attempt at applying `reports` in one transaction; undefined when it lost a race or is too big. */
async function applyTogether(
  deps: { store: Store; clock: Clock; log: Logger },
  reports: readonly TaskStateReport[],
): Promise<ReportResult[] | undefined> {
  const keyOf = reports.map((r) => taskKeyFromArn(r.taskArn));
  const taskKeys = [...new Set(keyOf.filter((k): k is string => k !== undefined))];
  const read = await deps.store.getMany<TaskRecord>(taskKeys);
  const tasks = new Map<string, { version: number; value: TaskRecord; changed: boolean }>();
  taskKeys.forEach((k, i) => {
    const rec = read[i];
    if (rec) tasks.set(k, { version: rec.version, value: rec.value, changed: false });
  });
  const now = deps.clock.now();
  const hostChanges = new Map<string, { kind: 'instance' | 'managed'; changes: HostChange[] }>();
  const results = reports.map((report, i): ReportResult => {
    const key = keyOf[i];
    if (key === undefined) return notATaskArn(report);
    const t = tasks.get(key);
    if (!t) return taskNotFound(report);
    const step = reportStep(t.value, report, now);
    if (!step) return { applied: true };
    const hostKey = step.change && hostKeyOfTask(t.value);
    if (hostKey) {
      const h = hostChanges.get(hostKey.key) ?? { kind: hostKey.kind, changes: [] };
      h.changes.push(step.change!);
      hostChanges.set(hostKey.key, h);
    }
    t.value = step.next;
    t.changed = true;
    return { applied: true };
  });

  const compares: Compare[] = [];
  const ops: Op[] = [];
  for (const [key, t] of tasks) {
    if (!t.changed) continue;
    compares.push({ key, version: t.version });
    ops.push({ kind: 'put', key, value: t.value });
  }
  const hostKeys = [...hostChanges.keys()];
  const hosts = await deps.store.getMany<ContainerInstanceRecord | ManagedHostRecord>(hostKeys);
  hostKeys.forEach((key, i) => {
    const rec = hosts[i];
    if (!rec) return;
    const { kind, changes } = hostChanges.get(key)!;
    const value = changes.reduce(
      (v, change) => hostAfterTaskChange({ kind, value: v } as HostValue, change, now),
      rec.value,
    );
    compares.push({ key, version: rec.version });
    ops.push({ kind: 'put', key, value });
  });
  if (ops.length === 0) return results;
  if (ops.length > MAX_TXN_OPS) return undefined;
  const r = await deps.store.txn(compares, ops);
  if (!r.succeeded) return undefined;
  deps.log.debug({ reports: reports.length, writes: ops.length }, 'task reports applied together');
  return results;
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
