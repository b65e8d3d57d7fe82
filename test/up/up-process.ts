// Starts a real `berth up` (control plane + local agent in one process) for the up tests and the
// task benchmarks: a free port, a temporary data dir, its own awsvpc subnet and Docker network so
// that it never collides with another Berth on the machine. Ready once it printed its banner.
// `cleanup()` removes what its tasks left in Docker (stopping `berth up` leaves containers running,
// by design), its task network and its data dir.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import { freePort, repoRoot } from '../support/berth-process.js';

const run = promisify(execFile);
const berthBin = join(repoRoot, 'bin', 'berth.js');
export const READY_LINE = 'Berth is up.';

export interface UpProcess {
  url: string;
  port: number;
  dataDir: string;
  taskSubnet: string;
  taskNetwork: string;
  proc: ChildProcess;
  output(): string;
  /** SIGTERM (or the given signal) and wait for the exit, bounded; SIGKILL after 30 s. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly tracked: Set<string>;
  /** Marks a task as this Berth's: cleanup() removes its containers (found by their task-arn label). */
  track(taskArn: string): void;
  /** Removes the containers of tracked tasks and of its task network, the network and the data dir. */
  cleanup(): Promise<void>;
}

export interface UpOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  /** Start again where a stopped `berth up` left off: same port, data dir, subnet, network and tracked tasks. */
  resume?: UpProcess;
}

/** A /24 inside 198.18.0.0/15 for this process's awsvpc tasks; random, to not meet other tests' ranges. */
export function randomTaskSubnet(): string {
  const b = randomBytes(2);
  return `198.${18 + ((b[0] ?? 0) & 1)}.${b[1] ?? 0}.0/24`;
}

export async function startBerthUp(opts: UpOptions = {}): Promise<UpProcess> {
  const prev = opts.resume;
  const dataDir = prev?.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-up-'));
  const port = prev?.port ?? (await freePort());
  const taskSubnet = prev?.taskSubnet ?? randomTaskSubnet();
  const taskNetwork = prev?.taskNetwork ?? `berth-test-${randomBytes(3).toString('hex')}`;
  const proc = spawn(
    process.execPath,
    [
      berthBin,
      'up',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--agent-data-dir',
      join(dataDir, 'agent'),
      '--task-subnet',
      taskSubnet,
      '--task-network',
      taskNetwork,
      '--log-level',
      'warn',
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!out.includes(READY_LINE)) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`berth up exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${out}`);
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`berth up was not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  const tracked = prev?.tracked ?? new Set<string>();
  const cleanup = async (): Promise<void> => {
    const victims = new Set<string>();
    const { stdout: labelled } = await run(
      'docker',
      [
        'ps',
        '-a',
        '--filter',
        'label=com.amazonaws.ecs.task-arn',
        '--format',
        '{{.ID}} {{.Label "com.amazonaws.ecs.task-arn"}}',
      ],
      { timeout: 30_000 },
    ).catch(() => ({ stdout: '' }));
    for (const line of labelled.split('\n')) {
      const [cid, arn] = line.trim().split(' ');
      if (cid && arn && tracked.has(arn)) victims.add(cid);
    }
    const { stdout: onNetwork } = await run('docker', ['ps', '-aq', '--filter', `network=${taskNetwork}`], {
      timeout: 30_000,
    }).catch(() => ({ stdout: '' }));
    for (const cid of onNetwork.split('\n').filter(Boolean)) victims.add(cid);
    if (victims.size)
      await run('docker', ['rm', '-f', ...victims], { timeout: 120_000 }).catch(() => undefined);
    await run('docker', ['network', 'rm', taskNetwork], { timeout: 30_000 }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    taskSubnet,
    taskNetwork,
    proc,
    output: () => out,
    stop,
    tracked,
    track: (taskArn: string) => void tracked.add(taskArn),
    cleanup,
  };
}

/**
 * Polls DescribeTasks until every task has `status` as lastStatus (100 per call, as the API
 * allows). Waiting for RUNNING fails at once when a task stopped instead, with its reason.
 */
export async function waitForTasks(
  ecs: ECSClient,
  cluster: string,
  taskArns: string[],
  status: 'RUNNING' | 'STOPPED',
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Task[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const interval = opts.intervalMs ?? 100;
  const latest = new Map<string, Task>();
  for (;;) {
    const pending = taskArns.filter((a) => latest.get(a)?.lastStatus !== status);
    if (pending.length === 0) return taskArns.map((a) => latest.get(a)!);
    for (let i = 0; i < pending.length; i += 100) {
      const r = await ecs.send(new DescribeTasksCommand({ cluster, tasks: pending.slice(i, i + 100) }));
      for (const t of r.tasks ?? []) {
        if (!t.taskArn) continue;
        latest.set(t.taskArn, t);
        if (status === 'RUNNING' && t.lastStatus === 'STOPPED') {
          throw new Error(
            `task ${t.taskArn} stopped instead of running: ${t.stopCode ?? ''} ${t.stoppedReason ?? ''}; containers: ${JSON.stringify(
              (t.containers ?? []).map((c) => ({ name: c.name, reason: c.reason, exitCode: c.exitCode })),
            )}`,
          );
        }
      }
    }
    if (Date.now() > deadline) {
      const states = taskArns.map((a) => `${a.split('/').pop()}=${latest.get(a)?.lastStatus ?? '?'}`);
      throw new Error(`tasks not ${status} within ${opts.timeoutMs ?? 60_000} ms: ${states.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
