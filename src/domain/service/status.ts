// The service record after a scheduler pass: the step's decisions folded in (rollout states,
// rollback, removed deployments, events, bookkeeping) and the observed counts recomputed from the
// tasks. Pure; the controller writes the result with compare-and-set, together with the history
// entries (ServiceDeployment records) the decisions change.
//
// Counts, from the tasks (ECS's meaning):
//   runningCount   lastStatus RUNNING (tasks being stopped included, until they stop)
//   pendingCount   PROVISIONING / PENDING / ACTIVATING
//   deployments[].desiredCount   PRIMARY: the service's; older ones: the tasks they still keep
//   deployments[].failedTasks    the circuit breaker's count (circuit-breaker.ts)
//   DAEMON desiredCount          the number of ACTIVE container instances
//   taskSets[]     computedDesiredCount, running / pending, stabilityStatus STEADY_STATE when its
//                  tasks are exactly computedDesiredCount and all RUNNING
import { isDeepStrictEqual } from 'node:util';
import type { Deployment, ServiceCurrentRevisionSummary, TaskSet } from '../../generated/ecs/types.js';
import { toEpochSeconds } from '../clock.js';
import type {
  ContainerInstanceRecord,
  ServiceDeploymentInternals,
  ServiceDeploymentRecord,
  ServiceInternals,
  ServiceRecord,
  TaskRecord,
} from '../records.js';
import { isTaskPendingCount } from '../task/status.js';
import { countFailedTasks } from './circuit-breaker.js';
import { completedReason, historyStopped, isHistoryInProgress, rollingBackReason } from './deployment.js';
import { appendServiceEvents } from './events.js';
import { computedDesiredCount, type ServiceAction } from './reconcile.js';
import { DEFAULT_TASK_STABILITY_MS, type TaskJudgement } from './task-state.js';

/** A change to one history entry, applied to the stored record at write time. */
export interface HistoryChange {
  serviceDeploymentArn: string;
  update(rec: ServiceDeploymentRecord): ServiceDeploymentRecord;
}

export interface ApplyInput {
  /** The record to fold the step into (it may be fresher than the one the step was computed on). */
  service: ServiceRecord;
  actions: readonly ServiceAction[];
  /** What the controller did beyond the step (started tasks, placement failures), oldest first. */
  extraEvents?: readonly string[];
  /** The service's tasks after the step's starts and stops. */
  tasks: readonly TaskRecord[];
  instances: readonly ContainerInstanceRecord[];
  /** Epoch ms. */
  now: number;
  newId: () => string;
  taskStabilityMs?: number;
}

export interface ApplyResult {
  service: ServiceRecord;
  history: HistoryChange[];
}

function historyOf(
  internals: ServiceInternals,
  id: string,
  out: HistoryChange[],
  update: HistoryChange['update'],
): void {
  const arn =
    internals.deployments[id]?.serviceDeploymentArn ??
    (internals.lastCompleted?.deployment.id === id
      ? internals.lastCompleted.internals.serviceDeploymentArn
      : undefined);
  if (arn !== undefined) out.push({ serviceDeploymentArn: arn, update });
}

