import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ManualClock } from '../domain/clock.js';
import type { RegisterContainerInstanceRequest } from '../generated/ecs/types.js';
import { EcsApiError } from './ecs-api.js';
import { registerInstance, RegistrationAbortedError, type RegisterTarget } from './register.js';
import type { HostFacts } from './registration.js';
import { emptyState } from './state/agent-state.js';

const facts: HostFacts = {
  engine: {
    cpus: 1,
    memoryBytes: 1024 * 1024 * 1024,
    serverVersion: '20',
    operatingSystem: 'x',
    kernelVersion: 'k',
    containersRunning: 0,
  },
  version: { version: '20.10', apiVersion: '1.41', os: 'linux', arch: 'amd64' },
};
const target: RegisterTarget = {
  endpoint: 'http://cp',
  region: 'us-east-1',
  settings: {
    cluster: 'default',
    reservedMemoryMiB: 0,
    availabilityZone: 'us-east-1a',
    instanceType: 't',
    attributes: {},
    agentVersion: '0',
  },
};

type Call = { op: string; input: unknown };

function fakeApi(script: ((op: string, input: unknown) => unknown)[]) {
  const calls: Call[] = [];
  return {
    calls,
    api: {
      call: async (op: string, input: unknown) => {
        calls.push({ op, input });
        const step = script.shift();
        if (!step) throw new Error('unexpected call');
        return step(op, input);
      },
    } as never,
  };
}

const ok = (arn: string) => () => ({ containerInstance: { containerInstanceArn: arn } });
const fail = (code: string, message: string) => () => {
  throw new EcsApiError(code, message, 400);
};

function deps(api: never, signal = new AbortController().signal) {
  const state = emptyState('h');
  let persisted = 0;
  return {
    state,
    persisted: () => persisted,
    deps: {
      api,
      state,
      persist: () => persisted++,
      clock: new ManualClock(),
      log: pino({ level: 'silent' }),
      backoff: { minMs: 1, maxMs: 5, factor: 2, jitter: 0 },
      signal,
    },
  };
}

describe('registerInstance', () => {
  it('registers, saves the ARN and sends it again on the next registration', async () => {
    const f = fakeApi([ok('arn:ci/1'), ok('arn:ci/1')]);
    const d = deps(f.api);
    const reg = await registerInstance(d.deps, target, async () => facts);
    assert.equal(reg.containerInstanceArn, 'arn:ci/1');
    assert.equal(d.state.registrations.length, 1);
    assert.ok(d.persisted() >= 1);
    assert.equal((f.calls[0]!.input as RegisterContainerInstanceRequest).containerInstanceArn, undefined);
    await registerInstance(d.deps, target, async () => facts);
    assert.equal((f.calls[1]!.input as RegisterContainerInstanceRequest).containerInstanceArn, 'arn:ci/1');
    assert.equal(d.state.registrations.length, 1);
  });

  it('creates cluster default when it is missing', async () => {
    const f = fakeApi([
      fail('ClusterNotFoundException', 'Cluster not found.'),
      () => ({ cluster: {} }),
      ok('arn:ci/2'),
    ]);
    const d = deps(f.api);
    await registerInstance(d.deps, target, async () => facts);
    assert.deepEqual(
      f.calls.map((c) => c.op),
      ['RegisterContainerInstance', 'CreateCluster', 'RegisterContainerInstance'],
    );
  });

  it('registers anew when the control plane does not know the saved instance', async () => {
    const f = fakeApi([
      fail(
        'InvalidParameterException',
        'containerInstanceArn: container instance arn:old was not found in cluster default.',
      ),
      ok('arn:new'),
    ]);
    const d = deps(f.api);
    d.state.registrations.push({
      endpoint: 'http://cp',
      cluster: 'default',
      region: 'us-east-1',
      containerInstanceArn: 'arn:old',
      registeredAt: 0,
    });
    const reg = await registerInstance(d.deps, target, async () => facts);
    assert.equal(reg.containerInstanceArn, 'arn:new');
    assert.equal((f.calls[1]!.input as RegisterContainerInstanceRequest).containerInstanceArn, undefined);
    assert.deepEqual(
      d.state.registrations.map((r) => r.containerInstanceArn),
      ['arn:new'],
    );
  });

  it('retries other failures with back-off, and gives up only when stopped', async () => {
    const f = fakeApi([
      fail('ServerException', 'down'),
      () => {
        throw new TypeError('fetch failed');
      },
      ok('arn:ci/3'),
    ]);
    const d = deps(f.api);
    assert.equal(
      (
        await registerInstance(
          d.deps,
          { ...target, settings: { ...target.settings, cluster: 'prod' } },
          async () => facts,
        )
      ).containerInstanceArn,
      'arn:ci/3',
    );
    const ac = new AbortController();
    ac.abort();
    const d2 = deps(fakeApi([]).api, ac.signal);
    await assert.rejects(
      registerInstance(d2.deps, target, async () => facts),
      RegistrationAbortedError,
    );
  });
});
