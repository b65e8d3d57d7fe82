import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskStateReport } from '../agent-protocol.js';
import type { TaskRecord } from '../records.js';
import { buildTaskDefinition, withRevision } from '../task-definition/build.js';
import { container } from '../task-definition/test-support.js';
import {
  ESSENTIAL_CONTAINER_EXITED_REASON,
  applyTaskStateReport,
  compareAttachmentStatus,
} from './apply-report.js';
import { buildTaskRecord } from './build-task.js';
import { resolveOverrides } from './overrides.js';
import { requestTaskStop } from './stop.js';

const scope = { account: '123456789012', region: 'us-east-1' };
const T0 = Date.UTC(2026, 0, 1);
const ATTACHMENT = 'a0000000-0000-4000-8000-000000000001';

function newTask(): TaskRecord {
  const td = withRevision(
    buildTaskDefinition(
      {
        family: 'web',
        networkMode: 'awsvpc',
        containerDefinitions: [container('app'), container('side', { essential: false })],
      },
      { now: T0, principalArn: 'p' },
    ),
    scope,
    1,
  );
  return buildTaskRecord({
    scope,
    cluster: 'prod',
    taskId: 't1',
    containerIds: ['c1', 'c2'],
    attachmentId: ATTACHMENT,
    taskDefinition: td,
    resolved: resolveOverrides(td, undefined, 'EC2'),
    launchType: 'EC2',
    tags: [],
    host: {
      kind: 'instance',
      containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ci',
    },
    awsvpcConfiguration: { subnets: ['subnet-1'] },
    reserved: { cpu: 0, memory: 128, ports: [], portsUdp: [] },
    now: T0,
  });
}

const base = (
  task: TaskRecord,
  status: TaskStateReport['status'],
  extra: Partial<TaskStateReport> = {},
): TaskStateReport => ({
  taskArn: task.taskArn,
  status,
  containers: [],
  ...extra,
});

const eni = {
  attachmentId: 'whatever-the-agent-says',
  subnetId: 'subnet-1',
  networkInterfaceId: 'eni-0001',
  macAddress: '0a:58:c6:12:00:02',
  privateIPv4Address: '198.18.0.2',
  privateDnsName: 'ip-198-18-0-2.local',
};

/** Applies reports in order, each at a later second; returns the final task. */
function run(task: TaskRecord, reports: TaskStateReport[]): TaskRecord {
  return reports.reduce((t, r, i) => applyTaskStateReport(t, r, T0 + (i + 1) * 1000).task, task);
}

