// Read-modify-write with compare-and-set, retried on conflict: the one way callers update a record.
import type { Store, StoredRecord, Op, Compare } from './store.js';

export class ConflictError extends Error {
  constructor(key: string, attempts: number) {
    super(`gave up updating ${key} after ${attempts} conflicting attempts`);
    this.name = 'ConflictError';
  }
}

const MAX_ATTEMPTS = 20;

/**
 * Applies `fn` to the current value (undefined if absent) and writes the result atomically.
 * `fn` returns the new value, `null` to delete, or `undefined` to leave the record as it is.
 * `fn` may run several times; it must be pure. Returns the value now stored.
 */
export async function updateRecord<T>(
  store: Store,
  key: string,
  fn: (current: T | undefined, record: StoredRecord<T> | undefined) => T | null | undefined,
): Promise<T | undefined> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const cur = await store.get<T>(key);
    const next = fn(cur?.value, cur);
    if (next === undefined) return cur?.value;
    const ops: Op[] = next === null ? [{ kind: 'delete', key }] : [{ kind: 'put', key, value: next }];
    const compares: Compare[] = [{ key, version: cur?.version ?? 0 }];
    const r = await store.txn(compares, ops);
    if (r.succeeded) return next === null ? undefined : next;
  }
  throw new ConflictError(key, MAX_ATTEMPTS);
}
