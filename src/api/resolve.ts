// Turning the names-or-ARNs of a request into stored records, with ECS's errors.
import { clusterNameFromRef, isArn, parseArn, type Scope } from '../domain/arn.js';
import { clusterNotFound, invalidParameter } from '../domain/errors.js';
import type { ClusterRecord } from '../domain/records.js';
import { keys } from '../store/keys.js';
import type { StoredRecord } from '../store/store.js';
import type { RequestContext } from './context.js';

export const DEFAULT_CLUSTER = 'default';

/** Short cluster name from an optional name/ARN (absent → `default`). */
export function clusterName(ref: string | undefined): string {
  if (ref === undefined || ref === '') return DEFAULT_CLUSTER;
  const name = clusterNameFromRef(ref);
  if (name === undefined) throw invalidParameter(`Invalid cluster identifier: ${ref}`);
  return name;
}

/** The stored cluster, or undefined. INACTIVE clusters are returned too. */
export async function findCluster(
  ctx: RequestContext,
  ref: string | undefined,
): Promise<StoredRecord<ClusterRecord> | undefined> {
  return ctx.store.get<ClusterRecord>(keys.cluster(ctx, clusterName(ref)));
}

/** An ACTIVE cluster, else ClusterNotFoundException (ECS treats INACTIVE as not found for writes). */
export async function requireActiveCluster(
  ctx: RequestContext,
  ref: string | undefined,
): Promise<StoredRecord<ClusterRecord>> {
  const rec = await findCluster(ctx, ref);
  if (!rec || rec.value.status === 'INACTIVE') throw clusterNotFound();
  return rec;
}

/**
 * The id (or name) in a cluster-scoped reference: bare, `<type>/<cluster>/<id>` ARN or the old
 * `<type>/<id>` form, in `cluster`. Undefined when it names another cluster, account, region or
 * resource type, or the id breaks `pattern`: callers answer MISSING (or not found) for those.
 */
export function clusterScopedId(
  scope: Scope,
  cluster: string,
  ref: string,
  resourceType: string,
  pattern: RegExp,
): string | undefined {
  let id = ref;
  if (isArn(ref)) {
    const p = parseArn(ref);
    if (
      !p ||
      p.service !== 'ecs' ||
      p.resourceType !== resourceType ||
      p.account !== scope.account ||
      p.region !== scope.region
    ) {
      return undefined;
    }
    if (p.parts.length === 2) {
      if (p.parts[0] !== cluster) return undefined;
      id = p.parts[1]!;
    } else if (p.parts.length === 1) id = p.parts[0]!;
    else return undefined;
  }
  return pattern.test(id) ? id : undefined;
}
