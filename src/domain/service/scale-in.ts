// Which of a service's tasks go first when it has more than it needs (scale-in, old deployments
// draining, tasks leaving a draining instance):
//   1. unhealthy tasks (they serve nothing and are to be replaced anyway);
//   2. then the zone (availabilityZone) holding the most of the remaining tasks, so zones stay
//      balanced; ties to the zone that sorts first;
//   3. within the zone: tasks not serving yet (pending, then starting) before healthy ones;
//   4. then the newest task (createdAt), then the task ARN, so the choice is stable.
// A binpack service (first placement strategy binpack) replaces rule 2: the task on the
// instance that would have the most of the binpacked resource left goes first, so the service
// stays packed on the fewest instances; zones then only break ties.
// Pure; the remaining tasks are recounted after every pick.
import type { TaskRecord } from '../records.js';
import type { ServiceTaskState } from './task-state.js';

export interface ScaleInCandidate {
  task: TaskRecord;
  state: ServiceTaskState;
}

const STATE_ORDER: Readonly<Record<ServiceTaskState, number>> = {
  unhealthy: 0,
  pending: 1,
  starting: 2,
  healthy: 3,
  stopping: 4,
  stopped: 5,
};

const NO_ZONE = '';

function zoneOf(c: ScaleInCandidate): string {
  return c.task.availabilityZone ?? NO_ZONE;
}

function newerFirst(a: ScaleInCandidate, b: ScaleInCandidate): number {
  const ca = a.task.createdAt ?? 0;
  const cb = b.task.createdAt ?? 0;
  if (ca !== cb) return cb - ca;
  return a.task.taskArn < b.task.taskArn ? -1 : a.task.taskArn > b.task.taskArn ? 1 : 0;
}

export interface BinpackScaleIn {
  field: 'cpu' | 'memory';
  /** Remaining amount of `field` per container instance ARN (mutated copy kept internally). */
  remaining: ReadonlyMap<string, number>;
}

function reservedOf(task: TaskRecord, field: 'cpu' | 'memory'): number {
  return task.berth?.reserved?.[field] ?? 0;
}

/** `count` candidates in the order they should stop. */
export function chooseTasksToStop<T extends ScaleInCandidate>(
  candidates: readonly T[],
  count: number,
  binpack?: BinpackScaleIn,
): T[] {
  const left = [...candidates];
  const out: T[] = [];
  const remaining = binpack ? new Map(binpack.remaining) : undefined;
  const leftAfter = (c: ScaleInCandidate): number => {
    const arn = c.task.containerInstanceArn;
    if (!binpack || !remaining || arn === undefined) return Number.NEGATIVE_INFINITY;
    return (remaining.get(arn) ?? 0) + reservedOf(c.task, binpack.field);
  };
  while (out.length < count && left.length > 0) {
    let pick: number;
    const unhealthy = left
      .map((c, i) => ({ c, i }))
      .filter((x) => x.c.state === 'unhealthy')
      .sort((a, b) => newerFirst(a.c, b.c));
    const most = binpack ? Math.max(...left.map(leftAfter)) : Number.NEGATIVE_INFINITY;
    if (unhealthy.length > 0) {
      pick = unhealthy[0]!.i;
    } else if (binpack && most !== Number.NEGATIVE_INFINITY) {
      const onEmptiest = left
        .map((c, i) => ({ c, i }))
        .filter((x) => leftAfter(x.c) === most)
        .sort((a, b) => STATE_ORDER[a.c.state] - STATE_ORDER[b.c.state] || newerFirst(a.c, b.c));
      pick = onEmptiest[0]!.i;
    } else {
      const perZone = new Map<string, number>();
      for (const c of left) perZone.set(zoneOf(c), (perZone.get(zoneOf(c)) ?? 0) + 1);
      let zone = NO_ZONE;
      let most = -1;
      for (const [z, n] of [...perZone.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (n > most) {
          zone = z;
          most = n;
        }
      }
      const inZone = left
        .map((c, i) => ({ c, i }))
        .filter((x) => zoneOf(x.c) === zone)
        .sort((a, b) => STATE_ORDER[a.c.state] - STATE_ORDER[b.c.state] || newerFirst(a.c, b.c));
      pick = inZone[0]!.i;
    }
    const chosen = left[pick]!;
    const arn = chosen.task.containerInstanceArn;
    if (binpack && remaining && arn !== undefined) {
      remaining.set(arn, (remaining.get(arn) ?? 0) + reservedOf(chosen.task, binpack.field));
    }
    out.push(chosen);
    left.splice(pick, 1);
  }
  return out;
}
