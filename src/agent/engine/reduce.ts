// How a task's known state follows events (reduce) and what follows from the new state by rule
// alone (normalize): the desired status after an essential container stopped, the task status
// derived from its containers, timestamps set once. Pure: time, randomness and the set of
// in-flight actions come in through the context; the state is mutated in place by its single
// owner, the task runner.
//
// Rules that make the runner safe against events arriving late, twice or out of order:
// - Known statuses only move forward (a `started` result after a `die` event changes nothing).
// - Desired status only moves forward, and the first stop code and reason win.
// - A `start` event for a container whose start the runner itself has in flight is left to the
//   start result, which carries the host ports: RUNNING is never reported without its bindings.
import type { AgentTask } from '../../domain/agent-protocol.js';
import { compareTaskStatus, type TaskStatus } from '../../domain/task/status.js';
import { backoffDelay, type BackoffPolicy } from '../backoff.js';
import type { ContainerEvent, ContainerState, HealthStatus } from '../runtime/container-runtime.js';
import { startReadiness } from './dependencies.js';
import type { Action, RunnerEvent } from './events.js';
import { busyKeyOf } from './events.js';
import {
  PAUSE_TARGET,
  compareContainerKnown,
  containerDefinitions,
  reasonText,
  type ContainerKnownStatus,
  type ErrorInfo,
  type HealthText,
  type KnownContainer,
  type StopCode,
  type TaskState,
} from './task-state.js';

export const ESSENTIAL_EXITED_REASON = 'Essential container in task exited';
export const OOM_REASON = 'OutOfMemoryError: Container killed due to memory usage';
export const REMOVED_REASON =
  'ContainerRemovedError: the container was removed from the Docker engine outside Berth';
export const PAUSE_EXITED_REASON = "TaskNetworkError: the task's network container (pause) exited";
export const UNASSIGNED_REASON = 'Task is no longer assigned to this host';

export interface ReduceContext {
  /** Epoch ms. */
  now: number;
  /** In [0, 1), for retry jitter. */
  random: number;
  /** Busy keys of the actions in flight (see busyKeyOf). */
  busy: ReadonlySet<string>;
  retryPolicy: BackoffPolicy;
  /** How long a stopped task's containers are kept. */
  cleanupWaitMs: number;
  /** Dependency wait for containers without their own startTimeout. */
  containerStartTimeoutMs: number;
}

/** Attempts per action kind for retriable errors; an unavailable engine is waited for without limit. */
export const MAX_ATTEMPTS: Record<Action['kind'], number> = {
  resync: Infinity,
  'setup-network': 3,
  'create-volumes': 3,
  pull: 3,
  create: 3,
  start: 2,
  stop: Infinity,
  'teardown-network': 5,
  cleanup: 5,
};

const STOP_CODES: readonly StopCode[] = [
  'TaskFailedToStart',
  'EssentialContainerExited',
  'UserInitiated',
  'ServiceSchedulerInitiated',
  'SpotInterruption',
  'TerminationNotice',
];

function asStopCode(s: string | undefined): StopCode | undefined {
  return STOP_CODES.find((c) => c === s);
}

/** desiredStatus STOPPED, keeping the first stop code and reason. */
export function requestStop(
  state: TaskState,
  now: number,
  stopCode: StopCode | undefined,
  reason: string | undefined,
): void {
  if (state.desired === 'STOPPED') return;
  state.desired = 'STOPPED';
  if (stopCode !== undefined) state.stopCode ??= stopCode;
  if (reason !== undefined && reason !== '') state.stoppedReason ??= reason;
  state.stoppingAt ??= now;
}

function forward(c: KnownContainer, to: ContainerKnownStatus): boolean {
  if (compareContainerKnown(to, c.known) <= 0) return false;
  c.known = to;
  return true;
}

function healthText(h: HealthStatus | undefined): HealthText {
  if (h === 'healthy') return 'HEALTHY';
  if (h === 'unhealthy') return 'UNHEALTHY';
  return 'UNKNOWN';
}

