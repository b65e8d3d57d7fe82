// `berth up` as one object: the control plane (BerthServer on the embedded store) and this host's
// agent in the same process, the agent serving as the cluster's EC2 capacity and as managed
// (FARGATE) capacity.
//
//   start():  Docker engine answers? ─► control plane listens ─► cluster exists ─► agent starts
//             ─► agent session open (managed capacity recorded: FARGATE tasks can place)
//   stop():   agent (containers keep running) ─► control plane
//
// A failed start undoes what it started, so the caller never holds half a stack.
import type { Logger } from 'pino';
import { BerthAgent, type BerthAgentDeps } from '../agent/agent.js';
import type { AgentConfig } from '../agent/config.js';
import { EcsApiClient } from '../agent/ecs-api.js';
import type { ServerConfig } from '../config/server-config.js';
import { systemClock } from '../domain/clock.js';
import { BerthServer } from '../server/berth-server.js';
import type { BannerInput } from './banner.js';
import { checkDocker, dockerMissingMessage } from './docker-check.js';

/** How long the in-process agent may take to open its session before `up` gives up. */
export const AGENT_CONNECT_TIMEOUT_MS = 30_000;

export interface LocalStackOptions {
  server: ServerConfig;
  /** Its endpoint is replaced by the control plane's URL once that listens. */
  agent: AgentConfig;
  log: Logger;
  agentConnectTimeoutMs?: number;
  /** What the agent is built with instead of the local Docker engine (benches): its runtime is the engine checked. */
  agentDeps?: Omit<BerthAgentDeps, 'log'>;
}

/** No Docker engine answers: the message says how to get one. */
export class DockerMissingError extends Error {
  override name = 'DockerMissingError';
}

export class AgentNotConnectedError extends Error {
  override name = 'AgentNotConnectedError';
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class LocalStack {
  private state: State = 'new';
  private server: BerthServer | undefined;
  private agent: BerthAgent | undefined;

  constructor(private readonly opts: LocalStackOptions) {}

  async start(): Promise<BannerInput> {
    if (this.state !== 'new') throw new Error(`cannot start a stack that is ${this.state}`);
    this.state = 'starting';
    const { log } = this.opts;
    const docker = await checkDocker(this.opts.agent.dockerSocket, this.opts.agentDeps?.runtime);
    if (!docker.ok) {
      this.state = 'stopped';
      throw new DockerMissingError(dockerMissingMessage(this.opts.agent.dockerSocket, docker.reason));
    }
    try {
      this.server = new BerthServer(this.opts.server, systemClock, log.child({ svc: 'berth-server' }));
      const url = await this.server.start();
      const agentConfig: AgentConfig = { ...this.opts.agent, endpoint: url };
      // The agent creates `default` itself, as the ECS agent does; any other name is made here
      // (CreateCluster is idempotent).
      if (agentConfig.cluster !== 'default') {
        await new EcsApiClient({ endpoint: url, region: agentConfig.region }).call('CreateCluster', {
          clusterName: agentConfig.cluster,
        });
      }
      if (this.isStopping()) throw new Error('stopped while starting');
      this.agent = new BerthAgent(agentConfig, {
        ...this.opts.agentDeps,
        log: log.child({ svc: 'berth-agent' }),
      });
      await this.agent.start();
      await this.waitConnected(this.agent);
      this.state = 'running';
      return {
        url,
        region: agentConfig.region,
        cluster: agentConfig.cluster,
        dataDir: this.opts.server.dataDir,
        agentDataDir: agentConfig.dataDir,
        taskSubnetCidr: agentConfig.taskSubnetCidr,
        dockerVersion: docker.version,
      };
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Agent first (it leaves containers running), then the control plane. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    try {
      await this.agent?.stop();
    } finally {
      await this.server?.stop();
      this.state = 'stopped';
    }
  }

  private isStopping(): boolean {
    return this.state === 'stopping' || this.state === 'stopped';
  }

  private async waitConnected(agent: BerthAgent): Promise<void> {
    const timeout = this.opts.agentConnectTimeoutMs ?? AGENT_CONNECT_TIMEOUT_MS;
    const deadline = Date.now() + timeout;
    while (!agent.connected) {
      if (this.isStopping()) throw new Error('stopped while starting');
      if (Date.now() > deadline) {
        throw new AgentNotConnectedError(
          `the local agent did not open its session to the control plane within ${timeout} ms (see the log above)`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
