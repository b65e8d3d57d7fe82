// Task-level `cpu` and `memory` arrive as strings in several spellings ("1 vCPU", "0.25 vcpu",
// "1024"; "2GB", "2 gb", "512"). ECS converts them at registration and stores plain unit
// strings ("1024", "2048"), so everything downstream (placement, Fargate sizing, the agent)
// only ever sees CPU units and MiB.
import { clientError } from '../errors.js';

/** 1 vCPU = 1024 CPU units. */
export const CPU_UNITS_PER_VCPU = 1024;
/** 1 GB (as ECS spells it; really GiB) = 1024 MiB. */
export const MIB_PER_GIB = 1024;

/**
 * Task-level cpu on EC2 and external instances: 0.125 to 192 vCPUs (ECS developer guide,
 * "Task size"). Fargate narrows this further through its own table.
 */
export const MIN_TASK_CPU_UNITS = 128;
export const MAX_TASK_CPU_UNITS = 196_608;

/** Docker 20.10+ refuses containers with less than 6 MiB, so no task can be smaller either. */
export const MIN_MEMORY_MIB = 6;

const PLAIN_INTEGER = /^\d+$/;
const VCPU = /^(\d+(?:\.\d+)?|\.\d+)\s*vcpus?$/i;
const GIB = /^(\d+(?:\.\d+)?|\.\d+)\s*(?:gb|gib)$/i;
const MIB = /^(\d+)\s*(?:mb|mib)$/i;

/** CPU units from a task-level cpu string; ClientException naming the value when unreadable. */
export function parseTaskCpu(value: string): number {
  const s = value.trim();
  let units: number | undefined;
  if (PLAIN_INTEGER.test(s)) units = Number(s);
  else {
    const m = VCPU.exec(s);
    if (m) units = Number(m[1]) * CPU_UNITS_PER_VCPU;
  }
  if (units === undefined || !Number.isInteger(units)) {
    throw clientError(
      `Invalid 'cpu' setting for task: '${value}' is neither a whole number of CPU units (e.g. '1024') ` +
        `nor a number of vCPUs that converts to whole CPU units (e.g. '1 vCPU', '0.25 vCPU').`,
    );
  }
  if (units < MIN_TASK_CPU_UNITS || units > MAX_TASK_CPU_UNITS) {
    throw clientError(
      `Invalid 'cpu' setting for task: ${units} CPU units is outside the supported range ` +
        `${MIN_TASK_CPU_UNITS}-${MAX_TASK_CPU_UNITS} (0.125-192 vCPU).`,
    );
  }
  return units;
}

/** MiB from a task-level memory string; ClientException naming the value when unreadable. */
export function parseTaskMemory(value: string): number {
  const s = value.trim();
  let mib: number | undefined;
  if (PLAIN_INTEGER.test(s)) mib = Number(s);
  else {
    const g = GIB.exec(s);
    if (g) mib = Number(g[1]) * MIB_PER_GIB;
    else {
      const m = MIB.exec(s);
      if (m) mib = Number(m[1]);
    }
  }
  if (mib === undefined || !Number.isInteger(mib)) {
    throw clientError(
      `Invalid 'memory' setting for task: '${value}' is neither a whole number of MiB (e.g. '512') ` +
        `nor a number of GB that converts to whole MiB (e.g. '2GB', '0.5 GB').`,
    );
  }
  if (mib < MIN_MEMORY_MIB) {
    throw clientError(
      `Invalid 'memory' setting for task: ${mib} MiB is below the minimum of ${MIN_MEMORY_MIB} MiB.`,
    );
  }
  return mib;
}

/** The stored form of a task-level cpu string ("1 vCPU" → "1024"). */
export function normalizeTaskCpu(value: string): string {
  return String(parseTaskCpu(value));
}

/** The stored form of a task-level memory string ("2GB" → "2048"). */
export function normalizeTaskMemory(value: string): string {
  return String(parseTaskMemory(value));
}
