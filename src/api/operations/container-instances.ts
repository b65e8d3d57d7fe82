// Container instance operations: RegisterContainerInstance (called by agents, including after a
// restart with their containerInstanceArn), DescribeContainerInstances, ListContainerInstances,
// DeregisterContainerInstance, UpdateContainerInstancesState. What a registration stores is
// computed in src/domain/container-instance/; this module resolves references, enforces the
// cluster-level rules and writes with compare-and-set.
//
// Choices a reader should know:
// - Ids are 32 hex characters (ids.ts); ARNs are always the long form
//   `container-instance/<cluster>/<id>`; requests may also use bare ids or the old short ARN form
//   `container-instance/<id>` (looked up in the request's cluster).
// - Deregistration marks the record INACTIVE and keeps it, so Describe still shows it;
//   deregistering an INACTIVE instance again answers the record unchanged (retries are safe).
//   With force, tasks on the instance are left to the task and service controllers.
// - ListContainerInstances `filter` is a cluster query language expression
//   (src/domain/query-language/), judged against what placement sees of each instance
//   (src/scheduler/snapshot.ts): built-in and custom attributes, agent, counts, and, only when
//   the expression asks about `task:group`, the groups of the cluster's live tasks. A malformed
//   expression is InvalidParameterException naming the column and the reason. `status` and
//   `filter` together keep the instances that pass both.
import type {
  ContainerInstance,
  ContainerInstanceField,
  Failure,
  RegisterContainerInstanceRequest,
} from '../../generated/ecs/types.js';
import { clusterScopedIdFromRef, containerInstanceArn } from '../../domain/arn.js';
import {
  containerInstanceIdFromUuid,
  ec2LikeInstanceIdFromUuid,
  isContainerInstanceIdRef,
} from '../../domain/container-instance/ids.js';
import { computeRegisteredInstance } from '../../domain/container-instance/registration.js';
import { isRegistered, isUpdatableStatus, planStateUpdate } from '../../domain/container-instance/status.js';
import { toContainerInstanceView } from '../../domain/container-instance/view.js';
import { clientError, clusterNotFound, invalidParameter, serverError } from '../../domain/errors.js';
import { compileQueryParameter, type CompiledQuery } from '../../domain/query-language/compile.js';
import type { ContainerInstanceRecord, TaskRecord } from '../../domain/records.js';
import { validateTags } from '../../domain/tags.js';
import { updateRecord } from '../../store/cas.js';
import { keys } from '../../store/keys.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { pageOf } from '../pagination.js';
import { findCluster, requireActiveCluster } from '../resolve.js';
import { groupTasksByInstance, placementInstanceFromRecord } from '../../scheduler/snapshot.js';
import { checkTagLimit, mergeTags } from './tags.js';

/** ECS service quota: container instances per cluster. */
export const MAX_INSTANCES_PER_CLUSTER = 5000;
export const MAX_DESCRIBE_REFS = 100;
export const MAX_STATE_UPDATE_REFS = 10;

export type InstanceRef =
  { found: true; id: string; arn: string; key: string } | { found: false; arn: string };

/**
 * A container instance reference of a request (bare id, long or short ARN) in `cluster`.
 * `found: false` carries the ARN to report in a MISSING failure: the full ARN when the reference
 * is well formed, else the reference as given.
 */
export function resolveContainerInstanceRef(ctx: RequestContext, cluster: string, ref: string): InstanceRef {
  const parsed = typeof ref === 'string' ? clusterScopedIdFromRef(ref, 'container-instance') : undefined;
  if (!parsed || !isContainerInstanceIdRef(parsed.id)) return { found: false, arn: String(ref) };
  if (parsed.cluster !== undefined && parsed.cluster !== cluster) return { found: false, arn: ref };
  const arn = containerInstanceArn(ctx, cluster, parsed.id);
  return { found: true, id: parsed.id, arn, key: keys.containerInstance(ctx, cluster, parsed.id) };
}

function checkRefList(refs: unknown, member: string, max: number): string[] {
  if (!Array.isArray(refs) || refs.length === 0) throw invalidParameter(`${member} cannot be empty.`);
  if (refs.length > max) {
    throw invalidParameter(`${member} can have at most ${max} items; got ${refs.length}.`);
  }
  return refs as string[];
}

