// A service's deployments: what one is, when an update needs a new one, the rolling bounds, and
// the history entries (ServiceDeployment) and revisions (ServiceRevision) kept for each.
//
//   deployments[]   PRIMARY   the newest: the one the scheduler starts tasks for
//                   ACTIVE    older ones that still have tasks; they drain and then disappear
//   rolloutState    IN_PROGRESS → COMPLETED (its tasks healthy, nothing else left)
//                               → FAILED (circuit breaker, or StopServiceDeployment)
//   rolloutStateReason  "ECS deployment ecs-svc/… in progress." / "… completed." /
//                       "ECS deployment circuit breaker: tasks failed to start."
//
// A new deployment starts when what a task is, or where it goes, changes: task definition,
// launch type or capacity provider strategy, platform version, network configuration,
// placement constraints or strategy; or on forceNewDeployment. desiredCount,
// deploymentConfiguration, healthCheckGracePeriodSeconds and the tag settings change the service
// in place (ECS: changed tag settings reach new tasks only, unless forceNewDeployment).
//
// History (ServiceDeployment.status): IN_PROGRESS → SUCCESSFUL; → STOPPED (superseded by a newer
// deployment, or failed without rollback); → ROLLBACK_REQUESTED (StopServiceDeployment) →
// ROLLBACK_IN_PROGRESS → ROLLBACK_SUCCESSFUL once the deployment rolled back to completes.
import { isDeepStrictEqual } from 'node:util';
import type {
  CapacityProviderStrategyItem,
  Deployment,
  DeploymentConfiguration,
  LaunchType,
  NetworkConfiguration,
  PlacementConstraint,
  PlacementStrategy,
  ServiceDeploymentCircuitBreaker,
  ServiceRevisionSummary,
} from '../../generated/ecs/types.js';
import { toEpochSeconds } from '../clock.js';
import type {
  ServiceDeploymentInternals,
  ServiceDeploymentRecord,
  ServiceRecord,
  ServiceRevisionRecord,
  TaskDefinitionRecord,
} from '../records.js';
import { circuitBreakerThreshold } from './circuit-breaker.js';

/** What a deployment's tasks are made of; a change of any of it starts a new deployment. */
export interface DeploymentSpec {
  /** Task definition ARN (with revision). */
  taskDefinition: string;
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  platformFamily?: string;
  networkConfiguration?: NetworkConfiguration;
}

/** Service-level settings that also start a new deployment when they change. */
export interface PlacementSettings {
  placementConstraints?: PlacementConstraint[];
  placementStrategy?: PlacementStrategy[];
}

export function inProgressReason(id: string): string {
  return `ECS deployment ${id} in progress.`;
}

export function completedReason(id: string): string {
  return `ECS deployment ${id} completed.`;
}

export const CIRCUIT_BREAKER_FAILED_REASON = 'ECS deployment circuit breaker: tasks failed to start.';

export function rollingBackReason(targetId: string): string {
  return `ECS deployment circuit breaker: rolling back to deploymentId ${targetId}.`;
}

export const STOPPED_BY_USER_REASON = 'Service deployment stopped by StopServiceDeployment; rolling back.';

export function specOf(d: Deployment | ServiceRecord): DeploymentSpec {
  return {
    taskDefinition: d.taskDefinition ?? '',
    ...(d.launchType !== undefined ? { launchType: d.launchType } : {}),
    ...(d.capacityProviderStrategy !== undefined && d.capacityProviderStrategy.length > 0
      ? { capacityProviderStrategy: structuredClone(d.capacityProviderStrategy) }
      : {}),
    ...(d.platformVersion !== undefined ? { platformVersion: d.platformVersion } : {}),
    ...(d.platformFamily !== undefined ? { platformFamily: d.platformFamily } : {}),
    ...(d.networkConfiguration !== undefined
      ? { networkConfiguration: structuredClone(d.networkConfiguration) }
      : {}),
  };
}

/** Whether moving from (spec, placement) `a` to `b` needs a new deployment. */
export function needsNewDeployment(
  a: { spec: DeploymentSpec; placement: PlacementSettings },
  b: { spec: DeploymentSpec; placement: PlacementSettings },
): boolean {
  const placement = (p: PlacementSettings) => ({
    c: p.placementConstraints ?? [],
    s: p.placementStrategy ?? [],
  });
  return (
    !isDeepStrictEqual(a.spec, b.spec) || !isDeepStrictEqual(placement(a.placement), placement(b.placement))
  );
}

export interface NewDeploymentInput {
  id: string;
  spec: DeploymentSpec;
  desiredCount: number;
  /** Epoch ms. */
  now: number;
}

/** A new PRIMARY deployment, IN_PROGRESS, with no tasks yet. */
export function buildDeployment(input: NewDeploymentInput): Deployment {
  const at = toEpochSeconds(input.now);
  return {
    id: input.id,
    status: 'PRIMARY',
    ...structuredClone(input.spec),
    desiredCount: input.desiredCount,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: at,
    updatedAt: at,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: inProgressReason(input.id),
  };
}

/** The deployments after a new PRIMARY: the old PRIMARY becomes ACTIVE and keeps its tasks. */
export function withNewPrimary(
  deployments: readonly Deployment[],
  primary: Deployment,
  now: number,
): Deployment[] {
  const at = toEpochSeconds(now);
  return [
    primary,
    ...deployments.map((d) => (d.status === 'PRIMARY' ? { ...d, status: 'ACTIVE', updatedAt: at } : d)),
  ];
}

export interface RollingBounds {
  /** At most this many tasks RUNNING or PENDING (those being stopped included). */
  maxTotal: number;
  /** At least this many healthy tasks while old ones are stopped. */
  minHealthy: number;
}

