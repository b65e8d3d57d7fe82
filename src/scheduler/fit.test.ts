import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  REASON_AGENT,
  REASON_CPU,
  REASON_MEMORY,
  REASON_PORTS,
  checkFit,
  planPlacements,
  type FitCandidate,
} from './fit.js';

function host(
  id: string,
  over: Partial<FitCandidate> & { cpu?: number; memory?: number; ports?: number[]; portsUdp?: number[] } = {},
): FitCandidate {
  return {
    id,
    status: over.status ?? 'ACTIVE',
    agentConnected: over.agentConnected ?? true,
    taskCount: over.taskCount ?? 0,
    remaining: {
      cpu: over.cpu ?? 1024,
      memory: over.memory ?? 1024,
      ports: new Set(over.ports ?? [22]),
      portsUdp: new Set(over.portsUdp ?? []),
    },
  };
}

const needs = (cpu: number, memory: number, ports: number[] = [], portsUdp: number[] = []) => ({
  cpu,
  memory,
  ports,
  portsUdp,
});

describe('checkFit', () => {
  it('names the first check a host fails, in order status, agent, cpu, memory, ports', () => {
    assert.equal(checkFit(host('a', { status: 'DRAINING', agentConnected: false }), needs(1, 1)), 'DRAINING');
    assert.equal(checkFit(host('a', { agentConnected: false, cpu: 0 }), needs(1, 1)), REASON_AGENT);
    assert.equal(checkFit(host('a', { cpu: 100, memory: 0 }), needs(101, 1)), REASON_CPU);
    assert.equal(checkFit(host('a', { memory: 100 }), needs(1, 101, [22])), REASON_MEMORY);
    assert.equal(checkFit(host('a'), needs(1, 1, [22])), REASON_PORTS);
    assert.equal(checkFit(host('a', { portsUdp: [53] }), needs(1, 1, [53], [53])), REASON_PORTS);
    assert.equal(
      checkFit(host('a', { portsUdp: [53] }), needs(1, 1, [53])),
      undefined,
      'TCP and UDP are separate',
    );
    assert.equal(checkFit(host('a', { cpu: 10, memory: 10 }), needs(10, 10)), undefined, 'an exact fit fits');
  });
});

describe('planPlacements', () => {
  it('spreads the tasks of one call round-robin over the hosts that fit', () => {
    const plan = planPlacements([host('a'), host('b'), host('c', { memory: 10 })], needs(100, 100), 5);
    assert.deepEqual(plan.placements, ['a', 'b', 'a', 'b', 'a']);
    assert.equal(plan.unplaced, 0);
  });

  it('prefers the least busy host', () => {
    const plan = planPlacements([host('a', { taskCount: 3 }), host('b', { taskCount: 1 })], needs(1, 1), 3);
    assert.deepEqual(plan.placements, ['b', 'b', 'a']);
  });

  it('updates the snapshot: capacity and ports taken by earlier tasks of the plan count', () => {
    const memory = planPlacements([host('a', { memory: 250 })], needs(1, 100), 3);
    assert.deepEqual(memory.placements, ['a', 'a']);
    assert.equal(memory.unplaced, 1);
    assert.deepEqual(memory.rejections, [{ hostId: 'a', reason: REASON_MEMORY }]);

    const ports = planPlacements([host('a'), host('b')], needs(1, 1, [8080]), 3);
    assert.deepEqual(ports.placements, ['a', 'b']);
    assert.equal(ports.unplaced, 1);
    assert.deepEqual(ports.rejections, [
      { hostId: 'a', reason: REASON_PORTS },
      { hostId: 'b', reason: REASON_PORTS },
    ]);
  });

  it('reports why every host refused when nothing fits, and places nothing', () => {
    const plan = planPlacements(
      [host('a', { cpu: 10 }), host('b', { agentConnected: false }), host('c', { memory: 5 })],
      needs(20, 20),
      2,
    );
    assert.deepEqual(plan.placements, []);
    assert.equal(plan.unplaced, 2);
    assert.deepEqual(plan.rejections, [
      { hostId: 'a', reason: REASON_CPU },
      { hostId: 'b', reason: REASON_AGENT },
      { hostId: 'c', reason: REASON_MEMORY },
    ]);
    assert.deepEqual(planPlacements([], needs(1, 1), 1), { placements: [], unplaced: 1, rejections: [] });
  });
});
