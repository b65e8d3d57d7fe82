// Container start-up ordering (`dependsOn`). The rules keep every declared order satisfiable:
// the target must exist and not be the container itself; COMPLETE/SUCCESS wait for the target to
// exit, which an essential target must never do (its exit stops the task); HEALTHY needs a health
// check to ever become true; and a cycle would leave every container in it waiting forever.
import type { ContainerCondition, ContainerDefinition } from '../../generated/ecs/types.js';
import { clientError } from '../errors.js';

export const CONTAINER_CONDITIONS: readonly ContainerCondition[] = [
  'START',
  'COMPLETE',
  'SUCCESS',
  'HEALTHY',
];

/** Throws ClientException naming the container, the dependency and the rule it breaks. */
export function validateDependsOn(containers: readonly ContainerDefinition[]): void {
  const byName = new Map(containers.map((c) => [c.name ?? '', c]));
  for (const c of containers) {
    const name = c.name ?? '';
    for (const dep of c.dependsOn ?? []) {
      const target = byName.get(dep.containerName);
      const what = `Invalid dependsOn in container '${name}' on '${dep.containerName}'`;
      if (!CONTAINER_CONDITIONS.includes(dep.condition)) {
        throw clientError(
          `${what}: condition '${dep.condition}' must be one of ${CONTAINER_CONDITIONS.join(', ')}.`,
        );
      }
      if (dep.containerName === name) throw clientError(`${what}: a container cannot depend on itself.`);
      if (!target)
        throw clientError(`${what}: no container named '${dep.containerName}' in this task definition.`);
      if ((dep.condition === 'COMPLETE' || dep.condition === 'SUCCESS') && target.essential !== false) {
        throw clientError(
          `${what}: condition ${dep.condition} is not allowed on an essential container; ` +
            `set essential=false on '${dep.containerName}' or use START or HEALTHY.`,
        );
      }
      if (dep.condition === 'HEALTHY' && target.healthCheck === undefined) {
        throw clientError(
          `${what}: condition HEALTHY requires '${dep.containerName}' to have a healthCheck.`,
        );
      }
    }
  }
  const cycle = findCycle(containers);
  if (cycle)
    throw clientError(`Invalid dependsOn: containers form a dependency cycle: ${cycle.join(' -> ')}.`);
}

/** A dependency cycle as a closed path of container names (first = last), or undefined. */
export function findCycle(containers: readonly ContainerDefinition[]): string[] | undefined {
  const edges = new Map(
    containers.map((c) => [c.name ?? '', (c.dependsOn ?? []).map((d) => d.containerName)]),
  );
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'visiting');
    path.push(n);
    for (const next of edges.get(n) ?? []) {
      if (!edges.has(next)) continue;
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of edges.keys()) {
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}
