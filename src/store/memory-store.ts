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
  onError: ((e: Error) => void) | undefined;
  /** Live changes at or below this revision are not for this watcher (it started later). */
  liveAfter: number;
  closed: boolean;
}

export class MemoryStore implements Store {
  readonly backend = 'memory';
  private readonly data = new Map<string, StoredRecord>();
  private sortedKeys: string[] | undefined = [];
  private rev = 0;
  private readonly history: Change[] = [];
  private readonly watchers = new Set<WatchEntry>();
  /** Changes committed but not yet handed to every watcher (a watcher may write from its callback). */
  private readonly pending: Change[] = [];
  private delivering = false;

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
    const after = options.startAfter;
    const ordered = this.keysInOrder();
    const n = ordered.length;
    for (let i = 0; i < n; i++) {
      if (out.length >= limit) break;
      const k = options.reverse ? ordered[n - 1 - i]! : ordered[i]!;
      if (!k.startsWith(prefix)) continue;
      if (after !== undefined && (options.reverse ? k >= after : k <= after)) continue;
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
    const rev = this.rev + 1;
    const changes: Change[] = [];
    for (const op of ops) {
      if (op.kind === 'put') {
        const value = freeze(op.value);
        const prev = this.data.get(op.key);
        if (!prev) this.sortedKeys = undefined;
        this.data.set(op.key, {
          key: op.key,
          value,
          version: rev,
          createRevision: prev?.createRevision ?? rev,
        });
        changes.push({ type: 'put', key: op.key, value, revision: rev });
      } else if (this.data.delete(op.key)) {
        this.sortedKeys = undefined;
        changes.push({ type: 'delete', key: op.key, value: undefined, revision: rev });
      }
    }
    // Like etcd: a txn that changed nothing (deletes of absent keys only) keeps the revision.
    if (changes.length === 0) return { succeeded: true, revision: this.rev };
    this.rev = rev;
    this.history.push(...changes);
    this.compact();
    this.pending.push(...changes);
    this.withDelivery(() => undefined);
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
    }
    const backlog =
      from === undefined ? [] : this.history.filter((c) => c.revision > from && c.key.startsWith(prefix));
    const entry: WatchEntry = { prefix, onChange, onError, liveAfter: this.rev, closed: false };
    this.watchers.add(entry);
    this.withDelivery(() => {
      for (const c of backlog) this.deliver(entry, c);
    });
    return {
      close: () => {
        entry.closed = true;
        this.watchers.delete(entry);
      },
    };
  }

  /**
   * Runs `fn`, then hands out pending changes, unless a delivery is already under way further
   * up the stack (a watcher callback that writes or watches): that one delivers them after the
   * change it is on, which keeps every watcher's feed in revision order.
   */
  private withDelivery(fn: () => void): void {
    if (this.delivering) {
      fn();
      return;
    }
    this.delivering = true;
    try {
      fn();
      for (let c = this.pending.shift(); c; c = this.pending.shift()) {
        for (const w of this.watchers)
          if (c.revision > w.liveAfter && c.key.startsWith(w.prefix)) this.deliver(w, c);
      }
    } finally {
      this.delivering = false;
    }
  }

  private deliver(w: WatchEntry, c: Change): void {
    if (w.closed) return;
    try {
      w.onChange(c);
    } catch (e) {
      // A throwing watcher must not fail the write or starve the others; it may have missed
      // this change, so its watch ends and its owner re-lists.
      w.closed = true;
      this.watchers.delete(w);
      try {
        w.onError?.(e instanceof Error ? e : new Error(String(e)));
      } catch {
        // The watch is over either way.
      }
    }
  }

  /** Drops the oldest changes beyond historyLimit, never part of a revision. */
  private compact(): void {
    let cut = this.history.length - this.historyLimit;
    if (cut <= 0) return;
    // A watcher resuming inside a half-dropped revision would miss the dropped half.
    const lastDropped = this.history[cut - 1]!.revision;
    while (cut < this.history.length && this.history[cut]!.revision === lastDropped) cut++;
    this.history.splice(0, cut);
  }

  async revision(): Promise<number> {
    return this.rev;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
  }
}
