// The ManagedHostRecord a session's hello (or its end) leads to. Pure. (`updatedAt` is epoch
// milliseconds, as placement in src/control/tasks.ts writes it: the record is never on the wire.)
//
// `remaining` is what placement has not reserved: registered minus what the tasks on the host
// reserved. Placement (not the gateway) reserves and releases; the gateway only keeps the
// equation true when the host announces different capacity: remaining moves by the same
// difference as registered. It may go negative when a host shrinks below what its running tasks
// hold; placement then finds no room until they stop.
import type { HelloManagedCapacity } from '../domain/agent-protocol.js';
import type { ManagedHostRecord } from '../domain/records.js';

/**
 * The record to write, or undefined when nothing would change (beyond updatedAt).
 * `capacity` is what the host's current session announces; undefined when it has no session
 * (or one that does not offer managed capacity): the host is then only marked disconnected.
 */
export function computeManagedHost(
  prev: ManagedHostRecord | undefined,
  hostId: string,
  capacity: HelloManagedCapacity | undefined,
  nowMs: number,
): ManagedHostRecord | undefined {
  if (!capacity) {
    if (!prev || !prev.agentConnected) return undefined;
    return { ...prev, agentConnected: false, updatedAt: nowMs };
  }
  const registered = { cpu: capacity.cpu, memory: capacity.memory };
  const remaining = prev
    ? {
        cpu: prev.remaining.cpu + (registered.cpu - prev.registered.cpu),
        memory: prev.remaining.memory + (registered.memory - prev.registered.memory),
      }
    : { ...registered };
  const next: ManagedHostRecord = {
    hostId,
    availabilityZone: capacity.availabilityZone,
    agentConnected: true,
    registered,
    remaining,
    runningTasksCount: prev?.runningTasksCount ?? 0,
    pendingTasksCount: prev?.pendingTasksCount ?? 0,
    updatedAt: nowMs,
  };
  if (
    prev &&
    prev.agentConnected &&
    prev.availabilityZone === next.availabilityZone &&
    prev.registered.cpu === registered.cpu &&
    prev.registered.memory === registered.memory
  ) {
    return undefined;
  }
  return next;
}
