// A cluster for placement tests: container instances registered through the ECS API (zones,
// sizes, attributes, GPUs), their agents played by scripted agents (src/gateway/fake-agent.ts)
// with up to 100 instances per session, as a host's agent would hold them. Instances registered
// with `connect: false` keep agentConnected false, like a host whose agent is down.
import assert from 'node:assert/strict';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  RegisterContainerInstanceCommand,
  type Attribute,
  type ECSClient,
  type Failure,
  type Task,
} from '@aws-sdk/client-ecs';
import { FakeAgent } from '../../src/gateway/fake-agent.js';

/** The gateway takes at most this many instances per hello (src/gateway/messages.ts). */
const INSTANCES_PER_SESSION = 100;

export interface InstanceSpec {
  /** The test's own name for the instance. */
  name: string;
  zone?: string;
  cpu?: number;
  memory?: number;
  attributes?: Record<string, string | undefined>;
  gpus?: string[];
  /** Default true: an agent session serves it. */
  connect?: boolean;
}

export class PlacementCluster {
  /** Instance ARN by the test's name, and back. */
  readonly arnOf = new Map<string, string>();
  readonly nameOf = new Map<string, string>();
  readonly agents: FakeAgent[] = [];
  private sessions = 0;

  private constructor(
    readonly ecs: ECSClient,
    readonly url: string,
    readonly name: string,
  ) {}

  static async create(ecs: ECSClient, url: string, name: string): Promise<PlacementCluster> {
    await ecs.send(new CreateClusterCommand({ clusterName: name }));
    return new PlacementCluster(ecs, url, name);
  }

  async addInstances(specs: readonly InstanceSpec[]): Promise<void> {
    const toConnect: string[] = [];
    for (const s of specs) {
      const attributes: Attribute[] = Object.entries(s.attributes ?? {}).map(([name, value]) =>
        value === undefined ? { name } : { name, value },
      );
      if (s.zone !== undefined) attributes.push({ name: 'ecs.availability-zone', value: s.zone });
      const r = await this.ecs.send(
        new RegisterContainerInstanceCommand({
          cluster: this.name,
          totalResources: [
            { name: 'CPU', type: 'INTEGER', integerValue: s.cpu ?? 4096 },
            { name: 'MEMORY', type: 'INTEGER', integerValue: s.memory ?? 8192 },
          ],
          attributes,
          ...(s.gpus ? { platformDevices: s.gpus.map((id) => ({ id, type: 'GPU' as const })) } : {}),
          versionInfo: { agentVersion: '1.80.0' },
        }),
      );
      const arn = r.containerInstance!.containerInstanceArn!;
      this.arnOf.set(s.name, arn);
      this.nameOf.set(arn, s.name);
      if (s.connect !== false) toConnect.push(arn);
    }
    for (let i = 0; i < toConnect.length; i += INSTANCES_PER_SESSION) {
      const { agent, welcome } = await FakeAgent.session(this.url, {
        hostId: `${this.name}-host-${++this.sessions}`,
        instances: toConnect.slice(i, i + INSTANCES_PER_SESSION).map((containerInstanceArn) => ({
          containerInstanceArn,
        })),
      });
      assert.equal(welcome.refusedInstances, undefined);
      this.agents.push(agent);
    }
  }

  /** The test's instance name of each task, in task order. */
  placedOn(tasks: readonly Task[]): string[] {
    return tasks.map((t) => this.nameOf.get(t.containerInstanceArn ?? '') ?? '(none)');
  }

  /** Failures as [instance name, reason] pairs, in answer order. */
  reasons(failures: readonly Failure[] | undefined): [string, string][] {
    return (failures ?? []).map((f) => [this.nameOf.get(f.arn ?? '') ?? f.arn ?? '', f.reason ?? '']);
  }

  async describe(taskArns: readonly string[]): Promise<Task[]> {
    const out: Task[] = [];
    for (let i = 0; i < taskArns.length; i += 100) {
      const r = await this.ecs.send(
        new DescribeTasksCommand({ cluster: this.name, tasks: taskArns.slice(i, i + 100) }),
      );
      assert.deepEqual(r.failures, []);
      out.push(...(r.tasks ?? []));
    }
    return out;
  }

  close(): void {
    for (const a of this.agents) a.terminate();
  }
}

export function tally(list: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of list) out[x] = (out[x] ?? 0) + 1;
  return out;
}
