// /etc/resolv.conf and /etc/hosts for the containers of a task whose namespace the agent plumbs
// (Docker writes these only for namespaces it networks itself). They follow what Docker writes
// for a container on a bridge network without its embedded DNS server: the host's resolvers
// minus loopback ones (unreachable from the task's namespace), Google's public resolvers when
// none is left, the task definition's dnsServers / dnsSearchDomains in place of the host's, and
// the task's own name, localhost and extraHosts in hosts. Containers on the `none` network get
// them too (see noneHostsFile): the agent asks Docker for a namespace it does not network at all.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What Docker falls back on when the host only has loopback resolvers. */
export const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

export interface ResolvInput {
  /** The host's /etc/resolv.conf, as text ('' when unreadable). */
  hostResolvConf: string;
  dnsServers?: string[];
  dnsSearchDomains?: string[];
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

export function resolvConf(input: ResolvInput): string {
  const nameservers: string[] = [];
  const search: string[] = [];
  const options: string[] = [];
  for (const raw of input.hostResolvConf.split('\n')) {
    const [key, ...rest] = raw
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (key === 'nameserver' && rest[0] && !isLoopback(rest[0])) nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') search.splice(0, search.length, ...rest);
    else if (key === 'options') options.push(...rest);
  }
  const servers = input.dnsServers?.length ? input.dnsServers : nameservers;
  const domains = input.dnsSearchDomains?.length ? input.dnsSearchDomains : search;
  const lines = (servers.length > 0 ? servers : FALLBACK_NAMESERVERS).map((s) => `nameserver ${s}`);
  if (domains.length > 0) lines.push(`search ${domains.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

export interface HostsInput {
  ip: string;
  hostname: string;
  extraHosts?: { hostname: string; ipAddress: string }[];
}

export function hostsFile(input: HostsInput): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${input.ip}\t${input.hostname}`,
    ...(input.extraHosts ?? []).map((h) => `${h.ipAddress}\t${h.hostname}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * /etc/hosts as Docker writes it for a container on the `none` network: localhost and the IPv6
 * names, no entry for the container's own name (it has no address), then the definition's
 * extraHosts.
 */
export function noneHostsFile(extraHosts: { hostname: string; ipAddress: string }[] = []): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...extraHosts.map((h) => `${h.ipAddress}\t${h.hostname}`),
  ];
  return lines.join('\n') + '\n';
}

export interface TaskDnsFiles {
  dir: string;
  resolvConf: string;
  hosts: string;
}

/**
 * The files' paths for a task (one directory per task under the agent's data directory). A task
 * id that is not a plain name is hex-encoded, so the directory cannot escape `baseDir`.
 */
export function taskDnsFilePaths(baseDir: string, taskId: string): TaskDnsFiles {
  const safe = /^[A-Za-z0-9_-]+$/.test(taskId) ? taskId : Buffer.from(taskId).toString('hex').slice(0, 64);
  const dir = join(baseDir, safe);
  return { dir, ...dnsFilesIn(dir) };
}

/** The files inside a task's directory. */
export function dnsFilesIn(dir: string): { resolvConf: string; hosts: string } {
  return { resolvConf: join(dir, 'resolv.conf'), hosts: join(dir, 'hosts') };
}

/**
 * Writes the task's two files (`hosts`: what hostsFile makes of it, or the text itself). Off the event loop (libuv's threads): a task with its own
 * namespace writes them while the engine creates its container (task-runner.ts), so 50 tasks
 * starting at once no longer hold back every task's first engine call with ten file-system calls
 * each on the loop. Docker needs a bind mount's source at start, not at create.
 */
export async function writeTaskDnsFiles(
  paths: TaskDnsFiles,
  resolv: Omit<ResolvInput, 'hostResolvConf'>,
  hosts: HostsInput | string,
): Promise<void> {
  let hostResolvConf = '';
  try {
    hostResolvConf = await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    // No resolv.conf on the host: Docker's fallback resolvers (see resolvConf).
  }
  await mkdir(paths.dir, { recursive: true });
  await Promise.all([
    writeFile(paths.resolvConf, resolvConf({ ...resolv, hostResolvConf })),
    writeFile(paths.hosts, typeof hosts === 'string' ? hosts : hostsFile(hosts)),
  ]);
}

export async function removeTaskDnsFiles(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
