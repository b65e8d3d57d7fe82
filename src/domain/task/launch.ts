// Rules every way of starting tasks shares (RunTask, StartTask, CreateService, UpdateService,
// CreateTaskSet): the task definition must support the launch type, awsvpc tasks need a network
// configuration (and get ECS's defaults), and only FARGATE takes a platform version.
import type { AwsVpcConfiguration, LaunchType, NetworkConfiguration } from '../../generated/ecs/types.js';
import { EcsError, invalidParameter } from '../errors.js';
import type { TaskDefinitionRecord } from '../records.js';
import { effectiveNetworkMode } from '../task-definition/network.js';

export const MAX_SUBNETS = 16;
export const MAX_SECURITY_GROUPS = 5;
export const FARGATE_PLATFORM_VERSIONS: readonly string[] = ['LATEST', '1.4.0'];

export function checkLaunchTypeCompatible(
  td: Pick<TaskDefinitionRecord, 'compatibilities'>,
  launchType: LaunchType,
): void {
  if (launchType === 'MANAGED_INSTANCES') {
    throw invalidParameter(
      'launchType MANAGED_INSTANCES is not supported by Berth; use EC2, EXTERNAL or FARGATE.',
    );
  }
  if (!(td.compatibilities ?? ['EC2']).includes(launchType)) {
    throw invalidParameter(`Task definition does not support launch_type ${launchType}.`);
  }
}

/** The awsvpc configuration the tasks get, with ECS's defaults, or undefined for other network modes. */
export function resolveAwsvpcConfiguration(
  td: Pick<TaskDefinitionRecord, 'networkMode'>,
  config: NetworkConfiguration | undefined,
  launchType: LaunchType,
): AwsVpcConfiguration | undefined {
  const awsvpc = config?.awsvpcConfiguration;
  if (effectiveNetworkMode(td.networkMode) !== 'awsvpc') {
    if (awsvpc !== undefined) {
      throw invalidParameter(
        'Network Configuration is not valid for the given networkMode of this task definition.',
      );
    }
    return undefined;
  }
  if (!awsvpc)
    throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  const subnets = awsvpc.subnets ?? [];
  if (subnets.length === 0) throw invalidParameter('subnets can not be empty.');
  if (subnets.length > MAX_SUBNETS) {
    throw invalidParameter(
      `networkConfiguration.awsvpcConfiguration.subnets can have at most ${MAX_SUBNETS} items; got ${subnets.length}.`,
    );
  }
  subnets.forEach((s, i) => {
    if (typeof s !== 'string' || s.trim() === '') {
      throw invalidParameter(`networkConfiguration.awsvpcConfiguration.subnets[${i}] cannot be empty.`);
    }
  });
  const groups = awsvpc.securityGroups ?? [];
  if (groups.length > MAX_SECURITY_GROUPS) {
    throw invalidParameter(
      `networkConfiguration.awsvpcConfiguration.securityGroups can have at most ${MAX_SECURITY_GROUPS} items; got ${groups.length}.`,
    );
  }
  if (awsvpc.assignPublicIp === 'ENABLED' && launchType !== 'FARGATE') {
    throw invalidParameter('Assign public IP is not supported for this launch type.');
  }
  return {
    subnets: [...subnets],
    securityGroups: [...groups],
    assignPublicIp: awsvpc.assignPublicIp ?? 'DISABLED',
  };
}

/** A platform version is FARGATE's only; Berth's managed capacity offers LATEST (= 1.4.0). */
export function checkPlatformVersion(platformVersion: string | undefined, launchType: LaunchType): void {
  if (platformVersion === undefined) return;
  if (launchType !== 'FARGATE') {
    throw invalidParameter('platformVersion is only supported for tasks on FARGATE.');
  }
  if (!FARGATE_PLATFORM_VERSIONS.includes(platformVersion)) {
    throw new EcsError(
      'PlatformUnknownException',
      `The specified platform version ${platformVersion} does not exist; use LATEST or 1.4.0.`,
    );
  }
}
