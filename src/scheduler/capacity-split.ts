// How tasks are shared out over the providers of a capacity provider strategy, counting the tasks
// already running on each provider (a service's), which src/domain/task/capacity.ts does not:
//   1. base: the provider with a base gets tasks until it runs `base` of them in total;
//   2. weight: every further task goes to the provider furthest below its weight's share of the
//      tasks beyond the base (the smallest (beyond + 1) / weight, compared exactly by cross
//      multiplication), ties to the earlier item.
// With nothing running this gives exactly assignCapacityProviders' answer (RunTask: each call is
// shared out on its own, as ECS does), so capacity.ts stays right for RunTask; the service
// scheduler passes its running tasks per provider so that scaling out keeps base and weights
// true over the whole service, e.g. base 2 on A already met by running tasks → new tasks go by
// weight only.
import type { StrategyItem } from '../domain/capacity-provider/strategy.js';
import { invalidParameter } from '../domain/errors.js';

/** One provider name per new task, in task order. `running`: tasks already on each provider. */
export function splitCapacity(
  strategy: readonly StrategyItem[],
  count: number,
  running: ReadonlyMap<string, number> = new Map(),
): string[] {
  if (strategy.length === 0) throw new Error('splitCapacity needs a non-empty strategy');
  const out: string[] = [];
  const withBase = strategy.find((s) => s.base > 0);
  const baseRunning = withBase ? (running.get(withBase.capacityProvider) ?? 0) : 0;
  if (withBase) {
    const missing = Math.max(0, withBase.base - baseRunning);
    for (let i = 0; i < Math.min(missing, count); i++) out.push(withBase.capacityProvider);
  }
  const weighted = strategy.filter((s) => s.weight > 0);
  if (out.length < count && weighted.length === 0) {
    throw invalidParameter(
      `capacityProviderStrategy: at least one capacity provider must have a weight greater than 0 to place more than the base (${withBase?.base ?? 0}) tasks.`,
    );
  }
  // Tasks beyond the base on each weighted provider: the base provider's first `base` tasks are
  // its base, not its weighted share.
  const beyond = weighted.map((s) => {
    const n = running.get(s.capacityProvider) ?? 0;
    return s === withBase ? Math.max(0, n - s.base) : n;
  });
  while (out.length < count) {
    let best = 0;
    for (let k = 1; k < weighted.length; k++) {
      // (beyond[k] + 1) / w[k] < (beyond[best] + 1) / w[best], without rounding.
      if ((beyond[k]! + 1) * weighted[best]!.weight < (beyond[best]! + 1) * weighted[k]!.weight) best = k;
    }
    beyond[best] = beyond[best]! + 1;
    out.push(weighted[best]!.capacityProvider);
  }
  return out;
}
