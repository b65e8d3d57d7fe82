// The pure half of applying what an agent reports about a task (TaskStateReport) to its record.
//
//   PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
//   (containers: PENDING → RUNNING → STOPPED; ENI attachment: PRECREATED → … → ATTACHED → … → DELETED)
//
// Rules, which make a report safe to apply any number of times and in any order:
// - Statuses only move forward. A report whose task status is older than the record's changes
//   no task-level field; its containers still count where they are themselves newer (a
//   container change can arrive after the task moved on, e.g. through the API's
//   SubmitContainerStateChange).
// - Per container: a newer container status takes everything the report says about it; the
//   same status takes it too unless the task part of the report is stale, in which case it only
//   fills what is still unknown.
// - Timestamps, stopCode and stoppedReason are written once: the first value stays. So a stop
//   the control plane asked for (stopCode UserInitiated) keeps its code and reason over the
//   agent's, and a repeated report changes nothing.
// - Derived on the way: startedAt when RUNNING is reported; connectivity CONNECTED at the first
//   report; desiredStatus STOPPED, stoppingAt once the task is on its way down (DEACTIVATING or
//   later, e.g. an essential container exited); at STOPPED every container is STOPPED, the ENI
//   attachment DELETED, executionStoppedAt and stoppedAt set.
// - The task's `version` grows by one when, and only when, something changed.
// Giving the reservation back to the host at STOPPED is the caller's job (`reachedStopped`),
// done in the same store transaction as the task update.
import { isDeepStrictEqual } from 'node:util';
import type { Attachment, Container, KeyValuePair } from '../../generated/ecs/types.js';
import type { ContainerObservation, TaskStateReport } from '../agent-protocol.js';
import { toEpochSeconds } from '../clock.js';
import type { TaskRecord } from '../records.js';
import { ENI_ATTACHMENT_TYPE } from './build-task.js';
import { compareContainerStatus, compareTaskStatus, hasTaskReached, isTaskStatus } from './status.js';

export const ESSENTIAL_CONTAINER_EXITED_REASON = 'Essential container in task exited';

/** Attachment statuses in the order they happen; FAILED sits before the final DELETED. */
export const ATTACHMENT_STATUSES = [
  'PRECREATED',
  'CREATED',
  'ATTACHING',
  'ATTACHED',
  'DETACHING',
  'DETACHED',
  'FAILED',
  'DELETED',
] as const;
const attachmentRank = new Map<string, number>(ATTACHMENT_STATUSES.map((s, i) => [s, i]));

export function compareAttachmentStatus(a: string, b: string): number {
  return Math.sign((attachmentRank.get(a) ?? -1) - (attachmentRank.get(b) ?? -1));
}

export interface ReportOutcome {
  /** The record after the report (the same object when nothing changed). */
  task: TaskRecord;
  changed: boolean;
  /** This report took the task to STOPPED. */
  reachedStopped: boolean;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

function isUnset(v: unknown): boolean {
  return v === undefined || (Array.isArray(v) && v.length === 0);
}

/** Writes `value` (when given) if `overwrite`, else only where nothing is known yet. */
function assign<T extends object, K extends keyof T>(
  target: T,
  key: K,
  value: T[K] | undefined,
  overwrite: boolean,
): void {
  if (value === undefined) return;
  if (overwrite || isUnset(target[key])) (target as Writable<T>)[key] = structuredClone(value);
}

function setOnce<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  assign(target, key, value, false);
}

function mergeContainer(c: Container, obs: ContainerObservation, taskStale: boolean): void {
  const cmp = compareContainerStatus(obs.status, c.lastStatus ?? 'PENDING');
  if (cmp < 0) return;
  const overwrite = cmp > 0 || !taskStale;
  if (cmp > 0) c.lastStatus = obs.status;
  assign(c, 'runtimeId', obs.runtimeId, overwrite);
  assign(c, 'imageDigest', obs.imageDigest, overwrite);
  assign(c, 'exitCode', obs.exitCode, overwrite);
  assign(c, 'reason', obs.reason, overwrite);
  assign(c, 'networkBindings', obs.networkBindings, overwrite);
  if (!taskStale) assign(c, 'healthStatus', obs.healthStatus, true);
}

function eniAttachment(task: TaskRecord): Attachment | undefined {
  return task.attachments?.find((a) => a.type === ENI_ATTACHMENT_TYPE);
}

