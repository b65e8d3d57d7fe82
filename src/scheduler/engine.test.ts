import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PlacementSession, planTaskPlacements, type TaskPlacementRequest } from './engine.js';
import {
  DEFAULT_SERVICE_STRATEGY,
  parsePlacementConstraints,
  parsePlacementStrategies,
} from './placement-spec.js';
import {
  REASON_AGENT,
  REASON_ATTRIBUTE,
  REASON_CPU,
  REASON_GPU,
  REASON_MEMORY,
  REASON_PORTS,
} from './reasons.js';
import { seededRng } from './rng.js';
import type { PlacementInstance } from './snapshot.js';
import { instance } from './test-support.js';

function req(over: Partial<TaskPlacementRequest> = {}): TaskPlacementRequest {
  return { cpu: 256, memory: 512, group: 'service:web', ...over };
}

const strategies = (...s: [string, string?][]) =>
  parsePlacementStrategies(
    s.map(([type, field]) => ({ type: type as 'spread', ...(field ? { field } : {}) })),
  );

const memberOf = (...expressions: string[]) =>
  parsePlacementConstraints(expressions.map((expression) => ({ type: 'memberOf' as const, expression })));

const distinct = parsePlacementConstraints([{ type: 'distinctInstance' }]);

function ids(instances: readonly PlacementInstance[], r: TaskPlacementRequest, count: number, seed?: number) {
  const plan = planTaskPlacements(instances, r, count, seed === undefined ? {} : { rng: seededRng(seed) });
  return plan.placements.map((p) => p.instanceId);
}

function tally(list: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of list) out[x] = (out[x] ?? 0) + 1;
  return out;
}

describe('spread', () => {
  it('keeps the tasks per zone within one of each other, however many instances each zone has', () => {
    const cluster = [
      ...['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => instance(id, { zone: 'a' })),
      ...['b1', 'b2'].map((id) => instance(id, { zone: 'b' })),
      instance('c1', { zone: 'c' }),
    ];
    const zoneOf = new Map(cluster.map((i) => [i.id, i.attributes.get('ecs.availability-zone')!]));
    for (const n of [1, 2, 3, 7, 10, 15]) {
      const placed = ids(
        cluster,
        req({ strategies: strategies(['spread', 'attribute:ecs.availability-zone']) }),
        n,
      );
      assert.equal(placed.length, n);
      const perZone = tally(placed.map((id) => zoneOf.get(id)!));
      const counts = ['a', 'b', 'c'].map((z) => perZone[z] ?? 0);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `n=${n}: ${JSON.stringify(perZone)}`);
    }
  });

  it('counts the tasks of the same group already running, and only those', () => {
    const cluster = [
      instance('a', { zone: 'a', taskGroups: { 'service:web': 3, 'service:other': 9 } }),
      instance('b', { zone: 'b', taskGroups: { 'service:other': 9 } }),
      instance('c', { zone: 'c', taskGroups: { 'service:web': 1 } }),
    ];
    const placed = ids(
      cluster,
      req({ strategies: strategies(['spread', 'attribute:ecs.availability-zone']) }),
      5,
    );
    assert.deepEqual(placed, ['b', 'b', 'c', 'b', 'c'], 'zone a already has 3; b and c catch up first');
  });

  it('spreads over instances with instanceId or host', () => {
    const cluster = [instance('a', { taskGroups: { 'service:web': 1 } }), instance('b'), instance('c')];
    for (const field of ['instanceId', 'host']) {
      assert.deepEqual(ids(cluster, req({ strategies: strategies(['spread', field]) }), 5), [
        'b',
        'c',
        'a',
        'b',
        'c',
      ]);
    }
  });

  it('treats instances without the attribute as one value of their own', () => {
    const cluster = [instance('a', { zone: 'a' }), instance('x'), instance('y')];
    assert.deepEqual(
      ids(cluster, req({ strategies: strategies(['spread', 'attribute:ecs.availability-zone']) }), 4),
      ['a', 'x', 'a', 'x'],
    );
  });

  it('balances over the values of instances that fit: a zone with no room does not hold the others back', () => {
    const cluster = [
      instance('a', { zone: 'a', memory: 100 }),
      instance('b', { zone: 'b' }),
      instance('c', { zone: 'c' }),
    ];
    const placed = ids(
      cluster,
      req({ strategies: strategies(['spread', 'attribute:ecs.availability-zone']) }),
      4,
    );
    assert.deepEqual(placed, ['b', 'c', 'b', 'c']);
  });
});

