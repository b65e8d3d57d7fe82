// What a cluster holds and how ECS counts it: which tasks are running or pending, which
// container instances are registered, which services are live, the per-launch-type statistics
// of DescribeClusters, and what stops DeleteCluster.
//
// Counting uses the same predicates as container instances (domain/task/status.ts and
// domain/container-instance/status.ts), so a cluster's counts are the sum of its instances':
//   running     lastStatus RUNNING
//   pending     lastStatus PROVISIONING, PENDING or ACTIVATING (on its way up)
//   neither     DEACTIVATING … STOPPED (on its way down)
//   registered  a container instance in any status but INACTIVE
// A task blocks DeleteCluster while it is not STOPPED or is still wanted RUNNING.
import { EcsError } from '../errors.js';
import type { CapacityProviderType, KeyValuePair, LaunchType } from '../../generated/ecs/types.js';
import type { ContainerInstanceRecord, ServiceRecord, TaskRecord } from '../records.js';
import { isRegistered } from '../container-instance/status.js';
import { isTaskPendingCount, isTaskRunningCount, isTaskStopped } from '../task/status.js';

type TaskState = Pick<TaskRecord, 'lastStatus' | 'desiredStatus'>;
type TaskPlacement = Pick<TaskRecord, 'launchType' | 'capacityProviderName'>;
type ServiceState = Pick<ServiceRecord, 'status' | 'launchType' | 'capacityProviderStrategy'>;

export type TaskCountPhase = 'RUNNING' | 'PENDING';

/** Which of the cluster's counters a task adds to, if any (see the table at the top). */
export function taskCountPhase(task: TaskState): TaskCountPhase | undefined {
  if (isTaskRunningCount(task.lastStatus)) return 'RUNNING';
  if (isTaskPendingCount(task.lastStatus)) return 'PENDING';
  return undefined;
}

/** A task that keeps its cluster from being deleted: not STOPPED yet, or still wanted running. */
export function isTaskActive(task: TaskState): boolean {
  return task.desiredStatus === 'RUNNING' || !isTaskStopped(task.lastStatus);
}

/** Registered with the cluster: ECS's count covers ACTIVE and DRAINING, Berth's every status but INACTIVE. */
export function isRegisteredInstance(instance: Pick<ContainerInstanceRecord, 'status'>): boolean {
  return isRegistered(instance.status);
}

/** ACTIVE and DRAINING services still run tasks; INACTIVE ones are deleted. */
export function isLiveService(service: Pick<ServiceRecord, 'status'>): boolean {
  return service.status === 'ACTIVE' || service.status === 'DRAINING';
}

/** What capacity a task or service runs on, the axis of DescribeClusters statistics. */
export type CapacityKind = LaunchType;

export function capacityKindOfProviderType(type: CapacityProviderType): CapacityKind {
  switch (type) {
    case 'FARGATE':
    case 'FARGATE_SPOT':
      return 'FARGATE';
    case 'MANAGED_INSTANCES':
      return 'MANAGED_INSTANCES';
    case 'EC2_AUTOSCALING':
      return 'EC2';
    default: {
      const never: never = type;
      throw new Error(`unknown capacity provider type ${String(never)}`);
    }
  }
}

/** Looks up the kind of a capacity provider by name. */
export type ProviderKindOf = (capacityProvider: string) => CapacityKind;

/** A task launched without a launch type or capacity provider ran with ECS's default, EC2. */
export function taskCapacityKind(task: TaskPlacement, kindOf: ProviderKindOf): CapacityKind {
  if (task.launchType !== undefined) return task.launchType;
  if (task.capacityProviderName !== undefined) return kindOf(task.capacityProviderName);
  return 'EC2';
}

/** A strategy holds one kind of provider only, so its first item tells the kind. */
export function serviceCapacityKind(service: ServiceState, kindOf: ProviderKindOf): CapacityKind {
  if (service.launchType !== undefined) return service.launchType;
  const first = service.capacityProviderStrategy?.[0];
  if (first !== undefined) return kindOf(first.capacityProvider);
  return 'EC2';
}

export interface ClusterCounts {
  registeredContainerInstancesCount: number;
  runningTasksCount: number;
  pendingTasksCount: number;
  activeServicesCount: number;
}

