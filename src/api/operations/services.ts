// Service operations: CreateService, UpdateService, DeleteService, DescribeServices,
// ListServices, and the deployment history: ListServiceDeployments, DescribeServiceDeployments,
// DescribeServiceRevisions, StopServiceDeployment. These write what a service should be; the
// service scheduler (src/controllers/service-controller.ts, rules in src/domain/service/) starts
// and stops its tasks and writes what it observes (counts, deployments' rollout, events).
//
// Choices a reader should know:
// - CreateService of a name that is ACTIVE with the very same request answers that service (ECS is
//   idempotent there); any other request for a live (ACTIVE or DRAINING) name is
//   InvalidParameterException "Creation of service was not idempotent.". An INACTIVE service's
//   name is free again; its deployment history stays stored but belongs to the old service.
// - desiredCount is required for REPLICA services (ECS: "required if schedulingStrategy is REPLICA
//   or isn't specified"); DAEMON services take none, their desiredCount is the number of ACTIVE
//   container instances.
// - Capacity as RunTask: launchType, else capacityProviderStrategy, else the cluster's default
//   strategy (stored on the service, as ECS shows it), else EC2. FARGATE services show
//   platformVersion LATEST and platformFamily Linux.
// - placementConstraints / placementStrategy are checked and stored as given (the scheduler
//   places with them); FARGATE refuses them, DAEMON refuses strategies.
// - A new deployment (ecs-svc/<19 digits>) starts on CreateService and on every UpdateService
//   that changes what a task is or where it goes, or asks forceNewDeployment (the rule is in
//   src/domain/service/deployment.ts); each has a history entry (ServiceDeployment) and a
//   revision (ServiceRevision), stored outside the service record.
// - EXTERNAL services run task sets (task-sets.ts): their taskDefinition and network
//   configuration are per task set, so CreateService / UpdateService refuse them there.
// - DeleteService: REPLICA services must be scaled to 0 unless `force`; the service becomes
//   DRAINING with desiredCount 0, the scheduler stops its tasks and then marks it INACTIVE.
//   DescribeServices keeps answering INACTIVE services; ListServices lists ACTIVE ones only.
// - StopServiceDeployment supports ROLLBACK (ECS's only valid value) of the PRIMARY deployment
//   while it is IN_PROGRESS; the scheduler performs it.
import { clusterArn, parseArn, serviceArn } from '../../domain/arn.js';
import { launchTypeOfProvider } from '../../domain/task/capacity.js';
import {
  checkStrategyAssociated,
  normalizeStrategy,
  type StrategyItem,
} from '../../domain/capacity-provider/strategy.js';
import { isLiveService } from '../../domain/cluster/activity.js';
import { toEpochSeconds } from '../../domain/clock.js';
import { EcsError, clientError, clusterNotFound, invalidParameter } from '../../domain/errors.js';
import type {
  ClusterRecord,
  ContainerInstanceRecord,
  ServiceDeploymentInternals,
  ServiceDeploymentRecord,
  ServiceRecord,
  ServiceRevisionRecord,
  TaskDefinitionRecord,
} from '../../domain/records.js';
import {
  buildDeployment,
  buildServiceDeploymentRecord,
  buildServiceRevision,
  historyStopped,
  needsNewDeployment,
  sourceRevisions,
  specOf,
  withNewPrimary,
  type DeploymentSpec,
} from '../../domain/service/deployment.js';
import {
  deploymentIdFromSeed,
  serviceDeploymentArn,
  serviceDeploymentIdFromSeed,
  serviceRevisionArn,
  serviceRevisionIdFromSeed,
} from '../../domain/service/ids.js';
import { hasEssentialHealthCheck } from '../../domain/service/task-state.js';
import {
  MAX_DESCRIBE_SERVICES,
  MAX_SERVICES_PER_CLUSTER,
  checkDaemonRequest,
  checkUnsupportedServiceFeatures,
  resolveDeploymentConfiguration,
  validateDeploymentController,
  validateDesiredCount,
  validateHealthCheckGracePeriod,
  validateServiceName,
} from '../../domain/service/validate.js';
import {
  toServiceDeploymentBrief,
  toServiceDeploymentView,
  toServiceRevisionView,
  toServiceView,
} from '../../domain/service/view.js';
import { validateTags } from '../../domain/tags.js';
import {
  checkLaunchTypeCompatible,
  checkPlatformVersion,
  resolveAwsvpcConfiguration,
} from '../../domain/task/launch.js';
import type {
  CapacityProviderStrategyItem,
  CreateServiceRequest,
  Failure,
  LaunchType,
  NetworkConfiguration,
  PlacementConstraint,
  PlacementStrategy,
  SchedulingStrategy,
  Service,
  ServiceDeployment,
  ServiceRevision,
  UpdateServiceRequest,
} from '../../generated/ecs/types.js';
import { parsePlacementConstraints, parsePlacementStrategies } from '../../scheduler/placement-spec.js';
import { keys } from '../../store/keys.js';
import type { Op, StoredRecord } from '../../store/store.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { decodeToken, encodeToken, pageSize } from '../pagination.js';
import { clusterScopedId, findCluster, requireActiveCluster } from '../resolve.js';
import { requestFingerprint } from '../idempotency.js';
import { checkTagLimit } from './tags.js';
import { findTaskDefinition } from './task-definitions.js';

