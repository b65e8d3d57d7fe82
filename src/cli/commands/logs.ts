// `berth logs TASK`: prints a task's container output, read through the control plane's relay
// (GET /berth/v1/logs) from the host that ran the task. `--follow` keeps printing until the
// containers stop or Ctrl-C.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { ConfigError, DEFAULT_PORT } from '../../config/server-config.js';

export const LOGS_RELAY_PATH = '/berth/v1/logs';

export interface LogsCommandOptions {
  task: string;
  endpoint: string;
  cluster?: string;
  container?: string;
  follow: boolean;
  tail?: number;
  region?: string;
}

/** A refusal of the control plane (unknown task, agent not connected...), with its message. */
export class LogsRequestError extends Error {
  override name = 'LogsRequestError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function logsUrl(o: LogsCommandOptions): string {
  const u = new URL(LOGS_RELAY_PATH, o.endpoint.endsWith('/') ? o.endpoint : `${o.endpoint}/`);
  u.searchParams.set('task', o.task);
  if (o.cluster !== undefined) u.searchParams.set('cluster', o.cluster);
  if (o.container !== undefined) u.searchParams.set('container', o.container);
  u.searchParams.set('follow', String(o.follow));
  if (o.tail !== undefined) u.searchParams.set('tail', String(o.tail));
  if (o.region !== undefined) u.searchParams.set('region', o.region);
  return u.toString();
}

/** Streams the output to `out` until it ends; LogsRequestError when the control plane refuses. */
export async function readLogs(o: LogsCommandOptions, out: Writable, signal?: AbortSignal): Promise<void> {
  let res: Response;
  try {
    res = await fetch(logsUrl(o), { ...(signal ? { signal } : {}) });
  } catch (e) {
    if (signal?.aborted) return;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new LogsRequestError(
      `cannot reach Berth at ${o.endpoint} (${cause?.code ?? cause?.message ?? String(e)}); is \`berth up\` or \`berth server\` running?`,
      0,
    );
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text.trim() || res.statusText;
    try {
      const j = JSON.parse(text) as { message?: string; __type?: string };
      if (j.message) message = j.message;
    } catch {
      // not JSON: keep the text
    }
    throw new LogsRequestError(message, res.status);
  }
  if (!res.body) return;
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), out, { end: false });
  } catch (e) {
    if (signal?.aborted) return;
    throw new LogsRequestError(`the log stream broke off: ${e instanceof Error ? e.message : String(e)}`, 0);
  }
}

function parseTail(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(v))
    throw new ConfigError(`invalid option tail (--tail): must be a non-negative integer`);
  return Number(v);
}

export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("print a task's container output (as the agent that runs it keeps it)")
    .argument('<task>', 'task id or ARN')
    .option('--cluster <cluster>', 'cluster name or ARN (default: default, or the one in the task ARN)')
    .option('--container <name>', 'only this container (default: all, each line prefixed with its name)')
    .option('-f, --follow', 'keep printing new output until the containers stop', false)
    .option('--tail <n>', 'only the last n lines of each container')
    .option('--region <region>', 'region of the task when given by id (default: the server default)')
    .option('--endpoint <url>', `Berth's API (BERTH_ENDPOINT, default http://127.0.0.1:${DEFAULT_PORT})`)
    .action(async (task: string, o: Record<string, string | boolean | undefined>) => {
      const endpoint =
        (o.endpoint as string | undefined) ??
        process.env.BERTH_ENDPOINT ??
        `http://127.0.0.1:${DEFAULT_PORT}`;
      try {
        new URL(endpoint);
      } catch {
        throw new ConfigError(
          `invalid option endpoint (--endpoint / BERTH_ENDPOINT): '${endpoint}' is not a URL`,
        );
      }
      const opts: LogsCommandOptions = {
        task,
        endpoint,
        follow: o.follow === true,
        ...(typeof o.cluster === 'string' ? { cluster: o.cluster } : {}),
        ...(typeof o.container === 'string' ? { container: o.container } : {}),
        ...(typeof o.region === 'string' ? { region: o.region } : {}),
      };
      const tail = parseTail(o.tail as string | undefined);
      if (tail !== undefined) opts.tail = tail;
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await readLogs(opts, process.stdout, abort.signal);
      } catch (e) {
        if (e instanceof LogsRequestError) {
          console.error(`berth logs: ${e.message}`);
          process.exitCode = 1;
          return;
        }
        throw e;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
