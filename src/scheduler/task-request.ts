// What the engine judges instances by for a task, beyond the reservation (cpu, memory, host
// ports: src/domain/task/resources.ts): the GPUs its containers ask for, the task definition's
// requiresAttributes, and the group spread and distinctInstance count. Pure.
//
// GPUs: TaskReservation (src/domain/task/resources.ts) holds cpu, memory and ports; a task's GPU
// count is the sum of its containers' `resourceRequirements` of type GPU, and the ids placement
// gives the task are shared out over those containers in definition order (gpuIdsPerContainer),
// which is what the task record shows as `containers[].gpuIds`.
import type { Attribute, ContainerDefinition } from '../generated/ecs/types.js';

/** GPUs each container asks for (resourceRequirements type GPU), by container name; only those asking. */
export function gpuRequirements(
  containers: readonly Pick<ContainerDefinition, 'name' | 'resourceRequirements'>[],
): { container: string; count: number }[] {
  const out: { container: string; count: number }[] = [];
  for (const c of containers) {
    let count = 0;
    for (const r of c.resourceRequirements ?? []) {
      if (r.type !== 'GPU') continue;
      const n = Number(r.value);
      if (Number.isInteger(n) && n > 0) count += n;
    }
    if (count > 0) out.push({ container: c.name ?? '', count });
  }
  return out;
}

/** The GPU ids each asking container gets, from the ids placement gave the task (in order). */
export function gpuIdsPerContainer(
  requirements: readonly { container: string; count: number }[],
  gpuIds: readonly string[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let at = 0;
  for (const r of requirements) {
    out.set(r.container, gpuIds.slice(at, at + r.count));
    at += r.count;
  }
  return out;
}

/** The task's group as placement counts it: the given one, else ECS's `family:<family>`. */
export function placementGroupOf(group: string | undefined, family: string): string {
  return group !== undefined && group !== '' ? group : `family:${family}`;
}

/** requiresAttributes as the engine checks them: a name, and a value when one is given. */
export function requiredAttributesOf(
  requiresAttributes: readonly Attribute[] | undefined,
): { name: string; value?: string }[] {
  return (requiresAttributes ?? []).map((a) =>
    a.value !== undefined && a.value !== null ? { name: a.name, value: a.value } : { name: a.name },
  );
}
