// Runs IpCommandPlumber in a small child process. Every `ip` / `nsenter` is a fork, and forking
// the agent's process (hundreds of MiB mapped, and in `berth up` the control plane too) blocks
// its event loop for milliseconds each time: with 50 tasks starting at once that was over a
// second of the loop's time (measured with --cpu-prof). The child is started once, on first
// use; if it dies, the requests in flight fail with the reason and the next one starts a new one.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PlumbingError, type AttachRequest, type NamespacePlumber } from './plumbing.js';
import type { PlumbAnswer } from './plumber-worker.js';

const WORKER = fileURLToPath(new URL('./plumber-worker.js', import.meta.url));

interface Pending {
  resolve: (r: { macAddress: string }) => void;
  reject: (e: Error) => void;
}

export class ProcessPlumber implements NamespacePlumber {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  attach(req: AttachRequest): Promise<{ macAddress: string }> {
    if (this.closed) return Promise.reject(new PlumbingError('the plumber is closed'));
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ id, req }, (err) => {
        if (err) this.settle(id, new PlumbingError(`plumber process unreachable: ${err.message}`));
      });
    });
  }

  /** Ends the child (requests in flight fail). */
  close(): void {
    this.closed = true;
    this.child?.kill();
    this.failAll('the plumber was closed');
  }

  private ensureChild(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    child.on('message', (m: PlumbAnswer) => {
      if (m.ok) this.settle(m.id, undefined, { macAddress: m.macAddress });
      else this.settle(m.id, new PlumbingError(m.error));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.failAll(`plumber process ended (${signal ?? `exit ${String(code)}`})`);
    });
    child.on('error', (e) => this.failAll(`plumber process failed: ${e.message}`));
    this.child = child;
    return child;
  }

  private settle(id: number, err: Error | undefined, r?: { macAddress: string }): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (err) p.reject(err);
    else p.resolve(r!);
  }

  private failAll(why: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, new PlumbingError(why));
  }
}
