// The agent state on disk: `<dataDir>/state.json`, replaced atomically (write a temporary file,
// then rename it over the old one), so a kill -9 at any moment leaves either the old or the new
// document, never a torn one. Changes are written after a short delay so that a burst of them
// costs one write; `flush()` writes at once and is called before any report leaves the agent,
// so nothing is ever reported that the agent could forget.
// No fsync: the process may die at any time, the machine is assumed not to (a rename survives a
// process crash; surviving power loss would cost a disk flush per report).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { emptyState, parseState, type AgentStateData } from './agent-state.js';

export const STATE_FILE = 'state.json';

export class StateFile {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Writes done, for tests and metrics. */
  writes = 0;

  private constructor(
    readonly path: string,
    readonly data: AgentStateData,
    private readonly flushDelayMs: number,
    private readonly log?: Logger,
  ) {}

  /** Reads the state of `dir`, or starts one with a new host id when there is none. */
  static open(dir: string, opts: { flushDelayMs: number; newHostId: () => string; log?: Logger }): StateFile {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, STATE_FILE);
    if (!existsSync(path)) {
      const f = new StateFile(path, emptyState(opts.newHostId()), opts.flushDelayMs, opts.log);
      f.dirty = true;
      f.flush();
      return f;
    }
    return new StateFile(path, parseState(readFileSync(path, 'utf8'), path), opts.flushDelayMs, opts.log);
  }

  /** Something changed: write it soon. */
  markDirty(): void {
    if (this.closed) return;
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
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data));
    renameSync(tmp, this.path);
    this.dirty = false;
    this.writes++;
  }

  /** Final write; later changes are not saved. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
    this.closed = true;
  }
}
