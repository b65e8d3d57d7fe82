// `berth up` with a simulated engine, for bench:overhead: the control plane on its SQLite store and
// the agent as the cluster's EC2 and managed capacity, in one process as `berth up` runs them,
// but the agent's container runtime is the FakeRuntime, paced like a real engine. Prints
// `ready <url>` once the agent's session is open; SIGTERM stops it.
import { pino } from 'pino';
import { BerthAgent } from '../../src/agent/agent.js';
import { parseAgentConfig } from '../../src/agent/config.js';
import { macAddressFor, type AttachRequest } from '../../src/agent/network/plumbing.js';
import { FakeRuntime } from '../../src/agent/runtime/fake-runtime.js';
import { parseServerConfig } from '../../src/config/server-config.js';
import { BerthServer } from '../../src/server/berth-server.js';
import { join } from 'node:path';
import { sleep } from './bounds.js';

export interface SimulatedUpOptions {
  dataDir: string;
  /** Each create waits for the one before it, then this long. */
  createMs: number;
  /** Each start waits for the one before it, then this long. */
  startMs: number;
}

/** One at a time, each `ms` after the one before: how a busy engine hands back creates or starts. */
function lane(ms: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const p = tail.then(() => sleep(ms)).then(fn);
    tail = p.catch(() => undefined);
    return p;
  };
}

export async function serveSimulated(o: SimulatedUpOptions): Promise<void> {
  const log = pino({ level: 'warn' });
  const server = new BerthServer(
    parseServerConfig({ host: '127.0.0.1', port: '0', dataDir: o.dataDir, logLevel: 'warn' }),
    undefined,
    log.child({ svc: 'berth-server' }),
  );
  const url = await server.start();
  const runtime = new FakeRuntime();
  runtime.addImage('berth-test/busybox:latest');
  const createLane = lane(o.createMs);
  const startLane = lane(o.startMs);
  const create = runtime.createContainer.bind(runtime);
  const start = runtime.startContainer.bind(runtime);
  runtime.createContainer = (spec) => createLane(() => create(spec));
  runtime.startContainer = (id) => startLane(() => start(id));
  const agent = new BerthAgent(
    parseAgentConfig({
      endpoint: url,
      dataDir: join(o.dataDir, 'agent'),
      region: 'us-east-1',
      managedCapacity: true,
      taskSubnetCidr: '198.19.96.0/20',
      taskNetworkName: 'bench-overhead',
      metadataListen: '127.0.0.1:0',
      logLevel: 'warn',
    }),
    {
      runtime,
      log: log.child({ svc: 'berth-agent' }),
      // The fake's containers have no namespace to plumb: the plumber only answers, as netplumb does.
      plumber: { attach: (req: AttachRequest) => Promise.resolve({ macAddress: macAddressFor(req.ip) }) },
      netwaitPath: join(o.dataDir, 'netwait'),
    },
  );
  await agent.start();
  while (!agent.connected) await sleep(20);
  process.stdout.write(`ready ${url}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await agent.stop();
  await server.stop();
}
