// Capacity provider strategies and a cluster's list of capacity providers: the rules ECS applies
// when a cluster gets them (CreateCluster, PutClusterCapacityProviders) and when one is removed.
import { invalidParameter } from '../errors.js';
import type { CapacityProviderStrategyItem } from '../../generated/ecs/types.js';
import type { CapacityProviderRecord, ServiceRecord, TaskRecord } from '../records.js';
import { capacityProviderNameFromRef, isFargateProvider } from './capacity-provider.js';

/** ECS quota: capacity providers per cluster, and items per strategy. */
export const MAX_CLUSTER_CAPACITY_PROVIDERS = 20;
export const MAX_STRATEGY_ITEMS = 20;

export const MAX_WEIGHT = 1000;
export const MAX_BASE = 100000;

/** A strategy item as stored and answered: weight and base default to 0, as ECS reports them. */
export type StrategyItem = Required<CapacityProviderStrategyItem>;

/**
 * Checks a strategy on its own (ranges, duplicates, at most one base) and fills in defaults.
 * `member` names the request member in error messages.
 */
export function normalizeStrategy(
  strategy: readonly CapacityProviderStrategyItem[],
  member: string,
): StrategyItem[] {
  if (strategy.length > MAX_STRATEGY_ITEMS) {
    throw invalidParameter(
      `${member} can contain at most ${MAX_STRATEGY_ITEMS} capacity providers (got ${strategy.length}).`,
    );
  }
  const seen = new Set<string>();
  const out: StrategyItem[] = [];
  strategy.forEach((item, i) => {
    const at = `${member}[${i}]`;
    const name = typeof item.capacityProvider === 'string' ? item.capacityProvider : '';
    if (name === '')
      throw invalidParameter(`${at}.capacityProvider must be the short name of a capacity provider.`);
    const weight = item.weight ?? 0;
    const base = item.base ?? 0;
    if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
      throw invalidParameter(`${at}.weight must be between 0 and ${MAX_WEIGHT} (got ${weight}).`);
    }
    if (!Number.isInteger(base) || base < 0 || base > MAX_BASE) {
      throw invalidParameter(`${at}.base must be between 0 and ${MAX_BASE} (got ${base}).`);
    }
    if (seen.has(name)) throw invalidParameter(`${member} lists capacity provider ${name} more than once.`);
    seen.add(name);
    out.push({ capacityProvider: name, weight, base });
  });
  const withBase = out.filter((x) => x.base > 0);
  if (withBase.length > 1) {
    throw invalidParameter(
      `Only one capacity provider in a capacity provider strategy can have a base defined; ${member} sets a base on ${withBase
        .map((x) => x.capacityProvider)
        .join(', ')}.`,
    );
  }
  const kinds = new Set(out.map((x) => isFargateProvider(x.capacityProvider)));
  if (kinds.size > 1) {
    throw invalidParameter(
      `${member} mixes Fargate (FARGATE, FARGATE_SPOT) and other capacity providers; a strategy can use one kind only.`,
    );
  }
  return out;
}

/** Every provider of a strategy must be associated with the cluster. */
export function checkStrategyAssociated(
  strategy: readonly StrategyItem[],
  associated: readonly string[],
): void {
  for (const item of strategy) {
    if (!associated.includes(item.capacityProvider)) {
      throw invalidParameter(
        `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster (${item.capacityProvider}). Associate the capacity provider with the cluster or specify a valid capacity provider and try again.`,
      );
    }
  }
}

/** What the store says about the providers a cluster asks for. */
export interface AssociationFacts {
  /** Stored providers by name, any status. */
  providers: ReadonlyMap<string, CapacityProviderRecord>;
  /** Provider name → names of the other live (not INACTIVE) clusters that list it. */
  associatedElsewhere: ReadonlyMap<string, readonly string[]>;
}

/**
 * Checks the capacity providers a cluster is given (CreateCluster, PutClusterCapacityProviders)
 * and returns their short names: each must be FARGATE, FARGATE_SPOT or an ACTIVE provider; an
 * Auto Scaling group provider serves one cluster only; a Managed Instances provider only the
 * cluster it was created in.
 */
export function checkClusterCapacityProviders(
  refs: readonly string[],
  cluster: string,
  facts: AssociationFacts,
  member: string,
): string[] {
  if (refs.length > MAX_CLUSTER_CAPACITY_PROVIDERS) {
    throw invalidParameter(
      `${member}: a cluster can have at most ${MAX_CLUSTER_CAPACITY_PROVIDERS} capacity providers (got ${refs.length}).`,
    );
  }
  const out: string[] = [];
  for (const ref of refs) {
    const name = capacityProviderNameFromRef(ref);
    if (name === undefined || name === '') {
      throw invalidParameter(`${member}: '${ref}' is not a capacity provider name or ARN.`);
    }
    if (out.includes(name))
      throw invalidParameter(`${member} lists capacity provider ${name} more than once.`);
    out.push(name);
    if (isFargateProvider(name)) continue;
    const record = facts.providers.get(name);
    if (!record || record.status !== 'ACTIVE') {
      throw invalidParameter(
        `The specified capacity provider ${name} does not exist or is not ACTIVE. Specify a valid capacity provider and try again.`,
      );
    }
    if (record.cluster !== undefined && record.cluster !== cluster) {
      throw invalidParameter(
        `The capacity provider ${name} belongs to cluster ${record.cluster} and can only be used there.`,
      );
    }
    const elsewhere = facts.associatedElsewhere.get(name) ?? [];
    if (record.cluster === undefined && elsewhere.length > 0) {
      throw invalidParameter(
        `The capacity provider ${name} is already associated with cluster ${elsewhere.join(', ')}; an Auto Scaling group capacity provider can be associated with one cluster only.`,
      );
    }
  }
  return out;
}

/** The first of `names` a live service (strategy) or unfinished task of the cluster still uses. */
export function findProviderInUse(
  names: readonly string[],
  services: readonly Pick<ServiceRecord, 'status' | 'capacityProviderStrategy'>[],
  tasks: readonly Pick<TaskRecord, 'lastStatus' | 'capacityProviderName'>[],
): string | undefined {
  for (const name of names) {
    const byService = services.some(
      (s) =>
        (s.status === 'ACTIVE' || s.status === 'DRAINING') &&
        (s.capacityProviderStrategy ?? []).some((i) => i.capacityProvider === name),
    );
    const byTask = tasks.some(
      (t) => t.lastStatus !== 'STOPPED' && t.lastStatus !== 'DELETED' && t.capacityProviderName === name,
    );
    if (byService || byTask) return name;
  }
  return undefined;
}
