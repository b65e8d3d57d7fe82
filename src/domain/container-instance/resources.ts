// A container instance's registeredResources (what the host offers) and remainingResources
// (what placement may still use), as ECS spells them:
//
//   CPU        INTEGER    CPU units, 1024 per core
//   MEMORY     INTEGER    MiB
//   PORTS      STRINGSET  TCP host ports that are taken: in registeredResources the reserved
//                         ones, in remainingResources those plus the ports tasks hold
//   PORTS_UDP  STRINGSET  the same for UDP
//   GPU        STRINGSET  GPU ids still free (from platformDevices of type GPU)
//
// Note the asymmetry: PORTS/PORTS_UDP list what is *taken*, every other string set lists what is
// *available*. Other resources an agent reports are kept as given (one of INTEGER, LONG, DOUBLE,
// STRINGSET). When the request names no PORTS, the ports ECS reserves by default are used
// (22 ssh, 2375/2376 Docker, 51678/51679/51680 agent introspection, credentials and metrics);
// an agent that sends PORTS decides for itself (ECS_RESERVED_PORTS).
import type { PlatformDevice, Resource } from '../../generated/ecs/types.js';
import { invalidParameter } from '../errors.js';

export const DEFAULT_RESERVED_PORTS: readonly string[] = ['22', '2375', '2376', '51678', '51679', '51680'];

const PORT_SETS = new Set(['PORTS', 'PORTS_UDP']);
const INTEGER_RESOURCES = new Set(['CPU', 'MEMORY']);
const RESOURCE_TYPES = new Set(['INTEGER', 'LONG', 'DOUBLE', 'STRINGSET']);
const INT32_MAX = 2147483647;

/** The numeric amount of a resource, whichever value member carries it. */
export function resourceAmount(r: Resource): number {
  return r.integerValue ?? r.longValue ?? r.doubleValue ?? 0;
}

/** The same resource with another amount, in the value member its type uses (INTEGER if untyped). */
function withAmount(r: Resource, amount: number): Resource {
  if (r.type === 'LONG') return { name: r.name, type: 'LONG', longValue: amount };
  if (r.type === 'DOUBLE') return { name: r.name, type: 'DOUBLE', doubleValue: amount };
  return { name: r.name, type: 'INTEGER', integerValue: amount };
}

function normalizeIntegerResource(r: Resource, member: string): Resource {
  if (r.type === 'STRINGSET') throw invalidParameter(`${member} (${r.name}) must be of type INTEGER.`);
  const amount = r.integerValue ?? r.longValue ?? r.doubleValue;
  if (amount === undefined || !Number.isInteger(amount) || amount < 0 || amount > INT32_MAX) {
    throw invalidParameter(`${member} (${r.name}) must carry a whole, non-negative integerValue.`);
  }
  return { name: r.name, type: 'INTEGER', integerValue: amount };
}

function normalizePorts(r: Resource, member: string): Resource {
  if (r.type !== undefined && r.type !== 'STRINGSET') {
    throw invalidParameter(`${member} (${r.name}) must be of type STRINGSET.`);
  }
  const ports = new Set<number>();
  for (const p of r.stringSetValue ?? []) {
    const n = /^[0-9]{1,5}$/.test(p) ? Number(p) : NaN;
    if (!(n >= 1 && n <= 65535)) {
      throw invalidParameter(`${member} (${r.name}): '${p}' is not a port number (1-65535).`);
    }
    ports.add(n);
  }
  return { name: r.name, type: 'STRINGSET', stringSetValue: sortedPorts(ports) };
}

function sortedPorts(ports: Iterable<number | string>): string[] {
  return [...new Set([...ports].map(Number))].sort((a, b) => a - b).map(String);
}

function normalizeOther(r: Resource, member: string): Resource {
  const type = r.type ?? (r.stringSetValue ? 'STRINGSET' : undefined);
  if (type === undefined || !RESOURCE_TYPES.has(type)) {
    throw invalidParameter(`${member} (${r.name}).type must be one of INTEGER, LONG, DOUBLE, STRINGSET.`);
  }
  if (type === 'STRINGSET') {
    return { name: r.name, type, stringSetValue: [...new Set(r.stringSetValue ?? [])] };
  }
  const amount = type === 'INTEGER' ? r.integerValue : type === 'LONG' ? r.longValue : r.doubleValue;
  if (amount === undefined || !Number.isFinite(amount) || amount < 0) {
    throw invalidParameter(`${member} (${r.name}) must carry a non-negative ${type.toLowerCase()}Value.`);
  }
  return withAmount({ name: r.name, type }, amount);
}

