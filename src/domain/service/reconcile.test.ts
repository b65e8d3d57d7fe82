import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerInstanceRecord, ServiceRecord, TaskRecord } from '../records.js';
import { UNHEALTHY_STOP_REASON } from './circuit-breaker.js';
import { computeServiceStep, computedDesiredCount, scalingReason, type ServiceAction } from './reconcile.js';
import { applyServiceStep } from './status.js';
import { D1, D2, T0, deployment, instance, instanceArn, service, task } from './test-support.js';

function step(
  svc: ServiceRecord,
  tasks: TaskRecord[],
  opts: { now?: number; instances?: ContainerInstanceRecord[] } = {},
) {
  return computeServiceStep({ service: svc, tasks, instances: opts.instances ?? [], now: opts.now ?? T0 });
}

const of = <T extends ServiceAction['type']>(actions: readonly ServiceAction[], type: T) =>
  actions.filter((a): a is Extract<ServiceAction, { type: T }> => a.type === type);

const events = (actions: readonly ServiceAction[]) => of(actions, 'event').map((a) => a.message);
const stopped = (actions: readonly ServiceAction[]) =>
  of(actions, 'stopTask').map((a) => a.taskArn.split('/').pop());
const starts = (actions: readonly ServiceAction[]) =>
  of(actions, 'startTasks').reduce((n, a) => n + a.count, 0);

describe('computeServiceStep: REPLICA holds desiredCount', () => {
  it('starts desiredCount tasks for a new service', () => {
    const s = step(service({ desiredCount: 3 }), []);
    assert.deepEqual(of(s.actions, 'startTasks'), [{ type: 'startTasks', deploymentId: D1, count: 3 }]);
    assert.equal(of(s.actions, 'stopTask').length, 0);
  });

  it('marks the deployment COMPLETED and the service steady once every task is healthy', () => {
    const tasks = [task(), task(), task()];
    const s = step(service({ desiredCount: 3 }), tasks);
    assert.deepEqual(of(s.actions, 'setRolloutState'), [
      {
        type: 'setRolloutState',
        deploymentId: D1,
        rolloutState: 'COMPLETED',
        reason: `ECS deployment ${D1} completed.`,
      },
    ]);
    assert.deepEqual(events(s.actions), [
      `(service web) (deployment ${D1}) deployment completed.`,
      '(service web) has reached a steady state.',
    ]);
    assert.deepEqual(of(s.actions, 'setSteady'), [{ type: 'setSteady', steady: true }]);
  });

  it('does nothing more once steady (a second run changes nothing)', () => {
    const svc = service({
      desiredCount: 2,
      deployments: [deployment(D1, { rolloutState: 'COMPLETED', desiredCount: 2 })],
      internals: { [D1]: { failuresResetAt: T0 / 1000 - 55 } },
      berth: { steady: true },
    });
    const s = step(svc, [task(), task()]);
    assert.deepEqual(s.actions, []);
    assert.equal(s.requeueAfterMs, undefined);
  });

  it('replaces a task that stopped, says why it stopped and leaves the steady state', () => {
    const svc = service({
      desiredCount: 2,
      deployments: [deployment(D1, { rolloutState: 'COMPLETED', desiredCount: 2 })],
      berth: { steady: true, stopsSeen: { at: T0 / 1000 - 100, taskIds: [] } },
    });
    const dead = task({
      id: 'dead',
      last: 'STOPPED',
      startedAt: T0 / 1000 - 500,
      stoppedAt: T0 / 1000 - 5,
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
    });
    const s = step(svc, [task(), dead]);
    assert.equal(starts(s.actions), 1);
    assert.ok(
      events(s.actions).includes('(service web) (task dead) stopped: Essential container in task exited.'),
    );
    assert.deepEqual(of(s.actions, 'setSteady'), [{ type: 'setSteady', steady: false }]);
    assert.deepEqual(of(s.actions, 'noteStops'), [
      { type: 'noteStops', at: T0 / 1000 - 5, taskIds: ['dead'] },
    ]);
  });

  it('reports a stopped task once: the watermark covers it on the next pass', () => {
    const svc = service({
      desiredCount: 1,
      deployments: [deployment(D1, { rolloutState: 'COMPLETED', desiredCount: 1 })],
      berth: { stopsSeen: { at: T0 / 1000 - 5, taskIds: ['dead'] } },
    });
    const dead = task({
      id: 'dead',
      last: 'STOPPED',
      stoppedAt: T0 / 1000 - 5,
      stopCode: 'EssentialContainerExited',
    });
    const s = step(svc, [task(), dead]);
    assert.ok(!events(s.actions).some((m) => m.includes('(task dead) stopped')));
    assert.equal(of(s.actions, 'noteStops').length, 0);
  });

  it('scales in the surplus, pending tasks and the fullest zone first, with ECS stoppedReason', () => {
    const svc = service({
      desiredCount: 2,
      deployments: [deployment(D1, { rolloutState: 'COMPLETED', desiredCount: 2 })],
    });
    const tasks = [
      task({ id: 'a1', zone: 'a', createdAt: T0 / 1000 - 200 }),
      task({ id: 'a2', zone: 'a', createdAt: T0 / 1000 - 100 }),
      task({ id: 'a3', zone: 'a', last: 'PENDING' }),
      task({ id: 'b1', zone: 'b' }),
    ];
    const s = step(svc, tasks);
    assert.deepEqual(stopped(s.actions), ['a3', 'a2']);
    assert.equal(of(s.actions, 'stopTask')[0]!.reason, scalingReason(D1));
    assert.ok(events(s.actions).includes('(service web) has stopped 2 running tasks: (task a3) (task a2).'));
    assert.equal(starts(s.actions), 0);
  });

  it('counts a task without health checks as healthy only after the stability window, and looks again then', () => {
    const svc = service({ desiredCount: 1 });
    const fresh = task({ startedAt: T0 / 1000 - 2 });
    const s = step(svc, [fresh]);
    assert.equal(of(s.actions, 'setRolloutState').length, 0);
    assert.equal(s.requeueAfterMs, 3000);
  });
});

