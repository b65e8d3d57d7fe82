// The control plane process: store, API, (later) controllers and the agent gateway, started
// and stopped in order. `start()` resolves once the API listens; `stop()` drains in reverse.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApiApp } from '../api/app.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { ServerConfig } from '../config/server-config.js';
import type { Store } from '../store/store.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class BerthServer {
  private state: State = 'new';
  private store: Store | undefined;
  private app: FastifyInstance | undefined;
  readonly log: Logger;
  /** The API's base URL once started, e.g. http://127.0.0.1:7345 */
  url = '';

  constructor(
    private readonly config: ServerConfig,
    private readonly clock: Clock = systemClock,
    log?: Logger,
  ) {
    this.log = log ?? pino({ level: config.logLevel, base: { svc: 'berth-server' } });
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
    await this.app.listen({ host: this.config.host, port: this.config.port });
    const addr = this.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.config.port;
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    this.url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    this.state = 'running';
    this.log.info({ url: this.url, dataDir: this.config.dataDir, store: this.store.backend }, 'berth server listening');
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.state !== 'running' && this.state !== 'starting') return;
    this.state = 'stopping';
    await this.app?.close();
    await this.store?.close();
    this.state = 'stopped';
    this.log.info('berth server stopped');
  }
}
