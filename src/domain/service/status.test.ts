import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceDeploymentRecord } from '../records.js';
import { freeze } from '../../store/txn-rules.js';
import { applyServiceStep, computeServiceStatus } from './status.js';
import { D1, D2, T0, deployment, instance, service, task } from './test-support.js';

let n = 0;
const newId = () => `id-${++n}`;

function history(status: ServiceDeploymentRecord['status']): ServiceDeploymentRecord {
  return {
    serviceDeploymentArn: 'h',
    serviceArn: 's',
    clusterArn: 'c',
    status,
    deploymentCircuitBreaker: { status: 'MONITORING', failureCount: 0, threshold: 3 },
    berth: { deploymentId: D2, serviceCreatedAt: 0 },
  };
}

describe('computeServiceStatus', () => {
  it('counts running and pending tasks per deployment and for the service', () => {
    const svc = service({
      desiredCount: 3,
      deployments: [deployment(D2), deployment(D1, { status: 'ACTIVE', rolloutState: 'COMPLETED' })],
    });
    const tasks = [
      task({ deployment: D2, last: 'PROVISIONING' }),
      task({ deployment: D2 }),
      task({ deployment: D1 }),
      task({ deployment: D1, desired: 'STOPPED' }),
      task({ deployment: D1, last: 'STOPPED' }),
    ];
    const out = computeServiceStatus(svc, tasks, [], T0);
    assert.equal(out.runningCount, 3);
    assert.equal(out.pendingCount, 1);
    const [p, a] = out.deployments!;
    assert.deepEqual([p!.desiredCount, p!.runningCount, p!.pendingCount], [3, 1, 1]);
    assert.deepEqual([a!.desiredCount, a!.runningCount, a!.pendingCount], [1, 2, 0]);
    assert.equal(out.currentServiceDeployment, svc.berth!.deployments[D2]!.serviceDeploymentArn);
    assert.equal(out.currentServiceRevisions?.length, 2);
  });

  it('a DAEMON service wants one task per ACTIVE instance', () => {
    const svc = service({ strategy: 'DAEMON' });
    const out = computeServiceStatus(svc, [], [instance('a'), instance('b'), instance('c', 'DRAINING')], T0);
    assert.equal(out.desiredCount, 2);
  });

  it('does not touch updatedAt when nothing changed', () => {
    const svc = service({ desiredCount: 1 });
    const once = computeServiceStatus(svc, [task()], [], T0);
    const twice = computeServiceStatus(once, [task()], [], T0 + 60_000);
    assert.deepEqual(twice.deployments, once.deployments);
  });
});