describe('computeServiceStep: rolling deployment bounds', () => {
  const rolling = (desired: number, max: number, min: number) =>
    service({
      desiredCount: desired,
      deployments: [
        deployment(D2, { desiredCount: desired, createdAt: T0 / 1000 }),
        deployment(D1, { status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: T0 / 1000 - 1000 }),
      ],
      config: {
        maximumPercent: max,
        minimumHealthyPercent: min,
        deploymentCircuitBreaker: { enable: false, rollback: false },
      },
    });
  const old = (n: number) => Array.from({ length: n }, (_, i) => task({ id: `old${i}`, deployment: D1 }));

  it('200/100: starts every new task first and stops no old one yet', () => {
    const s = step(rolling(4, 200, 100), old(4));
    assert.equal(starts(s.actions), 4);
    assert.deepEqual(stopped(s.actions), []);
  });

  it('200/100: stops old tasks only as new ones become healthy', () => {
    const tasks = [
      ...old(4),
      task({ deployment: D2 }),
      task({ deployment: D2 }),
      task({ deployment: D2, last: 'PENDING' }),
      task({ deployment: D2, last: 'PENDING' }),
    ];
    const s = step(rolling(4, 200, 100), tasks);
    assert.equal(starts(s.actions), 0);
    assert.equal(stopped(s.actions).length, 2);
    assert.ok(stopped(s.actions).every((id) => id!.startsWith('old')));
  });

  it('100/50: stops half the old tasks before starting any new one', () => {
    const s = step(rolling(4, 100, 50), old(4));
    assert.equal(starts(s.actions), 0);
    assert.equal(stopped(s.actions).length, 2);
  });

  it('100/100 stalls, as ECS documents', () => {
    const s = step(rolling(2, 100, 100), old(2));
    assert.equal(starts(s.actions), 0);
    assert.deepEqual(stopped(s.actions), []);
  });

  it('stops old tasks that serve nothing at once, whatever the bound', () => {
    const tasks = [...old(2), task({ id: 'oldpending', deployment: D1, last: 'PENDING' })];
    const s = step(rolling(2, 200, 100), tasks);
    assert.deepEqual(stopped(s.actions), ['oldpending']);
  });

  it('an old task still inside its stability window counts as serving: it stops within the bound only', () => {
    const young = [
      task({ id: 'y0', deployment: D1, startedAt: T0 / 1000 - 1 }),
      task({ id: 'y1', deployment: D1, startedAt: T0 / 1000 - 1 }),
    ];
    const s = step(rolling(2, 200, 100), young);
    assert.deepEqual(stopped(s.actions), []);
    const half = step(rolling(2, 200, 50), young);
    assert.equal(stopped(half.actions).length, 1);
  });

  it('new tasks inside their stability window do not count as healthy yet', () => {
    const tasks = [
      ...old(2),
      task({ deployment: D2, startedAt: T0 / 1000 - 1 }),
      task({ deployment: D2, startedAt: T0 / 1000 - 1 }),
    ];
    const s = step(rolling(2, 200, 100), tasks);
    assert.deepEqual(stopped(s.actions), []);
    assert.equal(s.requeueAfterMs, 4000);
  });

  it('removes the old deployment once its tasks are gone and completes the new one', () => {
    const gone = task({
      deployment: D1,
      last: 'STOPPED',
      stopCode: 'ServiceSchedulerInitiated',
      stoppedAt: T0 / 1000 - 1,
    });
    const s = step(rolling(2, 200, 100), [gone, task({ deployment: D2 }), task({ deployment: D2 })]);
    assert.deepEqual(of(s.actions, 'removeDeployment'), [{ type: 'removeDeployment', deploymentId: D1 }]);
    assert.equal(of(s.actions, 'setRolloutState')[0]?.rolloutState, 'COMPLETED');
  });

  it('keeps the bounds at every observed state of a simulated rollout', () => {
    for (const [desired, max, min] of [
      [4, 200, 100],
      [5, 150, 50],
      [3, 100, 0],
      [6, 125, 75],
      [1, 200, 100],
      [10, 110, 90],
    ] as const) {
      const result = simulate(rolling(desired, max, min), old(desired), 60);
      const maxTotal = Math.floor((desired * max) / 100);
      const minHealthy = Math.ceil((desired * min) / 100);
      assert.ok(result.maxSeen <= maxTotal, `${desired}/${max}/${min}: ${result.maxSeen} > ${maxTotal}`);
      assert.ok(
        result.minHealthySeen >= minHealthy,
        `${desired}/${max}/${min}: ${result.minHealthySeen} < ${minHealthy}`,
      );
      assert.equal(result.final.deployments?.length, 1, `${desired}/${max}/${min} did not converge`);
      assert.equal(result.final.deployments?.[0]?.rolloutState, 'COMPLETED');
      assert.equal(result.liveOf(D2), desired);
      assert.equal(result.liveOf(D1), 0);
    }
  });
});

