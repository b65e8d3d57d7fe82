// bench/overhead: Berth's own CPU for converging a new service of 50 tasks, with the engine
// simulated, so that the figure is Berth's alone and steady enough to compare two builds.
//
//   npm run bench:overhead -- [--tasks 50] [--rounds 8] [--warmup 2] [--create-ms 10]
//     [--start-ms 30] [--poll-ms 50] [--max-seconds 600] [--node-options="<flags>"]
//
// Why: bench:service's converge goal (≤ 0.5 × Swarm) is decided by CPU. The engine saturates both
// cores of the bench machine, so every 100 ms of CPU Berth spends costs the converge about 50 ms,
// and on that bench Berth's CPU is lost in the engine's noise (the same build measures 0.35–0.7 s
// a converge). Here the control plane and the agent run as in `berth up`, in one process, but the
// agent's container runtime is the FakeRuntime, paced like the real engine: creates go through
// one lane at --create-ms each and starts through another at --start-ms each (Docker 20.10 on
// two cores starts 50 containers in about 1.6 s), so reports arrive spread out as they do for
// real. awsvpc tasks take the path they take on a real host (their own namespace, netwait, DNS
// files), with a plumber that only answers. The client, in this process, polls DescribeServices
// every --poll-ms as bench:service does; the CPU counted is the Berth process's, all threads.
//
// Baseline: a budget, not another system. bench:service's engine floor is 2.3–2.5 s on the bench
// machine and Swarm takes 2.2–2.5× it, so Berth holds ≤ 0.5 × Swarm with a margin only at about
// 1.08× the floor: 0.2 s of wall, 0.4 s of CPU, of which the SDK client's polling takes 0.1 s.
// That leaves Berth 0.25 s of CPU per 50-task converge (5 ms a task). Ratio = measured / budget.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { ecsClient } from '../test/support/berth-process.js';
import { makeDeadline, pollUntil } from './support/bounds.js';
import { waitForQuiet } from './support/quiet.js';
import { serveSimulated } from './support/simulated-up.js';
import { median } from './support/stats.js';

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '8' },
    /** Converges first, not counted: the first ones pay for loading and compiling the code. */
    warmup: { type: 'string', default: '2' },
    'create-ms': { type: 'string', default: '10' },
    'start-ms': { type: 'string', default: '30' },
    'poll-ms': { type: 'string', default: '50' },
    'max-seconds': { type: 'string', default: '600' },
    /** Node options for the measured process, e.g. "--cpu-prof" or a V8 flag to compare. */
    'node-options': { type: 'string', default: '' },
    /** Internal: run the simulated `berth up` (the measured process). */
    serve: { type: 'string' },
  },
});

const BUDGET_MS = 250;
const BUDGET_TASKS = 50;

if (args.serve !== undefined) {
  await serveSimulated({
    dataDir: args.serve,
    createMs: Number(args['create-ms']),
    startMs: Number(args['start-ms']),
  });
} else {
  await main();
}

/** CPU time (ms) of a process, split into its main thread and the rest, from /proc. */
function cpuOf(pid: number): { main: number; other: number } {
  const tick = 10; // USER_HZ is 100 on Linux
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(f[11]) + Number(f[12])) * tick;
    if (tid === String(pid)) main += ms;
    else other += ms;
  }
  return { main, other };
}

