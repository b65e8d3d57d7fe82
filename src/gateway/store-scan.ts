// Finding records of one kind in every account and region without an index. Keys are
// `/<account>/<region>/<kind>/...`, so instead of reading the whole store this skips from one
// `/<account>/<region>/` to the next (one single-row list per scope) and range-scans only
// `/<account>/<region>/<kind>/` in each. Cost: 2 reads per account/region pair plus the records
// of that kind. See README.md for when an index should replace it.
import type { Scope } from '../domain/arn.js';
import type { TaskRecord } from '../domain/records.js';
import type { Store, StoredRecord } from '../store/store.js';
import { keys } from '../store/keys.js';
import { containerInstanceKeyOf, isTaskOnHost, type HostTarget } from './routing.js';

/** Sorts after every key segment (segments are ASCII): `/<a>/<r>/` + this is past the whole scope. */
const PAST_SCOPE = '\uffff';
const GLOBAL_ACCOUNT = '_global';

/** Every account/region that holds at least one record, in key order (`/_global/` excluded). */
export async function listScopes(store: Store): Promise<Scope[]> {
  const out: Scope[] = [];
  let after: string | undefined;
  for (;;) {
    const [first] = await store.list(
      '/',
      after === undefined ? { limit: 1 } : { startAfter: after, limit: 1 },
    );
    if (!first) return out;
    const s = first.key.split('/');
    if (s.length < 4 || !s[1] || !s[2]) {
      // Not a scoped key (none exist today): step over it alone.
      after = first.key;
      continue;
    }
    const scope = { account: s[1], region: s[2] };
    if (scope.account !== GLOBAL_ACCOUNT) out.push(scope);
    after = `/${scope.account}/${scope.region}/${PAST_SCOPE}`;
  }
}

/** Records under `/<account>/<region>/<kind>/` of every scope. */
export async function listAcrossScopes<T>(store: Store, kind: string): Promise<StoredRecord<T>[]> {
  const out: StoredRecord<T>[] = [];
  for (const scope of await listScopes(store)) {
    out.push(...(await store.list<T>(`/${scope.account}/${scope.region}/${kind}/`)));
  }
  return out;
}

/**
 * Every task record (any status) assigned to the host. Tasks of container instances are in the
 * instances' clusters; tasks of a managed host may be in any account and region, so
 * `scanAllScopes` (set when the host is or was managed capacity) reads every scope's tasks.
 */
export async function listHostTasks(
  store: Store,
  target: HostTarget,
  scanAllScopes: boolean,
): Promise<StoredRecord<TaskRecord>[]> {
  let candidates: StoredRecord<TaskRecord>[];
  if (scanAllScopes) {
    candidates = await listAcrossScopes<TaskRecord>(store, 'tasks');
  } else {
    const prefixes = new Set<string>();
    for (const arn of target.instanceArns) {
      const ci = containerInstanceKeyOf(arn);
      if (ci) prefixes.add(keys.tasksOfCluster(ci.scope, ci.cluster));
    }
    candidates = [];
    for (const p of prefixes) candidates.push(...(await store.list<TaskRecord>(p)));
  }
  return candidates.filter((r) => isTaskOnHost(r.value, target));
}
