// CreateCapacityProvider, DescribeCapacityProviders, UpdateCapacityProvider,
// DeleteCapacityProvider. FARGATE and FARGATE_SPOT are synthesized for every account and region,
// never stored, and can be neither created, updated nor deleted. A deleted provider stays stored
// as INACTIVE (DescribeCapacityProviders by name still shows it); its name can be used again.
//
// Deleting a provider a live cluster still lists does not fail the call: like ECS, it answers
// with updateStatus DELETE_FAILED and the reason, and leaves the provider ACTIVE.
import { capacityProviderArn } from '../../domain/arn.js';
import {
  FARGATE_PROVIDERS,
  capacityProviderNameFromRef,
  capacityProviderView,
  fargateProvider,
  isFargateProvider,
  mergeAutoScalingGroupProvider,
  mergeManagedInstancesProvider,
  normalizeAutoScalingGroupProvider,
  normalizeManagedInstancesProvider,
  validateCapacityProviderName,
} from '../../domain/capacity-provider/capacity-provider.js';
import { findProviderInUse } from '../../domain/capacity-provider/strategy.js';
import { clientError, invalidParameter } from '../../domain/errors.js';
import type {
  CapacityProviderRecord,
  ClusterRecord,
  ServiceRecord,
  TaskRecord,
} from '../../domain/records.js';
import { validateTags } from '../../domain/tags.js';
import type { CapacityProvider, Failure } from '../../generated/ecs/types.js';
import { updateRecord } from '../../store/cas.js';
import { keys } from '../../store/keys.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { pageOf, pageSize } from '../pagination.js';
import { clusterName, requireActiveCluster } from '../resolve.js';

/** DescribeCapacityProviders pages hold 1–10 providers, 10 by default (ECS). */
const MAX_PROVIDERS_PAGE = 10;
const MAX_DESCRIBE = 100;

const NOT_FOUND =
  'The specified capacity provider does not exist. Specify a valid name or ARN and try again.';

function requireProviderName(ref: string, member: string): string {
  const name = capacityProviderNameFromRef(ref);
  if (name === undefined || name === '')
    throw invalidParameter(`${member} '${ref}' is not a capacity provider name or ARN.`);
  return name;
}

function refuseFargate(name: string, verb: string): void {
  if (isFargateProvider(name)) {
    throw clientError(`The ${name} capacity provider is reserved and can't be ${verb}.`);
  }
}

/** Managed Instances providers live in one cluster and are only reached through it. */
function checkScopedCluster(record: CapacityProviderRecord, clusterRef: string | undefined): void {
  if (record.cluster === undefined) return;
  if (clusterRef === undefined || clusterName(clusterRef) !== record.cluster) {
    throw clientError(
      `The capacity provider ${record.name} belongs to cluster ${record.cluster}: specify cluster ${record.cluster} to change it.`,
    );
  }
}

/** Every stored provider (any status) by name; FARGATE and FARGATE_SPOT are not among them. */
export async function storedProviders(ctx: RequestContext): Promise<Map<string, CapacityProviderRecord>> {
  const recs = await ctx.store.list<CapacityProviderRecord>(keys.capacityProviders(ctx));
  return new Map(recs.map((r) => [r.value.name, r.value]));
}

/** Why a provider cannot be deleted now, or undefined. */
async function deletionRefusal(
  ctx: RequestContext,
  record: CapacityProviderRecord,
): Promise<string | undefined> {
  if (record.cluster !== undefined) {
    const [services, tasks] = await Promise.all([
      ctx.store.list<ServiceRecord>(keys.servicesOfCluster(ctx, record.cluster)),
      ctx.store.list<TaskRecord>(keys.tasksOfCluster(ctx, record.cluster)),
    ]);
    const inUse = findProviderInUse(
      [record.name],
      services.map((s) => s.value),
      tasks.map((t) => t.value),
    );
    return inUse === undefined
      ? undefined
      : `The capacity provider cannot be deleted because services or tasks of cluster ${record.cluster} still use it.`;
  }
  const clusters = await ctx.store.list<ClusterRecord>(keys.clusters(ctx));
  const using = clusters
    .map((c) => c.value)
    .filter((c) => c.status !== 'INACTIVE' && (c.capacityProviders ?? []).includes(record.name))
    .map((c) => c.clusterName);
  return using.length === 0
    ? undefined
    : `The capacity provider cannot be deleted because it is associated with cluster: ${using.join(', ')}. Remove the capacity provider from the cluster and try again.`;
}

