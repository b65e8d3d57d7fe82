// Asking a task to stop (StopTask, and later the service scheduler): desiredStatus only moves
// forward, RUNNING → STOPPED. The first stop request wins: its stopCode, stoppedReason and
// stoppingAt stay even when the task is asked again or an agent later reports its own.
// The agent sees the new desiredStatus and stops the containers (SIGTERM, then SIGKILL after
// stopTimeout); its reports then carry lastStatus down to STOPPED.
import type { TaskStopCode } from '../../generated/ecs/types.js';
import { toEpochSeconds } from '../clock.js';
import type { TaskRecord } from '../records.js';

/** What ECS shows as stoppedReason when StopTask is given no reason. */
export const USER_STOP_REASON = 'Task stopped by user';

export interface StopRequest {
  stopCode?: TaskStopCode;
  reason?: string;
  /** Epoch milliseconds. */
  now: number;
}

/** The task asked to stop, or undefined when it already was (nothing to write). */
export function requestTaskStop(task: TaskRecord, req: StopRequest): TaskRecord | undefined {
  if (task.desiredStatus === 'STOPPED') return undefined;
  const reason = req.reason !== undefined && req.reason !== '' ? req.reason : USER_STOP_REASON;
  return {
    ...task,
    desiredStatus: 'STOPPED',
    stopCode: task.stopCode ?? req.stopCode ?? 'UserInitiated',
    stoppedReason: task.stoppedReason ?? reason,
    stoppingAt: task.stoppingAt ?? toEpochSeconds(req.now),
    version: (task.version ?? 1) + 1,
  };
}
