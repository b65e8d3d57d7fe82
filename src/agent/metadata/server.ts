// The task metadata endpoint (v4 and v3) that containers read at ECS_CONTAINER_METADATA_URI_V4 /
// ECS_CONTAINER_METADATA_URI. One HTTP server per agent; ids in the paths are the containers'
// metadata ids, so a container can only name itself and its own task.
//
//   GET /v4/<id>              this container          GET /v3/<id>              (same, v3 shape)
//   GET /v4/<id>/task         its task                GET /v3/<id>/task
//   GET /v4/<id>/taskWithTags task + TaskTags         GET /v3/<id>/taskWithTags
//   GET /v4/<id>/stats        Docker stats            GET /v3/<id>/stats
//   GET /v4/<id>/task/stats   {dockerId: stats}       GET /v3/<id>/task/stats
//
// Errors are written as the ECS agent writes them: a JSON string naming the handler, 404 for an
// unknown id on v4; v3 answers 500 (metadata) and 400 (stats) for the same case.
//
// Where it listens: ECS containers expect 169.254.170.2:80. The server makes that address local
// (host-address.ts) and binds it. When it cannot (not root, no iproute2, or another agent on this
// host owns it already), it falls back to an address every container can reach through its
// default route, Docker's bridge gateway, preferring port 51679 (the port the ECS agent serves
// these endpoints on behind its 169.254.170.2 redirect, reserved in every instance's PORTS) so
// that the URL survives an agent restart and re-adopted containers keep a working endpoint.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ContainerStats } from '../runtime/container-runtime.js';
import type { AgentTaskView, ContainerSnapshot, TaskSnapshot } from '../task-view.js';
import { dockerBridgeAddress, ensureHostAddress, isLocalAddress } from './host-address.js';
import { containerResponse, taskResponse, type MetadataVersion } from './responses.js';

export const DEFAULT_METADATA_LISTEN = '169.254.170.2:80';
/** Preferred port on the fallback address (the ECS agent's own metadata/credentials port). */
export const FALLBACK_METADATA_PORT = 51679;

export interface MetadataServerOptions {
  /** `host:port` to serve on; default 169.254.170.2:80. */
  listen?: string;
  /** Address (optionally `host:port`) to use when `listen` cannot be bound; default docker0's address. */
  fallbackHost?: string;
  log: Logger;
}

export interface MetadataServer {
  /** e.g. `http://169.254.170.2` or `http://172.17.0.1:51679`; containers get `${baseUrl}/v4/<metadataId>`. */
  baseUrl: string;
  close(): Promise<void>;
}

export class MetadataListenError extends Error {
  override name = 'MetadataListenError';
}

export async function startMetadataServer(
  view: AgentTaskView,
  opts: MetadataServerOptions,
): Promise<MetadataServer> {
  const log = opts.log;
  const parsed = parseHostPort(opts.listen ?? DEFAULT_METADATA_LISTEN, 'listen');
  if (parsed.port === undefined) throw new MetadataListenError(`listen: '${opts.listen}' must be host:port`);
  const wanted = { host: parsed.host, port: parsed.port };
  const handler = createMetadataHandler(view, log);

  let failure: string | undefined;
  if (!isWildcard(wanted.host) && !isLocalAddress(wanted.host)) {
    const r = await ensureHostAddress(wanted.host);
    if (!r.ok) failure = r.reason;
    else if (r.added) log.info({ address: wanted.host }, 'task metadata endpoint: added the address to lo');
  }
  if (failure === undefined) {
    const r = await tryListen(handler, wanted.host, wanted.port);
    if ('server' in r) {
      // A wildcard listens everywhere; containers need one address of it they can route to.
      const host = isWildcard(wanted.host) ? ((await dockerBridgeAddress()) ?? '127.0.0.1') : wanted.host;
      const baseUrl = urlOf(host, r.port, 80);
      log.info({ baseUrl }, 'task metadata endpoint listening');
      return handle(r.server, baseUrl);
    }
    failure = r.reason;
  }

  // Fallback candidates, most useful first: the agent's choice, the bridge every container can
  // route to, and loopback (only host-network containers reach it) as the last resort.
  const candidates: { host: string; port?: number }[] = [];
  if (opts.fallbackHost) candidates.push(parseHostPort(opts.fallbackHost, 'fallbackHost'));
  const bridge = await dockerBridgeAddress();
  if (bridge && !candidates.some((c) => c.host === bridge)) candidates.push({ host: bridge });
  if (!candidates.some((c) => c.host === '127.0.0.1')) candidates.push({ host: '127.0.0.1' });
  const tried: string[] = [];
  for (const c of candidates) {
    for (const port of c.port !== undefined ? [c.port] : [FALLBACK_METADATA_PORT, 0]) {
      const r = await tryListen(handler, c.host, port);
      if ('server' in r) {
        const baseUrl = urlOf(c.host, r.port, undefined);
        log.warn(
          {
            wanted: `${wanted.host}:${wanted.port}`,
            reason: failure,
            baseUrl,
            ...(c.host.startsWith('127.') ? { note: 'only host-network containers can reach loopback' } : {}),
          },
          'task metadata endpoint: falling back to a host address containers can reach',
        );
        return handle(r.server, baseUrl);
      }
      tried.push(`${c.host}:${port}: ${r.reason}`);
    }
  }
  throw new MetadataListenError(
    `cannot serve the task metadata endpoint: ${wanted.host}:${wanted.port}: ${failure}; ${tried.join('; ')}`,
  );
}

