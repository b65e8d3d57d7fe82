// Which container instances back a capacity provider that is not FARGATE / FARGATE_SPOT. ECS
// knows from the Auto Scaling group that launched an instance; Berth has no EC2, so an instance
// says which group it belongs to with a built-in attribute set at registration (the agent's
// `--attribute` / BERTH_AGENT_ATTRIBUTES, or RegisterContainerInstance `attributes`). An
// instance belongs to provider P when either holds:
//   ecs.capacity-provider = P's name                      a named group of instances
//   ecs.autoscaling-group = the group P's                 the provider's
//     autoScalingGroupProvider.autoScalingGroupArn        autoScalingGroupArn, as the
//     names (its ARN, or the name at its end)             group's ARN or its name
// Both are `ecs.*` names, so PutAttributes cannot move an instance between providers: membership
// is how the host was launched, as with an Auto Scaling group. Managed scaling comes later.
//
// Launch type EC2 / EXTERNAL without a provider places on every instance of the cluster,
// provider-backed or not, as ECS does.
import type { CapacityProviderRecord } from '../domain/records.js';

export const CAPACITY_PROVIDER_ATTRIBUTE = 'ecs.capacity-provider';
export const AUTO_SCALING_GROUP_ATTRIBUTE = 'ecs.autoscaling-group';

/** ECS's reason when a provider's share finds no instance to judge (service events use it too). */
export const NO_PROVIDER_INSTANCES_REASON = 'No Container Instances were found in your capacity provider.';

export interface InstanceGroup {
  /** The capacity provider's short name. */
  provider: string;
  /** The Auto Scaling group's ARN and name, when the provider has one. */
  autoScalingGroupArn?: string;
  autoScalingGroupName?: string;
}

const ASG_NAME = /:autoScalingGroupName\/(.+)$/;

/** The instance group of a stored capacity provider. */
export function instanceGroupOf(
  provider: Pick<CapacityProviderRecord, 'name' | 'autoScalingGroupProvider'>,
): InstanceGroup {
  const arn = provider.autoScalingGroupProvider?.autoScalingGroupArn;
  if (arn === undefined || arn === '') return { provider: provider.name };
  const name = ASG_NAME.exec(arn)?.[1] ?? (arn.startsWith('arn:') ? undefined : arn);
  return {
    provider: provider.name,
    autoScalingGroupArn: arn,
    ...(name !== undefined ? { autoScalingGroupName: name } : {}),
  };
}

/** Whether an instance with these attributes backs the group's provider. */
export function isInInstanceGroup(
  attributes: ReadonlyMap<string, string | undefined>,
  group: InstanceGroup,
): boolean {
  if (attributes.get(CAPACITY_PROVIDER_ATTRIBUTE) === group.provider) return true;
  const asg = attributes.get(AUTO_SCALING_GROUP_ATTRIBUTE);
  if (asg === undefined) return false;
  return asg === group.autoScalingGroupArn || asg === group.autoScalingGroupName;
}
