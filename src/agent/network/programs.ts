// The agent's small programs (netwait, netplumb): their bytes are committed as base64
// (scripts/gen-programs.sh builds them) and written into the agent's data dir on first use.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The program's bytes where it is built for this machine: x86_64 Linux only for now. */
export function programFor(
  base64: string,
  arch: string = process.arch,
  platform: string = process.platform,
): Buffer | undefined {
  if (platform !== 'linux' || arch !== 'x64') return undefined;
  return Buffer.from(base64, 'base64');
}

/**
 * Writes `program` as `<dir>/<name>` (read-only, executable) unless it is there already, through
 * a temporary file and a rename: a running copy is never overwritten in place. Returns its path.
 */
export async function installProgram(dir: string, name: string, program: Buffer): Promise<string> {
  const path = join(dir, name);
  const current = await readFile(path).catch(() => undefined);
  if (current?.equals(program)) return path;
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, program);
  await chmod(tmp, 0o555);
  await rename(tmp, path);
  return path;
}
