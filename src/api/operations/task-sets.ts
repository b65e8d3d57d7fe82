// Task sets, for services with the EXTERNAL deployment controller: CreateTaskSet, UpdateTaskSet
// (scale), DeleteTaskSet, DescribeTaskSets, UpdateServicePrimaryTaskSet. A task set is a group of
// the service's tasks with its own task definition, capacity and network configuration; the
// service scheduler holds each at computedDesiredCount = ceil(desiredCount × scale / 100) real
// tasks (their startedBy is the task set id) and drains a deleted one to zero before it goes.
//
// Choices a reader should know:
// - Task sets live inside their service record (`taskSets`), as TagResource expects; ids look
//   like deployment ids (`ecs-svc/<19 digits>`), ARNs `task-set/<cluster>/<service>/<id>`.
// - A new task set is ACTIVE; UpdateServicePrimaryTaskSet makes one PRIMARY (the previous one
//   becomes ACTIVE) and the service's taskDefinition follows the primary task set.
// - Capacity: the task set's launchType, else its capacityProviderStrategy, else the service's,
//   else the cluster's default strategy, else EC2. Load balancers and service registries are
//   refused, as for services.
// - DeleteTaskSet of a task set whose scale is above 0 needs `force`; it then drains (DRAINING)
//   and disappears once its tasks have stopped.
import { isArn, parseArn, taskSetArn } from '../../domain/arn.js';
import { toEpochSeconds } from '../../domain/clock.js';
import { EcsError, invalidParameter } from '../../domain/errors.js';
import type { ServiceRecord } from '../../domain/records.js';
import { deploymentIdFromSeed, isDeploymentId } from '../../domain/service/ids.js';
import { computedDesiredCount } from '../../domain/service/reconcile.js';
import { hasEssentialHealthCheck } from '../../domain/service/task-state.js';
import { toTaskSetView } from '../../domain/service/view.js';
import { validateTags } from '../../domain/tags.js';
import {
  checkLaunchTypeCompatible,
  checkPlatformVersion,
  resolveAwsvpcConfiguration,
} from '../../domain/task/launch.js';
import type { Failure, Scale, TaskSet } from '../../generated/ecs/types.js';
import type { StoredRecord } from '../../store/store.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { requireService, requireStartableDefinition, resolveCapacity, serviceNotActive } from './services.js';
import { checkTagLimit } from './tags.js';

export const TASK_SET_NOT_FOUND_MESSAGE = 'The specified task set does not exist.';
export const EXTERNAL_ONLY_MESSAGE =
  'Task sets are only supported for services configured to use the EXTERNAL deployment controller.';
const MAX_WRITE_ATTEMPTS = 20;

const taskSetNotFound = (): EcsError => new EcsError('TaskSetNotFoundException', TASK_SET_NOT_FOUND_MESSAGE);

function checkScale(scale: Scale | undefined): Scale {
  const value = scale?.value ?? 100;
  const unit = scale?.unit ?? 'PERCENT';
  if (unit !== 'PERCENT') throw invalidParameter(`scale.unit must be PERCENT; got '${String(unit)}'.`);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw invalidParameter(`scale.value must be a percentage from 0 to 100; got ${String(value)}.`);
  }
  return { value, unit };
}

/** The task set id a reference names (an id, or a task set ARN of this service), or undefined. */
function taskSetIdOf(
  ctx: RequestContext,
  service: ServiceRecord,
  cluster: string,
  ref: unknown,
): string | undefined {
  if (typeof ref !== 'string' || ref === '') return undefined;
  if (!isArn(ref)) return isDeploymentId(ref) ? ref : undefined;
  const p = parseArn(ref);
  if (
    !p ||
    p.service !== 'ecs' ||
    p.resourceType !== 'task-set' ||
    p.account !== ctx.account ||
    p.region !== ctx.region
  ) {
    return undefined;
  }
  const [c, s, ...id] = p.parts;
  if (c !== cluster || s !== service.serviceName) return undefined;
  const joined = id.join('/');
  return isDeploymentId(joined) ? joined : undefined;
}

