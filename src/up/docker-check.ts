// `berth up` needs a Docker engine before anything else starts: find it (ping its socket) or say
// exactly how to get one, rather than letting the agent retry against nothing.
import { DockerRuntime } from '../agent/runtime/docker-runtime.js';
import type { ContainerRuntime } from '../agent/runtime/container-runtime.js';

export type DockerCheck = { ok: true; version: string } | { ok: false; reason: string };

/** Pings the engine and reads its version. Never throws. */
export async function checkDocker(
  socketPath: string,
  runtime: Pick<ContainerRuntime, 'ping' | 'version'> = new DockerRuntime({
    socketPath,
    timeouts: { pingMs: 3_000 },
  }),
): Promise<DockerCheck> {
  try {
    await runtime.ping();
    const v = await runtime.version();
    return { ok: true, version: v.version };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** What to print when there is no engine: the reason and the commands that fix it. */
export function dockerMissingMessage(socketPath: string, reason: string): string {
  return [
    `berth up: no Docker engine answers at ${socketPath}`,
    `  (${reason})`,
    '',
    'Berth runs tasks as Docker containers on this machine. To get an engine on Debian or Ubuntu:',
    '',
    '  sudo apt-get install -y docker.io',
    '  sudo systemctl start docker      # or, without systemd: sudo dockerd >/var/log/dockerd.log 2>&1 &',
    '',
    'then run `berth up` again (as root, or as a member of the docker group).',
    'Another engine: `berth up --docker-socket /path/to/docker.sock`.',
  ].join('\n');
}
