// bench/task-start: how long one small task takes to start through Berth, RunTask until
// DescribeTasks says RUNNING, against a plain `docker run -d` of the same image and command on the
// same engine (the CLI returns once the container has started).
//
//   npm run bench:task-start -- [--runs 20] [--warmup 2] [--max-seconds 600] [--poll-ms 5]
//
// The task: busybox `sleep 3600`, bridge network, no ports, EC2 launch type on the local host of a
// fresh `berth up`. Runs alternate (Berth, Docker, Berth, ...) so that drift in the engine hits
// both alike; each task is stopped and each container removed before the next run, outside the
// timed window. Goal (issue 3): p50 ratio ≤ 1.3.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs, promisify } from 'node:util';
import {
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { ecsClient } from '../test/support/berth-process.js';
import { busyboxImage, ensureBusyboxImage } from '../test/support/images.js';
import { startBerthUp, waitForTasks, type UpProcess } from '../test/up/up-process.js';

const run = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    /** Unmeasured starts first: the first container on a fresh engine pays for cold caches. */
    warmup: { type: 'string', default: '2' },
    'max-seconds': { type: 'string', default: '600' },
    /** DescribeTasks polling interval; the measurement's resolution. */
    'poll-ms': { type: 'string', default: '5' },
  },
});
const RUNS = Math.max(1, Number(args.runs));
const WARMUP = Math.max(0, Number(args.warmup));
const DEADLINE = Date.now() + Number(args['max-seconds']) * 1000;
const POLL_MS = Math.max(1, Number(args['poll-ms']));
const runLabel = `org.berth.bench.run=${randomBytes(4).toString('hex')}`;
const FAMILY = 'bench-task-start';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function summary(ms: number[]): { p50: number; p99: number; mean: number; min: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0] ?? NaN,
    max: s.at(-1) ?? NaN,
  };
}

function checkDeadline(): void {
  if (Date.now() > DEADLINE)
    throw new Error(`bench:task-start exceeded --max-seconds ${args['max-seconds']}`);
}

async function berthStart(ecs: ECSClient, up: UpProcess): Promise<number> {
  const t0 = performance.now();
  const r = await ecs.send(
    new RunTaskCommand({ cluster: 'default', taskDefinition: FAMILY, launchType: 'EC2' }),
  );
  const arn = r.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask placed nothing: ${JSON.stringify(r.failures)}`);
  up.track(arn);
  await waitForTasks(ecs, 'default', [arn], 'RUNNING', { timeoutMs: 60_000, intervalMs: POLL_MS });
  const ms = performance.now() - t0;
  await ecs.send(new StopTaskCommand({ cluster: 'default', task: arn, reason: 'bench' }));
  await waitForTasks(ecs, 'default', [arn], 'STOPPED', { timeoutMs: 60_000, intervalMs: 50 });
  return ms;
}

async function dockerStart(): Promise<number> {
  const t0 = performance.now();
  const { stdout } = await run('docker', ['run', '-d', '--label', runLabel, busyboxImage, 'sleep', '3600'], {
    timeout: 60_000,
  });
  const ms = performance.now() - t0;
  await run('docker', ['rm', '-f', stdout.trim()], { timeout: 60_000 });
  return ms;
}

async function main(): Promise<void> {
  await ensureBusyboxImage();
  const up = await startBerthUp();
  const ecs = ecsClient(up.url);
  try {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: FAMILY,
        networkMode: 'bridge',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [
          // sleep as PID 1 ignores SIGTERM: a short stopTimeout keeps the untimed stops quick.
          { name: 'sleeper', image: busyboxImage, command: ['sleep', '3600'], memory: 32, stopTimeout: 2 },
        ],
      }),
    );
    for (let i = 0; i < WARMUP; i++) {
      checkDeadline();
      await berthStart(ecs, up);
      await dockerStart();
    }
    const berth: number[] = [];
    const docker: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      checkDeadline();
      berth.push(await berthStart(ecs, up));
      docker.push(await dockerStart());
      process.stderr.write(`\r${i + 1}/${RUNS}`);
    }
    process.stderr.write('\n');
    const b = summary(berth);
    const d = summary(docker);
    const f = (n: number) => n.toFixed(1).padStart(8);
    console.log(`bench:task-start, ${RUNS} runs each (after ${WARMUP} warm-up), milliseconds`);
    console.log(`                          p50      p99     mean      min      max`);
    console.log(`berth RunTask→RUNNING ${f(b.p50)} ${f(b.p99)} ${f(b.mean)} ${f(b.min)} ${f(b.max)}`);
    console.log(`docker run -d         ${f(d.p50)} ${f(d.p99)} ${f(d.mean)} ${f(d.min)} ${f(d.max)}`);
    const ratio = b.p50 / d.p50;
    console.log(`ratio at p50: ${ratio.toFixed(2)} (goal ≤ 1.3) ${ratio <= 1.3 ? 'MET' : 'NOT MET'}`);
    console.log(`ratio at p99: ${(b.p99 / d.p99).toFixed(2)}`);
  } finally {
    ecs.destroy();
    await up.stop();
    await up.cleanup();
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=${runLabel}`]).catch(() => ({
      stdout: '',
    }));
    const left = stdout.split('\n').filter(Boolean);
    if (left.length) await run('docker', ['rm', '-f', ...left]).catch(() => undefined);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
