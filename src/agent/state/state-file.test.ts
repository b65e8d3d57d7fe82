import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTaskState } from '../engine/task-state.js';
import { agentTask, c, testIds } from '../engine/test-support.js';
import {
  STATE_FORMAT_VERSION,
  StateFormatError,
  ackReport,
  emptyState,
  enqueueReport,
  findRegistration,
  parseState,
  saveRegistration,
  takenAddresses,
} from './agent-state.js';
import { STATE_FILE, StateFile } from './state-file.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'berth-agent-state-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const report = (taskArn: string, status: 'PENDING' | 'RUNNING') => ({ taskArn, status, containers: [] });

describe('StateFile', () => {
  it('creates a state with a host id once, and reads the same one back', () => {
    const dir = tmp();
    let made = 0;
    const newHostId = () => `host-${++made}`;
    const a = StateFile.open(dir, { flushDelayMs: 10, newHostId });
    assert.equal(a.data.hostId, 'host-1');
    assert.ok(existsSync(join(dir, STATE_FILE)));
    const b = StateFile.open(dir, { flushDelayMs: 10, newHostId });
    assert.equal(b.data.hostId, 'host-1');
    assert.equal(made, 1);
  });

  it('round-trips tasks, registrations, outbox and addresses', () => {
    const dir = tmp();
    const f = StateFile.open(dir, { flushDelayMs: 10_000, newHostId: () => 'h' });
    const task = newTaskState(
      agentTask([c('app')], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['s'] },
      }),
      testIds,
    );
    task.network!.ip = '198.19.0.2';
    task.containers[0]!.dockerId = 'd1';
    f.data.tasks[task.task.taskArn] = task;
    saveRegistration(f.data, {
      endpoint: 'http://x',
      cluster: 'c',
      region: 'r',
      containerInstanceArn: 'arn:ci',
      registeredAt: 1,
    });
    enqueueReport(f.data, { id: 'r1', change: report(task.task.taskArn, 'PENDING'), queuedAt: 2 });
    f.data.lastAddress = '198.19.0.2';
    f.markDirty();
    f.flush();
    const g = StateFile.open(dir, { flushDelayMs: 10, newHostId: () => 'other' });
    assert.deepEqual(g.data, f.data);
    assert.deepEqual([...takenAddresses(g.data)], ['198.19.0.2']);
    assert.equal(findRegistration(g.data, 'http://x', 'c', 'r')?.containerInstanceArn, 'arn:ci');
  });

  it('writes changes after the delay, once for a burst', async () => {
    const dir = tmp();
    const f = StateFile.open(dir, { flushDelayMs: 30, newHostId: () => 'h' });
    const before = f.writes;
    for (let i = 0; i < 5; i++) {
      f.data.lastAddress = `10.0.0.${i}`;
      f.markDirty();
    }
    assert.equal(f.writes, before);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(f.writes, before + 1);
    assert.equal(StateFile.open(dir, { flushDelayMs: 1, newHostId: () => 'x' }).data.lastAddress, '10.0.0.4');
  });

  it('flush writes at once, only when something changed; close writes last changes', () => {
    const dir = tmp();
    const f = StateFile.open(dir, { flushDelayMs: 60_000, newHostId: () => 'h' });
    const n = f.writes;
    f.flush();
    assert.equal(f.writes, n);
    f.data.lastAddress = '1.2.3.4';
    f.markDirty();
    f.flush();
    assert.equal(f.writes, n + 1);
    f.data.lastAddress = '1.2.3.5';
    f.markDirty();
    f.close();
    assert.equal(StateFile.open(dir, { flushDelayMs: 1, newHostId: () => 'x' }).data.lastAddress, '1.2.3.5');
  });

  it('leaves no temporary file behind and never a torn document', () => {
    const dir = tmp();
    const f = StateFile.open(dir, { flushDelayMs: 1, newHostId: () => 'h' });
    f.markDirty();
    f.flush();
    assert.ok(!existsSync(join(dir, `${STATE_FILE}.tmp`)));
    // A temporary file left by a crash mid-write is ignored: the last complete state is read.
    writeFileSync(join(dir, `${STATE_FILE}.tmp`), '{"formatVer');
    assert.equal(StateFile.open(dir, { flushDelayMs: 1, newHostId: () => 'x' }).data.hostId, 'h');
  });

  it('refuses a damaged or foreign file with a clear message', () => {
    const dir = tmp();
    writeFileSync(join(dir, STATE_FILE), 'not json');
    assert.throws(() => StateFile.open(dir, { flushDelayMs: 1, newHostId: () => 'x' }), StateFormatError);
    assert.throws(() => parseState('{"formatVersion":99,"hostId":"h"}', 'f'), /format version 99/);
    assert.throws(() => parseState('{"formatVersion":1}', 'f'), /no hostId/);
  });
});

