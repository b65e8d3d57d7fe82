// RunTask / StartTask `overrides`: which members may be overridden, the checks ECS applies to
// them, and what a task looks like once they are applied. Every broken rule is an
// InvalidParameterException naming the member (ECS answers bad overrides that way, unlike bad
// task definitions, which are ClientExceptions).
//
// What is honoured:
//   containerOverrides[].command, environment       kept on the task; the agent applies them
//   containerOverrides[].cpu, memory, memoryReservation   change what the task reserves
//   cpu, memory (task level)                        normalised to unit strings; FARGATE sizes apply
//   taskRoleArn, executionRoleArn                   kept as given
//   ephemeralStorage                                FARGATE only, 21-200 GiB
// What is refused (no way to honour it yet): environmentFiles, resourceRequirements,
// inferenceAcceleratorOverrides.
//
// The stored form is ECS's: one containerOverride per container of the definition, in
// definition order, carrying only `name` when nothing of it is overridden, plus
// `inferenceAcceleratorOverrides: []`; DescribeTasks shows it that way.
import type {
  ContainerDefinition,
  ContainerOverride,
  LaunchType,
  TaskDefinition,
  TaskOverride,
} from '../../generated/ecs/types.js';
import { invalidParameter, isEcsError } from '../errors.js';
import { isValidFargateSize } from '../task-definition/fargate.js';
import { parseTaskCpu, parseTaskMemory } from '../task-definition/units.js';
import { validateContainerCpu, validateContainerMemory } from '../task-definition/validate.js';

/** ECS: "Container Overrides length must be at most 8192" (characters of the overrides' JSON). */
export const MAX_OVERRIDES_LENGTH = 8192;
export const MIN_FARGATE_EPHEMERAL_GIB = 21;
export const MAX_FARGATE_EPHEMERAL_GIB = 200;

export type OverridableDefinition = Pick<TaskDefinition, 'containerDefinitions' | 'cpu' | 'memory'>;

export interface ResolvedOverrides {
  /** The overrides as the task stores and DescribeTasks shows them. */
  overrides: TaskOverride;
  /** Task-level cpu and memory after overrides, as unit strings ("256", "512"). */
  cpu?: string;
  memory?: string;
  /** The definition's containers with cpu, memory and memoryReservation overrides applied. */
  containers: ContainerDefinition[];
}

/** Re-throws a task-definition rule (ClientException) as the InvalidParameterException RunTask answers. */
function asOverrideError(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (isEcsError(e)) throw invalidParameter(`overrides: ${e.message}`);
    throw e;
  }
}

function isEmptyOverride(o: ContainerOverride): boolean {
  return Object.entries(o).every(([k, v]) => k === 'name' || v === undefined);
}

function checkContainerOverride(o: ContainerOverride, at: string): void {
  if (o.environmentFiles !== undefined && o.environmentFiles.length > 0) {
    throw invalidParameter(`${at}.environmentFiles: environment files are not supported by Berth yet.`);
  }
  if (o.resourceRequirements !== undefined && o.resourceRequirements.length > 0) {
    throw invalidParameter(
      `${at}.resourceRequirements: GPU and accelerator overrides are not supported by Berth yet.`,
    );
  }
  (o.environment ?? []).forEach((kv, j) => {
    if (kv.name === undefined || kv.name === '') {
      throw invalidParameter(`${at}.environment[${j}].name is required and cannot be empty.`);
    }
  });
  if (o.cpu !== undefined && (!Number.isInteger(o.cpu) || o.cpu < 0)) {
    throw invalidParameter(`${at}.cpu must be a whole number of CPU units, 0 or more; got ${o.cpu}.`);
  }
  for (const member of ['memory', 'memoryReservation'] as const) {
    const v = o[member];
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
      throw invalidParameter(`${at}.${member} must be a whole number of MiB greater than 0; got ${v}.`);
    }
  }
}

/** The definition's containers with the resource members of their overrides applied. */
export function withContainerOverrides(
  containers: readonly ContainerDefinition[],
  overrides: readonly ContainerOverride[] | undefined,
): ContainerDefinition[] {
  return containers.map((c) => {
    const o = overrides?.find((x) => x.name === c.name);
    if (!o) return { ...c };
    return {
      ...c,
      ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
      ...(o.memory !== undefined ? { memory: o.memory } : {}),
      ...(o.memoryReservation !== undefined ? { memoryReservation: o.memoryReservation } : {}),
    };
  });
}

