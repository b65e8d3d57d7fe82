// The read-only picture of a cluster that placement plans against: one PlacementInstance per
// container instance, with what the checks, the rankers and the cluster query language read.
// Built from store records by the caller (buildPlacementSnapshot); the engine never changes it,
// it keeps its own state for the tasks it places (engine.ts).
//
// Tasks are folded into per-group counts (`taskGroups`): spread counts, distinctInstance and
// `task:group` all ask "how many tasks of group G are on this instance". A service's tasks carry
// the group `service:<name>` and a standalone task RunTask's `group` or `family:<family>`, so
// counting by group is counting per service or per task group, as ECS spreads.
import { parseTaskDefinitionRef } from '../domain/arn.js';
import type { InstanceFacts } from '../domain/query-language/compile.js';
import type { ContainerInstanceRecord, TaskRecord } from '../domain/records.js';
import { instanceRemaining } from '../domain/task/resources.js';

export interface PlacementInstance extends InstanceFacts {
  /** Container instance id (the last part of its ARN); results name instances by it. */
  readonly id: string;
  readonly arn?: string;
  /** Only ACTIVE instances take tasks. */
  readonly status: string;
  readonly pendingTasksCount: number;
  readonly remaining: {
    readonly cpu: number;
    readonly memory: number;
    /** TCP host ports already taken. */
    readonly ports: ReadonlySet<number>;
    readonly portsUdp: ReadonlySet<number>;
  };
  /** GPU ids still free; empty when the instance declares no GPU. */
  readonly gpuIds: readonly string[];
}

/** The parts of a task placement reads. */
export type PlacedTaskFacts = Pick<
  TaskRecord,
  'group' | 'taskDefinitionArn' | 'lastStatus' | 'desiredStatus' | 'containerInstanceArn'
>;

/** A task's group, with ECS's default for a task started without one. */
export function groupOfTask(t: Pick<TaskRecord, 'group' | 'taskDefinitionArn'>): string | undefined {
  if (t.group !== undefined && t.group !== '') return t.group;
  const family = t.taskDefinitionArn ? parseTaskDefinitionRef(t.taskDefinitionArn)?.family : undefined;
  return family !== undefined ? `family:${family}` : undefined;
}

/**
 * Whether a task counts as being on its instance for spread, distinctInstance and task:group: it
 * has not stopped and is not being stopped (a task on its way out should not keep a zone
 * "full" or block its own replacement).
 */
export function isCountedTask(t: Pick<TaskRecord, 'lastStatus' | 'desiredStatus'>): boolean {
  return t.lastStatus !== 'STOPPED' && t.lastStatus !== 'DELETED' && t.desiredStatus !== 'STOPPED';
}

export function instanceIdOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** One instance's placement view; `tasks` are the tasks placed on it (others are ignored). */
export function placementInstanceFromRecord(
  record: ContainerInstanceRecord,
  tasks: readonly PlacedTaskFacts[] = [],
): PlacementInstance {
  const taskGroups = new Map<string, number>();
  for (const t of tasks) {
    if (t.containerInstanceArn !== undefined && t.containerInstanceArn !== record.containerInstanceArn)
      continue;
    if (!isCountedTask(t)) continue;
    const g = groupOfTask(t);
    if (g !== undefined) taskGroups.set(g, (taskGroups.get(g) ?? 0) + 1);
  }
  return placementInstanceFromGroups(record, taskGroups);
}

/** One instance's placement view from its record and the tasks per group counted on it (taken, not copied). */
export function placementInstanceFromGroups(
  record: ContainerInstanceRecord,
  taskGroups: ReadonlyMap<string, number>,
): PlacementInstance {
  const attributes = new Map<string, string | undefined>();
  for (const a of record.attributes ?? []) attributes.set(a.name, a.value ?? undefined);
  const gpu = record.remainingResources?.find((r) => r.name === 'GPU');
  return {
    id: instanceIdOfArn(record.containerInstanceArn),
    arn: record.containerInstanceArn,
    status: record.status ?? 'ACTIVE',
    agentConnected: record.agentConnected === true,
    agentVersion: record.versionInfo?.agentVersion,
    ec2InstanceId: record.ec2InstanceId,
    registeredAt: record.registeredAt,
    runningTasksCount: record.runningTasksCount ?? 0,
    pendingTasksCount: record.pendingTasksCount ?? 0,
    attributes,
    taskGroups,
    remaining: instanceRemaining(record.remainingResources),
    gpuIds: gpu?.stringSetValue ? [...gpu.stringSetValue] : [],
  };
}

/** Tasks by the ARN of the container instance they are placed on (tasks without one are left out). */
export function groupTasksByInstance<T extends Pick<PlacedTaskFacts, 'containerInstanceArn'>>(
  tasks: readonly T[],
): Map<string, T[]> {
  const byInstance = new Map<string, T[]>();
  for (const t of tasks) {
    if (t.containerInstanceArn === undefined) continue;
    const list = byInstance.get(t.containerInstanceArn);
    if (list) list.push(t);
    else byInstance.set(t.containerInstanceArn, [t]);
  }
  return byInstance;
}

/**
 * The snapshot of a cluster: every given instance (the caller picks which: the cluster's
 * instances for placement), sorted by id so ties break the same way on every control-plane node,
 * each with the groups of the tasks on it.
 */
export function buildPlacementSnapshot(
  instances: readonly ContainerInstanceRecord[],
  tasks: readonly PlacedTaskFacts[],
): PlacementInstance[] {
  const byInstance = groupTasksByInstance(tasks);
  return instances
    .map((r) => placementInstanceFromRecord(r, byInstance.get(r.containerInstanceArn) ?? []))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
