// The service scheduler's decision, as one pure function of what the store holds:
//
//   computeServiceStep(service, tasks, instances, now) → actions + when to look again
//
// The controller (src/controllers/service-controller.ts) reads the state, calls this, carries out
// the start / stop actions against the store and folds the rest into the service record
// (status.ts). Being a function of the current state only (level triggered), running it twice or
// after a crash between two steps gives the same next step.
//
// REPLICA (deploymentController ECS), with D = desiredCount (0 while the service is DRAINING):
//   1. circuit breaker: PRIMARY IN_PROGRESS with failed tasks ≥ threshold → FAILED, and with
//      rollback the last COMPLETED deployment becomes PRIMARY again; StopServiceDeployment asks
//      the same rollback. A FAILED PRIMARY launches nothing more.
//   2. tasks on an instance that is no longer ACTIVE (DRAINING...) and not healthy stop at once.
//   3. keepers = the PRIMARY's tasks that are pending, starting or healthy, on ACTIVE instances;
//      more than D → the surplus stops (scale-in, zones kept balanced).
//   4. starts: D − keepers, within maxTotal = floor(D × maximumPercent / 100) tasks RUNNING or
//      PENDING (tasks being stopped still count), and not while the launch back-off holds.
//   5. an unhealthy PRIMARY task stops once D keepers are healthy (its replacement is), or at
//      once when there is no room left to start its replacement.
//   6. everything else (old deployments, tasks on draining instances) stops: unhealthy / pending
//      ones at once, healthy ones only while at least ceil(D × minimumHealthyPercent / 100)
//      healthy tasks remain.
//   7. old deployments without tasks disappear; the PRIMARY is COMPLETED when its D tasks are all
//      healthy and nothing else runs; then "has reached a steady state" (once per change).
// DAEMON: the same per ACTIVE instance, one task each (D = number of ACTIVE instances); an old
//   task is stopped (within the healthy bound) before its instance gets the new one.
// EXTERNAL: every task set is held at its computedDesiredCount (ceil(D × scale / 100)); a
//   DRAINING task set goes to 0 and disappears.
// A DRAINING service (DeleteService) stops every task, then becomes INACTIVE.
import type { Deployment, DeploymentRolloutState, TaskSet } from '../../generated/ecs/types.js';
import type {
  ContainerInstanceRecord,
  ServiceDeploymentInternals,
  ServiceInternals,
  ServiceRecord,
  TaskRecord,
} from '../records.js';
import {
  UNHEALTHY_STOP_REASON,
  circuitBreakerThreshold,
  countFailedTasks,
  launchBackoffMs,
  stoppedAtOf,
  type FailureCount,
} from './circuit-breaker.js';
import { CIRCUIT_BREAKER_FAILED_REASON, STOPPED_BY_USER_REASON, rollingBounds } from './deployment.js';
import {
  CIRCUIT_BREAKER_REASON,
  MAX_SERVICE_EVENTS,
  deploymentCompletedEvent,
  deploymentFailedEvent,
  drainingInstanceEvent,
  launchBackoffEvent,
  rollbackUnavailableEvent,
  rollingBackEvent,
  steadyStateEvent,
  stoppedTasksEvents,
  taskIdOf,
  taskStoppedOnItsOwnEvent,
  unhealthyTaskEvent,
} from './events.js';
import { chooseTasksToStop, type BinpackScaleIn } from './scale-in.js';
import {
  DEFAULT_TASK_STABILITY_MS,
  classifyServiceTask,
  nextJudgementAt,
  type ServiceTaskState,
  type TaskJudgement,
} from './task-state.js';

export interface ServiceStepInput {
  service: ServiceRecord;
  /** The service's tasks (group `service:<name>`), in any status. */
  tasks: readonly TaskRecord[];
  /** The container instances of the service's cluster. */
  instances: readonly ContainerInstanceRecord[];
  /** Epoch ms. */
  now: number;
  /** How long a task without health checks must run before it counts as healthy. */
  taskStabilityMs?: number;
}

