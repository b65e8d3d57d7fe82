// Plain-fit placement on managed (FARGATE) capacity: which managed host gets each task of a call,
// judged by status, agent connection, cpu, memory and static host ports only. Managed hosts have
// no attributes, and Fargate takes no constraints or strategies, so the placement engine
// (engine.ts, which places on container instances) has nothing more to judge them by. Pure: it
// plans against a snapshot; the caller commits each placement with compare-and-set on the host
// record and plans again on fresh state when it loses a race (src/control/tasks.ts). The reason
// names below are the ones the engine reports too (reasons.ts).
//
// Feasibility, in this order; the first check a host fails names its reason:
//   status ≠ ACTIVE        the status itself (e.g. DRAINING)
//   agent not connected    AGENT
//   cpu left < needed      RESOURCE:CPU
//   memory left < needed   RESOURCE:MEMORY
//   a host port taken      RESOURCE:PORTS (TCP or UDP)
//
// Choice among the hosts that fit: the one running the fewest tasks (counting those placed
// earlier in the same plan), ties to the earlier host in the input (callers sort by id). Tasks
// of one call therefore go round-robin over the hosts that fit, and a lone task goes to the
// least busy host.
import type { HostRemaining, TaskReservation } from '../domain/task/resources.js';

export const REASON_AGENT = 'AGENT';
export const REASON_CPU = 'RESOURCE:CPU';
export const REASON_MEMORY = 'RESOURCE:MEMORY';
export const REASON_PORTS = 'RESOURCE:PORTS';

export interface FitCandidate {
  id: string;
  status: string;
  agentConnected: boolean;
  /** Tasks the host runs or is starting (runningTasksCount + pendingTasksCount). */
  taskCount: number;
  remaining: HostRemaining;
}

export interface Rejection {
  hostId: string;
  reason: string;
}

export interface FitPlan {
  /** Host id of each task that fits, in task order. */
  placements: string[];
  /** Tasks left without a host (the plan stops at the first task that fits nowhere). */
  unplaced: number;
  /** Why each host refused the first unplaced task. */
  rejections: Rejection[];
}

/** Why `host` cannot take a task needing `needs`, or undefined when it can. */
export function checkFit(host: FitCandidate, needs: TaskReservation): string | undefined {
  if (host.status !== 'ACTIVE') return host.status;
  if (!host.agentConnected) return REASON_AGENT;
  if (host.remaining.cpu < needs.cpu) return REASON_CPU;
  if (host.remaining.memory < needs.memory) return REASON_MEMORY;
  if (needs.ports.some((p) => host.remaining.ports.has(p))) return REASON_PORTS;
  if (needs.portsUdp.some((p) => host.remaining.portsUdp.has(p))) return REASON_PORTS;
  return undefined;
}

function afterPlacement(host: FitCandidate, needs: TaskReservation): FitCandidate {
  return {
    ...host,
    taskCount: host.taskCount + 1,
    remaining: {
      cpu: host.remaining.cpu - needs.cpu,
      memory: host.remaining.memory - needs.memory,
      ports: new Set([...host.remaining.ports, ...needs.ports]),
      portsUdp: new Set([...host.remaining.portsUdp, ...needs.portsUdp]),
    },
  };
}

/** Places `count` identical tasks one by one, updating the snapshot after each. */
export function planPlacements(
  hosts: readonly FitCandidate[],
  needs: TaskReservation,
  count: number,
): FitPlan {
  const snapshot = [...hosts];
  const placements: string[] = [];
  for (let i = 0; i < count; i++) {
    const rejections: Rejection[] = [];
    let best = -1;
    snapshot.forEach((h, at) => {
      const reason = checkFit(h, needs);
      if (reason !== undefined) rejections.push({ hostId: h.id, reason });
      else if (best < 0 || h.taskCount < snapshot[best]!.taskCount) best = at;
    });
    if (best < 0) return { placements, unplaced: count - i, rejections };
    placements.push(snapshot[best]!.id);
    snapshot[best] = afterPlacement(snapshot[best]!, needs);
  }
  return { placements, unplaced: 0, rejections: [] };
}