describe('computeServiceStep: unhealthy tasks', () => {
  const hc = (desired: number, max = 200) =>
    service({
      desiredCount: desired,
      deployments: [deployment(D1, { rolloutState: 'COMPLETED', desiredCount: desired })],
      internals: { [D1]: { healthChecked: true } },
      config: { maximumPercent: max, minimumHealthyPercent: 100 },
    });

  it('starts the replacement first and keeps the unhealthy task', () => {
    const s = step(hc(2), [task({ health: 'HEALTHY' }), task({ id: 'sick', health: 'UNHEALTHY' })]);
    assert.equal(starts(s.actions), 1);
    assert.deepEqual(stopped(s.actions), []);
  });

  it('stops the unhealthy task once its replacement is healthy, with ECS wording', () => {
    const tasks = [
      task({ health: 'HEALTHY' }),
      task({ id: 'sick', health: 'UNHEALTHY' }),
      task({ health: 'HEALTHY' }),
    ];
    const s = step(hc(2), tasks);
    assert.deepEqual(stopped(s.actions), ['sick']);
    assert.equal(of(s.actions, 'stopTask')[0]!.reason, UNHEALTHY_STOP_REASON);
    assert.ok(events(s.actions).includes('(service web) (task sick) failed container health checks.'));
  });

  it('stops the unhealthy task first when maximumPercent leaves no room for a replacement', () => {
    const s = step(hc(2, 100), [task({ health: 'HEALTHY' }), task({ id: 'sick', health: 'UNHEALTHY' })]);
    assert.deepEqual(stopped(s.actions), ['sick']);
    assert.equal(starts(s.actions), 0);
  });

  it('ignores UNHEALTHY during healthCheckGracePeriodSeconds and looks again when it ends', () => {
    const svc = { ...hc(1), healthCheckGracePeriodSeconds: 120 };
    const s = step(svc, [task({ id: 'young', health: 'UNHEALTHY', startedAt: T0 / 1000 - 30 })]);
    assert.equal(starts(s.actions), 0);
    assert.deepEqual(stopped(s.actions), []);
    assert.equal(s.requeueAfterMs, 90_000);
  });
});

