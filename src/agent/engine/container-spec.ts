// An ECS container definition (with the task's overrides) as a runtime ContainerSpec. Pure.
//
// Choices a reader should know:
// - cpu → CpuShares, with Docker's minimum of 2 for 0 or absent (what the ECS agent does);
//   memory → hard limit; memoryReservation → soft limit.
// - Task-level cpu/memory (always on FARGATE, optional on EC2) are enforced per container: every
//   container of the task is capped at the task's cpu (NanoCpus = cpu/1024 CPUs) and, unless its
//   own memory is lower, at the task's memory (hard limit). A task of one container is limited
//   exactly as ECS limits it; a task of several can use up to its size in each container, not in
//   sum (ECS puts them under one task cgroup, which this agent does not create: the cgroup
//   layout differs between cgroup v1/v2 and the cgroupfs/systemd drivers, and the limits stay
//   visible in `docker inspect` this way).
// - Network modes: bridge publishes port mappings (hostPort 0/absent = a dynamic port) and makes
//   links; host and none publish nothing; awsvpc joins the task's pause container
//   (NetworkMode container:<pause>), so ports, links, hostname, DNS settings and extra hosts
//   belong to the pause container (see network/task-network.ts), as Docker requires.
// - Log drivers: awslogs and awsfirelens need AWS endpoints this host does not have; their output
//   is kept with json-file instead (readable with `berth logs`). Other drivers are used as given.
// - Refused (the task fails to start with CannotCreateContainerError naming the member, rather
//   than running without them): secrets, environmentFiles, repositoryCredentials,
//   firelensConfiguration, resourceRequirements (GPU), privileged containers on FARGATE.
import type { AgentTask } from '../../domain/agent-protocol.js';
import type { ContainerDefinition, KeyValuePair } from '../../generated/ecs/types.js';
import type {
  ContainerSpec,
  DeviceMapping,
  ImageCommand,
  Mount,
  NetworkMode as RuntimeNetworkMode,
  PortBinding,
} from '../runtime/container-runtime.js';
import { CannotCreateContainerError } from '../runtime/errors.js';
import { linkTargets } from './dependencies.js';
import {
  LABEL_CLUSTER,
  LABEL_CONTAINER_NAME,
  LABEL_FAMILY,
  LABEL_HOST_ID,
  LABEL_METADATA_ID,
  LABEL_REVISION,
  LABEL_TASK_ARN,
} from './labels.js';
import { DEFAULT_STOP_TIMEOUT_SECONDS } from './transitions.js';
import { clusterNameOf, networkModeOf } from './task-state.js';
import type { VolumeSource } from './volumes.js';
import {
  effectiveArgv,
  netwaitEntryPoint,
  NETWAIT_IN_CONTAINER,
  READY_DIR_IN_CONTAINER,
} from '../network/netwait.js';

/** Docker's smallest CpuShares value. */
export const MIN_CPU_SHARES = 2;
const NANO_CPUS_PER_UNIT = 1e9 / 1024;
const LOCAL_LOG_DRIVERS_FOR = new Set(['awslogs', 'awsfirelens']);

export interface SpecInput {
  task: AgentTask;
  container: string;
  dockerName: string;
  metadataId: string;
  /** Docker names of the task's containers, by container name (links, volumesFrom). */
  dockerNames: Record<string, string>;
  /** awsvpc: the pause container to join. */
  pauseContainer?: string;
  /**
   * The container's resolv.conf and hosts, written by the agent because Docker writes none: awsvpc
   * with an agent-plumbed namespace, and a container on the `none` network (see isNetworkNone).
   */
  dnsFiles?: { resolvConf: string; hosts: string };
  /**
   * awsvpc without a pause container: this container holds the task's namespace (isolated, then
   * plumbed) and starts behind netwait, which needs the image's own entrypoint and command.
   */
  ownNetwork?: { hostname: string; netwaitPath: string; readyDir: string; image: ImageCommand };
  volumes: Record<string, VolumeSource>;
  /** Base of the task metadata endpoint, e.g. http://169.254.170.2. */
  metadataBaseUrl: string;
  hostId: string;
}

