// Host addresses for the task metadata server: making 169.254.170.2 a local address so that
// containers reach it through their default route (the host), and finding a bridge address to
// fall back on when that is not possible.
//
// The address goes on `lo` as a /32: the host then accepts packets for it arriving from any
// bridge (Linux answers for every local address on every interface), and nothing is announced on
// the physical network. It is left in place on shutdown: it is harmless, and another agent on the
// same host may be starting up and counting on it.
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';

/** How long `ip addr add` may take before the agent gives up and falls back. */
const IP_COMMAND_TIMEOUT_MS = 5_000;

export function isLocalAddress(ip: string): boolean {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.address === ip) return true;
  }
  return false;
}

export type EnsureAddressResult = { ok: true; added: boolean } | { ok: false; reason: string };

/** Adds `ip`/32 to the loopback interface unless some interface already has it. Never throws. */
export async function ensureHostAddress(ip: string): Promise<EnsureAddressResult> {
  if (isLocalAddress(ip)) return { ok: true, added: false };
  if (process.platform !== 'linux') return { ok: false, reason: `adding ${ip} needs Linux's iproute2` };
  const r = await new Promise<{ code: number | string | null; stderr: string }>((resolve) => {
    execFile(
      'ip',
      ['addr', 'add', `${ip}/32`, 'dev', 'lo'],
      { timeout: IP_COMMAND_TIMEOUT_MS },
      (err, _stdout, stderr) => {
        const code = err ? ((err as NodeJS.ErrnoException).code ?? 1) : 0;
        resolve({ code, stderr: String(stderr || (err ? err.message : '')).trim() });
      },
    );
  });
  if (r.code === 0) return { ok: true, added: true };
  // Another agent added it between our check and our call.
  if (/File exists/i.test(r.stderr) || isLocalAddress(ip)) return { ok: true, added: false };
  if (r.code === 'ENOENT') return { ok: false, reason: "the 'ip' command (iproute2) is not installed" };
  return { ok: false, reason: `ip addr add ${ip}/32 dev lo failed: ${r.stderr || `exit ${String(r.code)}`}` };
}

/**
 * The IPv4 address of Docker's default bridge on this host (docker0), if there is one. Node lists
 * only interfaces that are up and running, and docker0 has no carrier while no container uses it,
 * so `ip` is asked when Node does not see it.
 */
export async function dockerBridgeAddress(): Promise<string | undefined> {
  const seen = (networkInterfaces()['docker0'] ?? []).find((a) => a.family === 'IPv4' && !a.internal);
  if (seen) return seen.address;
  if (process.platform !== 'linux') return undefined;
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['-4', '-o', 'addr', 'show', 'dev', 'docker0'],
      { timeout: IP_COMMAND_TIMEOUT_MS },
      (err, stdout) => {
        if (err) return resolve(undefined);
        resolve(/\binet (\d+\.\d+\.\d+\.\d+)\//.exec(String(stdout))?.[1]);
      },
    );
  });
}