async function requireExternalService(
  ctx: RequestContext,
  clusterRef: string | undefined,
  serviceRef: string | undefined,
): Promise<{
  cluster: string;
  clusterRec: Awaited<ReturnType<typeof requireService>>['cluster'];
  record: StoredRecord<ServiceRecord>;
}> {
  const { cluster, record } = await requireService(ctx, clusterRef, serviceRef, { activeCluster: true });
  if (record.value.status !== 'ACTIVE') throw serviceNotActive();
  if ((record.value.deploymentController?.type ?? 'ECS') !== 'EXTERNAL')
    throw invalidParameter(EXTERNAL_ONLY_MESSAGE);
  return { cluster: cluster.clusterName, clusterRec: cluster, record };
}

/**
 * Read-modify-write of an EXTERNAL service's task sets, retried on conflict: `change` gets a copy
 * of the service and returns the task set to answer.
 */
async function changeTaskSets(
  ctx: RequestContext,
  clusterRef: string | undefined,
  serviceRef: string | undefined,
  change: (svc: ServiceRecord, cluster: string) => TaskSet,
): Promise<TaskSet> {
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const { cluster, record } = await requireExternalService(ctx, clusterRef, serviceRef);
    const next: ServiceRecord = structuredClone(record.value);
    next.taskSets = next.taskSets ?? [];
    const answer = change(next, cluster);
    const berth = next.berth ?? { generation: 0, createFingerprint: '', deployments: {} };
    berth.generation += 1;
    berth.steady = false;
    next.berth = berth;
    const r = await ctx.store.txn(
      [{ key: record.key, version: record.version }],
      [{ kind: 'put', key: record.key, value: next }],
    );
    if (r.succeeded) return answer;
  }
  throw new EcsError('ServerException', 'The service record kept changing; try again.');
}

function findTaskSet(ctx: RequestContext, svc: ServiceRecord, cluster: string, ref: unknown): TaskSet {
  const id = taskSetIdOf(ctx, svc, cluster, ref);
  const ts = id !== undefined ? svc.taskSets?.find((x) => x.id === id) : undefined;
  if (!ts) throw taskSetNotFound();
  return ts;
}