function handle(server: Server, baseUrl: string): MetadataServer {
  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections from containers would hold close() open.
        server.closeAllConnections();
      })),
  };
}

function tryListen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host: string,
  port: number,
): Promise<{ server: Server; port: number } | { reason: string }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.close();
      const why =
        e.code === 'EADDRINUSE'
          ? 'the port is in use (another agent on this host may serve it)'
          : e.code === 'EACCES'
            ? 'permission denied (ports below 1024 need root)'
            : e.code === 'EADDRNOTAVAIL'
              ? 'the address is not on this host'
              : e.message;
      resolve({ reason: why });
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : port });
    });
  });
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function urlOf(host: string, port: number, defaultPort: number | undefined): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === defaultPort ? `http://${h}` : `http://${h}:${port}`;
}

/** `host:port`, `[v6]:port`, or (when the port is optional) a bare host. */
function parseHostPort(value: string, option: string): { host: string; port?: number } {
  const v = value.trim();
  let host: string | undefined;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if (v.split(':').length === 2) {
    [host, portText] = v.split(':');
    if (!/^\d{1,5}$/.test(portText ?? '')) host = undefined;
  } else if (!v.includes(':')) {
    host = v;
  }
  if (!host) throw new MetadataListenError(`${option}: '${value}' must be host:port`);
  if (portText === undefined) return { host };
  const port = Number(portText);
  if (port > 65535) throw new MetadataListenError(`${option}: port ${port} is out of range`);
  return { host, port };
}

// ---------------------------------------------------------------------------------------------
// Requests

type Resource = 'container' | 'task' | 'taskWithTags' | 'stats' | 'taskStats';

const ROUTE = /^\/(v3|v4)\/([^/]+)(\/task|\/taskWithTags|\/stats|\/task\/stats)?$/;

const resourceOf: Record<string, Resource> = {
  '': 'container',
  '/task': 'task',
  '/taskWithTags': 'taskWithTags',
  '/stats': 'stats',
  '/task/stats': 'taskStats',
};

