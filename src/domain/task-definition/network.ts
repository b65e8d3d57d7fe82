// Network-mode rules for port mappings, links and hostnames, and the normalised port mappings
// ECS stores (protocol defaults to tcp; host and awsvpc fill hostPort in as the container port).
//
// ECS stores no networkMode when the request gives none; on Linux that means bridge.
// `effectiveNetworkMode` is the one place that default lives, so consumers (scheduler, agent)
// read the mode through it instead of re-deciding it.
import type { ContainerDefinition, NetworkMode, PortMapping } from '../../generated/ecs/types.js';
import { clientError } from '../errors.js';

export const DEFAULT_NETWORK_MODE: NetworkMode = 'bridge';

export function effectiveNetworkMode(mode: NetworkMode | undefined): NetworkMode {
  return mode ?? DEFAULT_NETWORK_MODE;
}

const MIN_PORT = 1;
const MAX_PORT = 65535;
const PORT_RANGE = /^(\d+)-(\d+)$/;

const isPort = (p: number): boolean => Number.isInteger(p) && p >= MIN_PORT && p <= MAX_PORT;

function parsePortRange(container: string, range: string): { from: number; to: number } {
  const m = PORT_RANGE.exec(range.trim());
  const from = m ? Number(m[1]) : NaN;
  const to = m ? Number(m[2]) : NaN;
  if (!isPort(from) || !isPort(to) || from >= to) {
    throw clientError(
      `Invalid port mapping for container '${container}': containerPortRange '${range}' must be ` +
        `'<first>-<last>' with ${MIN_PORT} <= first < last <= ${MAX_PORT}.`,
    );
  }
  return { from, to };
}

/**
 * Checks one container's port mappings against the task's network mode and returns them as ECS
 * stores them. Throws ClientException naming the container and the rule.
 */
export function normalizePortMappings(
  container: ContainerDefinition,
  mode: NetworkMode | undefined,
): PortMapping[] {
  const name = container.name ?? '';
  const effective = effectiveNetworkMode(mode);
  const mappings = container.portMappings ?? [];
  if (effective === 'none' && mappings.length > 0) {
    throw clientError(
      `Port mappings are not supported when networkMode=none: container '${name}' has ${mappings.length}.`,
    );
  }
  return mappings.map((pm) => {
    const out: PortMapping = { ...pm, protocol: pm.protocol ?? 'tcp' };
    if (pm.containerPortRange !== undefined) {
      parsePortRange(name, pm.containerPortRange);
      if (pm.containerPort !== undefined) {
        throw clientError(
          `Invalid port mapping for container '${name}': give either containerPort or containerPortRange, not both.`,
        );
      }
      if (pm.hostPort !== undefined) {
        throw clientError(
          `Invalid port mapping for container '${name}': hostPort cannot be set with containerPortRange '${pm.containerPortRange}'.`,
        );
      }
      return out;
    }
    if (pm.containerPort === undefined) {
      throw clientError(`Invalid port mapping for container '${name}': containerPort is required.`);
    }
    if (!isPort(pm.containerPort)) {
      throw clientError(
        `Invalid port mapping for container '${name}': containerPort ${pm.containerPort} must be between ${MIN_PORT} and ${MAX_PORT}.`,
      );
    }
    if (effective === 'host' || effective === 'awsvpc') {
      if (pm.hostPort !== undefined && pm.hostPort !== pm.containerPort) {
        throw clientError(
          `When networkMode=${effective}, the host ports and container ports in port mappings must match: ` +
            `container '${name}' maps containerPort ${pm.containerPort} to hostPort ${pm.hostPort}.`,
        );
      }
      out.hostPort = pm.containerPort;
    } else if (pm.hostPort !== undefined && pm.hostPort !== 0 && !isPort(pm.hostPort)) {
      // bridge: 0 or absent asks for a dynamic port at placement time.
      throw clientError(
        `Invalid port mapping for container '${name}': hostPort ${pm.hostPort} must be 0 (dynamic) or between ${MIN_PORT} and ${MAX_PORT}.`,
      );
    }
    return out;
  });
}

/**
 * A static host port (with its protocol) can be bound once per task: two mappings on it would
 * make the task impossible to place or start.
 */
export function checkHostPortConflicts(containers: readonly ContainerDefinition[]): void {
  const seen = new Map<string, string>();
  for (const c of containers) {
    for (const pm of c.portMappings ?? []) {
      if (pm.hostPort === undefined || pm.hostPort === 0) continue;
      const key = `${pm.hostPort}/${pm.protocol ?? 'tcp'}`;
      const other = seen.get(key);
      if (other !== undefined) {
        throw clientError(
          `Host port ${key} is used more than once in the task (containers '${other}' and '${c.name ?? ''}').`,
        );
      }
      seen.set(key, c.name ?? '');
    }
  }
}

/** Links and hostname depend on Docker's per-container networking, which only some modes give. */
export function validateNetworkFeatures(
  containers: readonly ContainerDefinition[],
  mode: NetworkMode | undefined,
): void {
  const effective = effectiveNetworkMode(mode);
  const names = new Set(containers.map((c) => c.name));
  for (const c of containers) {
    const name = c.name ?? '';
    if (c.links !== undefined && c.links.length > 0) {
      if (effective !== 'bridge') {
        throw clientError(
          `Links are not supported when networkMode=${effective}: container '${name}' has links.`,
        );
      }
      for (const link of c.links) {
        const target = link.split(':')[0] ?? '';
        if (target === name)
          throw clientError(
            `Invalid link '${link}' in container '${name}': a container cannot link to itself.`,
          );
        if (!names.has(target)) {
          throw clientError(
            `Invalid link '${link}' in container '${name}': no container named '${target}' in this task definition.`,
          );
        }
      }
    }
    if (c.hostname !== undefined && effective === 'awsvpc') {
      throw clientError(
        `The hostname parameter is not supported when networkMode=awsvpc: container '${name}'.`,
      );
    }
  }
}
