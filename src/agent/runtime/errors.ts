// Named container-runtime errors. The task runner turns them into a container's `reason` and a
// task's `stoppedReason` as `<name>: <message>` (e.g. "CannotPullContainerError: ..."), exactly as
// the ECS agent does, and uses `retriable` to decide whether another attempt can help.
// Both runtimes (Docker and fake) throw only these, so callers never see engine-specific errors.

/**
 * What went wrong, independent of the operation: lets the runner react (adopt an existing
 * container on `conflict`, give up on `not-found`) without parsing messages.
 */
export type RuntimeErrorKind =
  'not-found' | 'conflict' | 'invalid' | 'unauthorized' | 'timeout' | 'unavailable' | 'engine';

export abstract class RuntimeError extends Error {
  constructor(
    message: string,
    readonly kind: RuntimeErrorKind,
    /** True when the same call may succeed later without anyone changing the request. */
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** `Name: message`, the form ECS shows in `stoppedReason` and a container's `reason`. */
  get reasonText(): string {
    return `${this.name}: ${this.message}`;
  }
}

interface ErrorOptions {
  kind?: RuntimeErrorKind;
  retriable?: boolean;
  cause?: unknown;
}

// Defaults: engine failures (HTTP 5xx) may pass; requests Docker refuses (4xx) will not.
const retriableByDefault = (kind: RuntimeErrorKind): boolean =>
  kind === 'engine' || kind === 'timeout' || kind === 'unavailable';

export class CannotPullContainerError extends RuntimeError {
  override readonly name = 'CannotPullContainerError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotInspectImageError extends RuntimeError {
  override readonly name = 'CannotInspectImageError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotRemoveImageError extends RuntimeError {
  override readonly name = 'CannotRemoveImageError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotCreateContainerError extends RuntimeError {
  override readonly name = 'CannotCreateContainerError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

/**
 * Start failures (bad command, port already allocated, missing mount) do not fix themselves, so
 * they are not retriable even on HTTP 500; timeouts and a missing engine have their own classes.
 */
export class CannotStartContainerError extends RuntimeError {
  override readonly name = 'CannotStartContainerError';
  constructor(message: string, o: ErrorOptions = {}) {
    super(message, o.kind ?? 'engine', o.retriable ?? false, o);
  }
}

/** As in the ECS agent: retriable unless the container does not exist. */
export class CannotStopContainerError extends RuntimeError {
  override readonly name = 'CannotStopContainerError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? kind !== 'not-found', o);
  }
}

export class CannotRemoveContainerError extends RuntimeError {
  override readonly name = 'CannotRemoveContainerError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    // 409 here is "removal already in progress" or "container is running": both pass with time.
    super(message, kind, o.retriable ?? (retriableByDefault(kind) || kind === 'conflict'), o);
  }
}

export class CannotInspectContainerError extends RuntimeError {
  override readonly name = 'CannotInspectContainerError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotListContainersError extends RuntimeError {
  override readonly name = 'CannotListContainersError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotGetContainerLogsError extends RuntimeError {
  override readonly name = 'CannotGetContainerLogsError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotGetContainerStatsError extends RuntimeError {
  override readonly name = 'CannotGetContainerStatsError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

/** The container does not exist (never created, or removed). Nothing to retry. */
export class ContainerNotFoundError extends RuntimeError {
  override readonly name = 'ContainerNotFoundError';
  constructor(
    readonly containerId: string,
    o: { cause?: unknown } = {},
  ) {
    super(`No such container: ${containerId}`, 'not-found', false, o);
  }
}

export class CannotCreateNetworkError extends RuntimeError {
  override readonly name = 'CannotCreateNetworkError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotRemoveNetworkError extends RuntimeError {
  override readonly name = 'CannotRemoveNetworkError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    // 403 "has active endpoints" clears once the task's containers are gone.
    super(message, kind, o.retriable ?? (retriableByDefault(kind) || kind === 'conflict'), o);
  }
}

export class CannotInspectNetworkError extends RuntimeError {
  override readonly name = 'CannotInspectNetworkError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotCreateVolumeError extends RuntimeError {
  override readonly name = 'CannotCreateVolumeError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

export class CannotRemoveVolumeError extends RuntimeError {
  override readonly name = 'CannotRemoveVolumeError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    // 409 "volume is in use" clears once the containers using it are removed.
    super(message, kind, o.retriable ?? (retriableByDefault(kind) || kind === 'conflict'), o);
  }
}

export class CannotInspectVolumeError extends RuntimeError {
  override readonly name = 'CannotInspectVolumeError';
  constructor(message: string, o: ErrorOptions = {}) {
    const kind = o.kind ?? 'engine';
    super(message, kind, o.retriable ?? retriableByDefault(kind), o);
  }
}

/** A Docker call did not answer within its budget (see timeouts.ts). Retriable, as in the ECS agent. */
export class DockerTimeoutError extends RuntimeError {
  override readonly name = 'DockerTimeoutError';
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
    o: { cause?: unknown } = {},
  ) {
    super(`Could not ${operation}; timed out after waiting ${formatDuration(timeoutMs)}`, 'timeout', true, o);
  }
}

/** The engine cannot be reached at all (socket missing, refused, reset). Retriable. */
export class DockerUnavailableError extends RuntimeError {
  override readonly name = 'DockerUnavailableError';
  constructor(message: string, o: { cause?: unknown } = {}) {
    super(message, 'unavailable', true, o);
  }
}

export function isRuntimeError(e: unknown): e is RuntimeError {
  return e instanceof RuntimeError;
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