export const NOT_IDEMPOTENT_MESSAGE = 'Creation of service was not idempotent.';
export const SERVICE_NOT_FOUND_MESSAGE = 'Service not found.';
export const SERVICE_NOT_ACTIVE_MESSAGE = 'Service was not ACTIVE.';
export const SCALED_ABOVE_ZERO_MESSAGE = 'The service cannot be stopped while it is scaled above 0.';
export const LIST_SERVICES_DEFAULT_PAGE = 10;
export const LIST_SERVICE_DEPLOYMENTS_DEFAULT_PAGE = 20;
export const MAX_DESCRIBE_SERVICE_DEPLOYMENTS = 20;
/** Attempts at a compare-and-set write that keeps losing to other writers of the same service. */
const MAX_WRITE_ATTEMPTS = 20;

const SERVICE_NAME_SEGMENT = /^[A-Za-z0-9_-]{1,255}$/;

export const serviceNotFound = (): EcsError =>
  new EcsError('ServiceNotFoundException', SERVICE_NOT_FOUND_MESSAGE);
export const serviceNotActive = (): EcsError =>
  new EcsError('ServiceNotActiveException', SERVICE_NOT_ACTIVE_MESSAGE);

// ---------------------------------------------------------------------------------------------
// References and reads shared with task-sets.ts

export type ServiceRef =
  { found: true; name: string; arn: string; key: string } | { found: false; arn: string };

/**
 * A service reference (name, `service/<cluster>/<name>` or old `service/<name>` ARN) in `cluster`.
 * Not found: an ARN of another cluster, account or region, or a malformed name; `arn` is what a
 * MISSING failure reports.
 */
export function resolveServiceRef(ctx: RequestContext, cluster: string, ref: unknown): ServiceRef {
  if (typeof ref !== 'string') return { found: false, arn: String(ref) };
  const name = clusterScopedId(ctx, cluster, ref, 'service', SERVICE_NAME_SEGMENT);
  if (name === undefined) return { found: false, arn: ref };
  return { found: true, name, arn: serviceArn(ctx, cluster, name), key: keys.service(ctx, cluster, name) };
}

/** The stored service (any status) in an existing cluster; ClusterNotFound / ServiceNotFound otherwise. */
export async function requireService(
  ctx: RequestContext,
  clusterRef: string | undefined,
  ref: unknown,
  opts: { activeCluster: boolean },
): Promise<{ cluster: ClusterRecord; record: StoredRecord<ServiceRecord> }> {
  const clusterRec = opts.activeCluster
    ? await requireActiveCluster(ctx, clusterRef)
    : await findCluster(ctx, clusterRef);
  if (!clusterRec) throw clusterNotFound();
  if (ref === undefined || ref === '') throw invalidParameter('service is required.');
  const r = resolveServiceRef(ctx, clusterRec.value.clusterName, ref);
  if (!r.found) throw serviceNotFound();
  const record = await ctx.store.get<ServiceRecord>(r.key);
  if (!record) throw serviceNotFound();
  return { cluster: clusterRec.value, record };
}

/** The task definition a deployment may start: ClientException as RunTask when missing or INACTIVE. */
export async function requireStartableDefinition(
  ctx: RequestContext,
  ref: string,
): Promise<TaskDefinitionRecord> {
  if (typeof ref !== 'string' || ref === '') throw invalidParameter('taskDefinition cannot be empty.');
  const found = await findTaskDefinition(ctx, ref);
  if (!found) throw clientError('TaskDefinition not found.');
  if (found.value.status !== 'ACTIVE') throw clientError('TaskDefinition is inactive');
  return found.value;
}

/** A stored task definition by ARN, whatever its status (what a running deployment uses). */
export async function definitionByArn(
  ctx: RequestContext,
  arn: string | undefined,
): Promise<TaskDefinitionRecord | undefined> {
  if (arn === undefined) return undefined;
  return (await findTaskDefinition(ctx, arn))?.value;
}

/** The capacity a service (or task set) runs on: a launch type, or a capacity provider strategy. */
export interface ServiceCapacity {
  launchType?: LaunchType;
  capacityProviderStrategy?: StrategyItem[];
  /** The launch type the tasks get (a strategy's providers are all of one kind). */
  effective: LaunchType;
}

export function resolveCapacity(
  input: { launchType?: LaunchType; capacityProviderStrategy?: CapacityProviderStrategyItem[] },
  cluster: ClusterRecord,
  fallback?: { launchType?: LaunchType; capacityProviderStrategy?: CapacityProviderStrategyItem[] },
): ServiceCapacity {
  const strategy = input.capacityProviderStrategy ?? [];
  if (input.launchType !== undefined && strategy.length > 0) {
    throw invalidParameter(
      'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.',
    );
  }
  if (input.launchType !== undefined) return { launchType: input.launchType, effective: input.launchType };
  if (strategy.length > 0) {
    const items = normalizeStrategy(strategy, 'capacityProviderStrategy');
    checkStrategyAssociated(items, cluster.capacityProviders ?? []);
    return { capacityProviderStrategy: items, effective: launchTypeOfProvider(items[0]!.capacityProvider) };
  }
  if (
    fallback &&
    (fallback.launchType !== undefined || (fallback.capacityProviderStrategy?.length ?? 0) > 0)
  ) {
    return resolveCapacity(fallback, cluster);
  }
  const def = cluster.defaultCapacityProviderStrategy ?? [];
  if (def.length > 0) {
    const items = normalizeStrategy(def, 'defaultCapacityProviderStrategy');
    return { capacityProviderStrategy: items, effective: launchTypeOfProvider(items[0]!.capacityProvider) };
  }
  return { launchType: 'EC2', effective: 'EC2' };
}