export interface BuiltSpec {
  spec: ContainerSpec;
  /** What the metadata endpoint shows as the container's limits (CPU units, MiB). */
  limits: { cpu?: number; memory?: number };
  /** The log driver and options of the definition (before any local substitution). */
  logDriver: string;
  logOptions: Record<string, string>;
}

function refuse(container: string, member: string, why: string): CannotCreateContainerError {
  return new CannotCreateContainerError(`container '${container}': ${member} ${why}`, {
    kind: 'invalid',
    retriable: false,
  });
}

function envRecord(...lists: (KeyValuePair[] | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const list of lists) for (const kv of list ?? []) if (kv.name) out[kv.name] = kv.value ?? '';
  return out;
}

function devicePermissions(perms: string[] | undefined): string | undefined {
  if (!perms || perms.length === 0) return undefined;
  const map: Record<string, string> = { read: 'r', write: 'w', mknod: 'm' };
  return perms.map((p) => map[p] ?? '').join('');
}

function parseUnits(s: string | undefined): number | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The definition with the resource and command/environment members of its override applied. */
export function effectiveDefinition(task: AgentTask, name: string): ContainerDefinition {
  const def = task.taskDefinition.containerDefinitions?.find((d) => d.name === name);
  if (!def)
    throw new CannotCreateContainerError(`container '${name}' is not in the task definition`, {
      kind: 'invalid',
      retriable: false,
    });
  const o = task.overrides.containerOverrides?.find((x) => x.name === name);
  if (!o) return def;
  const environment = o.environment ? mergeEnv(def.environment, o.environment) : def.environment;
  return {
    ...def,
    ...(o.command !== undefined ? { command: o.command } : {}),
    ...(environment !== undefined ? { environment } : {}),
    ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
    ...(o.memory !== undefined ? { memory: o.memory } : {}),
    ...(o.memoryReservation !== undefined ? { memoryReservation: o.memoryReservation } : {}),
  };
}

/** Override variables replace same-named ones of the definition and add the rest (ECS). */
function mergeEnv(base: KeyValuePair[] | undefined, over: KeyValuePair[]): KeyValuePair[] {
  const names = new Set(over.map((kv) => kv.name));
  return [...(base ?? []).filter((kv) => !names.has(kv.name)), ...over];
}

function checkSupported(task: AgentTask, def: ContainerDefinition): void {
  const name = def.name ?? '';
  if (def.secrets && def.secrets.length > 0)
    throw refuse(name, 'secrets', 'are not supported by this agent (no SSM / Secrets Manager)');
  if (def.environmentFiles && def.environmentFiles.length > 0)
    throw refuse(name, 'environmentFiles', 'are not supported by this agent (no S3)');
  if (def.repositoryCredentials)
    throw refuse(name, 'repositoryCredentials', 'are not supported by this agent (no Secrets Manager)');
  if (def.firelensConfiguration)
    throw refuse(name, 'firelensConfiguration', 'is not supported by this agent');
  if (def.resourceRequirements && def.resourceRequirements.length > 0)
    throw refuse(name, 'resourceRequirements', 'are not supported by this agent');
  if (task.launchType === 'FARGATE' && def.privileged)
    throw refuse(name, 'privileged', 'is not allowed on FARGATE');
}

function portBindings(task: AgentTask, def: ContainerDefinition): PortBinding[] {
  const out: PortBinding[] = [];
  for (const pm of def.portMappings ?? []) {
    const protocol = pm.protocol ?? 'tcp';
    if (pm.containerPortRange) {
      const [from, to] = pm.containerPortRange.split('-').map(Number);
      for (let p = from ?? 0; p <= (to ?? -1); p++) out.push({ containerPort: p, protocol });
      continue;
    }
    if (pm.containerPort === undefined) continue;
    const host = networkModeOf(task) === 'bridge' ? pm.hostPort : pm.containerPort;
    out.push({
      containerPort: pm.containerPort,
      protocol,
      ...(host !== undefined && host > 0 ? { hostPort: host } : {}),
    });
  }
  return out;
}