describe('StateFile journal', () => {
  const open = (dir: string, extra: { compactMinBytes?: number } = {}): StateFile =>
    StateFile.open(dir, { flushDelayMs: 60_000, newHostId: () => 'h', ...extra });
  const fileText = (dir: string): string => readFileSync(join(dir, STATE_FILE), 'utf8');
  const lines = (dir: string): string[] => fileText(dir).trimEnd().split('\n');
  const snapshotVersion = (dir: string): unknown =>
    (JSON.parse(lines(dir)[0]!) as { formatVersion: unknown }).formatVersion;
  const addTask = (f: StateFile, name: string): string => {
    const t = newTaskState(agentTask([c(name)], { taskArn: `arn:aws:ecs:r:1:task/c/${name}` }), testIds);
    f.data.tasks[t.task.taskArn] = t;
    return t.task.taskArn;
  };
  /** A state file holding tasks a and b, written. */
  const withTwoTasks = (dir: string): { f: StateFile; a: string; b: string } => {
    const f = open(dir);
    const a = addTask(f, 'a');
    const b = addTask(f, 'b');
    f.markDirty();
    f.flush();
    return { f, a, b };
  };

  it('appends only the task named as changed, and nothing when it did not change', () => {
    const dir = tmp();
    const { f, a, b } = withTwoTasks(dir);
    const before = lines(dir).length;
    f.data.tasks[a]!.known = 'RUNNING';
    f.markDirty(a);
    f.flush();
    const added = lines(dir).slice(before);
    assert.equal(added.length, 1);
    assert.ok(added[0]!.includes(a) && !added[0]!.includes(b));
    const n = f.writes;
    f.markDirty(a);
    f.markDirty(b);
    f.flush();
    assert.equal(f.writes, n, 'no change, no write');
    assert.equal(open(dir).data.tasks[a]!.known, 'RUNNING');
  });

  it('replays forgotten tasks, the outbox in order with acknowledgements, and the rest', () => {
    const dir = tmp();
    const { f, a, b } = withTwoTasks(dir);
    enqueueReport(f.data, { id: 'r1', change: report(a, 'PENDING'), queuedAt: 1 });
    enqueueReport(f.data, { id: 'r2', change: report(b, 'PENDING'), queuedAt: 2 });
    f.markDirty(a);
    f.flush();
    enqueueReport(f.data, { id: 'r3', change: report(a, 'RUNNING'), queuedAt: 3 });
    ackReport(f.data, 'r2');
    delete f.data.tasks[b];
    f.data.finished = { [b]: 5 };
    f.data.lastAddress = '198.19.0.9';
    f.markDirty(b);
    f.flush();
    const g = open(dir);
    assert.deepEqual(g.data, f.data);
    assert.deepEqual(
      g.data.outbox.map((e) => e.id),
      ['r3'],
    );
    assert.equal(g.data.tasks[b], undefined);
  });

  it('ignores a last line cut short by a kill (that flush never returned) and rewrites the file clean', () => {
    const dir = tmp();
    const f = open(dir);
    const a = addTask(f, 'a');
    f.markDirty();
    f.flush();
    const good = fileText(dir);
    f.data.tasks[a]!.known = 'RUNNING';
    f.markDirty(a);
    f.flush();
    const full = fileText(dir);
    // Every cut inside the last append leaves the state of the flush before it.
    for (const cut of [good.length + 1, good.length + 40, full.length - 2]) {
      writeFileSync(join(dir, STATE_FILE), full.slice(0, cut));
      const g = open(dir);
      assert.equal(g.data.tasks[a]!.known, 'PROVISIONING');
      assert.equal(lines(dir).length, 1, 'reopened as one snapshot');
    }
    writeFileSync(join(dir, STATE_FILE), full);
    assert.equal(open(dir).data.tasks[a]!.known, 'RUNNING');
  });

  it('refuses a damaged line that is not the last, and a change it does not know', () => {
    const dir = tmp();
    const f = open(dir);
    f.data.lastAddress = '1.1.1.1';
    f.markDirty();
    f.flush();
    const [snap, ...rest] = lines(dir);
    writeFileSync(join(dir, STATE_FILE), [snap, '{"task":', ...rest].join('\n') + '\n');
    assert.throws(() => open(dir), /line 2 is not JSON/);
    writeFileSync(join(dir, STATE_FILE), [snap, '{"what":1}'].join('\n') + '\n');
    assert.throws(() => open(dir), /line 2 is not a change this agent knows/);
  });

  it('journals finished tasks one line each, never with the rest of the document', () => {
    const dir = tmp();
    const f = open(dir);
    const finished: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) finished[`arn:aws:ecs:r:1:task/c/${String(i).padStart(32, '0')}`] = i;
    f.data.finished = finished;
    f.markDirty();
    f.flush();
    const before = fileText(dir).length;
    // A task cleaned up: its entry and the new address are all that is written.
    f.data.lastAddress = '198.19.0.77';
    finished['arn:new'] = 5000;
    f.markDirty('arn:new');
    f.flush();
    const added = fileText(dir).slice(before);
    assert.equal(added.trimEnd().split('\n').length, 2);
    assert.ok(added.length < 300, `appended ${added.length} bytes`);
    // An entry dropped (aged out) is written at the next full comparison.
    delete finished['arn:new'];
    const first = Object.keys(finished)[0]!;
    delete finished[first];
    f.markDirty();
    f.flush();
    const g = open(dir);
    assert.equal(Object.keys(g.data.finished!).length, 999);
    assert.equal(g.data.finished![first], undefined);
    assert.equal(g.data.lastAddress, '198.19.0.77');
    assert.deepEqual(g.data, f.data);
  });

  it('reads a version-2 journal, whose core lines carry the finished tasks', () => {
    const dir = tmp();
    const snapshot = { ...emptyState('v2-host'), formatVersion: 2, finished: { 'arn:a': 1 } };
    const core = { hostId: 'v2-host', registrations: [], lastAddress: '10.0.0.9', finished: { 'arn:b': 2 } };
    writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(snapshot)}\n${JSON.stringify({ core })}\n`);
    const f = open(dir);
    assert.deepEqual(f.data.finished, { 'arn:b': 2 });
    assert.equal(f.data.lastAddress, '10.0.0.9');
    assert.equal(snapshotVersion(dir), STATE_FORMAT_VERSION);
  });

  it('reads a version-1 file (one document) and writes the current version', () => {
    const dir = tmp();
    writeFileSync(
      join(dir, STATE_FILE),
      JSON.stringify({ ...emptyState('old-host'), formatVersion: 1, lastAddress: '10.0.0.7' }),
    );
    const f = open(dir);
    assert.equal(f.data.hostId, 'old-host');
    assert.equal(f.data.lastAddress, '10.0.0.7');
    assert.equal(snapshotVersion(dir), STATE_FORMAT_VERSION);
  });

  it('rewrites itself as one snapshot once the journal outgrows it', () => {
    const dir = tmp();
    const f = open(dir, { compactMinBytes: 4096 });
    const a = addTask(f, 'a');
    f.markDirty();
    f.flush();
    let longest = 0;
    for (let i = 0; i < 40; i++) {
      f.data.tasks[a]!.startedAt = i;
      f.markDirty(a);
      f.flush();
      longest = Math.max(longest, lines(dir).length);
    }
    assert.ok(longest > 2, 'appended for a while');
    assert.ok(lines(dir).length < longest, 'then compacted');
    assert.ok(!existsSync(join(dir, `${STATE_FILE}.tmp`)));
    assert.equal(open(dir).data.tasks[a]!.startedAt, 39);
  });
});

describe('outbox', () => {
  it('keeps one report per task (the newest) in order, and drops acknowledged ones', () => {
    const d = emptyState('h');
    enqueueReport(d, { id: '1', change: report('t1', 'PENDING'), queuedAt: 1 });
    enqueueReport(d, { id: '2', change: report('t2', 'PENDING'), queuedAt: 2 });
    enqueueReport(d, { id: '3', change: report('t1', 'RUNNING'), queuedAt: 3 });
    assert.deepEqual(
      d.outbox.map((e) => e.id),
      ['2', '3'],
    );
    assert.equal(ackReport(d, '1'), false);
    assert.equal(ackReport(d, '2'), true);
    assert.deepEqual(
      d.outbox.map((e) => e.id),
      ['3'],
    );
  });
});