describe('computeServiceStep: circuit breaker and back-off', () => {
  const failing = (rollback: boolean, lastCompleted = true) =>
    service({
      desiredCount: 2,
      deployments: [
        deployment(D2, { desiredCount: 2 }),
        deployment(D1, { status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: T0 / 1000 - 1000 }),
      ],
      config: {
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        deploymentCircuitBreaker: { enable: true, rollback },
      },
      berth: lastCompleted
        ? {
            lastCompleted: {
              deployment: deployment(D1, { rolloutState: 'COMPLETED' }),
              internals: { healthChecked: false },
            },
          }
        : {},
    });
  const neverRan = (n: number, deploymentId = D2) =>
    Array.from({ length: n }, (_, i) =>
      task({
        id: `f${i}`,
        deployment: deploymentId,
        last: 'STOPPED',
        startedAt: undefined,
        stoppedAt: T0 / 1000 - 30 + i,
        stopCode: 'TaskFailedToStart',
        stoppedReason: 'CannotPullContainerError: pull access denied',
      }),
    );

  it('fails the deployment at the threshold (clamp(ceil(0.5 × 2), 3, 200) = 3) and rolls back', () => {
    const s = step(failing(true), [task({ deployment: D1 }), task({ deployment: D1 }), ...neverRan(3)]);
    assert.deepEqual(of(s.actions, 'setRolloutState'), [
      {
        type: 'setRolloutState',
        deploymentId: D2,
        rolloutState: 'FAILED',
        reason: 'ECS deployment circuit breaker: tasks failed to start.',
      },
    ]);
    assert.deepEqual(
      of(s.actions, 'rollback').map((a) => [a.failedId, a.targetId]),
      [[D2, D1]],
    );
    assert.ok(
      events(s.actions).includes(
        `(service web) (deployment ${D2}) deployment failed: tasks failed to start.`,
      ),
    );
    assert.ok(
      events(s.actions).includes(`(service web) (deployment ${D2}) rolling back to deployment ${D1}.`),
    );
    assert.equal(starts(s.actions), 0);
    assert.equal(s.requeueAfterMs, 0);
  });

  it('does not fail below the threshold', () => {
    const s = step(failing(true), [task({ deployment: D1 }), task({ deployment: D1 }), ...neverRan(2)]);
    assert.equal(of(s.actions, 'setRolloutState').length, 0);
    assert.equal(starts(s.actions), 2);
  });

  it('without rollback: FAILED, and the failed deployment launches nothing more', () => {
    const s = step(failing(false), [task({ deployment: D1 }), task({ deployment: D1 }), ...neverRan(3)]);
    assert.equal(of(s.actions, 'setRolloutState')[0]?.rolloutState, 'FAILED');
    assert.equal(of(s.actions, 'rollback').length, 0);
    const svc = failing(false);
    svc.deployments![0]!.rolloutState = 'FAILED';
    const after = step(svc, [task({ deployment: D1 }), task({ deployment: D1 }), ...neverRan(3)]);
    assert.equal(starts(after.actions), 0);
    assert.deepEqual(stopped(after.actions), []);
  });

  it('with rollback but nothing ever COMPLETED: says so and stalls', () => {
    const s = step(failing(true, false), [...neverRan(3)]);
    assert.equal(of(s.actions, 'rollback').length, 0);
    assert.ok(events(s.actions).some((m) => m.includes('cannot roll back')));
  });

  it('counts tasks that exit within the stability window (stage 2) and health check failures', () => {
    const quick = (i: number) =>
      task({
        id: `q${i}`,
        deployment: D2,
        last: 'STOPPED',
        startedAt: T0 / 1000 - 20 + i,
        stoppedAt: T0 / 1000 - 19 + i,
        stopCode: 'EssentialContainerExited',
      });
    const sick = task({
      id: 'sick',
      deployment: D2,
      last: 'STOPPED',
      startedAt: T0 / 1000 - 100,
      stoppedAt: T0 / 1000 - 10,
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: UNHEALTHY_STOP_REASON,
    });
    const s = step(failing(true), [
      task({ deployment: D1 }),
      task({ deployment: D1 }),
      quick(1),
      quick(2),
      sick,
    ]);
    assert.equal(of(s.actions, 'setRolloutState')[0]?.rolloutState, 'FAILED');
  });

  it('does not count tasks the scheduler or a user stopped', () => {
    const mine = (i: number, code: TaskRecord['stopCode']) =>
      task({
        id: `m${i}`,
        deployment: D2,
        last: 'STOPPED',
        startedAt: undefined,
        stoppedAt: T0 / 1000 - 10,
        stopCode: code,
      });
    const s = step(failing(true), [
      task({ deployment: D1 }),
      task({ deployment: D1 }),
      mine(1, 'ServiceSchedulerInitiated'),
      mine(2, 'UserInitiated'),
      mine(3, 'ServiceSchedulerInitiated'),
    ]);
    assert.equal(of(s.actions, 'setRolloutState').length, 0);
  });

  it('resets the count once a task of the deployment proved healthy', () => {
    const healthy = task({ deployment: D2, startedAt: T0 / 1000 - 20 });
    const s = step(failing(true), [
      task({ deployment: D1 }),
      task({ deployment: D1 }),
      ...neverRan(3),
      healthy,
    ]);
    assert.equal(of(s.actions, 'setRolloutState').length, 0);
    assert.deepEqual(of(s.actions, 'resetFailures'), [
      { type: 'resetFailures', deploymentId: D2, at: T0 / 1000 - 15 },
    ]);
  });

  it('counts cumulatively with resetOnHealthyTask false', () => {
    const svc = failing(true);
    svc.deploymentConfiguration!.deploymentCircuitBreaker!.resetOnHealthyTask = false;
    const healthy = task({ deployment: D2, startedAt: T0 / 1000 - 20 });
    const s = step(svc, [task({ deployment: D1 }), task({ deployment: D1 }), ...neverRan(3), healthy]);
    assert.equal(of(s.actions, 'setRolloutState')[0]?.rolloutState, 'FAILED');
  });

  it('uses thresholdConfiguration COUNT', () => {
    const svc = failing(true);
    svc.deploymentConfiguration!.deploymentCircuitBreaker!.thresholdConfiguration = {
      type: 'COUNT',
      value: 1,
    };
    const s = step(svc, [task({ deployment: D1 }), task({ deployment: D1 }), ...neverRan(1)]);
    assert.equal(of(s.actions, 'setRolloutState')[0]?.rolloutState, 'FAILED');
  });

  it('backs off launches after repeated failures, says so, and retries when the delay is over', () => {
    const svc = service({ desiredCount: 1 });
    const failures = neverRan(3, D1).map((t, i) => ({ ...t, stoppedAt: T0 / 1000 - 3 + i }));
    const s = step(svc, failures);
    assert.equal(starts(s.actions), 0);
    const lastFailure = (T0 / 1000 - 1) * 1000;
    assert.equal(s.requeueAfterMs, lastFailure + 5000 - T0);
    assert.ok(
      events(s.actions).some((m) =>
        m.startsWith('(service web) is unable to consistently start tasks successfully'),
      ),
    );
    const later = step(svc, failures, { now: lastFailure + 5000 });
    assert.equal(starts(later.actions), 1);
  });

  it('rolls back when StopServiceDeployment asked for it', () => {
    const svc = failing(false);
    svc.berth!.rollbackRequested = D2;
    const s = step(svc, [task({ deployment: D1 }), task({ deployment: D1 })]);
    assert.equal(of(s.actions, 'setRolloutState')[0]?.rolloutState, 'FAILED');
    assert.deepEqual(
      of(s.actions, 'rollback').map((a) => a.targetId),
      [D1],
    );
    assert.equal(of(s.actions, 'clearRollbackRequest').length, 1);
  });
});

