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
import { parseArgs } from 'node:util';
import {
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { busyboxImage } from '../test/support/images.js';
import { waitForTasks, type UpProcess } from '../test/up/up-process.js';
import { newRunLabel, run, withBerthUp } from './support/berth.js';
import { makeDeadline } from './support/bounds.js';
import { summary } from './support/stats.js';

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
const deadline = makeDeadline('bench:task-start', Number(args['max-seconds']));
const POLL_MS = Math.max(1, Number(args['poll-ms']));
const runLabel = newRunLabel().label;
const FAMILY = 'bench-task-start';

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
  await withBerthUp(runLabel, async (ecs, up) => {
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
      deadline.check();
      await berthStart(ecs, up);
      await dockerStart();
    }
    const berth: number[] = [];
    const docker: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      deadline.check();
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
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
