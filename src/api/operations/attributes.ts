// PutAttributes, DeleteAttributes, ListAttributes. Attributes live in the container instance
// record's `attributes` list (the only target type ECS has); the naming rules and the 10-custom
// limit are in src/domain/attributes/.
//
// Choices:
// - targetId is required (the instance id or ARN); with a short id, targetType is required too
//   (ECS: "required if you use the short form ID"). A target that is not a registered instance of
//   the request's cluster → TargetNotFoundException.
// - Built-in names (`ecs.*`, `com.amazonaws.ecs.*`) are the agent's, set at registration: callers
//   can neither put nor delete them (InvalidParameterException). ListAttributes shows them.
// - One call may touch several instances; all of them are written in one store transaction
//   (compare-and-set on every instance, retried), so a call applies entirely or not at all.
//   Every instance whose attributes change gets its `version` bumped.
// - Deleting an attribute the instance does not have is not an error.
import type { Attribute } from '../../generated/ecs/types.js';
import { isArn } from '../../domain/arn.js';
import {
  MAX_ATTRIBUTES_PER_CALL,
  deleteAttributes,
  isBuiltInAttributeName,
  matchesAttributeFilter,
  putAttributes,
  sortAttributes,
  toTargetedAttribute,
  validateAttribute,
  type InstanceAttribute,
} from '../../domain/attributes/attributes.js';
import { isRegistered } from '../../domain/container-instance/status.js';
import { EcsError, clusterNotFound, invalidParameter } from '../../domain/errors.js';
import type { ContainerInstanceRecord } from '../../domain/records.js';
import { ConflictError } from '../../store/cas.js';
import { keys } from '../../store/keys.js';
import type { Compare, Op } from '../../store/store.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { pageOf } from '../pagination.js';
import { findCluster, requireActiveCluster } from '../resolve.js';
import { resolveContainerInstanceRef } from './container-instances.js';

const TARGET_TYPE = 'container-instance';
const MAX_ATTEMPTS = 20;

const targetNotFound = (target: string, cluster: string): EcsError =>
  new EcsError(
    'TargetNotFoundException',
    `Could not find ${target}: it is not a registered container instance of cluster ${cluster}.`,
  );

interface TargetedChange {
  key: string;
  arn: string;
  attributes: InstanceAttribute[];
}

/** Checks every attribute of a Put/Delete request and groups them by target instance. */
function planTargets(
  ctx: RequestContext,
  cluster: string,
  attributes: readonly Attribute[] | undefined,
  verb: 'put' | 'delete',
): Map<string, TargetedChange> {
  if (!Array.isArray(attributes) || attributes.length === 0)
    throw invalidParameter('attributes cannot be empty.');
  if (attributes.length > MAX_ATTRIBUTES_PER_CALL) {
    throw invalidParameter(
      `attributes can have at most ${MAX_ATTRIBUTES_PER_CALL} items per call; got ${attributes.length}.`,
    );
  }
  const byKey = new Map<string, TargetedChange>();
  attributes.forEach((a, i) => {
    const member = `attributes[${i}]`;
    validateAttribute(verb === 'put' ? a : { name: a.name }, member);
    if (isBuiltInAttributeName(a.name)) {
      throw invalidParameter(
        `${member}.name '${a.name}' is a built-in attribute (prefix ecs. or com.amazonaws.ecs.); ` +
          `only the container agent sets those, at registration, so it cannot be ${verb === 'put' ? 'put' : 'deleted'}.`,
      );
    }
    if (a.targetType !== undefined && a.targetType !== TARGET_TYPE) {
      throw invalidParameter(`${member}.targetType must be ${TARGET_TYPE}; got ${String(a.targetType)}.`);
    }
    if (typeof a.targetId !== 'string' || a.targetId === '') {
      throw invalidParameter(`${member}.targetId is required: the container instance id or ARN.`);
    }
    if (!isArn(a.targetId) && a.targetType === undefined) {
      throw invalidParameter(
        `${member}.targetType is required when targetId is a short id rather than an ARN.`,
      );
    }
    const ref = resolveContainerInstanceRef(ctx, cluster, a.targetId);
    if (!ref.found) throw targetNotFound(ref.arn, cluster);
    const entry = byKey.get(ref.key) ?? { key: ref.key, arn: ref.arn, attributes: [] };
    entry.attributes.push(
      verb === 'put'
        ? { name: a.name, ...(a.value !== undefined ? { value: a.value } : {}) }
        : { name: a.name },
    );
    byKey.set(ref.key, entry);
  });
  return byKey;
}

