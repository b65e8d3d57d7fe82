// The agent's awsvpc plumber on x86_64 Linux: `netplumb` (netplumb/netplumb.c, a 6.5 KB static
// program), started once and kept, does what IpCommandPlumber does with rtnetlink. Why: `ip` and
// `nsenter` are three programs run per task (nsenter runs ip), each loaded afresh: with 50 tasks
// starting at once on a 2-core host they and their Node parent (plumber-process.ts) took 0.4–0.7 s
// of CPU that the tasks' own containers were waiting for; netplumb takes about 30 ms for the 50,
// nearly all of it the kernel making the devices.
//
// One request per line on its stdin, one answer per line on its stdout (the format is at the top
// of netplumb.c); answers are matched to requests by id. If the program dies, the requests in
// flight fail with the reason and the next request starts a new one.
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { NETPLUMB_X86_64_BASE64 } from './netplumb-binary.js';
import { installProgram, programFor } from './programs.js';
import {
  hostInterfaceName,
  macAddressFor,
  PlumbingError,
  type AttachRequest,
  type NamespacePlumber,
} from './plumbing.js';

/** The program for this machine, if there is one (x86_64 Linux only for now). */
export function netplumbProgram(arch?: string, platform?: string): Buffer | undefined {
  return programFor(NETPLUMB_X86_64_BASE64, arch, platform);
}

/** Writes the program into `dir` (read-only, executable) unless it is there already; returns its path. */
export function installNetplumb(dir: string, program: Buffer): Promise<string> {
  return installProgram(dir, 'netplumb', program);
}

/** One request line (without its newline); refuses fields that would break the line format. */
export function requestLine(id: number, req: AttachRequest): string {
  const fields = [
    String(id),
    String(req.pid),
    req.bridge,
    hostInterfaceName(req.ip),
    macAddressFor(req.ip),
    req.ip,
    String(req.prefixLength),
    req.gateway,
  ];
  const bad = fields.find((f) => !/^[\x21-\x7e]+$/.test(f));
  if (bad !== undefined) throw new PlumbingError(`cannot plumb: bad field ${JSON.stringify(bad)}`);
  return fields.join(' ');
}

export interface NetlinkPlumberOptions {
  /** A request unanswered this long ends the program (all in flight fail); default 30 s. */
  answerTimeoutMs?: number;
}

type Child = ChildProcessByStdio<Writable, Readable, null>;

interface Pending {
  child: Child;
  macAddress: string;
  timer: NodeJS.Timeout;
  resolve: (r: { macAddress: string }) => void;
  reject: (e: Error) => void;
}

export class NetlinkPlumber implements NamespacePlumber {
  private child: Child | undefined;
  private installed: Promise<string> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private readonly answerTimeoutMs: number;

  /** Installs `program` as `<dir>/netplumb` on first use. */
  constructor(
    private readonly dir: string,
    private readonly program: Buffer,
    opts: NetlinkPlumberOptions = {},
  ) {
    this.answerTimeoutMs = opts.answerTimeoutMs ?? 30_000;
  }

  /** The plumber for this machine, or undefined where there is no program for it. */
  static forThisMachine(dir: string, opts?: NetlinkPlumberOptions): NetlinkPlumber | undefined {
    const program = netplumbProgram();
    return program ? new NetlinkPlumber(dir, program, opts) : undefined;
  }

  /**
   * Installs the program and runs it once with no requests (it exits 0 at the end of its input);
   * the reason when it cannot run here, e.g. from a data dir mounted noexec.
   */
  async check(): Promise<string | undefined> {
    try {
      const path = await installNetplumb(this.dir, this.program);
      await new Promise<void>((resolve, reject) => {
        const child = execFile(path, [], { timeout: 5000 }, (err) => (err ? reject(err) : resolve()));
        child.stdin?.end();
      });
      return undefined;
    } catch (e) {
      return `the netplumb program cannot run from ${this.dir}: ${(e as Error).message}`;
    }
  }

  /** The running program's pid (for tests and measurements). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async attach(req: AttachRequest): Promise<{ macAddress: string }> {
    if (this.closed) throw new PlumbingError('the plumber is closed');
    const id = this.nextId++;
    const line = requestLine(id, req) + '\n';
    const child = await this.ensureChild();
    if (this.closed) throw new PlumbingError('the plumber is closed');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.end(child, `the netplumb program gave no answer within ${this.answerTimeoutMs} ms`),
        this.answerTimeoutMs,
      );
      timer.unref();
      this.pending.set(id, { child, macAddress: macAddressFor(req.ip), timer, resolve, reject });
      child.stdin.write(line);
    });
  }

  /**
   * Ends the program (requests in flight fail); later requests fail too. It exits at the end of
   * its input, after the request it is on, so that no namespace is left half plumbed; it is
   * killed if it has not within a second.
   */
  close(): void {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.stdin.end();
    setTimeout(() => child.kill('SIGKILL'), 1000).unref();
    this.failRequestsOf(child, 'the plumber was closed');
  }

  private async ensureChild(): Promise<Child> {
    if (this.child) return this.child;
    this.installed ??= installNetplumb(this.dir, this.program);
    let path: string;
    try {
      path = await this.installed;
    } catch (e) {
      this.installed = undefined; // try again on the next request
      throw new PlumbingError(`cannot install the netplumb program in ${this.dir}: ${(e as Error).message}`);
    }
    // Closed while it was installed: start nothing that would outlive the plumber.
    if (this.closed) throw new PlumbingError('the plumber is closed');
    if (this.child) return this.child; // started by a request that was quicker
    const child = spawn(path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffered += text;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        this.answer(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    // Writes to a program that died fail here; its 'close' fails the requests.
    child.stdin.on('error', () => undefined);
    // 'close' rather than 'exit': answers written before it ended are read first.
    child.on('close', (code, signal) =>
      this.end(child, `the netplumb program ended (${signal ?? `exit ${String(code)}`})`),
    );
    child.on('error', (e) => this.end(child, `the netplumb program failed: ${e.message}`));
    return child;
  }

  private answer(line: string): void {
    const sp = line.indexOf(' ');
    const id = Number(line.slice(0, sp));
    const p = this.pending.get(id);
    if (!p) return;
    const rest = line.slice(sp + 1);
    if (rest === 'ok') this.settle(id, p, undefined);
    else if (rest.startsWith('err ')) this.settle(id, p, new PlumbingError(rest.slice(4)));
    else this.settle(id, p, new PlumbingError(`unexpected answer from netplumb: ${line}`));
  }

  /** Stops `child` if it still runs, fails its requests with `why`; the next request starts another. */
  private end(child: Child, why: string): void {
    if (this.child === child) this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.failRequestsOf(child, why);
  }

  private failRequestsOf(child: Child, why: string): void {
    for (const [id, p] of [...this.pending])
      if (p.child === child) this.settle(id, p, new PlumbingError(why));
  }

  private settle(id: number, p: Pending, err: Error | undefined): void {
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve({ macAddress: p.macAddress });
  }
}
