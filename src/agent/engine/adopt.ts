// Re-adoption after an agent restart. The engine lists every container that carries this host's
// label and sorts it here (pure):
//   - containers of tasks the saved state knows: their runners re-inspect them (resync) before
//     doing anything, so nothing running is restarted or created twice, and whatever changed
//     while the agent was away (a container that exited) is reported;
//   - containers of tasks the state does not know (the state was lost, or a create raced a
//     crash before the task was saved): kept aside until the control plane's first full sync.
//     A task it still assigns to this host takes them over (claimContainers); the rest are
//     removed, so nothing is left orphaned.
import type { ContainerSummary } from '../runtime/container-runtime.js';
import { LABEL_CONTAINER_NAME, LABEL_METADATA_ID, LABEL_PAUSE, LABEL_TASK_ARN } from './labels.js';
import type { TaskState } from './task-state.js';

export interface AdoptionPlan {
  /** Task ARN → its containers on the engine, for tasks in the saved state. */
  known: Map<string, ContainerSummary[]>;
  /** Task ARN → containers of tasks the saved state does not know. */
  unclaimed: Map<string, ContainerSummary[]>;
}

export function planAdoption(
  savedTasks: ReadonlySet<string>,
  containers: readonly ContainerSummary[],
): AdoptionPlan {
  const plan: AdoptionPlan = { known: new Map(), unclaimed: new Map() };
  for (const c of containers) {
    const arn = c.labels[LABEL_TASK_ARN];
    if (arn === undefined) continue;
    const into = savedTasks.has(arn) ? plan.known : plan.unclaimed;
    const list = into.get(arn) ?? [];
    list.push(c);
    into.set(arn, list);
  }
  return plan;
}

/**
 * Gives a freshly made task state the containers found for it on the engine: each container
 * takes the Docker name, id and metadata id it already has, the pause container its name, and the
 * state is marked for a resync so the runner learns their status before acting.
 * Returns the containers that match nothing in the task (to be removed).
 */
export function claimContainers(state: TaskState, found: readonly ContainerSummary[]): ContainerSummary[] {
  const extra: ContainerSummary[] = [];
  const taken = new Set<string>();
  for (const s of found) {
    if (s.labels[LABEL_PAUSE] !== undefined) {
      if (state.network && !taken.has('#pause')) {
        state.network.pauseName = s.name;
        state.network.pauseDockerId = s.id;
        taken.add('#pause');
      } else extra.push(s);
      continue;
    }
    const name = s.labels[LABEL_CONTAINER_NAME];
    const c = state.containers.find((x) => x.name === name);
    if (!c || taken.has(c.name)) {
      extra.push(s);
      continue;
    }
    taken.add(c.name);
    c.dockerName = s.name;
    c.dockerId = s.id;
    const metadataId = s.labels[LABEL_METADATA_ID];
    if (metadataId) c.metadataId = metadataId;
  }
  if (taken.size > 0) state.needsResync = true;
  return extra;
}
