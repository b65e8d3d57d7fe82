// The service scheduler as a controller: keeps every service's tasks what its deployments ask
// for. The decisions are pure (src/domain/service/reconcile.ts); this file reads the state, carries
// out the starts and stops against the store, and writes what it observed.
//
//   keys      a service's store key (`/<account>/<region>/services/<cluster>/<name>`), plus
//             `cluster:<account>/<region>/<cluster>`, whose sync only enqueues every live service
//             of the cluster (an instance joined, left, drained or lost its agent)
//   watches   services → their key; tasks of group `service:<name>` → their service's key;
//             container instances whose status or agent connection changed → the cluster key
//   sync      read service, its tasks (group service:<name>), the cluster's instances
//             → computeServiceStep → stop tasks (stopTask, stopCode ServiceSchedulerInitiated)
//             → place new ones (placeTasks: group service:<name>, startedBy the deployment or
//             task set id, tags propagated as the service says)
//             → re-read the tasks → fold the step and the counts into the service (status.ts)
//             → one compare-and-set transaction: the service and the history entries it changes
//
// Safe to run twice and to crash anywhere: tasks are the truth and every pass starts from them.
// A crash after placing and before the service write loses only the "has started" event; the
// next pass sees the tasks and starts no more. If the API changed the service meanwhile (its
// generation moved), only this pass's events and bookkeeping are written and the key runs again
// at once on the new definition.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { parseTaskDefinitionRef, type Scope } from '../domain/arn.js';
import type { Clock } from '../domain/clock.js';
import { isFargateProvider } from '../domain/capacity-provider/capacity-provider.js';
import type {
  CapacityProviderRecord,
  ContainerInstanceRecord,
  ServiceDeploymentRecord,
  ServiceRecord,
  TaskDefinitionRecord,
  TaskRecord,
} from '../domain/records.js';
import { startedTasksEvents, unableToPlaceEvent } from '../domain/service/events.js';
import { SERVICE_TASK_GROUP_PREFIX as SERVICE_GROUP } from '../domain/service/ids.js';
import { computeServiceStep, type ServiceAction } from '../domain/service/reconcile.js';
import { applyServiceStep, type HistoryChange } from '../domain/service/status.js';
import { DEFAULT_TASK_STABILITY_MS } from '../domain/service/task-state.js';
import { buildTaskRecord, computeTaskTags, type TaskHost } from '../domain/task/build-task.js';
import { launchTypeOfProvider } from '../domain/task/capacity.js';
import { resolveOverrides } from '../domain/task/overrides.js';
import { computeTaskReservation } from '../domain/task/resources.js';
import type { CapacityProviderStrategyItem, LaunchType, Tag } from '../generated/ecs/types.js';
import {
  placeTasks,
  stopTask,
  taskKeyFromArn,
  type InstancePlacement,
  type PlacedHost,
  type PlacementResult,
  type PlacementTarget,
} from '../control/tasks.js';
import { PlacementViews } from '../control/placement-views.js';
import type { ClusterView } from '../scheduler/cluster-view.js';
import { listAcrossScopes } from '../gateway/store-scan.js';
import {
  NO_PROVIDER_INSTANCES_REASON,
  instanceGroupOf,
  type InstanceGroup,
} from '../scheduler/capacity-provider-instances.js';
import { splitCapacity } from '../scheduler/capacity-split.js';
import {
  DEFAULT_SERVICE_STRATEGY,
  parsePlacementConstraints,
  parsePlacementStrategies,
} from '../scheduler/placement-spec.js';
import { gpuRequirements, requiredAttributesOf } from '../scheduler/task-request.js';
import { keys } from '../store/keys.js';
import type { Change, Compare, Op, Store } from '../store/store.js';
import type { Controller, SyncResult, WatchSpec } from './controller.js';

/** ECS-managed tag a service's tasks get with enableECSManagedTags, beside the cluster's. */
export const MANAGED_TAG_SERVICE = 'aws:ecs:serviceName';
/** Tasks that fitted nowhere are tried again this often (and on every instance change). */
export const DEFAULT_PLACEMENT_RETRY_MS = 10_000;
const CLUSTER_KEY_PREFIX = 'cluster:';
const MAX_WRITE_ATTEMPTS = 20;
/** ECS's reason when Fargate has no capacity (managed hosts refused the task). */
const FARGATE_CAPACITY_UNAVAILABLE =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