describe('computeServiceStep: draining container instances', () => {
  const svc = () =>
    service({
      desiredCount: 2,
      deployments: [deployment(D1, { rolloutState: 'COMPLETED', desiredCount: 2 })],
      config: { maximumPercent: 200, minimumHealthyPercent: 50 },
    });
  const instances = [instance('i1'), instance('i2', 'DRAINING')];

  it('stops PENDING tasks on a DRAINING instance at once and replaces them', () => {
    const s = step(svc(), [task({ instance: 'i1' }), task({ id: 'p', instance: 'i2', last: 'PENDING' })], {
      instances,
    });
    assert.deepEqual(stopped(s.actions), ['p']);
    assert.equal(starts(s.actions), 1);
  });

  it('replaces RUNNING tasks on a DRAINING instance within the bounds', () => {
    const tasks = [task({ id: 'r1', instance: 'i2' }), task({ id: 'r2', instance: 'i2' })];
    const s = step(svc(), tasks, { instances });
    assert.equal(starts(s.actions), 2);
    // minimumHealthyPercent 50: one of the two may stop before the replacements are healthy.
    assert.equal(stopped(s.actions).length, 1);
    assert.ok(
      events(s.actions).some((m) => m.includes('is moving 1 tasks off draining container instance i2')),
    );
  });
});

