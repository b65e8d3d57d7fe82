// A new task record, from its task definition, the checked overrides and where placement put it.
// What RunTask / StartTask answer and DescribeTasks shows before any agent has reported:
//   lastStatus PROVISIONING, desiredStatus RUNNING, version 1, createdAt
//   containers[]: containerArn, taskArn, name, image, lastStatus PENDING, cpu / memory /
//                 memoryReservation as strings (ECS shows them so), healthStatus UNKNOWN
//   group `family:<family>` unless given; startedBy; launchType; capacityProviderName
//   cpu / memory: the task-level values after overrides
//   awsvpc: attachments[0] = ElasticNetworkInterface, status PRECREATED, details [subnetId]
//   availabilityZone from the host (`ecs.availability-zone` attribute / managed host's zone)
//   FARGATE: platformFamily Linux, platformVersion 1.4.0, ephemeral storage (20 GiB default)
//   enableExecuteCommand false; tags (see computeTaskTags)
import type {
  Attachment,
  AwsVpcConfiguration,
  Container,
  LaunchType,
  PropagateTags,
  Tag,
} from '../../generated/ecs/types.js';
import { clusterArn, containerArn, taskArn, type Scope } from '../arn.js';
import { toEpochSeconds } from '../clock.js';
import type { TaskDefinitionRecord, TaskRecord } from '../records.js';
import type { ResolvedOverrides } from './overrides.js';
import type { TaskReservation } from './resources.js';

export const ENI_ATTACHMENT_TYPE = 'ElasticNetworkInterface';
export const FARGATE_PLATFORM_VERSION = '1.4.0';
export const FARGATE_PLATFORM_FAMILY = 'Linux';
export const FARGATE_DEFAULT_EPHEMERAL_GIB = 20;
/** ECS-managed tag every task gets with enableECSManagedTags. */
export const MANAGED_TAG_CLUSTER = 'aws:ecs:clusterName';

/** Where placement put the task. */
export type TaskHost =
  | { kind: 'instance'; containerInstanceArn: string; availabilityZone?: string }
  | { kind: 'managed'; managedHostId: string; availabilityZone?: string };

export interface TaskBuildInput {
  scope: Scope;
  /** Short cluster name. */
  cluster: string;
  taskId: string;
  /** One id per container of the definition, in definition order (uuids). */
  containerIds: readonly string[];
  /** Required for awsvpc tasks: the id of their network interface attachment. */
  attachmentId?: string;
  taskDefinition: TaskDefinitionRecord;
  resolved: ResolvedOverrides;
  launchType: LaunchType;
  capacityProviderName?: string;
  group?: string;
  startedBy?: string;
  tags: readonly Tag[];
  host: TaskHost;
  awsvpcConfiguration?: AwsVpcConfiguration;
  reserved: TaskReservation;
  clientToken?: string;
  /** Epoch milliseconds. */
  now: number;
}

export function defaultTaskGroup(family: string): string {
  return `family:${family}`;
}

export interface TaskTagInput {
  /** The request's tags (already validated). */
  requested: readonly Tag[];
  propagateTags?: PropagateTags;
  definitionTags: readonly Tag[];
  enableECSManagedTags?: boolean;
  cluster: string;
}

/**
 * The task's tags: the definition's when propagateTags is TASK_DEFINITION, overridden key by
 * key by the request's, then ECS-managed tags when enabled.
 */
export function computeTaskTags(input: TaskTagInput): Tag[] {
  const out: Tag[] = [];
  const put = (t: Tag): void => {
    const at = out.findIndex((x) => x.key === t.key);
    const copy = { key: t.key, value: t.value ?? '' };
    if (at >= 0) out[at] = copy;
    else out.push(copy);
  };
  if (input.propagateTags === 'TASK_DEFINITION') input.definitionTags.forEach(put);
  input.requested.forEach(put);
  if (input.enableECSManagedTags === true) put({ key: MANAGED_TAG_CLUSTER, value: input.cluster });
  return out;
}

