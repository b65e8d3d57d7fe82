// Which capacity a RunTask uses: its launchType, else its capacityProviderStrategy, else the
// cluster's defaultCapacityProviderStrategy, else EC2 (ECS's order). And how the tasks of one
// call are shared out over a strategy's providers:
//   1. the provider with a `base` gets the first `base` tasks;
//   2. every further task goes to the provider whose share is furthest below its weight
//      (the smallest (assigned + 1) / weight), ties to the earlier item.
// FARGATE and FARGATE_SPOT run on managed capacity (launchType FARGATE); any other provider
// runs on the cluster's container instances (launchType EC2) until capacity providers manage
// instance groups of their own.
import type { LaunchType } from '../../generated/ecs/types.js';
import { isFargateProvider } from '../capacity-provider/capacity-provider.js';
import type { StrategyItem } from '../capacity-provider/strategy.js';
import { invalidParameter } from '../errors.js';

export interface TaskCapacity {
  launchType: LaunchType;
  capacityProviderName?: string;
}

export function launchTypeOfProvider(name: string): LaunchType {
  return isFargateProvider(name) ? 'FARGATE' : 'EC2';
}

/** One provider name per task, in task order. */
export function assignCapacityProviders(strategy: readonly StrategyItem[], count: number): string[] {
  if (strategy.length === 0) throw new Error('assignCapacityProviders needs a non-empty strategy');
  const out: string[] = [];
  const withBase = strategy.find((s) => s.base > 0);
  if (withBase) for (let i = 0; i < Math.min(withBase.base, count); i++) out.push(withBase.capacityProvider);
  const weighted = strategy.filter((s) => s.weight > 0);
  if (out.length < count && weighted.length === 0) {
    throw invalidParameter(
      `capacityProviderStrategy: at least one capacity provider must have a weight greater than 0 to place more than the base (${withBase?.base ?? 0}) tasks.`,
    );
  }
  const assigned = new Map<string, number>(weighted.map((s) => [s.capacityProvider, 0]));
  while (out.length < count) {
    let best: StrategyItem | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const s of weighted) {
      const score = ((assigned.get(s.capacityProvider) ?? 0) + 1) / s.weight;
      if (score < bestScore) {
        best = s;
        bestScore = score;
      }
    }
    const name = best!.capacityProvider;
    assigned.set(name, (assigned.get(name) ?? 0) + 1);
    out.push(name);
  }
  return out;
}

/** The capacity of each task of a call, from a strategy. */
export function capacityFromStrategy(strategy: readonly StrategyItem[], count: number): TaskCapacity[] {
  return assignCapacityProviders(strategy, count).map((name) => ({
    launchType: launchTypeOfProvider(name),
    capacityProviderName: name,
  }));
}
