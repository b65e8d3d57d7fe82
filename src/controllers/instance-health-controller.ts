// The instance health controller: declares a host lost once its agent has been disconnected
// for longer than lostAfterMs (BERTH_INSTANCE_LOST_AFTER_MS), and then marks the host's tasks
// STOPPED and gives their reservations back. Rules in instance-health.ts.
//
// Keys are the store keys of hosts: container instances (`/<account>/<region>/container-instances/
// <cluster>/<id>`) and managed FARGATE hosts (`/_global/managed-hosts/<hostId>`). A sync reads
// the host and either does nothing (connected, deregistered), records since when it is
// disconnected when nobody did, asks to run again when it would be lost, or stops its tasks.
//
// Each task is stopped in ONE transaction with compare-and-set on the task and on the host (as
// applyTaskReport does in src/control/tasks.ts): the host's counts follow and its reservation
// comes back exactly once. Every attempt re-reads the host and re-decides, so an agent that
// reconnects while its tasks are being stopped wins: the host write that records the reconnect
// makes the next task's compare fail, and the re-read sees the host connected. Tasks already
// stopped by then are stopped for good; the agent's full sync no longer lists them and it
// stops their containers.
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { ContainerInstanceRecord, ManagedHostRecord, TaskRecord } from '../domain/records.js';
import {
  MAX_COMMIT_ATTEMPTS,
  hostAfterTaskChange,
  hostKeyOfTask,
  listActiveTasksOnInstance,
  listActiveTasksOnManagedHost,
} from '../control/tasks.js';
import { listAcrossScopes } from '../gateway/store-scan.js';
import { ConflictError, updateRecord } from '../store/cas.js';
import { keys } from '../store/keys.js';
import type { Change, Store, StoredRecord } from '../store/store.js';
import type { Controller, SyncResult, WatchSpec } from './controller.js';
import {
  computeLostTask,
  decideHostHealth,
  lostHostReason,
  type HostHealthDecision,
  type LostHost,
} from './instance-health.js';

export interface InstanceHealthDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** A host disconnected this long is lost. */
  lostAfterMs: number;
}

type Host =
  { kind: 'instance'; value: ContainerInstanceRecord } | { kind: 'managed'; value: ManagedHostRecord };

type HostKind = Host['kind'];

const MANAGED_PREFIX = keys.managedHosts();

/** Which kind of host a store key holds, if any. */
export function hostKindOfKey(key: string): HostKind | undefined {
  if (key.startsWith(MANAGED_PREFIX)) {
    const id = key.slice(MANAGED_PREFIX.length);
    return id !== '' && !id.includes('/') ? 'managed' : undefined;
  }
  const s = key.split('/');
  if (
    s.length === 6 &&
    s[0] === '' &&
    s[3] === 'container-instances' &&
    s.every((p, i) => i === 0 || p !== '')
  )
    return 'instance';
  return undefined;
}

function hostOf(kind: HostKind, value: unknown): Host {
  return kind === 'instance'
    ? { kind, value: value as ContainerInstanceRecord }
    : { kind, value: value as ManagedHostRecord };
}

function lostHostOf(h: Host): LostHost {
  if (h.kind === 'managed') return { kind: 'managed', hostId: h.value.hostId };
  const arn = h.value.containerInstanceArn;
  return { kind: 'instance', containerInstanceId: arn.slice(arn.lastIndexOf('/') + 1) };
}

function isConnected(h: Host): boolean {
  return h.value.agentConnected === true;
}

function isRegisteredHost(h: Host): boolean {
  return h.kind === 'managed' || h.value.status !== 'INACTIVE';
}

function disconnectedAtOf(h: Host): number | undefined {
  return h.kind === 'managed' ? h.value.disconnectedAt : h.value.berth?.disconnectedAt;
}

type TaskStopResult = 'stopped' | 'skipped' | 'host-back';

export class InstanceHealthController implements Controller {
  readonly name = 'instance-health';
  readonly watches: readonly WatchSpec[];
  private readonly log: Logger;
  /** Time the control plane was not watching never counts against an agent. */
  private readonly observingSince: number;

  constructor(private readonly deps: InstanceHealthDeps) {
    this.log = deps.log.child({ controller: this.name });
    this.observingSince = deps.clock.now();
    // Container instance keys are per account and region, so no narrower prefix covers them.
    this.watches = [{ prefix: '/', keysOf: (c: Change) => (hostKindOfKey(c.key) ? [c.key] : []) }];
  }

  /** Hosts that are registered and disconnected: a connected host has nothing to sync. */
  async listKeys(): Promise<string[]> {
    const instances = await listAcrossScopes<ContainerInstanceRecord>(this.deps.store, 'container-instances');
    const managed = await this.deps.store.list<ManagedHostRecord>(MANAGED_PREFIX);
    const hosts: StoredRecord<unknown>[] = [...instances, ...managed];
    return hosts
      .filter((r) => {
        const kind = hostKindOfKey(r.key);
        if (!kind) return false;
        const h = hostOf(kind, r.value);
        return isRegisteredHost(h) && !isConnected(h);
      })
      .map((r) => r.key);
  }

