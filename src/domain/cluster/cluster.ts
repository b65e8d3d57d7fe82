// Clusters: name rules, cluster settings and configuration, the stored record of a new cluster,
// and the wire shape DescribeClusters and the cluster mutations answer with.
import type {
  Cluster,
  ClusterConfiguration,
  ClusterField,
  ClusterServiceConnectDefaults,
  ClusterSetting,
  KeyValuePair,
  Tag,
} from '../../generated/ecs/types.js';
import { clusterArn, isArn, type Scope } from '../arn.js';
import { invalidParameter } from '../errors.js';
import type { ClusterRecord } from '../records.js';
import type { StrategyItem } from '../capacity-provider/strategy.js';
import type { ClusterCounts } from './activity.js';

const NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** Up to 255 letters (uppercase and lowercase), numbers, underscores and hyphens. */
export function validateClusterName(name: string): void {
  if (!NAME.test(name)) {
    throw invalidParameter(
      `Invalid cluster name '${name}': up to 255 letters (uppercase and lowercase), numbers, underscores and hyphens are allowed.`,
    );
  }
}

export const CONTAINER_INSIGHTS_VALUES: readonly string[] = ['enabled', 'disabled', 'enhanced'];

/** Checks cluster settings (containerInsights is the only one) and returns clean copies. */
export function validateClusterSettings(
  settings: readonly ClusterSetting[],
  member = 'settings',
): ClusterSetting[] {
  const seen = new Set<string>();
  return settings.map((s, i) => {
    if (s.name !== 'containerInsights') {
      throw invalidParameter(`${member}[${i}].name must be containerInsights (got ${String(s.name)}).`);
    }
    if (s.value === undefined || !CONTAINER_INSIGHTS_VALUES.includes(s.value)) {
      throw invalidParameter(
        `${member}[${i}].value '${String(s.value)}' is not valid for containerInsights: valid values are ${CONTAINER_INSIGHTS_VALUES.join(', ')}.`,
      );
    }
    if (seen.has(s.name)) throw invalidParameter(`${member} sets ${s.name} more than once.`);
    seen.add(s.name);
    return { name: s.name, value: s.value };
  });
}

/** Settings named in `updates` replace the current ones; the rest stay. */
export function mergeClusterSettings(
  current: readonly ClusterSetting[],
  updates: readonly ClusterSetting[],
): ClusterSetting[] {
  const out = current.map((s) => ({ ...s }));
  for (const u of updates) {
    const i = out.findIndex((s) => s.name === u.name);
    if (i >= 0) out[i] = { ...u };
    else out.push({ ...u });
  }
  return out;
}

/**
 * executeCommandConfiguration: with logging OVERRIDE a logConfiguration says where logs go, and
 * a logConfiguration means nothing with any other logging mode.
 */
export function validateClusterConfiguration(configuration: ClusterConfiguration): ClusterConfiguration {
  const exec = configuration.executeCommandConfiguration;
  if (exec) {
    const logging = exec.logging ?? 'DEFAULT';
    if (logging === 'OVERRIDE' && !exec.logConfiguration) {
      throw invalidParameter(
        'configuration.executeCommandConfiguration.logConfiguration is required when logging is OVERRIDE.',
      );
    }
    if (logging !== 'OVERRIDE' && exec.logConfiguration) {
      throw invalidParameter(
        `configuration.executeCommandConfiguration.logConfiguration can only be given when logging is OVERRIDE (logging is ${logging}).`,
      );
    }
  }
  return structuredClone(configuration);
}

const NAMESPACE_FORBIDDEN = /[<>"/]/;

/**
 * serviceConnectDefaults.namespace: a Cloud Map namespace name (≤ 1024 characters, no `<`, `>`,
 * `"` or `/`) or ARN. The empty string means "remove the default" and is handled by the caller.
 */
export function validateServiceConnectNamespace(namespace: string): void {
  if (namespace.length > 1024) {
    throw invalidParameter(
      `serviceConnectDefaults.namespace is longer than 1024 characters (${namespace.length}).`,
    );
  }
  if (!isArn(namespace) && NAMESPACE_FORBIDDEN.test(namespace)) {
    throw invalidParameter(
      `serviceConnectDefaults.namespace '${namespace}' is not valid: a namespace name can't contain >, <, " or /.`,
    );
  }
}

export interface NewClusterInput {
  name: string;
  settings: ClusterSetting[];
  configuration?: ClusterConfiguration;
  capacityProviders: string[];
  defaultCapacityProviderStrategy: StrategyItem[];
  serviceConnectDefaults?: ClusterServiceConnectDefaults;
  tags: Tag[];
}

/** The stored record of a new (or re-created) cluster. Counts are never stored: they are computed. */
export function newClusterRecord(scope: Scope, input: NewClusterInput): ClusterRecord {
  return {
    clusterArn: clusterArn(scope, input.name),
    clusterName: input.name,
    status: 'ACTIVE',
    ...(input.configuration !== undefined ? { configuration: input.configuration } : {}),
    settings: input.settings,
    capacityProviders: input.capacityProviders,
    defaultCapacityProviderStrategy: input.defaultCapacityProviderStrategy,
    // A cluster given capacity providers reports how attaching them went; Berth attaches at once.
    ...(input.capacityProviders.length > 0 ? { attachments: [], attachmentsStatus: 'UPDATE_COMPLETE' } : {}),
    ...(input.serviceConnectDefaults !== undefined
      ? { serviceConnectDefaults: input.serviceConnectDefaults }
      : {}),
    tags: input.tags,
  };
}

export interface ClusterViewOptions {
  include: ReadonlySet<ClusterField>;
  /** Set the statistics member to this (DescribeClusters with STATISTICS; [] in mutation answers). */
  statistics?: KeyValuePair[];
}

/**
 * The wire shape. settings, tags, configuration and attachments appear only when included, as
 * DescribeClusters does; capacity providers, the default strategy and the counts always do.
 */
export function clusterView(
  record: ClusterRecord,
  counts: ClusterCounts,
  options: ClusterViewOptions,
): Cluster {
  const inc = options.include;
  const out: Cluster = { clusterArn: record.clusterArn, clusterName: record.clusterName };
  if (inc.has('CONFIGURATIONS') && record.configuration !== undefined) {
    out.configuration = structuredClone(record.configuration);
  }
  out.status = record.status;
  out.registeredContainerInstancesCount = counts.registeredContainerInstancesCount;
  out.runningTasksCount = counts.runningTasksCount;
  out.pendingTasksCount = counts.pendingTasksCount;
  out.activeServicesCount = counts.activeServicesCount;
  if (options.statistics !== undefined) out.statistics = options.statistics;
  if (inc.has('TAGS')) out.tags = record.tags.map((t) => ({ ...t }));
  if (inc.has('SETTINGS')) out.settings = (record.settings ?? []).map((s) => ({ ...s }));
  out.capacityProviders = [...(record.capacityProviders ?? [])];
  out.defaultCapacityProviderStrategy = (record.defaultCapacityProviderStrategy ?? []).map((s) => ({ ...s }));
  if (inc.has('ATTACHMENTS')) out.attachments = structuredClone(record.attachments ?? []);
  if (record.attachmentsStatus !== undefined) out.attachmentsStatus = record.attachmentsStatus;
  if (record.serviceConnectDefaults !== undefined)
    out.serviceConnectDefaults = { ...record.serviceConnectDefaults };
  return out;
}
