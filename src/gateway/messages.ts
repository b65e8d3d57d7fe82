// Field-level checks of what agents send, beyond the `type` check of parseAgentMessage: the
// gateway trusts nothing on the wire. Pure; each check returns the message or a reason that
// names the offending member.
import {
  PROTOCOL_VERSION,
  type HealthMessage,
  type HelloMessage,
  type LogsDataMessage,
  type LogsEndMessage,
  type ReportMessage,
} from '../domain/agent-protocol.js';
import { isTaskStatus } from '../domain/task/status.js';

/** Host ids become store keys (`/_global/managed-hosts/<hostId>`): keep them to a safe alphabet. */
const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A host holds one registration per cluster it serves; far fewer than this in practice. */
export const MAX_HELLO_INSTANCES = 100;
const MAX_REPORT_ID = 256;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

export function checkHello(m: Record<string, unknown>): Checked<HelloMessage> {
  if (m.protocolVersion !== PROTOCOL_VERSION) {
    return fail(
      `protocolVersion: this control plane speaks version ${PROTOCOL_VERSION}; got ${String(m.protocolVersion)}`,
    );
  }
  if (typeof m.hostId !== 'string' || !HOST_ID.test(m.hostId)) {
    return fail(
      'hostId: must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  if (typeof m.agentVersion !== 'string' || m.agentVersion.length > 128) {
    return fail('agentVersion: must be a string of at most 128 characters');
  }
  if (!Array.isArray(m.instances)) return fail('instances: must be an array');
  if (m.instances.length > MAX_HELLO_INSTANCES) {
    return fail(`instances: at most ${MAX_HELLO_INSTANCES} items; got ${m.instances.length}`);
  }
  const arns: string[] = [];
  for (const [i, inst] of m.instances.entries()) {
    if (
      !isObject(inst) ||
      typeof inst.containerInstanceArn !== 'string' ||
      inst.containerInstanceArn === ''
    ) {
      return fail(`instances[${i}].containerInstanceArn: must be a non-empty string`);
    }
    if (!arns.includes(inst.containerInstanceArn)) arns.push(inst.containerInstanceArn);
  }
  const hello: HelloMessage = {
    type: 'hello',
    protocolVersion: PROTOCOL_VERSION,
    hostId: m.hostId,
    agentVersion: m.agentVersion,
    instances: arns.map((containerInstanceArn) => ({ containerInstanceArn })),
  };
  if (m.managed !== undefined) {
    const c = m.managed;
    if (!isObject(c)) return fail('managed: must be an object');
    if (!isPositiveInt(c.cpu)) return fail('managed.cpu: must be a positive integer (CPU units)');
    if (!isPositiveInt(c.memory)) return fail('managed.memory: must be a positive integer (MiB)');
    if (
      typeof c.availabilityZone !== 'string' ||
      c.availabilityZone === '' ||
      c.availabilityZone.length > 64
    ) {
      return fail('managed.availabilityZone: must be a non-empty string of at most 64 characters');
    }
    hello.managed = { cpu: c.cpu, memory: c.memory, availabilityZone: c.availabilityZone };
  }
  return { ok: true, value: hello };
}

/** The report id alone, so that a report with a bad body can still be acknowledged (and dropped by the agent). */
export function reportId(m: Record<string, unknown>): string | undefined {
  return typeof m.id === 'string' && m.id !== '' && m.id.length <= MAX_REPORT_ID ? m.id : undefined;
}

export function checkReport(m: Record<string, unknown>): Checked<ReportMessage> {
  const id = reportId(m);
  if (id === undefined) return fail(`id: must be a non-empty string of at most ${MAX_REPORT_ID} characters`);
  const c = m.change;
  if (!isObject(c)) return fail('change: must be an object');
  if (typeof c.taskArn !== 'string' || c.taskArn === '')
    return fail('change.taskArn: must be a non-empty string');
  if (typeof c.status !== 'string' || !isTaskStatus(c.status)) {
    return fail(`change.status: not a task status: ${String(c.status)}`);
  }
  if (!Array.isArray(c.containers)) return fail('change.containers: must be an array');
  for (const [i, ct] of c.containers.entries()) {
    if (!isObject(ct) || typeof ct.containerName !== 'string') {
      return fail(`change.containers[${i}].containerName: must be a string`);
    }
  }
  return { ok: true, value: m as unknown as ReportMessage };
}

export function checkLogsData(m: Record<string, unknown>): Checked<LogsDataMessage> {
  if (typeof m.streamId !== 'string') return fail('streamId: must be a string');
  if (typeof m.containerName !== 'string') return fail('containerName: must be a string');
  if (m.stream !== 'stdout' && m.stream !== 'stderr') return fail('stream: must be stdout or stderr');
  if (typeof m.data !== 'string') return fail('data: must be a string');
  return { ok: true, value: m as unknown as LogsDataMessage };
}

export function checkLogsEnd(m: Record<string, unknown>): Checked<LogsEndMessage> {
  if (typeof m.streamId !== 'string') return fail('streamId: must be a string');
  if (m.error !== undefined && typeof m.error !== 'string')
    return fail('error: must be a string when present');
  return { ok: true, value: m as unknown as LogsEndMessage };
}

export function checkHealth(m: Record<string, unknown>): Checked<HealthMessage> {
  if (m.containerRuntime !== 'OK' && m.containerRuntime !== 'IMPAIRED')
    return fail('containerRuntime: must be OK or IMPAIRED');
  if (m.reason !== undefined && typeof m.reason !== 'string')
    return fail('reason: must be a string when present');
  return { ok: true, value: m as unknown as HealthMessage };
}