export interface ServiceControllerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** ControllerManager.enqueue: the cluster keys hand their services to the queue. */
  enqueue(controllerName: string, key: string, afterMs?: number): void;
  /** How long a task without health checks must run before it counts as healthy. */
  taskStabilityMs?: number;
  placementRetryMs?: number;
  /** Ids of new tasks, containers and events; random uuids unless a test injects them. */
  newId?: () => string;
}

interface ServiceKey {
  scope: Scope;
  cluster: string;
  name: string;
}

/** The parts of a service store key, or undefined for any other key. */
export function parseServiceKey(key: string): ServiceKey | undefined {
  const s = key.split('/');
  if (s.length !== 6 || s[0] !== '' || s[3] !== 'services' || s.some((p, i) => i > 0 && p === ''))
    return undefined;
  return { scope: { account: s[1]!, region: s[2]! }, cluster: s[4]!, name: s[5]! };
}

function parseTaskKey(key: string): { scope: Scope; cluster: string } | undefined {
  const s = key.split('/');
  if (s.length !== 6 || s[0] !== '' || s[3] !== 'tasks' || s.some((p, i) => i > 0 && p === ''))
    return undefined;
  return { scope: { account: s[1]!, region: s[2]! }, cluster: s[4]! };
}

function parseInstanceKey(key: string): { scope: Scope; cluster: string } | undefined {
  const s = key.split('/');
  if (
    s.length !== 6 ||
    s[0] !== '' ||
    s[3] !== 'container-instances' ||
    s.some((p, i) => i > 0 && p === '')
  ) {
    return undefined;
  }
  return { scope: { account: s[1]!, region: s[2]! }, cluster: s[4]! };
}

function clusterKey(scope: Scope, cluster: string): string {
  return `${CLUSTER_KEY_PREFIX}${scope.account}/${scope.region}/${cluster}`;
}

function idOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function taskHostOf(host: PlacedHost): TaskHost {
  const { id: _id, ...rest } = host;
  return rest;
}

/** What the deployment (or task set) a start is for says about its tasks. */
interface LaunchSpec {
  id: string;
  taskDefinition?: string;
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  networkConfiguration?: ServiceRecord['networkConfiguration'];
}

export class ServiceController implements Controller {
  readonly name = 'service';
  readonly watches: readonly WatchSpec[];
  private readonly log: Logger;
  private readonly stabilityMs: number;
  private readonly placementRetryMs: number;
  private readonly newId: () => string;
  /** Last status / agent connection seen per instance key: other instance writes (every placement) are not news. */
  private readonly instanceSeen = new Map<string, string>();

  constructor(private readonly deps: ServiceControllerDeps) {
    this.log = deps.log.child({ controller: this.name });
    this.stabilityMs = deps.taskStabilityMs ?? DEFAULT_TASK_STABILITY_MS;
    this.placementRetryMs = deps.placementRetryMs ?? DEFAULT_PLACEMENT_RETRY_MS;
    this.newId = deps.newId ?? randomUUID;
    // Services, tasks and instances are per account and region: no narrower prefix covers them.
    this.watches = [{ prefix: '/', keysOf: (c) => this.keysOf(c) }];
  }

  keysOf(c: Change): string[] {
    if (parseServiceKey(c.key)) return [c.key];
    const t = parseTaskKey(c.key);
    if (t) {
      const group = (c.value as TaskRecord | undefined)?.group;
      if (group === undefined || !group.startsWith(SERVICE_GROUP)) return [];
      return [keys.service(t.scope, t.cluster, group.slice(SERVICE_GROUP.length))];
    }
    const i = parseInstanceKey(c.key);
    if (i) {
      const v = c.value as ContainerInstanceRecord | undefined;
      const seen = v === undefined ? 'gone' : `${v.status ?? ''}/${String(v.agentConnected === true)}`;
      if (this.instanceSeen.get(c.key) === seen) return [];
      if (v === undefined) this.instanceSeen.delete(c.key);
      else this.instanceSeen.set(c.key, seen);
      return [clusterKey(i.scope, i.cluster)];
    }
    return [];
  }