export function checkPlacementSettings(
  input: { placementConstraints?: PlacementConstraint[]; placementStrategy?: PlacementStrategy[] },
  td: TaskDefinitionRecord,
  launchType: LaunchType,
): void {
  if (launchType === 'FARGATE') {
    for (const member of ['placementConstraints', 'placementStrategy'] as const) {
      if ((input[member]?.length ?? 0) > 0) {
        throw invalidParameter(
          `${member} is not supported for tasks on FARGATE: Fargate capacity places tasks itself.`,
        );
      }
    }
    return;
  }
  parsePlacementConstraints(input.placementConstraints, td.placementConstraints ?? []);
  parsePlacementStrategies(input.placementStrategy);
}

/** What the deployment's tasks run: the task definition, capacity, platform and network. */
export function deploymentSpecOf(
  td: TaskDefinitionRecord,
  capacity: ServiceCapacity,
  platformVersion: string | undefined,
  network: NetworkConfiguration | undefined,
): DeploymentSpec {
  const fargate = capacity.effective === 'FARGATE';
  return {
    taskDefinition: td.taskDefinitionArn,
    ...(capacity.launchType !== undefined ? { launchType: capacity.launchType } : {}),
    ...(capacity.capacityProviderStrategy !== undefined
      ? { capacityProviderStrategy: capacity.capacityProviderStrategy.map((s) => ({ ...s })) }
      : {}),
    ...(fargate ? { platformVersion: platformVersion ?? 'LATEST', platformFamily: 'Linux' } : {}),
    ...(network !== undefined ? { networkConfiguration: network } : {}),
  };
}

function networkOf(
  td: TaskDefinitionRecord,
  config: NetworkConfiguration | undefined,
  launchType: LaunchType,
): NetworkConfiguration | undefined {
  const awsvpc = resolveAwsvpcConfiguration(td, config, launchType);
  return awsvpc ? { awsvpcConfiguration: awsvpc } : undefined;
}

/** Identifies a CreateService request for idempotency: every member but the client token. */
export function createServiceFingerprint(input: CreateServiceRequest): string {
  return requestFingerprint(input);
}

/** The new deployment's ids, history entry and revision, and its internals. */
function newDeploymentRecords(
  ctx: RequestContext,
  cluster: string,
  service: Pick<
    ServiceRecord,
    'serviceName' | 'serviceArn' | 'clusterArn' | 'createdAt' | 'deploymentConfiguration'
  >,
  spec: DeploymentSpec,
  td: TaskDefinitionRecord,
  desiredCount: number,
  sources: ReturnType<typeof sourceRevisions>,
  now: number,
) {
  const id = deploymentIdFromSeed(ctx.newId());
  const historyArn = serviceDeploymentArn(
    ctx,
    cluster,
    service.serviceName,
    serviceDeploymentIdFromSeed(ctx.newId()),
  );
  const revisionId = serviceRevisionIdFromSeed(ctx.newId());
  const revisionArn = serviceRevisionArn(ctx, cluster, service.serviceName, revisionId);
  const deployment = buildDeployment({ id, spec, desiredCount, now });
  const internals: ServiceDeploymentInternals = {
    healthChecked: hasEssentialHealthCheck(td.containerDefinitions),
    serviceDeploymentArn: historyArn,
    serviceRevisionArn: revisionArn,
  };
  const history = buildServiceDeploymentRecord({
    arn: historyArn,
    service,
    deployment: { ...deployment, id },
    targetRevisionArn: revisionArn,
    sources,
    now,
  });
  const revision = buildServiceRevision({ arn: revisionArn, service, spec, taskDefinition: td, now });
  const historyKey = keys.serviceDeployment(
    ctx,
    cluster,
    service.serviceName,
    historyArn.slice(historyArn.lastIndexOf('/') + 1),
  );
  const revisionKey = keys.serviceRevision(ctx, cluster, service.serviceName, revisionId);
  return { id, deployment, internals, history, historyKey, revision, revisionKey };
}

/** Store key of a history entry from its ARN (`service-deployment/<cluster>/<service>/<id>`), if it is one of ours. */
function historyKeyOfArn(ctx: RequestContext, arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const p = parseArn(arn);
  if (!p || p.service !== 'ecs' || p.resourceType !== 'service-deployment' || p.parts.length !== 3)
    return undefined;
  if (p.account !== ctx.account || p.region !== ctx.region) return undefined;
  const [cluster, service, id] = p.parts as [string, string, string];
  if (![cluster, service, id].every((x) => /^[A-Za-z0-9_-]+$/.test(x))) return undefined;
  return keys.serviceDeployment(ctx, cluster, service, id);
}

function revisionKeyOfArn(ctx: RequestContext, arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const p = parseArn(arn);
  if (!p || p.service !== 'ecs' || p.resourceType !== 'service-revision' || p.parts.length !== 3)
    return undefined;
  if (p.account !== ctx.account || p.region !== ctx.region) return undefined;
  const [cluster, service, id] = p.parts as [string, string, string];
  if (![cluster, service, id].every((x) => /^[A-Za-z0-9_-]+$/.test(x))) return undefined;
  return keys.serviceRevision(ctx, cluster, service, id);
}

function checkSchedulingStrategy(s: string | undefined): SchedulingStrategy {
  const v = s ?? 'REPLICA';
  if (v !== 'REPLICA' && v !== 'DAEMON') {
    throw invalidParameter(`schedulingStrategy must be REPLICA or DAEMON; got '${v}'.`);
  }
  return v;
}