function markStopped(c: KnownContainer, at: number, exitCode: number | undefined, reason?: string): void {
  if (!forward(c, 'STOPPED')) return;
  if (exitCode !== undefined) c.exitCode = exitCode;
  c.finishedAt ??= at;
  if (c.oomKilled) c.reason ??= OOM_REASON;
  if (reason !== undefined) c.reason ??= reason;
  c.ports = [];
}

/** What an engine inspection says about a container, applied forward-only. */
function applyInspection(c: KnownContainer, s: ContainerState, now: number): void {
  c.dockerId ??= s.id;
  if (s.imageId) c.imageId ??= s.imageId;
  c.createdAt ??= s.createdAt || now;
  if (s.oomKilled) c.oomKilled = true;
  switch (s.status) {
    case 'created':
      forward(c, 'CREATED');
      return;
    case 'running':
      if (c.known === 'STOPPED') return;
      c.known = 'RUNNING';
      c.startedAt ??= s.startedAt ?? now;
      c.ports = s.ports.map((p) => ({ ...p }));
      c.networks = s.networks.map((n) => ({ ...n }));
      if (s.health)
        c.health = {
          status: healthText(s.health.status),
          since: now,
          ...(s.health.lastOutput !== undefined ? { output: s.health.lastOutput } : {}),
          ...(s.health.lastExitCode !== undefined ? { exitCode: s.health.lastExitCode } : {}),
        };
      return;
    case 'exited': {
      if (s.startedAt !== undefined) c.startedAt ??= s.startedAt;
      const neverRan = c.startedAt === undefined;
      markStopped(
        c,
        s.finishedAt ?? now,
        neverRan ? undefined : s.exitCode,
        neverRan && s.error ? `CannotStartContainerError: ${s.error}` : undefined,
      );
      return;
    }
    default: {
      const never: never = s.status;
      throw new Error(`unknown container status ${String(never)}`);
    }
  }
}

function findByEvent(state: TaskState, e: ContainerEvent): KnownContainer | 'pause' | undefined {
  const name = e.name?.replace(/^\//, '');
  const n = state.network;
  if (n && (n.pauseDockerId === e.containerId || (name !== undefined && name === n.pauseName)))
    return 'pause';
  return state.containers.find(
    (c) => c.dockerId === e.containerId || (name !== undefined && c.dockerName === name),
  );
}

function onPauseGone(state: TaskState, now: number): void {
  const n = state.network;
  if (!n || n.status !== 'READY' || state.desired !== 'RUNNING') return;
  requestStop(
    state,
    now,
    compareTaskStatus(state.known, 'RUNNING') >= 0 ? undefined : 'TaskFailedToStart',
    PAUSE_EXITED_REASON,
  );
}

function applyEngineEvent(state: TaskState, e: ContainerEvent, ctx: ReduceContext): void {
  const target = findByEvent(state, e);
  if (!target) return;
  if (target === 'pause') {
    if (e.action === 'die' || e.action === 'destroy') onPauseGone(state, ctx.now);
    return;
  }
  const c = target;
  if (e.containerId) c.dockerId ??= e.containerId;
  switch (e.action) {
    case 'start':
      if (ctx.busy.has(c.name)) return;
      if (forward(c, 'RUNNING')) c.startedAt ??= e.time;
      return;
    case 'die':
      // A container holding its own namespace cannot run its program before its start action
      // has plumbed it, so a death during that action waits for the action's end: a failure
      // (which kills the container) is reported as the failed start, a success means the
      // program ran once plumbed and exited before the result came back.
      if (state.network?.ownNetwork && ctx.busy.has(c.name) && c.known === 'CREATED') {
        c.diedWhileStarting = { at: e.time, ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}) };
        return;
      }
      // It ran: a container that exits at once still started (EssentialContainerExited, not a failed start).
      if (c.known !== 'STOPPED') c.startedAt ??= e.time;
      markStopped(c, e.time, e.exitCode);
      return;
    case 'oom':
      c.oomKilled = true;
      return;
    case 'health_status':
      if (c.known === 'STOPPED') return;
      c.health = { status: healthText(e.health), since: e.time };
      return;
    case 'destroy':
      markStopped(c, e.time, undefined, REMOVED_REASON);
      return;
    case 'create':
    case 'kill':
    case 'stop':
    case 'pause':
    case 'unpause':
    case 'restart':
      return;
    default: {
      const never: never = e.action;
      throw new Error(`unknown container event ${String(never)}`);
    }
  }
}

