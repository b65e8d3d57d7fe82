import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerEvent, ContainerState } from '../runtime/container-runtime.js';
import type { RunnerEvent } from './events.js';
import {
  ESSENTIAL_EXITED_REASON,
  MAX_ATTEMPTS,
  OOM_REASON,
  PAUSE_EXITED_REASON,
  REMOVED_REASON,
  normalize,
  reduce,
  type ReduceContext,
} from './reduce.js';
import { PAUSE_TARGET, type TaskState } from './task-state.js';
import { agentTask, c, stateOf } from './test-support.js';

const NOW = 5_000_000;

function ctx(more: Partial<ReduceContext> = {}): ReduceContext {
  return {
    now: NOW,
    random: 0.5,
    busy: new Set(),
    retryPolicy: { minMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 },
    cleanupWaitMs: 60_000,
    containerStartTimeoutMs: 180_000,
    ...more,
  };
}

function apply(s: TaskState, events: RunnerEvent[], more: Partial<ReduceContext> = {}): TaskState {
  const x = ctx(more);
  for (const e of events) reduce(s, e, x);
  normalize(s, x);
  return s;
}

const engineEvent = (
  action: ContainerEvent['action'],
  containerId: string,
  more: Partial<ContainerEvent> = {},
): RunnerEvent => ({
  type: 'engine',
  event: { type: 'container', action, containerId, labels: {}, time: NOW - 10, ...more },
});

function inspected(status: ContainerState['status'], more: Partial<ContainerState> = {}): ContainerState {
  return {
    id: 'd-app',
    name: 'ecs-app',
    image: 'img',
    imageId: 'sha256:1',
    status,
    engineStatus: status,
    oomKilled: false,
    createdAt: NOW - 100,
    ports: [],
    networks: [],
    labels: {},
    ...more,
  };
}

const oneApp = (): TaskState =>
  stateOf(
    agentTask([c('app')]),
    { app: { known: 'RUNNING', dockerId: 'd-app', startedAt: NOW - 50 } },
    { known: 'RUNNING' },
  );

describe('reduce + normalize: starting', () => {
  it('a new bridge task is PENDING at once; pulls record pullStartedAt, then pullStoppedAt', () => {
    const s = stateOf(agentTask([c('app')]));
    apply(s, []);
    assert.equal(s.known, 'PENDING');
    apply(s, [{ type: 'began', action: { kind: 'pull', container: 'app' } }], { busy: new Set(['app']) });
    assert.equal(s.pullStartedAt, NOW);
    assert.equal(s.pullStoppedAt, undefined);
    apply(s, [{ type: 'pulled', container: 'app', imageId: 'sha256:1' }]);
    assert.equal(s.containers[0]!.known, 'PULLED');
    assert.equal(s.pullStoppedAt, NOW);
  });

  it('an awsvpc task is PROVISIONING until its network is ready', () => {
    const s = stateOf(
      agentTask([c('app')], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['subnet-9'] },
      }),
    );
    apply(s, []);
    assert.equal(s.known, 'PROVISIONING');
    apply(s, [
      {
        type: 'address',
        ip: '198.19.0.2',
        prefixLength: 24,
        gateway: '198.19.0.1',
        subnetCidr: '198.19.0.0/24',
      },
      { type: 'network-ready', pauseDockerId: 'p1', macAddress: '02:42:c6:13:00:02' },
    ]);
    assert.equal(s.known, 'PENDING');
    assert.equal(s.network?.status, 'READY');
    assert.equal(s.network?.subnetId, 'subnet-9');
  });

  it('RUNNING once every essential container runs, with the ports of the start result', () => {
    const s = stateOf(agentTask([c('app'), c('side', { essential: false })]), {
      app: { known: 'CREATED', dockerId: 'd-app' },
    });
    // The engine's start event while our own start is in flight waits for the result (it has the ports).
    apply(s, [engineEvent('start', 'd-app')], { busy: new Set(['app']) });
    assert.equal(s.containers[0]!.known, 'CREATED');
    apply(s, [
      {
        type: 'started',
        container: 'app',
        state: inspected('running', {
          startedAt: NOW - 5,
          ports: [{ containerPort: 80, protocol: 'tcp', hostPort: 49153, hostIp: '0.0.0.0' }],
        }),
      },
    ]);
    assert.equal(s.known, 'RUNNING');
    assert.equal(s.startedAt, NOW);
    assert.deepEqual(s.containers[0]!.ports, [
      { containerPort: 80, protocol: 'tcp', hostPort: 49153, hostIp: '0.0.0.0' },
    ]);
  });

  it('a start event from outside (no start in flight) makes the container RUNNING', () => {
    const s = stateOf(agentTask([c('app')]), { app: { known: 'CREATED', dockerId: 'd-app' } });
    apply(s, [engineEvent('start', 'd-app')]);
    assert.equal(s.containers[0]!.known, 'RUNNING');
  });

  it('events find a container by its Docker name before its id is known', () => {
    const s = stateOf(agentTask([c('app')]), { app: { known: 'PULLED' } });
    apply(s, [engineEvent('die', 'new-id', { name: s.containers[0]!.dockerName, exitCode: 2 })]);
    assert.equal(s.containers[0]!.dockerId, 'new-id');
    assert.equal(s.containers[0]!.exitCode, 2);
  });
});

