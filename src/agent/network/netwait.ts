// Single-container awsvpc tasks without a pause container: the container itself gets a namespace
// Docker leaves alone and the agent plumbs it right after `docker start`. So that the task's
// program never runs before its network exists, the container starts `netwait` (a 2.3 KB static
// program, netwait/netwait.c) which waits for a ready file the agent writes once the interface is
// up, then execs the task's own command, looked up in PATH as Docker would.
//
// Why: each container costs the engine about as much as another (a shim, runc, cgroups), so a
// pause container doubles what a one-container task costs to start. Tasks with several
// containers, or pid/ipc mode `task`, keep the pause container: their containers need the
// namespace to exist before any of them starts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentTask } from '../../domain/agent-protocol.js';
import type { ContainerDefinition } from '../../generated/ecs/types.js';
import type { ImageCommand } from '../runtime/container-runtime.js';
import { CannotCreateContainerError } from '../runtime/errors.js';
import { NETWAIT_X86_64_BASE64 } from './netwait-binary.js';
import { installProgram, programFor } from './programs.js';

/** Where containers see the program and the directory of the ready file. */
export const NETWAIT_IN_CONTAINER = '/.berth/netwait';
export const READY_DIR_IN_CONTAINER = '/.berth/net';
export const READY_FILE_NAME = 'ready';

/** The program for this machine, if there is one (x86_64 Linux only for now). */
export function netwaitProgram(arch?: string, platform?: string): Buffer | undefined {
  return programFor(NETWAIT_X86_64_BASE64, arch, platform);
}

/** Writes the program into `dir` (read-only, executable) unless it is there already; returns its path. */
export function installNetwait(dir: string, program: Buffer): Promise<string> {
  return installProgram(dir, 'netwait', program);
}

/** Whether a task can hold its network in its only container. */
export function canHoldOwnNetwork(task: AgentTask): boolean {
  const td = task.taskDefinition;
  return (td.containerDefinitions?.length ?? 0) === 1 && td.pidMode !== 'task' && td.ipcMode !== 'task';
}

/**
 * What Docker would run for this container definition on this image: the definition's
 * entryPoint replaces the image's (and then drops the image's command), its command replaces the
 * image's command.
 */
export function effectiveArgv(def: ContainerDefinition, image: ImageCommand): string[] {
  const nonEmpty = (xs: string[] | undefined): xs is string[] => xs !== undefined && xs.length > 0;
  const argv = nonEmpty(def.entryPoint)
    ? [...def.entryPoint, ...(def.command ?? [])]
    : [...(image.entryPoint ?? []), ...(nonEmpty(def.command) ? def.command : (image.command ?? []))];
  if (argv.length === 0) {
    // Docker's own words when there is nothing to run.
    throw new CannotCreateContainerError('No command specified', { kind: 'invalid', retriable: false });
  }
  return argv;
}

/** The entrypoint that waits for the network, then runs `argv`. */
export function netwaitEntryPoint(argv: string[]): string[] {
  return [NETWAIT_IN_CONTAINER, `${READY_DIR_IN_CONTAINER}/${READY_FILE_NAME}`, ...argv];
}

/** Tells the container's netwait that its network is ready. */
export function markNetworkReady(readyDir: string): void {
  // Synchronous: an empty file, and the task's program is waiting on it.
  writeFileSync(join(readyDir, READY_FILE_NAME), '');
}
