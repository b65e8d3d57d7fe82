// Capacity providers: name rules, the two built-in Fargate providers every account has, the
// defaults ECS fills in for an Auto Scaling group provider, and how an update merges in.
import { capacityProviderArn, isArn, parseArn, type Scope } from '../arn.js';
import { clientError, invalidParameter } from '../errors.js';
import type {
  AutoScalingGroupProvider,
  AutoScalingGroupProviderUpdate,
  CapacityProvider,
  CapacityProviderType,
  CreateManagedInstancesProviderConfiguration,
  ManagedInstancesProvider,
  ManagedScaling,
  UpdateManagedInstancesProviderConfiguration,
} from '../../generated/ecs/types.js';
import type { CapacityProviderRecord } from '../records.js';

/** Available in every account and region; never stored, never created, updated or deleted. */
export const FARGATE_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'] as const;
export type FargateProviderName = (typeof FARGATE_PROVIDERS)[number];

export function isFargateProvider(name: string): name is FargateProviderName {
  return (FARGATE_PROVIDERS as readonly string[]).includes(name);
}

/** The synthesized record of FARGATE or FARGATE_SPOT. */
export function fargateProvider(scope: Scope, name: FargateProviderName): CapacityProviderRecord {
  return {
    capacityProviderArn: capacityProviderArn(scope, name),
    name,
    status: 'ACTIVE',
    type: name,
    tags: [],
  };
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const RESERVED_PREFIX = /^(aws|ecs|fargate)/i;

/** CreateCapacityProvider: 1–255 of [A-Za-z0-9_-], not starting with aws, ecs or fargate (any case). */
export function validateCapacityProviderName(name: string): void {
  if (!NAME.test(name)) {
    throw invalidParameter(
      `Invalid capacity provider name '${name}': up to 255 letters (uppercase and lowercase), numbers, underscores and hyphens are allowed.`,
    );
  }
  if (RESERVED_PREFIX.test(name)) {
    throw clientError(
      `Invalid capacity provider name '${name}': the name can't be prefixed with "aws", "ecs" or "fargate".`,
    );
  }
}

/**
 * Short name from a capacity provider name or ARN (`...:capacity-provider/<name>`); undefined
 * for an ARN of anything else.
 */
export function capacityProviderNameFromRef(ref: string): string | undefined {
  if (!isArn(ref)) return ref;
  const p = parseArn(ref);
  if (!p || p.resourceType !== 'capacity-provider' || p.parts.length !== 1 || p.parts[0] === '')
    return undefined;
  return p.parts[0];
}

/** The provider's type: Fargate's two are their own; a stored provider says, ASG when older records don't. */
export function capacityProviderType(
  name: string,
  record?: Pick<CapacityProvider, 'type'>,
): CapacityProviderType {
  if (isFargateProvider(name)) return name;
  return record?.type ?? 'EC2_AUTOSCALING';
}

/** ECS's managed scaling defaults (API reference, ManagedScaling). */
export const MANAGED_SCALING_DEFAULTS = {
  status: 'DISABLED',
  targetCapacity: 100,
  minimumScalingStepSize: 1,
  maximumScalingStepSize: 10000,
  instanceWarmupPeriod: 300,
} as const satisfies Required<ManagedScaling>;

function withScalingDefaults(
  m: ManagedScaling | undefined,
  base: Required<ManagedScaling>,
): Required<ManagedScaling> {
  return {
    status: m?.status ?? base.status,
    targetCapacity: m?.targetCapacity ?? base.targetCapacity,
    minimumScalingStepSize: m?.minimumScalingStepSize ?? base.minimumScalingStepSize,
    maximumScalingStepSize: m?.maximumScalingStepSize ?? base.maximumScalingStepSize,
    instanceWarmupPeriod: m?.instanceWarmupPeriod ?? base.instanceWarmupPeriod,
  };
}

/** An Auto Scaling group provider as stored: every member present, managed scaling complete. */
export type StoredAutoScalingGroupProvider = Required<Omit<AutoScalingGroupProvider, 'managedScaling'>> & {
  managedScaling: Required<ManagedScaling>;
};

function checkAutoScalingGroupProvider(p: StoredAutoScalingGroupProvider): void {
  const m = p.managedScaling;
  if (!Number.isInteger(m.targetCapacity) || m.targetCapacity < 1 || m.targetCapacity > 100) {
    throw invalidParameter(
      `autoScalingGroupProvider.managedScaling.targetCapacity must be greater than 0 and at most 100 (got ${m.targetCapacity}).`,
    );
  }
  for (const [member, v] of [
    ['minimumScalingStepSize', m.minimumScalingStepSize],
    ['maximumScalingStepSize', m.maximumScalingStepSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 10000) {
      throw invalidParameter(
        `autoScalingGroupProvider.managedScaling.${member} must be between 1 and 10000 (got ${v}).`,
      );
    }
  }
  if (m.minimumScalingStepSize > m.maximumScalingStepSize) {
    throw invalidParameter(
      `autoScalingGroupProvider.managedScaling.minimumScalingStepSize (${m.minimumScalingStepSize}) must not be greater than maximumScalingStepSize (${m.maximumScalingStepSize}).`,
    );
  }
  if (
    !Number.isInteger(m.instanceWarmupPeriod) ||
    m.instanceWarmupPeriod < 0 ||
    m.instanceWarmupPeriod > 10000
  ) {
    throw invalidParameter(
      `autoScalingGroupProvider.managedScaling.instanceWarmupPeriod must be between 0 and 10000 seconds (got ${m.instanceWarmupPeriod}).`,
    );
  }
  // Termination protection only works through managed scaling, and ECS refuses the combination.
  if (p.managedTerminationProtection === 'ENABLED' && m.status !== 'ENABLED') {
    throw clientError(
      'The managed termination protection setting for the capacity provider is invalid: autoScalingGroupProvider.managedTerminationProtection ENABLED requires managedScaling.status ENABLED.',
    );
  }
}

/** The provider as stored: every default filled in, checked. */
export function normalizeAutoScalingGroupProvider(
  p: AutoScalingGroupProvider,
): StoredAutoScalingGroupProvider {
  if (typeof p.autoScalingGroupArn !== 'string' || p.autoScalingGroupArn.trim() === '') {
    throw invalidParameter(
      'autoScalingGroupProvider.autoScalingGroupArn must be an Auto Scaling group ARN or name.',
    );
  }
  const out: StoredAutoScalingGroupProvider = {
    autoScalingGroupArn: p.autoScalingGroupArn,
    managedScaling: withScalingDefaults(p.managedScaling, MANAGED_SCALING_DEFAULTS),
    managedTerminationProtection: p.managedTerminationProtection ?? 'DISABLED',
    managedDraining: p.managedDraining ?? 'ENABLED',
  };
  checkAutoScalingGroupProvider(out);
  return out;
}

/** UpdateCapacityProvider: members given replace the stored ones; managedScaling merges member by member. */
export function mergeAutoScalingGroupProvider(
  current: AutoScalingGroupProvider,
  update: AutoScalingGroupProviderUpdate,
): StoredAutoScalingGroupProvider {
  const stored = normalizeAutoScalingGroupProvider(current);
  const out: StoredAutoScalingGroupProvider = {
    autoScalingGroupArn: stored.autoScalingGroupArn,
    managedScaling: withScalingDefaults(update.managedScaling, stored.managedScaling),
    managedTerminationProtection: update.managedTerminationProtection ?? stored.managedTerminationProtection,
    managedDraining: update.managedDraining ?? stored.managedDraining,
  };
  checkAutoScalingGroupProvider(out);
  return out;
}

/** Managed Instances: the members ECS requires to launch instances must be there. */
export function normalizeManagedInstancesProvider(
  p: CreateManagedInstancesProviderConfiguration,
): ManagedInstancesProvider {
  if (typeof p.infrastructureRoleArn !== 'string' || p.infrastructureRoleArn === '') {
    throw invalidParameter('managedInstancesProvider.infrastructureRoleArn is required.');
  }
  const t = p.instanceLaunchTemplate;
  if (!t || typeof t.ec2InstanceProfileArn !== 'string' || t.ec2InstanceProfileArn === '') {
    throw invalidParameter(
      'managedInstancesProvider.instanceLaunchTemplate.ec2InstanceProfileArn is required.',
    );
  }
  if (!t.networkConfiguration) {
    throw invalidParameter(
      'managedInstancesProvider.instanceLaunchTemplate.networkConfiguration is required.',
    );
  }
  return { ...p, propagateTags: p.propagateTags ?? 'NONE' };
}

/** UpdateCapacityProvider for Managed Instances: launch template members given replace the stored ones. */
export function mergeManagedInstancesProvider(
  current: ManagedInstancesProvider,
  update: UpdateManagedInstancesProviderConfiguration,
): ManagedInstancesProvider {
  if (typeof update.infrastructureRoleArn !== 'string' || update.infrastructureRoleArn === '') {
    throw invalidParameter('managedInstancesProvider.infrastructureRoleArn is required.');
  }
  const template = { ...current.instanceLaunchTemplate };
  for (const [k, v] of Object.entries(update.instanceLaunchTemplate ?? {})) {
    if (v !== undefined) (template as Record<string, unknown>)[k] = v;
  }
  return {
    ...current,
    infrastructureRoleArn: update.infrastructureRoleArn,
    instanceLaunchTemplate: template as ManagedInstancesProvider['instanceLaunchTemplate'],
    ...(update.propagateTags !== undefined ? { propagateTags: update.propagateTags } : {}),
    ...(update.infrastructureOptimization !== undefined
      ? { infrastructureOptimization: update.infrastructureOptimization }
      : {}),
    ...(update.autoRepairConfiguration !== undefined
      ? { autoRepairConfiguration: update.autoRepairConfiguration }
      : {}),
  };
}

/** Wire shape of a provider; tags only when asked for (DescribeCapacityProviders include TAGS). */
export function capacityProviderView(record: CapacityProviderRecord, withTags: boolean): CapacityProvider {
  const { tags, ...rest } = record;
  return withTags ? { ...rest, tags: [...tags] } : rest;
}