describe('applyTaskStateReport: moving forward', () => {
  it('takes the task through its lifecycle with timestamps, container details and the ENI', () => {
    const t0 = newTask();
    const pending = applyTaskStateReport(t0, base(t0, 'PENDING', { eni, pullStartedAt: 1.5 }), T0 + 1000);
    assert.equal(pending.changed, true);
    assert.equal(pending.reachedStopped, false);
    const p = pending.task;
    assert.equal(p.lastStatus, 'PENDING');
    assert.equal(p.version, 2);
    assert.equal(p.pullStartedAt, 1.5);
    assert.equal(p.connectivity, 'CONNECTED');
    assert.equal(p.connectivityAt, T0 / 1000 + 1);
    assert.equal(p.attachments![0]!.status, 'ATTACHED');
    assert.deepEqual(p.attachments![0]!.details, [
      { name: 'subnetId', value: 'subnet-1' },
      { name: 'networkInterfaceId', value: 'eni-0001' },
      { name: 'macAddress', value: '0a:58:c6:12:00:02' },
      { name: 'privateDnsName', value: 'ip-198-18-0-2.local' },
      { name: 'privateIPv4Address', value: '198.18.0.2' },
    ]);
    assert.deepEqual(p.containers![1]!.networkInterfaces, [
      { attachmentId: ATTACHMENT, privateIpv4Address: '198.18.0.2' },
    ]);
    assert.equal(t0.lastStatus, 'PROVISIONING', 'the input is not mutated');

    const running = applyTaskStateReport(
      p,
      base(p, 'RUNNING', {
        pullStoppedAt: 2,
        healthStatus: 'HEALTHY',
        containers: [
          {
            containerName: 'app',
            status: 'RUNNING',
            runtimeId: 'docker-1',
            networkBindings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp', bindIP: '198.18.0.2' }],
            healthStatus: 'HEALTHY',
          },
        ],
      }),
      T0 + 2000,
    ).task;
    assert.equal(running.lastStatus, 'RUNNING');
    assert.equal(running.version, 3);
    assert.equal(running.startedAt, T0 / 1000 + 2);
    assert.equal(running.pullStoppedAt, 2);
    assert.equal(running.healthStatus, 'HEALTHY');
    const app = running.containers![0]!;
    assert.equal(app.lastStatus, 'RUNNING');
    assert.equal(app.runtimeId, 'docker-1');
    assert.equal(app.healthStatus, 'HEALTHY');
    assert.deepEqual(app.networkBindings, [
      { containerPort: 80, hostPort: 80, protocol: 'tcp', bindIP: '198.18.0.2' },
    ]);
    assert.equal(running.containers![1]!.lastStatus, 'PENDING');
    assert.equal(running.desiredStatus, 'RUNNING');
  });

  it('stops the task when an essential container exits: desiredStatus, stop code, reason, timestamps, ENI', () => {
    const t = run(newTask(), [base(newTask(), 'PENDING', { eni }), base(newTask(), 'RUNNING')]);
    const out = applyTaskStateReport(
      t,
      base(t, 'STOPPED', {
        stopCode: 'EssentialContainerExited',
        containers: [{ containerName: 'app', status: 'STOPPED', exitCode: 3, reason: 'exited' }],
      }),
      T0 + 10_000,
    );
    assert.equal(out.reachedStopped, true);
    const s = out.task;
    assert.equal(s.lastStatus, 'STOPPED');
    assert.equal(s.desiredStatus, 'STOPPED');
    assert.equal(s.stopCode, 'EssentialContainerExited');
    assert.equal(s.stoppedReason, ESSENTIAL_CONTAINER_EXITED_REASON);
    assert.equal(s.stoppingAt, T0 / 1000 + 10);
    assert.equal(s.executionStoppedAt, T0 / 1000 + 10);
    assert.equal(s.stoppedAt, T0 / 1000 + 10);
    assert.equal(s.containers![0]!.exitCode, 3);
    assert.equal(s.containers![0]!.reason, 'exited');
    assert.deepEqual(
      s.containers!.map((c) => c.lastStatus),
      ['STOPPED', 'STOPPED'],
    );
    assert.equal(s.attachments![0]!.status, 'DELETED');
  });

  it("keeps the stop code and reason the control plane set over the agent's", () => {
    const t = run(newTask(), [base(newTask(), 'RUNNING')]);
    const asked = requestTaskStop(t, { now: T0 + 5000, reason: 'bye' })!;
    const s = applyTaskStateReport(
      asked,
      base(asked, 'STOPPED', { stopCode: 'TaskFailedToStart', reason: 'agent words', stoppingAt: 99 }),
      T0 + 9000,
    ).task;
    assert.equal(s.stopCode, 'UserInitiated');
    assert.equal(s.stoppedReason, 'bye');
    assert.equal(s.stoppingAt, asked.stoppingAt);
  });

  it("takes the agent's stop reason for a task that failed to start", () => {
    const t = run(newTask(), [
      base(newTask(), 'STOPPED', {
        stopCode: 'TaskFailedToStart',
        reason: 'CannotPullContainerError: no such image',
      }),
    ]);
    assert.equal(t.stopCode, 'TaskFailedToStart');
    assert.equal(t.stoppedReason, 'CannotPullContainerError: no such image');
    assert.equal(t.startedAt, undefined, 'a task that never ran has no startedAt');
  });
});

