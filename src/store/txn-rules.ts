// Rules every backend applies the same way.
import type { Op } from './store.js';

/** etcd's default max-txn-ops is 128; the interface promises no more, so callers stay portable. */
export const MAX_TXN_OPS = 128;

export function checkTxnSize(ops: readonly Op[]): void {
  if (ops.length > MAX_TXN_OPS)
    throw new Error(`transaction has ${ops.length} ops; the limit is ${MAX_TXN_OPS}`);
}

/** Records read from a store are shared; freezing catches accidental mutation in tests and dev. */
export function freeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) freeze(v);
  }
  return value;
}
