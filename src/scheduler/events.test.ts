import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planTaskPlacements } from './engine.js';
import { placementFailureEvent, summarizeReasons } from './events.js';
import { instance } from './test-support.js';

describe('placementFailureEvent', () => {
  it('names the closest matching instance and what it lacked, in ECS words', () => {
    const plan = planTaskPlacements(
      [instance('a1b2', { memory: 100 }), instance('c3d4', { agentConnected: false })],
      { cpu: 10, memory: 512, group: 'service:web' },
      1,
    );
    assert.equal(
      placementFailureEvent('web', plan.failure!),
      'service web was unable to place a task because no container instance met all of its requirements. The closest matching container-instance a1b2 has insufficient memory available.',
    );
    const cpu = planTaskPlacements([instance('x', { cpu: 1 })], { cpu: 10, memory: 1, group: 'g' }, 1);
    assert.match(
      placementFailureEvent('web', cpu.failure!),
      /container-instance x has insufficient CPU units available\.$/,
    );
    const port = planTaskPlacements(
      [instance('x', { ports: [80] })],
      { cpu: 1, memory: 1, ports: [80], group: 'g' },
      1,
    );
    assert.match(
      placementFailureEvent('web', port.failure!),
      /container-instance x is already using a port required by your task\.$/,
    );
    const agent = planTaskPlacements(
      [instance('x', { agentConnected: false })],
      { cpu: 1, memory: 1, group: 'g' },
      1,
    );
    assert.match(
      placementFailureEvent('web', agent.failure!),
      /container-instance x encountered error "AGENT"\.$/,
    );
  });

  it('says so when there is no instance at all', () => {
    const plan = planTaskPlacements([], { cpu: 1, memory: 1, group: 'g' }, 1);
    assert.equal(
      placementFailureEvent('web', plan.failure!),
      'service web was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster.',
    );
  });
});

describe('summarizeReasons', () => {
  it('lists the counts, largest first', () => {
    const plan = planTaskPlacements(
      [instance('a', { memory: 1 }), instance('b', { agentConnected: false }), instance('c', { memory: 2 })],
      { cpu: 1, memory: 10, group: 'g' },
      1,
    );
    assert.equal(summarizeReasons(plan.failure!), '2 RESOURCE:MEMORY, 1 AGENT');
  });
});
