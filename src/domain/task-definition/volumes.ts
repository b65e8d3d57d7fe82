// Task volumes and how containers use them: volume names are unique within the task, every
// mountPoint names a declared volume, and volumesFrom names another container of the task.
import type { ContainerDefinition, Volume } from '../../generated/ecs/types.js';
import { clientError } from '../errors.js';
import { NAME_PATTERN, NAME_RULE } from './validate.js';

export function validateVolumes(
  volumes: readonly Volume[],
  containers: readonly ContainerDefinition[],
): void {
  const names = new Set<string>();
  for (const [i, v] of volumes.entries()) {
    if (v.name === undefined || v.name === '')
      throw clientError(`volumes[${i}].name is required and cannot be empty.`);
    if (!NAME_PATTERN.test(v.name)) throw clientError(`Volume name '${v.name}' is invalid: ${NAME_RULE}`);
    if (names.has(v.name))
      throw clientError(
        `Duplicate volume name '${v.name}': volume names must be unique in a task definition.`,
      );
    names.add(v.name);
  }
  const containerNames = new Set(containers.map((c) => c.name));
  for (const c of containers) {
    const name = c.name ?? '';
    for (const mp of c.mountPoints ?? []) {
      if (mp.sourceVolume === undefined || mp.sourceVolume === '') {
        throw clientError(`Invalid mountPoint in container '${name}': sourceVolume is required.`);
      }
      if (!names.has(mp.sourceVolume)) {
        throw clientError(
          `Invalid mountPoint in container '${name}': sourceVolume '${mp.sourceVolume}' is not a volume of this task definition.`,
        );
      }
      if (mp.containerPath === undefined || mp.containerPath === '') {
        throw clientError(
          `Invalid mountPoint in container '${name}': containerPath is required for volume '${mp.sourceVolume}'.`,
        );
      }
    }
    for (const vf of c.volumesFrom ?? []) {
      const source = vf.sourceContainer;
      if (source === undefined || source === '') {
        throw clientError(`Invalid volumesFrom in container '${name}': sourceContainer is required.`);
      }
      if (source === name)
        throw clientError(
          `Invalid volumesFrom in container '${name}': a container cannot mount its own volumes.`,
        );
      if (!containerNames.has(source)) {
        throw clientError(
          `Invalid volumesFrom in container '${name}': no container named '${source}' in this task definition.`,
        );
      }
    }
  }
}
