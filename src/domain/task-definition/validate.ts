// Registration rules about the task definition as a whole and its containers' identities and
// resources: family and container names, container count, essential containers, memory and cpu
// against each other and against the task size, placement constraints, ephemeral storage, proxy.
// Network, volume, dependency, health-check and Fargate rules live in their own files.
import type {
  ContainerDefinition,
  EphemeralStorage,
  ProxyConfiguration,
  TaskDefinitionPlacementConstraint,
} from '../../generated/ecs/types.js';
import { clientError } from '../errors.js';
import { compileQueryParameter } from '../query-language/compile.js';
import { MIN_MEMORY_MIB } from './units.js';

/** The name alphabet of task definition families, container names and volume names. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
export const NAME_RULE =
  'up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.';

export const MAX_CONTAINERS = 10;
export const MAX_PLACEMENT_CONSTRAINTS = 10;
export const MAX_CONSTRAINT_EXPRESSION_LENGTH = 2000;
export const MIN_EPHEMERAL_STORAGE_GIB = 21;
export const MAX_EPHEMERAL_STORAGE_GIB = 200;

export function validateFamily(family: string): void {
  if (!NAME_PATTERN.test(family)) throw clientError(`Family '${family}' is invalid: ${NAME_RULE}`);
}

/** Count, names, images and essential flags. */
export function validateContainerIdentities(containers: readonly ContainerDefinition[]): void {
  if (containers.length === 0)
    throw clientError('Container list cannot be empty: containerDefinitions needs at least one container.');
  if (containers.length > MAX_CONTAINERS) {
    throw clientError(
      `Too many containers: a task definition can have at most ${MAX_CONTAINERS}; got ${containers.length}.`,
    );
  }
  const names = new Set<string>();
  for (const [i, c] of containers.entries()) {
    if (c.name === undefined || c.name === '')
      throw clientError(`Container.name should not be null or empty (containerDefinitions[${i}]).`);
    if (!NAME_PATTERN.test(c.name)) throw clientError(`Container name '${c.name}' is invalid: ${NAME_RULE}`);
    if (names.has(c.name))
      throw clientError(
        `Duplicate container name '${c.name}': container names must be unique in a task definition.`,
      );
    names.add(c.name);
    if (c.image === undefined || c.image.trim() === '') {
      throw clientError(`Container.image should not be null or empty (container '${c.name}').`);
    }
  }
  if (!containers.some((c) => c.essential !== false)) {
    throw clientError('At least one essential container is required: every container has essential=false.');
  }
}

/**
 * Without a task-level memory each container must say how much memory placement reserves for it;
 * with one, containers must fit inside it. `memory` (hard limit) may not be below
 * `memoryReservation` (soft limit); ECS accepts them equal.
 */
export function validateContainerMemory(
  containers: readonly ContainerDefinition[],
  taskMemoryMiB: number | undefined,
): void {
  let reserved = 0;
  for (const c of containers) {
    const name = c.name ?? '';
    for (const member of ['memory', 'memoryReservation'] as const) {
      const v = c[member];
      if (v !== undefined && v < MIN_MEMORY_MIB) {
        throw clientError(
          `Invalid setting for container '${name}'. '${member}' must be at least ${MIN_MEMORY_MIB} MiB; got ${v}.`,
        );
      }
    }
    if (c.memory === undefined && c.memoryReservation === undefined && taskMemoryMiB === undefined) {
      throw clientError(
        `Invalid setting for container '${name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
      );
    }
    if (c.memory !== undefined && c.memoryReservation !== undefined && c.memory < c.memoryReservation) {
      throw clientError(
        `Invalid setting for container '${name}'. 'memory' (${c.memory}) must be greater than or equal to 'memoryReservation' (${c.memoryReservation}).`,
      );
    }
    if (taskMemoryMiB !== undefined && c.memory !== undefined && c.memory > taskMemoryMiB) {
      throw clientError(
        `The 'memory' setting for container '${name}' is greater than for the task (${c.memory} > ${taskMemoryMiB} MiB).`,
      );
    }
    reserved += c.memoryReservation ?? 0;
  }
  if (taskMemoryMiB !== undefined && reserved > taskMemoryMiB) {
    throw clientError(
      `The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory' (${reserved} > ${taskMemoryMiB} MiB).`,
    );
  }
}

export function validateContainerCpu(
  containers: readonly ContainerDefinition[],
  taskCpuUnits: number | undefined,
): void {
  let total = 0;
  for (const c of containers) {
    if (c.cpu !== undefined && c.cpu < 0) {
      throw clientError(
        `Invalid setting for container '${c.name ?? ''}'. 'cpu' must be 0 or more; got ${c.cpu}.`,
      );
    }
    total += c.cpu ?? 0;
  }
  if (taskCpuUnits !== undefined && total > taskCpuUnits) {
    throw clientError(
      `The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu' (${total} > ${taskCpuUnits}).`,
    );
  }
}

/**
 * Only `memberOf` is allowed in a task definition. Its expression is compiled here, so a
 * definition that could never place is refused at registration (InvalidParameterException with
 * the member, the reason and the column) rather than at every RunTask.
 */
export function validatePlacementConstraints(
  constraints: readonly TaskDefinitionPlacementConstraint[],
): void {
  if (constraints.length > MAX_PLACEMENT_CONSTRAINTS) {
    throw clientError(
      `Too many placement constraints: at most ${MAX_PLACEMENT_CONSTRAINTS} per task definition; got ${constraints.length}.`,
    );
  }
  for (const [i, pc] of constraints.entries()) {
    if (pc.type !== 'memberOf')
      throw clientError(
        `placementConstraints[${i}].type must be 'memberOf'; got '${pc.type ?? '(not set)'}'.`,
      );
    if (pc.expression === undefined || pc.expression.trim() === '') {
      throw clientError(`placementConstraints[${i}].expression is required for a memberOf constraint.`);
    }
    if (pc.expression.length > MAX_CONSTRAINT_EXPRESSION_LENGTH) {
      throw clientError(
        `placementConstraints[${i}].expression is too long: at most ${MAX_CONSTRAINT_EXPRESSION_LENGTH} characters.`,
      );
    }
    compileQueryParameter(pc.expression, `placementConstraints[${i}].expression`);
  }
}

export function validateEphemeralStorage(storage: EphemeralStorage): void {
  const size = storage.sizeInGiB;
  if (!Number.isInteger(size) || size < MIN_EPHEMERAL_STORAGE_GIB || size > MAX_EPHEMERAL_STORAGE_GIB) {
    throw clientError(
      `ephemeralStorage.sizeInGiB must be between ${MIN_EPHEMERAL_STORAGE_GIB} and ${MAX_EPHEMERAL_STORAGE_GIB}; got ${size}.`,
    );
  }
}

export function validateProxyConfiguration(
  proxy: ProxyConfiguration,
  containers: readonly ContainerDefinition[],
): void {
  if (!containers.some((c) => c.name === proxy.containerName)) {
    throw clientError(
      `proxyConfiguration.containerName '${proxy.containerName}' is not a container of this task definition.`,
    );
  }
}
