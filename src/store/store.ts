// The one store interface every backend implements (SQLite embedded, etcd replicated).
// Modelled on etcd's KV API so that the etcd backend maps onto it directly:
// - every write bumps one global, monotonically increasing revision;
// - a record's `version` is the revision of its last write (etcd's mod_revision);
// - `txn` is compare-and-set over several keys, applied atomically or not at all;
// - `watch` streams changes under a prefix, from a past revision if still retained.
// Values are JSON-serialisable objects; callers must not mutate what they read.
// Every backend also guarantees (the conformance suite checks): a txn that changes nothing keeps
// the revision; a watcher whose callback throws is ended and its onError gets the error;
// revisions are only ever compared with each other (a backend need not start at 0).

export interface StoredRecord<T = unknown> {
  key: string;
  value: T;
  /** Revision of the last write to this key (etcd mod_revision). Never 0 for a stored key. */
  version: number;
  /** Revision at which the key was created (etcd create_revision). */
  createRevision: number;
}

/** Holds when the key's current version equals `version`; version 0 means "the key does not exist". */
export interface Compare {
  key: string;
  version: number;
}

export type Op = { kind: 'put'; key: string; value: unknown } | { kind: 'delete'; key: string };

export interface TxnResult {
  /** False when a compare failed; then nothing was written. */
  succeeded: boolean;
  /** The store revision after the transaction (unchanged when it failed). */
  revision: number;
}

export interface Change {
  type: 'put' | 'delete';
  key: string;
  /** New value for puts; undefined for deletes. */
  value: unknown;
  revision: number;
}

export interface ListOptions {
  /** Only keys after this one in the listing's order (greater, or smaller when reverse): pagination. */
  startAfter?: string;
  limit?: number;
  /** Descending key order (etcd SortOrder DESCEND): the newest revision of a family first, say. */
  reverse?: boolean;
}

export interface WatchOptions {
  /** Deliver every change with revision > fromRevision first (if retained), then live ones. */
  fromRevision?: number;
}

export interface Watcher {
  close(): void;
}

export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compactedTo: number,
  ) {
    super(`revision ${requested} has been compacted (oldest retained: ${compactedTo})`);
    this.name = 'CompactedError';
  }
}

export interface Store {
  /** 'sqlite' | 'etcd' | 'memory' */
  readonly backend: string;
  get<T>(key: string): Promise<StoredRecord<T> | undefined>;
  getMany<T>(keys: readonly string[]): Promise<(StoredRecord<T> | undefined)[]>;
  /** Records whose key starts with prefix, in key order (or reverse key order). */
  list<T>(prefix: string, options?: ListOptions): Promise<StoredRecord<T>[]>;
  count(prefix: string): Promise<number>;
  /** Atomic: if every compare holds, apply every op. Max 128 ops. */
  txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult>;
  /**
   * Follow changes under prefix. `onChange` is called in revision order. If fromRevision is
   * older than what the backend retains, `onError` gets a CompactedError and the watch ends:
   * the caller re-lists and watches again from the list's revision.
   */
  watch(
    prefix: string,
    options: WatchOptions,
    onChange: (c: Change) => void,
    onError?: (e: Error) => void,
  ): Watcher;
  /** Current revision of the whole store. */
  revision(): Promise<number>;
  close(): Promise<void>;
}
