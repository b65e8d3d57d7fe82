// RegisterTaskDefinitionRequest → the stored TaskDefinitionRecord. Every registration rule runs
// here, once, before a revision number is taken (so an invalid request never burns a revision);
// the revision is stamped on afterwards by `withRevision`, possibly several times if concurrent
// registrations of the family force a retry.
//
// What ECS adds to what the caller sent, and so do we: container defaults (cpu 0, essential true,
// empty portMappings / environment / mountPoints / volumesFrom), port mapping protocol and, for
// host/awsvpc, hostPort; health check timings; task cpu/memory as unit strings; empty volumes and
// placementConstraints; status, compatibilities, requiresAttributes, registeredAt, registeredBy.
// Everything else in a container definition is kept exactly as given. No networkMode is stored
// when none is given (ECS does the same; `effectiveNetworkMode` reads it as bridge).
import type { Scope } from '../arn.js';
import { taskDefinitionArn } from '../arn.js';
import { toEpochSeconds } from '../clock.js';
import type { TaskDefinitionRecord } from '../records.js';
import { validateTags } from '../tags.js';
import type {
  ContainerDefinition,
  RegisterTaskDefinitionRequest,
  TaskDefinition,
} from '../../generated/ecs/types.js';
import { resolveCompatibilities } from './compatibility.js';
import { validateDependsOn } from './depends-on.js';
import { normalizeHealthCheck } from './health-check.js';
import { checkHostPortConflicts, normalizePortMappings, validateNetworkFeatures } from './network.js';
import { computeRequiresAttributes } from './requires-attributes.js';
import { parseTaskCpu, parseTaskMemory } from './units.js';
import {
  validateContainerCpu,
  validateContainerIdentities,
  validateContainerMemory,
  validateEphemeralStorage,
  validateFamily,
  validatePlacementConstraints,
  validateProxyConfiguration,
} from './validate.js';
import { validateVolumes } from './volumes.js';

/** A validated, normalised definition still waiting for its revision number. */
export type TaskDefinitionDraft = Omit<TaskDefinitionRecord, 'taskDefinitionArn' | 'revision'>;

export interface RegistrationContext {
  /** Milliseconds since the epoch (the request's clock reading). */
  now: number;
  /** Who registers it: becomes `registeredBy`. */
  principalArn: string;
}

function normalizeContainer(c: ContainerDefinition, req: RegisterTaskDefinitionRequest): ContainerDefinition {
  const name = c.name ?? '';
  const out: ContainerDefinition = {
    ...structuredClone(c),
    cpu: c.cpu ?? 0,
    essential: c.essential ?? true,
    portMappings: normalizePortMappings(c, req.networkMode),
    environment: structuredClone(c.environment ?? []),
    mountPoints: structuredClone(c.mountPoints ?? []),
    volumesFrom: structuredClone(c.volumesFrom ?? []),
  };
  if (c.healthCheck) out.healthCheck = normalizeHealthCheck(name, structuredClone(c.healthCheck));
  return out;
}

function withoutUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Validates a registration request and builds what will be stored; throws the ECS error on the first broken rule. */
export function buildTaskDefinition(
  req: RegisterTaskDefinitionRequest,
  ctx: RegistrationContext,
): TaskDefinitionDraft {
  validateFamily(req.family);
  const given = req.containerDefinitions;
  validateContainerIdentities(given);
  validateTags(req.tags);

  const cpuUnits = req.cpu === undefined ? undefined : parseTaskCpu(req.cpu);
  const memoryMiB = req.memory === undefined ? undefined : parseTaskMemory(req.memory);
  validateContainerMemory(given, memoryMiB);
  validateContainerCpu(given, cpuUnits);
  const compatibilities = resolveCompatibilities({ ...req, cpuUnits, memoryMiB });

  const containerDefinitions = given.map((c) => normalizeContainer(c, req));
  checkHostPortConflicts(containerDefinitions);
  validateNetworkFeatures(given, req.networkMode);
  validateVolumes(req.volumes ?? [], given);
  validateDependsOn(given);
  validatePlacementConstraints(req.placementConstraints ?? []);
  if (req.ephemeralStorage) validateEphemeralStorage(req.ephemeralStorage);
  if (req.proxyConfiguration) validateProxyConfiguration(req.proxyConfiguration, given);

  return withoutUndefined<TaskDefinitionDraft>({
    containerDefinitions,
    family: req.family,
    taskRoleArn: req.taskRoleArn,
    executionRoleArn: req.executionRoleArn,
    networkMode: req.networkMode,
    volumes: structuredClone(req.volumes ?? []),
    status: 'ACTIVE',
    requiresAttributes: computeRequiresAttributes({ ...req, containerDefinitions }),
    placementConstraints: structuredClone(req.placementConstraints ?? []),
    compatibilities,
    runtimePlatform: structuredClone(req.runtimePlatform),
    requiresCompatibilities: structuredClone(req.requiresCompatibilities),
    cpu: cpuUnits === undefined ? undefined : String(cpuUnits),
    memory: memoryMiB === undefined ? undefined : String(memoryMiB),
    inferenceAccelerators: structuredClone(req.inferenceAccelerators),
    pidMode: req.pidMode,
    ipcMode: req.ipcMode,
    proxyConfiguration: structuredClone(req.proxyConfiguration),
    registeredAt: toEpochSeconds(ctx.now),
    registeredBy: ctx.principalArn,
    ephemeralStorage: structuredClone(req.ephemeralStorage),
    enableFaultInjection: req.enableFaultInjection,
    tags: structuredClone(req.tags ?? []),
  });
}

/** The draft as revision `revision` of its family. */
export function withRevision(
  draft: TaskDefinitionDraft,
  scope: Scope,
  revision: number,
): TaskDefinitionRecord {
  return { ...draft, taskDefinitionArn: taskDefinitionArn(scope, draft.family, revision), revision };
}

/** The wire TaskDefinition of a stored record: everything but the tags, which ECS answers beside it. */
export function taskDefinitionOf(record: TaskDefinitionRecord): TaskDefinition {
  const { tags: _tags, ...wire } = record;
  return wire;
}
