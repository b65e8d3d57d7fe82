// The rules of a service's own settings, as CreateService / UpdateService check them, with the
// defaults ECS fills in. Task-level rules (task definition, launch type, network configuration)
// are the same as RunTask's and live in src/domain/task/launch.ts.
//
//   serviceName               1–255 of [A-Za-z0-9_-]
//   desiredCount              0–5,000 (ECS: 5,000 tasks per service); REPLICA only
//   schedulingStrategy        REPLICA (default) | DAEMON: no desiredCount, no placementStrategy,
//                             not on FARGATE, deployment controller ECS
//   deploymentController      ECS (default) | EXTERNAL (task sets); CODE_DEPLOY is refused
//   deploymentConfiguration   REPLICA: maximumPercent 200, minimumHealthyPercent 100 by default;
//                             DAEMON: 100 / 0. maximumPercent ≥ 100 (DAEMON exactly 100),
//                             minimumHealthyPercent 0–100; circuit breaker {enable, rollback}
//                             with an optional thresholdConfiguration; ROLLING only
// Features that need AWS services Berth does not run (load balancers, Cloud Map, Service
// Connect, VPC Lattice, EBS volumes, CloudWatch alarms, ECS Exec) are refused, never ignored.
import type {
  CreateServiceRequest,
  DeploymentCircuitBreaker,
  DeploymentConfiguration,
  DeploymentControllerType,
  SchedulingStrategy,
  UpdateServiceRequest,
} from '../../generated/ecs/types.js';
import { invalidParameter } from '../errors.js';

export const MAX_SERVICE_NAME_LENGTH = 255;
export const MAX_SERVICES_PER_CLUSTER = 5000;
export const MAX_TASKS_PER_SERVICE = 5000;
export const MAX_DESCRIBE_SERVICES = 10;

const SERVICE_NAME = /^[A-Za-z0-9_-]{1,255}$/;

export const REPLICA_DEFAULT_MAXIMUM_PERCENT = 200;
export const REPLICA_DEFAULT_MINIMUM_HEALTHY_PERCENT = 100;
export const DAEMON_MAXIMUM_PERCENT = 100;
export const DAEMON_DEFAULT_MINIMUM_HEALTHY_PERCENT = 0;

export function validateServiceName(name: unknown): string {
  if (typeof name !== 'string' || !SERVICE_NAME.test(name)) {
    throw invalidParameter(
      `serviceName '${String(name)}' is not valid: use 1 to ${MAX_SERVICE_NAME_LENGTH} letters, numbers, underscores and hyphens.`,
    );
  }
  return name;
}

export function validateDesiredCount(count: unknown): number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_TASKS_PER_SERVICE) {
    throw invalidParameter(
      `desiredCount must be an integer from 0 to ${MAX_TASKS_PER_SERVICE} (tasks per service); got ${String(count)}.`,
    );
  }
  return count;
}

function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function checkCircuitBreaker(cb: DeploymentCircuitBreaker, controller: DeploymentControllerType): void {
  const at = 'deploymentConfiguration.deploymentCircuitBreaker';
  if (typeof cb.enable !== 'boolean') throw invalidParameter(`${at}.enable must be true or false.`);
  if (typeof cb.rollback !== 'boolean') throw invalidParameter(`${at}.rollback must be true or false.`);
  if (cb.resetOnHealthyTask !== undefined && typeof cb.resetOnHealthyTask !== 'boolean') {
    throw invalidParameter(`${at}.resetOnHealthyTask must be true or false.`);
  }
  if (cb.enable && controller !== 'ECS') {
    throw invalidParameter(
      'The deployment circuit breaker can only be used for services using the rolling update (ECS) deployment controller.',
    );
  }
  const t = cb.thresholdConfiguration;
  if (t === undefined) return;
  if (!isInteger(t.value) || t.value < 1) {
    throw invalidParameter(
      `${at}.thresholdConfiguration.value must be a positive integer; got ${String(t.value)}.`,
    );
  }
  if (t.type === 'BOUNDED_PERCENT' && t.value > 100) {
    throw invalidParameter(
      `${at}.thresholdConfiguration.value is a percentage of the desired count for BOUNDED_PERCENT and can be at most 100; got ${t.value}.`,
    );
  }
  if (t.type !== 'COUNT' && t.type !== 'BOUNDED_PERCENT' && t.type !== 'UNBOUNDED_PERCENT') {
    throw invalidParameter(
      `${at}.thresholdConfiguration.type must be COUNT, BOUNDED_PERCENT or UNBOUNDED_PERCENT; got '${String(t.type)}'.`,
    );
  }
}