export type ServiceAction =
  /** Place `count` new tasks of a deployment (or task set). */
  | { type: 'startTasks'; deploymentId: string; count: number }
  /** DAEMON: one new task of the deployment on each of these instances. */
  | { type: 'startDaemonTasks'; deploymentId: string; containerInstanceArns: string[] }
  /** Ask the task to stop (stopCode ServiceSchedulerInitiated). */
  | { type: 'stopTask'; taskArn: string; deploymentId: string; reason: string }
  | { type: 'setRolloutState'; deploymentId: string; rolloutState: DeploymentRolloutState; reason: string }
  /** `failedId` stops being PRIMARY; `targetId` (the last COMPLETED deployment) is PRIMARY again. */
  | { type: 'rollback'; failedId: string; targetId: string; reason: string }
  | { type: 'removeDeployment'; deploymentId: string }
  | { type: 'removeTaskSet'; taskSetId: string }
  /** Move the deployment's failure reset watermark (epoch seconds). */
  | { type: 'resetFailures'; deploymentId: string; at: number }
  | { type: 'event'; message: string }
  | { type: 'setSteady'; steady: boolean }
  /** Tasks that stopped on their own up to here have had their event. */
  | { type: 'noteStops'; at: number; taskIds: string[] }
  /** The StopServiceDeployment request was handled (or cannot be any more). */
  | { type: 'clearRollbackRequest' }
  /** DRAINING and nothing left running. */
  | { type: 'markInactive' };

export interface ServiceStep {
  actions: ServiceAction[];
  /** Look again after this long even if nothing changes (back-off, stability windows). */
  requeueAfterMs?: number;
}

/** ECS's stoppedReason for tasks the service scheduler stops to scale. */
export function scalingReason(deploymentId: string): string {
  return `Scaling activity initiated by (deployment ${deploymentId})`;
}

export function drainingReason(instanceId: string): string {
  return `Container instance ${instanceId} is draining: the service scheduler moves its tasks elsewhere.`;
}

const EMPTY_INTERNALS: ServiceInternals = { generation: 0, createFingerprint: '', deployments: {} };

interface TaskInfo {
  task: TaskRecord;
  /** startedBy: the deployment or task set id ('' when none). */
  deploymentId: string;
  state: ServiceTaskState;
  /** On a container instance that is not ACTIVE (DRAINING, deregistered...). */
  leaving: boolean;
  instanceId?: string;
  /** Asked to stop in this pass. */
  stopped: boolean;
}

class StepContext {
  readonly actions: ServiceAction[] = [];
  private readonly requeueAt: number[] = [];
  private readonly stoppedArns: string[] = [];
  readonly internals: ServiceInternals;
  readonly name: string;
  readonly stabilityMs: number;
  readonly draining: boolean;
  readonly infos: TaskInfo[];
  readonly failures = new Map<string, FailureCount>();
  changed = false;

  constructor(readonly input: ServiceStepInput) {
    this.internals = input.service.berth ?? EMPTY_INTERNALS;
    this.name = input.service.serviceName;
    this.stabilityMs = input.taskStabilityMs ?? DEFAULT_TASK_STABILITY_MS;
    this.draining = input.service.status === 'DRAINING';
    const instances = new Map(input.instances.map((i) => [i.containerInstanceArn, i]));
    this.infos = [...input.tasks]
      .filter((t) => t.lastStatus !== 'STOPPED')
      .sort(byAge)
      .map((task) => {
        const deploymentId = task.startedBy ?? '';
        const arn = task.containerInstanceArn;
        const instance = arn !== undefined ? instances.get(arn) : undefined;
        const j = this.judge(deploymentId);
        const at = nextJudgementAt(task, j);
        if (at !== undefined) this.requeue(at);
        return {
          task,
          deploymentId,
          state: classifyServiceTask(task, j),
          leaving: arn !== undefined && instance?.status !== 'ACTIVE',
          ...(arn !== undefined ? { instanceId: arn.slice(arn.lastIndexOf('/') + 1) } : {}),
          stopped: false,
        };
      });
  }

  get now(): number {
    return this.input.now;
  }

  deploymentInternals(id: string): ServiceDeploymentInternals | undefined {
    return this.internals.deployments[id];
  }