async function activeInstanceCount(ctx: RequestContext, cluster: string): Promise<number> {
  const recs = await ctx.store.list<ContainerInstanceRecord>(keys.containerInstancesOfCluster(ctx, cluster));
  return recs.filter((r) => r.value.status === 'ACTIVE').length;
}

// ---------------------------------------------------------------------------------------------
// CreateService

async function createService(
  ctx: RequestContext,
  input: CreateServiceRequest,
): Promise<{ service: Service }> {
  const clusterRec = (await requireActiveCluster(ctx, input.cluster)).value;
  const cluster = clusterRec.clusterName;
  const name = validateServiceName(input.serviceName);
  const controller = validateDeploymentController(input.deploymentController?.type);
  const strategy = checkSchedulingStrategy(input.schedulingStrategy);
  checkUnsupportedServiceFeatures(input);
  if (strategy === 'DAEMON') {
    checkDaemonRequest({
      ...(input.desiredCount !== undefined ? { desiredCount: input.desiredCount } : {}),
      ...(input.placementStrategy !== undefined ? { placementStrategy: input.placementStrategy } : {}),
      ...(input.launchType !== undefined ? { launchType: input.launchType } : {}),
      ...(input.capacityProviderStrategy !== undefined
        ? { capacityProviderStrategy: input.capacityProviderStrategy }
        : {}),
      deploymentController: controller,
    });
  } else if (input.desiredCount === undefined) {
    throw invalidParameter('desiredCount is required for a service with the REPLICA scheduling strategy.');
  }
  const external = controller === 'EXTERNAL';
  if (external) {
    for (const member of ['taskDefinition', 'networkConfiguration', 'platformVersion'] as const) {
      if (input[member] !== undefined) {
        throw invalidParameter(
          `${member} is set per task set (CreateTaskSet) for a service with the EXTERNAL deployment controller.`,
        );
      }
    }
  } else if (input.taskDefinition === undefined || input.taskDefinition === '') {
    throw invalidParameter('taskDefinition is required for a service with the ECS deployment controller.');
  }
  validateTags(input.tags);
  checkTagLimit(input.tags ?? []);
  if (input.healthCheckGracePeriodSeconds !== undefined)
    validateHealthCheckGracePeriod(input.healthCheckGracePeriodSeconds);
  const deploymentConfiguration = resolveDeploymentConfiguration(input.deploymentConfiguration, {
    schedulingStrategy: strategy,
    deploymentController: controller,
  });
  const capacity = resolveCapacity(input, clusterRec);
  const td = external ? undefined : await requireStartableDefinition(ctx, input.taskDefinition!);
  if (td) {
    checkLaunchTypeCompatible(td, capacity.effective);
    checkPlatformVersion(input.platformVersion, capacity.effective);
    checkPlacementSettings(input, td, capacity.effective);
  } else if (
    capacity.effective === 'FARGATE' &&
    ((input.placementConstraints?.length ?? 0) > 0 || (input.placementStrategy?.length ?? 0) > 0)
  ) {
    throw invalidParameter(
      'placementConstraints and placementStrategy are not supported for tasks on FARGATE: Fargate capacity places tasks itself.',
    );
  } else {
    parsePlacementStrategies(input.placementStrategy);
    parsePlacementConstraints(input.placementConstraints);
  }
  const network = td ? networkOf(td, input.networkConfiguration, capacity.effective) : undefined;
  const fingerprint = createServiceFingerprint(input);
  const key = keys.service(ctx, cluster, name);

  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const existing = await ctx.store.get<ServiceRecord>(key);
    if (existing && isLiveService(existing.value)) {
      if (existing.value.status === 'ACTIVE' && existing.value.berth?.createFingerprint === fingerprint) {
        return { service: toServiceView(existing.value, true) };
      }
      throw invalidParameter(NOT_IDEMPOTENT_MESSAGE);
    }
    const live = (await ctx.store.list<ServiceRecord>(keys.servicesOfCluster(ctx, cluster))).filter((r) =>
      isLiveService(r.value),
    );
    if (live.length >= MAX_SERVICES_PER_CLUSTER) {
      throw invalidParameter(
        `Cluster ${cluster} already has ${live.length} services; a cluster can have at most ${MAX_SERVICES_PER_CLUSTER}.`,
      );
    }
    const now = ctx.clock.now();
    const at = toEpochSeconds(now);
    const desiredCount =
      strategy === 'DAEMON'
        ? await activeInstanceCount(ctx, cluster)
        : validateDesiredCount(input.desiredCount);
    const spec = td ? deploymentSpecOf(td, capacity, input.platformVersion, network) : undefined;
    const base: ServiceRecord = {
      serviceArn: serviceArn(ctx, cluster, name),
      serviceName: name,
      clusterArn: clusterArn(ctx, cluster),
      loadBalancers: [],
      serviceRegistries: [],
      status: 'ACTIVE',
      desiredCount,
      runningCount: 0,
      pendingCount: 0,
      ...(capacity.launchType !== undefined ? { launchType: capacity.launchType } : {}),
      ...(capacity.capacityProviderStrategy !== undefined
        ? { capacityProviderStrategy: capacity.capacityProviderStrategy.map((s) => ({ ...s })) }
        : {}),
      ...(spec?.platformVersion !== undefined ? { platformVersion: spec.platformVersion } : {}),
      ...(spec?.platformFamily !== undefined ? { platformFamily: spec.platformFamily } : {}),
      ...(td ? { taskDefinition: td.taskDefinitionArn } : {}),
      deploymentConfiguration,
      deployments: [],
      ...(external ? { taskSets: [] } : {}),
      events: [],
      createdAt: at,
      placementConstraints: structuredClone(input.placementConstraints ?? []),
      placementStrategy: structuredClone(input.placementStrategy ?? []),
      ...(network !== undefined ? { networkConfiguration: network } : {}),
      ...(input.healthCheckGracePeriodSeconds !== undefined
        ? { healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds }
        : {}),
      schedulingStrategy: strategy,
      deploymentController: { type: controller },
      createdBy: ctx.principalArn,
      enableECSManagedTags: input.enableECSManagedTags === true,
      propagateTags: input.propagateTags ?? 'NONE',
      enableExecuteCommand: false,
      ...(input.availabilityZoneRebalancing !== undefined
        ? { availabilityZoneRebalancing: input.availabilityZoneRebalancing }
        : {}),
      tags: (input.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
      berth: {
        generation: 1,
        createFingerprint: fingerprint,
        deployments: {},
        steady: false,
        stopsSeen: { at, taskIds: [] },
      },
    };
    const ops: Op[] = [];
    if (td && spec) {
      const d = newDeploymentRecords(ctx, cluster, base, spec, td, desiredCount, [], now);
      base.deployments = [d.deployment];
      base.berth!.deployments[d.id] = d.internals;
      base.currentServiceDeployment = d.history.serviceDeploymentArn;
      base.currentServiceRevisions = [
        {
          arn: d.revision.serviceRevisionArn,
          requestedTaskCount: desiredCount,
          runningTaskCount: 0,
          pendingTaskCount: 0,
        },
      ];
      ops.push(
        { kind: 'put', key: d.historyKey, value: d.history },
        { kind: 'put', key: d.revisionKey, value: d.revision },
      );
    }
    ops.unshift({ kind: 'put', key, value: base });
    const r = await ctx.store.txn([{ key, version: existing?.version ?? 0 }], ops);
    if (r.succeeded) {
      ctx.log.info({ cluster, service: name, desiredCount, strategy, controller }, 'CreateService');
      return { service: toServiceView(base, true) };
    }
  }
  throw new EcsError(
    'ServerException',
    `CreateService ${name}: the service record kept changing; try again.`,
  );
}

