// The embedded Store backend: one SQLite file in WAL mode, owned by one process.
// `txn` commits and makes the commit durable before its promise resolves, so nothing
// acknowledged is lost to a SIGKILL or (GROUP, FULL) to a power cut. GROUP, the default, is a
// group commit: SQLite commits without syncing, then the WAL is fdatasync'ed on libuv's thread
// pool and every commit made before that sync started is acknowledged by it. The event loop
// never blocks on the disk, and concurrent writers share one sync. The change feed is the
// `changes` table plus in-process fan-out: watchers see the writes made through this object
// only (single writer; see README.md). Old change rows are compacted at txn time in batches.
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
} from '../store.js';
import { checkTxnSize, freeze } from '../txn-rules.js';

export interface SqliteStoreOptions {
  /** Database file; its directory is created if missing. */
  path: string;
  /**
   * GROUP (default) and FULL survive power loss; NORMAL survives process crashes only.
   * FULL syncs inside each commit, blocking the event loop; GROUP syncs off the loop, shared.
   */
  synchronous?: 'GROUP' | 'FULL' | 'NORMAL';
  /** How many recent revisions of the change feed watchers can resume from (default 10000). */
  historyRetention?: number;
  /** How long a write waits for another connection's lock before failing (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Parsed records kept in memory, keyed by (key, version) (default 10000; 0 turns the cache off). */
  cacheSize?: number;
  /**
   * Checkpoint the WAL from a worker thread every this many ms (default 250) instead of inside
   * commits; 0 leaves it to SQLite's automatic checkpoints on the calling thread.
   */
  checkpointIntervalMs?: number;
}

const DEFAULT_HISTORY_RETENTION = 10_000;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_CACHE_SIZE = 10_000;
/** Often enough that the WAL stays a few MB at thousands of writes/s. */
const DEFAULT_CHECKPOINT_INTERVAL_MS = 250;
/** Change rows read per step of a watcher's catch-up; above MAX_TXN_OPS so a page always holds a whole revision. */
const WATCH_PAGE_ROWS = 512;

/**
 * Schema migrations: entry i takes the schema from version i to i+1 (PRAGMA user_version).
 * They run in one transaction at open; add new ones at the end, never edit a shipped one.
 */
