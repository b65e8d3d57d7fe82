// ContainerRuntime over a Docker Engine (API ≥ 1.41) through dockerode's HTTP modem. Every call
// has a time budget from timeouts.ts and fails with a named error from errors.ts; socket-level
// failures become DockerUnavailableError. Requests go through one `request` helper so status
// codes (304 "already stopped", 404 "gone") are handled in one place per operation.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import {
  matchesEventFilter,
  normalizeImageRef,
  parseImageRef,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type ContainerStats,
  type ContainerSummary,
  type EngineInfo,
  type EngineVersion,
  type EventFilter,
  type EventOptions,
  type EventStream,
  type ImageInfo,
  type LabelSelector,
  type ListContainersOptions,
  type LogLine,
  type LogOptions,
  type LogStream,
  type NetworkInfo,
  type NetworkSpec,
  type PullOptions,
  type PullPolicy,
  type PullResult,
  type RegistryAuth,
  type RemoveOptions,
  type RuntimeEvent,
  type StopResult,
  type VolumeInfo,
  type VolumeSpec,
} from './container-runtime.js';
import {
  fromDockerImage,
  fromDockerInspect,
  fromDockerNetwork,
  fromDockerStats,
  fromDockerSummary,
  fromDockerVolume,
  parseDockerEvent,
  toDockerCreateBody,
  toDockerLabelFilter,
  type DockerImageJson,
  type DockerInspectJson,
  type DockerNetworkJson,
  type DockerSummaryJson,
  type DockerVolumeJson,
} from './docker-mapping.js';
import { DockerLogDecoder, JsonLineDecoder, toDockerSince } from './docker-streams.js';
import {
  CannotCreateContainerError,
  CannotCreateNetworkError,
  CannotCreateVolumeError,
  CannotGetContainerLogsError,
  CannotGetContainerStatsError,
  CannotInspectContainerError,
  CannotInspectImageError,
  CannotInspectNetworkError,
  CannotInspectVolumeError,
  CannotListContainersError,
  CannotPullContainerError,
  CannotRemoveContainerError,
  CannotRemoveImageError,
  CannotRemoveNetworkError,
  CannotRemoveVolumeError,
  CannotStartContainerError,
  CannotStopContainerError,
  ContainerNotFoundError,
  DockerTimeoutError,
  DockerUnavailableError,
  RuntimeError,
  isRuntimeError,
  type RuntimeErrorKind,
} from './errors.js';
import { AsyncQueue, interruptibleSleep } from './streams.js';
import { compileTimeouts, type DockerTimeouts } from './timeouts.js';
import { EngineHttp, type EngineRequest } from './engine-http.js';

export interface DockerRuntimeOptions {
  /** Unix socket of the engine. Default /var/run/docker.sock (ignored when `host` is set). */
  socketPath?: string;
  /** TCP engine address instead of a socket, e.g. `127.0.0.1`. */
  host?: string;
  port?: number;
  /** Pin the API version (`v1.41`); default: the engine's own. */
  apiVersion?: string;
  /** Overrides of the budgets in timeouts.ts. */
  timeouts?: Partial<DockerTimeouts>;
  log?: Logger;
}

/** What a failed engine call throws: EngineHttpError (an answer) or a socket error (none). */
interface EngineFailure extends Error {
  statusCode?: number;
  json?: unknown;
  code?: string;
}

type RequestOptions = Omit<EngineRequest, 'stream'>;

// Socket errors that mean "no engine there" rather than "the engine said no".
const connectionErrorCodes = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'EACCES',
  'EPERM',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTSOCK',
]);

/** Event stream buffer beyond which the socket is paused (the engine buffers for us meanwhile). */
const eventHighWaterMark = 1024;
const logHighWaterMark = 4096;

export class DockerRuntime implements ContainerRuntime {
  readonly timeouts: DockerTimeouts;
  private readonly http: EngineHttp;
  private readonly endpoint: string;
  private readonly log: Logger | undefined;
  /** Pulls in flight, by policy, image and credentials (see pullImage). */
  private readonly pulls = new Map<string, Promise<PullResult>>();

