// Task and container statuses as ordered enums: "has it progressed" is a comparison, and a
// status never moves backwards. This ordering makes reports idempotent: applying the same
// (or an older) report twice changes nothing.
//
//   PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
//
// PROVISIONING covers network set-up (awsvpc), ACTIVATING load-balancer / service-discovery
// registration, DEACTIVATING their removal.

export const TASK_STATUSES = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const CONTAINER_STATUSES = ['PENDING', 'RUNNING', 'STOPPED'] as const;
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

export type DesiredTaskStatus = 'RUNNING' | 'STOPPED';

const taskRank = new Map<string, number>(TASK_STATUSES.map((s, i) => [s, i]));
const containerRank = new Map<string, number>(CONTAINER_STATUSES.map((s, i) => [s, i]));

export function isTaskStatus(s: string): s is TaskStatus {
  return taskRank.has(s);
}

/** -1, 0, 1 like a comparator; unknown statuses rank before every known one. */
export function compareTaskStatus(a: string, b: string): number {
  return Math.sign((taskRank.get(a) ?? -1) - (taskRank.get(b) ?? -1));
}

export function hasTaskReached(current: string | undefined, target: TaskStatus): boolean {
  return current !== undefined && compareTaskStatus(current, target) >= 0;
}

export function compareContainerStatus(a: string, b: string): number {
  return Math.sign((containerRank.get(a) ?? -1) - (containerRank.get(b) ?? -1));
}

export function isTaskStopped(lastStatus: string | undefined): boolean {
  return lastStatus === 'STOPPED';
}

/** A task counts as "pending" for cluster and instance counts until it runs (and unless it is stopping). */
export function isTaskPendingCount(lastStatus: string | undefined): boolean {
  return lastStatus === 'PROVISIONING' || lastStatus === 'PENDING' || lastStatus === 'ACTIVATING';
}

export function isTaskRunningCount(lastStatus: string | undefined): boolean {
  return lastStatus === 'RUNNING';
}
