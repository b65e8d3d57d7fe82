// TagResource, UntagResource, ListTagsForResource: one implementation for every taggable
// resource, because every record keeps its tags in a top-level `tags` member (task sets: inside
// their service record). resource-keys.ts turns the ARN into a store key.
//
// Errors, as ECS answers them:
// - malformed / foreign / untaggable ARN → InvalidParameterException;
// - the resource's cluster does not exist → ClusterNotFoundException; it is INACTIVE →
//   InvalidParameterException "The specified cluster is inactive. Specify an active cluster and
//   try again." (what ECS answers for a deleted cluster's resources);
// - the resource does not exist → ResourceNotFoundException for TagResource and UntagResource.
//   ListTagsForResource has no ResourceNotFoundException in the ECS model, so it answers
//   InvalidParameterException for a missing resource instead.
// Merging: a key already present gets the new value; `aws:` keys can be neither added nor
// removed by callers; at most 50 tags, not counting `aws:` ones (ECS-managed tags do not count
// against the limit).
import type { Tag, TaskSet } from '../../generated/ecs/types.js';
import { clusterNotFound, invalidParameter, resourceNotFound } from '../../domain/errors.js';
import type { ClusterRecord } from '../../domain/records.js';
import { validateTags } from '../../domain/tags.js';
import { updateRecord } from '../../store/cas.js';
import { keys } from '../../store/keys.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { resolveResourceKey, type ResourceKey } from '../resource-keys.js';

export const INACTIVE_CLUSTER_MESSAGE =
  'The specified cluster is inactive. Specify an active cluster and try again.';

const isReservedKey = (key: string | undefined): boolean => key !== undefined && /^aws:/i.test(key);

/** `existing` with `added` applied: same key → new value (in place), new keys appended. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const merged = existing.map((t) => ({ ...t }));
  for (const tag of added) {
    const at = merged.findIndex((t) => t.key === tag.key);
    const copy = { key: tag.key, value: tag.value ?? '' };
    if (at >= 0) merged[at] = copy;
    else merged.push(copy);
  }
  return merged;
}

export function removeTags(existing: readonly Tag[], tagKeys: readonly string[]): Tag[] {
  const drop = new Set(tagKeys);
  return existing.filter((t) => t.key === undefined || !drop.has(t.key)).map((t) => ({ ...t }));
}

/** The 50-tag limit on a merged list; `aws:` tags are ECS's own and do not count. */
export function checkTagLimit(tags: readonly Tag[]): void {
  validateTags(tags.filter((t) => !isReservedKey(t.key)));
}

type TaggedValue = { tags?: Tag[]; taskSets?: TaskSet[] };

function findTaskSet(ref: ResourceKey, value: TaggedValue): number {
  return (value.taskSets ?? []).findIndex((ts) => ts.id === ref.taskSetId);
}

/** The resource's tags inside its record, or undefined when the resource is not there. */
function tagsIn(ref: ResourceKey, value: TaggedValue | undefined): Tag[] | undefined {
  if (!value) return undefined;
  if (ref.kind !== 'task-set') return value.tags ?? [];
  const at = findTaskSet(ref, value);
  return at < 0 ? undefined : (value.taskSets![at]!.tags ?? []);
}

function withTags<T extends TaggedValue>(ref: ResourceKey, value: T, tags: Tag[]): T {
  if (ref.kind !== 'task-set') return { ...value, tags };
  const at = findTaskSet(ref, value);
  const taskSets = (value.taskSets ?? []).map((ts, i) => (i === at ? { ...ts, tags } : ts));
  return { ...value, taskSets };
}

/** The resource's cluster must exist and be ACTIVE (clusters themselves included). */
async function checkCluster(ctx: RequestContext, ref: ResourceKey): Promise<void> {
  if (ref.cluster === undefined) return;
  const cluster = await ctx.store.get<ClusterRecord>(keys.cluster(ctx, ref.cluster));
  if (!cluster) throw clusterNotFound();
  if (cluster.value.status === 'INACTIVE') throw invalidParameter(INACTIVE_CLUSTER_MESSAGE);
}

const notFoundMessage = (arn: string): string => `The specified resource wasn't found: ${arn}`;

async function resolveTagged(ctx: RequestContext, resourceArn: string): Promise<ResourceKey> {
  if (typeof resourceArn !== 'string' || resourceArn === '')
    throw invalidParameter('resourceArn is required.');
  const ref = resolveResourceKey(ctx, resourceArn);
  await checkCluster(ctx, ref);
  return ref;
}

/** Applies `edit` to the resource's tags with compare-and-set; ResourceNotFoundException if absent. */
async function editTags(
  ctx: RequestContext,
  resourceArn: string,
  edit: (current: Tag[]) => Tag[],
): Promise<void> {
  const ref = await resolveTagged(ctx, resourceArn);
  await updateRecord<TaggedValue>(ctx.store, ref.key, (current) => {
    const tags = tagsIn(ref, current);
    if (!current || !tags) throw resourceNotFound(notFoundMessage(resourceArn));
    return withTags(ref, current, edit(tags));
  });
}

export const tagOperations: OperationGroup = {
  async TagResource(ctx, input) {
    const added = input.tags ?? [];
    validateTags(added);
    await editTags(ctx, input.resourceArn, (current) => {
      const merged = mergeTags(current, added);
      checkTagLimit(merged);
      return merged;
    });
    return {};
  },

  async UntagResource(ctx, input) {
    const tagKeys = input.tagKeys ?? [];
    tagKeys.forEach((key, i) => {
      if (typeof key !== 'string' || key === '') throw invalidParameter(`tagKeys[${i}] cannot be empty.`);
      if (isReservedKey(key)) {
        throw invalidParameter(`Tag key '${key}' uses the reserved prefix 'aws:'; it cannot be removed.`);
      }
    });
    await editTags(ctx, input.resourceArn, (current) => removeTags(current, tagKeys));
    return {};
  },

  async ListTagsForResource(ctx, input) {
    const ref = await resolveTagged(ctx, input.resourceArn);
    const rec = await ctx.store.get<TaggedValue>(ref.key);
    const tags = tagsIn(ref, rec?.value);
    if (!tags) throw invalidParameter(`resourceArn: ${notFoundMessage(input.resourceArn)}`);
    return { tags: tags.map((t) => ({ ...t })) };
  },
};
