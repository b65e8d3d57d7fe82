// CreateCluster, DescribeClusters, ListClusters, UpdateCluster, UpdateClusterSettings,
// DeleteCluster, PutClusterCapacityProviders.
//
// ECS behaviour kept here:
// - CreateCluster of a name that is live returns that cluster unchanged (idempotent); of an
//   INACTIVE (deleted) one starts it afresh. containerInsights defaults to the caller's
//   effective account setting.
// - Deleted clusters stay stored as INACTIVE: DescribeClusters shows them, ListClusters and
//   every write treat them as gone.
// - Counts (instances, running/pending tasks, active services) are computed from the store on
//   every answer, never stored (rules in domain/cluster/activity.ts).
import { clusterArn, isArn, parseArn } from '../../domain/arn.js';
import {
  checkClusterCapacityProviders,
  checkStrategyAssociated,
  findProviderInUse,
  normalizeStrategy,
  type AssociationFacts,
} from '../../domain/capacity-provider/strategy.js';
import { capacityProviderType } from '../../domain/capacity-provider/capacity-provider.js';
import {
  capacityKindOfProviderType,
  clusterDeletionBlocker,
  computeClusterCounts,
  computeClusterStatistics,
  type ClusterCounts,
  type ProviderKindOf,
} from '../../domain/cluster/activity.js';
import {
  clusterView,
  mergeClusterSettings,
  newClusterRecord,
  validateClusterConfiguration,
  validateClusterName,
  validateClusterSettings,
  validateServiceConnectNamespace,
} from '../../domain/cluster/cluster.js';
import { EcsError, clusterNotFound, invalidParameter } from '../../domain/errors.js';
import type {
  CapacityProviderRecord,
  ClusterRecord,
  ContainerInstanceRecord,
  ServiceRecord,
  TaskRecord,
} from '../../domain/records.js';
import { validateTags } from '../../domain/tags.js';
import type {
  Cluster,
  ClusterField,
  ClusterServiceConnectDefaults,
  ClusterServiceConnectDefaultsRequest,
  ClusterSetting,
  Failure,
} from '../../generated/ecs/types.js';
import { ConflictError, updateRecord } from '../../store/cas.js';
import { keys } from '../../store/keys.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { decodeToken, encodeToken, pageSize } from '../pagination.js';
import { DEFAULT_CLUSTER, clusterName, requireActiveCluster } from '../resolve.js';
import { effectiveAccountSetting } from './account-settings.js';
import { storedProviders } from './capacity-providers.js';

const MAX_DESCRIBE = 100;
/** Attempts at a read-check-write that lost a race before giving up. */
const MAX_ATTEMPTS = 10;

/** Mutations answer with the whole cluster, as ECS does; statistics only on request (empty here). */
const FULL_VIEW: ReadonlySet<ClusterField> = new Set(['ATTACHMENTS', 'CONFIGURATIONS', 'SETTINGS', 'TAGS']);

interface ClusterContents {
  instances: ContainerInstanceRecord[];
  tasks: TaskRecord[];
  services: ServiceRecord[];
}

async function readContents(ctx: RequestContext, name: string): Promise<ClusterContents> {
  const [instances, tasks, services] = await Promise.all([
    ctx.store.list<ContainerInstanceRecord>(keys.containerInstancesOfCluster(ctx, name)),
    ctx.store.list<TaskRecord>(keys.tasksOfCluster(ctx, name)),
    ctx.store.list<ServiceRecord>(keys.servicesOfCluster(ctx, name)),
  ]);
  return {
    instances: instances.map((r) => r.value),
    tasks: tasks.map((r) => r.value),
    services: services.map((r) => r.value),
  };
}

const countsOf = (c: ClusterContents): ClusterCounts =>
  computeClusterCounts(c.instances, c.tasks, c.services);

function providerKinds(providers: ReadonlyMap<string, CapacityProviderRecord>): ProviderKindOf {
  return (name) => capacityKindOfProviderType(capacityProviderType(name, providers.get(name)));
}

/** Stored providers, and which other live clusters already list each one. */
async function associationFacts(ctx: RequestContext, cluster: string): Promise<AssociationFacts> {
  const [providers, clusters] = await Promise.all([
    storedProviders(ctx),
    ctx.store.list<ClusterRecord>(keys.clusters(ctx)),
  ]);
  const associatedElsewhere = new Map<string, string[]>();
  for (const { value: c } of clusters) {
    if (c.status === 'INACTIVE' || c.clusterName === cluster) continue;
    for (const p of c.capacityProviders ?? [])
      associatedElsewhere.set(p, [...(associatedElsewhere.get(p) ?? []), c.clusterName]);
  }
  return { providers, associatedElsewhere };
}