  async sync(key: string): Promise<SyncResult | void> {
    const kind = hostKindOfKey(key);
    if (!kind) return;
    const rec = await this.deps.store.get(key);
    if (!rec) return;
    let host = hostOf(kind, rec.value);
    let decision = this.decide(host);
    if (decision.kind === 'stamp') {
      const stamped = await this.stamp(key, kind);
      if (!stamped) return;
      host = stamped;
      decision = this.decide(host);
    }
    switch (decision.kind) {
      case 'connected':
      case 'deregistered':
      case 'stamp':
        return;
      case 'disconnected':
        return { requeueAfterMs: decision.lostInMs };
      case 'lost':
        await this.stopTasksOfLostHost(key, host, decision.disconnectedForMs);
        return;
      default: {
        const never: never = decision;
        throw new Error(`unknown decision ${JSON.stringify(never)}`);
      }
    }
  }

  private decide(h: Host): HostHealthDecision {
    return decideHostHealth({
      agentConnected: isConnected(h),
      registered: isRegisteredHost(h),
      disconnectedAt: disconnectedAtOf(h),
      now: this.deps.clock.now(),
      lostAfterMs: this.deps.lostAfterMs,
      observingSince: this.observingSince,
    });
  }

  /** Records "disconnected since now" on a host that is disconnected without a time; the host as stored after. */
  private async stamp(key: string, kind: HostKind): Promise<Host | undefined> {
    const now = this.deps.clock.now();
    const stored = await updateRecord<ContainerInstanceRecord | ManagedHostRecord>(
      this.deps.store,
      key,
      (cur) => {
        if (!cur) return undefined;
        const h = hostOf(kind, cur);
        if (this.decide(h).kind !== 'stamp') return undefined;
        return h.kind === 'managed'
          ? { ...h.value, disconnectedAt: now }
          : { ...h.value, berth: { ...h.value.berth, disconnectedAt: now } };
      },
    );
    return stored === undefined ? undefined : hostOf(kind, stored);
  }

  private async stopTasksOfLostHost(hostKey: string, host: Host, disconnectedForMs: number): Promise<void> {
    const tasks =
      host.kind === 'instance'
        ? await listActiveTasksOnInstance(this.deps, host.value.containerInstanceArn)
        : await listActiveTasksOnManagedHost(this.deps, host.value.hostId);
    if (tasks.length === 0) return;
    const reason = lostHostReason(lostHostOf(host), this.deps.lostAfterMs);
    let stopped = 0;
    for (const t of tasks) {
      const r = await this.stopTaskOfLostHost(t.key, hostKey, reason);
      if (r === 'host-back') break;
      if (r === 'stopped') stopped++;
    }
    if (stopped > 0) {
      this.log.warn(
        { host: hostKey, disconnectedForMs, tasks: stopped, lostAfterMs: this.deps.lostAfterMs },
        'host lost: its tasks are marked STOPPED',
      );
    }
  }

  /** Marks one task STOPPED and gives its reservation back to the host, in one transaction. */
  private async stopTaskOfLostHost(
    taskKey: string,
    hostKey: string,
    reason: string,
  ): Promise<TaskStopResult> {
    const kind = hostKindOfKey(hostKey)!;
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const [task, hostRec] = await this.deps.store.getMany<unknown>([taskKey, hostKey]);
      if (!hostRec) return 'host-back';
      const host = hostOf(kind, hostRec.value);
      if (this.decide(host).kind !== 'lost') return 'host-back';
      if (!task) return 'skipped';
      const taskValue = task.value as TaskRecord;
      if (hostKeyOfTask(taskValue)?.key !== hostKey) return 'skipped';
      const now = this.deps.clock.now();
      const outcome = computeLostTask(taskValue, { now, reason });
      if (!outcome) return 'skipped';
      const hostNext = hostAfterTaskChange(host, outcome.hostChange, now);
      const r = await this.deps.store.txn(
        [
          { key: taskKey, version: task.version },
          { key: hostKey, version: hostRec.version },
        ],
        [
          { kind: 'put', key: taskKey, value: outcome.task },
          { kind: 'put', key: hostKey, value: hostNext },
        ],
      );
      if (r.succeeded) {
        this.log.info(
          {
            taskArn: taskValue.taskArn,
            host: hostKey,
            released: outcome.hostChange.release !== undefined,
            attempt,
          },
          'task on a lost host marked STOPPED',
        );
        return 'stopped';
      }
    }
    throw new ConflictError(taskKey, MAX_COMMIT_ATTEMPTS);
  }
}