export function applyServiceStep(input: ApplyInput): ApplyResult {
  // One copy to fold the step into, without the events: up to 100 of them, only ever replaced by
  // a new array here, and copying them was most of a pass's cost (it runs on every task change).
  const { events, ...rest } = input.service;
  const svc: ServiceRecord = structuredClone(rest);
  const berth: ServiceInternals = svc.berth ?? { generation: 0, createFingerprint: '', deployments: {} };
  const at = toEpochSeconds(input.now);
  const history: HistoryChange[] = [];
  let deployments: Deployment[] = svc.deployments ?? [];
  let taskSets: TaskSet[] = svc.taskSets ?? [];
  const messages: string[] = [];

  for (const a of input.actions) {
    switch (a.type) {
      case 'startTasks':
      case 'startDaemonTasks':
      case 'stopTask':
        break;
      case 'event':
        messages.push(a.message);
        break;
      case 'setSteady':
        berth.steady = a.steady;
        break;
      case 'noteStops':
        berth.stopsSeen = { at: a.at, taskIds: [...a.taskIds] };
        break;
      case 'clearRollbackRequest':
        delete berth.rollbackRequested;
        break;
      case 'resetFailures': {
        const d = berth.deployments[a.deploymentId];
        if (d && (d.failuresResetAt === undefined || a.at > d.failuresResetAt)) d.failuresResetAt = a.at;
        break;
      }
      case 'setRolloutState': {
        const d = deployments.find((x) => x.id === a.deploymentId);
        if (!d) break;
        d.rolloutState = a.rolloutState;
        d.rolloutStateReason = a.reason;
        d.updatedAt = at;
        const internals = berth.deployments[a.deploymentId];
        if (a.rolloutState === 'COMPLETED') {
          const rolledBackFrom = internals?.rollbackOf;
          if (internals) delete internals.rollbackOf;
          berth.lastCompleted = {
            deployment: { ...structuredClone(d), rolloutStateReason: completedReason(a.deploymentId) },
            internals: structuredClone(internals ?? { healthChecked: false }),
          };
          historyOf(berth, a.deploymentId, history, (rec) =>
            isHistoryInProgress(rec)
              ? {
                  ...rec,
                  status: 'SUCCESSFUL',
                  finishedAt: at,
                  updatedAt: at,
                  ...(rec.deploymentCircuitBreaker?.status === 'MONITORING'
                    ? {
                        deploymentCircuitBreaker: {
                          ...rec.deploymentCircuitBreaker,
                          status: 'MONITORING_COMPLETE',
                        },
                      }
                    : {}),
                }
              : rec,
          );
          if (rolledBackFrom?.serviceDeploymentArn !== undefined) {
            history.push({
              serviceDeploymentArn: rolledBackFrom.serviceDeploymentArn,
              update: (rec) =>
                rec.status === 'ROLLBACK_IN_PROGRESS' || rec.status === 'ROLLBACK_REQUESTED'
                  ? { ...rec, status: 'ROLLBACK_SUCCESSFUL', finishedAt: at, updatedAt: at }
                  : rec,
            });
          }
        } else if (a.rolloutState === 'FAILED') {
          const fc = countFailedTasks(
            input.tasks.filter((t) => t.startedBy === a.deploymentId),
            judgeFor(svc, internals, input.now, input.taskStabilityMs ?? DEFAULT_TASK_STABILITY_MS),
            {
              ...(internals?.failuresResetAt !== undefined ? { resetAt: internals.failuresResetAt } : {}),
              cumulative: svc.deploymentConfiguration?.deploymentCircuitBreaker?.resetOnHealthyTask === false,
            },
          );
          d.failedTasks = fc.count;
          historyOf(berth, a.deploymentId, history, (rec) => {
            // A rollback asked for and impossible ends as ROLLBACK_FAILED; one that starts (the
            // rollback action after this one) moves the entry on to ROLLBACK_IN_PROGRESS.
            const stopped =
              rec.status === 'ROLLBACK_REQUESTED'
                ? { ...historyStopped(rec, a.reason, input.now), status: 'ROLLBACK_FAILED' as const }
                : historyStopped(rec, a.reason, input.now);
            return rec.deploymentCircuitBreaker?.status === 'MONITORING' ||
              rec.deploymentCircuitBreaker?.status === 'MONITORING_COMPLETE'
              ? {
                  ...stopped,
                  deploymentCircuitBreaker: {
                    ...rec.deploymentCircuitBreaker,
                    status: 'TRIGGERED',
                    failureCount: d.failedTasks ?? rec.deploymentCircuitBreaker.failureCount ?? 0,
                  },
                }
              : stopped;
          });
        }
        break;
      }
      case 'rollback': {
        const failed = deployments.find((x) => x.id === a.failedId);
        if (failed) {
          failed.status = 'ACTIVE';
          failed.updatedAt = at;
        }
        let target = deployments.find((x) => x.id === a.targetId);
        if (!target && berth.lastCompleted?.deployment.id === a.targetId) {
          target = {
            ...structuredClone(berth.lastCompleted.deployment),
            pendingCount: 0,
            runningCount: 0,
            failedTasks: 0,
          };
          berth.deployments[a.targetId] = structuredClone(berth.lastCompleted.internals);
          deployments = [target, ...deployments];
        }
        if (!target) break;
        target.status = 'PRIMARY';
        target.rolloutState = 'IN_PROGRESS';
        target.rolloutStateReason = rollingBackReason(a.targetId);
        target.updatedAt = at;
        deployments = [target, ...deployments.filter((x) => x !== target)];
        const ti = berth.deployments[a.targetId];
        if (ti) {
          const failedHistory = berth.deployments[a.failedId]?.serviceDeploymentArn;
          ti.rollbackOf = {
            deploymentId: a.failedId,
            ...(failedHistory !== undefined ? { serviceDeploymentArn: failedHistory } : {}),
          };
          delete ti.failuresResetAt;
        }
        // What the service runs follows the deployment it rolled back to.
        svc.taskDefinition = target.taskDefinition;
        delete svc.launchType;
        delete svc.capacityProviderStrategy;
        delete svc.platformVersion;
        delete svc.platformFamily;
        delete svc.networkConfiguration;
        if (target.launchType !== undefined) svc.launchType = target.launchType;
        if (target.capacityProviderStrategy !== undefined)
          svc.capacityProviderStrategy = structuredClone(target.capacityProviderStrategy);
        if (target.platformVersion !== undefined) svc.platformVersion = target.platformVersion;
        if (target.platformFamily !== undefined) svc.platformFamily = target.platformFamily;
        if (target.networkConfiguration !== undefined)
          svc.networkConfiguration = structuredClone(target.networkConfiguration);
        berth.steady = false;
        const revision = ti?.serviceRevisionArn;
        historyOf(berth, a.failedId, history, (rec) => {
          const { stoppedAt: _s, finishedAt: _f, ...rest } = rec;
          return {
            ...rest,
            status: 'ROLLBACK_IN_PROGRESS',
            statusReason: a.reason,
            updatedAt: at,
            rollback: {
              reason: a.reason,
              startedAt: at,
              ...(revision !== undefined ? { serviceRevisionArn: revision } : {}),
            },
          };
        });
        break;
      }
      case 'removeDeployment':
        deployments = deployments.filter((x) => x.id !== a.deploymentId);
        delete berth.deployments[a.deploymentId];
        break;
      case 'removeTaskSet':
        taskSets = taskSets.filter((x) => x.id !== a.taskSetId);
        delete berth.deployments[a.taskSetId];
        break;
      case 'markInactive':
        svc.status = 'INACTIVE';
        svc.desiredCount = 0;
        for (const d of deployments) {
          if (d.id === undefined) continue;
          historyOf(berth, d.id, history, (rec) =>
            historyStopped(rec, 'The service was deleted.', input.now),
          );
        }
        break;
      default: {
        const never: never = a;
        throw new Error(`unknown service action ${JSON.stringify(never)}`);
      }
    }
  }

  svc.deployments = deployments;
  if (svc.taskSets !== undefined || taskSets.length > 0) svc.taskSets = taskSets;
  svc.berth = berth;
  const counted = countInto(svc, input.tasks, input.instances, input.now, input.taskStabilityMs);
  counted.events = appendServiceEvents(
    events ?? [],
    [...messages, ...(input.extraEvents ?? [])],
    input.now,
    input.newId,
  );
  return { service: counted, history };
}

