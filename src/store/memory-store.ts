// In-memory Store: the reference implementation of the interface, for unit tests and
// simulations. Keeps every change since creation (no compaction) unless told otherwise.
import {
  CompactedError,
  type Change,
  type Compare,
  type ListOptions,
  type Op,
  type Store,
  type StoredRecord,
  type TxnResult,
  type WatchOptions,
  type Watcher,
} from './store.js';
import { checkTxnSize, freeze } from './txn-rules.js';

interface WatchEntry {
  prefix: string;
  onChange: (c: Change) => void;
}

export class MemoryStore implements Store {
  readonly backend = 'memory';
  private readonly data = new Map<string, StoredRecord>();
  private sortedKeys: string[] | undefined = [];
  private rev = 0;
  private readonly history: Change[] = [];
  private readonly watchers = new Set<WatchEntry>();

  /** @param historyLimit how many changes to keep for watch-from-revision (older ones are compacted). */
  constructor(private readonly historyLimit = Number.POSITIVE_INFINITY) {}

  async get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    return this.data.get(key) as StoredRecord<T> | undefined;
  }

  async getMany<T>(keys: readonly string[]): Promise<(StoredRecord<T> | undefined)[]> {
    return keys.map((k) => this.data.get(k) as StoredRecord<T> | undefined);
  }

  private keysInOrder(): string[] {
    if (!this.sortedKeys) this.sortedKeys = [...this.data.keys()].sort();
    return this.sortedKeys;
  }

  async list<T>(prefix: string, options: ListOptions = {}): Promise<StoredRecord<T>[]> {
    const out: StoredRecord<T>[] = [];
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    for (const k of this.keysInOrder()) {
      if (out.length >= limit) break;
      if (!k.startsWith(prefix)) continue;
      if (options.startAfter !== undefined && k <= options.startAfter) continue;
      out.push(this.data.get(k) as StoredRecord<T>);
    }
    return out;
  }

  async count(prefix: string): Promise<number> {
    let n = 0;
    for (const k of this.data.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    checkTxnSize(ops);
    for (const c of compares) {
      const cur = this.data.get(c.key);
      if ((cur?.version ?? 0) !== c.version) return { succeeded: false, revision: this.rev };
    }
    if (ops.length === 0) return { succeeded: true, revision: this.rev };
    const rev = ++this.rev;
    const changes: Change[] = [];
    for (const op of ops) {
      if (op.kind === 'put') {
        const value = freeze(op.value);
        const prev = this.data.get(op.key);
        if (!prev) this.sortedKeys = undefined;
        this.data.set(op.key, { key: op.key, value, version: rev, createRevision: prev?.createRevision ?? rev });
        changes.push({ type: 'put', key: op.key, value, revision: rev });
      } else if (this.data.delete(op.key)) {
        this.sortedKeys = undefined;
        changes.push({ type: 'delete', key: op.key, value: undefined, revision: rev });
      }
    }
    for (const c of changes) {
      this.history.push(c);
      for (const w of this.watchers) if (c.key.startsWith(w.prefix)) w.onChange(c);
    }
    while (this.history.length > this.historyLimit) this.history.shift();
    return { succeeded: true, revision: rev };
  }

  watch(
    prefix: string,
    options: WatchOptions,
    onChange: (c: Change) => void,
    onError?: (e: Error) => void,
  ): Watcher {
    const from = options.fromRevision;
    if (from !== undefined) {
      const oldest = this.history[0]?.revision ?? this.rev + 1;
      if (from + 1 < oldest && from < this.rev) {
        onError?.(new CompactedError(from, oldest));
        return { close: () => undefined };
      }
      for (const c of this.history) if (c.revision > from && c.key.startsWith(prefix)) onChange(c);
    }
    const entry: WatchEntry = { prefix, onChange };
    this.watchers.add(entry);
    return { close: () => this.watchers.delete(entry) };
  }

  async revision(): Promise<number> {
    return this.rev;
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }
}
