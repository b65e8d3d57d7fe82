// Service events as ECS writes them (DescribeServices `events`), newest first, at most 100:
//   (service web) has started 2 tasks: (task 1a2b...) (task 3c4d...).
//   (service web) has stopped 1 running tasks: (task 1a2b...).
//   (service web) (task 1a2b...) failed container health checks.
//   (service web) has reached a steady state.
//   (service web) (deployment ecs-svc/123...) deployment completed.
//   (service web) (deployment ecs-svc/123...) deployment failed: tasks failed to start.
//   (service web) (deployment ecs-svc/123...) rolling back to deployment ecs-svc/456....
//   (service web) was unable to place a task because no container instance met all of its
//     requirements. The closest matching (container-instance 5f1c...) has insufficient memory available.
//   (service web) is unable to consistently start tasks successfully. ...
// Berth adds one ECS leaves out: a task that stopped on its own, with its reason, e.g.
//   (service web) (task 1a2b...) stopped: Essential container in task exited.
// Task lists are split into events of at most 10 tasks. The events of a condition that lasts
// (unable to place, launch back-off, no rollback possible) are not written again while the same
// message is among the events of the last five minutes: every retry would repeat them.
import type { ServiceEvent } from '../../generated/ecs/types.js';
import { toEpochSeconds } from '../clock.js';

export const MAX_SERVICE_EVENTS = 100;
export const TASKS_PER_EVENT = 10;
export const EVENT_REPEAT_WINDOW_MS = 5 * 60 * 1000;

const svc = (name: string): string => `(service ${name})`;

/** The id of a task ARN (its last path segment). */
export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function taskList(taskArns: readonly string[]): string {
  return taskArns.map((a) => `(task ${taskIdOf(a)})`).join(' ');
}

export function startedTasksEvents(service: string, taskArns: readonly string[]): string[] {
  return chunks(taskArns, TASKS_PER_EVENT).map(
    (c) => `${svc(service)} has started ${c.length} tasks: ${taskList(c)}.`,
  );
}

export function stoppedTasksEvents(service: string, taskArns: readonly string[]): string[] {
  return chunks(taskArns, TASKS_PER_EVENT).map(
    (c) => `${svc(service)} has stopped ${c.length} running tasks: ${taskList(c)}.`,
  );
}

export function unhealthyTaskEvent(service: string, taskArn: string): string {
  return `${svc(service)} (task ${taskIdOf(taskArn)}) failed container health checks.`;
}

export function taskStoppedOnItsOwnEvent(
  service: string,
  taskArn: string,
  reason: string | undefined,
): string {
  const why = reason !== undefined && reason !== '' ? reason : 'no reason was reported';
  return `${svc(service)} (task ${taskIdOf(taskArn)}) stopped: ${why.endsWith('.') ? why : `${why}.`}`;
}

export function steadyStateEvent(service: string): string {
  return `${svc(service)} has reached a steady state.`;
}

export function deploymentCompletedEvent(service: string, deploymentId: string): string {
  return `${svc(service)} (deployment ${deploymentId}) deployment completed.`;
}

export const CIRCUIT_BREAKER_REASON = 'tasks failed to start';

export function deploymentFailedEvent(service: string, deploymentId: string, reason: string): string {
  return `${svc(service)} (deployment ${deploymentId}) deployment failed: ${reason}.`;
}

export function rollingBackEvent(service: string, failedId: string, targetId: string): string {
  return `${svc(service)} (deployment ${failedId}) rolling back to deployment ${targetId}.`;
}

export function rollbackUnavailableEvent(service: string, failedId: string): string {
  return `${svc(service)} (deployment ${failedId}) cannot roll back: no deployment of the service has completed; no new tasks are launched for it.`;
}

export function drainingInstanceEvent(
  service: string,
  instanceId: string,
  taskArns: readonly string[],
): string[] {
  return chunks(taskArns, TASKS_PER_EVENT).map(
    (c) =>
      `${svc(service)} is moving ${c.length} tasks off draining container instance ${instanceId}: ${taskList(c)}.`,
  );
}

/** ECS's throttling event, with when Berth tries again. */
export function launchBackoffEvent(
  service: string,
  deploymentId: string,
  failures: number,
  delayMs: number,
): string {
  const seconds = Math.ceil(delayMs / 1000);
  return (
    `${svc(service)} is unable to consistently start tasks successfully: ${failures} tasks of deployment ${deploymentId} ` +
    `failed in a row. The next launch is in ${seconds} seconds (the delay doubles, up to 15 minutes).`
  );
}

/**
 * A task fitted nowhere. `detail` is the placement engine's sentence about the closest instance
 * ("The closest matching (container-instance 5f1c...) has insufficient memory available.") or a
 * reason ("Reason: No Container Instances were found in your cluster.").
 */
export function unableToPlaceEvent(service: string, detail: string): string {
  return `${svc(service)} was unable to place a task because no container instance met all of its requirements. ${detail}`;
}

const LASTING_CONDITIONS = [
  'was unable to place a task',
  'is unable to consistently start tasks successfully',
  'cannot roll back',
  'cannot start tasks for',
];

/** An event about a condition that lasts across passes (see the top of this file). */
export function isLastingConditionEvent(message: string): boolean {
  return LASTING_CONDITIONS.some((c) => message.includes(c));
}

/**
 * `messages` (oldest first, as they happened) added to `events` (newest first), keeping at most
 * MAX_SERVICE_EVENTS; a lasting-condition message already written in the last
 * EVENT_REPEAT_WINDOW_MS is skipped.
 */
export function appendServiceEvents(
  events: readonly ServiceEvent[],
  messages: readonly string[],
  now: number,
  newId: () => string,
): ServiceEvent[] {
  if (messages.length === 0) return [...events];
  const since = toEpochSeconds(now - EVENT_REPEAT_WINDOW_MS);
  const recent = new Set(events.filter((e) => (e.createdAt ?? 0) >= since).map((e) => e.message));
  const added: ServiceEvent[] = [];
  for (const message of messages) {
    if (isLastingConditionEvent(message) && recent.has(message)) continue;
    recent.add(message);
    added.unshift({ id: newId(), createdAt: toEpochSeconds(now), message });
  }
  if (added.length === 0) return [...events];
  return [...added, ...events].slice(0, MAX_SERVICE_EVENTS);
}
