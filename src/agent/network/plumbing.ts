// awsvpc interfaces plumbed by the agent, as the ECS agent does with its CNI plugins: the pause
// container starts with a network namespace of its own that Docker leaves alone (only loopback),
// and the agent puts a veth pair between that namespace and the task bridge, with the task's
// address, MAC and default route.
//
// Why not let Docker attach the pause container to the bridge network: Docker 28 spends about
// 90 ms of CPU per sandbox (it re-executes its own binary to set IPv6 sysctls in the new
// namespace) and the sandboxes of one engine are made one at a time, so a burst of tasks queues
// behind it. A namespace made by runc and plumbed with two `ip` calls costs a few milliseconds
// and runs in parallel. See docs/api-behaviour.md ("awsvpc on a host").
//
// The host end is named after the address (`bv` + 8 hex digits), so a leftover from a crash is
// found and replaced; it disappears by itself with the namespace when the pause container goes.
//
// Two plumbers leave the same end state. On x86_64 Linux the agent uses NetlinkPlumber
// (netplumb.ts): one long-lived static program that speaks rtnetlink, about 0.6 ms of CPU per
// task, nearly all of it the kernel's. Elsewhere it uses IpCommandPlumber below, run in a child
// process by ProcessPlumber (plumber-process.ts): an `ip` and an `nsenter` + `ip` per task, about
// 8 ms of CPU, which a burst of tasks on a small host waits for.
import { execFile } from 'node:child_process';
import { ipToInt } from './ipam.js';

export interface AttachRequest {
  /** A process in the namespace to plumb (the pause container's). */
  pid: number;
  /** The Linux bridge of the task network (the host holds the gateway address on it). */
  bridge: string;
  ip: string;
  prefixLength: number;
  gateway: string;
}

export interface NamespacePlumber {
  /** Gives the namespace of `pid` an `eth0` on the bridge with the task's address; returns its MAC. */
  attach(req: AttachRequest): Promise<{ macAddress: string }>;
}

/** Host-side interface name: at most 15 characters (IFNAMSIZ - 1), one per address. */
export function hostInterfaceName(ip: string): string {
  return `bv${ipToInt(ip).toString(16).padStart(8, '0')}`;
}

/** Docker's convention: 02:42 then the four bytes of the address, so a MAC names its task. */
export function macAddressFor(ip: string): string {
  const n = ipToInt(ip);
  const bytes = [0x02, 0x42, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export interface AttachCommands {
  /** `ip -batch` lines run in the host's namespace. */
  host: string[];
  /** `ip -batch` lines run inside the task's namespace. */
  inside: string[];
}

export function attachCommands(req: AttachRequest): AttachCommands {
  const hostIf = hostInterfaceName(req.ip);
  const mac = macAddressFor(req.ip);
  return {
    host: [
      `link add ${hostIf} type veth peer name eth0 address ${mac} netns ${req.pid}`,
      `link set ${hostIf} master ${req.bridge} up`,
    ],
    inside: [
      `addr add ${req.ip}/${req.prefixLength} dev eth0`,
      'link set eth0 up',
      `route add default via ${req.gateway} dev eth0`,
    ],
  };
}

export class PlumbingError extends Error {
  override readonly name = 'PlumbingError';
}

const COMMAND_TIMEOUT_MS = 10_000;

interface RunResult {
  code: number | string;
  stderr: string;
}

function run(file: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: COMMAND_TIMEOUT_MS }, (err, _stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException).code ?? 1) : 0;
      resolve({ code, stderr: String(stderr || (err ? err.message : '')).trim() });
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

/**
 * The real plumber: iproute2's `ip` and util-linux's `nsenter` (the agent runs as root), two
 * processes per task. Run it in a process of its own (plumber-process.ts): forking from the
 * agent's big process costs milliseconds of its event loop per command.
 */
export class IpCommandPlumber implements NamespacePlumber {
  async attach(req: AttachRequest): Promise<{ macAddress: string }> {
    const cmds = attachCommands(req);
    const host = cmds.host.join('\n') + '\n';
    let r = await run('ip', ['-batch', '-'], host);
    if (r.code !== 0 && /exists/i.test(r.stderr)) {
      // Left by a crash between plumbing and the namespace's end: take the name over.
      await run('ip', ['link', 'del', hostInterfaceName(req.ip)]);
      r = await run('ip', ['-batch', '-'], host);
    }
    if (r.code !== 0) throw new PlumbingError(`${cmds.host.join('; ')}: ${r.stderr || `exit ${r.code}`}`);
    const inside = await run(
      'nsenter',
      [`--net=/proc/${req.pid}/ns/net`, 'ip', '-batch', '-'],
      cmds.inside.join('\n') + '\n',
    );
    if (inside.code !== 0)
      throw new PlumbingError(
        `configuring eth0 in the task's namespace: ${inside.stderr || `exit ${inside.code}`}`,
      );
    return { macAddress: macAddressFor(req.ip) };
  }
}

/**
 * Whether this process may plumb namespaces at all: Linux and root. Returns the reason when not
 * (the agent then lets Docker attach pause containers).
 */
export function plumbingForbiddenReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'the agent is not running as root';
  return undefined;
}

/**
 * Whether ProcessPlumber can work here: plumbing allowed, and both commands present. Returns the
 * reason when not. (The netplumb program needs neither command.)
 */
export async function processPlumbingUnavailableReason(): Promise<string | undefined> {
  const forbidden = plumbingForbiddenReason();
  if (forbidden !== undefined) return forbidden;
  const ip = await run('ip', ['-V']);
  if (ip.code !== 0) return "the 'ip' command (iproute2) is not available";
  const ns = await run('nsenter', ['--version']);
  if (ns.code !== 0) return "the 'nsenter' command (util-linux) is not available";
  return undefined;
}
