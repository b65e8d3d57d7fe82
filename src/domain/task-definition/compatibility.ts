// Which launch types a task definition can run on. `requiresCompatibilities` is what the caller
// asks to be validated for; `compatibilities` is what ECS answers the definition is usable with.
//   EC2       always: an EC2 instance can run any network mode and feature.
//   FARGATE   only when required, because only then does ECS hold the definition to Fargate's
//             rules (RunTask with launchType FARGATE otherwise fails "does not support").
//   EXTERNAL  whenever the definition avoids what external (ECS Anywhere) instances lack:
//             awsvpc networking and EFS / FSx volumes. ECS lists it unasked, as the AWS CLI
//             example output shows (`"compatibilities": ["EXTERNAL", "EC2"]`).
//   MANAGED_INSTANCES only when required; Berth has no rules of its own for it yet.
import type { Compatibility } from '../../generated/ecs/types.js';
import { clientError } from '../errors.js';
import { validateForFargate, type FargateCheckInput } from './fargate.js';
import { effectiveNetworkMode } from './network.js';

export type CompatibilityInput = FargateCheckInput & { requiresCompatibilities?: readonly Compatibility[] };

/** Why the definition cannot run on external instances, or undefined when it can. */
export function externalIncompatibility(def: CompatibilityInput): string | undefined {
  if (effectiveNetworkMode(def.networkMode) === 'awsvpc')
    return "networkMode 'awsvpc' is not supported on external instances";
  const v = (def.volumes ?? []).find(
    (x) => x.efsVolumeConfiguration || x.fsxWindowsFileServerVolumeConfiguration,
  );
  if (v) return `volume '${v.name ?? ''}' uses EFS or FSx, which external instances do not support`;
  return undefined;
}

/** Validates the required launch types and returns the `compatibilities` ECS reports. */
export function resolveCompatibilities(def: CompatibilityInput): Compatibility[] {
  const required = new Set(def.requiresCompatibilities ?? []);
  if (required.has('FARGATE')) validateForFargate(def);
  const external = externalIncompatibility(def);
  if (required.has('EXTERNAL') && external !== undefined) {
    throw clientError(`Task definition does not support launch_type EXTERNAL: ${external}.`);
  }
  const out: Compatibility[] = ['EC2'];
  if (required.has('FARGATE')) out.push('FARGATE');
  if (external === undefined) out.push('EXTERNAL');
  if (required.has('MANAGED_INSTANCES')) out.push('MANAGED_INSTANCES');
  return out;
}