describe('reduce + normalize: failures', () => {
  it('an image that cannot be pulled stops the task: TaskFailedToStart with the registry reason', () => {
    const s = stateOf(agentTask([c('app')]));
    apply(s, [
      {
        type: 'failed',
        action: { kind: 'pull', container: 'app' },
        error: {
          name: 'CannotPullContainerError',
          message: 'manifest unknown',
          retriable: false,
          kind: 'not-found',
        },
      },
    ]);
    assert.equal(s.containers[0]!.known, 'STOPPED');
    assert.equal(s.containers[0]!.reason, 'CannotPullContainerError: manifest unknown');
    assert.equal(s.desired, 'STOPPED');
    assert.equal(s.stopCode, 'TaskFailedToStart');
    assert.equal(s.stoppedReason, 'CannotPullContainerError: manifest unknown');
    assert.equal(s.known, 'STOPPED');
    assert.equal(s.cleanupAt, NOW + 60_000);
  });

  it('retriable errors are retried with back-off up to the attempt limit', () => {
    const s = stateOf(agentTask([c('app')]));
    const fail: RunnerEvent = {
      type: 'failed',
      action: { kind: 'pull', container: 'app' },
      error: {
        name: 'CannotPullContainerError',
        message: 'registry timeout',
        retriable: true,
        kind: 'engine',
      },
    };
    apply(s, [fail]);
    assert.deepEqual(s.retries.app, {
      attempts: 1,
      retryAt: NOW + 1000,
      lastError: 'CannotPullContainerError: registry timeout',
    });
    assert.equal(s.containers[0]!.known, 'NONE');
    apply(s, [fail]);
    assert.equal(s.retries.app?.attempts, 2);
    assert.equal(s.retries.app?.retryAt, NOW + 2000);
    apply(s, [fail]);
    assert.equal(MAX_ATTEMPTS.pull, 3);
    assert.equal(s.containers[0]!.known, 'STOPPED');
    assert.equal(s.retries.app, undefined);
  });

  it('an unavailable engine is waited for without limit', () => {
    const s = stateOf(agentTask([c('app')]));
    const fail: RunnerEvent = {
      type: 'failed',
      action: { kind: 'pull', container: 'app' },
      error: { name: 'DockerUnavailableError', message: 'no engine', retriable: true, kind: 'unavailable' },
    };
    for (let i = 0; i < 10; i++) apply(s, [fail]);
    assert.equal(s.retries.app?.attempts, 10);
    assert.equal(s.containers[0]!.known, 'NONE');
    assert.equal(s.retries.app?.retryAt, NOW + 30_000);
  });

  it('a container that exits at once ends the task as EssentialContainerExited with its exit code', () => {
    const s = stateOf(agentTask([c('app')]), { app: { known: 'CREATED', dockerId: 'd-app' } });
    apply(s, [engineEvent('die', 'd-app', { exitCode: 3 })], { busy: new Set(['app']) });
    const ct = s.containers[0]!;
    assert.equal(ct.known, 'STOPPED');
    assert.equal(ct.exitCode, 3);
    assert.equal(s.stopCode, 'EssentialContainerExited');
    assert.equal(s.stoppedReason, ESSENTIAL_EXITED_REASON);
    // A late start result changes nothing (statuses only move forward).
    apply(s, [{ type: 'started', container: 'app', state: inspected('running') }]);
    assert.equal(s.containers[0]!.known, 'STOPPED');
  });

  // Own namespace: the program runs only once the start action has plumbed it, so a death seen
  // while that action is in flight is settled by how the action ends.
  const ownNetworkApp = (): TaskState =>
    stateOf(
      agentTask([c('app')], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['subnet-9'] },
      }),
      { app: { known: 'CREATED', dockerId: 'd-app' } },
      {
        network: {
          status: 'READY',
          attachmentId: 'att',
          networkInterfaceId: 'eni',
          subnetId: 'subnet-9',
          pauseName: 'pause',
          ip: '198.19.0.2',
          ownNetwork: true,
        },
      },
    );

  it('own namespace: a program that exits before its start result arrives ends the task with its exit code', () => {
    const s = ownNetworkApp();
    apply(s, [engineEvent('die', 'd-app', { exitCode: 7, time: NOW - 3 })], { busy: new Set(['app']) });
    assert.equal(s.containers[0]!.known, 'CREATED', 'held until the start action ends');
    apply(s, [{ type: 'started', container: 'app', state: inspected('running', { startedAt: NOW - 6 }) }]);
    const ct = s.containers[0]!;
    assert.equal(ct.known, 'STOPPED');
    assert.equal(ct.exitCode, 7);
    assert.equal(ct.finishedAt, NOW - 3);
    assert.equal(ct.diedWhileStarting, undefined);
    assert.equal(s.stopCode, 'EssentialContainerExited');
    assert.equal(s.stoppedReason, ESSENTIAL_EXITED_REASON);
  });

  it('own namespace: a death during a start that then fails reports the failed start; a retried start forgets it', () => {
    const failed = (retriable: boolean): RunnerEvent => ({
      type: 'failed',
      action: { kind: 'start', container: 'app' },
      error: { name: 'CannotCreateNetworkError', message: 'plumbing failed', retriable, kind: 'invalid' },
    });
    const s = ownNetworkApp();
    apply(s, [engineEvent('die', 'd-app', { exitCode: 137 })], { busy: new Set(['app']) });
    apply(s, [failed(false)]);
    assert.equal(s.containers[0]!.known, 'STOPPED');
    assert.equal(s.containers[0]!.exitCode, undefined);
    assert.equal(s.stopCode, 'TaskFailedToStart');
    assert.equal(s.stoppedReason, 'CannotCreateNetworkError: plumbing failed');

    const r = ownNetworkApp();
    apply(r, [engineEvent('die', 'd-app', { exitCode: 137 })], { busy: new Set(['app']) });
    apply(r, [failed(true)]);
    assert.equal(r.containers[0]!.known, 'CREATED');
    apply(r, [{ type: 'started', container: 'app', state: inspected('running') }]);
    assert.equal(r.containers[0]!.known, 'RUNNING', 'the retry started it; the old death is not replayed');
    assert.equal(r.known, 'RUNNING');
  });

  it('a start failure fails the task with CannotStartContainerError', () => {
    const s = stateOf(agentTask([c('app')]), { app: { known: 'CREATED', dockerId: 'd-app' } });
    apply(s, [
      {
        type: 'failed',
        action: { kind: 'start', container: 'app' },
        error: {
          name: 'CannotStartContainerError',
          message: 'exec: "nope": not found',
          retriable: false,
          kind: 'engine',
        },
      },
    ]);
    assert.equal(s.stopCode, 'TaskFailedToStart');
    assert.equal(s.stoppedReason, 'CannotStartContainerError: exec: "nope": not found');
  });

  it('an OOM kill gives the container the OutOfMemoryError reason', () => {
    const s = oneApp();
    apply(s, [engineEvent('oom', 'd-app'), engineEvent('die', 'd-app', { exitCode: 137 })]);
    assert.equal(s.containers[0]!.reason, OOM_REASON);
    assert.equal(s.containers[0]!.exitCode, 137);
  });

  it('a removed container is STOPPED with a reason', () => {
    const s = oneApp();
    apply(s, [{ type: 'inspected', target: 'app', dockerId: 'd-app' }]);
    assert.equal(s.containers[0]!.known, 'STOPPED');
    assert.equal(s.containers[0]!.reason, REMOVED_REASON);
  });

  it('a dead pause container stops an awsvpc task', () => {
    const s = stateOf(
      agentTask([c('app')], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['s'] },
      }),
      { app: { known: 'RUNNING', dockerId: 'd-app', startedAt: 1 } },
      { known: 'RUNNING' },
    );
    Object.assign(s.network!, { status: 'READY', ip: '198.19.0.2', pauseDockerId: 'p1' });
    apply(s, [engineEvent('die', 'p1', { exitCode: 137 })]);
    assert.equal(s.desired, 'STOPPED');
    assert.equal(s.stoppedReason, PAUSE_EXITED_REASON);
    assert.equal(s.known, 'STOPPING');
  });
});