function mounts(def: ContainerDefinition, volumes: Record<string, VolumeSource>): Mount[] {
  const name = def.name ?? '';
  const out: Mount[] = [];
  for (const mp of def.mountPoints ?? []) {
    const src = volumes[mp.sourceVolume ?? ''];
    if (!src)
      throw refuse(
        name,
        `mountPoints sourceVolume '${mp.sourceVolume ?? ''}'`,
        'names no usable volume of the task',
      );
    out.push({
      type: src.type,
      source: src.source,
      target: mp.containerPath ?? '',
      ...(mp.readOnly ? { readOnly: true } : {}),
    });
  }
  for (const t of def.linuxParameters?.tmpfs ?? []) {
    out.push({
      type: 'tmpfs',
      target: t.containerPath,
      sizeMiB: t.size,
      ...(t.mountOptions ? { options: [...t.mountOptions] } : {}),
    });
  }
  return out;
}

/** The task's DNS files, unless the definition mounts something of its own at those paths. */
function withDnsFiles(own: Mount[], files: SpecInput['dnsFiles']): Mount[] {
  if (!files) return own;
  const taken = new Set(own.map((m) => m.target));
  const add: Mount[] = [
    { type: 'bind', source: files.resolvConf, target: '/etc/resolv.conf' },
    { type: 'bind', source: files.hosts, target: '/etc/hosts' },
  ];
  return [...add.filter((m) => !taken.has(m.target)), ...own];
}

/** netwait and the directory of its ready file, read-only: the task cannot signal itself. */
function withOwnNetwork(all: Mount[], own: SpecInput['ownNetwork']): Mount[] {
  if (!own) return all;
  return [
    { type: 'bind', source: own.netwaitPath, target: NETWAIT_IN_CONTAINER, readOnly: true },
    { type: 'bind', source: own.readyDir, target: READY_DIR_IN_CONTAINER, readOnly: true },
    ...all,
  ];
}

function networkModeSpec(
  task: AgentTask,
  pause: string | undefined,
  disableNetworking: boolean,
): RuntimeNetworkMode {
  const mode = networkModeOf(task);
  switch (mode) {
    case 'bridge':
      return disableNetworking ? 'none' : 'bridge';
    case 'host':
      return 'host';
    case 'none':
      return 'none';
    case 'awsvpc':
      if (!pause)
        throw new CannotCreateContainerError('awsvpc task network is not ready (no pause container)', {
          kind: 'invalid',
          retriable: true,
        });
      return { container: pause };
    default: {
      const never: never = mode;
      throw new CannotCreateContainerError(`unknown network mode ${String(never)}`, {
        kind: 'invalid',
        retriable: false,
      });
    }
  }
}

function namespaceMode(mode: string | undefined, pause: string | undefined): string | undefined {
  if (mode === 'host') return 'host';
  if (mode === 'none') return 'none';
  if (mode === 'task' && pause) return `container:${pause}`;
  return undefined;
}

/**
 * Whether the container goes on Docker's `none` network (networkMode none, or bridge with
 * disableNetworking). Given its own resolv.conf and hosts (SpecInput.dnsFiles), it gets a
 * namespace the engine does not network at all instead: the same loopback-only namespace, which
 * runc makes as part of the container, where Docker's `none` network builds a sandbox for it
 * (one at a time, about as costly as a bridge attachment). Fifty such tasks start in about half
 * the time.
 */
export function isNetworkNone(task: AgentTask, container: string): boolean {
  const mode = networkModeOf(task);
  if (mode === 'none') return true;
  return mode === 'bridge' && effectiveDefinition(task, container).disableNetworking === true;
}

