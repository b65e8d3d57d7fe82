// Builders for the service scheduler's unit tests: a service with its deployments, tasks in any
// state, container instances. Times are epoch ms for `now` and epoch seconds on records, as stored.
import type { Deployment, DeploymentConfiguration, TaskSet } from '../../generated/ecs/types.js';
import type {
  ContainerInstanceRecord,
  ServiceDeploymentInternals,
  ServiceInternals,
  ServiceRecord,
  TaskRecord,
} from '../records.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}`;
export const T0 = Date.UTC(2026, 0, 1);
export const D1 = 'ecs-svc/1000000000000000001';
export const D2 = 'ecs-svc/1000000000000000002';
export const D3 = 'ecs-svc/1000000000000000003';

export function deployment(id: string, extra: Partial<Deployment> = {}): Deployment {
  return {
    id,
    status: 'PRIMARY',
    taskDefinition: `${ARN}:task-definition/web:1`,
    desiredCount: 0,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: T0 / 1000,
    updatedAt: T0 / 1000,
    launchType: 'EC2',
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment ${id} in progress.`,
    ...extra,
  };
}

export interface ServiceOptions {
  desiredCount?: number;
  deployments?: Deployment[];
  internals?: Record<string, Partial<ServiceDeploymentInternals>>;
  berth?: Partial<ServiceInternals>;
  config?: DeploymentConfiguration;
  strategy?: 'REPLICA' | 'DAEMON';
  controller?: 'ECS' | 'EXTERNAL';
  status?: string;
  grace?: number;
  taskSets?: TaskSet[];
}

export function service(o: ServiceOptions = {}): ServiceRecord {
  const deployments = o.deployments ?? [deployment(D1, { desiredCount: o.desiredCount ?? 3 })];
  const internals: Record<string, ServiceDeploymentInternals> = {};
  for (const d of deployments) {
    internals[d.id!] = {
      healthChecked: false,
      serviceDeploymentArn: `${ARN}:service-deployment/prod/web/${d.id!.slice(-4)}`,
      serviceRevisionArn: `${ARN}:service-revision/prod/web/${d.id!.slice(-4)}`,
      ...(o.internals?.[d.id!] ?? {}),
    };
  }
  for (const ts of o.taskSets ?? [])
    internals[ts.id!] = { healthChecked: false, ...(o.internals?.[ts.id!] ?? {}) };
  return {
    serviceArn: `${ARN}:service/prod/web`,
    serviceName: 'web',
    clusterArn: `${ARN}:cluster/prod`,
    status: o.status ?? 'ACTIVE',
    desiredCount: o.desiredCount ?? 3,
    runningCount: 0,
    pendingCount: 0,
    launchType: 'EC2',
    taskDefinition: deployments[0]?.taskDefinition ?? `${ARN}:task-definition/web:1`,
    deploymentConfiguration: o.config ?? {
      deploymentCircuitBreaker: { enable: false, rollback: false },
      maximumPercent: o.strategy === 'DAEMON' ? 100 : 200,
      minimumHealthyPercent: o.strategy === 'DAEMON' ? 0 : 100,
    },
    deployments: o.controller === 'EXTERNAL' ? [] : deployments,
    ...(o.taskSets ? { taskSets: o.taskSets } : {}),
    events: [],
    createdAt: T0 / 1000,
    schedulingStrategy: o.strategy ?? 'REPLICA',
    deploymentController: { type: o.controller ?? 'ECS' },
    ...(o.grace !== undefined ? { healthCheckGracePeriodSeconds: o.grace } : {}),
    tags: [],
    berth: {
      generation: 1,
      createFingerprint: 'f',
      deployments: internals,
      stopsSeen: { at: T0 / 1000 - 1, taskIds: [] },
      ...o.berth,
    },
  };
}

let seq = 0;

export interface TaskOptions {
  id?: string;
  deployment?: string;
  last?: string;
  desired?: 'RUNNING' | 'STOPPED';
  /** Epoch seconds. */
  startedAt?: number;
  createdAt?: number;
  stoppedAt?: number;
  stopCode?: TaskRecord['stopCode'];
  stoppedReason?: string;
  health?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  instance?: string;
  zone?: string;
}

/** A task of service web; RUNNING tasks started at T0 - 60 s unless told. */
export function task(o: TaskOptions = {}): TaskRecord {
  const id = o.id ?? `t${String(++seq).padStart(4, '0')}`;
  const last = o.last ?? 'RUNNING';
  const startedAt = o.startedAt ?? (last === 'RUNNING' ? T0 / 1000 - 60 : undefined);
  return {
    taskArn: `${ARN}:task/prod/${id}`,
    clusterArn: `${ARN}:cluster/prod`,
    group: 'service:web',
    startedBy: o.deployment ?? D1,
    lastStatus: last,
    desiredStatus: o.desired ?? (last === 'STOPPED' ? 'STOPPED' : 'RUNNING'),
    createdAt: o.createdAt ?? T0 / 1000 - 120,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(o.stoppedAt !== undefined ? { stoppedAt: o.stoppedAt } : {}),
    ...(o.stopCode !== undefined ? { stopCode: o.stopCode } : {}),
    ...(o.stoppedReason !== undefined ? { stoppedReason: o.stoppedReason } : {}),
    healthStatus: o.health ?? 'UNKNOWN',
    ...(o.instance !== undefined
      ? { containerInstanceArn: `${ARN}:container-instance/prod/${o.instance}` }
      : {}),
    ...(o.zone !== undefined ? { availabilityZone: o.zone } : {}),
    tags: [],
    berth: {},
  };
}

export function instance(
  id: string,
  status = 'ACTIVE',
  extra: Partial<ContainerInstanceRecord> = {},
): ContainerInstanceRecord {
  return {
    containerInstanceArn: `${ARN}:container-instance/prod/${id}`,
    cluster: 'prod',
    status,
    agentConnected: true,
    tags: [],
    ...extra,
  };
}

export function instanceArn(id: string): string {
  return `${ARN}:container-instance/prod/${id}`;
}
