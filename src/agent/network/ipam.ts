// Address management for awsvpc tasks on this host: pure arithmetic over the task subnet and the
// set of addresses the agent's state says are taken. The state is the only record (an address
// is "allocated" while a task in the state holds it), so allocation survives restarts with the
// state, and two tasks never share an address. Docker's own IPAM on the task network would hand
// out addresses too, but it forgets them across engine restarts and cannot be asked to avoid an
// address a stopped-but-not-cleaned task still reports.
//
//   198.19.0.0/24:  .0 network · .1 gateway (the host's side of the bridge) · .2–.254 tasks · .255 broadcast

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
  /** Canonical text, e.g. `198.19.0.0/24`. */
  text: string;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new RangeError(`invalid IPv4 address '${ip}'`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new RangeError(`invalid IPv4 address '${ip}'`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [
    Math.floor(n / 2 ** 24) % 256,
    Math.floor(n / 2 ** 16) % 256,
    Math.floor(n / 256) % 256,
    n % 256,
  ].join('.');
}

export function parseCidr(text: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw new RangeError(`invalid CIDR '${text}': expected a.b.c.d/n`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new RangeError(`invalid CIDR '${text}': prefix longer than 32`);
  const size = 2 ** (32 - prefix);
  const base = ipToInt(m[1]!) - (ipToInt(m[1]!) % size);
  return { base, prefix, text: `${intToIp(base)}/${prefix}` };
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function inCidr(ip: string, c: Cidr): boolean {
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + cidrSize(c);
}

/** The host's address on the task bridge: the subnet's first usable address. */
export function gatewayOf(c: Cidr): string {
  return intToIp(c.base + 1);
}

/**
 * The next free task address: after `last` (round robin, so a just-released address is not
 * reused at once while clients may still hold connections to it), skipping the network,
 * gateway and broadcast addresses and everything in `taken`. undefined when the subnet is full.
 */
export function allocateAddress(c: Cidr, taken: ReadonlySet<string>, last?: string): string | undefined {
  const size = cidrSize(c);
  const first = 2;
  const lastUsable = size - 2;
  const count = lastUsable - first + 1;
  if (count <= 0) return undefined;
  let start = first;
  if (last !== undefined && inCidr(last, c)) {
    const off = ipToInt(last) - c.base;
    if (off >= first && off <= lastUsable) start = off + 1 > lastUsable ? first : off + 1;
  }
  for (let i = 0; i < count; i++) {
    const off = first + ((start - first + i) % count);
    const ip = intToIp(c.base + off);
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}

/** `ip-198-19-0-5.ec2.internal`: the private DNS name EC2 gives an address in us-east-1. */
export function privateDnsName(ip: string, region: string): string {
  const host = `ip-${ip.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

/** `eni-` and 17 hex digits, like EC2's network interface ids. */
export function networkInterfaceId(randomHex: string): string {
  if (!/^[0-9a-f]{17,}$/.test(randomHex))
    throw new RangeError('networkInterfaceId needs at least 17 hex digits');
  return `eni-${randomHex.slice(0, 17)}`;
}
