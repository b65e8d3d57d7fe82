// bench/burst: 50 tasks at once through Berth (5 concurrent RunTask calls of count 10) until
// DescribeTasks shows all of them RUNNING, against 50 parallel `docker run -d` of the same image
// and command on the same engine.
//
//   npm run bench:burst -- [--rounds 3] [--calls 5] [--count 10] [--max-seconds 900]
//
// Each round: Berth burst, clean up (stop and wait for STOPPED), Docker burst, clean up (rm -f).
// Reported per round and as the median over rounds. Goal (issue 3): ratio ≤ 1.3.
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
import { makeDeadline, pooled } from './support/bounds.js';
import { median } from './support/stats.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    calls: { type: 'string', default: '5' },
    count: { type: 'string', default: '10' },
    'max-seconds': { type: 'string', default: '900' },
    'poll-ms': { type: 'string', default: '20' },
  },
});
const ROUNDS = Math.max(1, Number(args.rounds));
const CALLS = Math.max(1, Number(args.calls));
const COUNT = Math.min(10, Math.max(1, Number(args.count)));
const TOTAL = CALLS * COUNT;
const deadline = makeDeadline('bench:burst', Number(args['max-seconds']));
const POLL_MS = Math.max(1, Number(args['poll-ms']));
const runLabel = newRunLabel().label;
const FAMILY = 'bench-burst';

async function berthBurst(ecs: ECSClient, up: UpProcess): Promise<number> {
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: CALLS }, () =>
      ecs.send(
        new RunTaskCommand({ cluster: 'default', taskDefinition: FAMILY, launchType: 'EC2', count: COUNT }),
      ),
    ),
  );
  const arns = answers.flatMap((a) => (a.tasks ?? []).map((t) => t.taskArn!));
  arns.forEach((a) => up.track(a));
  const failures = answers.flatMap((a) => a.failures ?? []);
  if (arns.length !== TOTAL) {
    throw new Error(
      `RunTask placed ${arns.length} of ${TOTAL} tasks: ${JSON.stringify(failures.slice(0, 3))}`,
    );
  }
  await waitForTasks(ecs, 'default', arns, 'RUNNING', { timeoutMs: 300_000, intervalMs: POLL_MS });
  const ms = performance.now() - t0;
  await pooled(arns, 10, async (task) => {
    await ecs.send(new StopTaskCommand({ cluster: 'default', task, reason: 'bench' }));
  });
  await waitForTasks(ecs, 'default', arns, 'STOPPED', { timeoutMs: 300_000, intervalMs: 200 });
  return ms;
}

async function dockerBurst(): Promise<number> {
  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: TOTAL }, async () => {
      const { stdout } = await run(
        'docker',
        ['run', '-d', '--label', runLabel, busyboxImage, 'sleep', '3600'],
        {
          timeout: 300_000,
        },
      );
      return stdout.trim();
    }),
  );
  const ms = performance.now() - t0;
  await run('docker', ['rm', '-f', ...ids], { timeout: 300_000 });
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
          { name: 'sleeper', image: busyboxImage, command: ['sleep', '3600'], memory: 32, stopTimeout: 2 },
        ],
      }),
    );
    const berth: number[] = [];
    const docker: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      deadline.check();
      berth.push(await berthBurst(ecs, up));
      deadline.check();
      docker.push(await dockerBurst());
      console.log(
        `round ${r + 1}: berth ${berth[r]!.toFixed(0)} ms, docker ${docker[r]!.toFixed(0)} ms, ratio ${(berth[r]! / docker[r]!).toFixed(2)}`,
      );
    }
    const b = median(berth);
    const d = median(docker);
    console.log(
      `bench:burst, ${TOTAL} tasks (${CALLS} × RunTask count ${COUNT}) vs ${TOTAL} parallel docker run -d`,
    );
    console.log(
      `median over ${ROUNDS} rounds: berth ${b.toFixed(0)} ms until all RUNNING, docker ${d.toFixed(0)} ms`,
    );
    const ratio = b / d;
    console.log(`ratio: ${ratio.toFixed(2)} (goal ≤ 1.3) ${ratio <= 1.3 ? 'MET' : 'NOT MET'}`);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
