// Container instance statuses and what UpdateContainerInstancesState may do with them.
//   REGISTERING ──► ACTIVE ◄──► DRAINING
//        │            │            │
//        ▼            └─────┬──────┘
//  REGISTRATION_FAILED      ▼ DeregisterContainerInstance
//                    DEREGISTERING ──► INACTIVE (final: the record stays for Describe*)
// Berth registers synchronously, so new instances are ACTIVE at once; REGISTERING,
// REGISTRATION_FAILED and DEREGISTERING exist for the wire enum and later asynchronous steps.

export type ContainerInstanceStatus =
  'REGISTERING' | 'REGISTRATION_FAILED' | 'ACTIVE' | 'DRAINING' | 'DEREGISTERING' | 'INACTIVE';

export type UpdatableStatus = 'ACTIVE' | 'DRAINING';

export function isUpdatableStatus(status: string): status is UpdatableStatus {
  return status === 'ACTIVE' || status === 'DRAINING';
}

/** Everything but INACTIVE is still registered: ListContainerInstances shows it without a status filter. */
export function isRegistered(status: string | undefined): boolean {
  return status !== 'INACTIVE';
}

export type StateUpdatePlan =
  { kind: 'unchanged' } | { kind: 'change' } | { kind: 'refused'; reason: string; detail: string };

/**
 * What UpdateContainerInstancesState does to one instance. Only ACTIVE and DRAINING instances move
 * (ECS: an instance can't be set to DRAINING before it is ACTIVE); setting the current status
 * again changes nothing (and does not bump the version).
 */
export function planStateUpdate(current: string | undefined, desired: UpdatableStatus): StateUpdatePlan {
  if (current === desired) return { kind: 'unchanged' };
  if (current !== undefined && isUpdatableStatus(current)) return { kind: 'change' };
  const status = current ?? 'UNKNOWN';
  return {
    kind: 'refused',
    reason: status,
    detail: `The container instance is ${status}; only ACTIVE or DRAINING instances can be set to ${desired}.`,
  };
}
