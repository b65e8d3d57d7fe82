import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeRequiresAttributes } from '../domain/task-definition/requires-attributes.js';
import type { ContainerDefinition } from '../generated/ecs/types.js';
import {
  computeManagedCapacity,
  computeRegistrationRequest,
  cpuArchitecture,
  dockerApiVersions,
  type HostFacts,
  type RegistrationSettings,
} from './registration.js';

const facts: HostFacts = {
  engine: {
    cpus: 2,
    memoryBytes: 4096 * 1024 * 1024,
    serverVersion: '20.10.24',
    operatingSystem: 'Debian',
    kernelVersion: '6.1',
    containersRunning: 0,
  },
  version: { version: '20.10.24', apiVersion: '1.41', os: 'linux', arch: 'amd64' },
};
const settings: RegistrationSettings = {
  cluster: 'prod',
  reservedMemoryMiB: 256,
  availabilityZone: 'us-east-1a',
  instanceType: 'berth.local',
  attributes: { stack: 'blue' },
  agentVersion: '0.1.0',
};

describe('computeRegistrationRequest', () => {
  const req = computeRegistrationRequest(facts, settings);
  it('registers cores × 1024 CPU, host memory minus the reserve and the reserved ports', () => {
    assert.deepEqual(req.totalResources, [
      { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 3840 },
      { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22', '2375', '2376', '51678', '51679', '51680'] },
      { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [] },
    ]);
  });
  it('carries the built-in attributes and the custom ones', () => {
    const byName = new Map(req.attributes!.map((a) => [a.name, a.value]));
    assert.equal(byName.get('ecs.os-type'), 'linux');
    assert.equal(byName.get('ecs.cpu-architecture'), 'x86_64');
    assert.equal(byName.get('ecs.availability-zone'), 'us-east-1a');
    assert.equal(byName.get('ecs.instance-type'), 'berth.local');
    assert.equal(byName.get('stack'), 'blue');
    assert.ok(byName.has('com.amazonaws.ecs.capability.docker-remote-api.1.17'));
    assert.ok(byName.has('com.amazonaws.ecs.capability.docker-remote-api.1.41'));
    assert.ok(!byName.has('com.amazonaws.ecs.capability.docker-remote-api.1.42'));
    assert.ok(!byName.has('com.amazonaws.ecs.capability.task-iam-role'));
  });
  it('advertises every attribute that the features it implements can require', () => {
    const names = new Set(req.attributes!.map((a) => a.name));
    const containers: ContainerDefinition[] = [
      {
        name: 'a',
        healthCheck: { command: ['CMD', 'true'] },
        dependsOn: [{ containerName: 'b', condition: 'START' }],
        logConfiguration: { logDriver: 'json-file' },
        dockerLabels: { x: 'y' },
        ulimits: [{ name: 'nofile', softLimit: 1, hardLimit: 2 }],
        linuxParameters: { initProcessEnabled: true },
      },
      { name: 'b', logConfiguration: { logDriver: 'awslogs' } },
    ];
    const required = computeRequiresAttributes({ networkMode: 'awsvpc', containerDefinitions: containers });
    for (const a of required) assert.ok(names.has(a.name), `missing ${a.name}`);
  });
  it('names the versions and the saved instance', () => {
    assert.equal(req.versionInfo?.agentVersion, '0.1.0');
    assert.match(req.versionInfo?.dockerVersion ?? '', /20\.10\.24/);
    assert.equal(req.containerInstanceArn, undefined);
    const again = computeRegistrationRequest(facts, { ...settings, containerInstanceArn: 'arn:x' });
    assert.equal(again.containerInstanceArn, 'arn:x');
  });
});

describe('helpers', () => {
  it('maps architectures', () => {
    assert.equal(cpuArchitecture('amd64'), 'x86_64');
    assert.equal(cpuArchitecture('aarch64'), 'arm64');
  });
  it('lists Docker API levels from 1.17 up to the engine', () => {
    assert.deepEqual(dockerApiVersions('1.19'), ['1.17', '1.18', '1.19']);
    assert.equal(dockerApiVersions('1.99').at(-1), '1.44');
  });
  it('offers the registered cpu and memory as managed capacity', () => {
    assert.deepEqual(computeManagedCapacity(facts.engine, 256, 'us-east-1a'), {
      cpu: 2048,
      memory: 3840,
      availabilityZone: 'us-east-1a',
    });
  });
});