/** The request handler, separate from listening so that it can be mounted elsewhere. */
export function createMetadataHandler(
  view: AgentTaskView,
  log: Logger,
): (req: IncomingMessage, res: ServerResponse) => void {
  const rates = new NetworkRates();
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const m = ROUTE.exec(path);
    if (!m) {
      // What Go's default mux answers, as the ECS agent does for unknown paths.
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    const version = m[1] as MetadataVersion;
    const id = decodeSegment(m[2] ?? '');
    const resource = resourceOf[m[3] ?? ''] ?? 'container';
    serve(view, rates, version, id, resource).then(
      ({ status, body }) => writeJson(res, status, body),
      (err: unknown) => {
        log.error({ err, path }, 'task metadata endpoint: request failed');
        writeJson(res, 500, 'failed to get metadata');
      },
    );
  };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

interface Answer {
  status: number;
  body: unknown;
}

const handlerNames: Record<Resource, string> = {
  container: 'container metadata handler',
  task: 'task metadata handler',
  taskWithTags: 'task metadata handler',
  stats: 'container stats handler',
  taskStats: 'task stats handler',
};

/** The ECS agent's answer for an id it does not know, per version and endpoint. */
function unknownId(version: MetadataVersion, resource: Resource, id: string): Answer {
  const prefix = `${version.toUpperCase()} ${handlerNames[resource]}`;
  const byContainer = resource === 'container';
  const reason = byContainer
    ? `unable to get container ID from request: unable to get docker ID from v3 endpoint ID: ${id}`
    : `unable to get task arn from request: unable to get task Arn from v3 endpoint ID: ${id}`;
  const isStats = resource === 'stats' || resource === 'taskStats';
  const status = version === 'v4' ? 404 : isStats ? 400 : 500;
  return { status, body: `${prefix}: ${reason}` };
}

async function serve(
  view: AgentTaskView,
  rates: NetworkRates,
  version: MetadataVersion,
  id: string,
  resource: Resource,
): Promise<Answer> {
  const found = view.byMetadataId(id);
  if (!found) return unknownId(version, resource, id);
  const { task, container } = found;
  switch (resource) {
    case 'container':
      return { status: 200, body: containerResponse(task, container, version) };
    case 'task':
      return { status: 200, body: taskResponse(task, version) };
    case 'taskWithTags':
      return { status: 200, body: taskResponse(task, version, { withTags: true }) };
    case 'stats': {
      if (!container.dockerId) {
        const prefix = `${version.toUpperCase()} container stats handler`;
        return {
          status: version === 'v4' ? 404 : 400,
          body: `${prefix}: unable to get container ID from request: unable to get docker ID from v3 endpoint ID: ${id}`,
        };
      }
      try {
        const s = await view.stats(container.dockerId);
        return { status: 200, body: statsBody(s, version, rates, container.dockerId) };
      } catch {
        return { status: 500, body: `Unable to get container stats for: ${container.dockerId}` };
      }
    }
    case 'taskStats':
      return { status: 200, body: await taskStats(view, rates, task, version) };
    default: {
      const never: never = resource;
      throw new Error(`unhandled resource ${String(never)}`);
    }
  }
}

/** One entry per container with an engine id; null where the engine had no sample (as ECS). */
async function taskStats(
  view: AgentTaskView,
  rates: NetworkRates,
  task: TaskSnapshot,
  version: MetadataVersion,
): Promise<Record<string, unknown>> {
  const withIds = task.containers.filter((c): c is ContainerSnapshot & { dockerId: string } => !!c.dockerId);
  const samples = await Promise.all(
    withIds.map(async (c) => {
      try {
        return statsBody(await view.stats(c.dockerId), version, rates, c.dockerId);
      } catch {
        return null;
      }
    }),
  );
  return Object.fromEntries(withIds.map((c, i) => [c.dockerId, samples[i] ?? null]));
}

function statsBody(
  s: ContainerStats,
  version: MetadataVersion,
  rates: NetworkRates,
  dockerId: string,
): Record<string, unknown> {
  const rate = rates.update(dockerId, s);
  if (version === 'v3' || !rate) return s.raw;
  return { ...s.raw, network_rate_stats: rate };
}

/**
 * v4 stats carry network rates; the ECS agent derives them from its continuous sampling, the
 * server here from the previous sample it served for the same container. Bounded: the oldest
 * entries go first.
 */
class NetworkRates {
  private readonly last = new Map<string, { read: number; rx: number; tx: number }>();
  private static readonly MAX_ENTRIES = 2048;

  update(
    dockerId: string,
    s: ContainerStats,
  ): { rx_bytes_per_sec: number; tx_bytes_per_sec: number } | undefined {
    const prev = this.last.get(dockerId);
    this.last.delete(dockerId);
    this.last.set(dockerId, { read: s.read, rx: s.networkRxBytes, tx: s.networkTxBytes });
    if (this.last.size > NetworkRates.MAX_ENTRIES) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    if (!prev || s.read <= prev.read) return undefined;
    const seconds = (s.read - prev.read) / 1000;
    return {
      rx_bytes_per_sec: Math.max(0, s.networkRxBytes - prev.rx) / seconds,
      tx_bytes_per_sec: Math.max(0, s.networkTxBytes - prev.tx) / seconds,
    };
  }
}