/**
 * registeredResources from RegisterContainerInstance's totalResources and platformDevices.
 * CPU and MEMORY are required; order is CPU, MEMORY, PORTS, PORTS_UDP, then the rest as given.
 */
export function computeRegisteredResources(
  totalResources: readonly Resource[] | undefined,
  platformDevices: readonly PlatformDevice[] = [],
): Resource[] {
  const byName = new Map<string, Resource>();
  (totalResources ?? []).forEach((r, i) => {
    const member = `totalResources[${i}]`;
    if (typeof r.name !== 'string' || r.name === '') throw invalidParameter(`${member}.name is required.`);
    if (byName.has(r.name)) throw invalidParameter(`${member}: resource ${r.name} is listed more than once.`);
    const normalized = INTEGER_RESOURCES.has(r.name)
      ? normalizeIntegerResource(r, member)
      : PORT_SETS.has(r.name)
        ? normalizePorts(r, member)
        : normalizeOther(r, member);
    byName.set(r.name, normalized);
  });
  for (const required of INTEGER_RESOURCES) {
    if (!byName.has(required)) {
      throw invalidParameter(`totalResources must include ${required} (type INTEGER).`);
    }
  }

  const gpuIds: string[] = [];
  platformDevices.forEach((d, i) => {
    if (typeof d.id !== 'string' || d.id === '')
      throw invalidParameter(`platformDevices[${i}].id is required.`);
    if (d.type !== 'GPU' && d.type !== 'NEURON_DEVICE') {
      throw invalidParameter(`platformDevices[${i}].type must be GPU or NEURON_DEVICE.`);
    }
    if (d.type === 'GPU') gpuIds.push(d.id);
  });
  if (gpuIds.length > 0) {
    const given = byName.get('GPU');
    if (given && given.type !== 'STRINGSET')
      throw invalidParameter('totalResources GPU must be of type STRINGSET.');
    byName.set('GPU', {
      name: 'GPU',
      type: 'STRINGSET',
      stringSetValue: [...new Set([...(given?.stringSetValue ?? []), ...gpuIds])],
    });
  }

  if (!byName.has('PORTS'))
    byName.set('PORTS', { name: 'PORTS', type: 'STRINGSET', stringSetValue: [...DEFAULT_RESERVED_PORTS] });
  if (!byName.has('PORTS_UDP'))
    byName.set('PORTS_UDP', { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] });

  const first = ['CPU', 'MEMORY', 'PORTS', 'PORTS_UDP'];
  const ordered = first.map((n) => byName.get(n)!);
  for (const [name, r] of byName) if (!first.includes(name)) ordered.push(r);
  return ordered;
}

function copyResource(r: Resource): Resource {
  return r.stringSetValue ? { ...r, stringSetValue: [...r.stringSetValue] } : { ...r };
}

/**
 * remainingResources for a (re-)registration. A first registration has all of registered free.
 * A re-registration (agent restart) keeps what tasks already use: the amount used under the
 * previous registration is subtracted from the new one (never below 0), used ports stay taken,
 * used GPUs stay out of the free set.
 */
export function computeRemainingResources(
  registered: readonly Resource[],
  previous?: { registeredResources?: readonly Resource[]; remainingResources?: readonly Resource[] },
): Resource[] {
  if (!previous) return registered.map(copyResource);
  const prevRegistered = new Map((previous.registeredResources ?? []).map((r) => [r.name, r]));
  const prevRemaining = new Map((previous.remainingResources ?? []).map((r) => [r.name, r]));
  return registered.map((r) => {
    const before = prevRegistered.get(r.name ?? '');
    const left = prevRemaining.get(r.name ?? '');
    if (!before || !left) return copyResource(r);
    if (r.type === 'STRINGSET') {
      const now = r.stringSetValue ?? [];
      if (PORT_SETS.has(r.name ?? '')) {
        const reservedBefore = new Set(before.stringSetValue ?? []);
        const heldByTasks = (left.stringSetValue ?? []).filter((p) => !reservedBefore.has(p));
        return { name: r.name, type: 'STRINGSET', stringSetValue: sortedPorts([...now, ...heldByTasks]) };
      }
      const freeBefore = new Set(left.stringSetValue ?? []);
      const used = new Set((before.stringSetValue ?? []).filter((x) => !freeBefore.has(x)));
      return { name: r.name, type: 'STRINGSET', stringSetValue: now.filter((x) => !used.has(x)) };
    }
    const used = resourceAmount(before) - resourceAmount(left);
    return withAmount(r, Math.max(0, resourceAmount(r) - Math.max(0, used)));
  });
}