describe('applyTaskStateReport: idempotent and forward only', () => {
  it('a repeated report changes nothing (same object, same version)', () => {
    const t0 = newTask();
    const report = base(t0, 'RUNNING', {
      eni,
      containers: [{ containerName: 'app', status: 'RUNNING', runtimeId: 'r' }],
    });
    const once = applyTaskStateReport(t0, report, T0 + 1000).task;
    const twice = applyTaskStateReport(once, report, T0 + 5000);
    assert.equal(twice.changed, false);
    assert.equal(twice.task, once);
  });

  it('an older report changes nothing', () => {
    const t = run(newTask(), [
      base(newTask(), 'RUNNING', { containers: [{ containerName: 'app', status: 'RUNNING' }] }),
    ]);
    const older = applyTaskStateReport(
      t,
      base(t, 'PENDING', {
        healthStatus: 'UNHEALTHY',
        containers: [{ containerName: 'app', status: 'PENDING' }],
      }),
      T0 + 9000,
    );
    assert.equal(older.changed, false);
    assert.equal(older.task.lastStatus, 'RUNNING');
  });

  it('a STOPPED task stays STOPPED and is reported stopped only once', () => {
    const t0 = newTask();
    const stoppedReport = base(t0, 'STOPPED', { stopCode: 'EssentialContainerExited' });
    const first = applyTaskStateReport(t0, stoppedReport, T0 + 1000);
    assert.equal(first.reachedStopped, true);
    const again = applyTaskStateReport(first.task, base(t0, 'RUNNING'), T0 + 2000);
    assert.equal(again.changed, false);
    const repeat = applyTaskStateReport(first.task, stoppedReport, T0 + 3000);
    assert.equal(repeat.changed, false);
    assert.equal(repeat.reachedStopped, false);
  });

  it('a container change newer than the container counts even when the task moved on', () => {
    const t = run(newTask(), [base(newTask(), 'RUNNING')]);
    const out = applyTaskStateReport(
      t,
      base(t, 'PENDING', {
        containers: [{ containerName: 'side', status: 'STOPPED', exitCode: 0, healthStatus: 'UNHEALTHY' }],
      }),
      T0 + 9000,
    );
    assert.equal(out.changed, true);
    assert.equal(out.task.lastStatus, 'RUNNING');
    assert.equal(out.task.containers![1]!.lastStatus, 'STOPPED');
    assert.equal(out.task.containers![1]!.exitCode, 0);
    assert.equal(out.task.containers![1]!.healthStatus, 'UNKNOWN', 'health from a stale report is not taken');
  });

  it('health can change while the status stays', () => {
    const t = run(newTask(), [base(newTask(), 'RUNNING', { healthStatus: 'HEALTHY' })]);
    const out = applyTaskStateReport(t, base(t, 'RUNNING', { healthStatus: 'UNHEALTHY' }), T0 + 9000);
    assert.equal(out.changed, true);
    assert.equal(out.task.healthStatus, 'UNHEALTHY');
  });

  it('attachment changes only move forward; unknown containers and statuses are ignored', () => {
    const t0 = newTask();
    const attachmentArn = `arn:aws:ecs:us-east-1:123456789012:attachment/${ATTACHMENT}`;
    const attached = applyTaskStateReport(
      t0,
      base(t0, 'PROVISIONING', { attachments: [{ attachmentArn, status: 'ATTACHED' }] }),
      T0,
    ).task;
    assert.equal(attached.attachments![0]!.status, 'ATTACHED');
    const back = applyTaskStateReport(
      attached,
      base(t0, 'PROVISIONING', {
        attachments: [{ attachmentArn, status: 'ATTACHING' }],
        containers: [{ containerName: 'nope', status: 'RUNNING' }],
      }),
      T0,
    );
    assert.equal(back.changed, false);
    const bogus = applyTaskStateReport(t0, { ...base(t0, 'RUNNING'), status: 'EXPLODED' as never }, T0);
    assert.equal(bogus.changed, false);
    assert.equal(compareAttachmentStatus('DELETED', 'FAILED'), 1);
  });
});
