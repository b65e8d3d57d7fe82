import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskRecord } from '../domain/records.js';
import {
  computeLostTask,
  decideHostHealth,
  formatDuration,
  lostHostReason,
  type HostHealthDecision,
  type HostHealthInput,
} from './instance-health.js';

const MIN = 60_000;
const T = Date.UTC(2026, 0, 1);

describe('decideHostHealth', () => {
  const base: HostHealthInput = {
    agentConnected: false,
    registered: true,
    disconnectedAt: T,
    now: T,
    lostAfterMs: 5 * MIN,
    observingSince: T - 60 * MIN,
  };
  const table: [string, Partial<HostHealthInput>, HostHealthDecision][] = [
    ['connected: nothing to do', { agentConnected: true }, { kind: 'connected' }],
    [
      'connected with a stale disconnectedAt: still connected',
      { agentConnected: true, disconnectedAt: T - 60 * MIN },
      { kind: 'connected' },
    ],
    [
      'deregistered, even if long gone',
      { registered: false, disconnectedAt: T - 60 * MIN },
      { kind: 'deregistered' },
    ],
    ['disconnected since an unknown time: stamp now', { disconnectedAt: undefined }, { kind: 'stamp' }],
    ['just disconnected: wait the whole timeout', {}, { kind: 'disconnected', lostInMs: 5 * MIN }],
    [
      'a brief disconnect (2 minutes): wait the rest',
      { now: T + 2 * MIN },
      { kind: 'disconnected', lostInMs: 3 * MIN },
    ],
    [
      'one ms before the timeout: still waiting',
      { now: T + 5 * MIN - 1 },
      { kind: 'disconnected', lostInMs: 1 },
    ],
    ['at the timeout: lost', { now: T + 5 * MIN }, { kind: 'lost', disconnectedForMs: 5 * MIN }],
    ['long past the timeout: lost', { now: T + 90 * MIN }, { kind: 'lost', disconnectedForMs: 90 * MIN }],
    [
      'disconnected before the control plane started: the clock starts at the start',
      { disconnectedAt: T - 60 * MIN, observingSince: T - MIN, now: T },
      { kind: 'disconnected', lostInMs: 4 * MIN },
    ],
    [
      '... and is lost a full timeout after the start',
      { disconnectedAt: T - 60 * MIN, observingSince: T - MIN, now: T + 4 * MIN },
      { kind: 'lost', disconnectedForMs: 64 * MIN },
    ],
    [
      'disconnectedAt in the future (another clock): the timeout counts from it',
      { disconnectedAt: T + MIN, now: T },
      { kind: 'disconnected', lostInMs: 6 * MIN },
    ],
  ];
  for (const [name, over, want] of table) {
    it(name, () => assert.deepEqual(decideHostHealth({ ...base, ...over }), want));
  }
});

describe('lostHostReason / formatDuration', () => {
  it('names the host and the timeout in the largest whole unit', () => {
    assert.equal(
      lostHostReason({ kind: 'instance', containerInstanceId: 'abc123' }, 5 * MIN),
      'Container instance abc123 lost: its agent has been disconnected for more than 5 minutes.',
    );
    assert.equal(
      lostHostReason({ kind: 'managed', hostId: 'host-7' }, 2_000),
      'Host host-7 lost: its agent has been disconnected for more than 2 seconds.',
    );
    assert.deepEqual([MIN, 90_000, 1_000, 1_500, 150].map(formatDuration), [
      '1 minute',
      '90 seconds',
      '1 second',
      '1500 ms',
      '150 ms',
    ]);
  });
});

describe('computeLostTask', () => {
  const reserved = { cpu: 256, memory: 512, ports: [8080], portsUdp: [] };
  const running: TaskRecord = {
    taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/t1',
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    startedAt: T / 1000 - 100,
    version: 3,
    containers: [
      { name: 'web', lastStatus: 'RUNNING', runtimeId: 'c1' },
      { name: 'side', lastStatus: 'PENDING' },
    ],
    attachments: [{ id: 'eni-att', type: 'ElasticNetworkInterface', status: 'ATTACHED', details: [] }],
    tags: [],
    berth: { reserved },
  };
  const now = T + 10 * MIN;
  const reason = 'Container instance x lost: its agent has been disconnected for more than 5 minutes.';

  it('marks a RUNNING task STOPPED by the control plane and releases its reservation from the running count', () => {
    const out = computeLostTask(running, { now, reason })!;
    const t = out.task;
    assert.equal(t.lastStatus, 'STOPPED');
    assert.equal(t.desiredStatus, 'STOPPED');
    assert.equal(t.stopCode, 'InfrastructureHealth');
    assert.equal(t.stoppedReason, reason);
    assert.equal(t.stoppingAt, now / 1000);
    assert.equal(t.executionStoppedAt, now / 1000);
    assert.equal(t.stoppedAt, now / 1000);
    assert.equal(t.startedAt, running.startedAt, 'other fields kept');
    assert.equal(t.version, 4);
    assert.deepEqual(
      t.containers?.map((c) => [c.name, c.lastStatus, c.runtimeId]),
      [
        ['web', 'STOPPED', 'c1'],
        ['side', 'STOPPED', undefined],
      ],
    );
    assert.equal(t.attachments?.[0]?.status, 'DELETED');
    assert.deepEqual(t.berth, { reserved, released: true });
    assert.deepEqual(out.hostChange, { from: 'RUNNING', release: reserved });
    assert.equal(running.lastStatus, 'RUNNING', 'the input is not mutated');
    assert.equal(running.containers?.[0]?.lastStatus, 'RUNNING');
  });

  it('keeps the first stop: a task the user already asked to stop keeps its code, reason and stoppingAt', () => {
    const asked: TaskRecord = {
      ...running,
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'Task stopped by user',
      stoppingAt: T / 1000,
    };
    const t = computeLostTask(asked, { now, reason })!.task;
    assert.equal(t.stopCode, 'UserInitiated');
    assert.equal(t.stoppedReason, 'Task stopped by user');
    assert.equal(t.stoppingAt, T / 1000);
    assert.equal(t.stoppedAt, now / 1000);
  });

  it('a PROVISIONING task leaves the pending count', () => {
    const out = computeLostTask({ ...running, lastStatus: 'PROVISIONING', containers: [] }, { now, reason })!;
    assert.deepEqual(out.hostChange, { from: 'PENDING', release: reserved });
  });

  it('a task on its way down counts nowhere; an already released reservation is not given back twice', () => {
    const out = computeLostTask(
      { ...running, lastStatus: 'DEPROVISIONING', berth: { reserved, released: true } },
      { now, reason },
    )!;
    assert.deepEqual(out.hostChange, {});
  });

  it('a STOPPED task: nothing to write', () => {
    assert.equal(computeLostTask({ ...running, lastStatus: 'STOPPED' }, { now, reason }), undefined);
  });
});
