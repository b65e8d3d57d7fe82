// The service event ECS writes when the service scheduler cannot place a task, built from the
// engine's failure: it names the closest matching instance (the one that passed the most checks)
// and what it lacked, e.g.
//   service web was unable to place a task because no container instance met all of its
//   requirements. The closest matching container-instance 5f1c... has insufficient memory available.
// ECS's own event then points at its troubleshooting guide; Berth's stops after the reason.
import type { PlacementFailure } from './engine.js';

export const NO_CONTAINER_INSTANCES_REASON = 'No Container Instances were found in your cluster.';

/** The event sentence for a task of `serviceName` that fitted nowhere. */
export function placementFailureEvent(serviceName: string, failure: PlacementFailure): string {
  const head = `service ${serviceName} was unable to place a task because no container instance met all of its requirements.`;
  const closest = failure.closest;
  if (!closest) return `${head} Reason: ${NO_CONTAINER_INSTANCES_REASON}`;
  return `${head} The closest matching container-instance ${closest.instanceId} ${closest.detail}`;
}

/**
 * The rejections in one line for logs and RunTask failure details: "3 RESOURCE:MEMORY, 1 AGENT",
 * largest count first.
 */
export function summarizeReasons(failure: PlacementFailure): string {
  return Object.entries(failure.reasonCounts)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
}
