// Builders for scheduler tests: a PlacementInstance with sensible defaults (ACTIVE, connected,
// 4096 cpu / 8192 MiB free, the default reserved ports), overridable field by field.
import type { PlacementInstance } from './snapshot.js';

export interface InstanceOptions {
  status?: string;
  agentConnected?: boolean;
  agentVersion?: string;
  ec2InstanceId?: string;
  registeredAt?: number;
  runningTasksCount?: number;
  zone?: string;
  attributes?: Record<string, string | undefined>;
  taskGroups?: Record<string, number>;
  cpu?: number;
  memory?: number;
  ports?: number[];
  portsUdp?: number[];
  gpuIds?: string[];
}

export function instance(id: string, o: InstanceOptions = {}): PlacementInstance {
  const attributes = new Map<string, string | undefined>(Object.entries(o.attributes ?? {}));
  if (o.zone !== undefined) attributes.set('ecs.availability-zone', o.zone);
  return {
    id,
    arn: `arn:aws:ecs:us-east-1:123456789012:container-instance/test/${id}`,
    status: o.status ?? 'ACTIVE',
    agentConnected: o.agentConnected ?? true,
    agentVersion: o.agentVersion ?? '1.80.0',
    ec2InstanceId: o.ec2InstanceId ?? `i-${id}`,
    registeredAt: o.registeredAt ?? 1_700_000_000,
    runningTasksCount: o.runningTasksCount ?? 0,
    pendingTasksCount: 0,
    attributes,
    taskGroups: new Map(Object.entries(o.taskGroups ?? {})),
    remaining: {
      cpu: o.cpu ?? 4096,
      memory: o.memory ?? 8192,
      ports: new Set(o.ports ?? [22]),
      portsUdp: new Set(o.portsUdp ?? []),
    },
    gpuIds: o.gpuIds ?? [],
  };
}