/**
 * Checks `given` against the task definition and the launch type and returns the overrides as
 * the task stores them, with the task's effective cpu and memory.
 */
export function resolveOverrides(
  def: OverridableDefinition,
  given: TaskOverride | undefined,
  launchType: LaunchType,
): ResolvedOverrides {
  const o = given ?? {};
  const length = JSON.stringify(o).length;
  if (length > MAX_OVERRIDES_LENGTH) {
    throw invalidParameter(
      `Container Overrides length must be at most ${MAX_OVERRIDES_LENGTH} (overrides is ${length} characters of JSON).`,
    );
  }
  if (o.inferenceAcceleratorOverrides !== undefined && o.inferenceAcceleratorOverrides.length > 0) {
    throw invalidParameter(
      'overrides.inferenceAcceleratorOverrides: inference accelerators are not supported by Berth.',
    );
  }

  const defined = def.containerDefinitions ?? [];
  const names = new Set(defined.map((c) => c.name));
  const byName = new Map<string, ContainerOverride>();
  (o.containerOverrides ?? []).forEach((co, i) => {
    const at = `overrides.containerOverrides[${i}]`;
    if (co.name === undefined || co.name === '') {
      if (isEmptyOverride(co)) return;
      throw invalidParameter(`${at}.name is required when a container override is not empty.`);
    }
    if (!names.has(co.name)) {
      throw invalidParameter(
        `Override for container named ${co.name} is not a container in the TaskDefinition.`,
      );
    }
    if (byName.has(co.name)) {
      throw invalidParameter(`overrides.containerOverrides lists container '${co.name}' more than once.`);
    }
    checkContainerOverride(co, at);
    byName.set(co.name, co);
  });

  let cpuUnits = def.cpu === undefined ? undefined : Number(def.cpu);
  let memoryMiB = def.memory === undefined ? undefined : Number(def.memory);
  if (o.cpu !== undefined) asOverrideError(() => (cpuUnits = parseTaskCpu(o.cpu!)));
  if (o.memory !== undefined) asOverrideError(() => (memoryMiB = parseTaskMemory(o.memory!)));

  if (launchType === 'FARGATE') {
    if (cpuUnits === undefined || memoryMiB === undefined || !isValidFargateSize(cpuUnits, memoryMiB)) {
      throw invalidParameter(
        `No Fargate configuration exists for given values: ${cpuUnits ?? '(none)'} CPU, ${memoryMiB ?? '(none)'} memory ` +
          '(overrides.cpu / overrides.memory must be a size from the Fargate task size table).',
      );
    }
  }
  if (o.ephemeralStorage !== undefined) {
    if (launchType !== 'FARGATE') {
      throw invalidParameter('overrides.ephemeralStorage is only supported for tasks on FARGATE.');
    }
    const size = o.ephemeralStorage.sizeInGiB;
    if (!Number.isInteger(size) || size < MIN_FARGATE_EPHEMERAL_GIB || size > MAX_FARGATE_EPHEMERAL_GIB) {
      throw invalidParameter(
        `overrides.ephemeralStorage.sizeInGiB must be between ${MIN_FARGATE_EPHEMERAL_GIB} and ${MAX_FARGATE_EPHEMERAL_GIB}; got ${size}.`,
      );
    }
  }

  const containers = withContainerOverrides(defined, [...byName.values()]);
  asOverrideError(() => validateContainerMemory(containers, memoryMiB));
  asOverrideError(() => validateContainerCpu(containers, cpuUnits));

  const stored: TaskOverride = {
    containerOverrides: defined.map((c) => structuredClone(byName.get(c.name ?? '') ?? { name: c.name })),
    ...(o.cpu !== undefined ? { cpu: String(cpuUnits) } : {}),
    ...(o.memory !== undefined ? { memory: String(memoryMiB) } : {}),
    ...(o.taskRoleArn !== undefined ? { taskRoleArn: o.taskRoleArn } : {}),
    ...(o.executionRoleArn !== undefined ? { executionRoleArn: o.executionRoleArn } : {}),
    ...(o.ephemeralStorage !== undefined ? { ephemeralStorage: { ...o.ephemeralStorage } } : {}),
    inferenceAcceleratorOverrides: [],
  };
  return {
    overrides: stored,
    ...(cpuUnits !== undefined ? { cpu: String(cpuUnits) } : {}),
    ...(memoryMiB !== undefined ? { memory: String(memoryMiB) } : {}),
    containers,
  };
}
