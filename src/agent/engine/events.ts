// The vocabulary of a task runner: the actions it may take (computed by transitions.ts) and the
// events that change what it knows (applied by reduce.ts). Actions are I/O; events are facts.
import type { AgentTask } from '../../domain/agent-protocol.js';
import type { ContainerEvent, ContainerState, ImageCommand } from '../runtime/container-runtime.js';
import type { ErrorInfo, StopCode } from './task-state.js';

export type Action =
  /** Re-inspect every container of the task (after a restart or an engine outage). */
  | { kind: 'resync' }
  /** awsvpc: allocate an address and start the pause container that holds it. */
  | { kind: 'setup-network' }
  | { kind: 'create-volumes' }
  | { kind: 'pull'; container: string }
  | { kind: 'create'; container: string }
  | { kind: 'start'; container: string }
  | { kind: 'stop'; container: string; timeoutSeconds: number }
  /** awsvpc: stop and remove the pause container; the address goes back to the pool. */
  | { kind: 'teardown-network' }
  /** Remove the stopped task's containers and volumes; the task is then forgotten. */
  | { kind: 'cleanup' };

export type ActionKind = Action['kind'];

/** What an action holds busy: a container name, or one of the task-level keys. */
export function busyKeyOf(a: Action): string {
  switch (a.kind) {
    case 'pull':
    case 'create':
    case 'start':
    case 'stop':
      return a.container;
    case 'setup-network':
    case 'teardown-network':
      return '#network';
    case 'create-volumes':
      return '#volumes';
    case 'cleanup':
      return '#cleanup';
    case 'resync':
      return '#resync';
    default: {
      const never: never = a;
      throw new Error(`unknown action ${JSON.stringify(never)}`);
    }
  }
}

export type RunnerEvent =
  /** The control plane's view of the task (a newer version, or the same again). */
  | { type: 'desired'; task: AgentTask }
  /** The control plane no longer lists the task for this host. */
  | { type: 'unassigned' }
  /** The agent itself wants the task stopped (e.g. a pause container died). */
  | { type: 'stop'; stopCode?: StopCode; reason: string }
  | { type: 'engine'; event: ContainerEvent }
  /** `target`: a container name or PAUSE_TARGET; `state` undefined when the container no longer exists. */
  | { type: 'inspected'; target: string; dockerId?: string; state?: ContainerState }
  | { type: 'resynced' }
  /** Events may have been missed (the engine came back): re-inspect before acting. */
  | { type: 'resync-needed' }
  | { type: 'began'; action: Action }
  | { type: 'pulled'; container: string; imageId: string; imageCommand?: ImageCommand }
  | {
      type: 'created';
      container: string;
      dockerId: string;
      labels: Record<string, string>;
      limits: { cpu?: number; memory?: number };
      logDriver?: string;
      logOptions?: Record<string, string>;
    }
  | { type: 'started'; container: string; state?: ContainerState }
  | { type: 'stopped'; container: string; state?: ContainerState }
  | { type: 'address'; ip: string; prefixLength: number; gateway: string; subnetCidr: string }
  | {
      type: 'network-ready';
      /** Unset when the task's only container holds its namespace (ownNetwork). */
      pauseDockerId?: string;
      ownNetwork?: true;
      macAddress?: string;
      dnsFilesDir?: string;
    }
  | { type: 'network-released' }
  | { type: 'volumes-ready' }
  | { type: 'cleaned' }
  /** Nothing new, but look again (e.g. a report was acknowledged). */
  | { type: 'tick' }
  | { type: 'failed'; action: Action; error: ErrorInfo };
