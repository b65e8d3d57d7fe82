// Container ordering inside a task, as the ECS agent applies it:
//   create  after the containers it takes volumes from (volumesFrom) and links to exist
//   start   after its dependsOn conditions hold and the containers it links to run
//           START     the target has started (running, or ran and exited)
//           COMPLETE  the target ran and exited, whatever its exit code
//           SUCCESS   the target ran and exited with 0
//           HEALTHY   the target runs and its health check passes
//   stop    after every container that depends on it (dependsOn or link) has stopped, so a
//           sidecar outlives the containers that need it
// A condition that can no longer come true (its target stopped without starting, exited
// non-zero for SUCCESS, died before HEALTHY) makes the waiting container fail. Pure.
import type { ContainerDefinition } from '../../generated/ecs/types.js';
import type { KnownContainer, TaskState } from './task-state.js';
import { compareContainerKnown, containerDefinitions, networkModeOf } from './task-state.js';

export type Readiness = { ready: true } | { ready: false; impossible?: string };

const READY: Readiness = { ready: true };

/** Link targets: `name` or `name:alias`. */
export function linkTargets(def: ContainerDefinition): { name: string; alias: string }[] {
  return (def.links ?? []).map((l) => {
    const [name, alias] = l.split(':');
    return { name: name ?? '', alias: alias ?? name ?? '' };
  });
}

function hasStarted(c: KnownContainer): boolean {
  return c.known === 'RUNNING' || (c.known === 'STOPPED' && c.startedAt !== undefined);
}

function describe(c: KnownContainer): string {
  if (c.known !== 'STOPPED') return `is ${c.known.toLowerCase()}`;
  if (c.startedAt === undefined)
    return c.reason ? `stopped before starting (${c.reason})` : 'stopped before starting';
  return `exited with code ${c.exitCode ?? 'unknown'}`;
}

function definitionOf(state: TaskState, name: string): ContainerDefinition | undefined {
  return containerDefinitions(state.task).find((d) => d.name === name);
}

function containerOf(state: TaskState, name: string): KnownContainer | undefined {
  return state.containers.find((c) => c.name === name);
}

/** May `name` be created now? */
export function createReadiness(state: TaskState, name: string): Readiness {
  const def = definitionOf(state, name);
  if (!def) return READY;
  const needs = [
    ...(def.volumesFrom ?? []).map((v) => v.sourceContainer ?? ''),
    ...(networkModeOf(state.task) === 'bridge' ? linkTargets(def).map((l) => l.name) : []),
  ];
  for (const n of needs) {
    const t = containerOf(state, n);
    if (!t) continue;
    if (t.known === 'STOPPED' && t.dockerId === undefined) {
      return { ready: false, impossible: `container '${n}' it needs ${describe(t)}` };
    }
    if (compareContainerKnown(t.known, 'CREATED') < 0) return { ready: false };
  }
  return READY;
}

/** May `name` be started now? */
export function startReadiness(state: TaskState, name: string): Readiness {
  const def = definitionOf(state, name);
  if (!def) return READY;
  for (const dep of def.dependsOn ?? []) {
    const t = containerOf(state, dep.containerName);
    if (!t) continue;
    const why = `dependency on '${dep.containerName}' (${dep.condition}) cannot be met: '${dep.containerName}' ${describe(t)}`;
    switch (dep.condition) {
      case 'START':
        if (hasStarted(t)) continue;
        if (t.known === 'STOPPED') return { ready: false, impossible: why };
        return { ready: false };
      case 'COMPLETE':
        if (t.known === 'STOPPED' && t.startedAt !== undefined) continue;
        if (t.known === 'STOPPED') return { ready: false, impossible: why };
        return { ready: false };
      case 'SUCCESS':
        if (t.known === 'STOPPED' && t.startedAt !== undefined && t.exitCode === 0) continue;
        if (t.known === 'STOPPED') return { ready: false, impossible: why };
        return { ready: false };
      case 'HEALTHY':
        if (t.known === 'RUNNING' && t.health?.status === 'HEALTHY') continue;
        if (t.known === 'STOPPED') return { ready: false, impossible: why };
        return { ready: false };
      default: {
        const never: never = dep.condition;
        return { ready: false, impossible: `unknown dependsOn condition ${String(never)}` };
      }
    }
  }
  if (networkModeOf(state.task) === 'bridge') {
    for (const l of linkTargets(def)) {
      const t = containerOf(state, l.name);
      if (!t || t.known === 'RUNNING') continue;
      if (t.known === 'STOPPED') {
        return { ready: false, impossible: `link to '${l.name}' cannot be made: '${l.name}' ${describe(t)}` };
      }
      return { ready: false };
    }
  }
  return READY;
}

/** Containers that must stop before `name` may: those that depend on it or link to it. */
export function dependentsOf(state: TaskState, name: string): string[] {
  const out: string[] = [];
  for (const d of containerDefinitions(state.task)) {
    if (!d.name || d.name === name) continue;
    const viaDepends = (d.dependsOn ?? []).some((x) => x.containerName === name);
    const viaLink = linkTargets(d).some((l) => l.name === name);
    if (viaDepends || viaLink) out.push(d.name);
  }
  return out;
}

/** May `name` be stopped now (every container that needs it has stopped)? */
export function canStop(state: TaskState, name: string): boolean {
  return dependentsOf(state, name).every((n) => {
    const c = containerOf(state, n);
    return !c || c.known !== 'RUNNING';
  });
}