function judgeFor(
  service: ServiceRecord,
  internals: ServiceDeploymentInternals | undefined,
  now: number,
  stabilityMs: number,
): TaskJudgement {
  return {
    healthChecked: internals?.healthChecked ?? false,
    gracePeriodMs: (service.healthCheckGracePeriodSeconds ?? 0) * 1000,
    stabilityMs,
    now,
  };
}

interface Counts {
  running: number;
  pending: number;
  /** Not stopped and not asked to stop. */
  kept: number;
}

function countTasks(tasks: readonly TaskRecord[]): Counts {
  let running = 0;
  let pending = 0;
  let kept = 0;
  for (const t of tasks) {
    if (t.lastStatus === 'STOPPED') continue;
    if (t.lastStatus === 'RUNNING') running++;
    else if (isTaskPendingCount(t.lastStatus)) pending++;
    if (t.desiredStatus !== 'STOPPED') kept++;
  }
  return { running, pending, kept };
}

/** Sets `target[key] = value` and reports whether it changed. */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K]): boolean {
  if (isDeepStrictEqual(target[key], value)) return false;
  target[key] = value;
  return true;
}

/** The record with its observed counts recomputed from `tasks` (the service's, any status). */
export function computeServiceStatus(
  service: ServiceRecord,
  tasks: readonly TaskRecord[],
  instances: readonly ContainerInstanceRecord[],
  now: number,
  taskStabilityMs = DEFAULT_TASK_STABILITY_MS,
): ServiceRecord {
  return countInto(structuredClone(service), tasks, instances, now, taskStabilityMs);
}

