// Task operations: RunTask, StartTask, StopTask, DescribeTasks, ListTasks, and the ECS-shaped
// agent entry points SubmitTaskStateChange, SubmitContainerStateChange,
// SubmitAttachmentStateChanges (translated to a TaskStateReport and applied by the same code as
// the agent gateway's reports). Rules live in src/domain/task/, placement in src/scheduler/
// (engine.ts for container instances, fit.ts for managed capacity), the transactional writes in
// src/control/tasks.ts; this module checks requests and maps results.
//
// Choices a reader should know (see also docs/api-behaviour.md):
// - Capacity: launchType, else capacityProviderStrategy, else the cluster's
//   defaultCapacityProviderStrategy, else EC2. FARGATE / FARGATE_SPOT tasks go to managed hosts
//   (no containerInstanceArn); launch types EC2 and EXTERNAL go to the cluster's container
//   instances; any other provider's share of the tasks (base and weight) goes to that provider's
//   instances only (src/scheduler/capacity-provider-instances.ts: attribute
//   ecs.capacity-provider, or ecs.autoscaling-group matching its Auto Scaling group). Berth does
//   not tell external hosts apart from others: EXTERNAL places on every instance, like EC2, and
//   only differs in the task definition compatibility it requires. MANAGED_INSTANCES is refused.
// - Placement on instances is the engine: resources (cpu, memory, ports, GPUs), the task
//   definition's requiresAttributes and memberOf constraints with the request's constraints
//   (≤ 10 together; distinctInstance at RunTask only), then placementStrategy (≤ 5), by default
//   spread over instances (DEFAULT_TASK_STRATEGY). The task's group (`group`, else
//   `family:<family>`) is what spread and distinctInstance count. FARGATE takes no constraints or
//   strategies (InvalidParameterException, as ECS). volumeConfigurations and enableExecuteCommand
//   true are refused rather than ignored.
// - Nothing fits → `failures` (one per instance with its reason and detail, for the first task
//   that did not fit; per capacity provider share) and only the tasks that fit are created. A
//   provider without any instance → one failure naming the provider, ECS's "No Container
//   Instances were found in your capacity provider.". EC2 / EXTERNAL with no ACTIVE instance at all
//   → InvalidParameterException "No Container Instances were found in your cluster."; FARGATE
//   with no managed host → a failure with ECS's capacity-unavailable reason.
// - clientToken (RunTask, per cluster, 24 h, as ECS): the first call claims the token with a
//   record under keys.idempotency holding the request's fingerprint and a nonce; task ids are
//   derived from the nonce, so a retry, even concurrent or after a crash, finds the tasks already
//   created instead of creating more. The same token with a different request →
//   ConflictException. AWS SDKs and the CLI send a token on every RunTask; the retention
//   controller deletes records 24 h old (src/controllers/retention-controller.ts).
// - referenceId is checked (≤ 1024 characters) and not stored: ECS documents it as internal.
// - DescribeTasks / ListTasks: stopped tasks stay until the retention controller deletes them
//   (an hour after they stopped by default, as ECS); ListTasks shows them only with
//   desiredStatus STOPPED. serviceName matches the group
//   `service:<name>` of service tasks.
import { createHash } from 'node:crypto';
import { capacityProviderArn, parseArn, parseTaskDefinitionRef, taskArn } from '../../domain/arn.js';
import type { ContainerObservation, TaskStateReport } from '../../domain/agent-protocol.js';
import { normalizeStrategy, checkStrategyAssociated } from '../../domain/capacity-provider/strategy.js';
import { EcsError, clientError, clusterNotFound, invalidParameter } from '../../domain/errors.js';
import { isFargateProvider } from '../../domain/capacity-provider/capacity-provider.js';
import type {
  CapacityProviderRecord,
  ClusterRecord,
  ServiceRecord,
  TaskDefinitionRecord,
  TaskRecord,
} from '../../domain/records.js';
import { validateTags } from '../../domain/tags.js';
import { buildTaskRecord, computeTaskTags, type TaskHost } from '../../domain/task/build-task.js';
import { capacityFromStrategy, type TaskCapacity } from '../../domain/task/capacity.js';
import { resolveOverrides, type ResolvedOverrides } from '../../domain/task/overrides.js';
import { computeTaskReservation, type TaskReservation } from '../../domain/task/resources.js';
import {
  CONTAINER_STATUSES,
  TASK_STATUSES,
  isTaskStatus,
  type ContainerStatus,
} from '../../domain/task/status.js';
import { toTaskView } from '../../domain/task/view.js';
import {
  checkLaunchTypeCompatible as checkCompatible,
  checkPlatformVersion,
  resolveAwsvpcConfiguration as checkNetwork,
} from '../../domain/task/launch.js';
import type {
  AttachmentStateChange,
  AwsVpcConfiguration,
  Failure,
  LaunchType,
  NetworkConfiguration,
  RunTaskRequest,
  StartTaskRequest,
  Tag,
  Task,
} from '../../generated/ecs/types.js';
import {
  applyTaskReport,
  placeTasks,
  stopTask,
  type InstancePlacement,
  type PlacedHost,
  type PlacementResult,
} from '../../control/tasks.js';
import {
  NO_PROVIDER_INSTANCES_REASON,
  instanceGroupOf,
  type InstanceGroup,
} from '../../scheduler/capacity-provider-instances.js';
import {
  DEFAULT_TASK_STRATEGY,
  parsePlacementConstraints,
  parsePlacementStrategies,
} from '../../scheduler/placement-spec.js';
import { gpuRequirements, placementGroupOf, requiredAttributesOf } from '../../scheduler/task-request.js';
import { updateRecord } from '../../store/cas.js';
import { keys } from '../../store/keys.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { pageOf } from '../pagination.js';
import { clusterName, clusterScopedId, findCluster, requireActiveCluster } from '../resolve.js';
import { requestFingerprint } from '../idempotency.js';
import { resolveContainerInstanceRef } from './container-instances.js';
import { findTaskDefinition } from './task-definitions.js';
import { checkTagLimit } from './tags.js';

