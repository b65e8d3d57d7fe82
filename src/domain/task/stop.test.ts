import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskRecord } from '../records.js';
import { USER_STOP_REASON, requestTaskStop } from './stop.js';

const running: TaskRecord = {
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/abc',
  clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c',
  desiredStatus: 'RUNNING',
  lastStatus: 'RUNNING',
  version: 3,
  tags: [],
  berth: {},
};

describe('requestTaskStop', () => {
  it('sets desiredStatus STOPPED, UserInitiated, the default reason and stoppingAt', () => {
    const next = requestTaskStop(running, { now: 5_000 })!;
    assert.equal(next.desiredStatus, 'STOPPED');
    assert.equal(next.stopCode, 'UserInitiated');
    assert.equal(next.stoppedReason, USER_STOP_REASON);
    assert.equal(next.stoppingAt, 5);
    assert.equal(next.version, 4);
    assert.equal(next.lastStatus, 'RUNNING', 'only the agent moves lastStatus');
    assert.equal(running.desiredStatus, 'RUNNING', 'the input is not mutated');
  });

  it('keeps the given reason and stop code', () => {
    const next = requestTaskStop(running, {
      now: 0,
      reason: 'scale in',
      stopCode: 'ServiceSchedulerInitiated',
    })!;
    assert.equal(next.stoppedReason, 'scale in');
    assert.equal(next.stopCode, 'ServiceSchedulerInitiated');
  });

  it('changes nothing for a task already asked to stop: the first request wins', () => {
    const first = requestTaskStop(running, { now: 1_000, reason: 'first' })!;
    assert.equal(requestTaskStop(first, { now: 2_000, reason: 'second' }), undefined);
  });

  it('keeps a stop code and reason the task already has', () => {
    const exited: TaskRecord = { ...running, stopCode: 'EssentialContainerExited', stoppedReason: 'exited' };
    const next = requestTaskStop(exited, { now: 0 })!;
    assert.equal(next.stopCode, 'EssentialContainerExited');
    assert.equal(next.stoppedReason, 'exited');
  });
});
