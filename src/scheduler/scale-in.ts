// Which tasks a service stops when it scales in: its placement strategies read backwards, so that
// what is left stays the way placement would have made it (ECS):
//   spread(attribute:x)  stop in the value (zone) with the most of the service's tasks, so zones
//                        stay balanced
//   spread(instanceId)   stop on the instance with the most of the service's tasks
//   binpack(field)       stop on the instance that would have the most of the field left after
//                        the task is gone, freeing the emptiest instances first
//   random               any of the tasks still tied
// Strategies apply in order, each breaking the ties of those before; then the instance with the
// most of the service's tasks; then snapshot order. On the chosen instance the task listed last
// stops (callers list tasks oldest first, so the newest goes first). Pure and seeded, like the
// engine. A task whose instance is not in the snapshot counts as being on an instance with no
// attributes and nothing left.
import type { StrategySpec } from './placement-spec.js';
import type { Rng } from './rng.js';
import type { PlacementInstance } from './snapshot.js';

export interface ServiceTaskRef {
  taskId: string;
  /** Container instance id (the last part of its ARN). */
  instanceId: string;
  /** What the task reserved, given back to its instance when it stops. */
  cpu?: number;
  memory?: number;
}

interface Host {
  instance: PlacementInstance | undefined;
  order: number;
  tasks: ServiceTaskRef[];
  cpu: number;
  memory: number;
}

/** Attribute value buckets: instances without the attribute share one. */
const MISSING = '\u0000missing';

/** Task ids in the order they should stop, `count` of them at most. */
export function chooseTasksToStop(
  tasks: readonly ServiceTaskRef[],
  instances: readonly PlacementInstance[],
  strategies: readonly StrategySpec[],
  count: number,
  options: { rng?: Rng } = {},
): string[] {
  if (strategies.some((s) => s.type === 'random') && options.rng === undefined) {
    throw new Error('a random strategy needs options.rng (the scheduler never calls Math.random)');
  }
  const byId = new Map(instances.map((inst, i) => [inst.id, { inst, i }]));
  const hosts = new Map<string, Host>();
  for (const t of tasks) {
    let h = hosts.get(t.instanceId);
    if (!h) {
      const known = byId.get(t.instanceId);
      h = {
        instance: known?.inst,
        order: known ? known.i : instances.length + hosts.size,
        tasks: [],
        cpu: known?.inst.remaining.cpu ?? 0,
        memory: known?.inst.remaining.memory ?? 0,
      };
      hosts.set(t.instanceId, h);
    }
    h.tasks.push(t);
  }
  const list = [...hosts.values()].sort((a, b) => a.order - b.order);
  const spreadValues = strategies.map((s) =>
    s.type === 'spread' && s.field.kind === 'attribute' ? s.field.name : undefined,
  );
  const valueOf = (h: Host, name: string) => h.instance?.attributes.get(name) ?? MISSING;
  const perValue = spreadValues.map((name) => {
    if (name === undefined) return undefined;
    const counts = new Map<string, number>();
    for (const h of list) counts.set(valueOf(h, name), (counts.get(valueOf(h, name)) ?? 0) + h.tasks.length);
    return counts;
  });

  /** Higher = stop here first, per strategy, then the final tie-break on task count. */
  const keys = (h: Host): number[] => {
    const out: number[] = [];
    for (let s = 0; s < strategies.length; s++) {
      const st = strategies[s]!;
      if (st.type === 'random') break;
      if (st.type === 'spread') {
        out.push(
          st.field.kind === 'instance' ? h.tasks.length : perValue[s]!.get(valueOf(h, spreadValues[s]!))!,
        );
      } else {
        const last = h.tasks[h.tasks.length - 1]!;
        out.push(st.field === 'cpu' ? h.cpu + (last.cpu ?? 0) : h.memory + (last.memory ?? 0));
      }
    }
    return out;
  };
  const random = strategies.some((s) => s.type === 'random');

  const stopped: string[] = [];
  for (let n = 0; n < count; n++) {
    let best: Host | undefined;
    let bestKeys: number[] = [];
    let ties = 0;
    for (const h of list) {
      if (h.tasks.length === 0) continue;
      const k = keys(h);
      let cmp = 0;
      if (best) {
        for (let r = 0; r < k.length && cmp === 0; r++) cmp = Math.sign(k[r]! - bestKeys[r]!);
        if (cmp === 0 && !random) cmp = Math.sign(h.tasks.length - best.tasks.length);
      }
      if (!best || cmp > 0) {
        best = h;
        bestKeys = k;
        ties = 1;
      } else if (cmp === 0 && random) {
        ties++;
        if (options.rng!() * ties < 1) best = h;
      }
    }
    if (!best) break;
    const host = best;
    const task = host.tasks.pop()!;
    host.cpu += task.cpu ?? 0;
    host.memory += task.memory ?? 0;
    spreadValues.forEach((name, s) => {
      if (name === undefined) return;
      const counts = perValue[s]!;
      const v = valueOf(host, name);
      counts.set(v, counts.get(v)! - 1);
    });
    stopped.push(task.taskId);
  }
  return stopped;
}
