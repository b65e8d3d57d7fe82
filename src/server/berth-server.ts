// The control plane process: store, API, the agent gateway and the controllers, started and
// stopped in order. `start()` resolves once the API listens, the gateway accepts agent sessions
// and the controllers run; `stop()` drains in reverse: controllers first (no sync may write into
// a closing store), then the gateway (its sessions and log relays hold HTTP connections the API
// server would otherwise wait for), the API, the store.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApiApp } from '../api/app.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { ServerConfig } from '../config/server-config.js';
import { parseControllerConfig, type ControllerConfig } from '../controllers/config.js';
import { ControllerManager } from '../controllers/controller-manager.js';
import { buildControllers } from '../controllers/index.js';
import { AgentGateway } from '../gateway/agent-gateway.js';
import { parseGatewayConfig, type GatewayConfig } from '../gateway/config.js';
import type { Store } from '../store/store.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class BerthServer {
  private state: State = 'new';
  private store: Store | undefined;
  private app: FastifyInstance | undefined;
  private gateway: AgentGateway | undefined;
  private controllers: ControllerManager | undefined;
  private readonly gatewayConfig: GatewayConfig;
  private readonly controllerConfig: ControllerConfig;
  readonly log: Logger;
  /** The API's base URL once started, e.g. http://127.0.0.1:7345 */
  url = '';

  constructor(
    private readonly config: ServerConfig,
    private readonly clock: Clock = systemClock,
    log?: Logger,
    gatewayConfig?: GatewayConfig,
    controllerConfig?: ControllerConfig,
  ) {
    this.log = log ?? pino({ level: config.logLevel, base: { svc: 'berth-server' } });
    // Parsed here so that a bad BERTH_AGENT_* variable fails before anything starts.
    this.gatewayConfig = gatewayConfig ?? parseGatewayConfig(process.env);
    this.controllerConfig = controllerConfig ?? parseControllerConfig(process.env);
  }

  async start(): Promise<string> {
    if (this.state !== 'new') throw new Error(`cannot start a server that is ${this.state}`);
    this.state = 'starting';
    mkdirSync(this.config.dataDir, { recursive: true });
    const dbPath = join(this.config.dataDir, 'berth.db');
    this.store = await openSqliteStore({ path: dbPath, synchronous: this.config.sqliteSynchronous });
    this.app = buildApiApp({
      store: this.store,
      clock: this.clock,
      log: this.log,
      accountId: this.config.accountId,
      defaultRegion: this.config.defaultRegion,
      bodyLimit: this.config.bodyLimit,
      isReady: () => this.state === 'running',
    });
    this.gateway = new AgentGateway({
      store: this.store,
      clock: this.clock,
      log: this.log,
      config: this.gatewayConfig,
      accountId: this.config.accountId,
      defaultRegion: this.config.defaultRegion,
    });
    // Routes must exist before the app listens; sessions are accepted once the gateway starts.
    this.gateway.registerRoutes(this.app);
    await this.app.listen({ host: this.config.host, port: this.config.port });
    const addr = this.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.config.port;
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    this.url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    await this.gateway.start(this.app.server);
    const store = this.store;
    const controllers = new ControllerManager({
      store,
      clock: this.clock,
      log: this.log,
      resyncIntervalMs: this.controllerConfig.resyncIntervalMs,
      workers: this.controllerConfig.workers,
    });
    this.controllers = controllers;
    const deps = {
      store,
      clock: this.clock,
      log: this.log,
      config: this.controllerConfig,
      retention: {
        stoppedTaskRetentionMs: this.config.stoppedTaskRetentionMs,
        intervalMs: this.config.retentionIntervalMs,
      },
      enqueue: (name: string, key: string, afterMs?: number) => controllers.enqueue(name, key, afterMs),
    };
    for (const c of buildControllers(deps)) controllers.register(c);
    await controllers.start();
    this.state = 'running';
    this.log.info(
      { url: this.url, dataDir: this.config.dataDir, store: this.store.backend },
      'berth server listening',
    );
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.state !== 'running' && this.state !== 'starting') return;
    this.state = 'stopping';
    await this.controllers?.stop();
    await this.gateway?.stop();
    await this.app?.close();
    await this.store?.close();
    this.state = 'stopped';
    this.log.info('berth server stopped');
  }
}
