import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../../generated/ecs/types.js';
import type { ContainerInstanceRecord } from '../records.js';
import {
  INSTANCE_TYPE_CHANGED_MESSAGE,
  computeRegisteredInstance,
  computeRegistrationAttributes,
  type RegistrationInput,
} from './registration.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
const total: Resource[] = [
  { name: 'CPU', type: 'INTEGER', integerValue: 2048 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: 3800 },
];
const doc = JSON.stringify({
  instanceId: 'i-0aaaabbbbccccdddd',
  availabilityZone: 'us-east-1c',
  instanceType: 't3.medium',
  imageId: 'ami-123',
  architecture: 'aarch64',
  region: 'us-east-1',
});
const NOW = Date.UTC(2026, 0, 1, 12);

function input(over: Partial<RegistrationInput> = {}): RegistrationInput {
  return {
    request: { totalResources: total },
    cluster: 'prod',
    containerInstanceArn: ARN,
    generatedEc2InstanceId: 'i-00000000000000001',
    tags: [],
    now: NOW,
    ...over,
  };
}

const attr = (r: { attributes?: { name: string; value?: string }[] }, name: string): string | undefined =>
  r.attributes?.find((a) => a.name === name)?.value;

describe('computeRegisteredInstance: a new instance', () => {
  it('is ACTIVE, version 1, not yet connected, with no tasks and everything free', () => {
    const r = computeRegisteredInstance(
      input({
        request: { totalResources: total, versionInfo: { agentVersion: '1.0.0', dockerVersion: '27.0' } },
      }),
    );
    assert.equal(r.containerInstanceArn, ARN);
    assert.equal(r.status, 'ACTIVE');
    assert.equal(r.version, 1);
    assert.equal(r.agentConnected, false);
    assert.equal(r.runningTasksCount, 0);
    assert.equal(r.pendingTasksCount, 0);
    assert.equal(r.registeredAt, NOW / 1000);
    assert.equal(r.cluster, 'prod');
    assert.deepEqual(r.versionInfo, { agentVersion: '1.0.0', dockerVersion: '27.0' });
    assert.deepEqual(r.remainingResources, r.registeredResources);
    assert.equal(r.ec2InstanceId, 'i-00000000000000001');
    assert.deepEqual(r.attributes, [{ name: 'ecs.os-type', value: 'linux' }]);
  });

  it('takes the EC2 id and built-in attributes from the identity document, over the request', () => {
    const r = computeRegisteredInstance(
      input({
        request: {
          totalResources: total,
          instanceIdentityDocument: doc,
          attributes: [
            { name: 'ecs.availability-zone', value: 'made-up' },
            { name: 'ecs.capability.secrets.ssm.environment-variables' },
            { name: 'ecs.os-type', value: 'linux' },
            { name: 'stack', value: 'blue' },
          ],
        },
      }),
    );
    assert.equal(r.ec2InstanceId, 'i-0aaaabbbbccccdddd');
    assert.equal(attr(r, 'ecs.availability-zone'), 'us-east-1c');
    assert.equal(attr(r, 'ecs.instance-type'), 't3.medium');
    assert.equal(attr(r, 'ecs.ami-id'), 'ami-123');
    assert.equal(attr(r, 'ecs.cpu-architecture'), 'arm64');
    assert.equal(attr(r, 'stack'), 'blue');
    assert.ok(r.attributes?.some((a) => a.name === 'ecs.capability.secrets.ssm.environment-variables'));
    const names = r.attributes!.map((a) => a.name);
    assert.deepEqual(names, [...names].sort());
  });

  it('keeps an os-type the agent reports', () => {
    const r = computeRegisteredInstance(
      input({ request: { totalResources: total, attributes: [{ name: 'ecs.os-type', value: 'windows' }] } }),
    );
    assert.equal(attr(r, 'ecs.os-type'), 'windows');
  });

  it('refuses invalid attributes and more than 10 custom ones', () => {
    assert.throws(
      () =>
        computeRegisteredInstance(
          input({ request: { totalResources: total, attributes: [{ name: 'bad name' }] } }),
        ),
      /attributes\[0\]\.name 'bad name' is invalid/,
    );
    const eleven = Array.from({ length: 11 }, (_, i) => ({ name: `custom${i}` }));
    assert.throws(
      () => computeRegisteredInstance(input({ request: { totalResources: total, attributes: eleven } })),
      (e: Error) => e.name === 'InvalidParameterException' && /at most 10 custom attributes/.test(e.message),
    );
  });

  it('refuses a document that is not JSON and resources without CPU', () => {
    assert.throws(
      () =>
        computeRegisteredInstance(
          input({ request: { totalResources: total, instanceIdentityDocument: 'x' } }),
        ),
      /instanceIdentityDocument/,
    );
    assert.throws(
      () => computeRegisteredInstance(input({ request: { totalResources: [total[1]!] } })),
      /must include CPU/,
    );
  });
});

