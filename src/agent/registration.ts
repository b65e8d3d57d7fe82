// What this host tells RegisterContainerInstance: its resources, built-in and capability
// attributes, and versions. Pure: the engine's facts come in as arguments.
//
// Capabilities are advertised only for what this agent really does (each is used by placement
// as an implicit constraint through a task definition's requiresAttributes, see
// src/domain/task-definition/requires-attributes.ts):
//   docker-remote-api.1.17 … the engine's API version   every Docker API level up to the engine's
//   logging-driver.{json-file,local,journald,none,awslogs}  drivers whose output `berth logs` reads
//                                                          (awslogs is kept locally: see container-spec.ts)
//   privileged-container, task-cpu-mem-limit, task-eni, container-health-check, container-ordering,
//   docker-plugin.local (docker volumes), env-vars from overrides (always)
// Not advertised: task-iam-role (no credentials endpoint yet), secrets, env-files, firelens,
// private-registry-authentication, efs.
import type { Attribute, RegisterContainerInstanceRequest, Resource } from '../generated/ecs/types.js';
import type { EngineInfo, EngineVersion } from './runtime/container-runtime.js';

export const RESERVED_TCP_PORTS = ['22', '2375', '2376', '51678', '51679', '51680'] as const;
const MiB = 1024 * 1024;
const DOCKER_API = 'com.amazonaws.ecs.capability.docker-remote-api.';
const FIRST_DOCKER_API_MINOR = 17;
/** Newest Docker API level the ECS agent names; an engine newer than that is listed up to here. */
const LAST_KNOWN_DOCKER_API_MINOR = 44;

export const SUPPORTED_LOG_DRIVERS = ['json-file', 'local', 'journald', 'none', 'awslogs'] as const;

export const CAPABILITY_ATTRIBUTES = [
  'com.amazonaws.ecs.capability.privileged-container',
  'ecs.capability.task-cpu-mem-limit',
  'ecs.capability.task-eni',
  'ecs.capability.container-health-check',
  'ecs.capability.container-ordering',
  'ecs.capability.docker-plugin.local',
] as const;

export interface HostFacts {
  engine: EngineInfo;
  version: EngineVersion;
}

export interface RegistrationSettings {
  cluster: string;
  reservedMemoryMiB: number;
  availabilityZone: string;
  instanceType: string;
  attributes: Record<string, string>;
  agentVersion: string;
  /** The saved registration, when this host registered before. */
  containerInstanceArn?: string;
}

/** `amd64` → `x86_64`, `arm64`/`aarch64` → `arm64`, as ECS spells `ecs.cpu-architecture`. */
export function cpuArchitecture(arch: string): string {
  if (arch === 'amd64' || arch === 'x86_64') return 'x86_64';
  if (arch === 'arm64' || arch === 'aarch64') return 'arm64';
  return arch;
}

/** `1.41` → every level from 1.17 to 1.41. */
export function dockerApiVersions(apiVersion: string): string[] {
  const m = /^1\.(\d+)/.exec(apiVersion);
  const top = Math.min(m ? Number(m[1]) : FIRST_DOCKER_API_MINOR, LAST_KNOWN_DOCKER_API_MINOR);
  const out: string[] = [];
  for (let minor = FIRST_DOCKER_API_MINOR; minor <= top; minor++) out.push(`1.${minor}`);
  return out;
}

export function computeTotalResources(engine: EngineInfo, reservedMemoryMiB: number): Resource[] {
  const memory = Math.max(0, Math.floor(engine.memoryBytes / MiB) - reservedMemoryMiB);
  return [
    { name: 'CPU', type: 'INTEGER', integerValue: Math.max(1, Math.round(engine.cpus)) * 1024 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: [...RESERVED_TCP_PORTS] },
    { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
  ];
}

export function computeAttributes(facts: HostFacts, s: RegistrationSettings): Attribute[] {
  const out: Attribute[] = [
    { name: 'ecs.os-type', value: 'linux' },
    { name: 'ecs.os-family', value: 'LINUX' },
    { name: 'ecs.cpu-architecture', value: cpuArchitecture(facts.version.arch) },
    { name: 'ecs.availability-zone', value: s.availabilityZone },
    { name: 'ecs.instance-type', value: s.instanceType },
  ];
  for (const v of dockerApiVersions(facts.version.apiVersion)) out.push({ name: `${DOCKER_API}${v}` });
  for (const d of SUPPORTED_LOG_DRIVERS)
    out.push({ name: `com.amazonaws.ecs.capability.logging-driver.${d}` });
  for (const c of CAPABILITY_ATTRIBUTES) out.push({ name: c });
  for (const [name, value] of Object.entries(s.attributes)) out.push({ name, value });
  return out;
}

export function computeRegistrationRequest(
  facts: HostFacts,
  s: RegistrationSettings,
): RegisterContainerInstanceRequest {
  return {
    cluster: s.cluster,
    totalResources: computeTotalResources(facts.engine, s.reservedMemoryMiB),
    attributes: computeAttributes(facts, s),
    versionInfo: {
      agentVersion: s.agentVersion,
      agentHash: 'berth',
      dockerVersion: `DockerVersion: ${facts.version.version}`,
    },
    ...(s.containerInstanceArn !== undefined ? { containerInstanceArn: s.containerInstanceArn } : {}),
  };
}

/** What this host offers as managed (FARGATE) capacity: the same cpu and memory it registers. */
export function computeManagedCapacity(
  engine: EngineInfo,
  reservedMemoryMiB: number,
  availabilityZone: string,
): { cpu: number; memory: number; availabilityZone: string } {
  const [cpu, memory] = computeTotalResources(engine, reservedMemoryMiB);
  return { cpu: cpu!.integerValue!, memory: Math.max(1, memory!.integerValue!), availabilityZone };
}
