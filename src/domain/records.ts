// What the store holds for each resource. Convention: a record is the resource's ECS wire
// shape (so Describe* answers are the record minus computed fields), and every taggable
// record carries its tags in a top-level `tags` member, so TagResource works the same on all.
import type {
  AwsVpcConfiguration,
  CapacityProvider,
  Cluster,
  ContainerInstance,
  Deployment,
  Service,
  ServiceDeployment,
  ServiceRevision,
  Setting,
  Tag,
  Task,
  TaskDefinition,
} from '../generated/ecs/types.js';

export type ClusterStatus = 'ACTIVE' | 'PROVISIONING' | 'DEPROVISIONING' | 'FAILED' | 'INACTIVE';

export type ClusterRecord = Cluster & {
  clusterName: string;
  clusterArn: string;
  status: ClusterStatus;
  tags: Tag[];
};

export type TaskDefinitionRecord = TaskDefinition & {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  tags: Tag[];
};

/** Per family: revisions are never reused, even after DeleteTaskDefinitions. */
export interface TaskDefinitionFamilyRecord {
  family: string;
  lastRevision: number;
}

export type CapacityProviderRecord = CapacityProvider & {
  name: string;
  capacityProviderArn: string;
  tags: Tag[];
};

/** Control-plane bookkeeping kept beside a container instance's wire shape; stripped from every answer. */
export interface ContainerInstanceInternals {
  /**
   * Epoch ms when agentConnected last went false (written by the agent gateway, or by the
   * instance health controller when it finds a disconnected instance without one); absent while
   * connected. The instance health controller declares the instance lost after
   * BERTH_INSTANCE_LOST_AFTER_MS of it.
   */
  disconnectedAt?: number;
}

export type ContainerInstanceRecord = ContainerInstance & {
  containerInstanceArn: string;
  /** Short cluster name the instance belongs to. */
  cluster: string;
  tags: Tag[];
  berth?: ContainerInstanceInternals;
};

/** Control-plane bookkeeping kept beside a task's wire shape; stripped from every answer. */
export interface TaskInternals {
  /** Routing: the managed (FARGATE) host that runs the task; EC2/EXTERNAL tasks use containerInstanceArn. */
  managedHostId?: string;
  /** What placement reserved on the host; given back once, when the task stops. */
  reserved?: { cpu: number; memory: number; ports: number[]; portsUdp: number[] };
  released?: boolean;
  /** RunTask/StartTask networkConfiguration.awsvpcConfiguration, for the agent. */
  awsvpcConfiguration?: AwsVpcConfiguration;
  /** RunTask clientToken, for idempotency. */
  clientToken?: string;
}

export type TaskRecord = Task & { taskArn: string; clusterArn: string; tags: Tag[]; berth: TaskInternals };

/**
 * A host serving as managed (FARGATE) capacity: not a container instance, invisible to
 * ListContainerInstances, shared by every account and region of this control plane.
 */
export interface ManagedHostRecord {
  hostId: string;
  availabilityZone: string;
  agentConnected: boolean;
  /** Epoch ms when agentConnected last went false; absent while connected (see ContainerInstanceInternals). */
  disconnectedAt?: number;
  registered: { cpu: number; memory: number };
  remaining: { cpu: number; memory: number };
  runningTasksCount: number;
  pendingTasksCount: number;
  updatedAt: number;
}

/** Service scheduler bookkeeping for one deployment (or task set) of a service. */
export interface ServiceDeploymentInternals {
  /** Its task definition has an essential container with a health check: healthy means HEALTHY. */
  healthChecked: boolean;
  /** Its ServiceDeployment history record (ListServiceDeployments); deployments only. */
  serviceDeploymentArn?: string;
  /** The ServiceRevision it deploys. */
  serviceRevisionArn?: string;
  /**
   * Circuit breaker and launch back-off: failed tasks that stopped at or before this time (epoch
   * seconds) no longer count (a task of the deployment was healthy since).
   */
  failuresResetAt?: number;
  /** Set while a rollback brings this deployment back: the deployment that failed, and its history entry. */
  rollbackOf?: { deploymentId: string; serviceDeploymentArn?: string };
}

/** Control-plane bookkeeping kept beside a service's wire shape; stripped from every answer. */
export interface ServiceInternals {
  /** Bumped by every API change of what the service should run; the scheduler's writes keep it. */
  generation: number;
  /** Identifies the CreateService request: the same request again answers the existing service. */
  createFingerprint: string;
  /** Per deployment id (deployments[] and taskSets[]). */
  deployments: Record<string, ServiceDeploymentInternals>;
  /** The last deployment that COMPLETED, kept for a rollback after it drained away. */
  lastCompleted?: { deployment: Deployment; internals: ServiceDeploymentInternals };
  /** StopServiceDeployment ROLLBACK asked for this deployment to be rolled back (the scheduler does it). */
  rollbackRequested?: string;
  /** The steady-state event was written since the service last changed. */
  steady?: boolean;
  /** Tasks that stopped on their own up to here have had their event: stoppedAt (epoch s) and the ids at it. */
  stopsSeen?: { at: number; taskIds: string[] };
}

export type ServiceRecord = Service & {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  tags: Tag[];
  /** Absent on records written before the service scheduler existed (and in some tests). */
  berth?: ServiceInternals;
};

/** One service deployment's history entry (ListServiceDeployments, DescribeServiceDeployments). */
export type ServiceDeploymentRecord = ServiceDeployment & {
  serviceDeploymentArn: string;
  serviceArn: string;
  clusterArn: string;
  berth: {
    /** The deployment's id in the service's deployments[] (`ecs-svc/<digits>`). */
    deploymentId: string;
    /** createdAt of the service it belongs to: a service re-created under the same name starts a new history. */
    serviceCreatedAt: number;
  };
};

export type ServiceRevisionRecord = ServiceRevision & {
  serviceRevisionArn: string;
  serviceArn: string;
  clusterArn: string;
};

export type AccountSettingRecord = Setting;
