import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../../generated/ecs/types.js';
import {
  DEFAULT_RESERVED_PORTS,
  computeRegisteredResources,
  computeRemainingResources,
} from './resources.js';

const cpu = (n: number): Resource => ({ name: 'CPU', type: 'INTEGER', integerValue: n });
const mem = (n: number): Resource => ({ name: 'MEMORY', type: 'INTEGER', integerValue: n });
const ports = (name: string, values: string[]): Resource => ({
  name,
  type: 'STRINGSET',
  stringSetValue: values,
});
const byName = (rs: Resource[], name: string): Resource | undefined => rs.find((r) => r.name === name);

describe('computeRegisteredResources', () => {
  it('keeps CPU and MEMORY, adds the default reserved ports and an empty UDP set', () => {
    assert.deepEqual(computeRegisteredResources([mem(7982), cpu(2048)]), [
      cpu(2048),
      mem(7982),
      ports('PORTS', ['22', '2375', '2376', '51678', '51679', '51680']),
      ports('PORTS_UDP', []),
    ]);
    assert.deepEqual(DEFAULT_RESERVED_PORTS, ['22', '2375', '2376', '51678', '51679', '51680']);
  });
  it("uses the agent's PORTS as given, sorted and deduplicated", () => {
    const out = computeRegisteredResources([cpu(1024), mem(512), ports('PORTS', ['8080', '22', '22'])]);
    assert.deepEqual(byName(out, 'PORTS'), ports('PORTS', ['22', '8080']));
  });
  it('normalises CPU/MEMORY given as longValue to INTEGER', () => {
    const out = computeRegisteredResources([{ name: 'CPU', type: 'LONG', longValue: 4096 }, mem(1)]);
    assert.deepEqual(byName(out, 'CPU'), cpu(4096));
  });
  it('requires CPU and MEMORY', () => {
    assert.throws(() => computeRegisteredResources(undefined), /totalResources must include CPU/);
    assert.throws(() => computeRegisteredResources([cpu(1)]), /totalResources must include MEMORY/);
  });
  it('rejects negative, fractional, string-set CPU and duplicate resources', () => {
    assert.throws(() => computeRegisteredResources([cpu(-1), mem(1)]), /totalResources\[0\] \(CPU\)/);
    assert.throws(() => computeRegisteredResources([cpu(1), { name: 'MEMORY', doubleValue: 1.5 }]), /MEMORY/);
    assert.throws(() => computeRegisteredResources([ports('CPU', ['1']), mem(1)]), /must be of type INTEGER/);
    assert.throws(() => computeRegisteredResources([cpu(1), mem(1), cpu(2)]), /listed more than once/);
  });
  it('rejects ports that are not 1-65535', () => {
    assert.throws(
      () => computeRegisteredResources([cpu(1), mem(1), ports('PORTS_UDP', ['70000'])]),
      /'70000' is not a port number/,
    );
    assert.throws(() => computeRegisteredResources([cpu(1), mem(1), ports('PORTS', ['abc'])]), /not a port/);
  });
  it('keeps other resources when well typed', () => {
    const out = computeRegisteredResources([cpu(1), mem(1), { name: 'disk', type: 'LONG', longValue: 10 }]);
    assert.deepEqual(byName(out, 'disk'), { name: 'disk', type: 'LONG', longValue: 10 });
    assert.throws(
      () => computeRegisteredResources([cpu(1), mem(1), { name: 'x', type: 'BLOB' }]),
      /type must be one of/,
    );
  });
  it('turns GPU platform devices into a GPU string set', () => {
    const out = computeRegisteredResources(
      [cpu(1), mem(1)],
      [
        { id: 'GPU-1', type: 'GPU' },
        { id: 'GPU-2', type: 'GPU' },
        { id: 'nd0', type: 'NEURON_DEVICE' },
      ],
    );
    assert.deepEqual(byName(out, 'GPU'), ports('GPU', ['GPU-1', 'GPU-2']));
    assert.throws(
      () => computeRegisteredResources([cpu(1), mem(1)], [{ id: '', type: 'GPU' }]),
      /platformDevices\[0\]\.id/,
    );
  });
});

describe('computeRemainingResources', () => {
  const registered = computeRegisteredResources(
    [cpu(2048), mem(4000)],
    [
      { id: 'g0', type: 'GPU' },
      { id: 'g1', type: 'GPU' },
    ],
  );

  it('is a copy of registered on a first registration', () => {
    const out = computeRemainingResources(registered);
    assert.deepEqual(out, registered);
    assert.notEqual(out[2]!.stringSetValue, registered[2]!.stringSetValue);
  });
  it('keeps what tasks use across a re-registration', () => {
    const previous = {
      registeredResources: registered,
      remainingResources: [
        cpu(1024),
        mem(3000),
        ports('PORTS', [...DEFAULT_RESERVED_PORTS, '8080']),
        ports('PORTS_UDP', ['5353']),
        ports('GPU', ['g1']),
      ],
    };
    const again = computeRegisteredResources(
      [cpu(4096), mem(500), ports('PORTS', ['22'])],
      [
        { id: 'g0', type: 'GPU' },
        { id: 'g1', type: 'GPU' },
        { id: 'g2', type: 'GPU' },
      ],
    );
    const out = computeRemainingResources(again, previous);
    assert.deepEqual(byName(out, 'CPU'), cpu(3072));
    // 1000 MiB in use, only 500 registered now: shows 0, never negative.
    assert.deepEqual(byName(out, 'MEMORY'), mem(0));
    assert.deepEqual(byName(out, 'PORTS'), ports('PORTS', ['22', '8080']));
    assert.deepEqual(byName(out, 'PORTS_UDP'), ports('PORTS_UDP', ['5353']));
    assert.deepEqual(byName(out, 'GPU'), ports('GPU', ['g1', 'g2']));
  });
});
