import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTaskState } from '../engine/task-state.js';
import { agentTask, c, testIds } from '../engine/test-support.js';
import {
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
    assert.equal(
      (JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { lastAddress: string }).lastAddress,
      '10.0.0.4',
    );
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
