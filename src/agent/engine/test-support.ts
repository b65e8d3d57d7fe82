// Builders for the engine's unit tests: an AgentTask from a few container definitions, and a
// TaskState with chosen statuses. Deterministic ids, so expectations can name them.
import type { AgentTask } from '../../domain/agent-protocol.js';
import type { ContainerDefinition, TaskDefinition } from '../../generated/ecs/types.js';
import { newTaskState, type KnownContainer, type TaskState } from './task-state.js';

export const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef';
export const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/prod';

export function agentTask(
  containers: ContainerDefinition[],
  extra: Partial<Omit<AgentTask, 'taskDefinition'>> & { taskDefinition?: Partial<TaskDefinition> } = {},
): AgentTask {
  const { taskDefinition, ...rest } = extra;
  return {
    taskArn: TASK_ARN,
    clusterArn: CLUSTER_ARN,
    account: '123456789012',
    region: 'us-east-1',
    version: 1,
    desiredStatus: 'RUNNING',
    launchType: 'EC2',
    taskDefinition: {
      family: 'web',
      revision: 3,
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:3',
      containerDefinitions: containers,
      ...taskDefinition,
    },
    overrides: {},
    containerArns: Object.fromEntries(
      containers.map((c) => [
        c.name ?? '',
        `arn:aws:ecs:us-east-1:123456789012:container/prod/0123/${c.name ?? ''}`,
      ]),
    ),
    tags: [],
    createdAt: 1_700_000_000,
    ...rest,
  };
}

let counter = 0;
export const testIds = {
  uuid: (): string => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
  randomHex: (n: number): string => 'a'.repeat(n),
};

/** A task state with the given containers' statuses (and any other fields) set. */
export function stateOf(
  task: AgentTask,
  containers: Record<string, Partial<KnownContainer>> = {},
  extra: Partial<TaskState> = {},
): TaskState {
  const s = newTaskState(task, testIds);
  for (const c of s.containers) Object.assign(c, containers[c.name] ?? {});
  Object.assign(s, extra);
  return s;
}

export const c = (name: string, more: Partial<ContainerDefinition> = {}): ContainerDefinition => ({
  name,
  image: `img/${name}:1`,
  memory: 64,
  ...more,
});
