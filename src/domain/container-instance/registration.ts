// What RegisterContainerInstance stores, computed from the request (and, when an agent
// re-registers after a restart, from the instance's previous record). Pure: ids and time are
// passed in.
//
// Choices (see also resources.ts and ids.ts):
// - A new instance is ACTIVE at once, `agentConnected: false`: the API records the registration,
//   the agent's session to the control plane sets agentConnected when it connects.
// - `version` starts at 1 and grows by one with every change to the instance.
// - Built-in attributes come from the agent's request (`ecs.capability.*`, `ecs.os-family`...)
//   and from the instance identity document, which wins for what EC2 knows:
//   `ecs.availability-zone`, `ecs.instance-type`, `ecs.ami-id`, `ecs.cpu-architecture`.
//   `ecs.os-type` defaults to `linux`. Without a document, no availability zone is invented.
// - ec2InstanceId: the document's instanceId, else the previous one, else a generated `i-...`.
// - Re-registration keeps id, status, registeredAt, task counts and custom attributes
//   (PutAttributes survives an agent restart); built-in attributes are replaced by the new
//   request's; tags are merged by the caller; resources keep what tasks already use.
// - A re-registration may not change the instance type (ECS: "Container instance type changes
//   are not supported.", which the ECS agent recognises by that message).
import type { Attribute, PlatformDevice, Resource, Tag, VersionInfo } from '../../generated/ecs/types.js';
import { toEpochSeconds } from '../clock.js';
import { clientError, invalidParameter } from '../errors.js';
import type { ContainerInstanceRecord } from '../records.js';
import {
  MAX_CUSTOM_ATTRIBUTES,
  countCustomAttributes,
  isBuiltInAttributeName,
  sortAttributes,
  toInstanceAttribute,
  validateAttribute,
  type InstanceAttribute,
} from '../attributes/attributes.js';
import {
  cpuArchitectureAttribute,
  parseInstanceIdentityDocument,
  type InstanceIdentityDocument,
} from './identity-document.js';
import { computeRegisteredResources, computeRemainingResources } from './resources.js';
import { isRegistered } from './status.js';

export const INSTANCE_TYPE_CHANGED_MESSAGE = 'Container instance type changes are not supported.';
export const DEFAULT_OS_TYPE = 'linux';

export interface RegistrationRequest {
  instanceIdentityDocument?: string;
  totalResources?: Resource[];
  versionInfo?: VersionInfo;
  attributes?: Attribute[];
  platformDevices?: PlatformDevice[];
}

export interface RegistrationInput {
  request: RegistrationRequest;
  cluster: string;
  containerInstanceArn: string;
  /** Used only when neither the document nor a previous record gives an EC2 instance id. */
  generatedEc2InstanceId: string;
  /** Final tag list (validated and merged by the caller). */
  tags: Tag[];
  /** Epoch milliseconds. */
  now: number;
  /** The stored record when an agent re-registers an existing instance. */
  previous?: ContainerInstanceRecord;
}

/** Built-in attributes derived from the identity document; they override what the request says. */
function documentAttributes(doc: InstanceIdentityDocument | undefined): InstanceAttribute[] {
  if (!doc) return [];
  const out: InstanceAttribute[] = [];
  if (doc.availabilityZone) out.push({ name: 'ecs.availability-zone', value: doc.availabilityZone });
  if (doc.instanceType) out.push({ name: 'ecs.instance-type', value: doc.instanceType });
  if (doc.imageId) out.push({ name: 'ecs.ami-id', value: doc.imageId });
  if (doc.architecture)
    out.push({ name: 'ecs.cpu-architecture', value: cpuArchitectureAttribute(doc.architecture) });
  return out;
}

/**
 * The instance's attribute list: request attributes (a later duplicate wins), document-derived
 * built-ins over them, `ecs.os-type` defaulted, previous custom attributes the request does not
 * repeat kept. At most 10 custom attributes.
 */
export function computeRegistrationAttributes(
  requested: readonly Attribute[] | undefined,
  doc: InstanceIdentityDocument | undefined,
  previous: readonly InstanceAttribute[] = [],
): InstanceAttribute[] {
  const byName = new Map<string, InstanceAttribute>();
  (requested ?? []).forEach((a, i) => {
    validateAttribute(a, `attributes[${i}]`);
    byName.set(a.name, toInstanceAttribute(a));
  });
  for (const a of documentAttributes(doc)) byName.set(a.name, a);
  if (!byName.has('ecs.os-type')) byName.set('ecs.os-type', { name: 'ecs.os-type', value: DEFAULT_OS_TYPE });
  for (const a of previous) {
    if (!isBuiltInAttributeName(a.name) && !byName.has(a.name)) byName.set(a.name, toInstanceAttribute(a));
  }
  const attributes = sortAttributes([...byName.values()]);
  const custom = countCustomAttributes(attributes);
  if (custom > MAX_CUSTOM_ATTRIBUTES) {
    throw invalidParameter(
      `attributes: a container instance can have at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes; ` +
        `this registration would give it ${custom}.`,
    );
  }
  return attributes;
}

function attributeValue(
  attributes: readonly InstanceAttribute[] | undefined,
  name: string,
): string | undefined {
  return attributes?.find((a) => a.name === name)?.value;
}

export function computeRegisteredInstance(input: RegistrationInput): ContainerInstanceRecord {
  const { request, previous } = input;
  const doc =
    request.instanceIdentityDocument !== undefined && request.instanceIdentityDocument !== ''
      ? parseInstanceIdentityDocument(request.instanceIdentityDocument)
      : undefined;
  const attributes = computeRegistrationAttributes(request.attributes, doc, previous?.attributes);

  if (previous && !isRegistered(previous.status)) {
    throw clientError(
      `containerInstanceArn: ${input.containerInstanceArn} is INACTIVE. Deregistration is final; ` +
        'register without containerInstanceArn to join the cluster as a new instance.',
    );
  }
  if (previous) {
    const before = attributeValue(previous.attributes, 'ecs.instance-type');
    const after = attributeValue(attributes, 'ecs.instance-type');
    if (before !== undefined && after !== undefined && before !== after) {
      throw invalidParameter(INSTANCE_TYPE_CHANGED_MESSAGE);
    }
  }

  const registeredResources = computeRegisteredResources(request.totalResources, request.platformDevices);
  const remainingResources = computeRemainingResources(registeredResources, previous);
  const versionInfo = request.versionInfo ?? previous?.versionInfo;

  const record: ContainerInstanceRecord = {
    containerInstanceArn: input.containerInstanceArn,
    ec2InstanceId: doc?.instanceId ?? previous?.ec2InstanceId ?? input.generatedEc2InstanceId,
    version: (previous?.version ?? 0) + 1,
    ...(versionInfo ? { versionInfo: { ...versionInfo } } : {}),
    remainingResources,
    registeredResources,
    status: previous?.status ?? 'ACTIVE',
    agentConnected: previous?.agentConnected ?? false,
    runningTasksCount: previous?.runningTasksCount ?? 0,
    pendingTasksCount: previous?.pendingTasksCount ?? 0,
    attributes,
    registeredAt: previous?.registeredAt ?? toEpochSeconds(input.now),
    attachments: previous?.attachments ? [...previous.attachments] : [],
    ...(previous?.healthStatus ? { healthStatus: previous.healthStatus } : {}),
    tags: input.tags,
    cluster: input.cluster,
  };
  return record;
}