  judge(deploymentId: string): TaskJudgement {
    return {
      healthChecked: this.deploymentInternals(deploymentId)?.healthChecked ?? false,
      gracePeriodMs: (this.input.service.healthCheckGracePeriodSeconds ?? 0) * 1000,
      stabilityMs: this.stabilityMs,
      now: this.input.now,
    };
  }

  tasksOf(deploymentId: string): TaskRecord[] {
    return this.input.tasks.filter((t) => (t.startedBy ?? '') === deploymentId);
  }

  requeue(at: number): void {
    this.requeueAt.push(at);
  }

  event(message: string): void {
    this.actions.push({ type: 'event', message });
  }

  stop(info: TaskInfo, reason: string): void {
    if (info.stopped || info.state === 'stopping') return;
    info.stopped = true;
    this.changed = true;
    this.stoppedArns.push(info.task.taskArn);
    this.actions.push({
      type: 'stopTask',
      taskArn: info.task.taskArn,
      deploymentId: info.deploymentId,
      reason,
    });
  }

  start(deploymentId: string, count: number): void {
    if (count <= 0) return;
    this.changed = true;
    this.actions.push({ type: 'startTasks', deploymentId, count });
  }

  /** Live tasks not asked to stop (in this pass or before). */
  active(): TaskInfo[] {
    return this.infos.filter((i) => !i.stopped && i.state !== 'stopping');
  }

  finish(): ServiceStep {
    for (const m of stoppedTasksEvents(this.name, this.stoppedArns)) this.event(m);
    const later = this.requeueAt.filter((t) => t > this.now);
    const soon = this.requeueAt.some((t) => t <= this.now);
    const step: ServiceStep = { actions: this.actions };
    if (soon) step.requeueAfterMs = 0;
    else if (later.length > 0) step.requeueAfterMs = Math.min(...later) - this.now;
    return step;
  }
}