export const MAX_RUN_TASK_COUNT = 10;
export const MAX_START_TASK_INSTANCES = 10;
export const MAX_DESCRIBE_TASKS = 100;
export const MAX_STARTED_BY_RUN_TASK = 128;
export const MAX_STARTED_BY_START_TASK = 36;
export const MAX_GROUP_LENGTH = 255;
export const MAX_REFERENCE_ID_LENGTH = 1024;
export const MAX_CLIENT_TOKEN_LENGTH = 64;
export { MAX_SECURITY_GROUPS, MAX_SUBNETS } from '../../domain/task/launch.js';
/** ECS keeps a RunTask clientToken for 24 hours. */
export const CLIENT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export const NO_CONTAINER_INSTANCES_MESSAGE = 'No Container Instances were found in your cluster.';
export const TASK_NOT_FOUND_MESSAGE = 'The referenced task was not found.';
/** The reason ECS gives when Fargate has no capacity to offer. */
export const FARGATE_CAPACITY_UNAVAILABLE =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

const TASK_ID = /^[A-Za-z0-9_-]{1,255}$/;
const CLIENT_TOKEN = /^[\x21-\x7e]+$/;

// ---------------------------------------------------------------------------------------------
// References

export type TaskRef = { found: true; id: string; arn: string; key: string } | { found: false; arn: string };

/**
 * A task reference of a request (bare id, `task/<cluster>/<id>` or old `task/<id>` ARN) in
 * `cluster`. `found: false` carries what to report in a MISSING failure: the full ARN when the
 * reference is well formed, else the reference as given.
 */
export function resolveTaskRef(ctx: RequestContext, cluster: string, ref: string): TaskRef {
  if (typeof ref !== 'string') return { found: false, arn: String(ref) };
  const id = clusterScopedId(ctx, cluster, ref, 'task', TASK_ID);
  if (id === undefined) return { found: false, arn: ref };
  return { found: true, id, arn: taskArn(ctx, cluster, id), key: keys.task(ctx, cluster, id) };
}

// ---------------------------------------------------------------------------------------------
// Checks shared by RunTask and StartTask

function checkLength(value: string | undefined, member: string, max: number): void {
  if (value !== undefined && [...value].length > max) {
    throw invalidParameter(`${member} can be at most ${max} characters long; got ${[...value].length}.`);
  }
}

async function requireStartableDefinition(ctx: RequestContext, ref: string): Promise<TaskDefinitionRecord> {
  const found = await findTaskDefinition(ctx, ref);
  if (!found) throw clientError('TaskDefinition not found.');
  if (found.value.status !== 'ACTIVE') throw clientError('TaskDefinition is inactive');
  return found.value;
}

function checkUnsupported(
  input: Pick<RunTaskRequest, 'volumeConfigurations' | 'enableExecuteCommand'>,
): void {
  if ((input.volumeConfigurations?.length ?? 0) > 0) {
    throw invalidParameter('volumeConfigurations: Amazon EBS volumes are not supported by Berth.');
  }
  if (input.enableExecuteCommand === true) {
    throw invalidParameter('enableExecuteCommand: ECS Exec is not supported by Berth yet.');
  }
}