export function computeClusterCounts(
  instances: readonly Pick<ContainerInstanceRecord, 'status'>[],
  tasks: readonly TaskState[],
  services: readonly Pick<ServiceRecord, 'status'>[],
): ClusterCounts {
  let running = 0;
  let pending = 0;
  for (const t of tasks) {
    const phase = taskCountPhase(t);
    if (phase === 'RUNNING') running++;
    else if (phase === 'PENDING') pending++;
  }
  return {
    registeredContainerInstancesCount: instances.filter(isRegisteredInstance).length,
    runningTasksCount: running,
    pendingTasksCount: pending,
    activeServicesCount: services.filter((s) => s.status === 'ACTIVE').length,
  };
}

const KIND_LABEL: Readonly<Record<CapacityKind, string>> = {
  EC2: 'EC2',
  FARGATE: 'Fargate',
  EXTERNAL: 'External',
  MANAGED_INSTANCES: 'ManagedInstances',
};
/** The statistics DescribeClusters returns with include STATISTICS, in the order ECS answers them. */
export const STATISTIC_NAMES: readonly string[] = [
  'runningEC2TasksCount',
  'runningFargateTasksCount',
  'pendingEC2TasksCount',
  'pendingFargateTasksCount',
  'runningExternalTasksCount',
  'pendingExternalTasksCount',
  'runningManagedInstancesTasksCount',
  'pendingManagedInstancesTasksCount',
  'activeEC2ServiceCount',
  'activeFargateServiceCount',
  'drainingEC2ServiceCount',
  'drainingFargateServiceCount',
  'activeExternalServiceCount',
  'drainingExternalServiceCount',
  'activeManagedInstancesServiceCount',
  'drainingManagedInstancesServiceCount',
];

/** Task and service counts per launch type; values are decimal strings, as on the wire. */
export function computeClusterStatistics(
  tasks: readonly (TaskState & TaskPlacement)[],
  services: readonly ServiceState[],
  kindOf: ProviderKindOf,
): KeyValuePair[] {
  const counts = new Map<string, number>(STATISTIC_NAMES.map((n) => [n, 0]));
  const bump = (name: string): void => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  };
  for (const t of tasks) {
    const phase = taskCountPhase(t);
    if (phase === undefined) continue;
    const label = KIND_LABEL[taskCapacityKind(t, kindOf)];
    bump(phase === 'RUNNING' ? `running${label}TasksCount` : `pending${label}TasksCount`);
  }
  for (const s of services) {
    if (!isLiveService(s)) continue;
    const label = KIND_LABEL[serviceCapacityKind(s, kindOf)];
    bump(s.status === 'ACTIVE' ? `active${label}ServiceCount` : `draining${label}ServiceCount`);
  }
  return STATISTIC_NAMES.map((name) => ({ name, value: String(counts.get(name) ?? 0) }));
}

export interface ClusterContents {
  instances: readonly Pick<ContainerInstanceRecord, 'status'>[];
  services: readonly Pick<ServiceRecord, 'status'>[];
  tasks: readonly TaskState[];
  /** Names of ACTIVE Managed Instances capacity providers created in the cluster. */
  scopedCapacityProviders: readonly string[];
}

/** Why DeleteCluster must refuse, with ECS's error and wording; undefined when it may proceed. */
export function clusterDeletionBlocker(c: ClusterContents): EcsError | undefined {
  if (c.instances.some(isRegisteredInstance)) {
    return new EcsError(
      'ClusterContainsContainerInstancesException',
      'The Cluster cannot be deleted while Container Instances are active or draining.',
    );
  }
  if (c.services.some(isLiveService)) {
    return new EcsError(
      'ClusterContainsServicesException',
      'The Cluster cannot be deleted while Services are active.',
    );
  }
  if (c.tasks.some(isTaskActive)) {
    return new EcsError(
      'ClusterContainsTasksException',
      'The Cluster cannot be deleted while Tasks are active.',
    );
  }
  if (c.scopedCapacityProviders.length > 0) {
    // ECS answers this one as a ClientException, not ClusterContainsCapacityProviderException.
    return new EcsError(
      'ClientException',
      `The Cluster cannot be deleted while Cluster Scoped Capacity Providers are attached to the cluster (${c.scopedCapacityProviders.join(', ')}).`,
    );
  }
  return undefined;
}
