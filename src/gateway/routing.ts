// Which tasks go to which agent session, and when a change is worth a message. Pure functions
// over task records and a session's memory of what it already sent.
import { parseArn, type Scope } from '../domain/arn.js';
import type { TaskRecord } from '../domain/records.js';
import { keys } from '../store/keys.js';

/** What a session serves: the host, its accepted container instances, and whether tasks may name it as managed host. */
export interface HostTarget {
  hostId: string;
  instanceArns: ReadonlySet<string>;
}

/** A task key `/<account>/<region>/tasks/<cluster>/<id>` split up; undefined for any other key. */
export function parseTaskKey(key: string): { scope: Scope; cluster: string; id: string } | undefined {
  const s = key.split('/');
  if (s.length !== 6 || s[0] !== '' || s[3] !== 'tasks') return undefined;
  const [, account, region, , cluster, id] = s as [string, string, string, string, string, string];
  if (!account || !region || !cluster || !id) return undefined;
  return { scope: { account, region }, cluster, id };
}

/** The store key of a container instance from its (long-form) ARN; undefined when the ARN is not one. */
export function containerInstanceKeyOf(
  arn: string,
): { scope: Scope; cluster: string; key: string } | undefined {
  const p = parseArn(arn);
  if (!p || p.service !== 'ecs' || p.resourceType !== 'container-instance' || p.parts.length !== 2)
    return undefined;
  const [cluster, id] = p.parts as [string, string];
  if (!cluster || !id || !p.account || !p.region) return undefined;
  const scope = { account: p.account, region: p.region };
  return { scope, cluster, key: keys.containerInstance(scope, cluster, id) };
}

/** EC2/EXTERNAL tasks are routed by container instance, managed (FARGATE) tasks by host id. */
export function isTaskOnHost(
  task: Pick<TaskRecord, 'containerInstanceArn' | 'berth'>,
  target: HostTarget,
): boolean {
  if (task.containerInstanceArn !== undefined && target.instanceArns.has(task.containerInstanceArn))
    return true;
  return task.berth?.managedHostId !== undefined && task.berth.managedHostId === target.hostId;
}

/** What a session remembers of one task. */
export interface SentTask {
  /** Store version of the record last considered (sent, or seen stopped in a full sync). */
  version: number;
  desiredStatus: string;
  /**
   * Seen already STOPPED in the full sync and never sent: kept only so that an older change
   * still in the feed cannot bring the task back to the agent.
   */
  floor?: boolean;
}

export interface PushDecision {
  send: boolean;
  /** What the session remembers afterwards (undefined: forget the task). */
  next: SentTask | undefined;
}

/**
 * Whether a put (or delete, task undefined) of a task record at `version` is worth a `tasks`
 * message to a session that remembers `prev`. The agent cares about new tasks and desiredStatus;
 * a report only moves lastStatus and the like, so the agent's own reports are never echoed.
 * A task that reached STOPPED is forgotten: the agent saw it stop, and statuses never go back.
 */
export function decideTaskPush(
  prev: SentTask | undefined,
  task: Pick<TaskRecord, 'desiredStatus' | 'lastStatus'> | undefined,
  version: number,
  isForSession: boolean,
): PushDecision {
  if (prev && version <= prev.version) return { send: false, next: prev };
  if (!task || !isForSession) return { send: false, next: undefined };
  const stopped = task.lastStatus === 'STOPPED';
  const desiredStatus = task.desiredStatus ?? 'RUNNING';
  if (prev?.floor) return { send: false, next: prev };
  if (!prev)
    return stopped ? { send: false, next: undefined } : { send: true, next: { version, desiredStatus } };
  return {
    send: desiredStatus !== prev.desiredStatus,
    next: stopped ? undefined : { version, desiredStatus },
  };
}