export function buildContainerSpec(input: SpecInput): BuiltSpec {
  const { task } = input;
  const def = effectiveDefinition(task, input.container);
  checkSupported(task, def);
  const mode = networkModeOf(task);
  const ownNamespace = mode === 'bridge' || mode === 'none';
  // On `none` with the agent's files: the engine networks nothing, the files stand in for its own.
  const isolatedNone = input.dnsFiles !== undefined && isNetworkNone(task, input.container);

  // Resources.
  const taskCpu = parseUnits(task.cpu);
  const taskMemory = parseUnits(task.memory);
  const cpuShares = Math.max(MIN_CPU_SHARES, def.cpu ?? 0);
  let memoryMiB = def.memory;
  if (taskMemory !== undefined)
    memoryMiB = memoryMiB === undefined ? taskMemory : Math.min(memoryMiB, taskMemory);
  let reservation = def.memoryReservation;
  if (reservation !== undefined && memoryMiB !== undefined) reservation = Math.min(reservation, memoryMiB);

  // Environment: definition, overrides, then what the agent provides (ECS: the agent's win).
  const env: Record<string, string> = {
    AWS_EXECUTION_ENV: task.launchType === 'FARGATE' ? 'AWS_ECS_FARGATE' : 'AWS_ECS_EC2',
    ...(task.launchType === 'FARGATE' ? { AWS_REGION: task.region, AWS_DEFAULT_REGION: task.region } : {}),
    ...envRecord(def.environment),
    ECS_CONTAINER_METADATA_URI_V4: `${input.metadataBaseUrl}/v4/${input.metadataId}`,
    ECS_CONTAINER_METADATA_URI: `${input.metadataBaseUrl}/v3/${input.metadataId}`,
  };

  const labels: Record<string, string> = {
    ...(def.dockerLabels ?? {}),
    [LABEL_CLUSTER]: clusterNameOf(task.clusterArn),
    [LABEL_TASK_ARN]: task.taskArn,
    [LABEL_CONTAINER_NAME]: input.container,
    [LABEL_FAMILY]: task.taskDefinition.family ?? '',
    [LABEL_REVISION]: String(task.taskDefinition.revision ?? ''),
    [LABEL_HOST_ID]: input.hostId,
    [LABEL_METADATA_ID]: input.metadataId,
  };

  const logDriver = def.logConfiguration?.logDriver ?? 'json-file';
  const logOptions = { ...(def.logConfiguration?.options ?? {}) };
  const localLog = LOCAL_LOG_DRIVERS_FOR.has(logDriver);

  const lp = def.linuxParameters;
  const devices: DeviceMapping[] | undefined = lp?.devices?.map((d) => {
    const permissions = devicePermissions(d.permissions);
    return {
      hostPath: d.hostPath,
      ...(d.containerPath ? { containerPath: d.containerPath } : {}),
      ...(permissions ? { permissions } : {}),
    };
  });

  const spec: ContainerSpec = {
    name: input.dockerName,
    image: def.image ?? '',
    ...(input.ownNetwork
      ? { entryPoint: netwaitEntryPoint(effectiveArgv(def, input.ownNetwork.image)) }
      : {
          ...(def.command !== undefined ? { command: [...def.command] } : {}),
          ...(def.entryPoint !== undefined ? { entryPoint: [...def.entryPoint] } : {}),
        }),
    env,
    ...(def.workingDirectory ? { workingDir: def.workingDirectory } : {}),
    ...(def.user ? { user: def.user } : {}),
    labels,
    // Docker refuses a hostname where the container does not own its UTS/network namespace.
    ...(def.hostname && ownNamespace ? { hostname: def.hostname } : {}),
    ...(input.ownNetwork ? { hostname: input.ownNetwork.hostname } : {}),
    ...(mode === 'bridge' || mode === 'host' ? { portBindings: portBindings(task, def) } : {}),
    networkMode:
      input.ownNetwork || isolatedNone
        ? 'isolated'
        : networkModeSpec(task, input.pauseContainer, def.disableNetworking === true),
    ...(mode === 'bridge' && def.links?.length
      ? {
          links: linkTargets(def).map((l) => ({
            container: input.dockerNames[l.name] ?? l.name,
            alias: l.alias,
          })),
        }
      : {}),
    mounts: withOwnNetwork(withDnsFiles(mounts(def, input.volumes), input.dnsFiles), input.ownNetwork),
    ...(def.volumesFrom?.length
      ? {
          volumesFrom: def.volumesFrom.map((v) => ({
            container: input.dockerNames[v.sourceContainer ?? ''] ?? v.sourceContainer ?? '',
            ...(v.readOnly ? { readOnly: true } : {}),
          })),
        }
      : {}),
    ...(def.ulimits?.length
      ? {
          ulimits: def.ulimits.map((u) => ({ name: u.name, softLimit: u.softLimit, hardLimit: u.hardLimit })),
        }
      : {}),
    ...(def.readonlyRootFilesystem !== undefined ? { readonlyRootfs: def.readonlyRootFilesystem } : {}),
    ...(def.privileged !== undefined ? { privileged: def.privileged } : {}),
    ...(lp?.capabilities?.add?.length ? { capAdd: [...lp.capabilities.add] } : {}),
    ...(lp?.capabilities?.drop?.length ? { capDrop: [...lp.capabilities.drop] } : {}),
    // The agent's files carry these for an isolated namespace (Docker writes no files there).
    ...((ownNamespace || mode === 'host') && !isolatedNone
      ? {
          ...(def.dnsServers?.length && mode !== 'host' ? { dnsServers: [...def.dnsServers] } : {}),
          ...(def.dnsSearchDomains?.length && mode !== 'host'
            ? { dnsSearchDomains: [...def.dnsSearchDomains] }
            : {}),
          ...(def.extraHosts?.length
            ? { extraHosts: def.extraHosts.map((h) => ({ hostname: h.hostname, ipAddress: h.ipAddress })) }
            : {}),
        }
      : {}),
    cpuShares,
    ...(memoryMiB !== undefined ? { memoryMiB } : {}),
    ...(reservation !== undefined ? { memoryReservationMiB: reservation } : {}),
    ...(lp?.maxSwap !== undefined && memoryMiB !== undefined ? { maxSwapMiB: lp.maxSwap } : {}),
    ...(lp?.swappiness !== undefined ? { swappiness: lp.swappiness } : {}),
    ...(taskCpu !== undefined ? { nanoCpus: Math.round(taskCpu * NANO_CPUS_PER_UNIT) } : {}),
    ...(lp?.initProcessEnabled ? { init: true } : {}),
    stopTimeoutSeconds: def.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
    ...(def.healthCheck
      ? {
          healthCheck: {
            command: [...def.healthCheck.command],
            ...(def.healthCheck.interval !== undefined
              ? { intervalMs: def.healthCheck.interval * 1000 }
              : {}),
            ...(def.healthCheck.timeout !== undefined ? { timeoutMs: def.healthCheck.timeout * 1000 } : {}),
            ...(def.healthCheck.retries !== undefined ? { retries: def.healthCheck.retries } : {}),
            ...(def.healthCheck.startPeriod !== undefined
              ? { startPeriodMs: def.healthCheck.startPeriod * 1000 }
              : {}),
          },
        }
      : {}),
    logConfig: localLog ? { driver: 'json-file' } : { driver: logDriver, options: logOptions },
    ...(def.pseudoTerminal ? { tty: true } : {}),
    ...(def.interactive ? { interactive: true } : {}),
    ...(def.dockerSecurityOptions?.length ? { securityOptions: [...def.dockerSecurityOptions] } : {}),
    ...(def.systemControls?.length
      ? {
          sysctls: Object.fromEntries(
            def.systemControls.filter((s) => s.namespace).map((s) => [s.namespace!, s.value ?? '']),
          ),
        }
      : {}),
    ...(lp?.sharedMemorySize !== undefined ? { shmSizeMiB: lp.sharedMemorySize } : {}),
    ...(devices?.length ? { devices } : {}),
  };
  const pidMode = namespaceMode(task.taskDefinition.pidMode, input.pauseContainer);
  if (pidMode) spec.pidMode = pidMode;
  const ipcMode = namespaceMode(task.taskDefinition.ipcMode, input.pauseContainer);
  if (ipcMode) spec.ipcMode = ipcMode;

  return {
    spec,
    limits: { cpu: def.cpu ?? 0, ...(memoryMiB !== undefined ? { memory: memoryMiB } : {}) },
    logDriver,
    logOptions,
  };
}
