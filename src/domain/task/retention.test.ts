import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceRecord, TaskRecord } from '../records.js';
import { countFailedTasks } from '../service/circuit-breaker.js';
import { computeServiceStep } from '../service/reconcile.js';
import { D1, D2, T0, deployment, instance, service, task } from '../service/test-support.js';
import { TASK_STATUSES } from './status.js';
import {
  CLIENT_TOKEN_RETENTION_MS,
  DEFAULT_STOPPED_TASK_RETENTION_MS,
  computeTaskRetention,
  isClaimPending,
  isNeededByService,
  isTokenExpired,
  serviceNameOfTask,
  stoppedAtMs,
} from './retention.js';

const HOUR = 3_600_000;
const R = DEFAULT_STOPPED_TASK_RETENTION_MS;
/** Epoch seconds, as records hold them. */
const sec = (ms: number) => ms / 1000;

function stopped(extra: Partial<TaskRecord> = {}, o: Parameters<typeof task>[0] = {}): TaskRecord {
  return { ...task({ last: 'STOPPED', stoppedAt: sec(T0 - 2 * HOUR), ...o }), ...extra };
}

describe('computeTaskRetention', () => {
  it('keeps every task that is not STOPPED, however old', () => {
    for (const status of TASK_STATUSES.filter((s) => s !== 'STOPPED')) {
      const t = task({ last: status, createdAt: 0, desired: 'STOPPED' });
      assert.deepEqual(computeTaskRetention(t, T0, R), { kind: 'not-stopped' }, status);
      assert.equal(stoppedAtMs(t), undefined);
    }
    assert.deepEqual(computeTaskRetention({ ...task(), lastStatus: undefined }, T0, 1), {
      kind: 'not-stopped',
    });
  });

  it('expires a STOPPED task once the retention has passed since it stopped, not before', () => {
    const t = stopped({ stoppedAt: sec(T0 - HOUR + 1000) });
    assert.deepEqual(computeTaskRetention(t, T0, R), { kind: 'young', expiresAt: T0 + 1000 });
    assert.deepEqual(computeTaskRetention(t, T0 + 999, R), { kind: 'young', expiresAt: T0 + 1000 });
    assert.deepEqual(computeTaskRetention(t, T0 + 1000, R), { kind: 'expired' });
    assert.deepEqual(computeTaskRetention(t, T0 + 5 * HOUR, R), { kind: 'expired' });
    assert.deepEqual(computeTaskRetention(t, T0, 2 * HOUR), { kind: 'young', expiresAt: T0 + HOUR + 1000 });
  });

  it('dates the stop by stoppedAt, then executionStoppedAt, stoppingAt, createdAt', () => {
    const created = sec(T0 - 10 * HOUR);
    const base = { ...task({ last: 'STOPPED', createdAt: created }) };
    delete base.stoppedAt;
    assert.equal(stoppedAtMs(base), T0 - 10 * HOUR);
    assert.equal(stoppedAtMs({ ...base, stoppingAt: sec(T0 - 3 * HOUR) }), T0 - 3 * HOUR);
    assert.equal(
      stoppedAtMs({ ...base, stoppingAt: sec(T0 - 3 * HOUR), executionStoppedAt: sec(T0 - 2 * HOUR) }),
      T0 - 2 * HOUR,
    );
    // Recently stopped after a long life: young.
    const late = { ...base, stoppingAt: sec(T0 - 3 * HOUR), stoppedAt: sec(T0 - 60_000) };
    assert.equal(stoppedAtMs(late), T0 - 60_000);
    assert.equal(computeTaskRetention(late, T0, R).kind, 'young');
    // Nothing dates it: it can only be old.
    const { createdAt: _c, ...undated } = base;
    assert.equal(stoppedAtMs(undated), 0);
    assert.equal(computeTaskRetention(undated, T0, R).kind, 'expired');
  });
});

describe('serviceNameOfTask', () => {
  it('reads the group service:<name> only', () => {
    assert.equal(serviceNameOfTask({ group: 'service:web' }), 'web');
    assert.equal(serviceNameOfTask({ group: 'service:' }), undefined);
    assert.equal(serviceNameOfTask({ group: 'family:web' }), undefined);
    assert.equal(serviceNameOfTask({}), undefined);
  });
});