/**
 * Read every target, compute its new attribute list with `edit`, write all changed ones in one
 * transaction guarded by every target's version; retried when another writer got in between.
 */
async function applyToTargets(
  ctx: RequestContext,
  cluster: string,
  targets: Map<string, TargetedChange>,
  edit: (current: readonly InstanceAttribute[], change: TargetedChange) => InstanceAttribute[],
): Promise<void> {
  const changes = [...targets.values()];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const records = await ctx.store.getMany<ContainerInstanceRecord>(changes.map((c) => c.key));
    const compares: Compare[] = [];
    const ops: Op[] = [];
    changes.forEach((change, i) => {
      const rec = records[i];
      if (!rec || !isRegistered(rec.value.status)) throw targetNotFound(change.arn, cluster);
      const before = sortAttributes(rec.value.attributes ?? []);
      const after = edit(before, change);
      compares.push({ key: change.key, version: rec.version });
      if (JSON.stringify(before) === JSON.stringify(after)) return;
      ops.push({
        kind: 'put',
        key: change.key,
        value: { ...rec.value, attributes: after, version: (rec.value.version ?? 0) + 1 },
      });
    });
    if (ops.length === 0) return;
    if ((await ctx.store.txn(compares, ops)).succeeded) return;
  }
  throw new ConflictError(changes.map((c) => c.key).join(', '), MAX_ATTEMPTS);
}

/** The request's attributes as the answer echoes them (ECS returns what was applied). */
function echo(attributes: readonly Attribute[]): Attribute[] {
  return attributes.map((a) => ({ ...a }));
}

export const attributeOperations: OperationGroup = {
  async PutAttributes(ctx, input) {
    const cluster = (await requireActiveCluster(ctx, input.cluster)).value.clusterName;
    const targets = planTargets(ctx, cluster, input.attributes, 'put');
    await applyToTargets(ctx, cluster, targets, (current, change) =>
      putAttributes(current, change.attributes),
    );
    return { attributes: echo(input.attributes) };
  },

  async DeleteAttributes(ctx, input) {
    const cluster = (await requireActiveCluster(ctx, input.cluster)).value.clusterName;
    const targets = planTargets(ctx, cluster, input.attributes, 'delete');
    await applyToTargets(ctx, cluster, targets, (current, change) =>
      deleteAttributes(
        current,
        change.attributes.map((a) => a.name),
      ),
    );
    return { attributes: echo(input.attributes) };
  },

  async ListAttributes(ctx, input) {
    const clusterRec = await findCluster(ctx, input.cluster);
    if (!clusterRec) throw clusterNotFound();
    if (input.targetType !== TARGET_TYPE) {
      throw invalidParameter(
        `targetType is required and must be ${TARGET_TYPE}; got ${String(input.targetType)}.`,
      );
    }
    if (input.attributeValue !== undefined && input.attributeName === undefined) {
      throw invalidParameter('attributeValue can only be used together with attributeName.');
    }
    const records = await ctx.store.list<ContainerInstanceRecord>(
      keys.containerInstancesOfCluster(ctx, clusterRec.value.clusterName),
    );
    const items: { key: string; item: Attribute }[] = [];
    for (const rec of records) {
      if (!isRegistered(rec.value.status)) continue;
      for (const a of sortAttributes(rec.value.attributes ?? [])) {
        if (!matchesAttributeFilter(a, input)) continue;
        items.push({
          key: `${rec.key}#${a.name}`,
          item: toTargetedAttribute(a, rec.value.containerInstanceArn),
        });
      }
    }
    const page = pageOf(items, input.nextToken, input.maxResults);
    return page.nextToken === undefined
      ? { attributes: page.items }
      : { attributes: page.items, nextToken: page.nextToken };
  },
};