describe('applyServiceStep', () => {
  it('folds a step into a frozen stored record without touching it, events kept as they were', () => {
    // Records come from the store deeply frozen; the step works on its own copy (the events are
    // not copied, only replaced by a new array).
    const stored = freeze({
      ...service({ desiredCount: 1 }),
      events: [{ id: 'e1', createdAt: T0 / 1000 - 60, message: 'older' }],
    });
    const before = structuredClone(stored);
    const quiet = applyServiceStep({
      service: stored,
      actions: [],
      tasks: [task()],
      instances: [],
      now: T0,
      newId,
    });
    assert.deepEqual(quiet.service.events, stored.events);
    assert.equal(quiet.service.runningCount, 1);
    const r = applyServiceStep({
      service: stored,
      actions: [
        { type: 'setSteady', steady: true },
        { type: 'event', message: 'newer' },
      ],
      tasks: [task()],
      instances: [],
      now: T0,
      newId,
    });
    assert.deepEqual(
      r.service.events?.map((e) => e.message),
      ['newer', 'older'],
    );
    assert.equal(r.service.berth?.steady, true);
    assert.deepEqual(stored, before, 'the stored record is unchanged');
  });

  it('COMPLETED records the deployment for rollback and marks its history SUCCESSFUL', () => {
    const svc = service({ desiredCount: 1 });
    const r = applyServiceStep({
      service: svc,
      actions: [
        {
          type: 'setRolloutState',
          deploymentId: D1,
          rolloutState: 'COMPLETED',
          reason: `ECS deployment ${D1} completed.`,
        },
        { type: 'event', message: 'done' },
      ],
      tasks: [task()],
      instances: [],
      now: T0,
      newId,
    });
    assert.equal(r.service.deployments![0]!.rolloutState, 'COMPLETED');
    assert.equal(r.service.berth!.lastCompleted?.deployment.id, D1);
    assert.equal(r.service.events![0]!.message, 'done');
    assert.equal(r.history.length, 1);
    const h = r.history[0]!.update({
      ...history('IN_PROGRESS'),
      berth: { deploymentId: D1, serviceCreatedAt: 0 },
    });
    assert.equal(h.status, 'SUCCESSFUL');
    assert.equal(h.deploymentCircuitBreaker?.status, 'MONITORING_COMPLETE');
  });

  it('rollback brings a drained COMPLETED deployment back as PRIMARY and the service follows it', () => {
    const svc = service({
      desiredCount: 2,
      deployments: [deployment(D2, { taskDefinition: 'td:2', rolloutState: 'IN_PROGRESS' })],
      berth: {
        lastCompleted: {
          deployment: deployment(D1, { taskDefinition: 'td:1', rolloutState: 'COMPLETED', runningCount: 2 }),
          internals: { healthChecked: false, serviceDeploymentArn: 'h1' },
        },
      },
    });
    const r = applyServiceStep({
      service: svc,
      actions: [
        {
          type: 'setRolloutState',
          deploymentId: D2,
          rolloutState: 'FAILED',
          reason: 'ECS deployment circuit breaker: tasks failed to start.',
        },
        { type: 'rollback', failedId: D2, targetId: D1, reason: 'breaker' },
      ],
      tasks: [],
      instances: [],
      now: T0,
      newId,
    });
    const ds = r.service.deployments!;
    assert.deepEqual(
      ds.map((d) => [d.id, d.status, d.rolloutState]),
      [
        [D1, 'PRIMARY', 'IN_PROGRESS'],
        [D2, 'ACTIVE', 'FAILED'],
      ],
    );
    assert.equal(ds[0]!.runningCount, 0);
    assert.equal(r.service.taskDefinition, 'td:1');
    assert.deepEqual(r.service.berth!.deployments[D1]!.rollbackOf, {
      deploymentId: D2,
      serviceDeploymentArn: svc.berth!.deployments[D2]!.serviceDeploymentArn,
    });
    // The failed deployment's history: STOPPED then (same pass) ROLLBACK_IN_PROGRESS.
    const h2 = r.history.filter(
      (h) => h.serviceDeploymentArn === svc.berth!.deployments[D2]!.serviceDeploymentArn,
    );
    const final = h2.reduce((rec, c) => c.update(rec), history('IN_PROGRESS'));
    assert.equal(final.status, 'ROLLBACK_IN_PROGRESS');
    assert.equal(final.stoppedAt, undefined);
    assert.equal(final.deploymentCircuitBreaker?.status, 'TRIGGERED');
    assert.equal(final.rollback?.reason, 'breaker');

    // When the deployment rolled back to completes, the failed one's history says so.
    const done = applyServiceStep({
      service: r.service,
      actions: [{ type: 'setRolloutState', deploymentId: D1, rolloutState: 'COMPLETED', reason: 'done' }],
      tasks: [],
      instances: [],
      now: T0 + 1000,
      newId,
    });
    const rolled = done.history.find(
      (h) => h.serviceDeploymentArn === svc.berth!.deployments[D2]!.serviceDeploymentArn,
    );
    assert.equal(rolled?.update(final).status, 'ROLLBACK_SUCCESSFUL');
    assert.equal(done.service.berth!.deployments[D1]!.rollbackOf, undefined);
  });

  it('removes drained deployments and task sets, marks a drained service INACTIVE', () => {
    const svc = service({
      status: 'DRAINING',
      deployments: [deployment(D2), deployment(D1, { status: 'ACTIVE' })],
    });
    const r = applyServiceStep({
      service: svc,
      actions: [{ type: 'removeDeployment', deploymentId: D1 }, { type: 'markInactive' }],
      tasks: [],
      instances: [],
      now: T0,
      newId,
    });
    assert.deepEqual(
      r.service.deployments!.map((d) => d.id),
      [D2],
    );
    assert.equal(r.service.berth!.deployments[D1], undefined);
    assert.equal(r.service.status, 'INACTIVE');
    assert.equal(r.service.desiredCount, 0);
  });

  it('moves the failure watermark forward only', () => {
    const svc = service({ internals: { [D1]: { failuresResetAt: 100 } } });
    const back = applyServiceStep({
      service: svc,
      actions: [{ type: 'resetFailures', deploymentId: D1, at: 50 }],
      tasks: [],
      instances: [],
      now: T0,
      newId,
    });
    assert.equal(back.service.berth!.deployments[D1]!.failuresResetAt, 100);
    const fwd = applyServiceStep({
      service: svc,
      actions: [{ type: 'resetFailures', deploymentId: D1, at: 150 }],
      tasks: [],
      instances: [],
      now: T0,
      newId,
    });
    assert.equal(fwd.service.berth!.deployments[D1]!.failuresResetAt, 150);
  });
});
