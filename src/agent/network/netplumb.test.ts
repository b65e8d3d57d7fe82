// NetlinkPlumber and its program. The protocol handling runs against small stand-in programs; the
// plumbing itself against the real kernel (as root): a bridge of its own holding a gateway in
// 198.18.0.0/15, namespaces made with `unshare --net`, checked from outside with `ip`/`nsenter`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installNetplumb, NetlinkPlumber, netplumbProgram, requestLine } from './netplumb.js';
import { hostInterfaceName, macAddressFor, type AttachRequest } from './plumbing.js';

const program = netplumbProgram();
const onThisMachine = program === undefined ? 'only built for x86_64 Linux' : false;

describe('netplumbProgram and the request line', () => {
  it('exists for x86_64 Linux only', () => {
    assert.equal(netplumbProgram('arm64', 'linux'), undefined);
    assert.equal(netplumbProgram('x64', 'darwin'), undefined);
    const elf = netplumbProgram('x64', 'linux');
    assert.ok(elf && elf.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')));
  });

  it('carries the host name and MAC derived from the address; refuses fields that would break the line', () => {
    const req = { pid: 42, bridge: 'br-1', ip: '198.19.0.5', prefixLength: 24, gateway: '198.19.0.1' };
    assert.equal(requestLine(7, req), '7 42 br-1 bvc6130005 02:42:c6:13:00:05 198.19.0.5 24 198.19.0.1');
    assert.throws(
      () => requestLine(8, { ...req, bridge: 'br 1' }),
      /PlumbingError: cannot plumb: bad field "br 1"/,
    );
    assert.throws(() => requestLine(9, { ...req, bridge: 'br\n9 1' }), /bad field/);
  });
});

/** A stand-in for the program: a shell script, installed as `<dir>/netplumb`. */
function scriptPlumber(dir: string, script: string, answerTimeoutMs?: number): NetlinkPlumber {
  return new NetlinkPlumber(dir, Buffer.from(`#!/bin/sh\n${script}\n`), { answerTimeoutMs });
}

const someReq = (n: number): AttachRequest => ({
  pid: 1000 + n,
  bridge: 'br-test',
  ip: `198.18.250.${n}`,
  prefixLength: 24,
  gateway: '198.18.250.1',
});

describe(
  'NetlinkPlumber with stand-in programs',
  { skip: process.platform !== 'linux' ? 'Linux only' : false },
  () => {
    let dir = '';
    before(() => (dir = mkdtempSync(join(tmpdir(), 'berth-netplumb-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('matches answers to requests by id, whatever their order, and turns err answers into PlumbingError', async () => {
      const p = scriptPlumber(
        join(dir, 'order'),
        'read a; read b; read c; echo "${c%% *} ok"; echo "${b%% *} err creating veth x: File exists"; echo "${a%% *} ok"',
      );
      try {
        const r = await Promise.allSettled([
          p.attach(someReq(2)),
          p.attach(someReq(3)),
          p.attach(someReq(4)),
        ]);
        assert.deepEqual(r[0], { status: 'fulfilled', value: { macAddress: macAddressFor('198.18.250.2') } });
        assert.equal(r[1]!.status, 'rejected');
        assert.match(
          String((r[1] as PromiseRejectedResult).reason),
          /^PlumbingError: creating veth x: File exists$/,
        );
        assert.deepEqual(r[2], { status: 'fulfilled', value: { macAddress: macAddressFor('198.18.250.4') } });
      } finally {
        p.close();
      }
    });

    it('when the program dies, requests in flight fail with the reason and the next request starts it again', async () => {
      const starts = join(dir, 'starts');
      const p = scriptPlumber(join(dir, 'dies'), `echo x >> ${starts}; exit 3`);
      try {
        await assert.rejects(p.attach(someReq(2)), /PlumbingError: the netplumb program ended \(exit 3\)/);
        await assert.rejects(p.attach(someReq(3)), /ended \(exit 3\)/);
        assert.equal(readFileSync(starts, 'utf8'), 'x\nx\n');
      } finally {
        p.close();
      }
    });

    it('a program that does not answer in time is killed and its requests fail', async () => {
      const p = scriptPlumber(join(dir, 'silent'), 'exec sleep 60', 150);
      try {
        const started = Date.now();
        const both = [p.attach(someReq(2)), p.attach(someReq(3))];
        for (const r of both) await assert.rejects(r, /gave no answer within 150 ms/);
        assert.ok(Date.now() - started < 5000);
      } finally {
        p.close();
      }
    });

    it('a program that cannot be installed fails the request with the reason; the next request tries again', async () => {
      const blocker = join(dir, 'file');
      writeFileSync(blocker, '');
      const p = scriptPlumber(join(blocker, 'bin'), 'exit 0');
      try {
        await assert.rejects(
          p.attach(someReq(2)),
          /cannot install the netplumb program in .*file\/bin: .*ENOTDIR/,
        );
        await assert.rejects(p.attach(someReq(3)), /cannot install/);
      } finally {
        p.close();
      }
    });

    it('close fails the requests in flight and every later one', async () => {
      const p = scriptPlumber(join(dir, 'close'), 'exec sleep 60');
      const inFlight = p.attach(someReq(2));
      await new Promise((r) => setTimeout(r, 50));
      p.close();
      await assert.rejects(inFlight, /the plumber was closed/);
      await assert.rejects(p.attach(someReq(3)), /PlumbingError: the plumber is closed/);
    });

    it('closed while the program is being installed: the request fails and no program starts', async () => {
      const starts = join(dir, 'starts-closed');
      const p = scriptPlumber(join(dir, 'closed-early'), `echo x >> ${starts}; exec sleep 60`);
      const first = p.attach(someReq(2));
      p.close();
      await assert.rejects(first, /PlumbingError: the plumber is closed/);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(p.pid, undefined);
      assert.throws(() => readFileSync(starts), /ENOENT/);
    });
  },
);

/** Runs the installed program with `input` on stdin; its answer lines and exit code. */
function runWire(bin: string, input: string): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines: out.split('\n').slice(0, -1) }));
    child.stdin.end(input);
  });
}