async function registerNew(
  ctx: RequestContext,
  cluster: string,
  input: RegisterContainerInstanceRequest,
): Promise<ContainerInstanceRecord> {
  // Not atomic with the write below: concurrent registrations can overshoot the quota by a few,
  // which is acceptable for a quota that exists to keep a cluster's scans bounded. Records are
  // counted first (a key range, no values read); only a cluster with that many records, some of
  // them perhaps INACTIVE, is listed to count the registered ones.
  const prefix = keys.containerInstancesOfCluster(ctx, cluster);
  let registered = await ctx.store.count(prefix);
  if (registered >= MAX_INSTANCES_PER_CLUSTER) {
    const existing = await ctx.store.list<ContainerInstanceRecord>(prefix);
    registered = existing.filter((r) => isRegistered(r.value.status)).length;
  }
  if (registered >= MAX_INSTANCES_PER_CLUSTER) {
    throw clientError(
      `Cluster ${cluster} already has ${registered} registered container instances; the limit is ${MAX_INSTANCES_PER_CLUSTER}.`,
    );
  }
  const id = containerInstanceIdFromUuid(ctx.newId());
  const record = computeRegisteredInstance({
    request: input,
    cluster,
    containerInstanceArn: containerInstanceArn(ctx, cluster, id),
    generatedEc2InstanceId: ec2LikeInstanceIdFromUuid(ctx.newId()),
    tags: mergeTags([], input.tags ?? []),
    now: ctx.clock.now(),
  });
  const key = keys.containerInstance(ctx, cluster, id);
  const written = await ctx.store.txn([{ key, version: 0 }], [{ kind: 'put', key, value: record }]);
  if (!written.succeeded)
    throw serverError(`container instance id ${id} is already taken; retry the registration.`);
  return record;
}

async function reRegister(
  ctx: RequestContext,
  cluster: string,
  input: RegisterContainerInstanceRequest,
  arnRef: string,
): Promise<ContainerInstanceRecord> {
  const ref = resolveContainerInstanceRef(ctx, cluster, arnRef);
  if (!ref.found) {
    throw invalidParameter(
      `containerInstanceArn '${arnRef}' does not name a container instance of cluster ${cluster}.`,
    );
  }
  const record = await updateRecord<ContainerInstanceRecord>(ctx.store, ref.key, (previous) => {
    if (!previous) {
      throw invalidParameter(
        `containerInstanceArn: container instance ${ref.arn} was not found in cluster ${cluster}.`,
      );
    }
    const tags = mergeTags(previous.tags ?? [], input.tags ?? []);
    checkTagLimit(tags);
    return computeRegisteredInstance({
      request: input,
      cluster,
      containerInstanceArn: ref.arn,
      generatedEc2InstanceId: previous.ec2InstanceId ?? '',
      tags,
      now: ctx.clock.now(),
      previous,
    });
  });
  return record!;
}

