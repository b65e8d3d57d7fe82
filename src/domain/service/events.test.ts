import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_SERVICE_EVENTS,
  appendServiceEvents,
  deploymentCompletedEvent,
  startedTasksEvents,
  steadyStateEvent,
  stoppedTasksEvents,
  taskStoppedOnItsOwnEvent,
  unableToPlaceEvent,
} from './events.js';

const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/prod/${id}`;

describe('service event texts', () => {
  it('are ECS sentences', () => {
    assert.deepEqual(startedTasksEvents('web', [arn('abc'), arn('def')]), [
      '(service web) has started 2 tasks: (task abc) (task def).',
    ]);
    assert.deepEqual(stoppedTasksEvents('web', [arn('abc')]), [
      '(service web) has stopped 1 running tasks: (task abc).',
    ]);
    assert.equal(steadyStateEvent('web'), '(service web) has reached a steady state.');
    assert.equal(
      deploymentCompletedEvent('web', 'ecs-svc/123'),
      '(service web) (deployment ecs-svc/123) deployment completed.',
    );
    assert.equal(
      taskStoppedOnItsOwnEvent('web', arn('x'), 'CannotPullContainerError: nope'),
      '(service web) (task x) stopped: CannotPullContainerError: nope.',
    );
  });

  it('split long task lists into events of 10', () => {
    const many = Array.from({ length: 23 }, (_, i) => arn(`t${i}`));
    const msgs = startedTasksEvents('web', many);
    assert.equal(msgs.length, 3);
    assert.match(msgs[2]!, /has started 3 tasks/);
  });
});

describe('appendServiceEvents', () => {
  let n = 0;
  const id = () => `e${++n}`;
  const T = Date.UTC(2026, 0, 1);

  it('puts the newest first and keeps at most 100', () => {
    const old = Array.from({ length: 100 }, (_, i) => ({
      id: `o${i}`,
      createdAt: T / 1000 - 3600 - i,
      message: `old ${i}`,
    }));
    const out = appendServiceEvents(old, ['first', 'second'], T, id);
    assert.equal(out.length, MAX_SERVICE_EVENTS);
    assert.deepEqual(
      out.slice(0, 3).map((e) => e.message),
      ['second', 'first', 'old 0'],
    );
    assert.equal(out[0]!.createdAt, T / 1000);
  });

  it('does not repeat a lasting condition written in the last five minutes; other events always go in', () => {
    const same = unableToPlaceEvent('web', 'Reason: No Container Instances were found in your cluster.');
    const recent = [{ id: 'r', createdAt: T / 1000 - 60, message: same }];
    assert.equal(appendServiceEvents(recent, [same], T, id).length, 1);
    const stale = [{ id: 'r', createdAt: T / 1000 - 600, message: same }];
    assert.equal(appendServiceEvents(stale, [same], T, id).length, 2);
    assert.equal(appendServiceEvents([], [same, same], T, id).length, 1);
    const steady = steadyStateEvent('web');
    assert.equal(
      appendServiceEvents([{ id: 'r', createdAt: T / 1000 - 60, message: steady }], [steady], T, id).length,
      2,
    );
  });
});
