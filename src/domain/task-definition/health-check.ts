// Container health checks: ECS fills in the Docker defaults at registration, so the stored
// definition (and what the agent runs) always carries every timing explicitly.
import type { HealthCheck } from '../../generated/ecs/types.js';
import { clientError } from '../errors.js';

interface Bound {
  member: 'interval' | 'timeout' | 'retries' | 'startPeriod';
  default: number;
  min: number;
  max: number;
  unit: string;
}

/** ECS-SEMANTICS.md §4. */
export const HEALTH_CHECK_BOUNDS: readonly Bound[] = [
  { member: 'interval', default: 30, min: 5, max: 300, unit: 'seconds' },
  { member: 'timeout', default: 5, min: 2, max: 60, unit: 'seconds' },
  { member: 'retries', default: 3, min: 1, max: 10, unit: 'retries' },
  { member: 'startPeriod', default: 0, min: 0, max: 300, unit: 'seconds' },
];

const COMMAND_FORMS = ['CMD', 'CMD-SHELL'];

/** The health check with defaults filled in; ClientException naming the container and member. */
export function normalizeHealthCheck(container: string, hc: HealthCheck): HealthCheck {
  const command = hc.command;
  if (command.length === 0 || !COMMAND_FORMS.includes(command[0]!)) {
    throw clientError(
      `Invalid healthCheck for container '${container}': command must start with 'CMD' or 'CMD-SHELL'.`,
    );
  }
  if (command.length < 2) {
    throw clientError(
      `Invalid healthCheck for container '${container}': command has no program to run after '${command[0]}'.`,
    );
  }
  const out: HealthCheck = { ...hc };
  for (const b of HEALTH_CHECK_BOUNDS) {
    const v = hc[b.member] ?? b.default;
    if (!Number.isInteger(v) || v < b.min || v > b.max) {
      throw clientError(
        `Invalid healthCheck for container '${container}': ${b.member} must be between ${b.min} and ${b.max} ${b.unit}; got ${v}.`,
      );
    }
    out[b.member] = v;
  }
  return out;
}