  /** Every live (ACTIVE or DRAINING) service. */
  async listKeys(): Promise<string[]> {
    const all = await listAcrossScopes<ServiceRecord>(this.deps.store, 'services');
    return all.filter((r) => r.value.status === 'ACTIVE' || r.value.status === 'DRAINING').map((r) => r.key);
  }

  async sync(key: string): Promise<SyncResult | void> {
    if (key.startsWith(CLUSTER_KEY_PREFIX)) return this.syncCluster(key);
    const sk = parseServiceKey(key);
    if (!sk) return;
    return this.syncService(key, sk);
  }

  private async syncCluster(key: string): Promise<void> {
    const [account, region, cluster] = key.slice(CLUSTER_KEY_PREFIX.length).split('/');
    if (!account || !region || !cluster) return;
    const services = await this.deps.store.list<ServiceRecord>(
      keys.servicesOfCluster({ account, region }, cluster),
    );
    for (const s of services) {
      if (s.value.status === 'ACTIVE' || s.value.status === 'DRAINING') this.deps.enqueue(this.name, s.key);
    }
  }

  /**
   * The cluster's view (placement-views.ts): its instances, and which tasks are in each group,
   * with every write committed before the call applied, so a pass sees the tasks the one before
   * it started. Reading a service's tasks through it costs the service's tasks, not every task the
   * cluster still holds (stopped ones are kept an hour).
   */
  private clusterView(sk: ServiceKey): Promise<ClusterView<TaskRecord>> {
    return PlacementViews.of(this.deps.store).current(sk.scope, sk.cluster);
  }

  /** The service's tasks, in key order, as the view has them (it keeps service tasks' records). */
  private readTasks(sk: ServiceKey, view: ClusterView<TaskRecord>): TaskRecord[] {
    return view.recordsOfGroup(`${SERVICE_GROUP}${sk.name}`);
  }

  private async syncService(key: string, sk: ServiceKey): Promise<SyncResult | void> {
    const rec = await this.deps.store.get<ServiceRecord>(key);
    if (!rec || rec.value.status === 'INACTIVE') return;
    const service = rec.value;
    const view = await this.clusterView(sk);
    const tasks = this.readTasks(sk, view);
    // Every instance of the cluster, sorted by id (the order of the store's keys).
    const instances = view.snapshot().map((e) => e.record.value);
    const now = this.deps.clock.now();
    const step = computeServiceStep({ service, tasks, instances, now, taskStabilityMs: this.stabilityMs });

    let acted = false;
    for (const a of step.actions) {
      if (a.type !== 'stopTask') continue;
      const taskKey = taskKeyFromArn(a.taskArn);
      if (taskKey === undefined) continue;
      await stopTask(this.deps, taskKey, { stopCode: 'ServiceSchedulerInitiated', reason: a.reason });
      acted = true;
    }
    const extraEvents: string[] = [];
    let placementFailed = false;
    for (const a of step.actions) {
      if (a.type !== 'startTasks' && a.type !== 'startDaemonTasks') continue;
      const outcome = await this.start(sk, service, tasks, a);
      acted = true;
      extraEvents.push(...outcome.events);
      placementFailed ||= outcome.failed;
    }

    const tasksAfter = acted ? this.readTasks(sk, await this.clusterView(sk)) : tasks;
    await this.writeStatus(key, service, step.actions, extraEvents, tasksAfter, instances, now);

    const delays = [step.requeueAfterMs, placementFailed ? this.placementRetryMs : undefined].filter(
      (d): d is number => d !== undefined,
    );
    return delays.length > 0 ? { requeueAfterMs: Math.min(...delays) } : undefined;
  }

