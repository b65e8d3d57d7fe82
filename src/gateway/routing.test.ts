import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerInstanceKeyOf, decideTaskPush, isTaskOnHost, parseTaskKey } from './routing.js';

const CI = 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';

describe('parseTaskKey', () => {
  it('splits a task key into scope, cluster and id', () => {
    assert.deepEqual(parseTaskKey('/123456789012/us-east-1/tasks/prod/abc'), {
      scope: { account: '123456789012', region: 'us-east-1' },
      cluster: 'prod',
      id: 'abc',
    });
  });
  it('refuses every other key, including clusters named "tasks"', () => {
    for (const k of [
      '/123456789012/us-east-1/clusters/tasks',
      '/123456789012/us-east-1/tasks/prod/',
      '/123456789012/us-east-1/tasks/prod',
      '/123456789012/us-east-1/idempotency/RunTask/tok',
      '/_global/managed-hosts/h1',
      '/123456789012/us-east-1/tasks/prod/abc/extra',
    ]) {
      assert.equal(parseTaskKey(k), undefined, k);
    }
  });
});

describe('containerInstanceKeyOf', () => {
  it('maps a long-form instance ARN to its store key', () => {
    assert.deepEqual(containerInstanceKeyOf(CI), {
      scope: { account: '123456789012', region: 'us-east-1' },
      cluster: 'prod',
      key: '/123456789012/us-east-1/container-instances/prod/0123456789abcdef0123456789abcdef',
    });
  });
  it('refuses short-form, non-instance and garbage ARNs', () => {
    assert.equal(
      containerInstanceKeyOf('arn:aws:ecs:us-east-1:123456789012:container-instance/abc'),
      undefined,
    );
    assert.equal(containerInstanceKeyOf('arn:aws:ecs:us-east-1:123456789012:task/prod/abc'), undefined);
    assert.equal(containerInstanceKeyOf('not-an-arn'), undefined);
  });
});

describe('isTaskOnHost', () => {
  const target = { hostId: 'host-a', instanceArns: new Set([CI]) };
  it('routes EC2 tasks by container instance and managed tasks by host id', () => {
    assert.equal(isTaskOnHost({ containerInstanceArn: CI, berth: {} }, target), true);
    assert.equal(isTaskOnHost({ berth: { managedHostId: 'host-a' } }, target), true);
    assert.equal(isTaskOnHost({ containerInstanceArn: `${CI}0`, berth: {} }, target), false);
    assert.equal(isTaskOnHost({ berth: { managedHostId: 'host-b' } }, target), false);
    assert.equal(isTaskOnHost({ berth: {} }, target), false);
  });
});

describe('decideTaskPush', () => {
  const running = { desiredStatus: 'RUNNING', lastStatus: 'PROVISIONING' };
  it('sends a task new to the session, unless it is already STOPPED', () => {
    assert.deepEqual(decideTaskPush(undefined, running, 5, true), {
      send: true,
      next: { version: 5, desiredStatus: 'RUNNING' },
    });
    assert.deepEqual(
      decideTaskPush(undefined, { desiredStatus: 'STOPPED', lastStatus: 'STOPPED' }, 5, true),
      {
        send: false,
        next: undefined,
      },
    );
  });
  it('does not echo a report: lastStatus moved, desiredStatus did not', () => {
    const d = decideTaskPush(
      { version: 5, desiredStatus: 'RUNNING' },
      { ...running, lastStatus: 'RUNNING' },
      7,
      true,
    );
    assert.deepEqual(d, { send: false, next: { version: 7, desiredStatus: 'RUNNING' } });
  });
  it('sends a desiredStatus change', () => {
    const d = decideTaskPush(
      { version: 7, desiredStatus: 'RUNNING' },
      { desiredStatus: 'STOPPED', lastStatus: 'RUNNING' },
      9,
      true,
    );
    assert.deepEqual(d, { send: true, next: { version: 9, desiredStatus: 'STOPPED' } });
  });
  it('ignores changes not newer than what the session holds', () => {
    const prev = { version: 9, desiredStatus: 'STOPPED' };
    assert.deepEqual(decideTaskPush(prev, running, 9, true), { send: false, next: prev });
    assert.deepEqual(decideTaskPush(prev, running, 3, true), { send: false, next: prev });
  });
  it('forgets a task once it reached STOPPED, and never resends it', () => {
    const d = decideTaskPush(
      { version: 9, desiredStatus: 'STOPPED' },
      { desiredStatus: 'STOPPED', lastStatus: 'STOPPED' },
      11,
      true,
    );
    assert.deepEqual(d, { send: false, next: undefined });
    assert.equal(
      decideTaskPush(undefined, { desiredStatus: 'STOPPED', lastStatus: 'STOPPED' }, 12, true).send,
      false,
    );
  });
  it('keeps a floor entry: an older change cannot resurrect a task the full sync saw stopped', () => {
    const floor = { version: 20, desiredStatus: 'STOPPED', floor: true };
    assert.deepEqual(decideTaskPush(floor, running, 15, true), { send: false, next: floor });
    assert.deepEqual(decideTaskPush(floor, { desiredStatus: 'STOPPED', lastStatus: 'STOPPED' }, 25, true), {
      send: false,
      next: floor,
    });
  });
  it('forgets deleted tasks and tasks that are no longer on the host', () => {
    assert.deepEqual(decideTaskPush({ version: 1, desiredStatus: 'RUNNING' }, undefined, 4, true), {
      send: false,
      next: undefined,
    });
    assert.deepEqual(decideTaskPush({ version: 1, desiredStatus: 'RUNNING' }, running, 4, false), {
      send: false,
      next: undefined,
    });
  });
});