describe('computeServiceStep: DAEMON', () => {
  const daemon = (extra: Partial<ServiceRecord> = {}) => ({
    ...service({ strategy: 'DAEMON', desiredCount: 0 }),
    ...extra,
  });
  const three = [instance('i1'), instance('i2'), instance('i3')];

  it('starts one task on every ACTIVE instance', () => {
    const s = step(daemon(), [], { instances: three });
    assert.deepEqual(of(s.actions, 'startDaemonTasks'), [
      {
        type: 'startDaemonTasks',
        deploymentId: D1,
        containerInstanceArns: three.map((i) => i.containerInstanceArn),
      },
    ]);
  });

  it('starts on an instance that joins later, and on none that is DRAINING or disconnected', () => {
    const tasks = three.map((i, n) =>
      task({ id: `d${n}`, instance: i.containerInstanceArn.split('/').pop()! }),
    );
    const instances = [
      ...three,
      instance('i4'),
      instance('i5', 'DRAINING'),
      instance('i6', 'ACTIVE', { agentConnected: false }),
    ];
    const s = step(daemon(), tasks, { instances });
    assert.deepEqual(of(s.actions, 'startDaemonTasks')[0]?.containerInstanceArns, [instanceArn('i4')]);
  });

  it('stops its task on an instance that is DRAINING', () => {
    const tasks = [task({ id: 'x', instance: 'i1' })];
    const s = step(daemon(), tasks, { instances: [instance('i1', 'DRAINING')] });
    assert.deepEqual(stopped(s.actions), ['x']);
  });

  it('completes when every ACTIVE instance runs one healthy task', () => {
    const tasks = three.map((i, n) =>
      task({ id: `d${n}`, instance: i.containerInstanceArn.split('/').pop()! }),
    );
    const s = step(daemon(), tasks, { instances: three });
    assert.equal(of(s.actions, 'setRolloutState')[0]?.rolloutState, 'COMPLETED');
  });

  it('replaces old daemon tasks instance by instance: stop first (min 0), start once gone', () => {
    const svc = service({
      strategy: 'DAEMON',
      deployments: [
        deployment(D2),
        deployment(D1, { status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: 0 }),
      ],
    });
    const oldTasks = three.map((i, n) =>
      task({ id: `o${n}`, deployment: D1, instance: i.containerInstanceArn.split('/').pop()! }),
    );
    const s = step(svc, oldTasks, { instances: three });
    assert.deepEqual(stopped(s.actions), ['o0', 'o1', 'o2']);
    assert.equal(of(s.actions, 'startDaemonTasks').length, 0);
    const stoppedTasks = oldTasks.map((t) => ({
      ...t,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED' as const,
      stopCode: 'ServiceSchedulerInitiated' as const,
      stoppedAt: T0 / 1000,
    }));
    const next = step(svc, stoppedTasks, { instances: three });
    assert.equal(of(next.actions, 'startDaemonTasks')[0]?.containerInstanceArns.length, 3);
  });

  it('with minimumHealthyPercent 50 keeps half the instances served while replacing', () => {
    const svc = service({
      strategy: 'DAEMON',
      deployments: [
        deployment(D2),
        deployment(D1, { status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: 0 }),
      ],
      config: { maximumPercent: 100, minimumHealthyPercent: 50 },
    });
    const four = [...three, instance('i4')];
    const oldTasks = four.map((i, n) =>
      task({ id: `o${n}`, deployment: D1, instance: i.containerInstanceArn.split('/').pop()! }),
    );
    const s = step(svc, oldTasks, { instances: four });
    assert.equal(stopped(s.actions).length, 2);
  });
});

