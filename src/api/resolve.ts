// Turning the names-or-ARNs of a request into stored records, with ECS's errors.
import { clusterNameFromRef } from '../domain/arn.js';
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