describe('the netplumb program on the wire', { skip: onThisMachine }, () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'berth-netplumb-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is installed read-only and executable, rewritten only when different', async () => {
    const path = await installNetplumb(dir, program!);
    assert.equal(statSync(path).mode & 0o777, 0o555);
    const mtime = statSync(path).mtimeMs;
    await installNetplumb(dir, program!);
    assert.equal(statSync(path).mtimeMs, mtime);
    await installNetplumb(dir, Buffer.from('other'));
    assert.equal(readFileSync(path, 'utf8'), 'other');
    await installNetplumb(dir, program!);
    assert.deepEqual(readFileSync(path), program);
  });

  it('check: the program runs here; one that cannot run gives the reason (the agent then uses ip)', async () => {
    assert.equal(await new NetlinkPlumber(join(dir, 'ok'), program!).check(), undefined);
    const reason = await new NetlinkPlumber(join(dir, 'bad'), Buffer.from('not a program\n')).check();
    assert.match(reason ?? '', /^the netplumb program cannot run from .*bad: /);
  });

  it('answers every malformed line with err, in order, skips empty lines, and exits 0 at the end of its input', async () => {
    const bin = await installNetplumb(dir, program!);
    const good = '198.18.250.9 24 198.18.250.1';
    const r = await runWire(
      bin,
      [
        '1 2 3',
        '',
        `2 0 br-x bvc612fa09 02:42:c6:12:fa:09 ${good}`,
        `3 12x br-x bvc612fa09 02:42:c6:12:fa:09 ${good}`,
        `4 12 br-x bvc612fa09 02:42:c6:12:fa:0 ${good}`,
        `5 12 br-x bvc612fa09 02:42:c6:12:fa:09 198.18.250.256 24 198.18.250.1`,
        `6 12 br-x bvc612fa09 02:42:c6:12:fa:09 198.18.250.9 33 198.18.250.1`,
        `7 12 br-x bvc612fa09 02:42:c6:12:fa:09 198.18.250.9 24 198.18.250`,
        `8 12 a-bridge-name-too-long bvc612fa09 02:42:c6:12:fa:09 ${good}`,
        `9 12 br-x bvc612fa09 02:42:c6:12:fa:09 ${good} extra`,
        `i/d 12 br-x bvc612fa09 02:42:c6:12:fa:09 ${good}`,
        'x'.repeat(5000),
        `10 ${'1'.repeat(11)} br-x bvc612fa09 02:42:c6:12:fa:09 ${good}`,
      ].join('\n') + '\n',
    );
    assert.equal(r.code, 0);
    const expected = 'expected <id> <pid> <bridge> <hostIfName> <mac> <ip> <prefixLength> <gateway>';
    assert.deepEqual(r.lines, [
      `1 err malformed request: ${expected}`,
      '2 err malformed request: bad pid',
      '3 err malformed request: bad pid',
      '4 err malformed request: bad MAC address',
      '5 err malformed request: bad address',
      '6 err malformed request: bad prefix length',
      '7 err malformed request: bad gateway',
      '8 err malformed request: bad bridge name',
      `9 err malformed request: ${expected}`,
      '- err malformed request: bad id',
      '- err malformed request: line too long',
      '10 err malformed request: bad pid',
    ]);
  });

  it('answers a last line without its newline, then exits 0', async () => {
    const r = await runWire(
      await installNetplumb(dir, program!),
      '11 2 3\n12 2147483648 br-x bvc612fa09 02:42:c6:12:fa:09 198.18.250.9 24 198.18.250.1',
    );
    assert.equal(r.code, 0);
    assert.deepEqual(r.lines, [
      `11 err malformed request: expected <id> <pid> <bridge> <hostIfName> <mac> <ip> <prefixLength> <gateway>`,
      '12 err malformed request: bad pid',
    ]);
  });
});

