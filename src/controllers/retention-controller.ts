// The retention controller: forgets what is over, as ECS does. A STOPPED task is deleted once it
// has been stopped for BERTH_STOPPED_TASK_RETENTION_MS (default 1 hour): DescribeTasks then
// answers it MISSING and ListTasks no longer lists it. A RunTask clientToken record is deleted
// once it is 24 hours old, when RunTask no longer honours it anyway. Rules in
// src/domain/task/retention.ts.
//
// One key, `sweep`: a pass every BERTH_RETENTION_INTERVAL_MS (default 1 minute) walks the task
// and clientToken records of every account and region in key order. Nothing indexes tasks by
// status or age, so a pass reads records; it is bounded twice so that a large store or a large
// backlog never holds the event loop: at most MAX_SCANNED_PER_PASS records read and
// MAX_PURGES_PER_PASS records deleted, with a yield to the event loop after every page and every
// few deletions. A pass that stops at a bound remembers where (in memory: after a restart the walk
// starts over, which costs one more walk) and the next one follows after BACKLOG_PASS_DELAY_MS.
//
// Each record is deleted in ONE transaction with compare-and-set on the version it was judged at:
// a task that changed meanwhile is judged again on its new version, so a task that is not STOPPED
// is never deleted. A task is its only record: no index or reverse list points at it (ListTasks,
// the scheduler's views and the agent gateway all read the tasks/ range), so the transaction is the
// task's delete alone. The records that name tasks are histories, not indexes: a RunTask claim's
// taskArns (a replay answers only the tasks still stored) and a service's stopsSeen watermark.
// For a service's task the compare also covers the service record, whose state decided that the
// service no longer needs the task (isNeededByService). Tasks of a RunTask that may still be
// retried with its clientToken are kept (isClaimPending): deleting one would let the retry create
// it again.
import type { Logger } from 'pino';
import type { Scope } from '../domain/arn.js';
import type { Clock } from '../domain/clock.js';
import type { ServiceRecord, TaskRecord } from '../domain/records.js';
import {
  CLIENT_TOKEN_RETENTION_MS,
  computeTaskRetention,
  isClaimPending,
  isNeededByService,
  isTokenExpired,
  serviceNameOfTask,
  type TokenClaimState,
} from '../domain/task/retention.js';
import { listScopes } from '../gateway/store-scan.js';
import { keys } from '../store/keys.js';
import type { Compare, Store, StoredRecord } from '../store/store.js';
import type { Controller, SyncResult, WatchSpec } from './controller.js';

/** The controller's one key. */
export const SWEEP_KEY = 'sweep';
export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;
/** Deletions per pass: a backlog (a first start with months of stopped tasks) goes in slices. */
export const MAX_PURGES_PER_PASS = 500;
/** Records read per pass, whatever is deleted: a store with many live tasks is walked in slices. */
export const MAX_SCANNED_PER_PASS = 5_000;
/** The pause after a pass that stopped at a bound, so that the API and other controllers get their turn. */
export const BACKLOG_PASS_DELAY_MS = 250;
/** Records per list call. */
const PAGE_SIZE = 250;
/** Deletions between two yields to the event loop (the embedded store commits synchronously). */
const PURGES_PER_YIELD = 25;
/** Attempts at one deletion before leaving the record to the next pass. */
const MAX_PURGE_ATTEMPTS = 3;

export interface RetentionDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** A STOPPED task is deleted once it has been stopped this long. */
  stoppedTaskRetentionMs: number;
  /** Time between two passes. */
  intervalMs: number;
  /** A clientToken record is deleted once it is this old. Default CLIENT_TOKEN_RETENTION_MS (24 h). */
  tokenRetentionMs?: number;
  /** Default MAX_PURGES_PER_PASS. */
  maxPurgesPerPass?: number;
  /** Default MAX_SCANNED_PER_PASS. */
  maxScannedPerPass?: number;
}

/** What one pass did. */
export interface RetentionPass {
  purgedTasks: number;
  purgedTokens: number;
  scanned: number;
  /** The walk reached the end of the keyspace; false when a bound stopped it. */
  complete: boolean;
}

type Kind = 'tasks' | 'idempotency';
const KINDS: readonly Kind[] = ['tasks', 'idempotency'];