describe('isNeededByService', () => {
  const completed = (extra: Parameters<typeof service>[0] = {}) =>
    service({
      deployments: [deployment(D1, { rolloutState: 'COMPLETED' })],
      internals: { [D1]: { failuresResetAt: sec(T0 - 3 * HOUR) } },
      ...extra,
    });

  it('releases a task whose service is gone, INACTIVE, or another one', () => {
    const t = stopped();
    assert.equal(isNeededByService(t, undefined), false);
    assert.equal(isNeededByService(t, service({ status: 'INACTIVE' })), false);
    assert.equal(isNeededByService({ ...t, group: 'service:api' }, service()), false);
    assert.equal(isNeededByService({ ...t, group: 'family:web' }, service()), false);
  });

  it('never concerns a task that is not STOPPED', () => {
    assert.equal(isNeededByService(task({ last: 'RUNNING' }), service()), false);
  });

  it('keeps every task of a deployment still IN_PROGRESS', () => {
    const svc = service({ internals: { [D1]: { failuresResetAt: sec(T0) } } });
    assert.equal(svc.deployments![0]!.rolloutState, 'IN_PROGRESS');
    assert.equal(isNeededByService(stopped(), svc), true);
    assert.equal(isNeededByService(stopped({ stopCode: 'ServiceSchedulerInitiated' }), svc), true);
  });

  it('releases a task of a deployment the service no longer lists', () => {
    assert.equal(isNeededByService(stopped({}, { deployment: D2 }), service()), false);
    assert.equal(isNeededByService({ ...stopped(), startedBy: undefined }, service()), false);
  });

  it('after completion, keeps the tasks that stopped after the failure watermark only', () => {
    const svc = completed();
    assert.equal(isNeededByService(stopped({ stoppedAt: sec(T0 - 4 * HOUR) }), svc), false);
    assert.equal(isNeededByService(stopped({ stoppedAt: sec(T0 - 3 * HOUR) }), svc), false);
    assert.equal(isNeededByService(stopped({ stoppedAt: sec(T0 - 2 * HOUR) }), svc), true);
    // No watermark yet: every task may count.
    const none = completed({ internals: { [D1]: {} } });
    assert.equal(isNeededByService(stopped({ stoppedAt: sec(T0 - 4 * HOUR) }), none), true);
  });

  it('applies the watermark to the tasks of a task set', () => {
    const svc = service({
      controller: 'EXTERNAL',
      taskSets: [{ id: 'ecs-svc/ts1', status: 'PRIMARY' }],
      internals: { 'ecs-svc/ts1': { failuresResetAt: sec(T0 - 3 * HOUR) } },
    });
    assert.equal(isNeededByService(stopped({}, { deployment: 'ecs-svc/ts1' }), svc), true);
    assert.equal(
      isNeededByService(stopped({ stoppedAt: sec(T0 - 4 * HOUR) }, { deployment: 'ecs-svc/ts1' }), svc),
      false,
    );
  });

  it('keeps a stop the scheduler has not written its event for yet', () => {
    const at = sec(T0 - 4 * HOUR);
    const svc = (seen: { at: number; taskIds: string[] } | undefined) =>
      completed({ berth: seen === undefined ? { stopsSeen: undefined } : { stopsSeen: seen } });
    const t = stopped({ stoppedAt: at, stopCode: 'EssentialContainerExited' }, { id: 'gone1' });
    assert.equal(isNeededByService(t, svc({ at: at - 1, taskIds: [] })), true);
    assert.equal(isNeededByService(t, svc(undefined)), true);
    assert.equal(isNeededByService(t, svc({ at, taskIds: ['other'] })), true);
    assert.equal(isNeededByService(t, svc({ at, taskIds: ['gone1'] })), false);
    assert.equal(isNeededByService(t, svc({ at: at + 1, taskIds: [] })), false);
    // The scheduler's own stops have their event when it stops them.
    assert.equal(
      isNeededByService({ ...t, stopCode: 'ServiceSchedulerInitiated' }, svc({ at: at - 1, taskIds: [] })),
      false,
    );
  });

  /** What the retention controller would leave of `tasks` at `now`. */
  const afterPurge = (tasks: TaskRecord[], svc: ServiceRecord, now: number) =>
    tasks.filter((t) => computeTaskRetention(t, now, R).kind !== 'expired' || isNeededByService(t, svc));
  const naivePurge = (tasks: TaskRecord[], now: number) =>
    tasks.filter((t) => computeTaskRetention(t, now, R).kind !== 'expired');
  const judge = { healthChecked: false, gracePeriodMs: 0, stabilityMs: 5000, now: T0 };
  const failed = (minutesAgo: number) =>
    stopped({ stoppedAt: sec(T0 - minutesAgo * 60_000), stopCode: 'EssentialContainerExited' });
  const instances = [instance('i1'), instance('i2')];

  it('a slow-failing rollout still trips its circuit breaker: old failures are kept', () => {
    const svc = service({
      desiredCount: 2,
      config: {
        deploymentCircuitBreaker: {
          enable: true,
          rollback: false,
          thresholdConfiguration: { type: 'COUNT', value: 3 },
        },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
    });
    const tasks = [failed(180), failed(120), failed(1)];
    const trips = (ts: TaskRecord[]) =>
      computeServiceStep({ service: svc, tasks: ts, instances, now: T0 }).actions.some(
        (a) => a.type === 'setRolloutState' && a.rolloutState === 'FAILED',
      );
    assert.equal(trips(tasks), true);
    // Deleting by age alone would hide two of the three failures.
    assert.equal(trips(naivePurge(tasks, T0)), false);
    assert.equal(trips(afterPurge(tasks, svc, T0)), true);
    assert.equal(countFailedTasks(afterPurge(tasks, svc, T0), judge, {}).count, 3);
  });

  it('the launch back-off of a completed deployment keeps counting its old failures', () => {
    const svc = completed({ desiredCount: 2 });
    const tasks = [failed(120), failed(100), failed(70), { ...failed(0), stoppedAt: sec(T0 - 5000) }];
    const launches = (ts: TaskRecord[]) =>
      computeServiceStep({ service: svc, tasks: ts, instances, now: T0 }).actions.some(
        (a) => a.type === 'startTasks',
      );
    // Four failures in a row: launches wait 10 s after the last one, 5 s ago.
    assert.equal(launches(tasks), false);
    assert.equal(launches(naivePurge(tasks, T0)), true);
    assert.equal(launches(afterPurge(tasks, svc, T0)), false);
    // Once a task proved healthy after them (the watermark moved), they go.
    const healed = completed({ desiredCount: 2, internals: { [D1]: { failuresResetAt: sec(T0 - 1000) } } });
    assert.deepEqual(
      afterPurge(tasks, healed, T0).map((t) => t.taskArn),
      [tasks[3]!.taskArn],
    );
  });
});

describe('clientToken records', () => {
  it('expire when as old as the token retention (RunTask honours a token for less than that)', () => {
    const r = { createdAt: T0 };
    assert.equal(CLIENT_TOKEN_RETENTION_MS, 24 * HOUR);
    assert.equal(isTokenExpired(r, T0 + CLIENT_TOKEN_RETENTION_MS - 1, CLIENT_TOKEN_RETENTION_MS), false);
    assert.equal(isTokenExpired(r, T0 + CLIENT_TOKEN_RETENTION_MS, CLIENT_TOKEN_RETENTION_MS), true);
  });

  it('keep a record without a numeric createdAt', () => {
    assert.equal(isTokenExpired({}, T0, 1), false);
    assert.equal(isTokenExpired({ createdAt: String(T0 - 10 * 24 * HOUR) }, T0, 1), false);
    assert.equal(isTokenExpired(undefined, T0, 1), false);
  });

  it('a claim is pending while live and not done', () => {
    const ttl = CLIENT_TOKEN_RETENTION_MS;
    assert.equal(isClaimPending({ createdAt: T0, done: false }, T0 + ttl - 1, ttl), true);
    assert.equal(isClaimPending({ createdAt: T0, done: true }, T0 + 1, ttl), false);
    assert.equal(isClaimPending({ createdAt: T0, done: false }, T0 + ttl, ttl), false);
    assert.equal(isClaimPending({ done: false }, T0, ttl), false);
    assert.equal(isClaimPending(undefined, T0, ttl), false);
  });
});