type DescribeEntry = { provider: CapacityProvider } | { failure: Failure };

export const capacityProviderOperations: OperationGroup = {
  async CreateCapacityProvider(ctx, input) {
    const name = input.name;
    validateCapacityProviderName(name);
    validateTags(input.tags);
    const asg = input.autoScalingGroupProvider;
    const managed = input.managedInstancesProvider;
    if ((asg === undefined) === (managed === undefined)) {
      throw invalidParameter('Specify exactly one of autoScalingGroupProvider and managedInstancesProvider.');
    }

    let body: Pick<
      CapacityProviderRecord,
      'autoScalingGroupProvider' | 'managedInstancesProvider' | 'cluster' | 'type'
    >;
    if (asg !== undefined) {
      if (input.cluster !== undefined) {
        throw invalidParameter(
          'cluster can only be specified for a Managed Instances capacity provider (managedInstancesProvider).',
        );
      }
      const provider = normalizeAutoScalingGroupProvider(asg);
      const taken = [...(await storedProviders(ctx)).values()].find(
        (p) =>
          p.name !== name &&
          p.status === 'ACTIVE' &&
          p.autoScalingGroupProvider?.autoScalingGroupArn === provider.autoScalingGroupArn,
      );
      if (taken) {
        throw clientError(
          `The specified Auto Scaling group ARN is already being used by another capacity provider (${taken.name}). Specify a unique Auto Scaling group ARN and try again.`,
        );
      }
      body = { autoScalingGroupProvider: provider, type: 'EC2_AUTOSCALING' };
    } else {
      if (input.cluster === undefined) {
        throw invalidParameter(
          'cluster is required for a Managed Instances capacity provider: it is available only within that cluster.',
        );
      }
      const cluster = await requireActiveCluster(ctx, input.cluster);
      body = {
        cluster: cluster.value.clusterName,
        managedInstancesProvider: normalizeManagedInstancesProvider(managed!),
        type: 'MANAGED_INSTANCES',
      };
    }

    const record: CapacityProviderRecord = {
      capacityProviderArn: capacityProviderArn(ctx, name),
      name,
      status: 'ACTIVE',
      ...body,
      tags: (input.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
    };
    const stored = await updateRecord<CapacityProviderRecord>(
      ctx.store,
      keys.capacityProvider(ctx, name),
      (cur) => {
        if (cur && cur.status !== 'INACTIVE') {
          throw clientError(
            `The specified capacity provider ${name} already exists. To change the configuration of an existing capacity provider, update the capacity provider.`,
          );
        }
        return record;
      },
    );
    return { capacityProvider: capacityProviderView(stored!, true) };
  },

  async DescribeCapacityProviders(ctx, input) {
    const refs = input.capacityProviders ?? [];
    if (refs.length > MAX_DESCRIBE) {
      throw invalidParameter(
        `capacityProviders can name at most ${MAX_DESCRIBE} capacity providers (got ${refs.length}).`,
      );
    }
    const size = pageSize(input.maxResults, MAX_PROVIDERS_PAGE);
    const withTags = (input.include ?? []).includes('TAGS');
    const stored = await storedProviders(ctx);

    // With a cluster: only the providers it lists, plus the Managed Instances ones created in it.
    let inCluster: ((p: CapacityProviderRecord) => boolean) | undefined;
    if (input.cluster !== undefined) {
      const cluster = (await requireActiveCluster(ctx, input.cluster)).value;
      const listed = new Set(cluster.capacityProviders ?? []);
      inCluster = (p) => listed.has(p.name) || p.cluster === cluster.clusterName;
    }
    const lookup = (name: string): CapacityProviderRecord | undefined => {
      const p = isFargateProvider(name) ? fargateProvider(ctx, name) : stored.get(name);
      return p && (inCluster === undefined || inCluster(p)) ? p : undefined;
    };

    const entries: { key: string; item: DescribeEntry }[] = [];
    if (refs.length === 0) {
      const all = [...FARGATE_PROVIDERS.map((n) => fargateProvider(ctx, n)), ...stored.values()].filter(
        (p) => p.status !== 'INACTIVE' && (inCluster === undefined || inCluster(p)),
      );
      for (const p of all)
        entries.push({ key: p.name, item: { provider: capacityProviderView(p, withTags) } });
    } else {
      const seen = new Set<string>();
      for (const ref of refs) {
        const name = capacityProviderNameFromRef(ref);
        const key = name ?? ref;
        if (seen.has(key)) continue;
        seen.add(key);
        const p = name === undefined ? undefined : lookup(name);
        entries.push({
          key,
          item: p
            ? { provider: capacityProviderView(p, withTags) }
            : {
                failure: {
                  arn: name === undefined ? ref : capacityProviderArn(ctx, name),
                  reason: 'MISSING',
                },
              },
        });
      }
    }

    const page = pageOf(entries, input.nextToken, size);
    const capacityProviders: CapacityProvider[] = [];
    const failures: Failure[] = [];
    for (const e of page.items) {
      if ('provider' in e) capacityProviders.push(e.provider);
      else failures.push(e.failure);
    }
    return page.nextToken !== undefined
      ? { capacityProviders, failures, nextToken: page.nextToken }
      : { capacityProviders, failures };
  },

  async UpdateCapacityProvider(ctx, input) {
    const name = requireProviderName(input.name, 'name');
    refuseFargate(name, 'updated');
    const asg = input.autoScalingGroupProvider;
    const managed = input.managedInstancesProvider;
    if ((asg === undefined) === (managed === undefined)) {
      throw invalidParameter('Specify exactly one of autoScalingGroupProvider and managedInstancesProvider.');
    }
    const updated = await updateRecord<CapacityProviderRecord>(
      ctx.store,
      keys.capacityProvider(ctx, name),
      (cur) => {
        if (!cur || cur.status === 'INACTIVE') throw clientError(NOT_FOUND);
        checkScopedCluster(cur, input.cluster);
        const { updateStatusReason: _reason, ...rest } = cur;
        if (cur.managedInstancesProvider !== undefined) {
          if (managed === undefined) {
            throw invalidParameter(
              `${name} is a Managed Instances capacity provider: update it with managedInstancesProvider.`,
            );
          }
          return {
            ...rest,
            managedInstancesProvider: mergeManagedInstancesProvider(cur.managedInstancesProvider, managed),
            updateStatus: 'UPDATE_COMPLETE',
          };
        }
        if (asg === undefined || cur.autoScalingGroupProvider === undefined) {
          throw invalidParameter(
            `${name} is an Auto Scaling group capacity provider: update it with autoScalingGroupProvider.`,
          );
        }
        return {
          ...rest,
          autoScalingGroupProvider: mergeAutoScalingGroupProvider(cur.autoScalingGroupProvider, asg),
          updateStatus: 'UPDATE_COMPLETE',
        };
      },
    );
    return { capacityProvider: capacityProviderView(updated!, true) };
  },

  async DeleteCapacityProvider(ctx, input) {
    const name = requireProviderName(input.capacityProvider, 'capacityProvider');
    refuseFargate(name, 'deleted');
    const key = keys.capacityProvider(ctx, name);
    const current = await ctx.store.get<CapacityProviderRecord>(key);
    if (!current || current.value.status === 'INACTIVE') throw clientError(NOT_FOUND);
    checkScopedCluster(current.value, input.cluster);
    const refusal = await deletionRefusal(ctx, current.value);

    const result = await updateRecord<CapacityProviderRecord>(ctx.store, key, (cur) => {
      if (!cur || cur.status === 'INACTIVE') throw clientError(NOT_FOUND);
      if (refusal !== undefined)
        return { ...cur, updateStatus: 'DELETE_FAILED', updateStatusReason: refusal };
      const { updateStatusReason: _reason, ...rest } = cur;
      return { ...rest, status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE' };
    });
    return { capacityProvider: capacityProviderView(result!, true) };
  },
};
