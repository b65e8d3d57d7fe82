// The next actions of a task runner: a pure function of the task's known state, the actions in
// flight and the time. The runner calls it after every batch of events and starts what it
// returns; `wakeAt` says when to look again if nothing else happens (a retry back-off, a
// dependency timeout, the clean-up time).
//
//   desired RUNNING                                  desired STOPPED
//   ───────────────                                  ───────────────
//   resync (if needed) before anything else          resync (if needed) before anything else
//   awsvpc: setup-network                            stop RUNNING containers whose dependents stopped
//   create-volumes (task-owned volumes)              teardown-network once every container stopped
//   per container, once the network is ready:       cleanup once STOPPED and cleanupAt has come
//     NONE → pull
//     PULLED → create   (volumes ready, volumesFrom/link targets created)
//     CREATED → start   (dependsOn conditions and links satisfied)
import { canStop, createReadiness, startReadiness } from './dependencies.js';
import type { Action } from './events.js';
import { networkNeedsTeardown } from './reduce.js';
import { containerDefinitions, needsVolumeStep, type TaskState } from './task-state.js';

export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;

export interface NextStep {
  actions: Action[];
  /** Epoch ms to evaluate again even without events; undefined: only events matter. */
  wakeAt?: number;
}

export function stopTimeoutSeconds(state: TaskState, name: string): number {
  const def = containerDefinitions(state.task).find((d) => d.name === name);
  return def?.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS;
}

export interface NextOptions {
  /**
   * The task's last report is not acknowledged yet: its containers stay until it is, so that a
   * control plane that has not heard of the stop never sees the task vanish (and never sends it
   * to be run again).
   */
  holdCleanup?: boolean;
}

export function computeNextActions(
  state: TaskState,
  busy: ReadonlySet<string>,
  now: number,
  opts: NextOptions = {},
): NextStep {
  const actions: Action[] = [];
  let wakeAt: number | undefined;
  const later = (t: number): void => {
    wakeAt = wakeAt === undefined ? t : Math.min(wakeAt, t);
  };
  /** False (and a wake-up planned) while `key` waits out a retry back-off. */
  const due = (key: string): boolean => {
    const r = state.retries[key];
    if (r && r.retryAt > now) {
      later(r.retryAt);
      return false;
    }
    return true;
  };
  const offer = (a: Action, key: string): void => {
    if (!busy.has(key) && due(key)) actions.push(a);
  };

  if (state.cleaned) return { actions };
  if (state.needsResync) {
    offer({ kind: 'resync' }, '#resync');
    return { actions, ...(wakeAt !== undefined ? { wakeAt } : {}) };
  }
  if (busy.has('#resync')) return { actions };

  if (state.known === 'STOPPED') {
    if (state.cleanupAt !== undefined && now < state.cleanupAt) later(state.cleanupAt);
    else if (!opts.holdCleanup) offer({ kind: 'cleanup' }, '#cleanup');
    return { actions, ...(wakeAt !== undefined ? { wakeAt } : {}) };
  }

  if (state.desired === 'RUNNING') {
    const net = state.network;
    if (net && net.status === 'NONE') offer({ kind: 'setup-network' }, '#network');
    const volumesReady = state.volumes.ready || !needsVolumeStep(state.task);
    if (!volumesReady) offer({ kind: 'create-volumes' }, '#volumes');
    const networkReady = !net || net.status === 'READY';
    if (networkReady) {
      for (const c of state.containers) {
        if (busy.has(c.name)) continue;
        switch (c.known) {
          case 'NONE':
            offer({ kind: 'pull', container: c.name }, c.name);
            break;
          case 'PULLED':
            if (volumesReady && createReadiness(state, c.name).ready)
              offer({ kind: 'create', container: c.name }, c.name);
            break;
          case 'CREATED':
            if (startReadiness(state, c.name).ready) offer({ kind: 'start', container: c.name }, c.name);
            // Waiting on dependencies: look again each second so a startTimeout is noticed.
            else if (c.waitingSince !== undefined) later(now + 1000);
            break;
          case 'RUNNING':
          case 'STOPPED':
            break;
          default: {
            const never: never = c.known;
            throw new Error(`unknown container status ${String(never)}`);
          }
        }
      }
    }
    return { actions, ...(wakeAt !== undefined ? { wakeAt } : {}) };
  }

  // desired STOPPED
  for (const c of state.containers) {
    if (c.known !== 'RUNNING' || busy.has(c.name)) continue;
    if (canStop(state, c.name)) {
      offer({ kind: 'stop', container: c.name, timeoutSeconds: stopTimeoutSeconds(state, c.name) }, c.name);
    }
  }
  const allStopped = state.containers.every((c) => c.known === 'STOPPED' && !busy.has(c.name));
  if (allStopped && networkNeedsTeardown(state)) offer({ kind: 'teardown-network' }, '#network');
  return { actions, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}