  constructor(options: DockerRuntimeOptions = {}) {
    this.timeouts = compileTimeouts(options.timeouts);
    this.log = options.log;
    const version = options.apiVersion;
    if (options.host) {
      this.http = new EngineHttp({ host: options.host, port: options.port ?? 2375 }, version);
      this.endpoint = `tcp://${options.host}:${options.port ?? 2375}`;
    } else {
      const socketPath = options.socketPath ?? '/var/run/docker.sock';
      this.http = new EngineHttp({ socketPath }, version);
      this.endpoint = `unix://${socketPath}`;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Plumbing

  /**
   * One Docker call under a time budget. `onHttpError` maps an engine refusal to the operation's
   * named error; timeouts and connection failures are mapped here, the same for every operation.
   */
  private async call<T>(
    operation: string,
    timeoutMs: number,
    fn: (signal: AbortSignal) => Promise<T>,
    onHttpError: (e: HttpFailure) => T | RuntimeError,
  ): Promise<T> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      return await fn(ac.signal);
    } catch (e) {
      if (isRuntimeError(e)) throw e;
      if (ac.signal.aborted) throw new DockerTimeoutError(operation, timeoutMs, { cause: e });
      const failure = this.classify(e);
      const r = onHttpError(failure);
      if (r instanceof RuntimeError) throw r;
      return r;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connection failures throw DockerUnavailableError; anything else becomes an HttpFailure. */
  private classify(e: unknown): HttpFailure {
    const err = e as EngineFailure;
    if (err.statusCode === undefined) {
      if (err.code && connectionErrorCodes.has(err.code)) {
        throw new DockerUnavailableError(
          `Cannot connect to the Docker daemon at ${this.endpoint}: ${err.message}`,
          {
            cause: e,
          },
        );
      }
      // No status and no known code: the engine went away mid-answer or sent nonsense.
      return { status: 0, message: err.message ?? String(e), kind: 'engine', cause: e };
    }
    return {
      status: err.statusCode,
      message: dockerMessage(err),
      kind: kindOfStatus(err.statusCode),
      cause: e,
    };
  }

  private request<T>(o: RequestOptions & { stream?: false }): Promise<T>;
  private request(o: RequestOptions & { stream: true }): Promise<IncomingMessage>;
  private request(o: RequestOptions & { stream?: boolean }): Promise<unknown> {
    return this.http.request(o);
  }

  // -------------------------------------------------------------------------------------------
  // Engine

  async ping(): Promise<void> {
    try {
      await this.call(
        'reach the Docker daemon',
        this.timeouts.pingMs,
        (signal) => this.request({ method: 'GET', path: '/_ping', signal }),
        (f) =>
          new DockerUnavailableError(`Docker daemon at ${this.endpoint} answered ping with: ${f.message}`),
      );
    } catch (e) {
      // For a liveness probe a daemon that does not answer is as down as one that is gone.
      if (e instanceof DockerTimeoutError) {
        throw new DockerUnavailableError(
          `Docker daemon at ${this.endpoint} did not answer ping: ${e.message}`,
          {
            cause: e,
          },
        );
      }
      throw e;
    }
  }

  async version(): Promise<EngineVersion> {
    const v = await this.call(
      'read the Docker version',
      this.timeouts.versionMs,
      (signal) =>
        this.request<{
          Version: string;
          ApiVersion: string;
          Os: string;
          Arch: string;
          KernelVersion?: string;
        }>({
          method: 'GET',
          path: '/version',
          signal,
        }),
      (f) => new DockerUnavailableError(`Docker daemon at ${this.endpoint} failed /version: ${f.message}`),
    );
    return {
      version: v.Version,
      apiVersion: v.ApiVersion,
      os: v.Os,
      arch: v.Arch,
      ...(v.KernelVersion ? { kernelVersion: v.KernelVersion } : {}),
    };
  }

  async info(): Promise<EngineInfo> {
    interface InfoJson {
      NCPU: number;
      MemTotal: number;
      ServerVersion: string;
      OperatingSystem: string;
      KernelVersion: string;
      CgroupVersion?: string;
      CgroupDriver?: string;
      Driver?: string;
      ContainersRunning?: number;
    }
    const i = await this.call(
      'read the Docker info',
      this.timeouts.versionMs,
      (signal) => this.request<InfoJson>({ method: 'GET', path: '/info', signal }),
      (f) => new DockerUnavailableError(`Docker daemon at ${this.endpoint} failed /info: ${f.message}`),
    );
    return {
      cpus: i.NCPU,
      memoryBytes: i.MemTotal,
      serverVersion: i.ServerVersion,
      operatingSystem: i.OperatingSystem,
      kernelVersion: i.KernelVersion,
      ...(i.CgroupVersion ? { cgroupVersion: i.CgroupVersion } : {}),
      ...(i.CgroupDriver ? { cgroupDriver: i.CgroupDriver } : {}),
      ...(i.Driver ? { storageDriver: i.Driver } : {}),
      containersRunning: i.ContainersRunning ?? 0,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Images

  /**
   * Concurrent pulls of one image with the same policy and credentials share one call: fifty
   * tasks of a service starting at once ask the engine once, not fifty times (the engine would
   * join concurrent pulls of one image anyway, but not the inspections around them).
   */
  pullImage(ref: string, options: PullOptions = {}): Promise<PullResult> {
    const policy = options.policy ?? 'always';
    const image = normalizeImageRef(ref);
    const auth = options.auth ? createHash('sha256').update(JSON.stringify(options.auth)).digest('hex') : '';
    const key = `${policy}\u0000${image}\u0000${auth}`;
    const inFlight = this.pulls.get(key);
    if (inFlight) return inFlight;
    const p = this.pullOnce(image, policy, options.auth).finally(() => this.pulls.delete(key));
    this.pulls.set(key, p);
    return p;
  }

  private async pullOnce(
    image: string,
    policy: PullPolicy,
    auth: RegistryAuth | undefined,
  ): Promise<PullResult> {
    switch (policy) {
      case 'never':
      case 'if-not-present': {
        const local = await this.inspectImageForPull(image);
        if (local) return pullResult(local, false);
        if (policy === 'never') {
          throw new CannotPullContainerError(
            `image ${image} is not present on this host and the pull policy is 'never'`,
            { kind: 'not-found' },
          );
        }
        return this.pullAndInspect(image, auth);
      }
      case 'always':
        return this.pullAndInspect(image, auth);
      case 'remote-or-cached':
        try {
          return await this.pullAndInspect(image, auth);
        } catch (e) {
          if (!(e instanceof CannotPullContainerError || e instanceof DockerTimeoutError)) throw e;
          const local = await this.inspectImageForPull(image);
          if (!local) throw e;
          this.log?.warn({ image, err: e.message }, 'pull failed; using the cached image');
          return { ...pullResult(local, false), fallbackReason: e.message };
        }
      default: {
        const never: never = policy;
        throw new CannotPullContainerError(`unknown pull policy ${String(never)}`, { kind: 'invalid' });
      }
    }
  }

  private async inspectImageForPull(image: string): Promise<ImageInfo | undefined> {
    try {
      return await this.inspectImage(image);
    } catch (e) {
      if (e instanceof CannotInspectImageError)
        throw new CannotPullContainerError(e.message, { kind: e.kind, cause: e });
      throw e;
    }
  }

  private async pullAndInspect(image: string, auth: RegistryAuth | undefined): Promise<PullResult> {
    await this.pull(image, auth);
    const local = await this.inspectImageForPull(image);
    if (!local)
      throw new CannotPullContainerError(`image ${image} is missing right after its pull completed`);
    return pullResult(local, true);
  }

  /**
   * POST /images/create and follow its progress to the end. The engine answers 200 and then
   * reports failures inside the stream ({"error": ...}), so the stream is read to the end; no output
   * for pullInactivityMs aborts, as does the whole pull exceeding pullTotalMs.
   */
  private async pull(image: string, auth: RegistryAuth | undefined): Promise<void> {
    const r = parseImageRef(image);
    const ac = new AbortController();
    const t = this.timeouts;
    let timedOut: DockerTimeoutError | undefined;
    const abortWith = (err: DockerTimeoutError): void => {
      timedOut ??= err;
      ac.abort();
    };
    const total = setTimeout(
      () => abortWith(new DockerTimeoutError(`pull ${image}`, t.pullTotalMs)),
      t.pullTotalMs,
    );
    let idle = setTimeout(
      () => abortWith(new DockerTimeoutError(`pull ${image} (no progress)`, t.pullInactivityMs)),
      t.pullInactivityMs,
    );
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(
        () => abortWith(new DockerTimeoutError(`pull ${image} (no progress)`, t.pullInactivityMs)),
        t.pullInactivityMs,
      );
    };
    try {
      const res = await this.request({
        method: 'POST',
        path: '/images/create',
        query: { fromImage: r.repository, tag: r.digest ?? r.tag ?? 'latest' },
        ...(auth ? { authconfig: toAuthConfig(auth, r.registry) } : {}),
        signal: ac.signal,
        stream: true,
      });
      touch();
      const streamError = await new Promise<string | undefined>((resolve, reject) => {
        const dec = new JsonLineDecoder();
        let failure: string | undefined;
        const take = (docs: unknown[]): void => {
          for (const d of docs) {
            if (d instanceof Error) continue;
            const doc = d as { error?: string; errorDetail?: { message?: string } };
            if (doc.error || doc.errorDetail) failure ??= doc.errorDetail?.message ?? doc.error;
          }
        };
        res.on('data', (chunk: Buffer) => {
          touch();
          take(dec.push(chunk));
        });
        res.once('end', () => {
          take(dec.end());
          resolve(failure);
        });
        res.once('error', reject);
        res.once('close', () => {
          if (!res.complete) reject(new Error('the pull stream closed before it completed'));
        });
      });
      if (streamError !== undefined) {
        throw new CannotPullContainerError(streamError, { kind: pullErrorKind(streamError) });
      }
    } catch (e) {
      if (timedOut) throw timedOut;
      if (isRuntimeError(e)) throw e;
      const f = this.classify(e);
      throw new CannotPullContainerError(f.message, { kind: pullErrorKind(f.message, f.kind), cause: e });
    } finally {
      clearTimeout(total);
      clearTimeout(idle);
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    const image = normalizeImageRef(ref);
    return this.call(
      `inspect image ${image}`,
      this.timeouts.imageMs,
      async (signal) =>
        fromDockerImage(
          await this.request<DockerImageJson>({ method: 'GET', path: `/images/${enc(image)}/json`, signal }),
        ),
      (f) =>
        f.status === 404
          ? undefined
          : new CannotInspectImageError(f.message, { kind: f.kind, cause: f.cause }),
    );
  }

  async removeImage(ref: string, options: { force?: boolean } = {}): Promise<void> {
    await this.call(
      `remove image ${ref}`,
      this.timeouts.imageMs,
      (signal) =>
        this.request({
          method: 'DELETE',
          path: `/images/${enc(ref)}`,
          query: { force: !!options.force },
          signal,
        }),
      (f) =>
        f.status === 404
          ? undefined
          : new CannotRemoveImageError(f.message, { kind: f.kind, cause: f.cause }),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Containers

  async createContainer(spec: ContainerSpec): Promise<string> {
    const { name, ...body } = toDockerCreateBody(spec);
    const created = await this.call(
      `create container ${spec.name}`,
      this.timeouts.createMs,
      (signal) =>
        this.request<{ Id: string; Warnings?: string[] | null }>({
          method: 'POST',
          path: '/containers/create',
          query: { name: name ?? spec.name },
          body,
          signal,
        }),
      (f) => new CannotCreateContainerError(f.message, { kind: f.kind, cause: f.cause }),
    );
    if (created.Warnings && created.Warnings.length > 0) {
      this.log?.warn({ container: spec.name, warnings: created.Warnings }, 'Docker warnings on create');
    }
    return created.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call(
      `start container ${id}`,
      this.timeouts.startMs,
      (signal) => this.request({ method: 'POST', path: `/containers/${enc(id)}/start`, signal }),
      (f) => {
        if (f.status === 304) return undefined; // already running
        if (f.status === 404 && /no such container/i.test(f.message)) return new ContainerNotFoundError(id);
        return new CannotStartContainerError(f.message, { kind: f.kind, cause: f.cause });
      },
    );
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<StopResult> {
    const t = Math.max(0, Math.ceil(timeoutSeconds));
    return this.call<StopResult>(
      `stop container ${id}`,
      t * 1000 + this.timeouts.stopBufferMs,
      async (signal) => {
        await this.request({ method: 'POST', path: `/containers/${enc(id)}/stop`, query: { t }, signal });
        return { stopped: true };
      },
      (f) => {
        if (f.status === 304) return { stopped: false };
        if (f.status === 404) return new ContainerNotFoundError(id);
        return new CannotStopContainerError(f.message, { kind: f.kind, cause: f.cause });
      },
    );
  }

  async removeContainer(id: string, options: RemoveOptions = {}): Promise<void> {
    await this.call(
      `remove container ${id}`,
      this.timeouts.removeMs,
      (signal) =>
        this.request({
          method: 'DELETE',
          path: `/containers/${enc(id)}`,
          query: { force: !!options.force, v: !!options.removeVolumes },
          signal,
        }),
      (f) =>
        f.status === 404
          ? undefined
          : new CannotRemoveContainerError(f.message, { kind: f.kind, cause: f.cause }),
    );
  }

  async inspectContainer(id: string): Promise<ContainerState> {
    return fromDockerInspect(await this.inspectRaw(id));
  }

  private inspectRaw(id: string): Promise<DockerInspectJson> {
    return this.call(
      `inspect container ${id}`,
      this.timeouts.inspectMs,
      (signal) =>
        this.request<DockerInspectJson>({ method: 'GET', path: `/containers/${enc(id)}/json`, signal }),
      (f) =>
        f.status === 404
          ? new ContainerNotFoundError(id)
          : new CannotInspectContainerError(f.message, { kind: f.kind, cause: f.cause }),
    );
  }

  async listContainers(options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    const list = await this.call(
      'list containers',
      this.timeouts.listMs,
      (signal) =>
        this.request<DockerSummaryJson[]>({
          method: 'GET',
          path: '/containers/json',
          query: {
            all: options.all ?? true,
            filters: JSON.stringify({ label: toDockerLabelFilter(options.labels) }),
          },
          signal,
        }),
      (f) => new CannotListContainersError(f.message, { kind: f.kind, cause: f.cause }),
    );
    return list.map(fromDockerSummary);
  }

  // -------------------------------------------------------------------------------------------
  // Events

  events(filter: EventFilter = {}, options: EventOptions = {}): EventStream {
    const ac = new AbortController();
    let current: IncomingMessage | undefined;
    const queue = new AsyncQueue<RuntimeEvent>({
      highWaterMark: eventHighWaterMark,
      onPressure: (paused) => (paused ? current?.pause() : current?.resume()),
      onClose: () => ac.abort(),
    });
    void this.followEvents(filter, options, queue, ac.signal, (res) => (current = res)).catch(
      (e: unknown) => {
        // followEvents handles its own failures; reaching here is a bug, so end loudly.
        queue.end(e);
      },
    );
    return {
      close: () => queue.close(),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }

  /**
   * Keeps one /events request open, reopening it with `since` = the last delivered event's time
   * after a drop so nothing the engine still remembers is lost. Events at exactly that instant
   * are deduplicated. An engine restart forgets its history: hence `connected {resumed: true}`.
   */
  private async followEvents(
    filter: EventFilter,
    options: EventOptions,
    queue: AsyncQueue<RuntimeEvent>,
    signal: AbortSignal,
    setCurrent: (res: IncomingMessage | undefined) => void,
  ): Promise<void> {
    const dockerFilters: Record<string, string[]> = { type: ['container'] };
    if (filter.labels) dockerFilters.label = toDockerLabelFilter(filter.labels);
    if (filter.containerIds) dockerFilters.container = filter.containerIds;
    if (filter.actions) dockerFilters.event = filter.actions;

    let resumeFrom = options.since;
    let seenAtResume = new Set<string>();
    let everConnected = false;
    let reportedDown = false;
    let attempt = 0;

    while (!signal.aborted) {
      let reason: string;
      let connected = false;
      try {
        const openedAt = Date.now();
        const res = await this.openStream(
          'open the Docker event stream',
          {
            method: 'GET',
            path: '/events',
            query: {
              filters: JSON.stringify(dockerFilters),
              // 1 ms early: event times are doubles, so the last one may round up; replays are deduplicated.
              ...(resumeFrom !== undefined ? { since: toDockerSince(Math.max(0, resumeFrom - 1)) } : {}),
            },
          },
          signal,
        );
        connected = true;
        // The open's abort link ends with the open; a close from now on must end the response itself.
        const onAbort = (): void => void res.destroy();
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        setCurrent(res);
        resumeFrom ??= openedAt;
        queue.push({ type: 'stream', state: 'connected', resumed: everConnected });
        everConnected = true;
        reportedDown = false;
        attempt = 0;
        reason = await new Promise<string>((resolve) => {
          const dec = new JsonLineDecoder();
          const deliver = (docs: unknown[]): void => {
            for (const doc of docs) {
              if (doc instanceof Error) {
                this.log?.warn({ err: doc.message }, 'skipping an unparseable Docker event');
                continue;
              }
              const ev = parseDockerEvent(doc as Parameters<typeof parseDockerEvent>[0]);
              if (!ev) continue;
              const key = `${ev.time}|${ev.containerId}|${ev.action}|${ev.health ?? ''}`;
              if (resumeFrom !== undefined && ev.time < resumeFrom) continue;
              if (ev.time === resumeFrom) {
                if (seenAtResume.has(key)) continue;
                seenAtResume.add(key);
              } else {
                resumeFrom = ev.time;
                seenAtResume = new Set([key]);
              }
              if (matchesEventFilter(ev, filter)) queue.push(ev);
            }
          };
          res.on('data', (chunk: Buffer) => deliver(dec.push(chunk)));
          res.once('end', () => {
            deliver(dec.end());
            resolve('Docker closed the event stream');
          });
          res.once('error', (e) => resolve(`event stream failed: ${e.message}`));
          res.once('close', () => resolve('event stream closed'));
        });
        signal.removeEventListener('abort', onAbort);
        setCurrent(undefined);
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
      }
      if (signal.aborted) break;
      if (connected || !reportedDown) {
        queue.push({ type: 'stream', state: 'disconnected', reason });
        reportedDown = true;
        this.log?.warn({ reason }, 'Docker event stream lost; reconnecting');
      }
      const t = this.timeouts;
      const backoff = Math.min(t.eventsReconnectMaxMs, t.eventsReconnectInitialMs * 2 ** attempt);
      attempt = Math.min(attempt + 1, 16);
      await interruptibleSleep(backoff, signal);
    }
    queue.end();
  }

  /** Opens a streaming request; the open (not the stream) is bounded by streamOpenMs. */
  private async openStream(
    operation: string,
    o: Omit<RequestOptions, 'signal'>,
    outer: AbortSignal | undefined,
  ): Promise<IncomingMessage> {
    const ac = new AbortController();
    const onOuter = (): void => ac.abort();
    outer?.addEventListener('abort', onOuter, { once: true });
    const timeoutMs = this.timeouts.streamOpenMs;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, timeoutMs);
    try {
      return await this.request({ ...o, signal: ac.signal, stream: true });
    } catch (e) {
      if (timedOut) throw new DockerTimeoutError(operation, timeoutMs, { cause: e });
      throw e;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Logs and stats

  async logs(id: string, options: LogOptions = {}): Promise<LogStream> {
    const info = await this.inspectRaw(id);
    let res: IncomingMessage;
    try {
      res = await this.openStream(
        `open the logs of ${id}`,
        {
          method: 'GET',
          path: `/containers/${enc(id)}/logs`,
          query: {
            stdout: true,
            stderr: true,
            timestamps: true,
            follow: !!options.follow,
            tail: options.tail !== undefined ? String(options.tail) : 'all',
            ...(options.since !== undefined ? { since: toDockerSince(options.since) } : {}),
          },
        },
        undefined,
      );
    } catch (e) {
      if (isRuntimeError(e)) throw e;
      const f = this.classify(e);
      if (f.status === 404) throw new ContainerNotFoundError(id, { cause: e });
      throw new CannotGetContainerLogsError(f.message, { kind: f.kind, cause: e });
    }
    const decoder = new DockerLogDecoder({ tty: !!info.Config?.Tty, timestamps: true });
    const queue = new AsyncQueue<LogLine>({
      highWaterMark: logHighWaterMark,
      onPressure: (paused) => (paused ? res.pause() : res.resume()),
      onClose: () => res.destroy(),
    });
    res.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) queue.push(line);
    });
    res.once('end', () => {
      for (const line of decoder.end()) queue.push(line);
      queue.end();
    });
    res.once('error', (e) => {
      if (!queue.isClosed)
        queue.end(new CannotGetContainerLogsError(`log stream of ${id} failed: ${e.message}`));
    });
    res.once('close', () => {
      if (!queue.isClosed)
        queue.end(new CannotGetContainerLogsError(`log stream of ${id} closed before its end`));
    });
    return {
      close: () => queue.close(),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }

  async stats(id: string): Promise<ContainerStats> {
    const raw = await this.call(
      `read stats of ${id}`,
      this.timeouts.statsMs,
      (signal) =>
        this.request<Record<string, unknown>>({
          method: 'GET',
          path: `/containers/${enc(id)}/stats`,
          query: { stream: false },
          signal,
        }),
      (f) =>
        f.status === 404
          ? new ContainerNotFoundError(id)
          : new CannotGetContainerStatsError(f.message, { kind: f.kind, cause: f.cause }),
    );
    return fromDockerStats(raw);
  }

  // -------------------------------------------------------------------------------------------
  // Networks

  async createNetwork(spec: NetworkSpec): Promise<string> {
    const ipam =
      spec.subnet || spec.gateway || spec.ipRange
        ? {
            Driver: 'default',
            Config: [
              {
                ...(spec.subnet ? { Subnet: spec.subnet } : {}),
                ...(spec.gateway ? { Gateway: spec.gateway } : {}),
                ...(spec.ipRange ? { IPRange: spec.ipRange } : {}),
              },
            ],
          }
        : undefined;
    const created = await this.call(
      `create network ${spec.name}`,
      this.timeouts.networkMs,
      (signal) =>
        this.request<{ Id: string }>({
          method: 'POST',
          path: '/networks/create',
          body: {
            Name: spec.name,
            Driver: spec.driver ?? 'bridge',
            // Without it a second create with the same name makes a duplicate network.
            CheckDuplicate: true,
            Internal: spec.internal ?? false,
            Labels: spec.labels ?? {},
            Options: spec.options ?? {},
            ...(ipam ? { IPAM: ipam } : {}),
          },
          signal,
        }),
      (f) => new CannotCreateNetworkError(f.message, { kind: f.kind, cause: f.cause }),
    );
    return created.Id;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    await this.call(
      `remove network ${idOrName}`,
      this.timeouts.networkMs,
      (signal) => this.request({ method: 'DELETE', path: `/networks/${enc(idOrName)}`, signal }),
      (f) =>
        f.status === 404
          ? undefined
          : new CannotRemoveNetworkError(f.message, { kind: f.kind, cause: f.cause }),
    );
  }

  async inspectNetwork(idOrName: string): Promise<NetworkInfo | undefined> {
    const j = await this.call(
      `inspect network ${idOrName}`,
      this.timeouts.networkMs,
      (signal) =>
        this.request<DockerNetworkJson>({ method: 'GET', path: `/networks/${enc(idOrName)}`, signal }),
      (f) =>
        f.status === 404
          ? undefined
          : new CannotInspectNetworkError(f.message, { kind: f.kind, cause: f.cause }),
    );
    return j ? fromDockerNetwork(j) : undefined;
  }

  async listNetworks(options: { labels?: LabelSelector } = {}): Promise<NetworkInfo[]> {
    const list = await this.call(
      'list networks',
      this.timeouts.networkMs,
      (signal) =>
        this.request<DockerNetworkJson[]>({
          method: 'GET',
          path: '/networks',
          query: { filters: JSON.stringify({ label: toDockerLabelFilter(options.labels) }) },
          signal,
        }),
      (f) => new CannotInspectNetworkError(f.message, { kind: f.kind, cause: f.cause }),
    );
    return list.map(fromDockerNetwork);
  }

  // -------------------------------------------------------------------------------------------
  // Volumes

  async createVolume(spec: VolumeSpec): Promise<VolumeInfo> {
    const j = await this.call(
      `create volume ${spec.name}`,
      this.timeouts.volumeMs,
      (signal) =>
        this.request<DockerVolumeJson>({
          method: 'POST',
          path: '/volumes/create',
          body: {
            Name: spec.name,
            Driver: spec.driver ?? 'local',
            DriverOpts: spec.driverOptions ?? {},
            Labels: spec.labels ?? {},
          },
          signal,
        }),
      (f) => new CannotCreateVolumeError(f.message, { kind: f.kind, cause: f.cause }),
    );
    return fromDockerVolume(j);
  }

  async removeVolume(name: string): Promise<void> {
    await this.call(
      `remove volume ${name}`,
      this.timeouts.volumeMs,
      (signal) => this.request({ method: 'DELETE', path: `/volumes/${enc(name)}`, signal }),
      (f) =>
        f.status === 404
          ? undefined
          : new CannotRemoveVolumeError(f.message, { kind: f.kind, cause: f.cause }),
    );
  }

  async inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    const j = await this.call(
      `inspect volume ${name}`,
      this.timeouts.volumeMs,
      (signal) => this.request<DockerVolumeJson>({ method: 'GET', path: `/volumes/${enc(name)}`, signal }),
      (f) =>
        f.status === 404
          ? undefined
          : new CannotInspectVolumeError(f.message, { kind: f.kind, cause: f.cause }),
    );
    return j ? fromDockerVolume(j) : undefined;
  }
}

// ---------------------------------------------------------------------------------------------

interface HttpFailure {
  /** HTTP status; 0 when the engine answered nothing usable. */
  status: number;
  /** The engine's own words (its JSON `message`), without docker-modem's prefix. */
  message: string;
  kind: RuntimeErrorKind;
  cause: unknown;
}

const enc = encodeURIComponent;

function kindOfStatus(status: number): RuntimeErrorKind {
  if (status === 404) return 'not-found';
  // 403 is how Docker says "not now" (a network with active endpoints): a conflict of state.
  if (status === 409 || status === 403) return 'conflict';
  if (status === 401) return 'unauthorized';
  if (status >= 400 && status < 500) return 'invalid';
  return 'engine';
}

function dockerMessage(e: EngineFailure): string {
  const j = e.json as { message?: unknown } | null | undefined;
  if (j && typeof j === 'object' && typeof j.message === 'string') return j.message;
  // An answer that was not JSON: its text follows the status in the message.
  return (e.message ?? '').replace(/^\(HTTP code \d+\) /, '').trim();
}

/**
 * Registry failures arrive as free text. Missing images and refused credentials will not change
 * on retry; network and registry-side errors may.
 */
function pullErrorKind(message: string, fallback: RuntimeErrorKind = 'engine'): RuntimeErrorKind {
  if (/unauthorized|authentication required|access denied|denied:|no basic auth credentials/i.test(message)) {
    return 'unauthorized';
  }
  if (/manifest unknown|not found|does not exist|name unknown|no such image/i.test(message))
    return 'not-found';
  if (/invalid reference format/i.test(message)) return 'invalid';
  return fallback === 'not-found' || fallback === 'invalid' ? fallback : 'engine';
}

function toAuthConfig(a: RegistryAuth, registry: string | undefined): Record<string, string> {
  const out: Record<string, string> = {
    serveraddress: a.serverAddress ?? registry ?? 'https://index.docker.io/v1/',
  };
  if (a.username !== undefined) out.username = a.username;
  if (a.password !== undefined) out.password = a.password;
  if (a.identityToken !== undefined) out.identitytoken = a.identityToken;
  if (a.registryToken !== undefined) out.registrytoken = a.registryToken;
  return out;
}

function pullResult(local: ImageInfo, pulled: boolean): PullResult {
  const { entryPoint, command } = local.config;
  return {
    imageId: local.id,
    pulled,
    imageCommand: { ...(entryPoint ? { entryPoint } : {}), ...(command ? { command } : {}) },
  };
}