async function main(): Promise<void> {
  if (!existsSync('/proc/self/task')) throw new Error('bench:overhead reads CPU times from /proc (Linux)');
  const tasks = Math.max(1, Number(args.tasks));
  const rounds = Math.max(1, Number(args.rounds));
  const warmup = Math.max(0, Number(args.warmup));
  const pollMs = Math.max(1, Number(args['poll-ms']));
  const deadline = makeDeadline('bench:overhead', Number(args['max-seconds']), { interruptible: true });
  // tmpfs when there is one: the data dir is made and removed by every run, and on an ext4 without
  // a journal, creating files soon after many were deleted costs a scan per inode that is the file
  // system's, not Berth's (bench:service's real converges showed no such cost).
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dataDir = mkdtempSync(join(base, 'berth-overhead-'));
  const child = spawn(
    process.execPath,
    [
      ...String(args['node-options']).split(' ').filter(Boolean),
      fileURLToPath(import.meta.url),
      '--serve',
      dataDir,
      '--create-ms',
      String(args['create-ms']),
      '--start-ms',
      String(args['start-ms']),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let ecs: ECSClient | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (l) => {
        const m = /^ready (\S+)$/.exec(l);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) =>
        reject(new Error(`the simulated berth up exited (${code}) before it was ready`)),
      );
    });
    const pid = child.pid!;
    ecs = ecsClient(url);
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'bench-overhead',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [
          {
            name: 'sleeper',
            image: 'berth-test/busybox:latest',
            command: ['sleep', '3600'],
            memory: 32,
            linuxParameters: { initProcessEnabled: true },
          },
        ],
      }),
    );
    console.log(
      `bench:overhead: ${tasks} awsvpc tasks a converge, engine simulated (creates ${args['create-ms']} ms, starts ${args['start-ms']} ms, one lane each), polling every ${pollMs} ms; ${warmup} warm-up + ${rounds} counted rounds`,
    );
    const counted: { wall: number; main: number; other: number }[] = [];
    for (let r = 0; r < warmup + rounds; r++) {
      deadline.check();
      await waitForQuiet();
      const name = `overhead-${r}`;
      const c0 = cpuOf(pid);
      const t0 = performance.now();
      await ecs.send(
        new CreateServiceCommand({
          cluster: 'default',
          serviceName: name,
          taskDefinition: td.taskDefinition!.taskDefinitionArn!,
          desiredCount: tasks,
          launchType: 'EC2',
          networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-bench'] } },
        }),
      );
      await pollUntil(
        async () => {
          const s = (await ecs!.send(new DescribeServicesCommand({ cluster: 'default', services: [name] })))
            .services?.[0];
          return s?.deployments?.length === 1 && s.runningCount === tasks ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: pollMs, deadline, describe: () => `${name} stable` },
      );
      const wall = performance.now() - t0;
      const c1 = cpuOf(pid);
      const row = { wall, main: c1.main - c0.main, other: c1.other - c0.other };
      const counts = r >= warmup;
      if (counts) counted.push(row);
      console.log(
        `  round ${r + 1}${counts ? '' : ' (warm-up)'}: ${wall.toFixed(0)} ms wall; CPU ${row.main + row.other} ms (main thread ${row.main}, other threads ${row.other})`,
      );
      await ecs.send(new DeleteServiceCommand({ cluster: 'default', service: name, force: true }));
      await pollUntil(
        async () => {
          const l = await ecs!.send(new ListTasksCommand({ cluster: 'default', serviceName: name }));
          return l.taskArns?.length ? undefined : true;
        },
        { timeoutMs: 120_000, intervalMs: 200, deadline, describe: () => `${name}'s tasks stopped` },
      );
    }
    const total = median(counted.map((c) => c.main + c.other));
    const budget = (BUDGET_MS * tasks) / BUDGET_TASKS;
    console.log(
      `converge of ${tasks}: Berth CPU median ${total.toFixed(0)} ms (main thread ${median(counted.map((c) => c.main)).toFixed(0)}, other threads ${median(counted.map((c) => c.other)).toFixed(0)}), ${(total / tasks).toFixed(1)} ms a task; wall median ${median(counted.map((c) => c.wall)).toFixed(0)} ms`,
    );
    console.log(
      `budget ${budget.toFixed(0)} ms (${BUDGET_MS} ms per ${BUDGET_TASKS} tasks): ratio ${(total / budget).toFixed(2)} ${total <= budget ? 'MET' : 'NOT MET'} (goal ≤ 1)`,
    );
  } finally {
    ecs?.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
