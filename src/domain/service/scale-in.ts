// Which of a service's tasks go first when it has more than it needs (scale-in, old deployments
// draining, tasks leaving a draining instance):
//   1. unhealthy tasks (they serve nothing and are to be replaced anyway);
//   2. then the zone (availabilityZone) holding the most of the remaining tasks, so zones stay
//      balanced; ties to the zone that sorts first;
//   3. within the zone: tasks not serving yet (pending, then starting) before healthy ones;
//   4. then the newest task (createdAt), then the task ARN, so the choice is stable.
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

/** `count` candidates in the order they should stop. */
export function chooseTasksToStop<T extends ScaleInCandidate>(candidates: readonly T[], count: number): T[] {
  const left = [...candidates];
  const out: T[] = [];
  while (out.length < count && left.length > 0) {
    let pick: number;
    const unhealthy = left
      .map((c, i) => ({ c, i }))
      .filter((x) => x.c.state === 'unhealthy')
      .sort((a, b) => newerFirst(a.c, b.c));
    if (unhealthy.length > 0) {
      pick = unhealthy[0]!.i;
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
    out.push(left[pick]!);
    left.splice(pick, 1);
  }
  return out;
}
