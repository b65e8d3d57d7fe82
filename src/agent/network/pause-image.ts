// The `berth/pause` image that holds an awsvpc task's network namespace. Made at agent start when
// missing, by importing a one-file root filesystem (the program of pause-binary.ts at /pause):
// no registry, no build, no base image. Docker's import API is not part of the ContainerRuntime
// seam, so the import goes through dockerode directly (ImageImporter); with a fake runtime, tests
// add the image themselves.
import { Readable } from 'node:stream';
import Dockerode from 'dockerode';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { buildElf, elfMachineFor } from './pause-binary.js';

/** Bump the tag when the program changes, so hosts import the new one. */
export const PAUSE_IMAGE = 'berth/pause:1';
export const PAUSE_ENTRYPOINT = ['/pause'];

export interface ImageImporter {
  /** Imports a root filesystem tarball as `ref` (repo:tag). */
  importRootfs(tar: Buffer, ref: string): Promise<void>;
}

export class PauseImageError extends Error {
  override readonly name = 'PauseImageError';
}

/** Imports through the engine's `POST /images/create?fromSrc=-`. */
export class DockerImageImporter implements ImageImporter {
  private readonly docker: Dockerode;
  constructor(socketPath: string) {
    this.docker = new Dockerode({ socketPath });
  }

  async importRootfs(tar: Buffer, ref: string): Promise<void> {
    const colon = ref.lastIndexOf(':');
    const repo = ref.slice(0, colon);
    const tag = ref.slice(colon + 1);
    const stream = (await this.docker.importImage(Readable.from([tar]), {
      repo,
      tag,
    })) as NodeJS.ReadableStream;
    const output = await new Promise<{ error?: string; errorDetail?: { message?: string } }[]>(
      (resolve, reject) =>
        this.docker.modem.followProgress(stream, (err: Error | null, res: unknown[]) =>
          err ? reject(err) : resolve(res as { error?: string }[]),
        ),
    );
    const failure = output.find((o) => o.error || o.errorDetail);
    if (failure)
      throw new PauseImageError(`importing ${ref} failed: ${failure.errorDetail?.message ?? failure.error}`);
  }
}

/** A ustar archive of regular files (enough for a one-file root filesystem). */
export function tarFiles(files: { name: string; mode: number; data: Buffer }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    const octal = (offset: number, length: number, value: number): void => {
      h.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
    };
    octal(100, 8, f.mode);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, f.data.length);
    octal(136, 12, 0);
    h.fill(' ', 148, 156);
    h.write('0', 156, 'latin1');
    h.write('ustar\u000000', 257, 8, 'latin1');
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    blocks.push(h, f.data);
    const pad = (512 - (f.data.length % 512)) % 512;
    if (pad > 0) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/**
 * Makes PAUSE_IMAGE present: nothing to do when the engine has it; otherwise it is imported for
 * the engine's architecture. Returns the image id.
 */
export async function ensurePauseImage(
  runtime: ContainerRuntime,
  importer: ImageImporter | undefined,
): Promise<string> {
  const present = await runtime.inspectImage(PAUSE_IMAGE);
  if (present) return present.id;
  if (!importer) throw new PauseImageError(`${PAUSE_IMAGE} is missing and this runtime cannot import images`);
  const arch = (await runtime.version()).arch;
  const machine = elfMachineFor(arch);
  if (!machine) throw new PauseImageError(`no pause program for the engine's architecture '${arch}'`);
  await importer.importRootfs(
    tarFiles([{ name: 'pause', mode: 0o755, data: buildElf(machine) }]),
    PAUSE_IMAGE,
  );
  const made = await runtime.inspectImage(PAUSE_IMAGE);
  if (!made) throw new PauseImageError(`${PAUSE_IMAGE} is still missing after its import`);
  return made.id;
}
