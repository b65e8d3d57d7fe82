// Task volumes as Docker sees them. Pure.
//   host.sourcePath                     → a bind mount of that host directory (not on FARGATE)
//   no host path, no docker config      → a Docker volume owned by the task (`berth-<taskId>-<name>`)
//   dockerVolumeConfiguration scope task   → the same, with the configuration's driver, options, labels
//   dockerVolumeConfiguration scope shared → the volume named as the task volume, shared by tasks;
//                                            created when autoprovision is set, else it must exist
//   EFS / FSx                           → refused: this agent cannot mount them
import type { Volume } from '../../generated/ecs/types.js';
import type { VolumeSpec } from '../runtime/container-runtime.js';
import { CannotCreateContainerError } from '../runtime/errors.js';
import { LABEL_TASK_ARN } from './labels.js';
import { ownedVolumeNames } from './task-state.js';
import type { AgentTask } from '../../domain/agent-protocol.js';

export type VolumeSource = { type: 'bind' | 'volume'; source: string };

export interface VolumePlan {
  /** Task volume name → what a mount point of it mounts. */
  sources: Record<string, VolumeSource>;
  /** Volumes to create before the containers (task-owned ones and autoprovisioned shared ones). */
  create: VolumeSpec[];
  /** Shared volumes that must already exist. */
  mustExist: string[];
}

function unsupported(v: Volume, what: string): CannotCreateContainerError {
  return new CannotCreateContainerError(
    `volume '${v.name ?? ''}': ${what} volumes are not supported by this agent`,
    {
      kind: 'invalid',
      retriable: false,
    },
  );
}

export function planVolumes(task: AgentTask): VolumePlan {
  const owned = ownedVolumeNames(task);
  const plan: VolumePlan = { sources: {}, create: [], mustExist: [] };
  for (const v of task.taskDefinition.volumes ?? []) {
    const name = v.name ?? '';
    if (name === '') continue;
    if (v.efsVolumeConfiguration) throw unsupported(v, 'EFS');
    if (v.fsxWindowsFileServerVolumeConfiguration) throw unsupported(v, 'FSx for Windows File Server');
    if (v.host?.sourcePath) {
      if (task.launchType === 'FARGATE') {
        throw new CannotCreateContainerError(`volume '${name}': host volumes are not supported on FARGATE`, {
          kind: 'invalid',
          retriable: false,
        });
      }
      plan.sources[name] = { type: 'bind', source: v.host.sourcePath };
      continue;
    }
    const dvc = v.dockerVolumeConfiguration;
    const shared = dvc?.scope === 'shared';
    const dockerName = shared ? name : owned[name];
    if (dockerName === undefined) continue;
    plan.sources[name] = { type: 'volume', source: dockerName };
    const spec: VolumeSpec = {
      name: dockerName,
      ...(dvc?.driver ? { driver: dvc.driver } : {}),
      ...(dvc?.driverOpts ? { driverOptions: { ...dvc.driverOpts } } : {}),
      labels: { ...(dvc?.labels ?? {}), ...(shared ? {} : { [LABEL_TASK_ARN]: task.taskArn }) },
    };
    if (!shared || dvc?.autoprovision === true) plan.create.push(spec);
    else plan.mustExist.push(dockerName);
  }
  return plan;
}
