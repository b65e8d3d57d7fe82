// How the service scheduler sees one of its tasks. Desired status (what the scheduler asked) and
// last status (what the agent saw) stay separate; the scheduler's view combines them:
//
//   stopped    lastStatus STOPPED                                       gone; only failure accounting
//   stopping   desiredStatus STOPPED, not STOPPED yet                   on its way out, still counted
//                                                                       in RUNNING + PENDING
//   pending    PROVISIONING / PENDING / ACTIVATING                      not serving yet
//   starting   RUNNING, not judged healthy yet: with health checks, no  not healthy, not unhealthy
//              verdict yet (or UNHEALTHY within the grace period);
//              without, RUNNING for less than the stability window
//   healthy    RUNNING and HEALTHY (with health checks), or RUNNING for the stability window
//   unhealthy  RUNNING, health checks say UNHEALTHY, grace period over   to be replaced
//
// The stability window: ECS counts a task without health checks as healthy once it has been
// RUNNING for a while (about 40 s), so a container that exits at once fails its deployment
// instead of completing it. Berth's window is an option of the scheduler (default 5 s, the same
// as Docker Swarm's update monitor).
import { toEpochSeconds } from '../clock.js';
import type { TaskRecord } from '../records.js';

export type ServiceTaskState = 'stopped' | 'stopping' | 'pending' | 'starting' | 'healthy' | 'unhealthy';

export const DEFAULT_TASK_STABILITY_MS = 5_000;

export interface TaskJudgement {
  /** The task definition has an essential container with a health check. */
  healthChecked: boolean;
  /** healthCheckGracePeriodSeconds of the service, in ms. */
  gracePeriodMs: number;
  stabilityMs: number;
  /** Epoch ms. */
  now: number;
}

function startedAtMs(task: TaskRecord): number | undefined {
  return task.startedAt === undefined ? undefined : task.startedAt * 1000;
}

export function classifyServiceTask(task: TaskRecord, j: TaskJudgement): ServiceTaskState {
  if (task.lastStatus === 'STOPPED') return 'stopped';
  if (task.desiredStatus === 'STOPPED') return 'stopping';
  if (task.lastStatus !== 'RUNNING') {
    // Past RUNNING but still wanted RUNNING cannot last (a report going down sets desired STOPPED).
    return task.lastStatus === 'PROVISIONING' ||
      task.lastStatus === 'PENDING' ||
      task.lastStatus === 'ACTIVATING'
      ? 'pending'
      : 'stopping';
  }
  const started = startedAtMs(task) ?? j.now;
  if (j.healthChecked) {
    if (task.healthStatus === 'HEALTHY') return 'healthy';
    if (task.healthStatus === 'UNHEALTHY' && j.now >= started + j.gracePeriodMs) return 'unhealthy';
    return 'starting';
  }
  return j.now >= started + j.stabilityMs ? 'healthy' : 'starting';
}

/**
 * When (epoch ms) a `starting` task may change its verdict without any store write: the end of
 * its stability window or of its grace period. The scheduler requeues itself for then.
 */
export function nextJudgementAt(task: TaskRecord, j: TaskJudgement): number | undefined {
  if (task.lastStatus !== 'RUNNING' || task.desiredStatus === 'STOPPED') return undefined;
  const started = startedAtMs(task) ?? j.now;
  const at = j.healthChecked
    ? task.healthStatus === 'UNHEALTHY'
      ? started + j.gracePeriodMs
      : undefined
    : started + j.stabilityMs;
  return at !== undefined && at > j.now ? at : undefined;
}

/**
 * The moment (epoch seconds) the task proved healthy, if it did: health-checked tasks that are
 * HEALTHY now (from their start: when exactly the check passed is not recorded), others once they
 * stayed RUNNING for the stability window (still running, or stopped only after it).
 */
export function healthySince(task: TaskRecord, j: TaskJudgement): number | undefined {
  if (task.startedAt === undefined) return undefined;
  const stableAt = task.startedAt + j.stabilityMs / 1000;
  if (j.healthChecked) {
    return task.lastStatus === 'RUNNING' && task.healthStatus === 'HEALTHY' ? task.startedAt : undefined;
  }
  if (task.lastStatus === 'STOPPED') {
    const end = task.executionStoppedAt ?? task.stoppedAt ?? task.stoppingAt;
    return end !== undefined && end >= stableAt ? stableAt : undefined;
  }
  if (task.lastStatus === 'RUNNING' && toEpochSeconds(j.now) >= stableAt) return stableAt;
  // Going down after a long run also proves it was stable.
  const end = task.stoppingAt;
  return end !== undefined && end >= stableAt ? stableAt : undefined;
}

/** Whether the task definition's essential containers carry a health check. */
export function hasEssentialHealthCheck(
  containers: readonly { essential?: boolean; healthCheck?: unknown }[] | undefined,
): boolean {
  return (containers ?? []).some((c) => c.essential !== false && c.healthCheck !== undefined);
}