describe('computeServiceStep: DRAINING service and task sets', () => {
  it('stops every task of a DRAINING service, then marks it INACTIVE', () => {
    const svc = service({ status: 'DRAINING', desiredCount: 0 });
    const s = step(svc, [task({ id: 'a' }), task({ id: 'b', last: 'PENDING' })]);
    assert.deepEqual(stopped(s.actions).sort(), ['a', 'b']);
    assert.equal(of(s.actions, 'markInactive').length, 0);
    const done = step(svc, [
      task({ id: 'a', last: 'STOPPED', stopCode: 'ServiceSchedulerInitiated', stoppedAt: T0 / 1000 }),
    ]);
    assert.deepEqual(of(done.actions, 'markInactive'), [{ type: 'markInactive' }]);
  });

  const TS1 = 'ecs-svc/2000000000000000001';
  const TS2 = 'ecs-svc/2000000000000000002';
  const external = (sets: { id: string; scale: number; status?: string }[]) =>
    service({
      controller: 'EXTERNAL',
      desiredCount: 4,
      taskSets: sets.map((s) => ({
        id: s.id,
        status: s.status ?? 'ACTIVE',
        scale: { value: s.scale, unit: 'PERCENT' },
      })),
    });

  it('holds every task set at ceil(desired × scale / 100)', () => {
    const svc = external([
      { id: TS1, scale: 100 },
      { id: TS2, scale: 30 },
    ]);
    assert.equal(computedDesiredCount(svc, svc.taskSets![1]!), 2);
    const s = step(svc, [task({ deployment: TS1 })]);
    assert.deepEqual(of(s.actions, 'startTasks'), [
      { type: 'startTasks', deploymentId: TS1, count: 3 },
      { type: 'startTasks', deploymentId: TS2, count: 2 },
    ]);
  });

  it('scales a task set in and drains a deleted one, then removes it', () => {
    const svc = external([
      { id: TS1, scale: 25 },
      { id: TS2, scale: 100, status: 'DRAINING' },
    ]);
    const s = step(svc, [
      task({ id: 'x1', deployment: TS1 }),
      task({ id: 'x2', deployment: TS1 }),
      task({ id: 'y', deployment: TS2 }),
    ]);
    assert.equal(stopped(s.actions).length, 2);
    assert.ok(stopped(s.actions).includes('y'));
    const gone = step(svc, [task({ id: 'x1', deployment: TS1 })]);
    assert.deepEqual(of(gone.actions, 'removeTaskSet'), [{ type: 'removeTaskSet', taskSetId: TS2 }]);
  });

  it('stops tasks that belong to no task set', () => {
    const svc = external([{ id: TS1, scale: 0 }]);
    const s = step(svc, [task({ id: 'orphan', deployment: 'ecs-svc/9' })]);
    assert.deepEqual(stopped(s.actions), ['orphan']);
  });
});

