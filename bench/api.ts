// bench/api: ECS API throughput and latency, Berth against moto (the in-memory ECS emulator
// already on this machine) as the baseline. N keep-alive clients for a bounded time send a mix
// of RegisterTaskDefinition, DescribeTaskDefinition, DescribeClusters, ListTaskDefinitions.
//
//   npm run bench:api -- [--clients 32] [--seconds 10] [--max-requests 200000] [--no-moto]
//
// Both servers get the same requests over loopback from this one process. Goal (issue 2): at
// least 5x moto's throughput at equal or better p99, and p99 under 10 ms at 32 clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { freePort, startBerthServer, type BerthProcess } from '../test/support/berth-process.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    /** Unmeasured load first, so both servers are measured warm (JIT, caches). */
    warmup: { type: 'string', default: '3' },
    'max-requests': { type: 'string', default: '200000' },
    'no-moto': { type: 'boolean', default: false },
    /** BERTH_SQLITE_SYNCHRONOUS for the server under test; empty = the server's default (NORMAL). */
    sync: { type: 'string', default: '' },
    /** Load an already running Berth on this port instead of starting one (for profiling). */
    port: { type: 'string' },
  },
});
const CLIENTS = Number(args.clients);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const MAX_REQUESTS = Number(args['max-requests']);
const TARGET = 'AmazonEC2ContainerServiceV20141113';
const AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261121/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0';

interface Result {
  name: string;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

function call(agent: Agent, port: number, op: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `${TARGET}.${op}`,
          authorization: AUTH,
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function taskDef(i: number): unknown {
  return {
    family: `bench-${i % 20}`,
    containerDefinitions: [
      {
        name: 'web',
        image: 'busybox',
        memory: 128,
        cpu: 64,
        essential: true,
        portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
        environment: [{ name: 'N', value: String(i) }],
      },
    ],
  };
}

// The mix: a quarter each. Families are pre-registered so Describe always finds one.
function nextCall(i: number): [string, unknown] {
  switch (i % 4) {
    case 0:
      return ['RegisterTaskDefinition', taskDef(i)];
    case 1:
      return ['DescribeTaskDefinition', { taskDefinition: `bench-${i % 20}` }];
    case 2:
      return ['DescribeClusters', { clusters: ['bench'] }];
    default:
      return ['ListTaskDefinitions', { familyPrefix: `bench-${i % 20}`, maxResults: 10 }];
  }
}

async function prepare(port: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const s = await call(agent, port, 'CreateCluster', { clusterName: 'bench' });
  if (s !== 200) throw new Error(`CreateCluster answered ${s}`);
  for (let i = 0; i < 20; i++) {
    const r = await call(agent, port, 'RegisterTaskDefinition', taskDef(i));
    if (r !== 200) throw new Error(`RegisterTaskDefinition answered ${r}`);
  }
  agent.destroy();
}

async function load(name: string, port: number): Promise<Result> {
  await prepare(port);
  if (WARMUP > 0) await run(name, port, WARMUP);
  return run(name, port, SECONDS);
}

async function run(name: string, port: number, seconds: number): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && issued < MAX_REQUESTS) {
      const i = issued++;
      const [op, body] = nextCall(i);
      const t0 = performance.now();
      try {
        const status = await call(agent, port, op, body);
        if (status !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    name,
    requests: latencies.length,
    errors,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    p50: q(0.5),
    p99: q(0.99),
  };
}

async function startMoto(): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('python3', ['-m', 'moto.server', '-p', String(port), '-H', '127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`moto exited: ${err}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/moto-api/`);
      if (r.status < 500) break;
    } catch {
      // starting
    }
    if (Date.now() > deadline) throw new Error('moto did not start in 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, proc };
}

function show(r: Result): string {
  return `${r.name.padEnd(6)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99
    .toFixed(2)
    .padStart(7)} ms   (${r.requests} requests, ${r.errors} errors, ${r.seconds.toFixed(1)} s)`;
}

let berth: BerthProcess | undefined;
let moto: { port: number; proc: ChildProcess } | undefined;
try {
  console.log(
    `bench/api: ${CLIENTS} keep-alive clients, ${SECONDS} s each (at most ${MAX_REQUESTS} requests)`,
  );
  console.log(
    'mix: RegisterTaskDefinition, DescribeTaskDefinition, DescribeClusters, ListTaskDefinitions (1/4 each)',
  );
  if (!args.port)
    berth = await startBerthServer(args.sync ? { env: { BERTH_SQLITE_SYNCHRONOUS: args.sync } } : {});
  const b = await load('berth', args.port ? Number(args.port) : berth!.port);
  console.log(show(b));
  if (!args['no-moto']) {
    moto = await startMoto();
    const m = await load('moto', moto.port);
    console.log(show(m));
    console.log(
      `ratio berth/moto: throughput ${(b.rps / m.rps).toFixed(1)}x (goal >= 5x), p99 ${(b.p99 / m.p99).toFixed(2)} (goal <= 1)`,
    );
  }
  console.log(`goal p99 < 10 ms at 32 clients: ${b.p99 < 10 ? 'met' : 'NOT met'} (${b.p99.toFixed(2)} ms)`);
} finally {
  await berth?.stop();
  moto?.proc.kill('SIGKILL');
}