function byAge(a: TaskRecord, b: TaskRecord): number {
  const ca = a.createdAt ?? 0;
  const cb = b.createdAt ?? 0;
  if (ca !== cb) return ca - cb;
  return a.taskArn < b.taskArn ? -1 : a.taskArn > b.taskArn ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------

/** For a service whose first placement strategy is binpack: what each instance has left of it. */
export function binpackScaleIn(input: ServiceStepInput): BinpackScaleIn | undefined {
  const first = input.service.placementStrategy?.[0];
  if (first?.type !== 'binpack') return undefined;
  const field = first.field?.toLowerCase() === 'cpu' ? 'cpu' : 'memory';
  const resource = field === 'cpu' ? 'CPU' : 'MEMORY';
  const remaining = new Map<string, number>();
  for (const i of input.instances) {
    const r = i.remainingResources?.find((x) => x.name === resource);
    remaining.set(i.containerInstanceArn, r?.integerValue ?? 0);
  }
  return { field, remaining };
}

export function computeServiceStep(input: ServiceStepInput): ServiceStep {
  const ctx = new StepContext(input);
  if (input.service.status === 'INACTIVE') return { actions: [] };
  noteStoppedTasks(ctx);
  const controller = input.service.deploymentController?.type ?? 'ECS';
  if (controller === 'EXTERNAL') stepTaskSets(ctx);
  else if (input.service.schedulingStrategy === 'DAEMON') stepDaemon(ctx);
  else stepReplica(ctx);
  return ctx.finish();
}

/**
 * Whether the stop of `task` (at `at`, epoch seconds) already has its service event: the
 * scheduler's own stops have theirs, others once the stopsSeen watermark covers them.
 */
export function isStopNoted(
  task: TaskRecord,
  at: number,
  seen: { at: number; taskIds: string[] } | undefined,
): boolean {
  if (task.stopCode === 'ServiceSchedulerInitiated') return true;
  if (seen === undefined) return false;
  return at < seen.at || (at === seen.at && seen.taskIds.includes(taskIdOf(task.taskArn)));
}

/** One event per task that stopped on its own since the last pass (the scheduler's own stops have theirs). */
function noteStoppedTasks(ctx: StepContext): void {
  const seen = ctx.internals.stopsSeen;
  const fresh: { task: TaskRecord; at: number }[] = [];
  let maxAt = seen?.at;
  for (const t of ctx.input.tasks) {
    const at = stoppedAtOf(t);
    if (at === undefined) continue;
    if (maxAt === undefined || at > maxAt) maxAt = at;
    if (!isStopNoted(t, at, seen)) fresh.push({ task: t, at });
  }
  if (maxAt === undefined) return;
  fresh.sort((a, b) => a.at - b.at || byAge(a.task, b.task));
  for (const { task } of fresh.slice(-MAX_SERVICE_EVENTS)) {
    ctx.event(taskStoppedOnItsOwnEvent(ctx.name, task.taskArn, task.stoppedReason));
  }
  const idsAtMax = ctx.input.tasks
    .filter((t) => stoppedAtOf(t) === maxAt)
    .map((t) => taskIdOf(t.taskArn))
    .sort();
  const sameIds =
    seen !== undefined && seen.at === maxAt && idsAtMax.every((id) => seen.taskIds.includes(id));
  if (!sameIds) ctx.actions.push({ type: 'noteStops', at: maxAt, taskIds: idsAtMax });
}

/** Counts the deployment's failed tasks and moves its reset watermark; remembered for status. */
function failuresOf(ctx: StepContext, deploymentId: string, cumulative: boolean): FailureCount {
  const stored = ctx.deploymentInternals(deploymentId)?.failuresResetAt;
  const fc = countFailedTasks(ctx.tasksOf(deploymentId), ctx.judge(deploymentId), {
    ...(stored !== undefined ? { resetAt: stored } : {}),
    cumulative,
  });
  if (!ctx.failures.has(deploymentId) && fc.resetAt !== undefined && fc.resetAt !== stored) {
    ctx.actions.push({ type: 'resetFailures', deploymentId, at: fc.resetAt });
  }
  ctx.failures.set(deploymentId, fc);
  return fc;
}

/**
 * The circuit breaker and StopServiceDeployment's rollback. True when the PRIMARY just failed:
 * the pass ends there and the next one (requeued at once) works with the new PRIMARY.
 */
function handleFailure(ctx: StepContext, primary: Deployment & { id: string }, desired: number): boolean {
  const cb = ctx.input.service.deploymentConfiguration?.deploymentCircuitBreaker;
  const fc = failuresOf(ctx, primary.id, cb?.resetOnHealthyTask === false);
  const requested = ctx.internals.rollbackRequested;
  if (requested !== undefined && (requested !== primary.id || primary.rolloutState !== 'IN_PROGRESS')) {
    ctx.actions.push({ type: 'clearRollbackRequest' });
  }
  if (primary.rolloutState !== 'IN_PROGRESS') return false;
  const userRollback = requested === primary.id;
  const tripped = cb?.enable === true && fc.count >= circuitBreakerThreshold(cb, desired);
  if (!tripped && !userRollback) return false;

  ctx.actions.push({
    type: 'setRolloutState',
    deploymentId: primary.id,
    rolloutState: 'FAILED',
    reason: tripped ? CIRCUIT_BREAKER_FAILED_REASON : STOPPED_BY_USER_REASON,
  });
  ctx.event(
    deploymentFailedEvent(
      ctx.name,
      primary.id,
      tripped ? CIRCUIT_BREAKER_REASON : 'stopped by StopServiceDeployment',
    ),
  );
  if (userRollback || cb?.rollback === true) {
    const target = ctx.internals.lastCompleted?.deployment.id;
    if (target !== undefined && target !== primary.id) {
      ctx.actions.push({
        type: 'rollback',
        failedId: primary.id,
        targetId: target,
        reason: tripped ? CIRCUIT_BREAKER_FAILED_REASON : STOPPED_BY_USER_REASON,
      });
      ctx.event(rollingBackEvent(ctx.name, primary.id, target));
    } else {
      ctx.event(rollbackUnavailableEvent(ctx.name, primary.id));
    }
  }
  if (userRollback) ctx.actions.push({ type: 'clearRollbackRequest' });
  ctx.changed = true;
  ctx.requeue(ctx.now);
  return true;
}

/** False while the deployment's launch back-off holds (then it says so and requeues). */
function mayLaunch(ctx: StepContext, deploymentId: string): boolean {
  const resetAt =
    ctx.failures.get(deploymentId)?.resetAt ?? ctx.deploymentInternals(deploymentId)?.failuresResetAt;
  // The back-off always counts consecutive failures, whatever the circuit breaker counts.
  const fc = countFailedTasks(ctx.tasksOf(deploymentId), ctx.judge(deploymentId), {
    ...(resetAt !== undefined ? { resetAt } : {}),
  });
  const delay = launchBackoffMs(fc.count);
  if (delay === 0 || fc.lastFailureAt === undefined) return true;
  const nextAt = fc.lastFailureAt * 1000 + delay;
  if (ctx.now >= nextAt) return true;
  ctx.event(launchBackoffEvent(ctx.name, deploymentId, fc.count, delay));
  ctx.requeue(nextAt);
  return false;
}

/**
 * A task that is going away counts for the healthy bound while it serves: RUNNING and not judged
 * unhealthy, even inside its stability window (it ran before; only new tasks must prove
 * themselves before old ones stop).
 */
function isServing(i: TaskInfo): boolean {
  return i.state === 'healthy' || i.state === 'starting';
}

function stopUnservingOnLeavingInstances(ctx: StepContext): void {
  const byInstance = new Map<string, TaskInfo[]>();
  for (const i of ctx.active()) {
    if (!i.leaving || isServing(i)) continue;
    const list = byInstance.get(i.instanceId ?? '') ?? [];
    list.push(i);
    byInstance.set(i.instanceId ?? '', list);
  }
  for (const [instanceId, list] of byInstance) {
    for (const i of list) ctx.stop(i, drainingReason(instanceId));
  }
}

/** Stops every task still running: the service is being deleted. */
function drainAll(ctx: StepContext, primaryId: string): void {
  for (const i of ctx.active()) ctx.stop(i, scalingReason(primaryId));
  if (ctx.infos.length === 0) ctx.actions.push({ type: 'markInactive' });
}

function removeEmptyDeployments(
  ctx: StepContext,
  deployments: readonly Deployment[],
  primaryId: string,
): Set<string> {
  const removed = new Set<string>();
  for (const d of deployments) {
    if (d.id === undefined || d.id === primaryId) continue;
    if (ctx.infos.some((i) => i.deploymentId === d.id)) continue;
    ctx.actions.push({ type: 'removeDeployment', deploymentId: d.id });
    removed.add(d.id);
  }
  return removed;
}

function completeIfDone(
  ctx: StepContext,
  primary: Deployment & { id: string },
  othersLeft: boolean,
  isSettled: boolean,
): void {
  const done = !othersLeft && isSettled;
  let completed = primary.rolloutState === 'COMPLETED';
  if (primary.rolloutState === 'IN_PROGRESS' && done && !ctx.changed) {
    ctx.actions.push({
      type: 'setRolloutState',
      deploymentId: primary.id,
      rolloutState: 'COMPLETED',
      reason: `ECS deployment ${primary.id} completed.`,
    });
    ctx.event(deploymentCompletedEvent(ctx.name, primary.id));
    completed = true;
  }
  const steady = completed && done && !ctx.changed;
  if (steady && ctx.internals.steady !== true) {
    ctx.event(steadyStateEvent(ctx.name));
    ctx.actions.push({ type: 'setSteady', steady: true });
  } else if (!steady && ctx.internals.steady === true) {
    ctx.actions.push({ type: 'setSteady', steady: false });
  }
}

// ---------------------------------------------------------------------------------------------
// REPLICA

function stepReplica(ctx: StepContext): void {
  const s = ctx.input.service;
  const deployments = s.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY' && d.id !== undefined) as
    (Deployment & { id: string }) | undefined;
  const desired = ctx.draining ? 0 : (s.desiredCount ?? 0);
  if (!primary) {
    drainAll(ctx, '');
    return;
  }
  const pid = primary.id;
  if (!ctx.draining && handleFailure(ctx, primary, desired)) return;

  stopUnservingOnLeavingInstances(ctx);
  if (ctx.draining) {
    drainAll(ctx, pid);
    return;
  }
  if (primary.rolloutState === 'FAILED') {
    // ECS: a failed deployment launches no new tasks; what runs stays as it is.
    removeEmptyDeployments(ctx, deployments, pid);
    return;
  }

  const { maxTotal, minHealthy } = rollingBounds(desired, s.deploymentConfiguration);
  const total = ctx.infos.length;
  const isKeeper = (i: TaskInfo): boolean =>
    i.deploymentId === pid &&
    !i.leaving &&
    (i.state === 'pending' || i.state === 'starting' || i.state === 'healthy');

  // 3. Scale-in of the primary.
  let keepers = ctx.active().filter(isKeeper);
  if (keepers.length > desired) {
    for (const c of chooseTasksToStop(keepers, keepers.length - desired, binpackScaleIn(ctx.input))) {
      ctx.stop(c, scalingReason(pid));
    }
    keepers = ctx.active().filter(isKeeper);
  }

  // 4. Starts.
  const need = desired - keepers.length;
  let started = 0;
  let roomShort = false;
  if (need > 0 && mayLaunch(ctx, pid)) {
    const room = Math.max(0, maxTotal - total);
    started = Math.min(need, room);
    roomShort = room < need;
    ctx.start(pid, started);
  }

  // 5. Unhealthy primary tasks: their replacements first.
  const unhealthy = ctx
    .active()
    .filter((i) => i.deploymentId === pid && !i.leaving && i.state === 'unhealthy');
  const healthyKeepers = keepers.filter((i) => i.state === 'healthy').length;
  let unhealthyToStop = 0;
  if (healthyKeepers >= desired) unhealthyToStop = unhealthy.length;
  else if (roomShort) unhealthyToStop = Math.min(unhealthy.length, need - started);
  for (const i of unhealthy.slice(0, unhealthyToStop)) {
    ctx.event(unhealthyTaskEvent(ctx.name, i.task.taskArn));
    ctx.stop(i, UNHEALTHY_STOP_REASON);
  }

  // 6. Everything else leaves: at once when it serves nothing, else within the healthy bound.
  const isLeaver = (i: TaskInfo): boolean => i.deploymentId !== pid || i.leaving;
  for (const i of ctx.active().filter(isLeaver)) {
    if (!isServing(i)) ctx.stop(i, i.leaving ? drainingReason(i.instanceId ?? '') : scalingReason(pid));
  }
  let budget =
    ctx.active().filter((i) => (isLeaver(i) ? isServing(i) : i.state === 'healthy')).length - minHealthy;
  const servingLeavers = ctx.active().filter((i) => isLeaver(i) && isServing(i));
  const drainingMoves = new Map<string, string[]>();
  for (const i of orderLeavers(servingLeavers, deployments)) {
    if (budget <= 0) break;
    if (i.leaving) {
      const list = drainingMoves.get(i.instanceId ?? '') ?? [];
      list.push(i.task.taskArn);
      drainingMoves.set(i.instanceId ?? '', list);
    }
    ctx.stop(i, i.leaving ? drainingReason(i.instanceId ?? '') : scalingReason(pid));
    budget--;
  }
  for (const [instanceId, arns] of drainingMoves) {
    for (const m of drainingInstanceEvent(ctx.name, instanceId, arns)) ctx.event(m);
  }

  // 7. Old deployments, completion, steady state.
  removeEmptyDeployments(ctx, deployments, pid);
  const othersLeft = ctx.infos.some((i) => i.deploymentId !== pid);
  const primaryLive = ctx.infos.filter((i) => i.deploymentId === pid);
  const settled =
    primaryLive.length === desired &&
    primaryLive.every((i) => !i.stopped && !i.leaving && i.state === 'healthy');
  completeIfDone(ctx, primary, othersLeft, settled);
}

/** Healthy tasks that must go, in the order they go: off draining instances first, then oldest deployment first. */
function orderLeavers(leavers: readonly TaskInfo[], deployments: readonly Deployment[]): TaskInfo[] {
  const age = (id: string): number => {
    const d = deployments.find((x) => x.id === id);
    return d?.createdAt ?? Number.NEGATIVE_INFINITY;
  };
  const groups = new Map<string, TaskInfo[]>();
  for (const i of leavers) {
    const k = i.leaving ? '\u0000draining' : i.deploymentId;
    const list = groups.get(k) ?? [];
    list.push(i);
    groups.set(k, list);
  }
  const order = [...groups.keys()].sort((a, b) => {
    if (a === '\u0000draining') return -1;
    if (b === '\u0000draining') return 1;
    return age(a) - age(b) || (a < b ? -1 : a > b ? 1 : 0);
  });
  return order.flatMap((k) => {
    const list = groups.get(k)!;
    return chooseTasksToStop(list, list.length);
  });
}

// ---------------------------------------------------------------------------------------------
// DAEMON

function stepDaemon(ctx: StepContext): void {
  const s = ctx.input.service;
  const deployments = s.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY' && d.id !== undefined) as
    (Deployment & { id: string }) | undefined;
  const eligible = ctx.input.instances
    .filter((i) => i.status === 'ACTIVE')
    .sort((a, b) => (a.containerInstanceArn < b.containerInstanceArn ? -1 : 1));
  const desired = ctx.draining ? 0 : eligible.length;
  if (!primary) {
    drainAll(ctx, '');
    return;
  }
  const pid = primary.id;
  if (!ctx.draining && handleFailure(ctx, primary, desired)) return;

  // A daemon task cannot move: on an instance that is not ACTIVE it simply stops.
  for (const i of ctx.active()) {
    if (i.leaving || i.task.containerInstanceArn === undefined)
      ctx.stop(i, drainingReason(i.instanceId ?? ''));
  }
  if (ctx.draining) {
    drainAll(ctx, pid);
    return;
  }
  const frozen = primary.rolloutState === 'FAILED';
  const { minHealthy } = rollingBounds(desired, s.deploymentConfiguration);
  let budget =
    ctx.active().filter((i) => (i.deploymentId === pid ? i.state === 'healthy' : isServing(i))).length -
    minHealthy;
  const startOn: string[] = [];
  const rank: Readonly<Record<ServiceTaskState, number>> = {
    healthy: 0,
    starting: 1,
    pending: 2,
    unhealthy: 3,
    stopping: 4,
    stopped: 5,
  };

  for (const inst of eligible) {
    const arn = inst.containerInstanceArn;
    const here = ctx.active().filter((i) => i.task.containerInstanceArn === arn);
    const goingHere = ctx.infos.filter(
      (i) => i.task.containerInstanceArn === arn && (i.stopped || i.state === 'stopping'),
    );
    const mine = here.filter((i) => i.deploymentId === pid).sort((a, b) => rank[a.state] - rank[b.state]);
    const others = here.filter((i) => i.deploymentId !== pid);
    if (frozen) continue;
    if (mine.length > 0) {
      for (const extra of mine.slice(1)) ctx.stop(extra, scalingReason(pid));
      const kept = mine[0]!;
      if (kept.state === 'unhealthy') {
        ctx.event(unhealthyTaskEvent(ctx.name, kept.task.taskArn));
        ctx.stop(kept, UNHEALTHY_STOP_REASON);
      }
      for (const o of others) {
        if (!isServing(o)) ctx.stop(o, scalingReason(pid));
        else if (budget > 0) {
          ctx.stop(o, scalingReason(pid));
          budget--;
        }
      }
      continue;
    }
    if (others.length > 0) {
      // Replace the old task here: stop it first (one task per instance), start once it is gone.
      const o = others.sort((a, b) => rank[b.state] - rank[a.state])[0]!;
      if (!isServing(o)) ctx.stop(o, scalingReason(pid));
      else if (budget > 0) {
        ctx.stop(o, scalingReason(pid));
        budget--;
      }
      for (const extra of others.filter((x) => x !== o)) ctx.stop(extra, scalingReason(pid));
      continue;
    }
    if (goingHere.length > 0 || inst.agentConnected !== true) continue;
    startOn.push(arn);
  }
  if (startOn.length > 0 && mayLaunch(ctx, pid)) {
    ctx.changed = true;
    ctx.actions.push({ type: 'startDaemonTasks', deploymentId: pid, containerInstanceArns: startOn });
  }

  removeEmptyDeployments(ctx, deployments, pid);
  const othersLeft = ctx.infos.some((i) => i.deploymentId !== pid);
  const settled = eligible.every((inst) => {
    const live = ctx.infos.filter((i) => i.task.containerInstanceArn === inst.containerInstanceArn);
    return (
      live.length === 1 && live[0]!.deploymentId === pid && !live[0]!.stopped && live[0]!.state === 'healthy'
    );
  });
  completeIfDone(ctx, primary, othersLeft, settled && !frozen);
}

// ---------------------------------------------------------------------------------------------
// EXTERNAL (task sets)

/** A task set's target: ceil(desiredCount × scale / 100); 0 while it or the service drains. */
export function computedDesiredCount(
  service: Pick<ServiceRecord, 'desiredCount' | 'status'>,
  ts: TaskSet,
): number {
  if (service.status === 'DRAINING' || ts.status === 'DRAINING') return 0;
  const percent = ts.scale?.value ?? 100;
  return Math.ceil(((service.desiredCount ?? 0) * percent) / 100);
}

function stepTaskSets(ctx: StepContext): void {
  const s = ctx.input.service;
  const sets = (s.taskSets ?? []).filter((ts): ts is TaskSet & { id: string } => ts.id !== undefined);
  const ids = new Set(sets.map((ts) => ts.id));
  stopUnservingOnLeavingInstances(ctx);
  for (const i of ctx.active()) if (!ids.has(i.deploymentId)) ctx.stop(i, scalingReason(i.deploymentId));

  let allSettled = true;
  for (const ts of sets) {
    failuresOf(ctx, ts.id, false);
    const target = computedDesiredCount(s, ts);
    const mine = ctx.active().filter((i) => i.deploymentId === ts.id);
    for (const i of mine) {
      if (i.state === 'unhealthy') {
        ctx.event(unhealthyTaskEvent(ctx.name, i.task.taskArn));
        ctx.stop(i, UNHEALTHY_STOP_REASON);
      }
    }
    let keepers = ctx.active().filter((i) => i.deploymentId === ts.id && !i.leaving);
    if (keepers.length > target) {
      for (const c of chooseTasksToStop(keepers, keepers.length - target)) ctx.stop(c, scalingReason(ts.id));
      keepers = ctx.active().filter((i) => i.deploymentId === ts.id && !i.leaving);
    }
    const healthy = keepers.filter((i) => i.state === 'healthy').length;
    for (const i of ctx.active().filter((x) => x.deploymentId === ts.id && x.leaving)) {
      if (healthy >= target) ctx.stop(i, drainingReason(i.instanceId ?? ''));
    }
    if (keepers.length < target && mayLaunch(ctx, ts.id)) ctx.start(ts.id, target - keepers.length);
    const live = ctx.infos.filter((i) => i.deploymentId === ts.id);
    if (ts.status === 'DRAINING' && live.length === 0) {
      ctx.actions.push({ type: 'removeTaskSet', taskSetId: ts.id });
    }
    if (!(live.length === target && live.every((i) => !i.stopped && !i.leaving && i.state === 'healthy'))) {
      allSettled = false;
    }
  }
  if (ctx.draining) {
    if (ctx.infos.length === 0) ctx.actions.push({ type: 'markInactive' });
    return;
  }
  const steady = allSettled && !ctx.changed && sets.length > 0;
  if (steady && ctx.internals.steady !== true) {
    ctx.event(steadyStateEvent(ctx.name));
    ctx.actions.push({ type: 'setSteady', steady: true });
  } else if (!steady && ctx.internals.steady === true) {
    ctx.actions.push({ type: 'setSteady', steady: false });
  }
}
