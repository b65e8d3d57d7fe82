// `GET /berth/v1/logs`: what `berth logs TASK [--follow]` reads. Container output stays on the
// host that ran the task, so the control plane asks that host's agent over its session
// (logs-open) and relays logs-data chunks to the HTTP response as text/plain until logs-end,
// or tells the agent to stop (logs-close) when the HTTP client goes away.
//
//   GET /berth/v1/logs?cluster=<name|arn>&task=<id|arn>&container=<name>&follow=true|false&tail=N[&region=R]
//
//   200 text/plain   the output; lines prefixed `<container> | ` when the task has several
//                    containers and none was named
//   400 / 404 JSON   {"__type":"InvalidParameterException","message":...} bad query / unknown task or container
//   503 JSON         the task's host has no agent session
//   502 JSON         the agent answered with an error before sending any output
//
// Headers wait for the agent's first answer (bounded by logsFirstAnswerWaitMs) so that an error
// the agent reports at once still gets a status code; later errors end the text with a line.
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { clusterNameFromRef, clusterScopedIdFromRef, isArn, parseArn, type Scope } from '../domain/arn.js';
import type { LogsDataMessage, LogsOpenMessage } from '../domain/agent-protocol.js';
import type { TaskRecord } from '../domain/records.js';
import { keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { Checked } from './messages.js';
import type { LogRelaySink } from './session.js';

export const LOGS_PATH = '/berth/v1/logs';

export interface LogsSession {
  openLogs(
    open: Omit<LogsOpenMessage, 'type' | 'streamId'>,
    sink: LogRelaySink,
  ): { close(): void } | undefined;
}

/** What the route needs from the gateway. */
export interface LogsBackend {
  store: Store;
  accountId: string;
  defaultRegion: string;
  firstAnswerWaitMs: number;
  maxBufferedBytes: number;
  sessionForTask(task: TaskRecord): LogsSession | undefined;
}

export interface LogsQuery {
  task: string;
  cluster?: string;
  region?: string;
  container?: string;
  follow: boolean;
  tail?: number;
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const REGION = /^[a-z0-9-]{1,32}$/;

export function parseLogsQuery(q: unknown): Checked<LogsQuery> {
  const raw = (typeof q === 'object' && q !== null ? q : {}) as Record<string, unknown>;
  const str = (name: string): string | undefined | null => {
    const v = raw[name];
    if (v === undefined || v === '') return undefined;
    return typeof v === 'string' ? v : null; // repeated parameters arrive as arrays
  };
  const task = str('task');
  if (task === undefined || task === null) return { ok: false, reason: 'task: required, one task id or ARN' };
  const out: LogsQuery = { task, follow: false };
  for (const name of ['cluster', 'region', 'container'] as const) {
    const v = str(name);
    if (v === null) return { ok: false, reason: `${name}: give it at most once` };
    if (v !== undefined) out[name] = v;
  }
  if (out.region !== undefined && !REGION.test(out.region)) {
    return { ok: false, reason: 'region: must look like us-east-1' };
  }
  const follow = str('follow');
  if (follow === null || (follow !== undefined && !['true', 'false', '1', '0'].includes(follow))) {
    return { ok: false, reason: 'follow: must be true or false' };
  }
  out.follow = follow === 'true' || follow === '1';
  const tail = str('tail');
  if (tail === null || (tail !== undefined && !/^[0-9]{1,9}$/.test(tail))) {
    return { ok: false, reason: 'tail: must be a non-negative integer' };
  }
  if (tail !== undefined) out.tail = Number(tail);
  return { ok: true, value: out };
}

/** The store coordinates of the task a query names. ARNs bring their own account and region. */
export function resolveLogsTask(
  q: LogsQuery,
  defaults: { accountId: string; defaultRegion: string },
): Checked<{ scope: Scope; cluster: string; id: string }> {
  const ref = clusterScopedIdFromRef(q.task, 'task');
  if (!ref || !NAME.test(ref.id)) return { ok: false, reason: `task: '${q.task}' is not a task id or ARN` };
  let clusterFromParam: string | undefined;
  if (q.cluster !== undefined) {
    clusterFromParam = clusterNameFromRef(q.cluster);
    if (clusterFromParam === undefined || !NAME.test(clusterFromParam)) {
      return { ok: false, reason: `cluster: '${q.cluster}' is not a cluster name or ARN` };
    }
  }
  if (ref.cluster !== undefined && clusterFromParam !== undefined && ref.cluster !== clusterFromParam) {
    return {
      ok: false,
      reason: `task: the task ARN names cluster ${ref.cluster}, but cluster is ${clusterFromParam}`,
    };
  }
  const arnOf = (v: string | undefined) => (v !== undefined && isArn(v) ? parseArn(v) : undefined);
  const fromArn = arnOf(q.task) ?? arnOf(q.cluster);
  const scope = {
    account: fromArn?.account || defaults.accountId,
    region: fromArn?.region || q.region || defaults.defaultRegion,
  };
  return { ok: true, value: { scope, cluster: ref.cluster ?? clusterFromParam ?? 'default', id: ref.id } };
}

/**
 * Prefixes complete lines with their container's name; a line split across chunks is held
 * until its end arrives (per container and stream, so interleaved output stays readable).
 */
export class LogLineFramer {
  private readonly partial = new Map<string, { container: string; text: string }>();

  constructor(private readonly prefixed: boolean) {}

  push(container: string, stream: string, data: string): string {
    if (!this.prefixed) return data;
    const k = `${container}\u0000${stream}`;
    const lines = ((this.partial.get(k)?.text ?? '') + data).split('\n');
    const rest = lines.pop() ?? '';
    if (rest === '') this.partial.delete(k);
    else this.partial.set(k, { container, text: rest });
    return lines.map((l) => `${container} | ${l}\n`).join('');
  }

  /** Unfinished lines, each ended with a newline. */
  flush(): string {
    const out = [...this.partial.values()].map((p) => `${p.container} | ${p.text}\n`).join('');
    this.partial.clear();
    return out;
  }
}

const invalid = (reply: FastifyReply, code: number, message: string) =>
  reply.code(code).send({ __type: 'InvalidParameterException', message });

function hostOf(task: TaskRecord): string {
  if (task.containerInstanceArn) return `container instance ${task.containerInstanceArn}`;
  if (task.berth?.managedHostId) return `managed host ${task.berth.managedHostId}`;
  return 'no host (the task was never placed)';
}

export function registerLogsRoute(app: FastifyInstance, backend: LogsBackend): void {
  app.get(LOGS_PATH, async (req, reply) => {
    const parsed = parseLogsQuery(req.query);
    if (!parsed.ok) return invalid(reply, 400, parsed.reason);
    const q = parsed.value;
    const where = resolveLogsTask(q, backend);
    if (!where.ok) return invalid(reply, 400, where.reason);
    const { scope, cluster, id } = where.value;
    const rec = await backend.store.get<TaskRecord>(keys.task(scope, cluster, id));
    if (!rec) return invalid(reply, 404, `task: task ${q.task} was not found in cluster ${cluster}.`);
    const task = rec.value;
    const names = (task.containers ?? [])
      .map((c) => c.name)
      .filter((n): n is string => typeof n === 'string');
    if (q.container !== undefined && !names.includes(q.container)) {
      return invalid(reply, 404, `container: task ${task.taskArn} has no container named ${q.container}.`);
    }
    const session = backend.sessionForTask(task);
    if (!session) {
      return reply.code(503).send({
        __type: 'ServerException',
        message: `The agent of ${hostOf(task)} is not connected to the control plane; task ${task.taskArn}'s logs are kept on that host. Retry once its agent reconnects.`,
      });
    }
    return relay(reply, backend, session, task, q, q.container === undefined && names.length > 1);
  });
}

async function relay(
  reply: FastifyReply,
  backend: LogsBackend,
  session: LogsSession,
  task: TaskRecord,
  q: LogsQuery,
  prefixed: boolean,
): Promise<FastifyReply> {
  const framer = new LogLineFramer(prefixed);
  const body = new PassThrough();
  let finished = false;
  let earlyError: string | undefined;
  let answered: () => void = () => undefined;
  const firstAnswer = new Promise<void>((res) => (answered = res));

  const finish = (tail: string) => {
    finished = true;
    const rest = framer.flush() + tail;
    if (rest) body.write(rest);
    body.end();
  };
  const sink: LogRelaySink = {
    data(m: LogsDataMessage) {
      if (finished) return;
      const text = framer.push(m.containerName, m.stream, m.data);
      if (text) body.write(text);
      answered();
      if (body.writableLength > backend.maxBufferedBytes) {
        handle?.close();
        finish('berth: log relay stopped: the client is not reading fast enough\n');
      }
    },
    end(error?: string) {
      if (finished) return;
      if (error !== undefined && !headersSent) {
        finished = true;
        earlyError = error;
      } else {
        finish(error !== undefined ? `berth: log stream ended: ${error}\n` : '');
      }
      answered();
    },
  };
  let headersSent = false;
  const open: Omit<LogsOpenMessage, 'type' | 'streamId'> = { taskArn: task.taskArn, follow: q.follow };
  if (q.container !== undefined) open.containerName = q.container;
  if (q.tail !== undefined) open.tail = q.tail;
  const handle = session.openLogs(open, sink);
  if (!handle) {
    return reply.code(503).send({ __type: 'ServerException', message: 'The agent session closed; retry.' });
  }
  reply.raw.on('close', () => {
    if (finished) return;
    finished = true;
    handle.close();
    body.destroy();
    // The client went away (often a half-close, which the HTTP server keeps open): cut the socket
    // or it lingers and keeps the server from closing.
    reply.request.raw.socket.destroy();
    answered();
  });
  const timer = setTimeout(answered, backend.firstAnswerWaitMs);
  await firstAnswer;
  clearTimeout(timer);
  if (earlyError !== undefined) {
    return reply
      .code(502)
      .send({ __type: 'ServerException', message: `The agent could not read the logs: ${earlyError}` });
  }
  headersSent = true;
  // Fastify writes a stream's head only with its first chunk; a quiet `follow` must still answer now.
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  reply.raw.flushHeaders();
  body.pipe(reply.raw);
  return reply;
}