// ---- the real kernel ----

const asRoot =
  onThisMachine || (process.getuid?.() !== 0 ? 'needs root: creates a bridge, namespaces and veths' : false);

function sh(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function json<T>(file: string, args: string[]): T {
  return JSON.parse(sh(file, args)) as T;
}

interface IpLink {
  ifname: string;
  ifindex: number;
  link_index?: number;
  flags: string[];
  master?: string;
  address: string;
  operstate: string;
}
interface IpAddr extends IpLink {
  addr_info: { family: string; local: string; prefixlen: number }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
}

const OWN_NS = readlinkSync('/proc/self/ns/net');

describe('NetlinkPlumber on the real kernel', { skip: asRoot }, () => {
  let dir = '';
  let bridge = '';
  let subnet = ''; // three octets, e.g. 198.18.171
  const sleepers: ChildProcess[] = [];
  const plumbers: NetlinkPlumber[] = [];
  const ipOf = (n: number): string => `${subnet}.${n}`;
  const req = (pid: number, n: number): AttachRequest => ({
    pid,
    bridge,
    ip: ipOf(n),
    prefixLength: 24,
    gateway: ipOf(1),
  });

  /** A process in a network namespace of its own (only loopback), as a pause container's. */
  async function namespace(): Promise<number> {
    const child = spawn('unshare', ['--net', 'sleep', '120'], { stdio: 'ignore' });
    sleepers.push(child);
    const pid = child.pid!;
    // unshare runs before the exec: until then the process is still in our namespace.
    for (let i = 0; i < 1000; i++) {
      const ns = (() => {
        try {
          return readlinkSync(`/proc/${pid}/ns/net`);
        } catch {
          return OWN_NS;
        }
      })();
      if (ns !== OWN_NS && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return pid;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('unshare did not make a namespace');
  }

  function killed(pid: number): Promise<void> {
    const child = sleepers.find((c) => c.pid === pid)!;
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  function plumber(): NetlinkPlumber {
    const p = new NetlinkPlumber(join(dir, 'bin'), program!);
    plumbers.push(p);
    return p;
  }

  const hostLink = (ip: string): IpLink | undefined =>
    json<IpLink[]>('ip', ['-j', 'link', 'show']).find((l) => l.ifname === hostInterfaceName(ip));
  const inside = <T>(pid: number, args: string[]): T =>
    json<T>('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-j', ...args]);

  /** Everything one attach leaves, checked from outside. */
  function assertPlumbed(pid: number, n: number): void {
    const ip = ipOf(n);
    const host = hostLink(ip);
    assert.ok(host, `host end ${hostInterfaceName(ip)} exists`);
    assert.equal(host.master, bridge);
    assert.ok(host.flags.includes('UP'), `host end up: ${host.flags.join(',')}`);
    const [eth0] = inside<IpAddr[]>(pid, ['addr', 'show', 'dev', 'eth0']);
    assert.ok(eth0);
    assert.equal(eth0.address, macAddressFor(ip));
    assert.ok(eth0.flags.includes('UP'));
    assert.equal(eth0.operstate, 'UP', 'carrier: the host end is up too');
    assert.deepEqual(
      eth0.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      [`${ip}/24`],
    );
    // The pair is this one: each end names the other's index.
    assert.equal(host.link_index, eth0.ifindex);
    assert.equal(eth0.link_index, host.ifindex);
    const routes = inside<IpRoute[]>(pid, ['route', 'show', 'default']);
    assert.deepEqual(
      routes.map((r) => [r.dst, r.gateway, r.dev]),
      [['default', ipOf(1), 'eth0']],
    );
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-netplumb-'));
    // A /24 of 198.18.0.0/15 that no address of this host is in (tests elsewhere use some).
    const used = sh('ip', ['-4', '-o', 'addr', 'show']);
    const start = process.pid % 64;
    for (let i = 0; i < 64 && !subnet; i++) {
      const candidate = `198.18.${160 + ((start + i) % 64)}`;
      if (!used.includes(` ${candidate}.`)) subnet = candidate;
    }
    assert.ok(subnet, 'a free /24 in 198.18.160.0/18');
    bridge = `bnp${process.pid.toString(36)}`;
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${ipOf(1)}/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
  });

  after(async () => {
    for (const p of plumbers) p.close();
    await Promise.all(sleepers.map((c) => killed(c.pid!)));
    // Host ends go with their namespaces; the test's own leftovers (dummy pairs) go here.
    for (const l of json<IpLink[]>('ip', ['-j', 'link', 'show']))
      if (l.ifname.startsWith(hostInterfaceName(ipOf(0)).slice(0, 8)) || l.ifname === bridge)
        try {
          execFileSync('ip', ['link', 'del', l.ifname], { stdio: 'ignore' });
        } catch {
          // gone with its namespace meanwhile
        }
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives the namespace eth0 with the task's MAC, address and default route, its host end up on the bridge", async () => {
    const p = plumber();
    const pid = await namespace();
    assert.deepEqual(await p.attach(req(pid, 5)), { macAddress: macAddressFor(ipOf(5)) });
    assertPlumbed(pid, 5);
    assert.match(
      sh('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'route', 'get', ipOf(1)]),
      new RegExp(`^${ipOf(1).replace(/\./g, '\\.')} dev eth0 src ${ipOf(5).replace(/\./g, '\\.')} `),
    );
    // And packets pass: a TCP connection from inside to the host's gateway address on the bridge.
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, ipOf(1), r));
    try {
      const port = (server.address() as { port: number }).port;
      // Not execFileSync: the server needs the event loop while bash connects.
      const connect = spawn(
        'nsenter',
        [`--net=/proc/${pid}/ns/net`, 'timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${ipOf(1)}/${port}`],
        { stdio: 'inherit' },
      );
      const code = await new Promise((r) => connect.on('exit', r));
      assert.equal(code, 0, 'connected');
    } finally {
      server.close();
    }
  });

  /** Until the host end of `ip` has gone with its namespace (the kernel does that asynchronously). */
  async function gone(ip: string): Promise<void> {
    for (let i = 0; i < 1000 && hostLink(ip); i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(hostLink(ip), undefined, `${hostInterfaceName(ip)} went with its namespace`);
  }

  it('the same address again after its task ended; a host end left behind is taken over', async () => {
    const p = plumber();
    const first = await namespace();
    await p.attach(req(first, 6));
    await killed(first);
    await gone(ipOf(6));
    const second = await namespace();
    await p.attach(req(second, 6));
    assertPlumbed(second, 6);
    await killed(second);
    await gone(ipOf(6));

    // A crash between plumbing and the namespace's end leaves the host end: a pair of the host's
    // own with that name stands in for it.
    const leftover = hostInterfaceName(ipOf(6));
    sh('ip', ['link', 'add', leftover, 'type', 'veth', 'peer', 'name', `${leftover}p`]);
    const third = await namespace();
    await p.attach(req(third, 6));
    assertPlumbed(third, 6);
    assert.equal(
      json<IpLink[]>('ip', ['-j', 'link', 'show']).some((l) => l.ifname === `${leftover}p`),
      false,
      'the leftover pair is gone',
    );
  });

  it('says what failed: no such process, no such bridge, eth0 already there, the agent’s own namespace', async () => {
    const p = plumber();
    await assert.rejects(p.attach(req(2 ** 30, 8)), /^PlumbingError: no such process 1073741824$/);
    await assert.rejects(
      p.attach({ ...req(await namespace(), 8), bridge: 'br-nonexistent' }),
      /^PlumbingError: bridge br-nonexistent: No such device$/,
    );
    await assert.rejects(
      p.attach(req(process.pid, 8)),
      new RegExp(`^PlumbingError: process ${process.pid} is in the agent's own network namespace$`),
    );
    assert.equal(hostLink(ipOf(8)), undefined, 'nothing made on the host');

    const pid = await namespace();
    await p.attach(req(pid, 9));
    await assert.rejects(
      p.attach(req(pid, 10)),
      new RegExp(
        `^PlumbingError: creating veth ${hostInterfaceName(ipOf(10))}: eth0 exists in the task's namespace$`,
      ),
    );
    assert.equal(hostLink(ipOf(10)), undefined);
    assertPlumbed(pid, 9);
  });

  it('a failure inside the namespace is reported and the program is back in its own for the next request', async () => {
    const p = plumber();
    const pid = await namespace();
    // A gateway outside the task's subnet: the kernel refuses the route.
    await assert.rejects(
      p.attach({ ...req(pid, 11), gateway: '198.19.255.1' }),
      /^PlumbingError: adding the default route via 198\.19\.255\.1: Network is unreachable$/,
    );
    assert.equal(readlinkSync(`/proc/${p.pid!}/ns/net`), OWN_NS);
    const next = await namespace();
    await p.attach(req(next, 12));
    assertPlumbed(next, 12);
  });

  it('answers 20 concurrent requests, each for its own namespace', async () => {
    const p = plumber();
    const pids = await Promise.all(Array.from({ length: 20 }, () => namespace()));
    const results = await Promise.all(pids.map((pid, i) => p.attach(req(pid, 20 + i))));
    results.forEach((r, i) => assert.equal(r.macAddress, macAddressFor(ipOf(20 + i))));
    pids.forEach((pid, i) => assertPlumbed(pid, 20 + i));
  });

  it('killing the program fails the requests in flight; the next request starts a new one', async () => {
    const p = plumber();
    const warm = await namespace();
    await p.attach(req(warm, 50));
    const victim = p.pid!;
    // Stopped first, so that none of the requests below can be answered before the kill.
    process.kill(victim, 'SIGSTOP');
    const pids = await Promise.all(Array.from({ length: 3 }, () => namespace()));
    const inFlight = pids.map((pid, i) => p.attach(req(pid, 51 + i)));
    await new Promise((r) => setImmediate(r));
    process.kill(victim, 'SIGKILL');
    for (const r of inFlight)
      await assert.rejects(r, /^PlumbingError: the netplumb program ended \(SIGKILL\)$/);
    await p.attach(req(pids[0]!, 51));
    assert.notEqual(p.pid, victim);
    assertPlumbed(pids[0]!, 51);
  });

  it('close lets the program finish and exit; later requests fail', async () => {
    const p = plumber();
    const pid = await namespace();
    await p.attach(req(pid, 60));
    const child = p.pid!;
    p.close();
    await assert.rejects(p.attach(req(pid, 61)), /closed/);
    // Within half a second: before the kill that close() keeps for a program that hangs.
    for (let i = 0; i < 100 && existsPid(child); i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(existsPid(child), false, 'the program exited');
  });
});

function existsPid(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}