  /** Folds the step into the service and writes it with the history entries it changes (CAS on all). */
  private async writeStatus(
    key: string,
    seen: ServiceRecord,
    actions: readonly ServiceAction[],
    extraEvents: readonly string[],
    tasks: readonly TaskRecord[],
    instances: readonly ContainerInstanceRecord[],
    now: number,
  ): Promise<void> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const cur = await this.deps.store.get<ServiceRecord>(key);
      if (!cur || cur.value.status === 'INACTIVE') return;
      // Only the facts of this pass when the API redefined the service meanwhile: its decisions
      // were made on the old definition, and the key runs again (the change enqueued it).
      const sameDefinition = (cur.value.berth?.generation ?? 0) === (seen.berth?.generation ?? 0);
      const kept = sameDefinition
        ? actions
        : actions.filter((a) => a.type === 'event' || a.type === 'noteStops' || a.type === 'resetFailures');
      const { service, history } = applyServiceStep({
        service: cur.value,
        actions: kept,
        extraEvents,
        tasks,
        instances,
        now,
        newId: this.newId,
        taskStabilityMs: this.stabilityMs,
      });
      const compares: Compare[] = [{ key, version: cur.version }];
      const ops: Op[] = [];
      if (!isDeepStrictEqual(service, cur.value)) ops.push({ kind: 'put', key, value: service });
      ops.push(...(await this.historyOps(key, history, compares)));
      if (ops.length === 0) return;
      const r = await this.deps.store.txn(compares, ops);
      if (r.succeeded) {
        if (service.status === 'INACTIVE' && cur.value.status !== 'INACTIVE') {
          this.log.info({ service: service.serviceArn }, 'service drained: INACTIVE');
        }
        return;
      }
    }
    throw new Error(`service ${key}: the service record kept changing while writing its status`);
  }

  private async historyOps(
    serviceKey: string,
    changes: readonly HistoryChange[],
    compares: Compare[],
  ): Promise<Op[]> {
    const sk = parseServiceKey(serviceKey)!;
    const byKey = new Map<string, HistoryChange[]>();
    for (const c of changes) {
      const k = keys.serviceDeployment(sk.scope, sk.cluster, sk.name, idOfArn(c.serviceDeploymentArn));
      byKey.set(k, [...(byKey.get(k) ?? []), c]);
    }
    const ops: Op[] = [];
    for (const [k, list] of byKey) {
      const rec = await this.deps.store.get<ServiceDeploymentRecord>(k);
      if (!rec) continue;
      const next = list.reduce((v, c) => c.update(v), rec.value);
      if (isDeepStrictEqual(next, rec.value)) continue;
      compares.push({ key: k, version: rec.version });
      ops.push({ kind: 'put', key: k, value: next });
    }
    return ops;
  }

  // -------------------------------------------------------------------------------------------
  // Starting tasks

  private launchSpecOf(service: ServiceRecord, id: string): LaunchSpec | undefined {
    const d = service.deployments?.find((x) => x.id === id) ?? service.taskSets?.find((x) => x.id === id);
    if (!d) return undefined;
    const external = service.deploymentController?.type === 'EXTERNAL';
    // A task set without capacity of its own uses the service's.
    const launchType = d.launchType ?? (external ? service.launchType : undefined);
    const strategy = d.capacityProviderStrategy ?? (external ? service.capacityProviderStrategy : undefined);
    return {
      id,
      ...(d.taskDefinition !== undefined ? { taskDefinition: d.taskDefinition } : {}),
      ...(launchType !== undefined ? { launchType } : {}),
      ...(strategy !== undefined && strategy.length > 0 ? { capacityProviderStrategy: strategy } : {}),
      ...(d.networkConfiguration !== undefined ? { networkConfiguration: d.networkConfiguration } : {}),
    };
  }

  private async definitionOf(
    scope: Scope,
    arn: string | undefined,
  ): Promise<TaskDefinitionRecord | undefined> {
    const ref = arn !== undefined ? parseTaskDefinitionRef(arn) : undefined;
    if (!ref || ref.revision === undefined) return undefined;
    return (
      await this.deps.store.get<TaskDefinitionRecord>(keys.taskDefinition(scope, ref.family, ref.revision))
    )?.value;
  }

  private async instanceGroups(
    scope: Scope,
    providers: readonly string[],
  ): Promise<Map<string, InstanceGroup>> {
    const names = [...new Set(providers.filter((p) => !isFargateProvider(p)))];
    if (names.length === 0) return new Map();
    const recs = await this.deps.store.getMany<CapacityProviderRecord>(
      names.map((n) => keys.capacityProvider(scope, n)),
    );
    return new Map(names.map((n, i) => [n, recs[i] ? instanceGroupOf(recs[i].value) : { provider: n }]));
  }

  private tagsOf(service: ServiceRecord, td: TaskDefinitionRecord, cluster: string): Tag[] {
    const propagate = service.propagateTags;
    const tags = computeTaskTags({
      requested: propagate === 'SERVICE' ? service.tags : [],
      ...(propagate === 'TASK_DEFINITION' ? { propagateTags: 'TASK_DEFINITION' as const } : {}),
      definitionTags: td.tags ?? [],
      enableECSManagedTags: service.enableECSManagedTags === true,
      cluster,
    });
    if (service.enableECSManagedTags === true && !tags.some((t) => t.key === MANAGED_TAG_SERVICE)) {
      tags.push({ key: MANAGED_TAG_SERVICE, value: service.serviceName });
    }
    return tags;
  }

  /** Places the tasks a start action asks for; returns the events to write and whether some did not fit. */
  private async start(
    sk: ServiceKey,
    service: ServiceRecord,
    tasks: readonly TaskRecord[],
    action: Extract<ServiceAction, { type: 'startTasks' | 'startDaemonTasks' }>,
  ): Promise<{ events: string[]; failed: boolean }> {
    const spec = this.launchSpecOf(service, action.deploymentId);
    const td = await this.definitionOf(sk.scope, spec?.taskDefinition);
    if (!spec || !td) {
      this.log.warn(
        { service: service.serviceArn, deployment: action.deploymentId },
        'no task definition to start tasks with',
      );
      return {
        events: [
          `(service ${service.serviceName}) cannot start tasks for ${action.deploymentId}: its task definition ${spec?.taskDefinition ?? ''} is not stored any more.`,
        ],
        failed: true,
      };
    }
    const count = action.type === 'startTasks' ? action.count : action.containerInstanceArns.length;
    const strategy = spec.capacityProviderStrategy?.map((s) => ({
      capacityProvider: s.capacityProvider,
      weight: s.weight ?? 0,
      base: s.base ?? 0,
    }));
    let providers: (string | undefined)[] = Array.from({ length: count }, () => undefined);
    if (strategy && strategy.length > 0) {
      const running = new Map<string, number>();
      for (const t of tasks) {
        if (
          t.lastStatus === 'STOPPED' ||
          t.desiredStatus === 'STOPPED' ||
          t.capacityProviderName === undefined
        )
          continue;
        running.set(t.capacityProviderName, (running.get(t.capacityProviderName) ?? 0) + 1);
      }
      providers = splitCapacity(strategy, count, running);
    }
    const launchTypeAt = (i: number): LaunchType =>
      providers[i] !== undefined ? launchTypeOfProvider(providers[i]) : (spec.launchType ?? 'EC2');
    const launchType = launchTypeAt(0);
    const resolved = resolveOverrides(td, undefined, launchType);
    const reservation = computeTaskReservation({
      containers: resolved.containers,
      ...(resolved.cpu !== undefined ? { cpu: resolved.cpu } : {}),
      ...(resolved.memory !== undefined ? { memory: resolved.memory } : {}),
      ...(td.networkMode !== undefined ? { networkMode: td.networkMode } : {}),
      launchType,
    });
    const tags = this.tagsOf(service, td, sk.cluster);
    const awsvpc = spec.networkConfiguration?.awsvpcConfiguration;
    const group = `${SERVICE_GROUP}${sk.name}`;
    const now = this.deps.clock.now();
    const groups = await this.instanceGroups(
      sk.scope,
      providers.filter((p): p is string => p !== undefined),
    );
    const placement: InstancePlacement = {
      group,
      constraints: parsePlacementConstraints(service.placementConstraints, td.placementConstraints ?? []),
      strategies: parsePlacementStrategies(
        (service.placementStrategy?.length ?? 0) > 0 ? service.placementStrategy : DEFAULT_SERVICE_STRATEGY,
      ),
      requiredAttributes: requiredAttributesOf(td.requiresAttributes),
      gpus: gpuRequirements(resolved.containers),
      seed: `${service.serviceArn}/${now}`,
      ...(groups.size > 0
        ? {
            instanceGroupOf: (i: number) => {
              const p = providers[i];
              return p !== undefined ? groups.get(p) : undefined;
            },
          }
        : {}),
    };
    const build = (
      ids: { taskId: string; containerIds: string[]; attachmentId: string },
      i: number,
      host: PlacedHost,
    ) =>
      buildTaskRecord({
        scope: sk.scope,
        cluster: sk.cluster,
        ...ids,
        taskDefinition: td,
        resolved,
        launchType: launchTypeAt(i),
        ...(providers[i] !== undefined ? { capacityProviderName: providers[i] } : {}),
        group,
        startedBy: spec.id,
        tags,
        host: taskHostOf(host),
        ...(awsvpc ? { awsvpcConfiguration: awsvpc } : {}),
        reserved: reservation,
        now,
      });
    const newIds = () => ({
      taskId: this.newId().replace(/-/g, ''),
      containerIds: (td.containerDefinitions ?? []).map(() => this.newId()),
      attachmentId: this.newId(),
    });

    const results: PlacementResult[] = [];
    const targets: { target: PlacementTarget; count: number }[] =
      action.type === 'startDaemonTasks'
        ? action.containerInstanceArns.map((arn) => ({
            target: { kind: 'instances', scope: sk.scope, cluster: sk.cluster, instanceIds: [idOfArn(arn)] },
            count: 1,
          }))
        : [
            {
              target:
                launchType === 'FARGATE'
                  ? { kind: 'managed' }
                  : { kind: 'instances', scope: sk.scope, cluster: sk.cluster },
              count,
            },
          ];
    for (const t of targets) {
      const ids = Array.from({ length: t.count }, newIds);
      results.push(
        await placeTasks(this.deps, {
          target: t.target,
          count: t.count,
          reservation,
          taskKey: (i) => keys.task(sk.scope, sk.cluster, ids[i]!.taskId),
          buildTask: (i, host) => build(ids[i]!, i, host),
          ...(t.target.kind === 'instances' ? { placement } : {}),
        }),
      );
    }
    const placed = results.flatMap((r) => r.tasks.map((x) => x.taskArn));
    const events = startedTasksEvents(service.serviceName, placed);
    const failure = results.find(
      (r) =>
        r.noHosts ||
        (r.unplaced ?? 0) > 0 ||
        r.rejections.length > 0 ||
        (r.providersWithoutInstances?.length ?? 0) > 0,
    );
    if (failure) events.push(this.placementEvent(service.serviceName, failure));
    if (placed.length > 0) {
      this.log.info(
        { service: service.serviceArn, deployment: spec.id, started: placed.length },
        'service tasks started',
      );
    }
    return { events, failed: failure !== undefined };
  }

  private placementEvent(service: string, r: PlacementResult): string {
    if (r.noHosts)
      return unableToPlaceEvent(service, 'Reason: No Container Instances were found in your cluster.');
    if ((r.providersWithoutInstances?.length ?? 0) > 0) {
      return unableToPlaceEvent(service, `Reason: ${NO_PROVIDER_INSTANCES_REASON}`);
    }
    const closest = r.failure?.closest;
    if (closest)
      return unableToPlaceEvent(
        service,
        `The closest matching (container-instance ${closest.instanceId}) ${closest.detail}`,
      );
    const managed = r.rejections.find((x) => x.host.kind === 'managed');
    if (managed) return unableToPlaceEvent(service, `Reason: ${FARGATE_CAPACITY_UNAVAILABLE}.`);
    const first = r.rejections[0];
    return unableToPlaceEvent(service, first ? `Reason: ${first.reason}.` : 'Reason: no capacity.');
  }
}