export function rollingBounds(desired: number, config: DeploymentConfiguration | undefined): RollingBounds {
  const max = config?.maximumPercent ?? 200;
  const min = config?.minimumHealthyPercent ?? 100;
  return {
    maxTotal: Math.floor((desired * max) / 100),
    minHealthy: Math.ceil((desired * min) / 100),
  };
}

// ---------------------------------------------------------------------------------------------
// History and revisions

export interface RevisionInput {
  arn: string;
  service: Pick<ServiceRecord, 'serviceArn' | 'clusterArn'>;
  spec: DeploymentSpec;
  taskDefinition: Pick<TaskDefinitionRecord, 'containerDefinitions'>;
  /** Epoch ms. */
  now: number;
}

export function buildServiceRevision(input: RevisionInput): ServiceRevisionRecord {
  const { spec } = input;
  return {
    serviceRevisionArn: input.arn,
    serviceArn: input.service.serviceArn,
    clusterArn: input.service.clusterArn,
    taskDefinition: spec.taskDefinition,
    ...(spec.launchType !== undefined ? { launchType: spec.launchType } : {}),
    ...(spec.capacityProviderStrategy !== undefined
      ? { capacityProviderStrategy: structuredClone(spec.capacityProviderStrategy) }
      : {}),
    ...(spec.platformVersion !== undefined ? { platformVersion: spec.platformVersion } : {}),
    ...(spec.platformFamily !== undefined ? { platformFamily: spec.platformFamily } : {}),
    ...(spec.networkConfiguration !== undefined
      ? { networkConfiguration: structuredClone(spec.networkConfiguration) }
      : {}),
    containerImages: (input.taskDefinition.containerDefinitions ?? []).map((c) => ({
      containerName: c.name ?? '',
      image: c.image ?? '',
    })),
    guardDutyEnabled: false,
    createdAt: toEpochSeconds(input.now),
  };
}

export function breakerSummary(
  config: DeploymentConfiguration | undefined,
  desired: number,
  failureCount: number,
  status?: ServiceDeploymentCircuitBreaker['status'],
): ServiceDeploymentCircuitBreaker {
  const cb = config?.deploymentCircuitBreaker;
  if (!cb?.enable) return { status: 'DISABLED', failureCount, threshold: 0 };
  return { status: status ?? 'MONITORING', failureCount, threshold: circuitBreakerThreshold(cb, desired) };
}

export interface HistoryInput {
  arn: string;
  service: Pick<ServiceRecord, 'serviceArn' | 'clusterArn' | 'createdAt' | 'deploymentConfiguration'>;
  deployment: Deployment & { id: string };
  targetRevisionArn: string;
  sources: readonly ServiceRevisionSummary[];
  /** Epoch ms. */
  now: number;
}

/** The history entry of a deployment that starts now. */
export function buildServiceDeploymentRecord(input: HistoryInput): ServiceDeploymentRecord {
  const at = toEpochSeconds(input.now);
  const desired = input.deployment.desiredCount ?? 0;
  return {
    serviceDeploymentArn: input.arn,
    serviceArn: input.service.serviceArn,
    clusterArn: input.service.clusterArn,
    createdAt: at,
    startedAt: at,
    updatedAt: at,
    sourceServiceRevisions: input.sources.map((s) => ({ ...s })),
    targetServiceRevision: {
      arn: input.targetRevisionArn,
      requestedTaskCount: desired,
      runningTaskCount: 0,
      pendingTaskCount: 0,
    },
    status: 'IN_PROGRESS',
    ...(input.service.deploymentConfiguration !== undefined
      ? { deploymentConfiguration: structuredClone(input.service.deploymentConfiguration) }
      : {}),
    deploymentCircuitBreaker: breakerSummary(input.service.deploymentConfiguration, desired, 0),
    berth: { deploymentId: input.deployment.id, serviceCreatedAt: input.service.createdAt ?? 0 },
  };
}

/** The revisions a new deployment replaces: every current deployment, with its task counts. */
export function sourceRevisions(
  deployments: readonly Deployment[],
  internals: Readonly<Record<string, ServiceDeploymentInternals>>,
): ServiceRevisionSummary[] {
  const out: ServiceRevisionSummary[] = [];
  for (const d of deployments) {
    const arn = d.id !== undefined ? internals[d.id]?.serviceRevisionArn : undefined;
    if (arn === undefined) continue;
    out.push({
      arn,
      requestedTaskCount: d.desiredCount ?? 0,
      runningTaskCount: d.runningCount ?? 0,
      pendingTaskCount: d.pendingCount ?? 0,
    });
  }
  return out;
}

/** A history entry whose deployment stopped being the target (superseded, or failed without rollback). */
export function historyStopped(
  rec: ServiceDeploymentRecord,
  reason: string,
  now: number,
): ServiceDeploymentRecord {
  if (!isHistoryInProgress(rec)) return rec;
  const at = toEpochSeconds(now);
  return {
    ...rec,
    status: 'STOPPED',
    statusReason: reason,
    stoppedAt: at,
    finishedAt: at,
    updatedAt: at,
    ...(rec.deploymentCircuitBreaker?.status === 'MONITORING'
      ? { deploymentCircuitBreaker: { ...rec.deploymentCircuitBreaker, status: 'MONITORING_COMPLETE' } }
      : {}),
  };
}

export function isHistoryInProgress(rec: Pick<ServiceDeploymentRecord, 'status'>): boolean {
  return (
    rec.status === 'PENDING' ||
    rec.status === 'IN_PROGRESS' ||
    rec.status === 'ROLLBACK_REQUESTED' ||
    rec.status === 'ROLLBACK_IN_PROGRESS' ||
    rec.status === 'STOP_REQUESTED'
  );
}
