import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '../../generated/ecs/types.js';
import type { Action } from './events.js';
import type { KnownContainer, TaskState } from './task-state.js';
import { agentTask, c, stateOf } from './test-support.js';
import { computeNextActions } from './transitions.js';

const NOW = 1_000_000;

function short(a: Action): string {
  switch (a.kind) {
    case 'pull':
    case 'create':
    case 'start':
      return `${a.kind}:${a.container}`;
    case 'stop':
      return `stop:${a.container}/${a.timeoutSeconds}`;
    case 'resync':
    case 'setup-network':
    case 'create-volumes':
    case 'teardown-network':
    case 'cleanup':
      return a.kind;
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

interface Case {
  name: string;
  containers?: ContainerDefinition[];
  networkMode?: 'awsvpc' | 'bridge' | 'host' | 'none';
  volumes?: { name: string; host?: { sourcePath?: string } }[];
  known?: Record<string, Partial<KnownContainer>>;
  state?: Partial<TaskState>;
  network?: Partial<NonNullable<TaskState['network']>>;
  busy?: string[];
  holdCleanup?: boolean;
  expect: string[];
  wakeAt?: number;
}

const two = [c('app'), c('side', { essential: false })];

const cases: Case[] = [
  // --- starting, bridge ------------------------------------------------------------------------
  { name: 'new task: pull every container', containers: two, expect: ['pull:app', 'pull:side'] },
  { name: 'a pull in flight is not repeated', containers: two, busy: ['app'], expect: ['pull:side'] },
  {
    name: 'pulled: create',
    containers: two,
    known: { app: { known: 'PULLED' }, side: { known: 'PULLED' } },
    expect: ['create:app', 'create:side'],
  },
  {
    name: 'created: start',
    containers: two,
    known: { app: { known: 'CREATED', dockerId: 'x' }, side: { known: 'RUNNING' } },
    expect: ['start:app'],
  },
  {
    name: 'running: nothing to do',
    containers: two,
    known: { app: { known: 'RUNNING' }, side: { known: 'RUNNING' } },
    expect: [],
  },
  {
    name: 'a stopped non-essential container stays stopped',
    containers: two,
    known: { app: { known: 'RUNNING' }, side: { known: 'STOPPED' } },
    expect: [],
  },
  {
    name: 'retry back-off: not before retryAt, and a wake-up then',
    containers: [c('app')],
    state: { retries: { app: { attempts: 1, retryAt: NOW + 500, lastError: 'x' } } },
    expect: [],
    wakeAt: NOW + 500,
  },
  {
    name: 'retry back-off over: try again',
    containers: [c('app')],
    state: { retries: { app: { attempts: 1, retryAt: NOW - 1, lastError: 'x' } } },
    expect: ['pull:app'],
  },
  // --- dependsOn -----------------------------------------------------------------------------
  {
    name: 'START dependency not started: wait (and look again in a second)',
    containers: [c('app', { dependsOn: [{ containerName: 'db', condition: 'START' }] }), c('db')],
    known: { app: { known: 'CREATED', waitingSince: NOW - 10 }, db: { known: 'CREATED' } },
    expect: ['start:db'],
    wakeAt: NOW + 1000,
  },
  {
    name: 'START dependency running: start',
    containers: [c('app', { dependsOn: [{ containerName: 'db', condition: 'START' }] }), c('db')],
    known: { app: { known: 'CREATED' }, db: { known: 'RUNNING', startedAt: 1 } },
    expect: ['start:app'],
  },
  {
    name: 'SUCCESS dependency still running: wait',
    containers: [
      c('app', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
      c('init', { essential: false }),
    ],
    known: { app: { known: 'CREATED' }, init: { known: 'RUNNING', startedAt: 1 } },
    expect: [],
  },
  {
    name: 'SUCCESS dependency exited 0: start',
    containers: [
      c('app', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
      c('init', { essential: false }),
    ],
    known: { app: { known: 'CREATED' }, init: { known: 'STOPPED', startedAt: 1, exitCode: 0 } },
    expect: ['start:app'],
  },
  {
    name: 'COMPLETE dependency exited non-zero: start',
    containers: [
      c('app', { dependsOn: [{ containerName: 'init', condition: 'COMPLETE' }] }),
      c('init', { essential: false }),
    ],
    known: { app: { known: 'CREATED' }, init: { known: 'STOPPED', startedAt: 1, exitCode: 3 } },
    expect: ['start:app'],
  },
  {
    name: 'HEALTHY dependency starting: wait',
    containers: [
      c('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
      c('db', { healthCheck: { command: ['CMD', 'true'] } }),
    ],
    known: {
      app: { known: 'CREATED' },
      db: { known: 'RUNNING', startedAt: 1, health: { status: 'UNKNOWN' } },
    },
    expect: [],
  },
  {
    name: 'HEALTHY dependency healthy: start',
    containers: [
      c('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
      c('db', { healthCheck: { command: ['CMD', 'true'] } }),
    ],
    known: {
      app: { known: 'CREATED' },
      db: { known: 'RUNNING', startedAt: 1, health: { status: 'HEALTHY' } },
    },
    expect: ['start:app'],
  },
  {
    name: 'volumesFrom source not created: the consumer is not created yet',
    containers: [c('app', { volumesFrom: [{ sourceContainer: 'data' }] }), c('data')],
    known: { app: { known: 'PULLED' }, data: { known: 'NONE' } },
    expect: ['pull:data'],
  },
  {
    name: 'link target created: create; not running: do not start',
    containers: [c('app', { links: ['db:database'] }), c('db')],
    known: { app: { known: 'CREATED' }, db: { known: 'CREATED' } },
    expect: ['start:db'],
  },
  // --- awsvpc and volumes --------------------------------------------------------------------
  {
    name: 'awsvpc: network first, nothing pulled before it',
    networkMode: 'awsvpc',
    containers: two,
    expect: ['setup-network'],
  },
  {
    name: 'awsvpc: network set-up in flight',
    networkMode: 'awsvpc',
    containers: two,
    busy: ['#network'],
    expect: [],
  },
  {
    name: 'awsvpc: network ready, pull',
    networkMode: 'awsvpc',
    containers: [c('app')],
    network: { status: 'READY', ip: '198.19.0.2' },
    expect: ['pull:app'],
  },
  {
    name: 'docker volumes: created before any container',
    containers: [c('app', { mountPoints: [{ sourceVolume: 'data', containerPath: '/d' }] })],
    volumes: [{ name: 'data' }],
    known: { app: { known: 'PULLED' } },
    expect: ['create-volumes'],
  },
  {
    name: 'host volumes only: no volume step',
    containers: [c('app')],
    volumes: [{ name: 'h', host: { sourcePath: '/tmp' } }],
    known: { app: { known: 'PULLED' } },
    expect: ['create:app'],
  },
  {
    name: 'docker volumes ready: create',
    containers: [c('app')],
    volumes: [{ name: 'data' }],
    state: { volumes: { owned: { data: 'berth-x-data' }, ready: true } },
    known: { app: { known: 'PULLED' } },
    expect: ['create:app'],
  },
  // --- resync --------------------------------------------------------------------------------
  { name: 'resync before anything else', containers: two, state: { needsResync: true }, expect: ['resync'] },
  { name: 'resync in flight: nothing else', containers: two, busy: ['#resync'], expect: [] },
  // --- stopping ------------------------------------------------------------------------------
  {
    name: 'stop running containers with their stop timeout',
    containers: [c('app', { stopTimeout: 5 }), c('side', { essential: false })],
    state: { desired: 'STOPPED' },
    known: { app: { known: 'RUNNING' }, side: { known: 'RUNNING' } },
    expect: ['stop:app/5', 'stop:side/30'],
  },
  {
    name: 'a container others depend on is stopped after them',
    containers: [c('app', { dependsOn: [{ containerName: 'proxy', condition: 'START' }] }), c('proxy')],
    state: { desired: 'STOPPED' },
    known: { app: { known: 'RUNNING' }, proxy: { known: 'RUNNING' } },
    expect: ['stop:app/30'],
  },
  {
    name: '... and once they stopped, it is stopped',
    containers: [c('app', { dependsOn: [{ containerName: 'proxy', condition: 'START' }] }), c('proxy')],
    state: { desired: 'STOPPED' },
    known: { app: { known: 'STOPPED' }, proxy: { known: 'RUNNING' } },
    expect: ['stop:proxy/30'],
  },
  {
    name: 'a stop in flight is not repeated',
    containers: [c('app')],
    state: { desired: 'STOPPED' },
    known: { app: { known: 'RUNNING' } },
    busy: ['app'],
    expect: [],
  },
  {
    name: 'awsvpc: teardown once every container stopped',
    networkMode: 'awsvpc',
    containers: [c('app')],
    state: { desired: 'STOPPED', known: 'DEPROVISIONING' },
    network: { status: 'READY', ip: '198.19.0.2' },
    known: { app: { known: 'STOPPED' } },
    expect: ['teardown-network'],
  },
  {
    name: 'awsvpc: no teardown while a container still runs',
    networkMode: 'awsvpc',
    containers: [c('app')],
    state: { desired: 'STOPPED' },
    network: { status: 'READY', ip: '198.19.0.2' },
    known: { app: { known: 'RUNNING' } },
    expect: ['stop:app/30'],
  },
  {
    name: 'awsvpc: an address allocated before a crash is torn down too',
    networkMode: 'awsvpc',
    containers: [c('app')],
    state: { desired: 'STOPPED' },
    network: { status: 'NONE', ip: '198.19.0.2' },
    known: { app: { known: 'STOPPED' } },
    expect: ['teardown-network'],
  },
  // --- stopped -------------------------------------------------------------------------------
  {
    name: 'stopped: wait for the clean-up time',
    containers: [c('app')],
    state: { desired: 'STOPPED', known: 'STOPPED', cleanupAt: NOW + 60_000 },
    known: { app: { known: 'STOPPED' } },
    expect: [],
    wakeAt: NOW + 60_000,
  },
  {
    name: 'stopped and due: clean up',
    containers: [c('app')],
    state: { desired: 'STOPPED', known: 'STOPPED', cleanupAt: NOW },
    known: { app: { known: 'STOPPED' } },
    expect: ['cleanup'],
  },
  {
    name: 'stopped and due, but the last report is not acknowledged: hold',
    containers: [c('app')],
    state: { desired: 'STOPPED', known: 'STOPPED', cleanupAt: NOW },
    known: { app: { known: 'STOPPED' } },
    holdCleanup: true,
    expect: [],
  },
  {
    name: 'cleaned: nothing more, ever',
    containers: [c('app')],
    state: { desired: 'STOPPED', known: 'STOPPED', cleanupAt: 0, cleaned: true },
    expect: [],
  },
];

describe('computeNextActions', () => {
  for (const k of cases) {
    it(k.name, () => {
      const task = agentTask(k.containers ?? [c('app')], {
        taskDefinition: {
          ...(k.networkMode ? { networkMode: k.networkMode } : {}),
          ...(k.volumes ? { volumes: k.volumes } : {}),
        },
        ...(k.networkMode === 'awsvpc' ? { awsvpcConfiguration: { subnets: ['subnet-1'] } } : {}),
      });
      const s = stateOf(task, k.known ?? {}, k.state ?? {});
      if (k.network) Object.assign(s.network!, k.network);
      const next = computeNextActions(s, new Set(k.busy ?? []), NOW, { holdCleanup: k.holdCleanup ?? false });
      assert.deepEqual(next.actions.map(short), k.expect);
      assert.equal(next.wakeAt, k.wakeAt);
    });
  }

  it('covers every action kind in the table', () => {
    const kinds = new Set<string>();
    for (const k of cases) for (const e of k.expect) kinds.add(e.split(':')[0]!);
    for (const kind of [
      'resync',
      'setup-network',
      'create-volumes',
      'pull',
      'create',
      'start',
      'stop',
      'teardown-network',
      'cleanup',
    ]) {
      assert.ok(kinds.has(kind), `no case yields ${kind}`);
    }
  });
});
