// What the store holds for each resource. Convention: a record is the resource's ECS wire
// shape (so Describe* answers are the record minus computed fields), and every taggable
// record carries its tags in a top-level `tags` member, so TagResource works the same on all.
import type {
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

export type CapacityProviderRecord = CapacityProvider & { name: string; capacityProviderArn: string; tags: Tag[] };

export type ContainerInstanceRecord = ContainerInstance & {
  containerInstanceArn: string;
  /** Short cluster name the instance belongs to. */
  cluster: string;
  tags: Tag[];
};

export type TaskRecord = Task & { taskArn: string; clusterArn: string; tags: Tag[] };

export type ServiceRecord = Service & { serviceArn: string; serviceName: string; clusterArn: string; tags: Tag[] };

export type AccountSettingRecord = Setting;