function checkUnsupportedDeploymentFeatures(c: DeploymentConfiguration): void {
  const at = 'deploymentConfiguration';
  if (c.strategy !== undefined && c.strategy !== 'ROLLING') {
    throw invalidParameter(
      `${at}.strategy ${c.strategy} is not supported by Berth yet; use ROLLING (the rolling update).`,
    );
  }
  if ((c.lifecycleHooks?.length ?? 0) > 0) {
    throw invalidParameter(
      `${at}.lifecycleHooks: deployment lifecycle hooks (AWS Lambda) are not supported by Berth.`,
    );
  }
  if (c.linearConfiguration !== undefined || c.canaryConfiguration !== undefined) {
    throw invalidParameter(
      `${at}: linear and canary configurations need the LINEAR / CANARY strategies, which Berth does not support yet.`,
    );
  }
  if (c.bakeTimeInMinutes !== undefined && c.bakeTimeInMinutes !== 0) {
    throw invalidParameter(
      `${at}.bakeTimeInMinutes: bake time belongs to the BLUE_GREEN strategy, which Berth does not support yet.`,
    );
  }
  if (c.alarms?.enable === true) {
    throw invalidParameter(
      `${at}.alarms: CloudWatch alarm based rollback is not supported by Berth (there is no CloudWatch to watch); set enable to false or leave alarms out.`,
    );
  }
}

export interface DeploymentConfigurationContext {
  schedulingStrategy: SchedulingStrategy;
  deploymentController: DeploymentControllerType;
  /** The service's current configuration (UpdateService): members the request leaves out keep their value. */
  current?: DeploymentConfiguration;
}

/**
 * The deployment configuration a service stores: the request's members over the current ones
 * (UpdateService) over ECS's defaults, checked. ECS shows the circuit breaker even when off.
 */
export function resolveDeploymentConfiguration(
  given: DeploymentConfiguration | undefined,
  ctx: DeploymentConfigurationContext,
): DeploymentConfiguration {
  const daemon = ctx.schedulingStrategy === 'DAEMON';
  const base: DeploymentConfiguration = ctx.current ?? {
    deploymentCircuitBreaker: { enable: false, rollback: false },
    maximumPercent: daemon ? DAEMON_MAXIMUM_PERCENT : REPLICA_DEFAULT_MAXIMUM_PERCENT,
    minimumHealthyPercent: daemon
      ? DAEMON_DEFAULT_MINIMUM_HEALTHY_PERCENT
      : REPLICA_DEFAULT_MINIMUM_HEALTHY_PERCENT,
  };
  const g = given ?? {};
  checkUnsupportedDeploymentFeatures(g);
  const out: DeploymentConfiguration = structuredClone(base);
  for (const [k, v] of Object.entries(g)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = structuredClone(v);
  }
  const max = out.maximumPercent;
  const min = out.minimumHealthyPercent;
  if (!isInteger(max) || max < 100) {
    throw invalidParameter(
      `deploymentConfiguration.maximumPercent must be an integer of at least 100; got ${String(max)}.`,
    );
  }
  if (daemon && max !== DAEMON_MAXIMUM_PERCENT) {
    throw invalidParameter(
      `deploymentConfiguration.maximumPercent must be ${DAEMON_MAXIMUM_PERCENT} for a service with the DAEMON scheduling strategy (one task per instance); got ${max}.`,
    );
  }
  if (!isInteger(min) || min < 0 || min > 100) {
    throw invalidParameter(
      `deploymentConfiguration.minimumHealthyPercent must be an integer from 0 to 100; got ${String(min)}.`,
    );
  }
  if (out.deploymentCircuitBreaker)
    checkCircuitBreaker(out.deploymentCircuitBreaker, ctx.deploymentController);
  return out;
}

