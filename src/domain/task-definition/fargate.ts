// What a task definition must satisfy to be FARGATE-compatible: awsvpc networking, task-level
// cpu and memory from Fargate's size table, and none of the host-bound features a Fargate
// micro-VM cannot offer (privileged containers, host paths, placement constraints, host pid/ipc).
import type { RegisterTaskDefinitionRequest } from '../../generated/ecs/types.js';
import { clientError } from '../errors.js';

/** One row of the Fargate size table: a cpu value and the memory sizes (MiB) allowed with it. */
interface FargateSize {
  cpu: number;
  memory: readonly number[];
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** ECS developer guide, "Task size" (ECS-SEMANTICS.md §4). */
export const FARGATE_SIZES: readonly FargateSize[] = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: range(1024, 4096, 1024) },
  { cpu: 1024, memory: range(2048, 8192, 1024) },
  { cpu: 2048, memory: range(4096, 16384, 1024) },
  { cpu: 4096, memory: range(8192, 30720, 1024) },
  { cpu: 8192, memory: range(16384, 61440, 4096) },
  { cpu: 16384, memory: range(32768, 122880, 8192) },
];

/** Fargate sends SIGKILL at most 120 s after SIGTERM. */
export const FARGATE_MAX_STOP_TIMEOUT = 120;

export function isValidFargateSize(cpuUnits: number, memoryMiB: number): boolean {
  return FARGATE_SIZES.some((s) => s.cpu === cpuUnits && s.memory.includes(memoryMiB));
}

function describeAllowed(cpuUnits: number): string {
  const row = FARGATE_SIZES.find((s) => s.cpu === cpuUnits);
  if (!row) return `Valid cpu values are ${FARGATE_SIZES.map((s) => s.cpu).join(', ')}.`;
  const m = row.memory;
  return m.length <= 4
    ? `With ${cpuUnits} CPU, memory must be one of ${m.join(', ')}.`
    : `With ${cpuUnits} CPU, memory must be ${m[0]}-${m[m.length - 1]} in steps of ${m[1]! - m[0]!}.`;
}

export type FargateCheckInput = Pick<
  RegisterTaskDefinitionRequest,
  'networkMode' | 'containerDefinitions' | 'volumes' | 'placementConstraints' | 'pidMode' | 'ipcMode'
> & {
  /** Task cpu already converted to CPU units, if given. */
  cpuUnits?: number;
  /** Task memory already converted to MiB, if given. */
  memoryMiB?: number;
};

/** Throws ClientException on the first rule that keeps the definition off Fargate. */
export function validateForFargate(def: FargateCheckInput): void {
  if (def.networkMode !== 'awsvpc') {
    throw clientError(
      `Fargate only supports network mode 'awsvpc'; networkMode is '${def.networkMode ?? '(not set)'}'.`,
    );
  }
  if (def.cpuUnits === undefined)
    throw clientError("Fargate requires that 'cpu' be defined at the task level.");
  if (def.memoryMiB === undefined)
    throw clientError("Fargate requires that 'memory' be defined at the task level.");
  if (!isValidFargateSize(def.cpuUnits, def.memoryMiB)) {
    throw clientError(
      `No Fargate configuration exists for given values: ${def.cpuUnits} CPU, ${def.memoryMiB} memory. ` +
        describeAllowed(def.cpuUnits),
    );
  }
  if (def.placementConstraints && def.placementConstraints.length > 0) {
    throw clientError(
      'Fargate does not support task placement constraints (placementConstraints must be empty).',
    );
  }
  if (def.pidMode === 'host')
    throw clientError("Fargate does not support pidMode 'host'; only 'task' is supported.");
  if (def.ipcMode !== undefined)
    throw clientError(`Fargate does not support ipcMode (got '${def.ipcMode}').`);
  for (const v of def.volumes ?? []) {
    if (v.host?.sourcePath !== undefined) {
      throw clientError(`Fargate does not support host volumes with a sourcePath: volume '${v.name ?? ''}'.`);
    }
    if (v.dockerVolumeConfiguration !== undefined) {
      throw clientError(
        `Fargate does not support Docker volumes: volume '${v.name ?? ''}' has a dockerVolumeConfiguration.`,
      );
    }
  }
  for (const c of def.containerDefinitions) {
    const name = c.name ?? '';
    if (c.privileged === true) {
      throw clientError(
        `Fargate does not support privileged containers: container '${name}' has privileged=true.`,
      );
    }
    for (const pm of c.portMappings ?? []) {
      if (pm.hostPort !== undefined && pm.containerPort !== undefined && pm.hostPort !== pm.containerPort) {
        throw clientError(
          `Fargate only supports host ports equal to the container port: container '${name}' maps ` +
            `containerPort ${pm.containerPort} to hostPort ${pm.hostPort}.`,
        );
      }
    }
    if (c.stopTimeout !== undefined && c.stopTimeout > FARGATE_MAX_STOP_TIMEOUT) {
      throw clientError(
        `Fargate supports a stopTimeout of at most ${FARGATE_MAX_STOP_TIMEOUT} seconds: container '${name}' has ${c.stopTimeout}.`,
      );
    }
  }
}