interface LaunchCommon {
  tags?: Tag[];
  propagateTags?: RunTaskRequest['propagateTags'];
  enableECSManagedTags?: boolean;
  group?: string;
  startedBy?: string;
  referenceId?: string;
  networkConfiguration?: NetworkConfiguration;
  overrides?: RunTaskRequest['overrides'];
}

interface PreparedLaunch {
  resolved: ResolvedOverrides;
  reservation: TaskReservation;
  awsvpc?: AwsVpcConfiguration;
  tags: Tag[];
  group?: string;
  startedBy?: string;
}

function prepareLaunch(
  input: LaunchCommon,
  td: TaskDefinitionRecord,
  cluster: string,
  launchType: LaunchType,
  maxStartedBy: number,
): PreparedLaunch {
  checkLength(input.startedBy, 'startedBy', maxStartedBy);
  checkLength(input.group, 'group', MAX_GROUP_LENGTH);
  checkLength(input.referenceId, 'referenceId', MAX_REFERENCE_ID_LENGTH);
  if (input.propagateTags === 'SERVICE') {
    throw invalidParameter(
      'propagateTags SERVICE is only valid for the tasks of a service; use TASK_DEFINITION or NONE.',
    );
  }
  validateTags(input.tags);
  const tags = computeTaskTags({
    requested: input.tags ?? [],
    ...(input.propagateTags !== undefined ? { propagateTags: input.propagateTags } : {}),
    definitionTags: td.tags ?? [],
    enableECSManagedTags: input.enableECSManagedTags === true,
    cluster,
  });
  checkTagLimit(tags);
  const awsvpc = checkNetwork(td, input.networkConfiguration, launchType);
  const resolved = resolveOverrides(td, input.overrides, launchType);
  const reservation = computeTaskReservation({
    containers: resolved.containers,
    ...(resolved.cpu !== undefined ? { cpu: resolved.cpu } : {}),
    ...(resolved.memory !== undefined ? { memory: resolved.memory } : {}),
    ...(td.networkMode !== undefined ? { networkMode: td.networkMode } : {}),
    launchType,
  });
  return {
    resolved,
    reservation,
    ...(awsvpc ? { awsvpc } : {}),
    tags,
    ...(input.group !== undefined && input.group !== '' ? { group: input.group } : {}),
    ...(input.startedBy !== undefined ? { startedBy: input.startedBy } : {}),
  };
}

/** Ids fixed before placement, so building a task is pure however often a commit is retried. */
interface TaskIds {
  taskId: string;
  containerIds: string[];
  attachmentId: string;
}

function newTaskIds(ctx: RequestContext, td: TaskDefinitionRecord, taskId?: string): TaskIds {
  return {
    taskId: taskId ?? ctx.newId().replace(/-/g, ''),
    containerIds: (td.containerDefinitions ?? []).map(() => ctx.newId()),
    attachmentId: ctx.newId(),
  };
}