// ---------------------------------------------------------------------------------------------
// UpdateService

/** Applies an UpdateService request to the stored service; pure apart from the reads it is given. */
async function updateService(
  ctx: RequestContext,
  input: UpdateServiceRequest,
): Promise<{ service: Service }> {
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const { cluster: clusterRec, record } = await requireService(ctx, input.cluster, input.service, {
      activeCluster: true,
    });
    const cur = record.value;
    if (cur.status !== 'ACTIVE') throw serviceNotActive();
    const cluster = clusterRec.clusterName;
    const controller = cur.deploymentController?.type ?? 'ECS';
    const strategy = cur.schedulingStrategy ?? 'REPLICA';
    if (input.deploymentController !== undefined && input.deploymentController.type !== controller) {
      throw invalidParameter(
        `Updating the deployment controller (from ${controller} to ${input.deploymentController.type}) is not supported by Berth; create a new service.`,
      );
    }
    checkUnsupportedServiceFeatures(input);
    if (strategy === 'DAEMON') {
      checkDaemonRequest({
        ...(input.desiredCount !== undefined ? { desiredCount: input.desiredCount } : {}),
        ...(input.placementStrategy !== undefined ? { placementStrategy: input.placementStrategy } : {}),
        ...(input.capacityProviderStrategy !== undefined
          ? { capacityProviderStrategy: input.capacityProviderStrategy }
          : {}),
      });
    }
    const external = controller === 'EXTERNAL';
    if (external) {
      for (const member of [
        'taskDefinition',
        'networkConfiguration',
        'platformVersion',
        'capacityProviderStrategy',
      ] as const) {
        if (input[member] !== undefined) {
          throw invalidParameter(
            `${member} is set per task set (CreateTaskSet) for a service with the EXTERNAL deployment controller.`,
          );
        }
      }
      if (input.forceNewDeployment === true) {
        throw invalidParameter(
          'forceNewDeployment is not supported for a service with the EXTERNAL deployment controller; create a task set.',
        );
      }
    }
    const desiredCount =
      input.desiredCount !== undefined ? validateDesiredCount(input.desiredCount) : (cur.desiredCount ?? 0);
    if (input.healthCheckGracePeriodSeconds !== undefined)
      validateHealthCheckGracePeriod(input.healthCheckGracePeriodSeconds);
    const deploymentConfiguration = resolveDeploymentConfiguration(input.deploymentConfiguration, {
      schedulingStrategy: strategy,
      deploymentController: controller,
      ...(cur.deploymentConfiguration !== undefined ? { current: cur.deploymentConfiguration } : {}),
    });
    const placementConstraints = input.placementConstraints ?? cur.placementConstraints ?? [];
    const placementStrategy = input.placementStrategy ?? cur.placementStrategy ?? [];

    const now = ctx.clock.now();
    const next: ServiceRecord = structuredClone(cur);
    const berth = next.berth ?? { generation: 0, createFingerprint: '', deployments: {} };
    next.berth = berth;
    const ops: Op[] = [];
    const compares = [{ key: record.key, version: record.version }];

    if (!external) {
      const primary = (cur.deployments ?? []).find((d) => d.status === 'PRIMARY');
      const td =
        input.taskDefinition !== undefined
          ? await requireStartableDefinition(ctx, input.taskDefinition)
          : await definitionByArn(ctx, primary?.taskDefinition ?? cur.taskDefinition);
      if (!td) throw clientError('TaskDefinition not found.');
      const capacity =
        input.capacityProviderStrategy !== undefined
          ? resolveCapacity({ capacityProviderStrategy: input.capacityProviderStrategy }, clusterRec)
          : resolveCapacity(
              {
                ...(cur.launchType !== undefined ? { launchType: cur.launchType } : {}),
                ...(cur.capacityProviderStrategy !== undefined
                  ? { capacityProviderStrategy: cur.capacityProviderStrategy }
                  : {}),
              },
              clusterRec,
            );
      if (input.taskDefinition !== undefined || input.capacityProviderStrategy !== undefined) {
        checkLaunchTypeCompatible(td, capacity.effective);
      }
      const platformVersion =
        capacity.effective === 'FARGATE'
          ? (input.platformVersion ?? cur.platformVersion)
          : input.platformVersion;
      checkPlatformVersion(platformVersion, capacity.effective);
      checkPlacementSettings({ placementConstraints, placementStrategy }, td, capacity.effective);
      const network = networkOf(
        td,
        input.networkConfiguration ?? cur.networkConfiguration,
        capacity.effective,
      );
      const spec = deploymentSpecOf(td, capacity, platformVersion, network);
      const before = {
        spec: primary ? specOf(primary) : specOf(cur),
        placement: {
          placementConstraints: cur.placementConstraints ?? [],
          placementStrategy: cur.placementStrategy ?? [],
        },
      };
      const startNew =
        input.forceNewDeployment === true ||
        needsNewDeployment(before, { spec, placement: { placementConstraints, placementStrategy } });

      next.taskDefinition = td.taskDefinitionArn;
      delete next.launchType;
      delete next.capacityProviderStrategy;
      delete next.platformVersion;
      delete next.platformFamily;
      delete next.networkConfiguration;
      if (spec.launchType !== undefined) next.launchType = spec.launchType;
      if (spec.capacityProviderStrategy !== undefined)
        next.capacityProviderStrategy = spec.capacityProviderStrategy;
      if (spec.platformVersion !== undefined) next.platformVersion = spec.platformVersion;
      if (spec.platformFamily !== undefined) next.platformFamily = spec.platformFamily;
      if (spec.networkConfiguration !== undefined) next.networkConfiguration = spec.networkConfiguration;

      if (startNew) {
        const sources = sourceRevisions(cur.deployments ?? [], berth.deployments);
        const serviceForHistory = { ...next, deploymentConfiguration };
        const d = newDeploymentRecords(ctx, cluster, serviceForHistory, spec, td, desiredCount, sources, now);
        next.deployments = withNewPrimary(cur.deployments ?? [], d.deployment, now);
        berth.deployments[d.id] = d.internals;
        delete berth.rollbackRequested;
        next.currentServiceDeployment = d.history.serviceDeploymentArn;
        ops.push(
          { kind: 'put', key: d.historyKey, value: d.history },
          { kind: 'put', key: d.revisionKey, value: d.revision },
        );
        // The deployment this one supersedes stops where it is (its tasks drain with the new rollout).
        const oldArn =
          primary?.id !== undefined ? berth.deployments[primary.id]?.serviceDeploymentArn : undefined;
        const oldKey = historyKeyOfArn(ctx, oldArn);
        if (oldKey !== undefined) {
          const old = await ctx.store.get<ServiceDeploymentRecord>(oldKey);
          if (old) {
            const stopped = historyStopped(
              old.value,
              `Superseded by service deployment ${d.history.serviceDeploymentArn}.`,
              now,
            );
            if (stopped !== old.value) {
              compares.push({ key: oldKey, version: old.version });
              ops.push({ kind: 'put', key: oldKey, value: stopped });
            }
          }
        }
      }
    }

    next.desiredCount = strategy === 'DAEMON' ? (cur.desiredCount ?? 0) : desiredCount;
    const primaryNow = (next.deployments ?? []).find((d) => d.status === 'PRIMARY');
    if (primaryNow && strategy !== 'DAEMON') primaryNow.desiredCount = desiredCount;
    next.deploymentConfiguration = deploymentConfiguration;
    next.placementConstraints = structuredClone(placementConstraints);
    next.placementStrategy = structuredClone(placementStrategy);
    if (input.healthCheckGracePeriodSeconds !== undefined)
      next.healthCheckGracePeriodSeconds = input.healthCheckGracePeriodSeconds;
    if (input.propagateTags !== undefined) next.propagateTags = input.propagateTags;
    if (input.enableECSManagedTags !== undefined) next.enableECSManagedTags = input.enableECSManagedTags;
    if (input.availabilityZoneRebalancing !== undefined)
      next.availabilityZoneRebalancing = input.availabilityZoneRebalancing;
    berth.generation += 1;
    berth.steady = false;

    ops.unshift({ kind: 'put', key: record.key, value: next });
    const r = await ctx.store.txn(compares, ops);
    if (r.succeeded) {
      ctx.log.info({ cluster, service: cur.serviceName, desiredCount }, 'UpdateService');
      return { service: toServiceView(next) };
    }
  }
  throw new EcsError('ServerException', 'UpdateService: the service record kept changing; try again.');
}

