// Starts a real `berth server` process for integration tests, on a free port and a temporary
// data dir, and waits until /health answers. kill() sends a signal (SIGKILL to test durability).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const berthBin = join(repoRoot, 'bin', 'berth.js');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface BerthProcess {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the process (SIGTERM) and removes the data dir unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startBerthServer(
  opts: { dataDir?: string; port?: number; args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<BerthProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-test-'));
  const port = opts.port ?? (await freePort());
  const proc = spawn(
    process.execPath,
    [
      berthBin,
      'server',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`berth server exited with ${proc.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`berth server did not become ready in 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url,
    port,
    dataDir,
    proc,
    output: () => out,
    kill,
    stop: async ({ keepData = false } = {}) => {
      await kill('SIGTERM');
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An SDK client pointed at a Berth server, with dummy credentials. */
export function ecsClient(url: string, region = 'us-east-1'): ECSClient {
  return new ECSClient({
    endpoint: url,
    region,
    credentials: { accessKeyId: 'AKIDBERTHTEST', secretAccessKey: 'berth-test-secret' },
    maxAttempts: 1,
  });
}

/** Raw JSON 1.1 call, for malformed requests the SDK would never send. */
export async function rawCall(
  url: string,
  target: string | undefined,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const h: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', ...headers };
  if (target !== undefined) h['x-amz-target'] = target;
  const r = await fetch(url, { method: 'POST', headers: h, body });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: r.status, json, headers: r.headers };
}

export const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113';