describe('binpack', () => {
  it('fills the instance with the least memory left that still fits', () => {
    const cluster = [
      instance('big', { memory: 2000 }),
      instance('small', { memory: 600 }),
      instance('mid', { memory: 1000 }),
    ];
    const placed = ids(cluster, req({ memory: 500, strategies: strategies(['binpack', 'memory']) }), 6);
    // small: 600 → 100 (then too small); mid: 1000 → 500 → 0; big: 2000 → ...
    assert.deepEqual(placed, ['small', 'mid', 'mid', 'big', 'big', 'big']);
  });

  it('binpacks on cpu with field cpu', () => {
    const cluster = [
      instance('a', { cpu: 2048, memory: 100_000 }),
      instance('b', { cpu: 1024, memory: 1000 }),
    ];
    assert.deepEqual(
      ids(cluster, req({ cpu: 512, memory: 10, strategies: strategies(['binpack', 'cpu']) }), 3),
      ['b', 'b', 'a'],
    );
    assert.deepEqual(
      ids(cluster, req({ cpu: 512, memory: 10, strategies: strategies(['binpack', 'memory']) }), 1),
      ['b'],
      'memory would pick b as well, for another reason',
    );
    assert.deepEqual(
      ids(
        [instance('a', { cpu: 1024, memory: 1000 }), instance('b', { cpu: 2048, memory: 500 })],
        req({ cpu: 10, memory: 10, strategies: strategies(['binpack', 'cpu']) }),
        1,
      ),
      ['a'],
    );
  });
});

describe('random', () => {
  const cluster = ['a', 'b', 'c', 'd', 'e'].map((id) => instance(id));
  const random = req({ strategies: strategies(['random']) });

  it('makes the same choices with the same seed, and other choices with another', () => {
    const first = ids(cluster, random, 40, 7);
    assert.deepEqual(ids(cluster, random, 40, 7), first);
    assert.notDeepEqual(ids(cluster, random, 40, 8), first);
  });

  it('reaches every instance', () => {
    assert.deepEqual(Object.keys(tally(ids(cluster, random, 100, 1))).sort(), ['a', 'b', 'c', 'd', 'e']);
  });

  it('breaks only the ties of the strategies before it', () => {
    const zoned = [
      instance('a1', { zone: 'a' }),
      instance('a2', { zone: 'a' }),
      instance('b1', { zone: 'b' }),
    ];
    const r = req({ strategies: strategies(['spread', 'attribute:ecs.availability-zone'], ['random']) });
    for (let seed = 0; seed < 20; seed++) {
      const placed = ids(zoned, r, 2, seed);
      assert.ok(placed.includes('b1'), `seed ${seed}: ${placed.join(',')}`);
    }
  });

  it('needs a generator: the engine never calls Math.random', () => {
    assert.throws(() => new PlacementSession(cluster, random), /needs options\.rng/);
  });
});

describe('strategies in order', () => {
  const cluster = [
    instance('a-roomy', { zone: 'a', memory: 8000 }),
    instance('a-tight', { zone: 'a', memory: 1000 }),
    instance('b-roomy', { zone: 'b', memory: 8000 }),
    instance('b-tight', { zone: 'b', memory: 2000 }),
  ];

  it('lets the first strategy decide and the next break its ties', () => {
    const spreadThenBinpack = req({
      strategies: strategies(['spread', 'attribute:ecs.availability-zone'], ['binpack', 'memory']),
    });
    assert.deepEqual(ids(cluster, spreadThenBinpack, 4), ['a-tight', 'b-tight', 'b-tight', 'a-roomy']);
  });

  it('with binpack first, binpack dominates and spread only breaks exact ties', () => {
    const binpackThenSpread = req({
      strategies: strategies(['binpack', 'memory'], ['spread', 'attribute:ecs.availability-zone']),
    });
    assert.deepEqual(ids(cluster, binpackThenSpread, 3), ['a-tight', 'b-tight', 'b-tight']);
    const even = [
      instance('a', { zone: 'a', memory: 1000 }),
      instance('b', { zone: 'b', memory: 1500 }),
      instance('c', { zone: 'c', memory: 1000 }),
    ];
    assert.deepEqual(
      ids(even, binpackThenSpread, 2),
      ['a', 'c'],
      'a and c tie on memory; spread sends the second to c',
    );
  });

  it('without strategies, ties go to snapshot order', () => {
    assert.deepEqual(ids(cluster, req(), 3), ['a-roomy', 'a-roomy', 'a-roomy']);
  });

  it('the default service strategy spreads over zones, then over instances', () => {
    const zones = [
      instance('a1', { zone: 'a' }),
      instance('a2', { zone: 'a' }),
      instance('b1', { zone: 'b' }),
      instance('b2', { zone: 'b' }),
    ];
    const r = req({ strategies: parsePlacementStrategies(DEFAULT_SERVICE_STRATEGY) });
    assert.deepEqual(ids(zones, r, 4), ['a1', 'b1', 'a2', 'b2']);
    assert.deepEqual(tally(ids(zones, r, 8)), { a1: 2, a2: 2, b1: 2, b2: 2 });
  });
});