/** `/<account>/<region>/<kind>/`: every record of that kind in the scope, whatever its cluster. */
function rangeOf(scope: Scope, kind: Kind): string {
  return `/${scope.account}/${scope.region}/${kind}/`;
}

/** Account, region and cluster of a task key (`/<account>/<region>/tasks/<cluster>/<id>`). */
function parseTaskKey(key: string): { scope: Scope; cluster: string } | undefined {
  const s = key.split('/');
  if (s.length !== 6 || s[0] !== '' || s[3] !== 'tasks' || s.some((p, i) => i > 0 && p === ''))
    return undefined;
  return { scope: { account: s[1]!, region: s[2]! }, cluster: s[4]! };
}

/** Where RunTask keeps a clientToken's claim (src/api/operations/tasks.ts, RunTask). */
export function runTaskClaimKey(scope: Scope, cluster: string, token: string): string {
  return keys.idempotency(scope, 'RunTask', `${encodeURIComponent(cluster)}/${encodeURIComponent(token)}`);
}

/** Where a pass resumes within a range, given the last key the walk read. */
function resumeIn(range: string, cursor: string | undefined): { skip: boolean; startAfter?: string } {
  if (cursor === undefined) return { skip: false };
  if (cursor.startsWith(range)) return { skip: false, startAfter: cursor };
  // Keys are compared as strings: a cursor past `range` without starting with it is past every key in it.
  return cursor > range ? { skip: true } : { skip: false };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Reads records at most once per pass; a lost compare refreshes the entry. */
class PassCache {
  private readonly records = new Map<string, StoredRecord<unknown> | undefined>();

  constructor(private readonly store: Store) {}

  async get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    if (!this.records.has(key)) this.records.set(key, await this.store.get(key));
    return this.records.get(key) as StoredRecord<T> | undefined;
  }

  forget(key: string): void {
    this.records.delete(key);
  }
}

/** Compares a deletion needs, or undefined to keep the record. */
type Judge = (rec: StoredRecord<unknown>, cache: PassCache) => Promise<Compare[] | undefined>;

