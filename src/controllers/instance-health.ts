// The pure half of the instance health controller: is a host (container instance or managed
// FARGATE host) connected, briefly disconnected, or lost; and what a task on a lost host becomes.
//
// ECS semantics (ECS-SEMANTICS.md §6): agent disconnects are normal and brief; a disconnected
// host gets no new placements (placement already refuses it) and its tasks are left alone. Berth
// adds what ECS gets from EC2 (a terminated instance stops its tasks, "Host EC2 (instance …)
// terminated."): a host disconnected for longer than lostAfterMs is lost for good, and the control
// plane marks its tasks STOPPED (stopCode InfrastructureHealth) and gives their reservations back,
// so that services replace them elsewhere. The host stays registered; if its agent ever comes
// back, the full sync no longer lists those tasks and the agent stops their containers.
//
// The disconnect clock starts at `disconnectedAt` (written when agentConnected went false) but
// never before `observingSince` (when this control plane started watching): time the control
// plane itself was down never counts against an agent.
import type { TaskStopCode } from '../generated/ecs/types.js';
import { toEpochSeconds } from '../domain/clock.js';
import { taskCountPhase } from '../domain/cluster/activity.js';
import type { TaskRecord } from '../domain/records.js';
import { ENI_ATTACHMENT_TYPE } from '../domain/task/build-task.js';
import type { HostChange } from '../control/tasks.js';

export const LOST_HOST_STOP_CODE: TaskStopCode = 'InfrastructureHealth';

export interface HostHealthInput {
  agentConnected: boolean;
  /** False for a deregistered (INACTIVE) container instance: its tasks were left to run unmanaged. */
  registered: boolean;
  /** Epoch ms when agentConnected went false; undefined when nobody recorded it. */
  disconnectedAt: number | undefined;
  now: number;
  lostAfterMs: number;
  /** Epoch ms when this control plane started watching hosts. */
  observingSince: number;
}

export type HostHealthDecision =
  /** Connected: nothing to do. */
  | { kind: 'connected' }
  /** Deregistered: not this controller's business. */
  | { kind: 'deregistered' }
  /** Disconnected since an unknown time: record "since now" (the clock starts here). */
  | { kind: 'stamp' }
  /** Briefly disconnected: nothing to do yet; look again when it would be lost. */
  | { kind: 'disconnected'; lostInMs: number }
  /** Lost for good: its tasks that are not STOPPED are marked STOPPED. */
  | { kind: 'lost'; disconnectedForMs: number };

export function decideHostHealth(h: HostHealthInput): HostHealthDecision {
  if (!h.registered) return { kind: 'deregistered' };
  if (h.agentConnected) return { kind: 'connected' };
  if (h.disconnectedAt === undefined) return { kind: 'stamp' };
  const since = Math.max(h.disconnectedAt, h.observingSince);
  const lostAt = since + h.lostAfterMs;
  if (h.now < lostAt) return { kind: 'disconnected', lostInMs: lostAt - h.now };
  return { kind: 'lost', disconnectedForMs: h.now - h.disconnectedAt };
}

/** The host as a lost-host message names it. */
export type LostHost =
  { kind: 'instance'; containerInstanceId: string } | { kind: 'managed'; hostId: string };

/** "5 minutes", "2 seconds", "1500 ms": the largest whole unit. */
export function formatDuration(ms: number): string {
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms >= 60_000 && ms % 60_000 === 0) return plural(ms / 60_000, 'minute');
  if (ms >= 1_000 && ms % 1_000 === 0) return plural(ms / 1_000, 'second');
  return `${ms} ms`;
}

/** stoppedReason of a task stopped because its host is lost (after ECS's "Host EC2 (instance …) terminated."). */
export function lostHostReason(host: LostHost, lostAfterMs: number): string {
  const what =
    host.kind === 'instance' ? `Container instance ${host.containerInstanceId}` : `Host ${host.hostId}`;
  return `${what} lost: its agent has been disconnected for more than ${formatDuration(lostAfterMs)}.`;
}

export interface LostTaskOutcome {
  task: TaskRecord;
  /** What the host record must undergo in the same transaction (counts, reservation back once). */
  hostChange: HostChange;
}

/**
 * A task on a lost host, marked STOPPED by the control plane; undefined when it already is.
 * As for StopTask, the first stop wins: a stopCode and stoppedReason already set (the user
 * stopped it, an essential container exited) are kept. Timestamps are set once.
 */
export function computeLostTask(
  task: TaskRecord,
  opts: { now: number; reason: string },
): LostTaskOutcome | undefined {
  if (task.lastStatus === 'STOPPED') return undefined;
  const nowS = toEpochSeconds(opts.now);
  const releaseNow = task.berth?.released !== true;
  const next: TaskRecord = {
    ...task,
    desiredStatus: 'STOPPED',
    lastStatus: 'STOPPED',
    stopCode: task.stopCode ?? LOST_HOST_STOP_CODE,
    stoppedReason: task.stoppedReason ?? opts.reason,
    stoppingAt: task.stoppingAt ?? nowS,
    executionStoppedAt: task.executionStoppedAt ?? nowS,
    stoppedAt: task.stoppedAt ?? nowS,
    version: (task.version ?? 1) + 1,
    berth: { ...task.berth, released: true },
  };
  if (task.containers) next.containers = task.containers.map((c) => ({ ...c, lastStatus: 'STOPPED' }));
  if (task.attachments) {
    next.attachments = task.attachments.map((a) =>
      a.type === ENI_ATTACHMENT_TYPE ? { ...a, status: 'DELETED' } : a,
    );
  }
  const from = taskCountPhase(task);
  const release = releaseNow ? task.berth?.reserved : undefined;
  return {
    task: next,
    hostChange: { ...(from !== undefined ? { from } : {}), ...(release ? { release } : {}) },
  };
}