function moveAttachment(a: Attachment, status: string): void {
  if (compareAttachmentStatus(status, a.status ?? 'PRECREATED') > 0) a.status = status;
}

function applyEni(task: TaskRecord, report: TaskStateReport): void {
  const eni = report.eni;
  const a = eniAttachment(task);
  if (!eni || !a) return;
  const subnet = eni.subnetId || a.details?.find((d) => d.name === 'subnetId')?.value || '';
  const details: KeyValuePair[] = [
    { name: 'subnetId', value: subnet },
    { name: 'networkInterfaceId', value: eni.networkInterfaceId },
    { name: 'macAddress', value: eni.macAddress },
    { name: 'privateDnsName', value: eni.privateDnsName },
    { name: 'privateIPv4Address', value: eni.privateIPv4Address },
  ];
  a.details = details;
  moveAttachment(a, 'ATTACHED');
  // The agent does not know the attachment's id (AgentTask does not carry it): the task's own
  // attachment is the one the report is about, there is only one.
  for (const c of task.containers ?? []) {
    c.networkInterfaces = [{ attachmentId: a.id, privateIpv4Address: eni.privateIPv4Address }];
  }
}

/** `arn:...:attachment/<id>` or a bare id. */
function attachmentIdOf(ref: string): string {
  const slash = ref.lastIndexOf('/');
  return slash >= 0 ? ref.slice(slash + 1) : ref;
}

export function applyTaskStateReport(task: TaskRecord, report: TaskStateReport, now: number): ReportOutcome {
  const unchanged: ReportOutcome = { task, changed: false, reachedStopped: false };
  if (!isTaskStatus(report.status)) return unchanged;
  const next = structuredClone(task) as TaskRecord;
  const before = task.lastStatus ?? 'PROVISIONING';
  const taskCmp = compareTaskStatus(report.status, before);
  const stale = taskCmp < 0;
  const nowS = toEpochSeconds(now);

  for (const obs of report.containers ?? []) {
    const c = next.containers?.find((x) => x.name === obs.containerName);
    if (c) mergeContainer(c, obs, stale);
  }

  if (!stale) {
    if (taskCmp > 0) next.lastStatus = report.status;
    const status = next.lastStatus!;
    setOnce(next, 'pullStartedAt', report.pullStartedAt);
    setOnce(next, 'pullStoppedAt', report.pullStoppedAt);
    setOnce(next, 'startedAt', report.startedAt);
    setOnce(next, 'stoppingAt', report.stoppingAt);
    setOnce(next, 'executionStoppedAt', report.executionStoppedAt);
    if (next.connectivityAt === undefined) {
      next.connectivity = 'CONNECTED';
      next.connectivityAt = report.connectivityAt ?? nowS;
    }
    assign(next, 'healthStatus', report.healthStatus, true);
    applyEni(next, report);
    for (const change of report.attachments ?? []) {
      const a = next.attachments?.find((x) => x.id === attachmentIdOf(change.attachmentArn));
      if (a) moveAttachment(a, change.status);
    }

    if (report.status === 'RUNNING') setOnce(next, 'startedAt', nowS);
    const goingDown = hasTaskReached(status, 'DEACTIVATING');
    setOnce(next, 'stopCode', report.stopCode);
    if (goingDown || report.stopCode !== undefined) {
      const fallback =
        next.stopCode === 'EssentialContainerExited' ? ESSENTIAL_CONTAINER_EXITED_REASON : undefined;
      setOnce(
        next,
        'stoppedReason',
        report.reason !== undefined && report.reason !== '' ? report.reason : fallback,
      );
    }
    if (goingDown) {
      next.desiredStatus = 'STOPPED';
      setOnce(next, 'stoppingAt', nowS);
    }
    if (status === 'STOPPED') {
      setOnce(next, 'executionStoppedAt', nowS);
      setOnce(next, 'stoppedAt', nowS);
      const eni = eniAttachment(next);
      if (eni) moveAttachment(eni, 'DELETED');
      for (const c of next.containers ?? []) c.lastStatus = 'STOPPED';
    }
  }

  if (isDeepStrictEqual(next, task)) return unchanged;
  next.version = (task.version ?? 1) + 1;
  return { task: next, changed: true, reachedStopped: before !== 'STOPPED' && next.lastStatus === 'STOPPED' };
}
