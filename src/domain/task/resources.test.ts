import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../../generated/ecs/types.js';
import { container } from '../task-definition/test-support.js';
import {
  computeTaskReservation,
  instanceRemaining,
  releaseOnInstance,
  releaseOnManaged,
  reserveOnInstance,
  reserveOnManaged,
  staticHostPorts,
} from './resources.js';

describe('computeTaskReservation', () => {
  it('uses task-level cpu and memory when set', () => {
    const r = computeTaskReservation({
      containers: [container('a', { cpu: 10, memory: 64 })],
      cpu: '256',
      memory: '512',
      launchType: 'EC2',
    });
    assert.deepEqual(r, { cpu: 256, memory: 512, ports: [], portsUdp: [] });
  });

  it('sums container cpu and memoryReservation ?? memory otherwise', () => {
    const r = computeTaskReservation({
      containers: [
        container('a', { cpu: 100, memory: 300, memoryReservation: 128 }),
        container('b', { cpu: 28, memory: 64 }),
        container('c', { memory: 16 }),
      ],
      launchType: 'EC2',
    });
    assert.equal(r.cpu, 128);
    assert.equal(r.memory, 128 + 64 + 16);
  });

  it('reserves static host ports by protocol in bridge mode, none for dynamic ones', () => {
    const r = computeTaskReservation({
      containers: [
        container('a', {
          portMappings: [
            { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
            { containerPort: 53, hostPort: 5353, protocol: 'udp' },
            { containerPort: 81, hostPort: 0 },
            { containerPort: 82 },
            { containerPortRange: '9000-9002' },
          ],
        }),
      ],
      networkMode: 'bridge',
      launchType: 'EC2',
    });
    assert.deepEqual(r.ports, [8080]);
    assert.deepEqual(r.portsUdp, [5353]);
  });

  it('reserves the container ports in host mode, ranges included; none for awsvpc, none or FARGATE', () => {
    const containers = [
      container('a', {
        portMappings: [
          { containerPort: 80, hostPort: 80, protocol: 'tcp' },
          { containerPortRange: '9000-9002', protocol: 'udp' },
        ],
      }),
    ];
    assert.deepEqual(staticHostPorts(containers, 'host'), { ports: [80], portsUdp: [9000, 9001, 9002] });
    assert.deepEqual(staticHostPorts(containers, 'awsvpc'), { ports: [], portsUdp: [] });
    assert.deepEqual(staticHostPorts(containers, 'none'), { ports: [], portsUdp: [] });
    // No networkMode is bridge.
    assert.deepEqual(
      staticHostPorts([container('b', { portMappings: [{ containerPort: 1, hostPort: 2 }] })], undefined),
      {
        ports: [2],
        portsUdp: [],
      },
    );
    const fargate = computeTaskReservation({
      containers,
      cpu: '256',
      memory: '512',
      networkMode: 'host',
      launchType: 'FARGATE',
    });
    assert.deepEqual(fargate, { cpu: 256, memory: 512, ports: [], portsUdp: [] });
  });
});

const registered: Resource[] = [
  { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: 4000 },
  { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '2375'] },
  { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
  { name: 'GPU', type: 'STRINGSET', stringSetValue: ['gpu0'] },
];

describe('reserving on and releasing from a container instance', () => {
  const needs = { cpu: 512, memory: 1000, ports: [8080], portsUdp: [53] };

  it('takes cpu and memory out and marks the ports taken', () => {
    const after = reserveOnInstance(registered, needs);
    const left = instanceRemaining(after);
    assert.equal(left.cpu, 1536);
    assert.equal(left.memory, 3000);
    assert.deepEqual([...left.ports], [22, 2375, 8080]);
    assert.deepEqual([...left.portsUdp], [53]);
    assert.deepEqual(after[4], registered[4], 'other resources are untouched');
    assert.deepEqual(instanceRemaining(registered).cpu, 2048, 'the input is not mutated');
  });

  it('gives everything back, never above what is registered, keeping the host-reserved ports', () => {
    const after = releaseOnInstance(reserveOnInstance(registered, needs), registered, needs);
    assert.deepEqual(
      after,
      registered.map((r) => (r.name === 'PORTS_UDP' ? { ...r, stringSetValue: [] } : r)),
    );
    const twice = releaseOnInstance(after, registered, { ...needs, ports: [22] });
    const left = instanceRemaining(twice);
    assert.equal(left.cpu, 2048);
    assert.equal(left.memory, 4000);
    assert.ok(left.ports.has(22), 'a port the host reserves stays taken');
  });

  it('adds missing port sets when reserving', () => {
    const bare: Resource[] = [
      { name: 'CPU', type: 'INTEGER', integerValue: 10 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 10 },
    ];
    const after = reserveOnInstance(bare, { cpu: 1, memory: 1, ports: [80], portsUdp: [] });
    assert.deepEqual(after.find((r) => r.name === 'PORTS')?.stringSetValue, ['80']);
  });
});

describe('managed capacity', () => {
  it('reserves and releases cpu and memory within what is registered', () => {
    const needs = { cpu: 256, memory: 512, ports: [], portsUdp: [] };
    const left = reserveOnManaged({ cpu: 1024, memory: 2048 }, needs);
    assert.deepEqual(left, { cpu: 768, memory: 1536 });
    assert.deepEqual(releaseOnManaged(left, { cpu: 1024, memory: 2048 }, needs), { cpu: 1024, memory: 2048 });
    assert.deepEqual(releaseOnManaged({ cpu: 1024, memory: 2048 }, { cpu: 1024, memory: 2048 }, needs), {
      cpu: 1024,
      memory: 2048,
    });
  });
});