async function mutationAnswer(ctx: RequestContext, record: ClusterRecord): Promise<{ cluster: Cluster }> {
  const counts = countsOf(await readContents(ctx, record.clusterName));
  return { cluster: clusterView(record, counts, { include: FULL_VIEW, statistics: [] }) };
}

function serviceConnectDefaultsOf(
  request: ClusterServiceConnectDefaultsRequest | undefined,
): ClusterServiceConnectDefaults | null | undefined {
  if (request === undefined) return undefined;
  // ECS: updating with an empty namespace removes the cluster's Service Connect default.
  if (request.namespace === '') return null;
  validateServiceConnectNamespace(request.namespace);
  return { namespace: request.namespace };
}

/** Applies settings / configuration / serviceConnectDefaults to a live cluster. */
async function updateLiveCluster(
  ctx: RequestContext,
  ref: string,
  change: {
    settings?: ClusterSetting[];
    configuration?: ClusterRecord['configuration'];
    serviceConnectDefaults?: ClusterServiceConnectDefaults | null;
  },
): Promise<ClusterRecord> {
  const name = clusterName(ref);
  const updated = await updateRecord<ClusterRecord>(ctx.store, keys.cluster(ctx, name), (cur) => {
    if (!cur || cur.status === 'INACTIVE') throw clusterNotFound();
    const { serviceConnectDefaults: currentScd, ...rest } = cur;
    const next: ClusterRecord = { ...rest };
    if (change.settings !== undefined)
      next.settings = mergeClusterSettings(cur.settings ?? [], change.settings);
    if (change.configuration !== undefined) next.configuration = change.configuration;
    const scd =
      change.serviceConnectDefaults === undefined ? currentScd : (change.serviceConnectDefaults ?? undefined);
    if (scd !== undefined) next.serviceConnectDefaults = scd;
    return next;
  });
  return updated!;
}

/** The short name a DescribeClusters entry names in this account and region, or undefined. */
function describedName(ctx: RequestContext, ref: string): string | undefined {
  if (!isArn(ref)) return ref;
  const p = parseArn(ref);
  if (!p || p.service !== 'ecs' || p.resourceType !== 'cluster' || p.parts.length !== 1) return undefined;
  if (p.account !== ctx.account || p.region !== ctx.region) return undefined;
  return p.parts[0];
}

