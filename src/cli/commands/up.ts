// `berth up`: everything on this machine in one process: the control plane on the embedded store
// and an agent that runs the cluster's EC2 and FARGATE tasks on the local Docker engine. Prints
// the endpoint and AWS CLI commands to try; Ctrl-C (or SIGTERM) stops both, leaving running
// task containers alone for the next `berth up` to pick up.
import { join } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { parseAgentConfig } from '../../agent/config.js';
import { parseServerConfig } from '../../config/server-config.js';
import { upBanner } from '../../up/banner.js';
import { DockerMissingError, LocalStack } from '../../up/local-stack.js';
import { runUntilSignal } from '../run-until-signal.js';

/** Exit status when no Docker engine answers (distinct from 1, a failure, and 2, bad options). */
export const EXIT_NO_DOCKER = 3;

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'run Berth on this machine: the ECS API plus an agent running tasks on the local Docker engine',
    )
    .option('--host <host>', 'interface the API listens on (BERTH_HOST, default 127.0.0.1)')
    .option('--port <port>', 'API port (BERTH_PORT, default 7345)')
    .option('--data-dir <dir>', 'store directory (BERTH_DATA_DIR, default ~/.berth)')
    .option('--account-id <id>', 'account id in ARNs (BERTH_ACCOUNT_ID)')
    .option('--region <region>', 'region when a request names none (BERTH_REGION, default us-east-1)')
    .option('--cluster <name>', 'cluster this host serves; created if missing (default "default")')
    .option(
      '--agent-data-dir <dir>',
      'agent state directory (BERTH_AGENT_DATA_DIR, default <data-dir>/agent)',
    )
    .option(
      '--task-subnet <cidr>',
      'address range of awsvpc tasks (BERTH_AGENT_TASK_SUBNET, default 198.19.0.0/24)',
    )
    .option(
      '--task-network <name>',
      'Docker network of awsvpc tasks (BERTH_AGENT_TASK_NETWORK, default berth-task-net)',
    )
    .option(
      '--awsvpc-plumbing <who>',
      'auto | agent | docker: who attaches awsvpc interfaces (BERTH_AGENT_AWSVPC_PLUMBING, default auto)',
    )
    .option('--availability-zone <az>', 'availability zone of this host (default <region>a)')
    .option(
      '--docker-socket <path>',
      'Docker engine socket (BERTH_AGENT_DOCKER_SOCKET, default /var/run/docker.sock)',
    )
    .option(
      '--metadata-listen <host:port>',
      'task metadata endpoint (BERTH_AGENT_METADATA_LISTEN, default 169.254.170.2:80)',
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (BERTH_LOG_LEVEL, default info)')
    .action(async (o: Record<string, string | undefined>) => {
      const server = parseServerConfig({
        host: o.host,
        port: o.port,
        dataDir: o.dataDir,
        accountId: o.accountId,
        defaultRegion: o.region,
        logLevel: o.logLevel,
      });
      const agent = parseAgentConfig({
        // Replaced by the control plane's actual URL once it listens (the port may be 0).
        endpoint: `http://127.0.0.1:${server.port || 1}`,
        cluster: o.cluster,
        dataDir:
          o.agentDataDir ?? (process.env.BERTH_AGENT_DATA_DIR ? undefined : join(server.dataDir, 'agent')),
        region: server.defaultRegion,
        managedCapacity: true,
        taskSubnetCidr: o.taskSubnet,
        taskNetworkName: o.taskNetwork,
        awsvpcPlumbing: o.awsvpcPlumbing,
        availabilityZone: o.availabilityZone,
        dockerSocket: o.dockerSocket,
        metadataListen: o.metadataListen,
        logLevel: server.logLevel,
      });
      const log = pino({ level: server.logLevel });
      const stack = new LocalStack({ server, agent, log });
      await runUntilSignal(
        log,
        async () => {
          try {
            process.stdout.write(upBanner(await stack.start()));
          } catch (e) {
            if (e instanceof DockerMissingError) {
              console.error(e.message);
              process.exit(EXIT_NO_DOCKER);
            }
            if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
              console.error(
                `berth up: ${server.host}:${server.port} is already in use (another Berth?); choose another port with --port`,
              );
              process.exit(1);
            }
            throw e;
          }
        },
        () => stack.stop(),
      );
    });
}
