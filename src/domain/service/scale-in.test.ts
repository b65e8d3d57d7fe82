import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseTasksToStop, type ScaleInCandidate } from './scale-in.js';
import { task } from './test-support.js';

const c = (
  id: string,
  zone: string,
  state: ScaleInCandidate['state'],
  createdAt = 100,
): ScaleInCandidate => ({
  task: task({ id, zone, createdAt }),
  state,
});
const ids = (xs: ScaleInCandidate[]) => xs.map((x) => x.task.taskArn.split('/').pop());

describe('chooseTasksToStop', () => {
  it('stops unhealthy tasks first, wherever they are', () => {
    const out = chooseTasksToStop(
      [c('a', 'z1', 'healthy'), c('b', 'z1', 'healthy'), c('u', 'z2', 'unhealthy')],
      1,
    );
    assert.deepEqual(ids(out), ['u']);
  });

  it('keeps zones balanced: 3/1 scaled to 2 leaves one per zone', () => {
    const out = chooseTasksToStop(
      [
        c('a1', 'a', 'healthy', 1),
        c('a2', 'a', 'healthy', 2),
        c('a3', 'a', 'healthy', 3),
        c('b1', 'b', 'healthy', 4),
      ],
      2,
    );
    assert.deepEqual(ids(out), ['a3', 'a2']);
  });

  it('in the chosen zone, stops tasks not serving yet before healthy ones, newest first', () => {
    const out = chooseTasksToStop(
      [c('h', 'a', 'healthy', 9), c('p', 'a', 'pending', 1), c('s', 'a', 'starting', 5)],
      3,
    );
    assert.deepEqual(ids(out), ['p', 's', 'h']);
  });

  it('never returns more than asked or than there are', () => {
    assert.equal(chooseTasksToStop([c('a', 'a', 'healthy')], 5).length, 1);
    assert.equal(chooseTasksToStop([c('a', 'a', 'healthy')], 0).length, 0);
  });
});