function failuresOf(ctx: RequestContext, result: PlacementResult): Failure[] {
  const out: Failure[] = result.rejections.map(({ host, reason, detail }) =>
    host.kind === 'instance'
      ? {
          arn: host.containerInstanceArn,
          reason,
          ...(detail ? { detail: `Container instance ${host.id} ${detail}` } : {}),
        }
      : { reason, detail: `Managed (FARGATE) capacity host ${host.id} cannot take the task.` },
  );
  for (const provider of result.providersWithoutInstances ?? []) {
    out.push({ arn: capacityProviderArn(ctx, provider), reason: NO_PROVIDER_INSTANCES_REASON });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Placement on container instances

interface CheckedPlacement {
  constraints: InstancePlacement['constraints'];
  strategies: InstancePlacement['strategies'];
}

/**
 * The request's and the task definition's placement, checked and compiled before anything is
 * written: a malformed strategy or expression is InvalidParameterException naming the member and,
 * for an expression, the column. FARGATE tasks take none (ECS refuses them too); undefined then.
 */
function checkPlacement(
  input: Pick<RunTaskRequest, 'placementConstraints' | 'placementStrategy'>,
  td: TaskDefinitionRecord,
  launchType: LaunchType,
): CheckedPlacement | undefined {
  if (launchType === 'FARGATE') {
    for (const member of ['placementConstraints', 'placementStrategy'] as const) {
      if ((input[member]?.length ?? 0) > 0) {
        throw invalidParameter(
          `${member} is not supported for tasks on FARGATE: Fargate capacity places tasks itself.`,
        );
      }
    }
    return undefined;
  }
  const strategies = parsePlacementStrategies(input.placementStrategy);
  return {
    constraints: parsePlacementConstraints(input.placementConstraints, td.placementConstraints ?? []),
    strategies: strategies.length > 0 ? strategies : parsePlacementStrategies(DEFAULT_TASK_STRATEGY),
  };
}

/** The instance groups of the (non-Fargate) capacity providers the tasks of a call use. */
async function instanceGroupsOf(
  ctx: RequestContext,
  capacities: readonly TaskCapacity[],
): Promise<Map<string, InstanceGroup>> {
  const names = [
    ...new Set(
      capacities.flatMap((c) =>
        c.capacityProviderName !== undefined && !isFargateProvider(c.capacityProviderName)
          ? [c.capacityProviderName]
          : [],
      ),
    ),
  ];
  if (names.length === 0) return new Map();
  const recs = await ctx.store.getMany<CapacityProviderRecord>(
    names.map((n) => keys.capacityProvider(ctx, n)),
  );
  // A provider associated with the cluster but without a record (never expected) is still known
  // by the attribute naming it.
  return new Map(names.map((n, i) => [n, recs[i] ? instanceGroupOf(recs[i].value) : { provider: n }]));
}

function instancePlacementOf(
  ctx: RequestContext,
  checked: CheckedPlacement,
  td: TaskDefinitionRecord,
  launch: PreparedLaunch,
  capacities: readonly TaskCapacity[],
  groups: ReadonlyMap<string, InstanceGroup>,
): InstancePlacement {
  return {
    group: placementGroupOf(launch.group, td.family),
    ...(checked.constraints ? { constraints: checked.constraints } : {}),
    ...(checked.strategies ? { strategies: checked.strategies } : {}),
    requiredAttributes: requiredAttributesOf(td.requiresAttributes),
    gpus: gpuRequirements(launch.resolved.containers),
    seed: ctx.requestId,
    ...(groups.size > 0
      ? {
          instanceGroupOf: (i: number) => {
            const name = capacities[i]?.capacityProviderName;
            return name !== undefined ? groups.get(name) : undefined;
          },
        }
      : {}),
  };
}

function taskHostOf(host: PlacedHost): TaskHost {
  const { id: _id, ...rest } = host;
  return rest;
}

// ---------------------------------------------------------------------------------------------
// RunTask capacity and idempotency

function capacityOf(input: RunTaskRequest, cluster: ClusterRecord, count: number): TaskCapacity[] {
  const strategy = input.capacityProviderStrategy ?? [];
  if (input.launchType !== undefined && strategy.length > 0) {
    throw invalidParameter(
      'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.',
    );
  }
  if (input.launchType !== undefined)
    return Array.from({ length: count }, () => ({ launchType: input.launchType! }));
  const associated = cluster.capacityProviders ?? [];
  if (strategy.length > 0) {
    const items = normalizeStrategy(strategy, 'capacityProviderStrategy');
    checkStrategyAssociated(items, associated);
    return capacityFromStrategy(items, count);
  }
  const fallback = cluster.defaultCapacityProviderStrategy ?? [];
  if (fallback.length > 0) {
    return capacityFromStrategy(normalizeStrategy(fallback, 'defaultCapacityProviderStrategy'), count);
  }
  return Array.from({ length: count }, () => ({ launchType: 'EC2' as const }));
}

interface RunTaskClaim {
  fingerprint: string;
  /** Task ids of this claim derive from it. */
  nonce: string;
  /** Epoch milliseconds. */
  createdAt: number;
  done: boolean;
  taskArns: string[];
  failures: Failure[];
}

/** Identifies a RunTask request for idempotency: every member but the token itself. */
export function runTaskFingerprint(input: RunTaskRequest): string {
  return requestFingerprint(input);
}

/** The index-th task id of a claimed token: 32 hex characters, like ECS task ids. */
export function claimedTaskId(nonce: string, index: number): string {
  return createHash('sha256').update(`${nonce}/${index}`).digest('hex').slice(0, 32);
}

function checkClientToken(token: string): void {
  if (token.length > MAX_CLIENT_TOKEN_LENGTH || !CLIENT_TOKEN.test(token)) {
    throw invalidParameter(
      `clientToken must be 1-${MAX_CLIENT_TOKEN_LENGTH} ASCII characters in the range 33-126; got '${token}'.`,
    );
  }
}

/** The live claim of a token: the stored one when it matches, a new one otherwise. */
async function claimToken(ctx: RequestContext, key: string, fingerprint: string): Promise<RunTaskClaim> {
  for (;;) {
    const cur = await ctx.store.get<RunTaskClaim>(key);
    const now = ctx.clock.now();
    if (cur && now - cur.value.createdAt < CLIENT_TOKEN_TTL_MS) {
      if (cur.value.fingerprint !== fingerprint) {
        throw new EcsError(
          'ConflictException',
          `The clientToken is already in use with a different RunTask request (tasks: ${cur.value.taskArns.join(', ') || 'none'}). ` +
            'Use a unique clientToken, or repeat the original request.',
        );
      }
      return cur.value;
    }
    const claim: RunTaskClaim = {
      fingerprint,
      nonce: ctx.newId(),
      createdAt: now,
      done: false,
      taskArns: [],
      failures: [],
    };
    const r = await ctx.store.txn(
      [{ key, version: cur?.version ?? 0 }],
      [{ kind: 'put', key, value: claim }],
    );
    if (r.succeeded) return claim;
  }
}

async function replay(
  ctx: RequestContext,
  claim: RunTaskClaim,
): Promise<{ tasks: Task[]; failures: Failure[] }> {
  const keysOf = claim.taskArns.map((arn) => {
    const p = parseArn(arn)!;
    return keys.task(ctx, p.parts[0]!, p.parts[1]!);
  });
  const recs = await ctx.store.getMany<TaskRecord>(keysOf);
  return {
    tasks: recs
      .filter((r): r is NonNullable<typeof r> => r !== undefined)
      .map((r) => toTaskView(r.value, true)),
    failures: claim.failures,
  };
}

// ---------------------------------------------------------------------------------------------
// Reports through the API

async function requireTask(ctx: RequestContext, clusterRef: string | undefined, ref: string | undefined) {
  if (ref === undefined || ref === '') throw invalidParameter('task is required.');
  const resolved = resolveTaskRef(ctx, clusterName(clusterRef), ref);
  if (!resolved.found) throw invalidParameter(TASK_NOT_FOUND_MESSAGE);
  const rec = await ctx.store.get<TaskRecord>(resolved.key);
  if (!rec) throw invalidParameter(TASK_NOT_FOUND_MESSAGE);
  return rec.value;
}

function taskStatusOf(status: string | undefined, current: TaskRecord): TaskStateReport['status'] {
  const s = status ?? current.lastStatus ?? 'PROVISIONING';
  if (!isTaskStatus(s)) {
    throw invalidParameter(
      `status '${s}' is not a task status; expected one of ${TASK_STATUSES.join(', ')}.`,
    );
  }
  return s;
}

function containerStatusOf(
  status: string | undefined,
  current: string | undefined,
  member: string,
): ContainerStatus {
  const s = status ?? current ?? 'PENDING';
  if (!(CONTAINER_STATUSES as readonly string[]).includes(s)) {
    throw invalidParameter(
      `${member} '${s}' is not a container status; expected one of ${CONTAINER_STATUSES.join(', ')}.`,
    );
  }
  return s as ContainerStatus;
}

async function submit(ctx: RequestContext, report: TaskStateReport): Promise<{ acknowledgment: string }> {
  const result = await applyTaskReport(ctx, report);
  if (!result.applied) throw invalidParameter(TASK_NOT_FOUND_MESSAGE);
  return { acknowledgment: 'ACK' };
}

/** `arn:...:attachment/<id>` or a bare id. */
function attachmentIdOf(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

// ---------------------------------------------------------------------------------------------

export const taskOperations: OperationGroup = {
  async RunTask(ctx, input) {
    const clusterRec = (await requireActiveCluster(ctx, input.cluster)).value;
    const cluster = clusterRec.clusterName;
    const count = input.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_RUN_TASK_COUNT) {
      throw invalidParameter(`count must be between 1 and ${MAX_RUN_TASK_COUNT}; got ${count}.`);
    }
    if (input.clientToken !== undefined) checkClientToken(input.clientToken);
    const capacities = capacityOf(input, clusterRec, count);
    const launchType = capacities[0]!.launchType;

    const td = await requireStartableDefinition(ctx, input.taskDefinition);
    checkCompatible(td, launchType);
    checkUnsupported(input);
    const checkedPlacement = checkPlacement(input, td, launchType);
    checkPlatformVersion(input.platformVersion, launchType);
    const launch = prepareLaunch(input, td, cluster, launchType, MAX_STARTED_BY_RUN_TASK);
    const placement = checkedPlacement
      ? instancePlacementOf(
          ctx,
          checkedPlacement,
          td,
          launch,
          capacities,
          await instanceGroupsOf(ctx, capacities),
        )
      : undefined;

    let claim: RunTaskClaim | undefined;
    let claimKey: string | undefined;
    if (input.clientToken !== undefined) {
      claimKey = keys.idempotency(
        ctx,
        'RunTask',
        `${encodeURIComponent(cluster)}/${encodeURIComponent(input.clientToken)}`,
      );
      claim = await claimToken(ctx, claimKey, runTaskFingerprint(input));
      if (claim.done) return replay(ctx, claim);
    }

    const ids = Array.from({ length: count }, (_, i) =>
      newTaskIds(ctx, td, claim ? claimedTaskId(claim.nonce, i) : undefined),
    );
    const now = ctx.clock.now();
    const result = await placeTasks(ctx, {
      target: launchType === 'FARGATE' ? { kind: 'managed' } : { kind: 'instances', scope: ctx, cluster },
      count,
      reservation: launch.reservation,
      ...(placement ? { placement } : {}),
      resumable: claim !== undefined,
      taskKey: (i) => keys.task(ctx, cluster, ids[i]!.taskId),
      buildTask: (i, host) =>
        buildTaskRecord({
          scope: ctx,
          cluster,
          ...ids[i]!,
          taskDefinition: td,
          resolved: launch.resolved,
          launchType: capacities[i]!.launchType,
          ...(capacities[i]!.capacityProviderName !== undefined
            ? { capacityProviderName: capacities[i]!.capacityProviderName }
            : {}),
          ...(launch.group !== undefined ? { group: launch.group } : {}),
          ...(launch.startedBy !== undefined ? { startedBy: launch.startedBy } : {}),
          tags: launch.tags,
          host: taskHostOf(host),
          ...(launch.awsvpc ? { awsvpcConfiguration: launch.awsvpc } : {}),
          reserved: launch.reservation,
          ...(input.clientToken !== undefined ? { clientToken: input.clientToken } : {}),
          now,
        }),
    });

    if (result.noHosts && launchType !== 'FARGATE') throw invalidParameter(NO_CONTAINER_INSTANCES_MESSAGE);
    const failures: Failure[] = result.noHosts
      ? [
          {
            reason: FARGATE_CAPACITY_UNAVAILABLE,
            detail: 'No host serving managed (FARGATE) capacity is registered with this control plane.',
          },
        ]
      : failuresOf(ctx, result);

    if (claim && claimKey) {
      const taskArns = result.tasks.map((t) => t.taskArn);
      await updateRecord<RunTaskClaim>(ctx.store, claimKey, (cur) =>
        cur && cur.nonce === claim.nonce ? { ...cur, done: true, taskArns, failures } : undefined,
      );
    }
    ctx.log.info({ cluster, count, placed: result.tasks.length, launchType }, 'RunTask');
    return { tasks: result.tasks.map((t) => toTaskView(t, true)), failures };
  },

  async StartTask(ctx, input: StartTaskRequest) {
    const cluster = (await requireActiveCluster(ctx, input.cluster)).value.clusterName;
    const refs = input.containerInstances;
    if (!Array.isArray(refs) || refs.length === 0)
      throw invalidParameter('containerInstances cannot be empty.');
    if (refs.length > MAX_START_TASK_INSTANCES) {
      throw invalidParameter(
        `containerInstances can have at most ${MAX_START_TASK_INSTANCES} items; got ${refs.length}.`,
      );
    }
    const td = await requireStartableDefinition(ctx, input.taskDefinition);
    const launchType: LaunchType = 'EC2';
    checkCompatible(td, launchType);
    checkUnsupported(input);
    const launch = prepareLaunch(input, td, cluster, launchType, MAX_STARTED_BY_START_TASK);
    // The named instance is the choice; the definition's requiresAttributes and memberOf
    // constraints still have to hold there (a failure with reason ATTRIBUTE otherwise).
    // No strategy: there is one candidate per call, and none means no need to read the tasks.
    const placement: InstancePlacement = {
      ...instancePlacementOf(ctx, checkPlacement({}, td, launchType)!, td, launch, [], new Map()),
      strategies: [],
    };

    const tasks: Task[] = [];
    const failures: Failure[] = [];
    const now = ctx.clock.now();
    for (const raw of refs) {
      const ref = resolveContainerInstanceRef(ctx, cluster, raw);
      if (!ref.found) {
        failures.push({ arn: ref.arn, reason: 'MISSING' });
        continue;
      }
      const ids = newTaskIds(ctx, td);
      const result = await placeTasks(ctx, {
        target: { kind: 'instances', scope: ctx, cluster, instanceIds: [ref.id] },
        count: 1,
        reservation: launch.reservation,
        placement,
        taskKey: () => keys.task(ctx, cluster, ids.taskId),
        buildTask: (_i, host) =>
          buildTaskRecord({
            scope: ctx,
            cluster,
            ...ids,
            taskDefinition: td,
            resolved: launch.resolved,
            launchType,
            ...(launch.group !== undefined ? { group: launch.group } : {}),
            ...(launch.startedBy !== undefined ? { startedBy: launch.startedBy } : {}),
            tags: launch.tags,
            host: taskHostOf(host),
            ...(launch.awsvpc ? { awsvpcConfiguration: launch.awsvpc } : {}),
            reserved: launch.reservation,
            now,
          }),
      });
      if (result.noHosts) failures.push({ arn: ref.arn, reason: 'MISSING' });
      failures.push(...failuresOf(ctx, result));
      tasks.push(...result.tasks.map((t) => toTaskView(t, true)));
    }
    return { tasks, failures };
  },

  async StopTask(ctx, input) {
    const cluster = (await requireActiveCluster(ctx, input.cluster)).value.clusterName;
    const ref = resolveTaskRef(ctx, cluster, input.task);
    if (!ref.found) throw invalidParameter(TASK_NOT_FOUND_MESSAGE);
    const stopped = await stopTask(ctx, ref.key, {
      stopCode: 'UserInitiated',
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
    });
    if (!stopped) throw invalidParameter(TASK_NOT_FOUND_MESSAGE);
    ctx.log.info({ taskArn: stopped.taskArn }, 'StopTask');
    return { task: toTaskView(stopped) };
  },

  async DescribeTasks(ctx, input) {
    const clusterRec = await findCluster(ctx, input.cluster);
    if (!clusterRec) throw clusterNotFound();
    const cluster = clusterRec.value.clusterName;
    const refs = input.tasks;
    if (!Array.isArray(refs) || refs.length === 0) throw invalidParameter('Tasks cannot be empty.');
    if (refs.length > MAX_DESCRIBE_TASKS) {
      throw invalidParameter(`tasks can have at most ${MAX_DESCRIBE_TASKS} items; got ${refs.length}.`);
    }
    const withTags = input.include?.includes('TAGS') === true;
    // Answers keep the request's order; a task named twice is answered once.
    const resolved = refs.map((raw) => resolveTaskRef(ctx, cluster, raw));
    const wanted = [...new Set(resolved.flatMap((r) => (r.found ? [r.key] : [])))];
    const recs = await ctx.store.getMany<TaskRecord>(wanted);
    const byKey = new Map(wanted.map((k, i) => [k, recs[i]]));
    const tasks: Task[] = [];
    const failures: Failure[] = [];
    const answered = new Set<string>();
    for (const ref of resolved) {
      const key = ref.found ? ref.key : undefined;
      if (key !== undefined && answered.has(key)) continue;
      const rec = key !== undefined ? byKey.get(key) : undefined;
      if (key !== undefined) answered.add(key);
      if (rec) tasks.push(toTaskView(rec.value, withTags));
      else failures.push({ arn: ref.arn, reason: 'MISSING' });
    }
    return { tasks, failures };
  },

  async ListTasks(ctx, input) {
    const clusterRec = await findCluster(ctx, input.cluster);
    if (!clusterRec) throw clusterNotFound();
    const cluster = clusterRec.value.clusterName;
    const desired = input.desiredStatus ?? 'RUNNING';
    let instanceArn: string | undefined;
    if (input.containerInstance !== undefined) {
      const ref = resolveContainerInstanceRef(ctx, cluster, input.containerInstance);
      if (!ref.found) {
        throw invalidParameter(
          `containerInstance '${input.containerInstance}' is not a container instance of cluster ${cluster}.`,
        );
      }
      instanceArn = ref.arn;
    }
    let group: string | undefined;
    if (input.serviceName !== undefined) {
      const name = input.serviceName.slice(input.serviceName.lastIndexOf('/') + 1);
      const service = await ctx.store.get<ServiceRecord>(keys.service(ctx, cluster, name));
      if (!service) throw new EcsError('ServiceNotFoundException', 'Service not found.');
      group = `service:${name}`;
    }
    // ECS accepts PENDING but never answers anything for it; daemons do not exist in Berth.
    const none = desired === 'PENDING' || input.daemonName !== undefined;
    const records = none ? [] : await ctx.store.list<TaskRecord>(keys.tasksOfCluster(ctx, cluster));
    const matching = records
      .filter((r) => {
        const t = r.value;
        if (t.desiredStatus !== desired) return false;
        if (instanceArn !== undefined && t.containerInstanceArn !== instanceArn) return false;
        if (input.family !== undefined) {
          const family = t.taskDefinitionArn
            ? parseTaskDefinitionRef(t.taskDefinitionArn)?.family
            : undefined;
          if (family !== input.family) return false;
        }
        if (input.startedBy !== undefined && t.startedBy !== input.startedBy) return false;
        if (group !== undefined && t.group !== group) return false;
        if (input.launchType !== undefined && t.launchType !== input.launchType) return false;
        return true;
      })
      .map((r) => ({ key: r.key, item: r.value.taskArn }));
    const page = pageOf(matching, input.nextToken, input.maxResults);
    return page.nextToken === undefined
      ? { taskArns: page.items }
      : { taskArns: page.items, nextToken: page.nextToken };
  },

  async SubmitTaskStateChange(ctx, input) {
    const task = await requireTask(ctx, input.cluster, input.task);
    const containers: ContainerObservation[] = (input.containers ?? []).map((c, i) => {
      if (c.containerName === undefined || c.containerName === '') {
        throw invalidParameter(`containers[${i}].containerName is required.`);
      }
      const current = task.containers?.find((x) => x.name === c.containerName);
      if (!current)
        throw invalidParameter(
          `containers[${i}].containerName '${c.containerName}' is not a container of the task.`,
        );
      return {
        ...c,
        containerName: c.containerName,
        status: containerStatusOf(c.status, current.lastStatus, `containers[${i}].status`),
      };
    });
    return submit(ctx, {
      taskArn: task.taskArn,
      status: taskStatusOf(input.status, task),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      containers,
      ...(input.attachments !== undefined ? { attachments: input.attachments } : {}),
      ...(input.pullStartedAt !== undefined ? { pullStartedAt: input.pullStartedAt } : {}),
      ...(input.pullStoppedAt !== undefined ? { pullStoppedAt: input.pullStoppedAt } : {}),
      ...(input.executionStoppedAt !== undefined ? { executionStoppedAt: input.executionStoppedAt } : {}),
    });
  },

  async SubmitContainerStateChange(ctx, input) {
    const task = await requireTask(ctx, input.cluster, input.task);
    const name = input.containerName;
    if (name === undefined || name === '') throw invalidParameter('containerName is required.');
    const current = task.containers?.find((x) => x.name === name);
    if (!current) throw invalidParameter(`containerName '${name}' is not a container of the task.`);
    const observation: ContainerObservation = {
      containerName: name,
      status: containerStatusOf(input.status, current.lastStatus, 'status'),
      ...(input.runtimeId !== undefined ? { runtimeId: input.runtimeId } : {}),
      ...(input.exitCode !== undefined ? { exitCode: input.exitCode } : {}),
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      ...(input.networkBindings !== undefined ? { networkBindings: input.networkBindings } : {}),
    };
    return submit(ctx, {
      taskArn: task.taskArn,
      status: taskStatusOf(undefined, task),
      containers: [observation],
    });
  },

  async SubmitAttachmentStateChanges(ctx, input) {
    const clusterRec = await findCluster(ctx, input.cluster);
    if (!clusterRec) throw clusterNotFound();
    const changes = input.attachments;
    if (!Array.isArray(changes) || changes.length === 0)
      throw invalidParameter('attachments cannot be empty.');
    const tasks = await ctx.store.list<TaskRecord>(keys.tasksOfCluster(ctx, clusterRec.value.clusterName));
    const byTask = new Map<string, { task: TaskRecord; changes: AttachmentStateChange[] }>();
    changes.forEach((change, i) => {
      const id = attachmentIdOf(change.attachmentArn);
      const owner = tasks.find((t) => t.value.attachments?.some((a) => a.id === id));
      if (!owner) {
        throw invalidParameter(
          `attachments[${i}].attachmentArn: no task of cluster ${clusterRec.value.clusterName} has attachment ${change.attachmentArn}.`,
        );
      }
      const entry = byTask.get(owner.key) ?? { task: owner.value, changes: [] };
      entry.changes.push(change);
      byTask.set(owner.key, entry);
    });
    for (const { task, changes: own } of byTask.values()) {
      await submit(ctx, {
        taskArn: task.taskArn,
        status: taskStatusOf(undefined, task),
        containers: [],
        attachments: own,
      });
    }
    return { acknowledgment: 'ACK' };
  },
};