/** Request members that need AWS services Berth does not run. */
type FeatureRequest = Pick<
  CreateServiceRequest & UpdateServiceRequest,
  | 'loadBalancers'
  | 'serviceRegistries'
  | 'serviceConnectConfiguration'
  | 'volumeConfigurations'
  | 'vpcLatticeConfigurations'
  | 'enableExecuteCommand'
  | 'monitoring'
>;

export function checkUnsupportedServiceFeatures(input: FeatureRequest): void {
  if ((input.loadBalancers?.length ?? 0) > 0) {
    throw invalidParameter('loadBalancers: Elastic Load Balancing is not supported by Berth yet.');
  }
  if ((input.serviceRegistries?.length ?? 0) > 0) {
    throw invalidParameter(
      'serviceRegistries: AWS Cloud Map service discovery is not supported by Berth yet.',
    );
  }
  if (input.serviceConnectConfiguration?.enabled === true) {
    throw invalidParameter('serviceConnectConfiguration: Service Connect is not supported by Berth.');
  }
  if ((input.volumeConfigurations?.length ?? 0) > 0) {
    throw invalidParameter('volumeConfigurations: Amazon EBS volumes are not supported by Berth.');
  }
  if ((input.vpcLatticeConfigurations?.length ?? 0) > 0) {
    throw invalidParameter('vpcLatticeConfigurations: VPC Lattice is not supported by Berth.');
  }
  if (input.enableExecuteCommand === true) {
    throw invalidParameter('enableExecuteCommand: ECS Exec is not supported by Berth yet.');
  }
  if ((input.monitoring?.metricConfigurations?.length ?? 0) > 0) {
    throw invalidParameter('monitoring: metric configurations (CloudWatch) are not supported by Berth.');
  }
}

export function validateDeploymentController(type: string | undefined): DeploymentControllerType {
  const t = type ?? 'ECS';
  if (t === 'CODE_DEPLOY') {
    throw invalidParameter(
      'deploymentController CODE_DEPLOY is not supported by Berth (there is no CodeDeploy); use ECS, or EXTERNAL with task sets.',
    );
  }
  if (t !== 'ECS' && t !== 'EXTERNAL') {
    throw invalidParameter(`deploymentController.type must be ECS, CODE_DEPLOY or EXTERNAL; got '${t}'.`);
  }
  return t;
}

export function validateHealthCheckGracePeriod(seconds: unknown): number {
  if (!isInteger(seconds) || seconds < 0 || seconds > 2_147_483_647) {
    throw invalidParameter(
      `healthCheckGracePeriodSeconds must be an integer from 0 to 2147483647; got ${String(seconds)}.`,
    );
  }
  return seconds;
}

/** The DAEMON strategy's limits on a request (CreateService, UpdateService). */
export function checkDaemonRequest(input: {
  desiredCount?: number;
  placementStrategy?: readonly unknown[];
  launchType?: string;
  capacityProviderStrategy?: readonly unknown[];
  deploymentController?: DeploymentControllerType;
}): void {
  if (input.desiredCount !== undefined) {
    throw invalidParameter('The daemon scheduling strategy does not support a desired count for services.');
  }
  if ((input.placementStrategy?.length ?? 0) > 0) {
    throw invalidParameter('The daemon scheduling strategy does not support placement strategies.');
  }
  if (input.launchType === 'FARGATE') {
    throw invalidParameter('The daemon scheduling strategy does not support the FARGATE launch type.');
  }
  if ((input.capacityProviderStrategy?.length ?? 0) > 0) {
    throw invalidParameter('The daemon scheduling strategy does not support capacity provider strategies.');
  }
  if (input.deploymentController !== undefined && input.deploymentController !== 'ECS') {
    throw invalidParameter('The daemon scheduling strategy requires the ECS deployment controller.');
  }
}