const MIGRATIONS: readonly ((db: Database.Database) => void)[] = [
  (db) => {
    db.exec(`
      CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,           -- JSON
        version INTEGER NOT NULL,      -- revision of the last write
        create_revision INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE changes (
        revision INTEGER NOT NULL,
        seq INTEGER NOT NULL,          -- position of the op within its txn
        key TEXT NOT NULL,
        type TEXT NOT NULL,            -- 'put' | 'delete'
        value TEXT,                    -- JSON for puts, NULL for deletes
        PRIMARY KEY (revision, seq)
      ) WITHOUT ROWID;
      CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);
    `);
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

function migrate(db: Database.Database): void {
  db.transaction(() => {
    const from = db.pragma('user_version', { simple: true }) as number;
    if (from > SCHEMA_VERSION) {
      throw new Error(
        `database schema version ${from} is newer than this berth understands (${SCHEMA_VERSION})`,
      );
    }
    for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    // PRAGMA takes no bound parameters; SCHEMA_VERSION is our own integer.
    if (from !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * The smallest string greater than every string that starts with `prefix`, in SQLite's BINARY
 * (UTF-8 bytes = code point) order: the prefix with its last code point incremented. Undefined
 * when no such bound exists (empty prefix, or only U+10FFFF code points).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(prefix, (ch) => ch.codePointAt(0)!);
  while (cps.length > 0) {
    let last = cps.pop()!;
    if (last < 0x10ffff) {
      last++;
      if (last >= 0xd800 && last <= 0xdfff) last = 0xe000; // surrogates are not characters
      cps.push(last);
      return String.fromCodePoint(...cps);
    }
  }
  return undefined;
}

interface KvRow {
  key: string;
  value: string;
  version: number;
  create_revision: number;
}

interface ChangeRow {
  revision: number;
  key: string;
  type: string;
  value: string | null;
}

interface WatchEntry {
  prefix: string;
  upper: string | undefined;
  onChange: (c: Change) => void;
  onError: ((e: Error) => void) | undefined;
  /** 'catch-up' reads the changes table; 'live' takes changes pushed by txn. */
  mode: 'catch-up' | 'live';
  /** Catch-up: every change with revision <= this has been delivered. */
  after: number;
  /** Live: changes with revision <= this are not for this watcher (already delivered or not asked for). */
  liveAfter: number;
  queue: Change[];
  /** Reported (ending the watch) once the queue ahead of it is delivered. */
  failure: Error | undefined;
  draining: boolean;
  closed: boolean;
}

/** A txn's result: the cache takes it when its batch commits, the watchers once it is durable. */
interface Applied {
  revision: number;
  changes: Change[];
  records: StoredRecord[];
  deleted: string[];
}

interface PendingTxn {
  compares: readonly Compare[];
  ops: readonly Op[];
  resolve: (applied: Applied | undefined) => void;
  reject: (e: unknown) => void;
}

export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  private readonly watchers = new Set<WatchEntry>();
  private readonly cache = new Map<string, StoredRecord>();
  private closed = false;

  private readonly stmt;
  private readonly listStmts;
  private readonly countStmts;
  /** Runs a batch of logical txns in one SQLite transaction, a savepoint each. */
  private readonly runBatch: (batch: readonly PendingTxn[]) => (Applied | undefined | Error)[];
  private pending: PendingTxn[] = [];
  private flushScheduled = false;

  /** Group commit state (synchronous GROUP): the sync running now, and the one queued after it. */
  private wal: FileHandle | undefined;
  /** The thread that checkpoints the WAL (see checkpoint-worker.ts), when there is one. */
  private checkpointer: Worker | undefined;
  private syncInFlight: Promise<void> | undefined;
  private syncQueued: Promise<void> | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly historyRetention: number,
    private readonly cacheSize: number,
    private readonly groupCommit = false,
  ) {
    // Statements are compiled once; list/count have one variant per (upper bound?, startAfter?)
    // so that each stays a plain range scan on the primary key.
    const cols = 'SELECT key, value, version, create_revision FROM kv';
    this.stmt = {
      get: db.prepare<[string], KvRow>(`${cols} WHERE key = ?`),
      version: db.prepare<[string], { version: number }>('SELECT version FROM kv WHERE key = ?'),
      put: db.prepare<{ key: string; value: string; rev: number }, { create_revision: number }>(
        `INSERT INTO kv (key, value, version, create_revision) VALUES (@key, @value, @rev, @rev)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version
         RETURNING create_revision`,
      ),
      del: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
      addChange: db.prepare<[number, number, string, string, string | null]>(
        'INSERT INTO changes (revision, seq, key, type, value) VALUES (?, ?, ?, ?, ?)',
      ),
      getMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE name = ?'),
      compact: db.prepare<[number]>('DELETE FROM changes WHERE revision <= ?'),
      changesAfter: db.prepare<{ after: number; lo: string; limit: number }, ChangeRow>(
        `SELECT revision, key, type, value FROM changes
         WHERE revision > @after AND key >= @lo ORDER BY revision, seq LIMIT @limit`,
      ),
      changesAfterBounded: db.prepare<{ after: number; lo: string; hi: string; limit: number }, ChangeRow>(
        `SELECT revision, key, type, value FROM changes
         WHERE revision > @after AND key >= @lo AND key < @hi ORDER BY revision, seq LIMIT @limit`,
      ),
    };
    // Lists read (key, version) first and fetch a value only when the cache lacks that version:
    // most reads hit the cache, and copying every row's JSON text out of SQLite is the cost.
    type ListParams = { lo: string; hi?: string; after?: string; limit: number };
    const list = (where: string, dir: 'ASC' | 'DESC') =>
      db.prepare<ListParams, { key: string; version: number }>(
        `SELECT key, version FROM kv WHERE ${where} ORDER BY key ${dir} LIMIT @limit`,
      );
    this.listStmts = {
      asc: {
        open: list('key >= @lo', 'ASC'),
        openAfter: list('key >= @lo AND key > @after', 'ASC'),
        bounded: list('key >= @lo AND key < @hi', 'ASC'),
        boundedAfter: list('key >= @lo AND key < @hi AND key > @after', 'ASC'),
      },
      // In reverse order "after" means further down the key order.
      desc: {
        open: list('key >= @lo', 'DESC'),
        openAfter: list('key >= @lo AND key < @after', 'DESC'),
        bounded: list('key >= @lo AND key < @hi', 'DESC'),
        boundedAfter: list('key >= @lo AND key < @hi AND key < @after', 'DESC'),
      },
    };
    this.countStmts = {
      open: db.prepare<{ lo: string }, { n: number }>('SELECT count(*) AS n FROM kv WHERE key >= @lo'),
      bounded: db.prepare<{ lo: string; hi: string }, { n: number }>(
        'SELECT count(*) AS n FROM kv WHERE key >= @lo AND key < @hi',
      ),
    };
    // Each logical txn is a savepoint inside the batch's transaction: one that throws (a value
    // that is not JSON) rolls back alone; the batch commits once, which is most of a write's cost.
    const one = db.transaction((compares: readonly Compare[], ops: readonly Op[]) =>
      this.apply(compares, ops),
    );
    // BEGIN IMMEDIATE: take the write lock before reading the versions the compares check.
    const batch = db.transaction((items: readonly PendingTxn[]) =>
      items.map((t): Applied | undefined | Error => {
        try {
          return one(t.compares, t.ops);
        } catch (e) {
          return e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
    this.runBatch = (items) => batch.immediate(items);
  }

  async get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    this.checkOpen();
    return this.read(key) as StoredRecord<T> | undefined;
  }

  async getMany<T>(keys: readonly string[]): Promise<(StoredRecord<T> | undefined)[]> {
    this.checkOpen();
    // Synchronous reads on our one connection: no write can land between them.
    return keys.map((k) => this.read(k) as StoredRecord<T> | undefined);
  }

  /**
   * One record: from the cache when it holds the key (it is what the file holds: every commit
   * through this object updates it, see flushPending), else copied out of SQLite and parsed,
   * which is most of a read's cost. Most reads are of records read or written a moment ago.
   */
  private read(key: string): StoredRecord | undefined {
    const hit = this.cache.get(key);
    if (hit) return this.touch(hit);
    const row = this.stmt.get.get(key);
    return row && this.toRecord(row);
  }

  async list<T>(prefix: string, options: ListOptions = {}): Promise<StoredRecord<T>[]> {
    this.checkOpen();
    const hi = prefixUpperBound(prefix);
    const after = options.startAfter;
    const limit = options.limit ?? -1; // SQLite: a negative LIMIT means none
    if (limit !== -1 && (!Number.isInteger(limit) || limit < 0)) {
      throw new RangeError(`list limit must be a non-negative integer, got ${limit}`);
    }
    const s = options.reverse ? this.listStmts.desc : this.listStmts.asc;
    const rows =
      hi === undefined
        ? after === undefined
          ? s.open.all({ lo: prefix, limit })
          : s.openAfter.all({ lo: prefix, after, limit })
        : after === undefined
          ? s.bounded.all({ lo: prefix, hi, limit })
          : s.boundedAfter.all({ lo: prefix, hi, after, limit });
    const out: StoredRecord<T>[] = [];
    for (const r of rows) {
      const hit = this.cache.get(r.key);
      if (hit && hit.version === r.version) {
        out.push(hit as StoredRecord<T>);
        continue;
      }
      // Synchronous: nothing can write between the two statements.
      const row = this.stmt.get.get(r.key);
      if (row) out.push(this.toRecord(row) as StoredRecord<T>);
    }
    return out;
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    const hi = prefixUpperBound(prefix);
    const row =
      hi === undefined
        ? this.countStmts.open.get({ lo: prefix })
        : this.countStmts.bounded.get({ lo: prefix, hi });
    return row?.n ?? 0;
  }

  async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    this.checkOpen();
    checkTxnSize(ops);
    // Txns that arrive in one turn of the event loop commit together (see flushPending).
    const applied = await new Promise<Applied | undefined>((resolve, reject) => {
      this.pending.push({ compares, ops, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flushPending());
      }
    });
    if (!applied) return { succeeded: false, revision: this.currentRevision() };
    if (this.groupCommit && applied.changes.length > 0) await this.syncWal();
    // Committed and durable by now: safe to publish.
    if (applied.changes.length > 0) this.publish(applied.changes);
    return { succeeded: true, revision: applied.revision };
  }

  /**
   * Commits every txn queued since the last flush in one SQLite transaction. Each still checks
   * its own compares against the writes of those before it, and gets its own revision.
   */
  private flushPending(): void {
    const batch = this.pending;
    this.pending = [];
    this.flushScheduled = false;
    if (batch.length === 0) return;
    let results: (Applied | undefined | Error)[];
    try {
      if (this.closed) throw new Error('the store is closed');
      results = this.runBatch(batch);
    } catch (e) {
      // The batch itself failed (disk full, I/O error): nothing of it was written.
      for (const t of batch) t.reject(e);
      return;
    }
    // The cache follows the file at once, in commit order: reads already see a commit whose sync
    // is still running (SQLite serves it), and a read served from the cache must agree with them.
    for (const r of results) {
      if (r === undefined || r instanceof Error) continue;
      for (const k of r.deleted) this.cache.delete(k);
      for (const rec of r.records) this.remember(rec);
    }
    batch.forEach((t, i) => {
      const r = results[i];
      if (r instanceof Error) t.reject(r);
      else t.resolve(r);
    });
  }

  /** Hands WAL checkpoints to a worker thread; if it fails, SQLite's own checkpoints come back. */
  startCheckpointer(intervalMs: number): void {
    const url = new URL('./checkpoint-worker.js', import.meta.url);
    const worker = new Worker(url, { workerData: { path: this.db.name, intervalMs } });
    this.db.pragma('wal_autocheckpoint = 0');
    const fallBack = (why: string): void => {
      if (this.checkpointer !== worker) return;
      this.checkpointer = undefined;
      if (!this.closed) {
        this.db.pragma('wal_autocheckpoint = 1000');
        process.emitWarning(`berth store: WAL checkpoint thread stopped (${why}); checkpointing inline`);
      }
    };
    worker.on('error', (e) => fallBack(e.message));
    worker.on('exit', (code) => fallBack(`exit code ${code}`));
    worker.on('message', (m: { type?: string; message?: string }) => {
      if (m.type === 'error') process.emitWarning(`berth store: WAL checkpoint failed: ${m.message ?? ''}`);
    });
    worker.unref();
    this.checkpointer = worker;
  }

  private async stopCheckpointer(): Promise<void> {
    const w = this.checkpointer;
    if (!w) return;
    this.checkpointer = undefined;
    // Held (ref) while stopping: an unref'd worker alone would let the process exit mid-close.
    w.ref();
    const exited = new Promise<void>((res) => w.once('exit', () => res()));
    w.postMessage({ type: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    await w.terminate();
  }

  /**
   * Resolves once the WAL has been synced by an fdatasync that started after this call: a sync
   * already running may have missed the caller's commit, so callers then wait for the next one,
   * which serves everyone who arrived meanwhile.
   */
  private syncWal(): Promise<void> {
    if (this.syncQueued) return this.syncQueued;
    const run = (): Promise<void> => {
      this.syncQueued = undefined;
      const p = this.datasyncWal().finally(() => {
        if (this.syncInFlight === p) this.syncInFlight = undefined;
      });
      this.syncInFlight = p;
      return p;
    };
    if (!this.syncInFlight) return run();
    this.syncQueued = this.syncInFlight.then(run, run);
    return this.syncQueued;
  }

  private async datasyncWal(): Promise<void> {
    // The WAL file keeps its inode while the database is open (checkpoints rewind it, and sync
    // it themselves before copying pages back), so one handle serves for the store's lifetime.
    this.wal ??= await open(`${this.db.name}-wal`, 'r');
    await this.wal.datasync();
  }

  /** Runs inside the SQLite transaction; throwing rolls everything back. Undefined = a compare failed. */
  private apply(compares: readonly Compare[], ops: readonly Op[]): Applied | undefined {
    for (const c of compares) {
      if ((this.stmt.version.get(c.key)?.version ?? 0) !== c.version) return undefined;
    }
    const current = this.readMeta('revision');
    const rev = current + 1;
    const changes: Change[] = [];
    const written = new Map<string, StoredRecord>();
    const deleted: string[] = [];
    for (const op of ops) {
      if (op.kind === 'put') {
        const json = JSON.stringify(op.value);
        if (typeof json !== 'string') throw new TypeError(`value for ${op.key} is not JSON-serialisable`);
        const { create_revision } = this.stmt.put.get({ key: op.key, value: json, rev })!;
        // Parsed back so watchers and the cache see exactly what a later get() would return.
        const value = freeze(JSON.parse(json) as unknown);
        this.stmt.addChange.run(rev, changes.length, op.key, 'put', json);
        changes.push(freeze({ type: 'put', key: op.key, value, revision: rev }));
        written.set(op.key, freeze({ key: op.key, value, version: rev, createRevision: create_revision }));
      } else if (this.stmt.del.run(op.key).changes > 0) {
        this.stmt.addChange.run(rev, changes.length, op.key, 'delete', null);
        changes.push(freeze({ type: 'delete', key: op.key, value: undefined, revision: rev }));
        written.delete(op.key);
        deleted.push(op.key);
      }
    }
    // Like etcd: a txn that changed nothing (no ops, or deletes of absent keys) keeps the revision.
    if (changes.length === 0) return { revision: current, changes, records: [], deleted };
    this.stmt.setMeta.run(rev, 'revision');
    this.compactIfDue(rev);
    return { revision: rev, changes, records: [...written.values()], deleted };
  }

  /**
   * Keeps at least `historyRetention` revisions; deletes in batches (about a tenth of the
   * window) so that most txns pay nothing and the rest one range delete on the primary key.
   */
  private compactIfDue(rev: number): void {
    const compacted = this.readMeta('compacted');
    const batch = Math.max(1, Math.min(1000, Math.ceil(this.historyRetention / 10)));
    const target = rev - this.historyRetention;
    if (target - compacted < batch) return;
    this.stmt.compact.run(target);
    this.stmt.setMeta.run(target, 'compacted');
  }

  watch(
    prefix: string,
    options: WatchOptions,
    onChange: (c: Change) => void,
    onError?: (e: Error) => void,
  ): Watcher {
    this.checkOpen();
    const from = options.fromRevision;
    if (from !== undefined && (!Number.isInteger(from) || from < 0)) {
      throw new RangeError(`fromRevision must be a non-negative integer, got ${from}`);
    }
    const now = this.currentRevision();
    const entry: WatchEntry = {
      prefix,
      upper: prefixUpperBound(prefix),
      onChange,
      onError,
      mode: from === undefined ? 'live' : 'catch-up',
      after: from ?? now,
      liveAfter: from === undefined ? now : Math.max(from, now),
      queue: [],
      failure: undefined,
      draining: false,
      closed: false,
    };
    this.watchers.add(entry);
    if (entry.mode === 'catch-up') {
      // The first page is read now: history retained when watch() is called is delivered even
      // if a txn compacts it before delivery starts.
      this.catchUp(entry);
      this.scheduleDrain(entry);
    }
    return {
      close: () => {
        entry.closed = true;
        this.watchers.delete(entry);
      },
    };
  }

  async revision(): Promise<number> {
    this.checkOpen();
    return this.currentRevision();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Txns already queued are committed, not dropped.
    this.flushPending();
    this.closed = true;
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
    this.cache.clear();
    await this.stopCheckpointer();
    // Writers already acknowledged or waiting on a sync get it before the file closes.
    await (this.syncQueued ?? this.syncInFlight)?.catch(() => undefined);
    await this.wal?.close();
    this.db.close();
  }

  private publish(changes: readonly Change[]): void {
    for (const w of this.watchers) {
      if (w.mode !== 'live') continue; // catching up: it will read these from the table
      let added = false;
      for (const c of changes) {
        if (c.revision > w.liveAfter && c.key.startsWith(w.prefix)) {
          w.queue.push(c);
          added = true;
        }
      }
      if (added) this.scheduleDrain(w);
    }
  }

  private scheduleDrain(w: WatchEntry): void {
    if (w.draining) return;
    w.draining = true;
    // Delivered off the txn's call stack: a slow or throwing watcher cannot hold up or fail the write.
    setImmediate(() => void this.drain(w));
  }

  /** One drain loop per watcher at a time (the `draining` flag): that is what keeps delivery in order. */
  private async drain(w: WatchEntry): Promise<void> {
    while (!w.closed) {
      const c = w.queue.shift();
      if (c) {
        this.deliver(w, c);
        continue;
      }
      if (w.failure) {
        this.end(w, w.failure);
        break;
      }
      if (w.mode === 'live') break;
      await new Promise((resolve) => setImmediate(resolve)); // let others run between pages
      if (!w.closed) this.catchUp(w);
    }
    w.draining = false;
  }

  /** Queues the next page of retained changes; a failure is kept for drain() to report in turn. */
  private catchUp(w: WatchEntry): void {
    try {
      const compacted = this.readMeta('compacted');
      if (w.after < compacted) throw new CompactedError(w.after, compacted + 1);
      const params = { after: w.after, lo: w.prefix, limit: WATCH_PAGE_ROWS };
      const rows =
        w.upper === undefined
          ? this.stmt.changesAfter.all(params)
          : this.stmt.changesAfterBounded.all({ ...params, hi: w.upper });
      let page = rows;
      if (rows.length === WATCH_PAGE_ROWS) {
        // The last revision may be cut short by LIMIT: leave it for the next page.
        const lastRev = rows[rows.length - 1]!.revision;
        page = rows.filter((r) => r.revision < lastRev);
        w.after = lastRev - 1;
      } else {
        // Caught up with everything committed so far. From here txns push to the queue, behind
        // this page (a txn made from a callback while the page is delivered included).
        const readAt = this.currentRevision();
        w.mode = 'live';
        w.liveAfter = Math.max(w.liveAfter, readAt);
        w.after = readAt;
      }
      for (const r of page) {
        const value = r.type === 'put' ? freeze(JSON.parse(r.value!) as unknown) : undefined;
        w.queue.push(freeze({ type: r.type as Change['type'], key: r.key, value, revision: r.revision }));
      }
    } catch (e) {
      // Compacted, or a read failed: end the watch rather than skip changes.
      w.failure = e instanceof Error ? e : new Error(String(e));
    }
  }

  private deliver(w: WatchEntry, c: Change): void {
    if (w.closed) return;
    try {
      w.onChange(c);
    } catch (e) {
      // The watcher may have missed this change; end it so its owner re-lists.
      this.end(w, e instanceof Error ? e : new Error(String(e)));
    }
  }

  private end(w: WatchEntry, e: Error): void {
    w.closed = true;
    this.watchers.delete(w);
    try {
      w.onError?.(e);
    } catch {
      // Nothing left to tell: the watch is already over.
    }
  }

  private toRecord(row: KvRow): StoredRecord {
    const hit = this.cache.get(row.key);
    if (hit && hit.version === row.version) return this.touch(hit);
    const rec = freeze({
      key: row.key,
      value: JSON.parse(row.value) as unknown,
      version: row.version,
      createRevision: row.create_revision,
    });
    this.remember(rec);
    return rec;
  }

  /** A cached record read again: re-inserted, since Map order is the LRU order. */
  private touch(hit: StoredRecord): StoredRecord {
    this.cache.delete(hit.key);
    this.cache.set(hit.key, hit);
    return hit;
  }

  private remember(rec: StoredRecord): void {
    if (this.cacheSize === 0) return;
    this.cache.delete(rec.key);
    this.cache.set(rec.key, rec);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  private readMeta(name: 'revision' | 'compacted'): number {
    const row = this.stmt.getMeta.get(name);
    if (!row) throw new Error(`store meta row ${name} is missing`);
    return row.value;
  }

  private currentRevision(): number {
    return this.readMeta('revision');
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the store is closed');
  }
}

/** Opens (creating if needed) the SQLite store at `options.path` and brings its schema up to date. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const retention = options.historyRetention ?? DEFAULT_HISTORY_RETENTION;
  if (!Number.isInteger(retention) || retention < 0) {
    throw new RangeError(`historyRetention must be a non-negative integer, got ${retention}`);
  }
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new RangeError(`cacheSize must be a non-negative integer, got ${cacheSize}`);
  }
  const synchronous = options.synchronous ?? 'GROUP';
  if (synchronous !== 'GROUP' && synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new RangeError(`synchronous must be GROUP, FULL or NORMAL, got ${String(synchronous)}`);
  }
  const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busy))}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal')
      throw new Error(`could not put ${options.path} in WAL mode (journal_mode is ${String(mode)})`);
    db.pragma(`synchronous = ${synchronous === 'GROUP' ? 'NORMAL' : synchronous}`);
    migrate(db);
    const store = new SqliteStore(db, retention, cacheSize, synchronous === 'GROUP');
    const interval = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (interval > 0) store.startCheckpointer(interval);
    return store;
  } catch (e) {
    db.close();
    throw e;
  }
}