export const clusterOperations: OperationGroup = {
  async CreateCluster(ctx, input) {
    const name = input.clusterName ?? DEFAULT_CLUSTER;
    validateClusterName(name);
    validateTags(input.tags);
    const settings = validateClusterSettings(input.settings ?? []);
    if (!settings.some((s) => s.name === 'containerInsights')) {
      const insights = await effectiveAccountSetting(ctx, 'containerInsights');
      settings.push({ name: 'containerInsights', value: insights.value ?? 'disabled' });
    }
    const configuration =
      input.configuration !== undefined ? validateClusterConfiguration(input.configuration) : undefined;
    const serviceConnectDefaults = serviceConnectDefaultsOf(input.serviceConnectDefaults) ?? undefined;
    const facts = await associationFacts(ctx, name);
    const capacityProviders = checkClusterCapacityProviders(
      input.capacityProviders ?? [],
      name,
      facts,
      'capacityProviders',
    );
    const strategy = normalizeStrategy(
      input.defaultCapacityProviderStrategy ?? [],
      'defaultCapacityProviderStrategy',
    );
    checkStrategyAssociated(strategy, capacityProviders);

    const fresh = newClusterRecord(ctx, {
      name,
      settings,
      ...(configuration !== undefined ? { configuration } : {}),
      capacityProviders,
      defaultCapacityProviderStrategy: strategy,
      ...(serviceConnectDefaults !== undefined ? { serviceConnectDefaults } : {}),
      tags: (input.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
    });
    const stored = await updateRecord<ClusterRecord>(ctx.store, keys.cluster(ctx, name), (cur) =>
      cur && cur.status !== 'INACTIVE' ? undefined : fresh,
    );
    return mutationAnswer(ctx, stored!);
  },

  async DescribeClusters(ctx, input) {
    const refs =
      input.clusters !== undefined && input.clusters.length > 0 ? input.clusters : [DEFAULT_CLUSTER];
    if (refs.length > MAX_DESCRIBE) {
      throw invalidParameter(`clusters can name at most ${MAX_DESCRIBE} clusters (got ${refs.length}).`);
    }
    const include = new Set<ClusterField>(input.include ?? []);
    const kinds = include.has('STATISTICS') ? providerKinds(await storedProviders(ctx)) : undefined;

    const clusters: Cluster[] = [];
    const failures: Failure[] = [];
    const seen = new Set<string>();
    for (const ref of refs) {
      const name = describedName(ctx, ref);
      if (name === undefined) {
        failures.push({ arn: ref, reason: 'MISSING' });
        continue;
      }
      if (seen.has(name)) continue;
      seen.add(name);
      const rec = name === '' ? undefined : await ctx.store.get<ClusterRecord>(keys.cluster(ctx, name));
      if (!rec) {
        failures.push({ arn: clusterArn(ctx, name), reason: 'MISSING' });
        continue;
      }
      const contents = await readContents(ctx, name);
      clusters.push(
        clusterView(rec.value, countsOf(contents), {
          include,
          ...(kinds
            ? { statistics: computeClusterStatistics(contents.tasks, contents.services, kinds) }
            : {}),
        }),
      );
    }
    return { clusters, failures };
  },

  async ListClusters(ctx, input) {
    const size = pageSize(input.maxResults);
    const prefix = keys.clusters(ctx);
    const after = decodeToken(input.nextToken);
    if (after !== undefined && !after.startsWith(prefix)) {
      throw invalidParameter('Invalid nextToken: the token does not come from ListClusters.');
    }
    const recs = await ctx.store.list<ClusterRecord>(
      prefix,
      after !== undefined ? { startAfter: after } : {},
    );
    const live = recs.filter((r) => r.value.status !== 'INACTIVE');
    const page = live.slice(0, size);
    const clusterArns = page.map((r) => r.value.clusterArn);
    const last = page[page.length - 1];
    return live.length > size && last ? { clusterArns, nextToken: encodeToken(last.key) } : { clusterArns };
  },

  async UpdateCluster(ctx, input) {
    const settings = input.settings !== undefined ? validateClusterSettings(input.settings) : undefined;
    const configuration =
      input.configuration !== undefined ? validateClusterConfiguration(input.configuration) : undefined;
    const serviceConnectDefaults = serviceConnectDefaultsOf(input.serviceConnectDefaults);
    const updated = await updateLiveCluster(ctx, input.cluster, {
      ...(settings !== undefined ? { settings } : {}),
      ...(configuration !== undefined ? { configuration } : {}),
      ...(serviceConnectDefaults !== undefined ? { serviceConnectDefaults } : {}),
    });
    return mutationAnswer(ctx, updated);
  },

  async UpdateClusterSettings(ctx, input) {
    const settings = validateClusterSettings(input.settings);
    return mutationAnswer(ctx, await updateLiveCluster(ctx, input.cluster, { settings }));
  },

  async DeleteCluster(ctx, input) {
    const cluster = (await requireActiveCluster(ctx, input.cluster)).value;
    const name = cluster.clusterName;
    const [contents, providers] = await Promise.all([readContents(ctx, name), storedProviders(ctx)]);
    const scoped = [...providers.values()]
      .filter((p) => p.cluster === name && p.status === 'ACTIVE')
      .map((p) => p.name);
    const blocker = clusterDeletionBlocker({ ...contents, scopedCapacityProviders: scoped });
    if (blocker) throw blocker;
    const deleted = await updateRecord<ClusterRecord>(ctx.store, keys.cluster(ctx, name), (cur) => {
      if (!cur || cur.status === 'INACTIVE') throw clusterNotFound();
      return { ...cur, status: 'INACTIVE' };
    });
    return { cluster: clusterView(deleted!, countsOf(contents), { include: FULL_VIEW, statistics: [] }) };
  },

  async PutClusterCapacityProviders(ctx, input) {
    const name = clusterName(input.cluster);
    const strategy = normalizeStrategy(
      input.defaultCapacityProviderStrategy,
      'defaultCapacityProviderStrategy',
    );
    // Read, check, then write only if the cluster did not change meanwhile; otherwise check again.
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await requireActiveCluster(ctx, name);
      const facts = await associationFacts(ctx, name);
      const capacityProviders = checkClusterCapacityProviders(
        input.capacityProviders,
        name,
        facts,
        'capacityProviders',
      );
      checkStrategyAssociated(strategy, capacityProviders);
      const removed = (current.value.capacityProviders ?? []).filter((p) => !capacityProviders.includes(p));
      if (removed.length > 0) {
        const contents = await readContents(ctx, name);
        const inUse = findProviderInUse(removed, contents.services, contents.tasks);
        if (inUse !== undefined) {
          throw new EcsError(
            'ResourceInUseException',
            `The specified capacity provider is in use and cannot be removed: services or tasks of cluster ${name} still use ${inUse}.`,
          );
        }
      }
      const next: ClusterRecord = {
        ...current.value,
        capacityProviders,
        defaultCapacityProviderStrategy: strategy,
        attachments: current.value.attachments ?? [],
        attachmentsStatus: 'UPDATE_COMPLETE',
      };
      const r = await ctx.store.txn(
        [{ key: current.key, version: current.version }],
        [{ kind: 'put', key: current.key, value: next }],
      );
      if (r.succeeded) return mutationAnswer(ctx, next);
    }
    throw new ConflictError(keys.cluster(ctx, name), MAX_ATTEMPTS);
  },
};
