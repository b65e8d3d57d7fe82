// What a task reserves on the host that runs it, and how that reservation is taken from and
// given back to a host's remaining resources.
//
//   cpu     task-level cpu if set (after overrides), else the sum of the containers' cpu
//   memory  task-level memory if set, else the sum over containers of memoryReservation ?? memory
//   ports   static host ports, by protocol, in bridge mode (hostPort set and not 0) and host
//           mode (hostPort, which registration fills in as the container port); awsvpc and none
//           tasks bind no host ports (each awsvpc task has its own network namespace)
//   FARGATE reserves cpu and memory only: its tasks are awsvpc and run on managed capacity.
//
// On a container instance the reservation lives in remainingResources (CPU, MEMORY as amounts
// left; PORTS, PORTS_UDP as the set of ports taken, see container-instance/resources.ts).
import type { ContainerDefinition, LaunchType, NetworkMode, Resource } from '../../generated/ecs/types.js';
import { resourceAmount } from '../container-instance/resources.js';
import { effectiveNetworkMode } from '../task-definition/network.js';

export interface TaskReservation {
  cpu: number;
  memory: number;
  /** TCP host ports, ascending. */
  ports: number[];
  /** UDP host ports, ascending. */
  portsUdp: number[];
}

export interface ReservationInput {
  /** Containers after overrides (overrides.ts `withContainerOverrides`). */
  containers: readonly ContainerDefinition[];
  /** Task-level cpu/memory after overrides, as unit strings. */
  cpu?: string;
  memory?: string;
  networkMode?: NetworkMode;
  launchType: LaunchType;
}

const PORT_RANGE = /^(\d+)-(\d+)$/;

function sortedUnique(ports: Iterable<number>): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** Static host ports the containers bind on the host, by protocol. */
export function staticHostPorts(
  containers: readonly ContainerDefinition[],
  networkMode: NetworkMode | undefined,
): { ports: number[]; portsUdp: number[] } {
  const mode = effectiveNetworkMode(networkMode);
  const tcp: number[] = [];
  const udp: number[] = [];
  if (mode !== 'bridge' && mode !== 'host') return { ports: [], portsUdp: [] };
  for (const c of containers) {
    for (const pm of c.portMappings ?? []) {
      const into = pm.protocol === 'udp' ? udp : tcp;
      if (pm.containerPortRange !== undefined) {
        // Bridge mode maps a range to dynamic host ports; host mode binds the range itself.
        if (mode !== 'host') continue;
        const m = PORT_RANGE.exec(pm.containerPortRange.trim());
        if (!m) continue;
        for (let p = Number(m[1]); p <= Number(m[2]); p++) into.push(p);
        continue;
      }
      const hostPort = mode === 'host' ? (pm.hostPort ?? pm.containerPort) : pm.hostPort;
      if (hostPort !== undefined && hostPort > 0) into.push(hostPort);
    }
  }
  return { ports: sortedUnique(tcp), portsUdp: sortedUnique(udp) };
}

export function computeTaskReservation(input: ReservationInput): TaskReservation {
  const cpu =
    input.cpu !== undefined ? Number(input.cpu) : input.containers.reduce((sum, c) => sum + (c.cpu ?? 0), 0);
  const memory =
    input.memory !== undefined
      ? Number(input.memory)
      : input.containers.reduce((sum, c) => sum + (c.memoryReservation ?? c.memory ?? 0), 0);
  if (input.launchType === 'FARGATE') return { cpu, memory, ports: [], portsUdp: [] };
  return { cpu, memory, ...staticHostPorts(input.containers, input.networkMode) };
}

/** What a host has left, in the form placement compares against. */
export interface HostRemaining {
  cpu: number;
  memory: number;
  /** TCP host ports already taken (reserved by the host or held by tasks). */
  ports: ReadonlySet<number>;
  portsUdp: ReadonlySet<number>;
}

function portSet(resources: readonly Resource[] | undefined, name: string): Set<number> {
  const r = resources?.find((x) => x.name === name);
  return new Set((r?.stringSetValue ?? []).map(Number));
}

