// The HTTP application: the ECS JSON 1.1 service on `POST /`, `/health` for readiness and
// `/metrics` for Prometheus. Every error, including ones Fastify raises before a route runs
// (body too large, bad content length), leaves in the ECS error shape.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EcsError } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import { schema as ecsSchema } from '../generated/ecs/schema.js';
import { operations as ecsOperations } from './operations/index.js';
import { registerJsonService, sendError } from './protocol/json-protocol.js';
import { compileInputValidator } from './validation/validate.js';

export interface ApiAppOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  accountId: string;
  defaultRegion: string;
  bodyLimit: number;
  /** Reported by /health; false while the server is starting or stopping. */
  isReady?: () => boolean;
}

export function buildApiApp(opts: ApiAppOptions): FastifyInstance {
  // Compile every operation's validator now: a broken schema table fails at start-up, not on a request.
  compileInputValidator(ecsSchema);
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit,
    keepAliveTimeout: 65_000,
    // Shutdown must not wait for idle keep-alive connections (clients such as undici keep spares).
    forceCloseConnections: true,
    // Our own request ids go out as x-amzn-RequestId; Fastify's are not used.
    genReqId: () => '',
  });

  // The body is parsed by the protocol layer so that broken JSON becomes a SerializationException.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    reply.header('x-amzn-RequestId', randomUUID());
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(
        reply,
        new EcsError('ClientException', `Request body is larger than the limit of ${opts.bodyLimit} bytes.`),
      );
    }
    if (err.statusCode !== undefined && err.statusCode < 500) {
      return sendError(reply, new EcsError('SerializationException', err.message));
    }
    opts.log.error({ err }, 'unhandled HTTP error');
    return sendError(reply, new EcsError('ServerException', 'An internal error occurred.'));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.header('x-amzn-RequestId', randomUUID());
    return sendError(
      reply,
      new EcsError('UnknownOperationException', `No route for ${req.method} ${req.url}.`),
      404,
    );
  });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'berth_' });
  const calls = new Counter({
    name: 'berth_api_requests_total',
    help: 'ECS API calls by operation and HTTP status',
    labelNames: ['operation', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'berth_api_request_duration_seconds',
    help: 'ECS API call latency by operation',
    labelNames: ['operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });

  registerJsonService(
    app,
    {
      schema: ecsSchema,
      operations: ecsOperations as never,
      store: opts.store,
      clock: opts.clock,
      log: opts.log,
      accountId: opts.accountId,
      defaultRegion: opts.defaultRegion,
    },
    (operation, status, seconds) => {
      calls.inc({ operation, status: String(status) });
      latency.observe({ operation }, seconds);
    },
  );

  app.get('/health', async (_req, reply) => {
    const ready = opts.isReady?.() ?? true;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ok' : 'starting', store: opts.store.backend });
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });

  return app;
}
