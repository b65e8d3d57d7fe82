import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SERVICE_STRATEGY, parsePlacementStrategies } from './placement-spec.js';
import { seededRng } from './rng.js';
import { chooseTasksToStop, type ServiceTaskRef } from './scale-in.js';
import { instance } from './test-support.js';

const tasksOn = (
  spec: Record<string, number>,
  reserve: { cpu?: number; memory?: number } = {},
): ServiceTaskRef[] =>
  Object.entries(spec).flatMap(([instanceId, n]) =>
    Array.from({ length: n }, (_, k) => ({ taskId: `${instanceId}-t${k}`, instanceId, ...reserve })),
  );

describe('chooseTasksToStop', () => {
  const zoned = [
    instance('a1', { zone: 'a' }),
    instance('a2', { zone: 'a' }),
    instance('b1', { zone: 'b' }),
    instance('c1', { zone: 'c' }),
  ];
  const byZone = parsePlacementStrategies(DEFAULT_SERVICE_STRATEGY);

  it('keeps zones balanced: stops in the zone with the most tasks, then on its busiest instance', () => {
    const tasks = tasksOn({ a1: 3, a2: 2, b1: 3, c1: 2 });
    const stopped = chooseTasksToStop(tasks, zoned, byZone, 4);
    assert.deepEqual(stopped, ['a1-t2', 'a1-t1', 'b1-t2', 'a2-t1']);
    const left = tasks.filter((t) => !stopped.includes(t.taskId));
    const zoneOf = (id: string) => zoned.find((i) => i.id === id)!.attributes.get('ecs.availability-zone');
    const perZone = ['a', 'b', 'c'].map((z) => left.filter((t) => zoneOf(t.instanceId) === z).length);
    assert.deepEqual(perZone, [2, 2, 2]);
  });

  it('binpack: stops on the instance that would have the most left', () => {
    const cluster = [
      instance('full', { memory: 100 }),
      instance('half', { memory: 4000 }),
      instance('empty', { memory: 7000 }),
    ];
    const strategy = parsePlacementStrategies([{ type: 'binpack', field: 'memory' }]);
    const stopped = chooseTasksToStop(
      tasksOn({ full: 2, half: 2, empty: 1 }, { memory: 1000 }),
      cluster,
      strategy,
      3,
    );
    assert.deepEqual(stopped, ['empty-t0', 'half-t1', 'half-t0']);
    const cpu = parsePlacementStrategies([{ type: 'binpack', field: 'cpu' }]);
    const cpuCluster = [instance('x', { cpu: 100 }), instance('y', { cpu: 200 })];
    assert.deepEqual(chooseTasksToStop(tasksOn({ x: 1, y: 1 }, { cpu: 500 }), cpuCluster, cpu, 1), ['y-t0']);
  });

  it('without strategies, stops on the instance with the most of the service tasks, newest first', () => {
    assert.deepEqual(chooseTasksToStop(tasksOn({ a1: 1, b1: 3 }), zoned, [], 3), ['b1-t2', 'b1-t1', 'a1-t0']);
  });

  it('random is seeded and stays within the ties of the strategies before it', () => {
    const strategy = parsePlacementStrategies([
      { type: 'spread', field: 'attribute:ecs.availability-zone' },
      { type: 'random' },
    ]);
    const tasks = tasksOn({ a1: 2, a2: 2, b1: 1 });
    const first = chooseTasksToStop(tasks, zoned, strategy, 2, { rng: seededRng(3) });
    assert.deepEqual(chooseTasksToStop(tasks, zoned, strategy, 2, { rng: seededRng(3) }), first);
    for (let seed = 0; seed < 10; seed++) {
      const stopped = chooseTasksToStop(tasks, zoned, strategy, 2, { rng: seededRng(seed) });
      assert.ok(
        stopped.every((id) => id.startsWith('a')),
        stopped.join(','),
      );
    }
    assert.throws(() => chooseTasksToStop(tasks, zoned, strategy, 1), /needs options\.rng/);
  });

  it('copes with tasks on instances missing from the snapshot and with asking for too many', () => {
    const stopped = chooseTasksToStop(tasksOn({ gone: 1, a1: 1 }), zoned, byZone, 5);
    assert.deepEqual(stopped.sort(), ['a1-t0', 'gone-t0']);
  });
});