export class RetentionController implements Controller {
  readonly name = 'retention';
  /** Nothing to follow: age, not a change, is what makes a record expire. */
  readonly watches: readonly WatchSpec[] = [];
  private readonly log: Logger;
  private readonly tokenRetentionMs: number;
  private readonly maxPurges: number;
  private readonly maxScanned: number;
  /** Last key the walk read, while a walk is unfinished. */
  private cursor: string | undefined;
  /** Epoch ms before which a sync (the periodic resync enqueues the key too) does nothing. */
  private nextPassAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: RetentionDeps) {
    this.log = deps.log.child({ controller: this.name });
    this.tokenRetentionMs = deps.tokenRetentionMs ?? CLIENT_TOKEN_RETENTION_MS;
    this.maxPurges = deps.maxPurgesPerPass ?? MAX_PURGES_PER_PASS;
    this.maxScanned = deps.maxScannedPerPass ?? MAX_SCANNED_PER_PASS;
    for (const [what, v] of [
      ['stoppedTaskRetentionMs', deps.stoppedTaskRetentionMs],
      ['intervalMs', deps.intervalMs],
      ['tokenRetentionMs', this.tokenRetentionMs],
      ['maxPurgesPerPass', this.maxPurges],
      ['maxScannedPerPass', this.maxScanned],
    ] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new Error(`${what} must be a positive number, got ${v}`);
    }
  }

  async listKeys(): Promise<string[]> {
    return [SWEEP_KEY];
  }

  async sync(key: string): Promise<SyncResult | void> {
    if (key !== SWEEP_KEY) return;
    const now = this.deps.clock.now();
    if (now < this.nextPassAt) return { requeueAfterMs: this.nextPassAt - now };
    const pass = await this.runPass();
    const delay = pass.complete
      ? this.deps.intervalMs
      : Math.min(BACKLOG_PASS_DELAY_MS, this.deps.intervalMs);
    this.nextPassAt = now + delay;
    return { requeueAfterMs: delay };
  }

  /** One bounded pass of the walk (see the top of the file). Public for tests. */
  async runPass(): Promise<RetentionPass> {
    const now = this.deps.clock.now();
    const cache = new PassCache(this.deps.store);
    const judges: Record<Kind, Judge> = {
      tasks: (rec, c) => this.judgeTask(rec as StoredRecord<TaskRecord>, c, now),
      idempotency: async (rec) =>
        isTokenExpired(rec.value as TokenClaimState, now, this.tokenRetentionMs)
          ? [{ key: rec.key, version: rec.version }]
          : undefined,
    };
    const ranges = (await listScopes(this.deps.store))
      .flatMap((s) => KINDS.map((kind) => ({ kind, range: rangeOf(s, kind) })))
      .sort((a, b) => (a.range < b.range ? -1 : a.range > b.range ? 1 : 0));
    const pass: RetentionPass = { purgedTasks: 0, purgedTokens: 0, scanned: 0, complete: false };
    const stopped = (): RetentionPass => {
      this.report(pass);
      return pass;
    };
    for (const { kind, range } of ranges) {
      const resume = resumeIn(range, this.cursor);
      if (resume.skip) continue;
      let startAfter = resume.startAfter;
      for (;;) {
        const limit = Math.min(PAGE_SIZE, this.maxScanned - pass.scanned);
        if (limit <= 0) return stopped();
        const page = await this.deps.store.list<unknown>(
          range,
          startAfter === undefined ? { limit } : { startAfter, limit },
        );
        for (const rec of page) {
          pass.scanned++;
          this.cursor = rec.key;
          startAfter = rec.key;
          if (!(await this.purge(rec, judges[kind], cache))) continue;
          if (kind === 'tasks') pass.purgedTasks++;
          else pass.purgedTokens++;
          const purged = pass.purgedTasks + pass.purgedTokens;
          if (purged >= this.maxPurges) return stopped();
          if (purged % PURGES_PER_YIELD === 0) await yieldToEventLoop();
        }
        await yieldToEventLoop();
        if (page.length < limit) break;
      }
    }
    this.cursor = undefined;
    pass.complete = true;
    this.report(pass);
    return pass;
  }

  /** Deletes the record if the judge says so, judging again on every lost compare. */
  private async purge(first: StoredRecord<unknown>, judge: Judge, cache: PassCache): Promise<boolean> {
    let rec: StoredRecord<unknown> | undefined = first;
    for (let attempt = 1; attempt <= MAX_PURGE_ATTEMPTS && rec; attempt++) {
      const compares = await judge(rec, cache);
      if (!compares) return false;
      const r = await this.deps.store.txn(compares, [{ kind: 'delete', key: rec.key }]);
      if (r.succeeded) return true;
      for (const c of compares) cache.forget(c.key);
      rec = await this.deps.store.get(rec.key);
    }
    if (rec) this.log.debug({ key: rec.key }, 'record kept changing; left to the next pass');
    return false;
  }

  private async judgeTask(
    rec: StoredRecord<TaskRecord>,
    cache: PassCache,
    now: number,
  ): Promise<Compare[] | undefined> {
    const task = rec.value;
    if (computeTaskRetention(task, now, this.deps.stoppedTaskRetentionMs).kind !== 'expired')
      return undefined;
    const where = parseTaskKey(rec.key);
    if (!where) return undefined;
    const compares: Compare[] = [{ key: rec.key, version: rec.version }];
    const token = task.berth?.clientToken;
    if (token !== undefined) {
      const claim = await cache.get<TokenClaimState>(runTaskClaimKey(where.scope, where.cluster, token));
      if (isClaimPending(claim?.value, now, this.tokenRetentionMs)) return undefined;
    }
    const serviceName = serviceNameOfTask(task);
    if (serviceName !== undefined) {
      const serviceKey = keys.service(where.scope, where.cluster, serviceName);
      const service = await cache.get<ServiceRecord>(serviceKey);
      if (isNeededByService(task, service?.value)) return undefined;
      compares.push({ key: serviceKey, version: service?.version ?? 0 });
    }
    return compares;
  }

  private report(pass: RetentionPass): void {
    const fields = { ...pass, cursor: this.cursor };
    if (pass.purgedTasks + pass.purgedTokens > 0) this.log.info(fields, 'retention pass purged records');
    else this.log.debug(fields, 'retention pass');
  }
}