export const taskSetOperations: OperationGroup = {
  async CreateTaskSet(ctx, input) {
    const { cluster, clusterRec, record } = await requireExternalService(ctx, input.cluster, input.service);
    const svc = record.value;
    if ((input.loadBalancers?.length ?? 0) > 0) {
      throw invalidParameter('loadBalancers: Elastic Load Balancing is not supported by Berth yet.');
    }
    if ((input.serviceRegistries?.length ?? 0) > 0) {
      throw invalidParameter(
        'serviceRegistries: AWS Cloud Map service discovery is not supported by Berth yet.',
      );
    }
    validateTags(input.tags);
    checkTagLimit(input.tags ?? []);
    const scale = checkScale(input.scale);
    const capacity = resolveCapacity(input, clusterRec, {
      ...(svc.launchType !== undefined ? { launchType: svc.launchType } : {}),
      ...(svc.capacityProviderStrategy !== undefined
        ? { capacityProviderStrategy: svc.capacityProviderStrategy }
        : {}),
    });
    const td = await requireStartableDefinition(ctx, input.taskDefinition);
    checkLaunchTypeCompatible(td, capacity.effective);
    checkPlatformVersion(input.platformVersion, capacity.effective);
    const awsvpc = resolveAwsvpcConfiguration(td, input.networkConfiguration, capacity.effective);
    const fargate = capacity.effective === 'FARGATE';
    const id = deploymentIdFromSeed(ctx.newId());
    const healthChecked = hasEssentialHealthCheck(td.containerDefinitions);

    const created = await changeTaskSets(ctx, input.cluster, input.service, (next) => {
      const at = toEpochSeconds(ctx.clock.now());
      const ts: TaskSet = {
        id,
        taskSetArn: taskSetArn(ctx, cluster, next.serviceName, id),
        serviceArn: next.serviceArn,
        clusterArn: next.clusterArn,
        ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
        status: 'ACTIVE',
        taskDefinition: td.taskDefinitionArn,
        computedDesiredCount: 0,
        pendingCount: 0,
        runningCount: 0,
        createdAt: at,
        updatedAt: at,
        ...(capacity.launchType !== undefined ? { launchType: capacity.launchType } : {}),
        ...(capacity.capacityProviderStrategy !== undefined
          ? { capacityProviderStrategy: capacity.capacityProviderStrategy.map((s) => ({ ...s })) }
          : {}),
        ...(fargate ? { platformVersion: input.platformVersion ?? 'LATEST', platformFamily: 'Linux' } : {}),
        ...(awsvpc ? { networkConfiguration: { awsvpcConfiguration: awsvpc } } : {}),
        loadBalancers: [],
        serviceRegistries: [],
        scale,
        stabilityStatus: 'STABILIZING',
        stabilityStatusAt: at,
        tags: (input.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
      };
      ts.computedDesiredCount = computedDesiredCount(next, ts);
      next.taskSets!.push(ts);
      const berth = next.berth ?? { generation: 0, createFingerprint: '', deployments: {} };
      berth.deployments[id] = { healthChecked };
      next.berth = berth;
      return ts;
    });
    ctx.log.info({ service: svc.serviceArn, taskSet: id }, 'CreateTaskSet');
    return { taskSet: toTaskSetView(created, true) };
  },

  async UpdateTaskSet(ctx, input) {
    const scale = checkScale(input.scale);
    const updated = await changeTaskSets(ctx, input.cluster, input.service, (next, cluster) => {
      const ts = findTaskSet(ctx, next, cluster, input.taskSet);
      if (ts.status === 'DRAINING') {
        throw invalidParameter(`Task set ${ts.id} is DRAINING (deleted); it cannot be scaled.`);
      }
      ts.scale = scale;
      ts.computedDesiredCount = computedDesiredCount(next, ts);
      ts.updatedAt = toEpochSeconds(ctx.clock.now());
      return ts;
    });
    return { taskSet: toTaskSetView(updated, false) };
  },

  async DeleteTaskSet(ctx, input) {
    const deleted = await changeTaskSets(ctx, input.cluster, input.service, (next, cluster) => {
      const ts = findTaskSet(ctx, next, cluster, input.taskSet);
      if (ts.status === 'DRAINING') return ts;
      if ((ts.scale?.value ?? 100) > 0 && input.force !== true) {
        throw invalidParameter(
          `Task set ${ts.id} is scaled to ${ts.scale?.value ?? 100}%; scale it to 0 with UpdateTaskSet, or delete it with force.`,
        );
      }
      ts.status = 'DRAINING';
      ts.computedDesiredCount = 0;
      ts.updatedAt = toEpochSeconds(ctx.clock.now());
      return ts;
    });
    return { taskSet: toTaskSetView(deleted, false) };
  },

  async DescribeTaskSets(ctx, input) {
    const { cluster, record } = await requireService(ctx, input.cluster, input.service, {
      activeCluster: false,
    });
    const svc = record.value;
    if (svc.status !== 'ACTIVE') throw serviceNotActive();
    if ((svc.deploymentController?.type ?? 'ECS') !== 'EXTERNAL')
      throw invalidParameter(EXTERNAL_ONLY_MESSAGE);
    const withTags = input.include?.includes('TAGS') === true;
    const all = svc.taskSets ?? [];
    if (input.taskSets === undefined || input.taskSets.length === 0) {
      return { taskSets: all.map((ts) => toTaskSetView(ts, withTags)), failures: [] };
    }
    const taskSets: TaskSet[] = [];
    const failures: Failure[] = [];
    for (const ref of input.taskSets) {
      const id = taskSetIdOf(ctx, svc, cluster.clusterName, ref);
      const ts = id !== undefined ? all.find((x) => x.id === id) : undefined;
      if (ts) taskSets.push(toTaskSetView(ts, withTags));
      else failures.push({ arn: String(ref), reason: 'MISSING' });
    }
    return { taskSets, failures };
  },

  async UpdateServicePrimaryTaskSet(ctx, input) {
    const primary = await changeTaskSets(ctx, input.cluster, input.service, (next, cluster) => {
      const ts = findTaskSet(ctx, next, cluster, input.primaryTaskSet);
      if (ts.status === 'DRAINING') {
        throw invalidParameter(
          `Task set ${ts.id} is DRAINING (deleted); it cannot become the primary task set.`,
        );
      }
      const at = toEpochSeconds(ctx.clock.now());
      for (const other of next.taskSets ?? []) {
        if (other !== ts && other.status === 'PRIMARY') {
          other.status = 'ACTIVE';
          other.updatedAt = at;
        }
      }
      ts.status = 'PRIMARY';
      ts.updatedAt = at;
      if (ts.taskDefinition !== undefined) next.taskDefinition = ts.taskDefinition;
      return ts;
    });
    return { taskSet: toTaskSetView(primary, false) };
  },
};