export const containerInstanceOperations: OperationGroup = {
  async RegisterContainerInstance(ctx, input) {
    const cluster = (await requireActiveCluster(ctx, input.cluster)).value.clusterName;
    validateTags(input.tags);
    const record =
      input.containerInstanceArn !== undefined && input.containerInstanceArn !== ''
        ? await reRegister(ctx, cluster, input, input.containerInstanceArn)
        : await registerNew(ctx, cluster, input);
    return { containerInstance: toContainerInstanceView(record, ['TAGS']) };
  },

  async DescribeContainerInstances(ctx, input) {
    const clusterRec = await findCluster(ctx, input.cluster);
    if (!clusterRec) throw clusterNotFound();
    const cluster = clusterRec.value.clusterName;
    const refs = checkRefList(input.containerInstances, 'containerInstances', MAX_DESCRIBE_REFS);
    const include: ContainerInstanceField[] = input.include ?? [];

    const failures: Failure[] = [];
    const wanted: { arn: string; key: string }[] = [];
    const seen = new Set<string>();
    for (const raw of refs) {
      const ref = resolveContainerInstanceRef(ctx, cluster, raw);
      if (!ref.found) {
        failures.push({ arn: ref.arn, reason: 'MISSING' });
      } else if (!seen.has(ref.key)) {
        seen.add(ref.key);
        wanted.push(ref);
      }
    }
    const records = await ctx.store.getMany<ContainerInstanceRecord>(wanted.map((w) => w.key));
    const containerInstances: ContainerInstance[] = [];
    for (const [i, rec] of records.entries()) {
      if (rec) containerInstances.push(toContainerInstanceView(rec.value, include));
      else failures.push({ arn: wanted[i]!.arn, reason: 'MISSING' });
    }
    return { containerInstances, failures };
  },

  async ListContainerInstances(ctx, input) {
    const clusterRec = await findCluster(ctx, input.cluster);
    if (!clusterRec) throw clusterNotFound();
    const cluster = clusterRec.value.clusterName;
    const query: CompiledQuery | undefined =
      input.filter !== undefined && input.filter !== ''
        ? compileQueryParameter(input.filter, 'filter')
        : undefined;
    const status = input.status;
    const records = await ctx.store.list<ContainerInstanceRecord>(
      keys.containerInstancesOfCluster(ctx, cluster),
    );
    // Tasks are read only when the expression asks which groups run where.
    const tasksByInstance = query?.subjects.has('taskGroup')
      ? groupTasksByInstance(
          (await ctx.store.list<TaskRecord>(keys.tasksOfCluster(ctx, cluster))).map((r) => r.value),
        )
      : new Map<string, TaskRecord[]>();
    const matching = records
      .filter((r) => (status === undefined ? isRegistered(r.value.status) : r.value.status === status))
      .filter(
        (r) =>
          query === undefined ||
          query.test(
            placementInstanceFromRecord(r.value, tasksByInstance.get(r.value.containerInstanceArn) ?? []),
          ),
      )
      .map((r) => ({ key: r.key, item: r.value.containerInstanceArn }));
    const page = pageOf(matching, input.nextToken, input.maxResults);
    return page.nextToken === undefined
      ? { containerInstanceArns: page.items }
      : { containerInstanceArns: page.items, nextToken: page.nextToken };
  },

  async DeregisterContainerInstance(ctx, input) {
    const cluster = (await requireActiveCluster(ctx, input.cluster)).value.clusterName;
    const ref = resolveContainerInstanceRef(ctx, cluster, input.containerInstance);
    const notFound = () =>
      invalidParameter(
        `containerInstance: container instance ${ref.arn} was not found in cluster ${cluster}.`,
      );
    if (!ref.found) throw notFound();

    if (input.force !== true) {
      const tasks = await ctx.store.list<TaskRecord>(keys.tasksOfCluster(ctx, cluster));
      const running = tasks.filter(
        (t) => t.value.containerInstanceArn === ref.arn && t.value.desiredStatus === 'RUNNING',
      ).length;
      if (running > 0) {
        throw invalidParameter(
          `containerInstance: found ${running} running task(s) on container instance ${ref.arn}. ` +
            'Stop them first, or deregister with force to leave them running unmanaged.',
        );
      }
    }

    const record = await updateRecord<ContainerInstanceRecord>(ctx.store, ref.key, (cur) => {
      if (!cur) throw notFound();
      if (cur.status === 'INACTIVE') return undefined;
      return { ...cur, status: 'INACTIVE', agentConnected: false, version: (cur.version ?? 0) + 1 };
    });
    return { containerInstance: toContainerInstanceView(record!) };
  },

  async UpdateContainerInstancesState(ctx, input) {
    const cluster = (await requireActiveCluster(ctx, input.cluster)).value.clusterName;
    const desired = input.status;
    if (typeof desired !== 'string' || !isUpdatableStatus(desired)) {
      throw invalidParameter(
        `status: a container instance can only be set to ACTIVE or DRAINING; got ${String(desired)}.`,
      );
    }
    const refs = checkRefList(input.containerInstances, 'containerInstances', MAX_STATE_UPDATE_REFS);

    const containerInstances: ContainerInstance[] = [];
    const failures: Failure[] = [];
    const done = new Set<string>();
    for (const raw of refs) {
      const ref = resolveContainerInstanceRef(ctx, cluster, raw);
      if (!ref.found) {
        failures.push({ arn: ref.arn, reason: 'MISSING' });
        continue;
      }
      if (done.has(ref.key)) continue;
      done.add(ref.key);
      let refused: Failure | undefined;
      const record = await updateRecord<ContainerInstanceRecord>(ctx.store, ref.key, (cur) => {
        refused = undefined;
        if (!cur) return undefined;
        const plan = planStateUpdate(cur.status, desired);
        switch (plan.kind) {
          case 'unchanged':
            return undefined;
          case 'refused':
            refused = { arn: ref.arn, reason: plan.reason, detail: plan.detail };
            return undefined;
          case 'change':
            return { ...cur, status: desired, version: (cur.version ?? 0) + 1 };
          default: {
            const never: never = plan;
            throw new Error(`unhandled plan ${JSON.stringify(never)}`);
          }
        }
      });
      if (!record) failures.push({ arn: ref.arn, reason: 'MISSING' });
      else if (refused) failures.push(refused);
      else containerInstances.push(toContainerInstanceView(record));
    }
    return { containerInstances, failures };
  },
};
