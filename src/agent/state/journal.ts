// The lines of the agent's state journal (state-file.ts) after its first, which is a whole
// AgentStateData: each line is one change, and reading the file applies them in order.
import type { TaskState } from '../engine/task-state.js';
import {
  StateFormatError,
  ackReport,
  enqueueReport,
  parseState,
  type AgentStateData,
  type OutboxEntry,
} from './agent-state.js';

/**
 * Everything but the tasks, the outbox and the finished tasks: small, written whole when any of
 * it changes. (Version 2 files carry `finished` here too; it is read from there.)
 */
export type CoreState = Omit<AgentStateData, 'formatVersion' | 'tasks' | 'outbox' | 'finished'> & {
  finished?: Record<string, number>;
};

export type JournalRecord =
  /** A task's state written anew, or (without `state`) the task forgotten. */
  | { task: string; state?: TaskState }
  | { queued: OutboxEntry }
  | { acked: string }
  | { core: CoreState }
  /**
   * A task cleaned up at `at` (epoch ms), or (without `at`) no longer remembered. One line
   * each: the map holds a day of tasks, too much to write whole with every other change.
   */
  | { finished: string; at?: number };

export function coreOf(d: AgentStateData): CoreState {
  return {
    hostId: d.hostId,
    registrations: d.registrations,
    ...(d.lastAddress !== undefined ? { lastAddress: d.lastAddress } : {}),
  };
}

/**
 * Reads a journal: the snapshot, then every change in order. A last line cut short (no newline
 * after it and not JSON) is a write a kill interrupted; it is reported through `onTorn` and
 * skipped. Anything else that does not parse is damage, and refused.
 */
export function readJournal(text: string, file: string, onTorn?: (line: number) => void): AgentStateData {
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  if (complete) lines.pop();
  const d = parseState(lines[0] ?? '', file);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    let r: JournalRecord;
    try {
      r = JSON.parse(line) as JournalRecord;
    } catch (e) {
      if (i === lines.length - 1 && !complete) {
        onTorn?.(i + 1);
        break;
      }
      throw new StateFormatError(
        `agent state ${file} line ${i + 1} is not JSON (${(e as Error).message}); move the file away to start afresh`,
      );
    }
    apply(d, r, file, i + 1);
  }
  return d;
}

function apply(d: AgentStateData, r: JournalRecord, file: string, line: number): void {
  if (r && typeof r === 'object') {
    if ('task' in r && typeof r.task === 'string') {
      if (r.state === undefined) delete d.tasks[r.task];
      else d.tasks[r.task] = r.state;
      return;
    }
    if ('queued' in r && r.queued && typeof r.queued.id === 'string') return enqueueReport(d, r.queued);
    if ('acked' in r && typeof r.acked === 'string') return void ackReport(d, r.acked);
    if ('finished' in r && typeof r.finished === 'string') {
      const finished = (d.finished ??= {});
      if (typeof r.at === 'number') finished[r.finished] = r.at;
      else delete finished[r.finished];
      return;
    }
    if ('core' in r && r.core && typeof r.core.hostId === 'string') {
      d.hostId = r.core.hostId;
      d.registrations = Array.isArray(r.core.registrations) ? r.core.registrations : [];
      if (typeof r.core.lastAddress === 'string') d.lastAddress = r.core.lastAddress;
      else delete d.lastAddress;
      // Version 2 wrote the whole map with the core.
      if (r.core.finished && typeof r.core.finished === 'object') d.finished = r.core.finished;
      return;
    }
  }
  throw new StateFormatError(`agent state ${file} line ${line} is not a change this agent knows`);
}
