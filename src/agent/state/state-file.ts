// The agent state on disk: `<dataDir>/state.json`, a journal of JSON lines. The first line is a
// whole document (AgentStateData); each later line is one change (journal.ts): a task written or
// forgotten, a report queued or acknowledged, a task finished or no longer remembered, or the
// rest of the document written anew. A flush appends what changed since the last one in a
// single write, so its cost follows the change, not the number of tasks held: rewriting and
// renaming the whole document (180 KB with 50 tasks) for every batch of reports cost the agent
// a quarter of a second of CPU per 50 task starts.
//
// The journal is rewritten as one snapshot (temporary file, then a rename over the old one) when
// it is opened and when it has grown to several times its snapshot, so a kill -9 at any moment
// leaves either the old or the new file. An append cut short by a kill leaves a torn last line:
// that flush never returned, so nothing it held was reported, and it is ignored when read.
//
// Changes are written after a short delay so that a burst of them costs one write; `flush()`
// writes at once and is called before any report leaves the agent, so nothing is ever reported
// that the agent could forget. No fsync: the process may die at any time, the machine is assumed
// not to (surviving power loss would cost a disk flush per report).
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { emptyState, type AgentStateData } from './agent-state.js';
import { coreOf, readJournal, type JournalRecord } from './journal.js';

export const STATE_FILE = 'state.json';

/** A journal longer than this many times its snapshot (and than COMPACT_MIN_BYTES) is rewritten. */
const COMPACT_RATIO = 4;
const COMPACT_MIN_BYTES = 1 << 20;

export class StateFile {
  private dirty = false;
  /** Tasks named as changed since the last flush; `allTasks` when a caller did not say which. */
  private readonly dirtyTasks = new Set<string>();
  private allTasks = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private fd: number | undefined;
  private journalBytes = 0;
  private snapshotBytes = 0;
  /** What the file says now, to append only real changes. */
  private readonly writtenTasks = new Map<string, string>();
  private writtenOutbox = new Set<string>();
  private writtenFinished = new Map<string, number>();
  private writtenCore = '';
  /** Writes done (appends and snapshots), for tests and metrics. */
  writes = 0;

  private constructor(
    readonly path: string,
    readonly data: AgentStateData,
    private readonly flushDelayMs: number,
    private readonly log?: Logger,
    private readonly compactMinBytes = COMPACT_MIN_BYTES,
  ) {}

  /** Reads the state of `dir`, or starts one with a new host id when there is none. */
  static open(
    dir: string,
    opts: { flushDelayMs: number; newHostId: () => string; log?: Logger; compactMinBytes?: number },
  ): StateFile {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, STATE_FILE);
    const data = existsSync(path)
      ? readJournal(readFileSync(path, 'utf8'), path, (line) =>
          opts.log?.warn({ path, line }, 'agent state ended in a torn line (a write cut short); ignored'),
        )
      : emptyState(opts.newHostId());
    const f = new StateFile(path, data, opts.flushDelayMs, opts.log, opts.compactMinBytes);
    // A fresh snapshot: drops what a torn tail or a long journal would cost every later read.
    f.compact();
    return f;
  }

  /**
   * Something changed: write it soon. Name the task when only that task (and the outbox or the
   * rest of the document) changed; without a name every task is compared with what was written.
   */
  markDirty(taskArn?: string): void {
    if (this.closed) return;
    if (taskArn === undefined) this.allTasks = true;
    else this.dirtyTasks.add(taskArn);
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (err) {
        this.log?.error({ err, path: this.path }, 'could not write the agent state; retrying');
        this.markDirty();
      }
    }, this.flushDelayMs);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write. Throws when the disk refuses. */
  flush(): void {
    if (!this.dirty) return;
    const changes = this.changes();
    if (changes.length > 0) {
      const text = changes.map((c) => c.line).join('\n') + '\n';
      if (
        this.journalBytes + text.length >
        Math.max(this.compactMinBytes, COMPACT_RATIO * this.snapshotBytes)
      ) {
        this.compact();
      } else {
        this.append(text);
        for (const c of changes) c.written();
      }
    }
    this.dirty = false;
    this.allTasks = false;
    this.dirtyTasks.clear();
  }

  /** Final write; later changes are not saved. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The journal lines that bring the file up to `data`, each with what to remember once written. */
  private changes(): { line: string; written: () => void }[] {
    const out: { line: string; written: () => void }[] = [];
    const add = (r: JournalRecord, written: () => void): void =>
      void out.push({ line: JSON.stringify(r), written });
    const core = coreOf(this.data);
    const coreText = JSON.stringify(core);
    if (coreText !== this.writtenCore) add({ core }, () => (this.writtenCore = coreText));
    // With no task named, every one held or written is compared.
    const namesIn = (held: object, written: Map<string, unknown>): Iterable<string> =>
      this.allTasks ? new Set([...Object.keys(held), ...written.keys()]) : this.dirtyTasks;
    for (const arn of namesIn(this.data.tasks, this.writtenTasks)) {
      const state = this.data.tasks[arn];
      if (state === undefined) {
        if (this.writtenTasks.has(arn)) add({ task: arn }, () => this.writtenTasks.delete(arn));
        continue;
      }
      const text = JSON.stringify(state);
      if (text === this.writtenTasks.get(arn)) continue;
      // The state's text is spliced in as it is: stringifying the record would do it twice.
      out.push({
        line: `{"task":${JSON.stringify(arn)},"state":${text}}`,
        written: () => this.writtenTasks.set(arn, text),
      });
    }
    // Finished tasks: a named task's entry, or with no name every entry. The entries a clean-up
    // drops when they age out are written at the next full comparison or snapshot; until then
    // the file remembers them a little longer, which is harmless.
    const finished = this.data.finished ?? {};
    for (const arn of namesIn(finished, this.writtenFinished)) {
      const at = finished[arn];
      if (at === this.writtenFinished.get(arn)) continue;
      if (at === undefined) add({ finished: arn }, () => this.writtenFinished.delete(arn));
      else add({ finished: arn, at }, () => this.writtenFinished.set(arn, at));
    }
    // Acknowledged before queued: replaying a queued entry also drops its task's older one.
    const now = new Set(this.data.outbox.map((e) => e.id));
    for (const id of this.writtenOutbox)
      if (!now.has(id)) add({ acked: id }, () => this.writtenOutbox.delete(id));
    for (const e of this.data.outbox)
      if (!this.writtenOutbox.has(e.id)) add({ queued: e }, () => this.writtenOutbox.add(e.id));
    return out;
  }

  private append(text: string): void {
    this.fd ??= openSync(this.path, 'a');
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.journalBytes += buf.length;
    this.writes++;
  }

  /** Rewrites the file as one snapshot of `data`. */
  private compact(): void {
    const text = JSON.stringify(this.data) + '\n';
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.path);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.snapshotBytes = this.journalBytes = Buffer.byteLength(text);
    this.writes++;
    this.writtenCore = JSON.stringify(coreOf(this.data));
    this.writtenTasks.clear();
    for (const [arn, state] of Object.entries(this.data.tasks))
      this.writtenTasks.set(arn, JSON.stringify(state));
    this.writtenOutbox = new Set(this.data.outbox.map((e) => e.id));
    this.writtenFinished = new Map(Object.entries(this.data.finished ?? {}));
  }
}
