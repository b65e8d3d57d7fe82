// Everything the agent must not forget across a restart (kill -9 included): its host id, its
// registrations, the tasks it runs (see engine/task-state.ts) and the reports the control plane
// has not acknowledged yet (the outbox). Kept on disk as a snapshot of this document followed by
// a journal of changes; see state-file.ts.
import type { TaskStateReport } from '../../domain/agent-protocol.js';
import type { TaskState } from '../engine/task-state.js';

/**
 * 2: the snapshot may be followed by journal lines. 3: finished tasks are journaled one line
 * each, not with the core. Versions 1 (a lone snapshot) and 2 read the same.
 */
export const STATE_FORMAT_VERSION = 3;
const READABLE_VERSIONS: readonly unknown[] = [1, 2, 3];

export interface Registration {
  /** The control plane and cluster this registration belongs to. */
  endpoint: string;
  cluster: string;
  region: string;
  containerInstanceArn: string;
  /** Epoch ms. */
  registeredAt: number;
}

export interface OutboxEntry {
  id: string;
  change: TaskStateReport;
  /** Epoch ms. */
  queuedAt: number;
}

export interface AgentStateData {
  formatVersion: typeof STATE_FORMAT_VERSION;
  /** Stable per host: created once, sent in every hello. */
  hostId: string;
  registrations: Registration[];
  /** By task ARN. */
  tasks: Record<string, TaskState>;
  /** Unacknowledged reports in the order they were made. */
  outbox: OutboxEntry[];
  /** The awsvpc address handed out last (allocation goes round robin from it). */
  lastAddress?: string;
  /** Tasks cleaned up (ARN → epoch ms), so a late copy of one is never run again. */
  finished?: Record<string, number>;
}

export function emptyState(hostId: string): AgentStateData {
  return {
    formatVersion: STATE_FORMAT_VERSION,
    hostId,
    registrations: [],
    tasks: {},
    outbox: [],
    finished: {},
  };
}

export class StateFormatError extends Error {
  override readonly name = 'StateFormatError';
}

/** Checks the parts a newer or damaged file could get wrong; the rest is trusted as written. */
export function parseState(text: string, file: string): AgentStateData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StateFormatError(
      `agent state ${file} is not JSON (${(e as Error).message}); move it away to start afresh`,
    );
  }
  const d = raw as Partial<AgentStateData> | null;
  if (!d || typeof d !== 'object') throw new StateFormatError(`agent state ${file} is not an object`);
  if (!READABLE_VERSIONS.includes(d.formatVersion)) {
    throw new StateFormatError(
      `agent state ${file} has format version ${String(d.formatVersion)}; this agent reads ${READABLE_VERSIONS.slice(0, -1).join(', ')} and ${String(READABLE_VERSIONS.at(-1))}`,
    );
  }
  if (typeof d.hostId !== 'string' || d.hostId === '')
    throw new StateFormatError(`agent state ${file} has no hostId`);
  return {
    formatVersion: STATE_FORMAT_VERSION,
    hostId: d.hostId,
    registrations: Array.isArray(d.registrations) ? d.registrations : [],
    tasks: d.tasks && typeof d.tasks === 'object' ? d.tasks : {},
    outbox: Array.isArray(d.outbox) ? d.outbox : [],
    ...(typeof d.lastAddress === 'string' ? { lastAddress: d.lastAddress } : {}),
    finished: d.finished && typeof d.finished === 'object' ? d.finished : {},
  };
}

// --- outbox -----------------------------------------------------------------------------------

/**
 * Queues a report. Reports are whole snapshots of their task and statuses only move forward, so
 * an unacknowledged older report of the same task says nothing the new one does not: it is
 * dropped, which keeps the outbox at most one entry per task.
 */
export function enqueueReport(d: AgentStateData, entry: OutboxEntry): void {
  d.outbox = d.outbox.filter((e) => e.change.taskArn !== entry.change.taskArn);
  d.outbox.push(entry);
}

/** Drops an acknowledged report; false when it was not (or no longer) queued. */
export function ackReport(d: AgentStateData, id: string): boolean {
  const before = d.outbox.length;
  d.outbox = d.outbox.filter((e) => e.id !== id);
  return d.outbox.length !== before;
}

export function findRegistration(
  d: AgentStateData,
  endpoint: string,
  cluster: string,
  region: string,
): Registration | undefined {
  return d.registrations.find((r) => r.endpoint === endpoint && r.cluster === cluster && r.region === region);
}

export function saveRegistration(d: AgentStateData, r: Registration): void {
  d.registrations = d.registrations.filter(
    (x) => !(x.endpoint === r.endpoint && x.cluster === r.cluster && x.region === r.region),
  );
  d.registrations.push(r);
}

export function dropRegistration(d: AgentStateData, containerInstanceArn: string): void {
  d.registrations = d.registrations.filter((x) => x.containerInstanceArn !== containerInstanceArn);
}

/** Addresses held by tasks (allocated and not yet released). */
export function takenAddresses(d: AgentStateData): Set<string> {
  const out = new Set<string>();
  for (const t of Object.values(d.tasks)) {
    const n = t.network;
    if (n?.ip && n.status !== 'RELEASED') out.add(n.ip);
  }
  return out;
}