function retryKeyTarget(state: TaskState, a: Action): KnownContainer | undefined {
  return 'container' in a ? state.containers.find((c) => c.name === a.container) : undefined;
}

function applyFailure(state: TaskState, a: Action, error: ErrorInfo, ctx: ReduceContext): void {
  const key = busyKeyOf(a);
  // A death held for this start's end belongs to the failed attempt (a retry starts it anew).
  if (a.kind === 'start') delete retryKeyTarget(state, a)?.diedWhileStarting;
  const prev = state.retries[key]?.attempts ?? 0;
  const limit = error.kind === 'unavailable' ? Infinity : MAX_ATTEMPTS[a.kind];
  if (error.retriable && prev + 1 < limit) {
    state.retries[key] = {
      attempts: prev + 1,
      retryAt: ctx.now + backoffDelay(ctx.retryPolicy, prev, ctx.random),
      lastError: reasonText(error),
    };
    return;
  }
  delete state.retries[key];
  const reason = reasonText(error);
  switch (a.kind) {
    case 'pull':
    case 'create':
    case 'start': {
      const c = retryKeyTarget(state, a);
      if (c) markStopped(c, ctx.now, undefined, reason);
      return;
    }
    case 'stop': {
      const c = retryKeyTarget(state, a);
      // Only "no such container" is final for a stop: the container is gone.
      if (c) markStopped(c, ctx.now, undefined, error.kind === 'not-found' ? REMOVED_REASON : reason);
      return;
    }
    case 'setup-network':
    case 'create-volumes':
      requestStop(state, ctx.now, 'TaskFailedToStart', reason);
      if (a.kind === 'setup-network' && state.network) state.network.status = 'RELEASED';
      return;
    case 'teardown-network':
      // The pause container is removed again at clean-up; the address must not stay held forever.
      if (state.network) state.network.status = 'RELEASED';
      return;
    case 'cleanup':
      state.cleaned = true;
      return;
    case 'resync':
      state.needsResync = false;
      return;
    default: {
      const never: never = a;
      throw new Error(`unknown action ${JSON.stringify(never)}`);
    }
  }
}

function container(state: TaskState, name: string): KnownContainer | undefined {
  return state.containers.find((c) => c.name === name);
}

function applyDesired(state: TaskState, task: AgentTask, now: number): void {
  if (task.version < state.task.version) return;
  state.task = task;
  for (const c of state.containers) c.containerArn = task.containerArns[c.name] ?? c.containerArn;
  if (state.network && task.eniAttachmentId) state.network.attachmentId = task.eniAttachmentId;
  if (task.desiredStatus === 'STOPPED')
    requestStop(state, now, asStopCode(task.stopCode) ?? 'UserInitiated', task.stoppedReason);
}

