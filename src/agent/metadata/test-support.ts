// Shared by the metadata and logs tests: task snapshots as the agent's task engine would publish
// them, and an AgentTaskView over a fixed set of them with scripted stats and logs.
import type { AgentTask } from '../../domain/agent-protocol.js';
import type { ContainerStats, LogLine, LogOptions, LogStream } from '../runtime/container-runtime.js';
import type { AgentTaskView, ContainerSnapshot, TaskSnapshot } from '../task-view.js';

export const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

const clusterArn = 'arn:aws:ecs:us-east-1:123456789012:cluster/default';

export function agentTask(overrides: Partial<AgentTask> = {}): AgentTask {
  return {
    taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef',
    clusterArn,
    account: '123456789012',
    region: 'us-east-1',
    version: 3,
    desiredStatus: 'RUNNING',
    launchType: 'FARGATE',
    availabilityZone: 'us-east-1a',
    taskDefinition: {
      family: 'webserver',
      revision: 4,
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'web', image: 'nginx', memory: 100, cpu: 99 }],
    },
    overrides: {},
    cpu: '256',
    memory: '512',
    containerArns: { web: 'arn:aws:ecs:us-east-1:123456789012:container/default/0123/c-web' },
    tags: [],
    createdAt: T0 / 1000,
    ...overrides,
  };
}

export function containerSnapshot(overrides: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  return {
    name: 'web',
    containerArn: 'arn:aws:ecs:us-east-1:123456789012:container/default/0123/c-web',
    metadataId: 'md-web',
    dockerId: 'd0c0e1d',
    dockerName: 'ecs-webserver-4-web-abc',
    image: 'nginx',
    imageId: 'sha256:1111',
    knownStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    createdAt: T0 + 1_000,
    startedAt: T0 + 1_500,
    ports: [],
    networks: [
      { networkMode: 'awsvpc', ipv4Addresses: ['198.18.4.7'], ipv4SubnetCidrBlock: '198.18.4.0/24' },
    ],
    labels: { 'com.amazonaws.ecs.container-name': 'web' },
    limits: { cpu: 99, memory: 100 },
    logDriver: 'json-file',
    type: 'NORMAL',
    ...overrides,
  };
}

export function taskSnapshot(overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    task: agentTask(),
    knownStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    pullStartedAt: T0 + 100,
    pullStoppedAt: T0 + 900,
    availabilityZone: 'us-east-1a',
    eni: {
      attachmentId: 'att-1',
      subnetId: 'subnet-local',
      networkInterfaceId: 'eni-1',
      macAddress: '02:42:c6:12:04:07',
      privateIPv4Address: '198.18.4.7',
      privateDnsName: 'ip-198-18-4-7.ec2.internal',
    },
    containers: [containerSnapshot()],
    ...overrides,
  };
}

export function sampleStats(read: number, rx: number, tx: number): ContainerStats {
  return {
    read,
    cpuTotalUsageNs: 1_000,
    memoryUsageBytes: 2_000,
    memoryLimitBytes: 100 * 1024 * 1024,
    networkRxBytes: rx,
    networkTxBytes: tx,
    raw: {
      read: new Date(read).toISOString(),
      memory_stats: { usage: 2_000 },
      networks: { eth0: { rx_bytes: rx } },
    },
  };
}

/** A log the fake view serves: lines, then either the end or an error. */
export interface ScriptedLog {
  lines: LogLine[];
  /** With follow, keep the stream open after the lines until closed (as a running container). */
  holdOpen?: boolean;
  error?: string;
}

export class FakeTaskView implements AgentTaskView {
  readonly statsCalls: string[] = [];
  readonly logCalls: { dockerId: string; options: LogOptions }[] = [];
  readonly closedLogs: string[] = [];
  stats_: Map<string, ContainerStats[]> = new Map();
  logs_: Map<string, ScriptedLog> = new Map();

  readonly cleanedUp = new Map<string, number>();

  constructor(readonly tasks: TaskSnapshot[]) {}

  cleanedUpAt(taskArn: string): number | undefined {
    return this.cleanedUp.get(taskArn);
  }

  byTaskArn(taskArn: string): TaskSnapshot | undefined {
    return this.tasks.find((t) => t.task.taskArn === taskArn);
  }

  byMetadataId(metadataId: string): { task: TaskSnapshot; container: ContainerSnapshot } | undefined {
    for (const task of this.tasks) {
      const container = task.containers.find((c) => c.metadataId === metadataId);
      if (container) return { task, container };
    }
    return undefined;
  }

  stats(dockerId: string): Promise<ContainerStats> {
    this.statsCalls.push(dockerId);
    const queue = this.stats_.get(dockerId);
    const next = queue?.shift();
    if (!next) return Promise.reject(new Error(`no stats for ${dockerId}`));
    return Promise.resolve(next);
  }

  logs(dockerId: string, options: LogOptions): LogStream {
    this.logCalls.push({ dockerId, options });
    const script = this.logs_.get(dockerId) ?? { lines: [] };
    let closed = false;
    let wake: (() => void) | undefined;
    const closedLogs = this.closedLogs;
    const tailed =
      options.tail === undefined ? script.lines : options.tail === 0 ? [] : script.lines.slice(-options.tail);
    return {
      close: () => {
        if (!closed) closedLogs.push(dockerId);
        closed = true;
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        for (const l of tailed) {
          if (closed) return;
          await Promise.resolve();
          yield l;
        }
        if (script.error) throw new Error(script.error);
        if (options.follow && script.holdOpen) {
          await new Promise<void>((r) => {
            wake = r;
            if (closed) r();
          });
        }
      },
    };
  }
}
