// What the agent's side services (task metadata endpoint, logs relay) may read of the tasks the
// agent runs. The task engine implements it; readers never mutate what they get.
import type { AgentTask, EniObservation } from '../domain/agent-protocol.js';
import type { ContainerStats, LogOptions, LogStream } from './runtime/container-runtime.js';

export interface ContainerSnapshot {
  name: string;
  containerArn: string;
  /** The id in this container's metadata URIs (`.../v4/<metadataId>`). */
  metadataId: string;
  dockerId?: string;
  dockerName?: string;
  image: string;
  imageId?: string;
  knownStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  desiredStatus: 'RUNNING' | 'STOPPED';
  exitCode?: number;
  /** Epoch ms. */
  createdAt?: number;
  startedAt?: number;
  finishedAt?: number;
  health?: {
    status: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
    since?: number;
    output?: string;
    exitCode?: number;
  };
  ports: { containerPort: number; hostPort: number; protocol: 'tcp' | 'udp'; hostIp: string }[];
  /** One entry per network the container is on. */
  networks: { networkMode: string; ipv4Addresses: string[]; ipv4SubnetCidrBlock?: string }[];
  labels: Record<string, string>;
  limits: { cpu?: number; memory?: number };
  logDriver?: string;
  logOptions?: Record<string, string>;
  type: 'NORMAL';
}

export interface TaskSnapshot {
  task: AgentTask;
  knownStatus: string;
  desiredStatus: 'RUNNING' | 'STOPPED';
  /** Epoch ms. */
  pullStartedAt?: number;
  pullStoppedAt?: number;
  executionStoppedAt?: number;
  availabilityZone?: string;
  eni?: EniObservation;
  containers: ContainerSnapshot[];
}

export interface AgentTaskView {
  byTaskArn(taskArn: string): TaskSnapshot | undefined;
  /** When the agent cleaned up a task it ran (epoch ms): it remembers that for a day. */
  cleanedUpAt(taskArn: string): number | undefined;
  /** The task and container a metadata id belongs to. */
  byMetadataId(metadataId: string): { task: TaskSnapshot; container: ContainerSnapshot } | undefined;
  stats(dockerId: string): Promise<ContainerStats>;
  logs(dockerId: string, options: LogOptions): LogStream;
}
