// What the store holds for each resource. Convention: a record is the resource's ECS wire
// shape (so Describe* answers are the record minus computed fields), and every taggable
// record carries its tags in a top-level `tags` member, so TagResource works the same on all.
import type {
  AwsVpcConfiguration,
  CapacityProvider,
  Cluster,
  ContainerInstance,
  Service,
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

export type ContainerInstanceRecord = ContainerInstance & {
  containerInstanceArn: string;
  /** Short cluster name the instance belongs to. */
  cluster: string;
  tags: Tag[];
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
  registered: { cpu: number; memory: number };
  remaining: { cpu: number; memory: number };
  runningTasksCount: number;
  pendingTasksCount: number;
  updatedAt: number;
}

export type ServiceRecord = Service & {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  tags: Tag[];
};

export type AccountSettingRecord = Setting;