/** computeServiceStatus on a record the caller owns: its counts are set in place. */
function countInto(
  svc: ServiceRecord,
  tasks: readonly TaskRecord[],
  instances: readonly ContainerInstanceRecord[],
  now: number,
  taskStabilityMs = DEFAULT_TASK_STABILITY_MS,
): ServiceRecord {
  const at = toEpochSeconds(now);
  const byDeployment = new Map<string, TaskRecord[]>();
  for (const t of tasks) {
    const k = t.startedBy ?? '';
    const list = byDeployment.get(k) ?? [];
    list.push(t);
    byDeployment.set(k, list);
  }
  const live = svc.status === 'ACTIVE';
  if (svc.schedulingStrategy === 'DAEMON') {
    svc.desiredCount = live ? instances.filter((i) => i.status === 'ACTIVE').length : 0;
  }
  const all = countTasks(tasks);
  svc.runningCount = all.running;
  svc.pendingCount = all.pending;

  const internals = svc.berth?.deployments ?? {};
  const cb = svc.deploymentConfiguration?.deploymentCircuitBreaker;
  for (const d of svc.deployments ?? []) {
    if (d.id === undefined) continue;
    const mine = byDeployment.get(d.id) ?? [];
    const c = countTasks(mine);
    const i = internals[d.id];
    const counted = countFailedTasks(mine, judgeFor(svc, i, now, taskStabilityMs), {
      ...(i?.failuresResetAt !== undefined ? { resetAt: i.failuresResetAt } : {}),
      cumulative: cb?.resetOnHealthyTask === false,
    }).count;
    // A FAILED deployment keeps the count that failed it.
    const failed = d.rolloutState === 'FAILED' ? Math.max(counted, d.failedTasks ?? 0) : counted;
    let changed = false;
    changed = put(d, 'desiredCount', d.status === 'PRIMARY' ? (svc.desiredCount ?? 0) : c.kept) || changed;
    changed = put(d, 'runningCount', c.running) || changed;
    changed = put(d, 'pendingCount', c.pending) || changed;
    changed = put(d, 'failedTasks', failed) || changed;
    if (changed) d.updatedAt = at;
  }

  if (svc.taskSets !== undefined) {
    for (const ts of svc.taskSets) {
      if (ts.id === undefined) continue;
      const c = countTasks(byDeployment.get(ts.id) ?? []);
      const target = computedDesiredCount(svc, ts);
      let changed = false;
      changed = put(ts, 'computedDesiredCount', target) || changed;
      changed = put(ts, 'runningCount', c.running) || changed;
      changed = put(ts, 'pendingCount', c.pending) || changed;
      const stability =
        c.running === target && c.pending === 0 && c.kept === target ? 'STEADY_STATE' : 'STABILIZING';
      if (put(ts, 'stabilityStatus', stability)) {
        ts.stabilityStatusAt = at;
        changed = true;
      }
      if (changed) ts.updatedAt = at;
    }
    const primary = svc.taskSets.find((ts) => ts.status === 'PRIMARY');
    if (primary?.taskDefinition !== undefined) svc.taskDefinition = primary.taskDefinition;
  }

  const primary = (svc.deployments ?? []).find((d) => d.status === 'PRIMARY');
  const currentArn = primary?.id !== undefined ? internals[primary.id]?.serviceDeploymentArn : undefined;
  if (currentArn !== undefined) svc.currentServiceDeployment = currentArn;
  const revisions: ServiceCurrentRevisionSummary[] = [];
  for (const d of svc.deployments ?? []) {
    const arn = d.id !== undefined ? internals[d.id]?.serviceRevisionArn : undefined;
    if (arn === undefined) continue;
    revisions.push({
      arn,
      requestedTaskCount: d.desiredCount ?? 0,
      runningTaskCount: d.runningCount ?? 0,
      pendingTaskCount: d.pendingCount ?? 0,
    });
  }
  if (revisions.length > 0 || svc.currentServiceRevisions !== undefined)
    svc.currentServiceRevisions = revisions;
  return svc;
}
