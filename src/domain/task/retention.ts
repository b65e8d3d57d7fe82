// How long the control plane remembers what is over: STOPPED tasks and RunTask clientToken
// records. ECS shows a stopped task for about an hour, then answers it as MISSING; a clientToken
// is remembered for 24 hours. The retention controller (src/controllers/retention-controller.ts)
// deletes what these rules call expired.
//
//   task   lastStatus STOPPED, stopped for at least the retention    → expired
//          (stoppedAt; lacking it executionStoppedAt, stoppingAt, createdAt)
//          unless its live service still needs it (isNeededByService)
//          or the RunTask that made it may still be retried (isClaimPending)
//   token  createdAt (epoch ms) at least the token retention ago     → expired
//
// A task that is not STOPPED is never expired, whatever its age.
//
// Why a service may still need a STOPPED task: the service scheduler recomputes its counts from
// the tasks on every pass (src/domain/service/circuit-breaker.ts, reconcile.ts). Deleting a
// failed task would lower the circuit breaker's count of a deployment still rolling out (a slow
// failure rate would never trip it), shorten the launch back-off of a deployment whose tasks keep
// failing, and lose the "has stopped" event of a stop the scheduler has not noted yet. So a
// STOPPED task of a live service is kept while any of these holds:
//   - its stop has not had its service event yet (berth.stopsSeen);
//   - its deployment (startedBy) is listed and IN_PROGRESS: every task of it may count;
//   - its deployment or task set is listed and the task stopped after the failure watermark
//     (berth.deployments[id].failuresResetAt; none yet: every task counts).
// A deployment's tasks are released once it completes and a later task proved healthy, or once
// it leaves the service's deployments; every task once the service is INACTIVE or gone.
import type { ServiceRecord, TaskRecord } from '../records.js';
import { stoppedAtOf } from '../service/circuit-breaker.js';
import { SERVICE_TASK_GROUP_PREFIX as SERVICE_GROUP } from '../service/ids.js';
import { isStopNoted } from '../service/reconcile.js';

/** ECS forgets a stopped task after about an hour. */
export const DEFAULT_STOPPED_TASK_RETENTION_MS = 60 * 60_000;
/** A clientToken is remembered this long (RunTask's CLIENT_TOKEN_TTL_MS, as ECS). */
export const CLIENT_TOKEN_RETENTION_MS = 24 * 60 * 60_000;

export type TaskRetention =
  | { kind: 'not-stopped' }
  /** STOPPED, not old enough yet: it expires at `expiresAt` (epoch ms). */
  | { kind: 'young'; expiresAt: number }
  | { kind: 'expired' };

/**
 * When the task stopped, in epoch ms, or undefined while it is not STOPPED. The same time the
 * circuit breaker counts with; a STOPPED record without any timestamp counts as stopped at the
 * epoch: nothing will ever date it better.
 */
export function stoppedAtMs(task: TaskRecord): number | undefined {
  const s = stoppedAtOf(task);
  return s === undefined ? undefined : s * 1000;
}

/** Whether the task is past its retention (`now` epoch ms). Service needs are a separate question. */
export function computeTaskRetention(task: TaskRecord, now: number, retentionMs: number): TaskRetention {
  const at = stoppedAtMs(task);
  if (at === undefined) return { kind: 'not-stopped' };
  const expiresAt = at + retentionMs;
  return now >= expiresAt ? { kind: 'expired' } : { kind: 'young', expiresAt };
}

/** The service a task was started for (group `service:<name>`), if any. */
export function serviceNameOfTask(task: Pick<TaskRecord, 'group'>): string | undefined {
  const g = task.group;
  if (g === undefined || !g.startsWith(SERVICE_GROUP)) return undefined;
  const name = g.slice(SERVICE_GROUP.length);
  return name === '' ? undefined : name;
}

/**
 * Whether `service` (the record at keys.service(<task's cluster>, serviceNameOfTask(task)), or
 * undefined when there is none) still needs the STOPPED task for its counts or events (see the
 * top of this file).
 */
export function isNeededByService(task: TaskRecord, service: ServiceRecord | undefined): boolean {
  if (task.lastStatus !== 'STOPPED' || service === undefined) return false;
  if (service.status !== 'ACTIVE' && service.status !== 'DRAINING') return false;
  if (serviceNameOfTask(task) !== service.serviceName) return false;
  const at = stoppedAtOf(task)!;
  if (!isStopNoted(task, at, service.berth?.stopsSeen)) return true;
  const id = task.startedBy;
  if (id === undefined) return false;
  const deployment = service.deployments?.find((d) => d.id === id);
  const listed = deployment !== undefined || (service.taskSets ?? []).some((ts) => ts.id === id);
  if (!listed) return false;
  if (deployment?.rolloutState === 'IN_PROGRESS') return true;
  const resetAt = service.berth?.deployments[id]?.failuresResetAt;
  return resetAt === undefined || at > resetAt;
}

/** A stored clientToken record: only its creation time matters here. */
export interface TokenRecordTimes {
  /** Epoch ms. */
  createdAt?: unknown;
}

/**
 * Whether a clientToken record is past `retentionMs` (`now` epoch ms). A record without a numeric
 * createdAt is kept: it was not written by the token code this rule knows.
 */
export function isTokenExpired(
  record: TokenRecordTimes | undefined,
  now: number,
  retentionMs: number,
): boolean {
  const created = record?.createdAt;
  if (typeof created !== 'number' || !Number.isFinite(created)) return false;
  return now - created >= retentionMs;
}

/** A stored RunTask clientToken claim: when it was made, and whether its RunTask finished. */
export interface TokenClaimState extends TokenRecordTimes {
  done?: unknown;
}

/**
 * Whether a RunTask claim (the record of the task's clientToken) is live and unfinished: its
 * RunTask stopped between claiming the token and recording the tasks it made, so a retry with the
 * token places the same task ids again, and creates a task whose record is gone. The task must
 * stay until the claim is done or expired.
 */
export function isClaimPending(
  claim: TokenClaimState | undefined,
  now: number,
  tokenRetentionMs: number,
): boolean {
  if (claim === undefined || claim.done === true) return false;
  // Without a usable createdAt the claim's age is unknown: RunTask itself would treat it as expired.
  return typeof claim.createdAt === 'number' && !isTokenExpired(claim, now, tokenRetentionMs);
}
