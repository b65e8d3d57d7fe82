// The deployment circuit breaker and the launch back-off, both fed by the same count: the
// deployment's failed tasks since one of its tasks last proved healthy.
//
// A failed task is one that stopped without the scheduler or a user asking, before it proved
// healthy (see task-state.ts):
//   stage 1   it never reached RUNNING (image pull failed, container could not start...)
//   stage 2   it reached RUNNING but stopped before its stability window ended (a container that
//             exits at once), or the scheduler stopped it for failed health checks
// Tasks the scheduler stopped for its own reasons (scale-in, rolling update, draining) and tasks a
// user stopped do not count. The count is recomputed from the tasks on every pass (level
// triggered); the only thing kept is the reset watermark, `failuresResetAt`, the last moment a
// task of the deployment proved healthy, which only moves forward. With resetOnHealthyTask false
// the count is cumulative over the whole deployment.
//
// Threshold: BOUNDED_PERCENT (default, value 50) clamp(ceil(desired × value / 100), 3, 200);
// UNBOUNDED_PERCENT ceil(desired × value / 100), at least 1; COUNT the value itself.
//
// Back-off: tasks keep failing → new launches wait, 0, 0, then 5 s doubling up to 15 minutes
// after the latest failure (ECS never gives up; it throttles).
import type { DeploymentCircuitBreaker } from '../../generated/ecs/types.js';
import type { TaskRecord } from '../records.js';
import { healthySince, type TaskJudgement } from './task-state.js';

export const BREAKER_MIN_THRESHOLD = 3;
export const BREAKER_MAX_THRESHOLD = 200;
export const BREAKER_DEFAULT_PERCENT = 50;

/** stoppedReason the scheduler writes on a task it stops because its health checks failed (ECS wording). */
export const UNHEALTHY_STOP_REASON = 'Task failed container health checks';

export const BACKOFF_FREE_FAILURES = 2;
export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_MAX_MS = 15 * 60 * 1000;

export function circuitBreakerThreshold(cb: DeploymentCircuitBreaker | undefined, desired: number): number {
  const type = cb?.thresholdConfiguration?.type ?? 'BOUNDED_PERCENT';
  const value = cb?.thresholdConfiguration?.value ?? BREAKER_DEFAULT_PERCENT;
  switch (type) {
    case 'COUNT':
      return Math.max(1, value);
    case 'UNBOUNDED_PERCENT':
      return Math.max(1, Math.ceil((desired * value) / 100));
    case 'BOUNDED_PERCENT':
      return Math.min(
        BREAKER_MAX_THRESHOLD,
        Math.max(BREAKER_MIN_THRESHOLD, Math.ceil((desired * value) / 100)),
      );
    default: {
      const never: never = type;
      throw new Error(`unknown threshold type ${String(never)}`);
    }
  }
}

/** When the task stopped (epoch seconds), or undefined while it has not. */
export function stoppedAtOf(task: TaskRecord): number | undefined {
  if (task.lastStatus !== 'STOPPED') return undefined;
  return task.stoppedAt ?? task.executionStoppedAt ?? task.stoppingAt ?? task.createdAt ?? 0;
}

/** A stopped task that counts against its deployment (see the top of this file). */
export function isFailedTask(task: TaskRecord, j: TaskJudgement): boolean {
  if (task.lastStatus !== 'STOPPED') return false;
  if (task.stopCode === 'ServiceSchedulerInitiated') return task.stoppedReason === UNHEALTHY_STOP_REASON;
  if (
    task.stopCode !== undefined &&
    task.stopCode !== 'TaskFailedToStart' &&
    task.stopCode !== 'EssentialContainerExited'
  ) {
    return false;
  }
  return healthySince(task, j) === undefined;
}

export interface FailureCount {
  /** Failed tasks since the reset (all of them when cumulative). */
  count: number;
  /** When the latest of them stopped (epoch seconds). */
  lastFailureAt?: number;
  /** The reset watermark after this pass (epoch seconds; only moves forward). */
  resetAt?: number;
}

/** Counts a deployment's failed tasks; `tasks` are the deployment's own, in any status. */
export function countFailedTasks(
  tasks: readonly TaskRecord[],
  j: TaskJudgement,
  opts: { resetAt?: number; cumulative?: boolean },
): FailureCount {
  let resetAt = opts.resetAt;
  for (const t of tasks) {
    const since = healthySince(t, j);
    if (since !== undefined && (resetAt === undefined || since > resetAt)) resetAt = since;
  }
  let count = 0;
  let lastFailureAt: number | undefined;
  for (const t of tasks) {
    if (!isFailedTask(t, j)) continue;
    const at = stoppedAtOf(t)!;
    if (!opts.cumulative && resetAt !== undefined && at <= resetAt) continue;
    count++;
    if (lastFailureAt === undefined || at > lastFailureAt) lastFailureAt = at;
  }
  return {
    count,
    ...(lastFailureAt !== undefined ? { lastFailureAt } : {}),
    ...(resetAt !== undefined ? { resetAt } : {}),
  };
}

/** How long new launches wait after the latest of `failures` consecutive failed tasks. */
export function launchBackoffMs(failures: number): number {
  if (failures <= BACKOFF_FREE_FAILURES) return 0;
  const exponent = failures - BACKOFF_FREE_FAILURES - 1;
  if (exponent >= 20) return BACKOFF_MAX_MS;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** exponent);
}
