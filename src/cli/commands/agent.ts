// `berth agent`: run this host's agent against a control plane (registers the host as a
// container instance and runs the tasks placed on it). Options also come from BERTH_AGENT_*
// variables; see src/agent/config.ts for every option and its default.
import type { Command } from 'commander';
import { BerthAgent } from '../../agent/agent.js';
import { parseAgentConfig, type AgentConfigInput } from '../../agent/config.js';
import { runUntilSignal } from '../run-until-signal.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `name=value` flags → record; a flag without `=` is refused by the config's own check. */
function attributesOf(list: string[] | undefined): Record<string, string> | undefined {
  if (!list || list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    out[eq > 0 ? item.slice(0, eq) : item] = eq > 0 ? item.slice(eq + 1) : '';
  }
  return out;
}

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run the agent of this host: register it with a cluster and run the tasks placed on it')
    .option('--endpoint <url>', 'control plane URL, e.g. http://127.0.0.1:7345 (BERTH_AGENT_ENDPOINT)')
    .option('--cluster <name>', 'cluster to register in (BERTH_AGENT_CLUSTER, default "default")')
    .option('--data-dir <dir>', 'agent state directory (BERTH_AGENT_DATA_DIR, default ~/.berth/agent)')
    .option('--region <region>', 'region of the API calls (BERTH_AGENT_REGION, default us-east-1)')
    .option('--managed-capacity', 'also serve as FARGATE capacity (BERTH_AGENT_MANAGED_CAPACITY)')
    .option(
      '--task-subnet <cidr>',
      'address range of awsvpc tasks on this host (BERTH_AGENT_TASK_SUBNET, default 198.19.0.0/24)',
    )
    .option(
      '--task-network <name>',
      'Docker network of awsvpc tasks (BERTH_AGENT_TASK_NETWORK, default berth-task-net)',
    )
    .option(
      '--awsvpc-plumbing <who>',
      'auto | agent | docker: who attaches awsvpc interfaces (BERTH_AGENT_AWSVPC_PLUMBING, default auto)',
    )
    .option(
      '--availability-zone <az>',
      'ecs.availability-zone (BERTH_AGENT_AVAILABILITY_ZONE, default <region>a)',
    )
    .option('--instance-type <type>', 'ecs.instance-type (BERTH_AGENT_INSTANCE_TYPE, default berth.local)')
    .option(
      '--attribute <name=value>',
      'custom instance attribute; repeatable (BERTH_AGENT_ATTRIBUTES="a=b,c=d")',
      collect,
    )
    .option(
      '--reserved-memory <mib>',
      'memory kept for the host (BERTH_AGENT_RESERVED_MEMORY_MIB, default 256)',
    )
    .option(
      '--docker-socket <path>',
      'Docker engine socket (BERTH_AGENT_DOCKER_SOCKET, default /var/run/docker.sock)',
    )
    .option(
      '--metadata-listen <host:port>',
      'task metadata endpoint (BERTH_AGENT_METADATA_LISTEN, default 169.254.170.2:80)',
    )
    .option(
      '--image-pull-policy <policy>',
      'always|if-not-present|never|remote-or-cached (BERTH_AGENT_IMAGE_PULL_POLICY)',
    )
    .option(
      '--task-cleanup-wait <ms>',
      'how long stopped tasks keep their containers (BERTH_AGENT_TASK_CLEANUP_WAIT_MS, default 600000)',
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (BERTH_AGENT_LOG_LEVEL)')
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      const flags: AgentConfigInput = {
        endpoint: o.endpoint,
        cluster: o.cluster,
        dataDir: o.dataDir,
        region: o.region,
        managedCapacity: o.managedCapacity === true ? true : undefined,
        taskSubnetCidr: o.taskSubnet,
        taskNetworkName: o.taskNetwork,
        awsvpcPlumbing: o.awsvpcPlumbing,
        availabilityZone: o.availabilityZone,
        instanceType: o.instanceType,
        attributes: attributesOf(o.attribute as string[] | undefined),
        reservedMemoryMiB: o.reservedMemory,
        dockerSocket: o.dockerSocket,
        metadataListen: o.metadataListen,
        imagePullPolicy: o.imagePullPolicy,
        taskCleanupWaitMs: o.taskCleanupWait,
        logLevel: o.logLevel,
      };
      const agent = new BerthAgent(parseAgentConfig(flags));
      await runUntilSignal(
        agent.log,
        () => agent.start(),
        () => agent.stop(),
      );
    });
}