export function reduce(state: TaskState, e: RunnerEvent, ctx: ReduceContext): void {
  switch (e.type) {
    case 'desired':
      applyDesired(state, e.task, ctx.now);
      return;
    case 'unassigned':
      requestStop(state, ctx.now, undefined, UNASSIGNED_REASON);
      return;
    case 'stop':
      requestStop(state, ctx.now, e.stopCode, e.reason);
      return;
    case 'engine':
      applyEngineEvent(state, e.event, ctx);
      return;
    case 'inspected': {
      if (e.target === PAUSE_TARGET) {
        const n = state.network;
        if (!n) return;
        if (e.state?.status === 'running') {
          if (n.status === 'NONE') {
            // Set up before a crash that came before the state was saved: the engine has the facts.
            const net = e.state.networks.find(
              (x) => x.ipv4Address !== undefined && (n.ip === undefined || x.ipv4Address === n.ip),
            );
            if (net?.ipv4Address) {
              n.status = 'READY';
              n.pauseDockerId = e.state.id;
              n.ip = net.ipv4Address;
              if (net.ipv4PrefixLength !== undefined) n.prefixLength = net.ipv4PrefixLength;
              if (net.gateway) n.gateway = net.gateway;
              if (net.macAddress) n.macAddress = net.macAddress;
            }
          }
        } else if (n.status === 'READY') {
          onPauseGone(state, ctx.now);
        }
        return;
      }
      const c = container(state, e.target);
      if (!c) return;
      if (e.dockerId) c.dockerId ??= e.dockerId;
      if (e.state) applyInspection(c, e.state, ctx.now);
      else if (c.dockerId !== undefined && (c.known === 'CREATED' || c.known === 'RUNNING'))
        markStopped(c, ctx.now, undefined, REMOVED_REASON);
      return;
    }
    case 'resynced':
      state.needsResync = false;
      return;
    case 'resync-needed':
      state.needsResync = true;
      return;
    case 'began':
      if (e.action.kind === 'pull') state.pullStartedAt ??= ctx.now;
      return;
    case 'pulled': {
      const c = container(state, e.container);
      if (!c) return;
      delete state.retries[c.name];
      c.imageId = e.imageId;
      if (e.imageCommand) c.imageCommand = e.imageCommand;
      forward(c, 'PULLED');
      return;
    }
    case 'created': {
      const c = container(state, e.container);
      if (!c) return;
      delete state.retries[c.name];
      c.dockerId = e.dockerId;
      c.createdAt ??= ctx.now;
      c.labels = { ...e.labels };
      c.limits = { ...e.limits };
      if (e.logDriver !== undefined) c.logDriver = e.logDriver;
      if (e.logOptions !== undefined) c.logOptions = { ...e.logOptions };
      forward(c, 'CREATED');
      return;
    }
    case 'started': {
      const c = container(state, e.container);
      if (!c) return;
      delete state.retries[c.name];
      if (e.state) applyInspection(c, e.state, ctx.now);
      else if (forward(c, 'RUNNING')) c.startedAt ??= ctx.now;
      const died = c.diedWhileStarting;
      if (died) {
        delete c.diedWhileStarting;
        c.startedAt ??= died.at;
        markStopped(c, died.at, died.exitCode);
      }
      return;
    }
    case 'stopped': {
      const c = container(state, e.container);
      if (!c) return;
      delete state.retries[c.name];
      if (e.state) applyInspection(c, e.state, ctx.now);
      if (!e.state || e.state.status !== 'running') markStopped(c, ctx.now, undefined);
      return;
    }
    case 'address':
      if (!state.network) return;
      state.network.ip = e.ip;
      state.network.prefixLength = e.prefixLength;
      state.network.gateway = e.gateway;
      state.network.subnetCidr = e.subnetCidr;
      return;
    case 'network-ready':
      if (!state.network) return;
      delete state.retries['#network'];
      if (state.network.status === 'NONE') state.network.status = 'READY';
      if (e.pauseDockerId) state.network.pauseDockerId = e.pauseDockerId;
      if (e.ownNetwork) state.network.ownNetwork = true;
      if (e.macAddress) state.network.macAddress = e.macAddress;
      if (e.dnsFilesDir) state.network.dnsFilesDir = e.dnsFilesDir;
      return;
    case 'network-released':
      if (!state.network) return;
      delete state.retries['#network'];
      state.network.status = 'RELEASED';
      return;
    case 'volumes-ready':
      delete state.retries['#volumes'];
      state.volumes.ready = true;
      return;
    case 'cleaned':
      state.cleaned = true;
      return;
    case 'tick':
      return;
    case 'failed':
      applyFailure(state, e.action, e.error, ctx);
      return;
    default: {
      const never: never = e;
      throw new Error(`unknown runner event ${JSON.stringify(never)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function startTimeoutMs(state: TaskState, name: string, fallback: number): number {
  const def = containerDefinitions(state.task).find((d) => d.name === name);
  return def?.startTimeout !== undefined ? def.startTimeout * 1000 : fallback;
}

function hasDependencies(state: TaskState, name: string): boolean {
  const def = containerDefinitions(state.task).find((d) => d.name === name);
  return (def?.dependsOn?.length ?? 0) > 0 || (def?.links?.length ?? 0) > 0;
}

/** The task status the containers and network call for (the known status never goes back). */
export function derivedTaskStatus(state: TaskState, busy: ReadonlySet<string>): TaskStatus {
  if (state.desired === 'RUNNING') {
    if (state.network && state.network.status !== 'READY') return 'PROVISIONING';
    return state.containers.filter((c) => c.essential).every((c) => c.known === 'RUNNING')
      ? 'RUNNING'
      : 'PENDING';
  }
  if (state.containers.some((c) => c.known !== 'STOPPED' || busy.has(c.name))) return 'STOPPING';
  if (busy.has('#network') || networkNeedsTeardown(state)) return 'DEPROVISIONING';
  return 'STOPPED';
}

/** The awsvpc network (or a half-made one) still holds resources that teardown must free. */
export function networkNeedsTeardown(state: TaskState): boolean {
  const n = state.network;
  if (!n || n.status === 'RELEASED') return false;
  return n.status === 'READY' || n.ip !== undefined;
}

/** Consequences of the state by rule alone; call after every batch of events. */
export function normalize(state: TaskState, ctx: ReduceContext): void {
  const { now, busy } = ctx;

  // An essential container that stopped stops the task. One that never ran failed to start.
  if (state.desired === 'RUNNING') {
    const dead = state.containers.find((c) => c.essential && c.known === 'STOPPED');
    if (dead) {
      if (dead.startedAt === undefined)
        requestStop(
          state,
          now,
          'TaskFailedToStart',
          dead.reason ?? `Essential container ${dead.name} could not start`,
        );
      else requestStop(state, now, 'EssentialContainerExited', ESSENTIAL_EXITED_REASON);
    }
  }

  // Containers waiting on conditions that can no longer hold, or for too long, fail.
  if (state.desired === 'RUNNING' && !state.needsResync) {
    for (const c of state.containers) {
      if (busy.has(c.name) || compareContainerKnown(c.known, 'RUNNING') >= 0) continue;
      const r = startReadiness(state, c.name);
      if (!r.ready && r.impossible) {
        markStopped(c, now, undefined, `DependencyError: ${r.impossible}`);
        continue;
      }
      if (c.known !== 'CREATED' || r.ready || !hasDependencies(state, c.name)) {
        delete c.waitingSince;
        continue;
      }
      c.waitingSince ??= now;
      const limit = startTimeoutMs(state, c.name, ctx.containerStartTimeoutMs);
      if (now - c.waitingSince >= limit) {
        markStopped(
          c,
          now,
          undefined,
          `DependencyError: dependencies of '${c.name}' not met within ${Math.round(limit / 1000)}s`,
        );
      }
    }
    // A failure above may have been an essential container's.
    const dead = state.containers.find((c) => c.essential && c.known === 'STOPPED');
    if (dead && dead.startedAt === undefined) requestStop(state, now, 'TaskFailedToStart', dead.reason);
  }

  // Stopping: what never started needs no engine call.
  if (state.desired === 'STOPPED') {
    for (const c of state.containers) {
      if (busy.has(c.name)) continue;
      if (c.known === 'NONE' || c.known === 'PULLED' || c.known === 'CREATED') markStopped(c, now, undefined);
    }
    const n = state.network;
    if (n && n.status === 'NONE' && n.ip === undefined && !busy.has('#network')) n.status = 'RELEASED';
  }

  const derived = derivedTaskStatus(state, busy);
  if (compareTaskStatus(derived, state.known) > 0) state.known = derived;

  if (state.pullStartedAt !== undefined && state.pullStoppedAt === undefined) {
    const pulling = state.containers.some(
      (c) => c.known === 'NONE' && (busy.has(c.name) || state.desired === 'RUNNING'),
    );
    if (!pulling) state.pullStoppedAt = now;
  }
  if (state.known === 'RUNNING') state.startedAt ??= now;
  if (
    state.desired === 'STOPPED' &&
    state.containers.every((c) => c.known === 'STOPPED' && !busy.has(c.name))
  ) {
    state.executionStoppedAt ??= now;
  }
  if (state.known === 'STOPPED') {
    state.stoppedAt ??= now;
    state.cleanupAt ??= now + ctx.cleanupWaitMs;
  }
}
