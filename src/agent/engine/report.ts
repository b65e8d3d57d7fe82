// What the agent reports about a task (TaskStateReport), and the fingerprint that decides whether
// a report is due: a report is queued when, and only when, something the control plane shows
// changed (task status, a container's status, exit code, reason, health, host ports, the ENI).
// Container ids alone do not make a report; they travel with the next one. Pure.
import type { ContainerObservation, TaskStateReport } from '../../domain/agent-protocol.js';
import type { NetworkBinding } from '../../generated/ecs/types.js';
import { privateDnsName } from '../network/ipam.js';
import {
  ecsContainerStatus,
  eniOf,
  networkModeOf,
  containerDefinitions,
  type HealthText,
  type KnownContainer,
  type TaskState,
} from './task-state.js';

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

export function networkBindings(state: TaskState, c: KnownContainer): NetworkBinding[] {
  const mode = networkModeOf(state.task);
  if (c.known !== 'RUNNING') return [];
  if (mode === 'bridge') {
    return c.ports.map((p) => ({
      bindIP: p.hostIp,
      containerPort: p.containerPort,
      hostPort: p.hostPort,
      protocol: p.protocol,
    }));
  }
  if (mode === 'host') {
    const def = containerDefinitions(state.task).find((d) => d.name === c.name);
    return (def?.portMappings ?? [])
      .filter((pm) => pm.containerPort !== undefined)
      .map((pm) => ({
        bindIP: '0.0.0.0',
        containerPort: pm.containerPort!,
        hostPort: pm.containerPort!,
        protocol: pm.protocol ?? 'tcp',
      }));
  }
  return [];
}

/** HEALTHY when every essential container with a check is healthy; UNHEALTHY when one is not; UNKNOWN otherwise or without checks. */
export function computeTaskHealth(containers: readonly KnownContainer[]): HealthText {
  const checked = containers.filter((c) => c.essential && c.hasHealthCheck);
  if (checked.length === 0) return 'UNKNOWN';
  if (checked.some((c) => c.health?.status === 'UNHEALTHY')) return 'UNHEALTHY';
  if (checked.every((c) => c.known === 'RUNNING' && c.health?.status === 'HEALTHY')) return 'HEALTHY';
  return 'UNKNOWN';
}

function observe(state: TaskState, c: KnownContainer): ContainerObservation {
  return {
    containerName: c.name,
    status: ecsContainerStatus(c.known),
    ...(c.dockerId !== undefined ? { runtimeId: c.dockerId } : {}),
    ...(c.exitCode !== undefined && c.known === 'STOPPED' ? { exitCode: c.exitCode } : {}),
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    networkBindings: networkBindings(state, c),
    ...(c.hasHealthCheck ? { healthStatus: c.health?.status ?? 'UNKNOWN' } : {}),
    dockerName: c.dockerName,
    image: c.image,
  };
}

export function buildReport(state: TaskState, region: string): TaskStateReport {
  const eni = eniOf(state, (ip) => privateDnsName(ip, region));
  const stopping = state.desired === 'STOPPED';
  return {
    taskArn: state.task.taskArn,
    status: state.known,
    ...(stopping && state.stoppedReason !== undefined ? { reason: state.stoppedReason } : {}),
    ...(stopping && state.stopCode !== undefined ? { stopCode: state.stopCode } : {}),
    containers: state.containers.map((c) => observe(state, c)),
    ...(eni ? { eni } : {}),
    healthStatus: computeTaskHealth(state.containers),
    ...(state.pullStartedAt !== undefined ? { pullStartedAt: seconds(state.pullStartedAt)! } : {}),
    ...(state.pullStoppedAt !== undefined ? { pullStoppedAt: seconds(state.pullStoppedAt)! } : {}),
    ...(state.startedAt !== undefined ? { startedAt: seconds(state.startedAt)! } : {}),
    ...(state.stoppingAt !== undefined && stopping ? { stoppingAt: seconds(state.stoppingAt)! } : {}),
    ...(state.executionStoppedAt !== undefined
      ? { executionStoppedAt: seconds(state.executionStoppedAt)! }
      : {}),
  };
}

/** The part of a report whose change makes a new report due. */
export function reportFingerprint(r: TaskStateReport): string {
  return JSON.stringify({
    s: r.status,
    c: r.stopCode,
    r: r.reason,
    h: r.healthStatus,
    e: r.eni?.privateIPv4Address,
    k: r.containers.map((c) => [
      c.containerName,
      c.status,
      c.exitCode,
      c.reason,
      c.healthStatus,
      c.networkBindings,
    ]),
  });
}