describe('constraints', () => {
  it('distinctInstance puts one task of the group per instance, counting tasks already there', () => {
    const cluster = [instance('a'), instance('b', { taskGroups: { 'service:web': 1 } }), instance('c')];
    const plan = planTaskPlacements(cluster, req({ constraints: distinct }), 3);
    assert.deepEqual(
      plan.placements.map((p) => p.instanceId),
      ['a', 'c'],
    );
    assert.equal(plan.unplaced, 1);
    assert.deepEqual(plan.failure?.reasonCounts, { [REASON_ATTRIBUTE]: 3 });
    assert.match(
      plan.failure!.closest!.detail,
      /already runs a task of group service:web \(distinctInstance/,
    );
    assert.deepEqual(
      ids(cluster, req({ group: 'family:batch', constraints: distinct }), 3),
      ['a', 'b', 'c'],
      'other groups do not count',
    );
  });

  it('memberOf on attributes, built-in and custom', () => {
    const cluster = [
      instance('p1', { attributes: { stack: 'prod', 'ecs.instance-type': 't2.small' } }),
      instance('s1', { attributes: { stack: 'staging', 'ecs.instance-type': 't2.small' } }),
      instance('p2', { attributes: { stack: 'prod', 'ecs.instance-type': 'm5.large' } }),
    ];
    assert.deepEqual(
      ids(
        cluster,
        req({
          constraints: memberOf('attribute:stack == prod'),
          strategies: strategies(['spread', 'instanceId']),
        }),
        4,
      ),
      ['p1', 'p2', 'p1', 'p2'],
    );
    assert.deepEqual(
      ids(
        cluster,
        req({ constraints: memberOf('attribute:ecs.instance-type =~ t2.*', 'attribute:stack != prod') }),
        2,
      ),
      ['s1', 's1'],
    );
  });

  it('memberOf on every other subject', () => {
    const cluster = [
      instance('old', {
        agentVersion: '1.14.4',
        ec2InstanceId: 'i-old',
        registeredAt: Date.UTC(2017, 0, 1) / 1000,
        runningTasksCount: 3,
      }),
      instance('new', {
        agentVersion: '1.80.0',
        ec2InstanceId: 'i-new',
        registeredAt: Date.UTC(2024, 0, 1) / 1000,
        taskGroups: { database: 1 },
      }),
    ];
    const one = (expression: string) => ids(cluster, req({ constraints: memberOf(expression) }), 1);
    assert.deepEqual(one('agentConnected == true'), ['old']);
    assert.deepEqual(one('agentVersion < 1.14.5'), ['old']);
    assert.deepEqual(one('agentVersion >= 1.20'), ['new']);
    assert.deepEqual(one('ec2InstanceId in [i-new]'), ['new']);
    assert.deepEqual(one('registeredAt < 2018-01-01'), ['old']);
    assert.deepEqual(one('registeredAt > 2018-01-01T00:00:00Z'), ['new']);
    assert.deepEqual(one('runningTasksCount > 2'), ['old']);
    assert.deepEqual(one('task:group == database'), ['new']);
    assert.deepEqual(one('not(task:group == database)'), ['old']);
  });

  it('re-evaluates dynamic subjects after each placement: tasks placed in the plan count', () => {
    const cluster = [instance('a'), instance('b'), instance('c', { runningTasksCount: 1 })];
    const empty = planTaskPlacements(cluster, req({ constraints: memberOf('runningTasksCount == 0') }), 3);
    assert.deepEqual(
      empty.placements.map((p) => p.instanceId),
      ['a', 'b'],
    );
    assert.equal(empty.unplaced, 1);
    const antiAffinity = planTaskPlacements(
      cluster,
      req({ constraints: memberOf('not(task:group == service:web)') }),
      4,
    );
    assert.deepEqual(
      antiAffinity.placements.map((p) => p.instanceId),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(antiAffinity.failure?.reasonCounts, { [REASON_ATTRIBUTE]: 3 });
  });

  it('requiresAttributes: the attribute must be there, with the value when one is given', () => {
    const cluster = [
      instance('plain'),
      instance('eni', { attributes: { 'ecs.capability.task-eni': undefined, 'ecs.os-type': 'windows' } }),
      instance('eni-linux', { attributes: { 'ecs.capability.task-eni': undefined, 'ecs.os-type': 'linux' } }),
    ];
    assert.deepEqual(ids(cluster, req({ requiredAttributes: [{ name: 'ecs.capability.task-eni' }] }), 1), [
      'eni',
    ]);
    const plan = planTaskPlacements(
      cluster,
      req({
        requiredAttributes: [{ name: 'ecs.capability.task-eni' }, { name: 'ecs.os-type', value: 'linux' }],
      }),
      2,
    );
    assert.deepEqual(
      plan.placements.map((p) => p.instanceId),
      ['eni-linux', 'eni-linux'],
    );
    const none = planTaskPlacements(
      [instance('plain')],
      req({ requiredAttributes: [{ name: 'ecs.capability.task-eni' }] }),
      1,
    );
    assert.equal(
      none.failure?.closest?.detail,
      'is missing an attribute required by your task (ecs.capability.task-eni).',
    );
  });
});

describe('resources and the snapshot between placements', () => {
  it('takes cpu and memory from the instance after each placement', () => {
    const plan = planTaskPlacements([instance('a', { cpu: 1000, memory: 10_000 })], req({ cpu: 300 }), 4);
    assert.equal(plan.placements.length, 3);
    assert.equal(plan.unplaced, 1);
    assert.deepEqual(plan.failure?.reasonCounts, { [REASON_CPU]: 1 });
  });

  it('takes the host ports of a placed task, TCP and UDP apart', () => {
    const cluster = [instance('a'), instance('b', { portsUdp: [53] })];
    const tcp = planTaskPlacements(cluster, req({ ports: [8080] }), 3);
    assert.deepEqual(
      tcp.placements.map((p) => p.instanceId),
      ['a', 'b'],
    );
    assert.deepEqual(tcp.failure?.reasonCounts, { [REASON_PORTS]: 2 });
    assert.deepEqual(ids(cluster, req({ portsUdp: [53] }), 2), ['a'], 'b has UDP 53 taken; a takes it once');
    assert.deepEqual(
      ids(cluster, req({ ports: [53] }), 2),
      ['a', 'b'],
      'a TCP port does not collide with UDP',
    );
    assert.equal(cluster[0]!.remaining.ports.has(8080), false, 'the snapshot itself is never changed');
  });

  it('gives each task its own GPUs', () => {
    const plan = planTaskPlacements(
      [instance('g', { gpuIds: ['gpu0', 'gpu1', 'gpu2'] }), instance('cpu-only')],
      req({ gpu: 2 }),
      2,
    );
    assert.deepEqual(
      plan.placements.map((p) => [p.instanceId, p.gpuIds]),
      [['g', ['gpu0', 'gpu1']]],
    );
    assert.deepEqual(plan.failure?.reasonCounts, { [REASON_GPU]: 2 });
    assert.deepEqual(planTaskPlacements([instance('a')], req(), 1).placements[0]!.gpuIds, []);
  });
});

describe('reasons', () => {
  const cluster = [
    instance('draining', { status: 'DRAINING' }),
    instance('inactive', { status: 'INACTIVE', agentConnected: false }),
    instance('disconnected', { agentConnected: false, cpu: 0 }),
    instance('no-cpu', { cpu: 100, memory: 0 }),
    instance('no-memory', { memory: 100 }),
    instance('port-taken', { ports: [22, 8080] }),
    instance('udp-taken', { portsUdp: [5353] }),
    instance('no-gpu', { gpuIds: [] }),
    instance('staging', { gpuIds: ['g0'], attributes: { stack: 'staging' } }),
  ];
  const r = req({
    ports: [8080],
    portsUdp: [5353],
    gpu: 1,
    constraints: memberOf('attribute:stack == prod'),
  });

  it('counts every rejected instance under the first check it failed', () => {
    const plan = planTaskPlacements(cluster, r, 2);
    assert.equal(plan.unplaced, 2);
    assert.deepEqual(
      plan.failure!.rejections.map((x) => [x.instanceId, x.reason]),
      [
        ['draining', 'DRAINING'],
        ['inactive', 'INACTIVE'],
        ['disconnected', REASON_AGENT],
        ['no-cpu', REASON_CPU],
        ['no-memory', REASON_MEMORY],
        ['port-taken', REASON_PORTS],
        ['udp-taken', REASON_PORTS],
        ['no-gpu', REASON_GPU],
        ['staging', REASON_ATTRIBUTE],
      ],
    );
    assert.deepEqual(plan.failure!.reasonCounts, {
      DRAINING: 1,
      INACTIVE: 1,
      [REASON_AGENT]: 1,
      [REASON_CPU]: 1,
      [REASON_MEMORY]: 1,
      [REASON_PORTS]: 2,
      [REASON_GPU]: 1,
      [REASON_ATTRIBUTE]: 1,
    });
    assert.equal(plan.failure!.rejections[0]!.instanceArn, cluster[0]!.arn);
  });

  it('names the instance that passed the most checks as the closest, with what it lacked', () => {
    const plan = planTaskPlacements(cluster, r, 1);
    assert.equal(plan.failure!.closest!.instanceId, 'staging');
    assert.equal(
      plan.failure!.closest!.detail,
      "does not match the memberOf constraint placementConstraints[0] 'attribute:stack == prod'.",
    );
    const memory = planTaskPlacements(cluster.slice(0, 5), r, 1);
    assert.equal(memory.failure!.closest!.instanceId, 'no-memory');
    assert.equal(memory.failure!.closest!.detail, 'has insufficient memory available.');
    const agent = planTaskPlacements(cluster.slice(0, 3), r, 1);
    assert.equal(agent.failure!.closest!.detail, 'encountered error "AGENT".');
    assert.equal(
      planTaskPlacements(cluster.slice(0, 1), r, 1).failure!.closest!.detail,
      'is DRAINING, so it takes no new tasks.',
    );
  });

  it('names the memberOf constraint that failed when there are several', () => {
    const two = memberOf('attribute:stack exists', 'attribute:stack == prod');
    const plan = planTaskPlacements(
      [instance('x', { attributes: { stack: 'dev' } })],
      req({ constraints: two }),
      1,
    );
    assert.match(plan.failure!.closest!.detail, /placementConstraints\[1\] 'attribute:stack == prod'/);
  });

  it('an empty snapshot fails with no rejections and no closest instance', () => {
    const plan = planTaskPlacements([], req(), 2);
    assert.deepEqual(plan, { placements: [], unplaced: 2, failure: { rejections: [], reasonCounts: {} } });
  });
});

describe('PlacementSession', () => {
  it('places one task per next() and keeps answering the same failure once nothing fits', () => {
    const s = new PlacementSession([instance('a', { memory: 1024 })], req());
    assert.equal(s.feasibleInstances, 1);
    assert.equal(s.next().placement?.instanceId, 'a');
    assert.equal(s.next().placement?.instanceId, 'a');
    assert.equal(s.feasibleInstances, 0);
    const f1 = s.next().failure;
    assert.deepEqual(f1?.reasonCounts, { [REASON_MEMORY]: 1 });
    assert.equal(s.next().failure, f1);
  });

  it('refuses a request with negative resources', () => {
    assert.throws(() => new PlacementSession([], req({ cpu: -1 })), /cpu must be a non-negative number/);
  });

  it('handles many instances and tasks with every stage on', () => {
    const cluster: PlacementInstance[] = [];
    for (let i = 0; i < 300; i++) {
      cluster.push(
        instance(`i${String(i).padStart(3, '0')}`, {
          zone: `z${i % 3}`,
          memory: 1024 * (1 + (i % 4)),
          attributes: { stack: i % 5 === 0 ? 'staging' : 'prod' },
        }),
      );
    }
    const plan = planTaskPlacements(
      cluster,
      req({
        memory: 256,
        strategies: strategies(['spread', 'attribute:ecs.availability-zone'], ['binpack', 'memory']),
        constraints: memberOf('attribute:stack == prod'),
      }),
      3000,
    );
    const byId = new Map(cluster.map((c) => [c.id, c]));
    const memory = new Map<string, number>();
    const perZone: Record<string, number> = {};
    for (const p of plan.placements) {
      const inst = byId.get(p.instanceId)!;
      assert.equal(inst.attributes.get('stack'), 'prod');
      memory.set(p.instanceId, (memory.get(p.instanceId) ?? 0) + 256);
      const z = inst.attributes.get('ecs.availability-zone')!;
      perZone[z] = (perZone[z] ?? 0) + 1;
    }
    for (const [id, used] of memory) assert.ok(used <= byId.get(id)!.remaining.memory, id);
    const capacity = cluster
      .filter((c) => c.attributes.get('stack') === 'prod')
      .reduce((s, c) => s + c.remaining.memory / 256, 0);
    assert.equal(plan.placements.length, Math.min(3000, capacity));
    const counts = Object.values(perZone);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, JSON.stringify(perZone));
  });
});
