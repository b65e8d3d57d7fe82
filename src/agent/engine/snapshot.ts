// The read-only view of a task for the metadata endpoint and the logs relay (task-view.ts),
// derived from the runner's state. Pure; every value is a copy.
import { privateDnsName } from '../network/ipam.js';
import type { ContainerSnapshot, TaskSnapshot } from '../task-view.js';
import { networkBindings } from './report.js';
import {
  ecsContainerStatus,
  eniOf,
  networkModeOf,
  type KnownContainer,
  type TaskState,
} from './task-state.js';

function networksOf(state: TaskState, c: KnownContainer): ContainerSnapshot['networks'] {
  const mode = networkModeOf(state.task);
  if (mode === 'awsvpc') {
    const n = state.network;
    if (!n?.ip) return [{ networkMode: 'awsvpc', ipv4Addresses: [] }];
    return [
      {
        networkMode: 'awsvpc',
        ipv4Addresses: [n.ip],
        ...(n.subnetCidr ? { ipv4SubnetCidrBlock: n.subnetCidr } : {}),
      },
    ];
  }
  if (mode === 'bridge') {
    const nets = c.networks.filter((x) => x.ipv4Address);
    if (nets.length === 0) return [{ networkMode: 'bridge', ipv4Addresses: [] }];
    return nets.map((x) => ({ networkMode: 'bridge', ipv4Addresses: [x.ipv4Address!] }));
  }
  return [{ networkMode: mode, ipv4Addresses: [] }];
}

function portsOf(state: TaskState, c: KnownContainer): ContainerSnapshot['ports'] {
  if (networkModeOf(state.task) === 'awsvpc') {
    const def = state.task.taskDefinition.containerDefinitions?.find((d) => d.name === c.name);
    const ip = state.network?.ip ?? '';
    return (def?.portMappings ?? [])
      .filter((pm) => pm.containerPort !== undefined)
      .map((pm) => ({
        containerPort: pm.containerPort!,
        hostPort: pm.containerPort!,
        protocol: pm.protocol ?? 'tcp',
        hostIp: ip,
      }));
  }
  return networkBindings(state, c).map((b) => ({
    containerPort: b.containerPort ?? 0,
    hostPort: b.hostPort ?? 0,
    protocol: b.protocol ?? 'tcp',
    hostIp: b.bindIP ?? '0.0.0.0',
  }));
}

export function containerSnapshot(state: TaskState, c: KnownContainer): ContainerSnapshot {
  return {
    name: c.name,
    containerArn: c.containerArn,
    metadataId: c.metadataId,
    ...(c.dockerId !== undefined ? { dockerId: c.dockerId } : {}),
    dockerName: c.dockerName,
    image: c.image,
    ...(c.imageId !== undefined ? { imageId: c.imageId } : {}),
    knownStatus: ecsContainerStatus(c.known),
    desiredStatus: state.desired,
    ...(c.exitCode !== undefined && c.known === 'STOPPED' ? { exitCode: c.exitCode } : {}),
    ...(c.createdAt !== undefined ? { createdAt: c.createdAt } : {}),
    ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
    ...(c.finishedAt !== undefined ? { finishedAt: c.finishedAt } : {}),
    ...(c.hasHealthCheck
      ? {
          health: {
            status: c.health?.status ?? 'UNKNOWN',
            ...(c.health?.since !== undefined ? { since: c.health.since } : {}),
            ...(c.health?.output !== undefined ? { output: c.health.output } : {}),
            ...(c.health?.exitCode !== undefined ? { exitCode: c.health.exitCode } : {}),
          },
        }
      : {}),
    ports: portsOf(state, c),
    networks: networksOf(state, c),
    labels: { ...c.labels },
    limits: { ...c.limits },
    ...(c.logDriver !== undefined ? { logDriver: c.logDriver } : {}),
    ...(c.logOptions !== undefined ? { logOptions: { ...c.logOptions } } : {}),
    type: 'NORMAL',
  };
}

export function taskSnapshot(state: TaskState, availabilityZone: string): TaskSnapshot {
  const eni = eniOf(state, (ip) => privateDnsName(ip, state.task.region));
  return {
    task: structuredClone(state.task),
    knownStatus: state.known,
    desiredStatus: state.desired,
    ...(state.pullStartedAt !== undefined ? { pullStartedAt: state.pullStartedAt } : {}),
    ...(state.pullStoppedAt !== undefined ? { pullStoppedAt: state.pullStoppedAt } : {}),
    ...(state.executionStoppedAt !== undefined ? { executionStoppedAt: state.executionStoppedAt } : {}),
    availabilityZone: state.task.availabilityZone ?? availabilityZone,
    ...(eni ? { eni } : {}),
    containers: state.containers.map((c) => containerSnapshot(state, c)),
  };
}