function amount(resources: readonly Resource[] | undefined, name: string): number {
  const r = resources?.find((x) => x.name === name);
  return r ? resourceAmount(r) : 0;
}

/** A container instance's remainingResources as placement reads them. */
export function instanceRemaining(remaining: readonly Resource[] | undefined): HostRemaining {
  return {
    cpu: amount(remaining, 'CPU'),
    memory: amount(remaining, 'MEMORY'),
    ports: portSet(remaining, 'PORTS'),
    portsUdp: portSet(remaining, 'PORTS_UDP'),
  };
}

function withAmount(r: Resource, value: number): Resource {
  if (r.type === 'LONG') return { ...r, longValue: value };
  if (r.type === 'DOUBLE') return { ...r, doubleValue: value };
  return { ...r, integerValue: value };
}

function withPorts(r: Resource, ports: Iterable<number>): Resource {
  return { ...r, stringSetValue: sortedUnique(ports).map(String) };
}

function ensurePortResources(resources: readonly Resource[]): Resource[] {
  const out = [...resources];
  for (const name of ['PORTS', 'PORTS_UDP']) {
    if (!out.some((r) => r.name === name)) out.push({ name, type: 'STRINGSET', stringSetValue: [] });
  }
  return out;
}

/**
 * remainingResources with a task's reservation taken out. Placement has checked that it fits;
 * amounts never go below 0 all the same.
 */
export function reserveOnInstance(remaining: readonly Resource[], r: TaskReservation): Resource[] {
  return ensurePortResources(remaining).map((res) => {
    switch (res.name ?? '') {
      case 'CPU':
        return withAmount(res, Math.max(0, resourceAmount(res) - r.cpu));
      case 'MEMORY':
        return withAmount(res, Math.max(0, resourceAmount(res) - r.memory));
      case 'PORTS':
        return r.ports.length ? withPorts(res, [...portSet([res], 'PORTS'), ...r.ports]) : res;
      case 'PORTS_UDP':
        return r.portsUdp.length ? withPorts(res, [...portSet([res], 'PORTS_UDP'), ...r.portsUdp]) : res;
      default:
        return res;
    }
  });
}

/**
 * remainingResources with a task's reservation given back: amounts never above what the host
 * registered; ports the host itself reserves (registeredResources PORTS) stay taken.
 */
export function releaseOnInstance(
  remaining: readonly Resource[],
  registered: readonly Resource[] | undefined,
  r: TaskReservation,
): Resource[] {
  const cap = (name: string, value: number): number => {
    const reg = registered?.find((x) => x.name === name);
    return reg ? Math.min(resourceAmount(reg), value) : value;
  };
  const drop = (res: Resource, name: string, ports: readonly number[]): Resource => {
    if (ports.length === 0) return res;
    const reservedByHost = portSet(registered, name);
    const release = new Set(ports.filter((p) => !reservedByHost.has(p)));
    return withPorts(
      res,
      [...portSet([res], name)].filter((p) => !release.has(p)),
    );
  };
  return remaining.map((res) => {
    switch (res.name ?? '') {
      case 'CPU':
        return withAmount(res, cap('CPU', resourceAmount(res) + r.cpu));
      case 'MEMORY':
        return withAmount(res, cap('MEMORY', resourceAmount(res) + r.memory));
      case 'PORTS':
        return drop(res, 'PORTS', r.ports);
      case 'PORTS_UDP':
        return drop(res, 'PORTS_UDP', r.portsUdp);
      default:
        return res;
    }
  });
}

/** Managed (FARGATE) capacity counts cpu and memory only. */
export interface ManagedCapacity {
  cpu: number;
  memory: number;
}

export function reserveOnManaged(remaining: ManagedCapacity, r: TaskReservation): ManagedCapacity {
  return { cpu: Math.max(0, remaining.cpu - r.cpu), memory: Math.max(0, remaining.memory - r.memory) };
}

export function releaseOnManaged(
  remaining: ManagedCapacity,
  registered: ManagedCapacity,
  r: TaskReservation,
): ManagedCapacity {
  return {
    cpu: Math.min(registered.cpu, remaining.cpu + r.cpu),
    memory: Math.min(registered.memory, remaining.memory + r.memory),
  };
}