describe('computeRegisteredInstance: re-registration', () => {
  const first = computeRegisteredInstance(
    input({
      request: {
        totalResources: total,
        instanceIdentityDocument: doc,
        attributes: [{ name: 'ecs.capability.old' }],
        versionInfo: { agentVersion: '1.0.0' },
      },
      tags: [{ key: 'a', value: '1' }],
    }),
  );
  const previous: ContainerInstanceRecord = {
    ...first,
    status: 'DRAINING',
    agentConnected: true,
    runningTasksCount: 2,
    pendingTasksCount: 1,
    version: 7,
    attributes: [...first.attributes!, { name: 'team', value: 'payments' }],
    remainingResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 3000 },
      ...first.remainingResources!.slice(2),
    ],
  };

  it('keeps identity, status, counts, registeredAt and custom attributes; bumps the version', () => {
    const r = computeRegisteredInstance(
      input({
        request: {
          totalResources: total,
          attributes: [{ name: 'ecs.capability.new' }],
          versionInfo: { agentVersion: '1.1.0' },
        },
        previous,
        now: NOW + 60_000,
        tags: [{ key: 'a', value: '2' }],
      }),
    );
    assert.equal(r.version, 8);
    assert.equal(r.status, 'DRAINING');
    assert.equal(r.agentConnected, true);
    assert.equal(r.runningTasksCount, 2);
    assert.equal(r.pendingTasksCount, 1);
    assert.equal(r.registeredAt, NOW / 1000);
    assert.equal(r.ec2InstanceId, 'i-0aaaabbbbccccdddd');
    assert.deepEqual(r.versionInfo, { agentVersion: '1.1.0' });
    assert.equal(attr(r, 'team'), 'payments');
    assert.ok(r.attributes!.some((a) => a.name === 'ecs.capability.new'));
    assert.ok(
      !r.attributes!.some((a) => a.name === 'ecs.capability.old'),
      'built-ins come from the new request',
    );
    assert.deepEqual(r.tags, [{ key: 'a', value: '2' }]);
    assert.equal(r.remainingResources!.find((x) => x.name === 'CPU')?.integerValue, 1024);
    assert.equal(r.remainingResources!.find((x) => x.name === 'MEMORY')?.integerValue, 3000);
  });

  it('refuses an instance type change with the message the ECS agent recognises', () => {
    const other = JSON.stringify({ instanceId: 'i-0aaaabbbbccccdddd', instanceType: 'm5.xlarge' });
    assert.throws(
      () =>
        computeRegisteredInstance(
          input({ request: { totalResources: total, instanceIdentityDocument: other }, previous }),
        ),
      (e: Error) => e.name === 'InvalidParameterException' && e.message === INSTANCE_TYPE_CHANGED_MESSAGE,
    );
  });

  it('refuses to bring back a deregistered instance', () => {
    assert.throws(
      () => computeRegisteredInstance(input({ previous: { ...previous, status: 'INACTIVE' } })),
      (e: Error) => e.name === 'ClientException' && /INACTIVE/.test(e.message),
    );
  });
});

describe('computeRegistrationAttributes', () => {
  it('drops previous built-ins, keeps previous custom ones the request does not repeat', () => {
    const out = computeRegistrationAttributes([{ name: 'x', value: 'new' }], undefined, [
      { name: 'x', value: 'old' },
      { name: 'y', value: 'kept' },
      { name: 'ecs.capability.gone' },
    ]);
    assert.deepEqual(out, [
      { name: 'ecs.os-type', value: 'linux' },
      { name: 'x', value: 'new' },
      { name: 'y', value: 'kept' },
    ]);
  });
});