// ---------------------------------------------------------------------------------------------

export const serviceOperations: OperationGroup = {
  CreateService: createService,
  UpdateService: updateService,

  async DeleteService(ctx, input) {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const { record } = await requireService(ctx, input.cluster, input.service, { activeCluster: true });
      const cur = record.value;
      if (cur.status === 'INACTIVE') throw serviceNotFound();
      if (cur.status === 'DRAINING') return { service: toServiceView(cur) };
      const daemon = cur.schedulingStrategy === 'DAEMON';
      if (!daemon && (cur.desiredCount ?? 0) > 0 && input.force !== true) {
        throw invalidParameter(SCALED_ABOVE_ZERO_MESSAGE);
      }
      const next: ServiceRecord = structuredClone(cur);
      next.status = 'DRAINING';
      next.desiredCount = 0;
      if (next.taskSets) next.taskSets = next.taskSets.map((ts) => ({ ...ts, status: 'DRAINING' }));
      const berth = next.berth ?? { generation: 0, createFingerprint: '', deployments: {} };
      berth.generation += 1;
      berth.steady = false;
      next.berth = berth;
      const r = await ctx.store.txn(
        [{ key: record.key, version: record.version }],
        [{ kind: 'put', key: record.key, value: next }],
      );
      if (r.succeeded) {
        ctx.log.info({ service: cur.serviceArn, force: input.force === true }, 'DeleteService');
        return { service: toServiceView(next) };
      }
    }
    throw new EcsError('ServerException', 'DeleteService: the service record kept changing; try again.');
  },

  async DescribeServices(ctx, input) {
    const clusterRec = await findCluster(ctx, input.cluster);
    if (!clusterRec) throw clusterNotFound();
    const cluster = clusterRec.value.clusterName;
    const refs = input.services;
    if (!Array.isArray(refs) || refs.length === 0) throw invalidParameter('services cannot be empty.');
    if (refs.length > MAX_DESCRIBE_SERVICES) {
      throw invalidParameter(`services can have at most ${MAX_DESCRIBE_SERVICES} items; got ${refs.length}.`);
    }
    const withTags = input.include?.includes('TAGS') === true;
    const services: Service[] = [];
    const failures: Failure[] = [];
    const answered = new Set<string>();
    for (const raw of refs) {
      const ref = resolveServiceRef(ctx, cluster, raw);
      if (!ref.found) {
        failures.push({ arn: ref.arn, reason: 'MISSING' });
        continue;
      }
      if (answered.has(ref.key)) continue;
      answered.add(ref.key);
      const rec = await ctx.store.get<ServiceRecord>(ref.key);
      if (rec) services.push(toServiceView(rec.value, withTags));
      else failures.push({ arn: ref.arn, reason: 'MISSING' });
    }
    return { services, failures };
  },

  async ListServices(ctx, input) {
    const clusterRec = await findCluster(ctx, input.cluster);
    if (!clusterRec) throw clusterNotFound();
    const size = pageSize(input.maxResults ?? LIST_SERVICES_DEFAULT_PAGE);
    const after = decodeToken(input.nextToken);
    const recs = await ctx.store.list<ServiceRecord>(
      keys.servicesOfCluster(ctx, clusterRec.value.clusterName),
    );
    const matching = recs.filter((r) => {
      const s = r.value;
      if (s.status !== 'ACTIVE') return false;
      if (after !== undefined && r.key <= after) return false;
      if (input.launchType !== undefined && s.launchType !== input.launchType) return false;
      if (
        input.schedulingStrategy !== undefined &&
        (s.schedulingStrategy ?? 'REPLICA') !== input.schedulingStrategy
      )
        return false;
      if (
        input.resourceManagementType !== undefined &&
        input.resourceManagementType !== (s.resourceManagementType ?? 'CUSTOMER')
      )
        return false;
      return true;
    });
    const page = matching.slice(0, size);
    const last = page[page.length - 1];
    return matching.length > size && last
      ? { serviceArns: page.map((r) => r.value.serviceArn), nextToken: encodeToken(last.key) }
      : { serviceArns: page.map((r) => r.value.serviceArn) };
  },

  async ListServiceDeployments(ctx, input) {
    const { cluster, record } = await requireService(ctx, input.cluster, input.service, {
      activeCluster: false,
    });
    const svc = record.value;
    const size = pageSize(input.maxResults ?? LIST_SERVICE_DEPLOYMENTS_DEFAULT_PAGE);
    const after = decodeToken(input.nextToken);
    const statuses = new Set(input.status ?? []);
    const recs = await ctx.store.list<ServiceDeploymentRecord>(
      keys.serviceDeploymentsOfService(ctx, cluster.clusterName, svc.serviceName),
    );
    const sortKey = (r: ServiceDeploymentRecord): string =>
      `${String(Math.round((r.createdAt ?? 0) * 1000)).padStart(16, '0')}/${r.serviceDeploymentArn}`;
    const matching = recs
      .map((r) => r.value)
      .filter((r) => r.berth.serviceCreatedAt === (svc.createdAt ?? 0))
      .filter((r) => statuses.size === 0 || (r.status !== undefined && statuses.has(r.status)))
      .filter((r) => input.createdAt?.after === undefined || (r.createdAt ?? 0) >= input.createdAt.after)
      .filter((r) => input.createdAt?.before === undefined || (r.createdAt ?? 0) <= input.createdAt.before)
      .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : sortKey(a) > sortKey(b) ? -1 : 0))
      .filter((r) => after === undefined || sortKey(r) < after);
    const page = matching.slice(0, size);
    const last = page[page.length - 1];
    const briefs = page.map(toServiceDeploymentBrief);
    return matching.length > size && last
      ? { serviceDeployments: briefs, nextToken: encodeToken(sortKey(last)) }
      : { serviceDeployments: briefs };
  },

  async DescribeServiceDeployments(ctx, input) {
    const arns = input.serviceDeploymentArns;
    if (!Array.isArray(arns) || arns.length === 0)
      throw invalidParameter('serviceDeploymentArns cannot be empty.');
    if (arns.length > MAX_DESCRIBE_SERVICE_DEPLOYMENTS) {
      throw invalidParameter(
        `serviceDeploymentArns can have at most ${MAX_DESCRIBE_SERVICE_DEPLOYMENTS} items; got ${arns.length}.`,
      );
    }
    const serviceDeployments: ServiceDeployment[] = [];
    const failures: Failure[] = [];
    const services = new Map<string, ServiceRecord | undefined>();
    for (const arn of arns) {
      const key = historyKeyOfArn(ctx, arn);
      const rec = key !== undefined ? await ctx.store.get<ServiceDeploymentRecord>(key) : undefined;
      if (!rec) {
        failures.push({ arn: String(arn), reason: 'MISSING' });
        continue;
      }
      const p = parseArn(rec.value.serviceArn);
      let svc: ServiceRecord | undefined;
      if (p && p.parts.length === 2) {
        const skey = keys.service(ctx, p.parts[0]!, p.parts[1]!);
        if (!services.has(skey)) services.set(skey, (await ctx.store.get<ServiceRecord>(skey))?.value);
        svc = services.get(skey);
      }
      serviceDeployments.push(toServiceDeploymentView(rec.value, svc));
    }
    return { serviceDeployments, failures };
  },

  async DescribeServiceRevisions(ctx, input) {
    const arns = input.serviceRevisionArns;
    if (!Array.isArray(arns) || arns.length === 0)
      throw invalidParameter('serviceRevisionArns cannot be empty.');
    if (arns.length > MAX_DESCRIBE_SERVICE_DEPLOYMENTS) {
      throw invalidParameter(
        `serviceRevisionArns can have at most ${MAX_DESCRIBE_SERVICE_DEPLOYMENTS} items; got ${arns.length}.`,
      );
    }
    const serviceRevisions: ServiceRevision[] = [];
    const failures: Failure[] = [];
    for (const arn of arns) {
      const key = revisionKeyOfArn(ctx, arn);
      const rec = key !== undefined ? await ctx.store.get<ServiceRevisionRecord>(key) : undefined;
      if (rec) serviceRevisions.push(toServiceRevisionView(rec.value));
      else failures.push({ arn: String(arn), reason: 'MISSING' });
    }
    return { serviceRevisions, failures };
  },

  async StopServiceDeployment(ctx, input) {
    const stopType = input.stopType ?? 'ROLLBACK';
    if (stopType !== 'ROLLBACK') {
      throw invalidParameter(`stopType ${stopType} is not supported; the valid value is ROLLBACK.`);
    }
    const key = historyKeyOfArn(ctx, input.serviceDeploymentArn);
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const hist = key !== undefined ? await ctx.store.get<ServiceDeploymentRecord>(key) : undefined;
      if (!hist || key === undefined) {
        throw new EcsError('ServiceDeploymentNotFoundException', 'The service deployment does not exist.');
      }
      const p = parseArn(hist.value.serviceArn);
      const skey = p && p.parts.length === 2 ? keys.service(ctx, p.parts[0]!, p.parts[1]!) : undefined;
      const svc = skey !== undefined ? await ctx.store.get<ServiceRecord>(skey) : undefined;
      const deploymentId = hist.value.berth.deploymentId;
      const primary = svc?.value.deployments?.find((d) => d.status === 'PRIMARY');
      if (
        !svc ||
        svc.value.status !== 'ACTIVE' ||
        hist.value.status !== 'IN_PROGRESS' ||
        primary?.id !== deploymentId ||
        primary.rolloutState !== 'IN_PROGRESS'
      ) {
        throw new EcsError(
          'ConflictException',
          `The service deployment ${hist.value.serviceDeploymentArn} is not in progress (status ${hist.value.status ?? 'unknown'}); only an IN_PROGRESS deployment can be stopped.`,
        );
      }
      const nextSvc: ServiceRecord = structuredClone(svc.value);
      nextSvc.berth = {
        ...(nextSvc.berth ?? { generation: 0, createFingerprint: '', deployments: {} }),
        rollbackRequested: deploymentId,
      };
      const at = toEpochSeconds(ctx.clock.now());
      const nextHist: ServiceDeploymentRecord = {
        ...hist.value,
        status: 'ROLLBACK_REQUESTED',
        statusReason: 'Stopped by StopServiceDeployment (ROLLBACK).',
        updatedAt: at,
      };
      const r = await ctx.store.txn(
        [
          { key: skey!, version: svc.version },
          { key, version: hist.version },
        ],
        [
          { kind: 'put', key: skey!, value: nextSvc },
          { kind: 'put', key, value: nextHist },
        ],
      );
      if (r.succeeded) return { serviceDeploymentArn: hist.value.serviceDeploymentArn };
    }
    throw new EcsError('ServerException', 'StopServiceDeployment: the service kept changing; try again.');
  },
};