// ---------------------------------------------------------------------------------------------
// A small simulation: the scheduler decides, a fake agent moves tasks one step per tick
// (PROVISIONING → RUNNING, desired STOPPED → STOPPED), time moves 10 s per tick.

function simulate(start: ServiceRecord, tasks0: TaskRecord[], ticks: number) {
  let svc = start;
  let tasks = tasks0.map((t) => structuredClone(t));
  let now = T0;
  let maxSeen = 0;
  let minHealthySeen = Number.POSITIVE_INFINITY;
  let n = 0;
  const observe = () => {
    const live = tasks.filter((t) => t.lastStatus !== 'STOPPED');
    maxSeen = Math.max(maxSeen, live.length);
    const healthy = live.filter(
      (t) =>
        t.lastStatus === 'RUNNING' &&
        t.desiredStatus === 'RUNNING' &&
        (t.startedAt ?? 0) * 1000 + 5000 <= now,
    ).length;
    minHealthySeen = Math.min(minHealthySeen, healthy);
  };
  for (let i = 0; i < ticks; i++) {
    observe();
    const s = computeServiceStep({ service: svc, tasks, instances: [], now });
    for (const a of s.actions) {
      if (a.type === 'startTasks') {
        for (let k = 0; k < a.count; k++) {
          tasks.push(
            task({ id: `n${++n}`, deployment: a.deploymentId, last: 'PROVISIONING', createdAt: now / 1000 }),
          );
        }
      } else if (a.type === 'stopTask') {
        tasks = tasks.map((t) =>
          t.taskArn === a.taskArn
            ? {
                ...t,
                desiredStatus: 'STOPPED',
                stopCode: 'ServiceSchedulerInitiated',
                stoppedReason: a.reason,
              }
            : t,
        );
      }
    }
    svc = applyServiceStep({
      service: svc,
      actions: s.actions,
      tasks,
      instances: [],
      now,
      newId: () => `e${++n}`,
    }).service;
    observe();
    now += 10_000;
    tasks = tasks.map((t) => {
      if (t.lastStatus === 'STOPPED') return t;
      if (t.desiredStatus === 'STOPPED') return { ...t, lastStatus: 'STOPPED', stoppedAt: now / 1000 };
      if (t.lastStatus !== 'RUNNING') return { ...t, lastStatus: 'RUNNING', startedAt: now / 1000 };
      return t;
    });
  }
  return {
    final: svc,
    maxSeen,
    minHealthySeen,
    liveOf: (id: string) => tasks.filter((t) => t.startedBy === id && t.lastStatus !== 'STOPPED').length,
  };
}