describe('reduce + normalize: dependencies', () => {
  const task = agentTask([
    c('app', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
    c('init', { essential: false }),
  ]);

  it('a condition that can no longer hold fails the waiting container (and the task, if it is essential)', () => {
    const s = stateOf(task, {
      app: { known: 'CREATED', dockerId: 'a' },
      init: { known: 'RUNNING', dockerId: 'i', startedAt: 1 },
    });
    apply(s, [engineEvent('die', 'i', { exitCode: 1 })]);
    assert.equal(s.containers[0]!.known, 'STOPPED');
    assert.match(
      s.containers[0]!.reason ?? '',
      /^DependencyError: dependency on 'init' \(SUCCESS\) cannot be met: 'init' exited with code 1/,
    );
    assert.equal(s.stopCode, 'TaskFailedToStart');
  });

  it('waiting longer than startTimeout fails the container', () => {
    const t = agentTask([
      c('app', { startTimeout: 10, dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
      c('init', { essential: false }),
    ]);
    const s = stateOf(t, {
      app: { known: 'CREATED', dockerId: 'a' },
      init: { known: 'RUNNING', dockerId: 'i', startedAt: 1 },
    });
    apply(s, []);
    assert.equal(s.containers[0]!.waitingSince, NOW);
    apply(s, [], { now: NOW + 9_000 });
    assert.equal(s.containers[0]!.known, 'CREATED');
    apply(s, [], { now: NOW + 10_000 });
    assert.equal(s.containers[0]!.known, 'STOPPED');
    assert.match(s.containers[0]!.reason ?? '', /within 10s/);
  });
});

describe('reduce + normalize: stopping', () => {
  it('a stop from the control plane keeps its code and reason; older versions are ignored', () => {
    const s = oneApp();
    apply(s, [{ type: 'desired', task: { ...s.task, version: 0, desiredStatus: 'STOPPED' } }]);
    assert.equal(s.desired, 'RUNNING');
    apply(s, [
      {
        type: 'desired',
        task: {
          ...s.task,
          version: 2,
          desiredStatus: 'STOPPED',
          stopCode: 'UserInitiated',
          stoppedReason: 'bye',
        },
      },
    ]);
    assert.equal(s.desired, 'STOPPED');
    assert.equal(s.stopCode, 'UserInitiated');
    assert.equal(s.stoppedReason, 'bye');
    assert.equal(s.stoppingAt, NOW);
    assert.equal(s.known, 'STOPPING');
    // A later essential exit does not overwrite the first reason.
    apply(s, [engineEvent('die', 'd-app', { exitCode: 143 })]);
    assert.equal(s.stoppedReason, 'bye');
    assert.equal(s.known, 'STOPPED');
    assert.equal(s.executionStoppedAt, NOW);
  });

  it('what never started is stopped without the engine; what is busy is left to its action', () => {
    const s = stateOf(agentTask([c('a'), c('b'), c('c')]), {
      a: { known: 'CREATED', dockerId: 'x' },
      b: { known: 'NONE' },
      c: { known: 'PULLED' },
    });
    apply(s, [{ type: 'stop', reason: 'test' }], { busy: new Set(['c']) });
    assert.deepEqual(
      s.containers.map((x) => x.known),
      ['STOPPED', 'STOPPED', 'PULLED'],
    );
    assert.equal(s.known, 'STOPPING');
  });

  it('awsvpc: DEPROVISIONING until the network is released, then STOPPED', () => {
    const s = stateOf(
      agentTask([c('app')], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['s'] },
      }),
      { app: { known: 'STOPPED', startedAt: 1 } },
      { desired: 'STOPPED', known: 'STOPPING' },
    );
    Object.assign(s.network!, { status: 'READY', ip: '198.19.0.2' });
    apply(s, []);
    assert.equal(s.known, 'DEPROVISIONING');
    apply(s, [{ type: 'network-released' }]);
    assert.equal(s.known, 'STOPPED');
    assert.equal(s.stoppedAt, NOW);
  });

  it('an unassigned task stops with a reason', () => {
    const s = oneApp();
    apply(s, [{ type: 'unassigned' }]);
    assert.equal(s.desired, 'STOPPED');
    assert.match(s.stoppedReason ?? '', /no longer assigned/);
  });

  it('the known status never goes back', () => {
    const s = oneApp();
    s.known = 'STOPPING';
    s.desired = 'STOPPED';
    apply(s, [{ type: 'inspected', target: 'app', dockerId: 'd-app', state: inspected('running') }]);
    assert.equal(s.known, 'STOPPING');
  });
});

describe('reduce: re-adoption', () => {
  it('a container found exited after a restart is STOPPED with its exit code', () => {
    const s = oneApp();
    apply(s, [
      {
        type: 'inspected',
        target: 'app',
        dockerId: 'd-app',
        state: inspected('exited', { exitCode: 7, startedAt: NOW - 50, finishedAt: NOW - 20 }),
      },
    ]);
    assert.equal(s.containers[0]!.exitCode, 7);
    assert.equal(s.containers[0]!.finishedAt, NOW - 20);
    assert.equal(s.stopCode, 'EssentialContainerExited');
  });

  it('a container created before a crash (state not saved) is taken as created', () => {
    const s = stateOf(agentTask([c('app')]), { app: { known: 'PULLED' } });
    apply(s, [
      { type: 'inspected', target: 'app', dockerId: 'found', state: inspected('created', { id: 'found' }) },
    ]);
    assert.equal(s.containers[0]!.known, 'CREATED');
    assert.equal(s.containers[0]!.dockerId, 'found');
  });

  it('a running pause container found after a crash gives the network its address', () => {
    const s = stateOf(
      agentTask([c('app')], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['s'] },
      }),
    );
    apply(s, [
      {
        type: 'inspected',
        target: PAUSE_TARGET,
        dockerId: 'p9',
        state: inspected('running', {
          id: 'p9',
          networks: [
            { name: 'berth-task-net', ipv4Address: '198.19.0.9', ipv4PrefixLength: 24, macAddress: 'mac' },
          ],
        }),
      },
    ]);
    assert.equal(s.network?.status, 'READY');
    assert.equal(s.network?.ip, '198.19.0.9');
    assert.equal(s.network?.pauseDockerId, 'p9');
    assert.equal(s.known, 'PENDING');
  });

  it('health follows health_status events', () => {
    const s = stateOf(agentTask([c('app', { healthCheck: { command: ['CMD', 'true'] } })]), {
      app: { known: 'RUNNING', dockerId: 'd-app' },
    });
    apply(s, [engineEvent('health_status', 'd-app', { health: 'healthy' })]);
    assert.equal(s.containers[0]!.health?.status, 'HEALTHY');
    apply(s, [engineEvent('health_status', 'd-app', { health: 'unhealthy' })]);
    assert.equal(s.containers[0]!.health?.status, 'UNHEALTHY');
  });
});