function containerOf(input: TaskBuildInput, arnOfTask: string, index: number): Container {
  const c = input.resolved.containers[index]!;
  const id = input.containerIds[index];
  if (id === undefined) throw new Error(`buildTaskRecord: no container id for container #${index}`);
  return {
    containerArn: containerArn(input.scope, input.cluster, input.taskId, id),
    taskArn: arnOfTask,
    name: c.name ?? '',
    image: c.image ?? '',
    lastStatus: 'PENDING',
    networkBindings: [],
    networkInterfaces: [],
    healthStatus: 'UNKNOWN',
    cpu: String(c.cpu ?? 0),
    ...(c.memory !== undefined ? { memory: String(c.memory) } : {}),
    ...(c.memoryReservation !== undefined ? { memoryReservation: String(c.memoryReservation) } : {}),
  };
}

export function buildTaskRecord(input: TaskBuildInput): TaskRecord {
  const td = input.taskDefinition;
  const arnOfTask = taskArn(input.scope, input.cluster, input.taskId);
  if (input.containerIds.length !== input.resolved.containers.length) {
    throw new Error('buildTaskRecord: containerIds must hold one id per container of the definition');
  }
  const attachments: Attachment[] = [];
  if (input.awsvpcConfiguration) {
    if (input.attachmentId === undefined)
      throw new Error('buildTaskRecord: an awsvpc task needs an attachmentId');
    attachments.push({
      id: input.attachmentId,
      type: ENI_ATTACHMENT_TYPE,
      status: 'PRECREATED',
      details: [{ name: 'subnetId', value: input.awsvpcConfiguration.subnets[0] ?? '' }],
    });
  }
  const fargate = input.launchType === 'FARGATE';
  const ephemeral = input.resolved.overrides.ephemeralStorage?.sizeInGiB ?? td.ephemeralStorage?.sizeInGiB;
  const record: TaskRecord = {
    attachments,
    ...(input.host.availabilityZone !== undefined ? { availabilityZone: input.host.availabilityZone } : {}),
    ...(input.capacityProviderName !== undefined ? { capacityProviderName: input.capacityProviderName } : {}),
    clusterArn: clusterArn(input.scope, input.cluster),
    ...(input.host.kind === 'instance' ? { containerInstanceArn: input.host.containerInstanceArn } : {}),
    containers: input.resolved.containers.map((_, i) => containerOf(input, arnOfTask, i)),
    ...(input.resolved.cpu !== undefined ? { cpu: input.resolved.cpu } : {}),
    createdAt: toEpochSeconds(input.now),
    desiredStatus: 'RUNNING',
    enableExecuteCommand: false,
    group: input.group ?? defaultTaskGroup(td.family),
    healthStatus: 'UNKNOWN',
    lastStatus: 'PROVISIONING',
    launchType: input.launchType,
    ...(input.resolved.memory !== undefined ? { memory: input.resolved.memory } : {}),
    overrides: structuredClone(input.resolved.overrides),
    ...(fargate
      ? { platformVersion: FARGATE_PLATFORM_VERSION, platformFamily: FARGATE_PLATFORM_FAMILY }
      : {}),
    ...(input.startedBy !== undefined ? { startedBy: input.startedBy } : {}),
    tags: input.tags.map((t) => ({ ...t })),
    taskArn: arnOfTask,
    taskDefinitionArn: td.taskDefinitionArn,
    version: 1,
    ...(fargate
      ? {
          ephemeralStorage: { sizeInGiB: ephemeral ?? FARGATE_DEFAULT_EPHEMERAL_GIB },
          fargateEphemeralStorage: { sizeInGiB: ephemeral ?? FARGATE_DEFAULT_EPHEMERAL_GIB },
        }
      : {}),
    berth: {
      ...(input.host.kind === 'managed' ? { managedHostId: input.host.managedHostId } : {}),
      reserved: {
        cpu: input.reserved.cpu,
        memory: input.reserved.memory,
        ports: [...input.reserved.ports],
        portsUdp: [...input.reserved.portsUdp],
      },
      released: false,
      ...(input.awsvpcConfiguration
        ? { awsvpcConfiguration: structuredClone(input.awsvpcConfiguration) }
        : {}),
      ...(input.clientToken !== undefined ? { clientToken: input.clientToken } : {}),
    },
  };
  return record;
}
