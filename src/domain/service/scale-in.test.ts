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

  it('binpack: stops tasks on the instance that would have the most left, keeping the rest packed', () => {
    const on = (id: string, instance: string, zone: string, memory: number): ScaleInCandidate => {
      const t = task({ id, instance, zone, createdAt: 1 });
      return {
        task: { ...t, berth: { reserved: { cpu: 0, memory, ports: [], portsUdp: [] } } },
        state: 'healthy',
      };
    };
    const arnOf = (i: string) => on('x', i, 'a', 0).task.containerInstanceArn!;
    // i1 is nearly full (100 MiB left), i2 has room (3000 left): i2's tasks go first, although
    // zone balance alone would take from zone a.
    const out = chooseTasksToStop(
      [
        on('a1', 'i1', 'a', 512),
        on('a2', 'i1', 'a', 512),
        on('a3', 'i1', 'a', 512),
        on('b1', 'i2', 'b', 512),
        on('b2', 'i2', 'b', 512),
      ],
      2,
      {
        field: 'memory',
        remaining: new Map([
          [arnOf('i1'), 100],
          [arnOf('i2'), 3000],
        ]),
      },
    );
    assert.deepEqual(ids(out), ['b1', 'b2']);
    // Without binpack the same call keeps zones balanced instead.
    const balanced = chooseTasksToStop(
      [
        on('a1', 'i1', 'a', 512),
        on('a2', 'i1', 'a', 512),
        on('a3', 'i1', 'a', 512),
        on('b1', 'i2', 'b', 512),
        on('b2', 'i2', 'b', 512),
      ],
      2,
    );
    assert.deepEqual(ids(balanced).sort(), ['a1', 'a2']);
  });
});
