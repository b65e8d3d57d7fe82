// `berth up` with a simulated engine, for bench:overhead: `berth up`'s own LocalStack (the control
// plane on its SQLite store, the agent as the cluster's EC2 and managed capacity, one process),
// but the agent's container runtime is the FakeRuntime, paced like a real engine. Prints
// `ready <url>` once the agent's session is open; SIGTERM stops it.
import { pino } from 'pino';
import { parseAgentConfig } from '../../src/agent/config.js';
import { macAddressFor, type AttachRequest } from '../../src/agent/network/plumbing.js';
import { FakeRuntime } from '../../src/agent/runtime/fake-runtime.js';
import { parseServerConfig } from '../../src/config/server-config.js';
import { LocalStack } from '../../src/up/local-stack.js';
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
  const runtime = new FakeRuntime();
  runtime.addImage('berth-test/busybox:latest');
  const createLane = lane(o.createMs);
  const startLane = lane(o.startMs);
  const create = runtime.createContainer.bind(runtime);
  const start = runtime.startContainer.bind(runtime);
  runtime.createContainer = (spec) => createLane(() => create(spec));
  runtime.startContainer = (id) => startLane(() => start(id));
  const server = parseServerConfig({ host: '127.0.0.1', port: '0', dataDir: o.dataDir, logLevel: 'warn' });
  const stack = new LocalStack({
    server,
    agent: parseAgentConfig({
      // Replaced by the control plane's URL once it listens, as in `berth up`.
      endpoint: 'http://127.0.0.1:1',
      dataDir: join(o.dataDir, 'agent'),
      region: server.defaultRegion,
      managedCapacity: true,
      taskSubnetCidr: '198.19.96.0/20',
      taskNetworkName: 'bench-overhead',
      metadataListen: '127.0.0.1:0',
      logLevel: server.logLevel,
    }),
    log: pino({ level: server.logLevel }),
    agentDeps: {
      runtime,
      // The fake's containers have no namespace to plumb: the plumber only answers, as netplumb does.
      plumber: { attach: (req: AttachRequest) => Promise.resolve({ macAddress: macAddressFor(req.ip) }) },
      netwaitPath: join(o.dataDir, 'netwait'),
    },
  });
  const { url } = await stack.start();
  process.stdout.write(`ready ${url}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await stack.stop();
}
