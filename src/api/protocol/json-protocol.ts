// The AWS JSON 1.1 front door: `POST /` with `X-Amz-Target: <prefix>.<Operation>`.
// Parses and validates the body against the model, runs the operation, and writes either the
// output or an error body `{"__type", "message"}` (HTTP 400; ServerException alone is a 500).
// Every answer carries `x-amzn-RequestId`.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { EcsError, isEcsError } from '../../domain/errors.js';
import type { Clock } from '../../domain/clock.js';
import type { Store } from '../../store/store.js';
import type { ServiceSchema } from '../validation/schema-types.js';
import { validateInput } from '../validation/validate.js';
import type { RequestContext } from '../context.js';
import { identityFromAuthorization, isPlausibleRegion } from './identity.js';

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

// Handlers are typed per operation in their modules; here they are called by name.
type AnyHandler = (ctx: RequestContext, input: never) => Promise<unknown>;

export interface JsonServiceOptions {
  schema: ServiceSchema;
  operations: Partial<Record<string, AnyHandler>>;
  store: Store;
  clock: Clock;
  log: Logger;
  accountId: string;
  defaultRegion: string;
}

export interface OperationObserver {
  (operation: string, status: number, seconds: number): void;
}

/** A null member means "absent" on the wire; dropping nulls at parse time keeps handlers simple. */
function dropNulls(_key: string, value: unknown): unknown {
  return value === null ? undefined : value;
}

export function parseBody(raw: unknown): unknown {
  if (raw === undefined || raw === '' || (Buffer.isBuffer(raw) && raw.length === 0)) return {};
  const text = typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : undefined;
  if (text === undefined) throw new EcsError('SerializationException', 'Request body could not be read.');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text, dropNulls) as unknown;
  } catch (e) {
    throw new EcsError('SerializationException', `Request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Sends a JSON 1.1 body; a Buffer keeps Fastify from appending a charset to the content type. */
function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify(body), 'utf8'));
}

export function sendError(reply: FastifyReply, err: EcsError, status: number = err.httpStatus): FastifyReply {
  return sendJson(reply, status, { __type: err.code, message: err.message });
}

/** Registers `POST /` for one JSON 1.1 service; `observe` receives per-call timings. */
export function registerJsonService(
  app: FastifyInstance,
  opts: JsonServiceOptions,
  observe?: OperationObserver,
): void {
  const prefix = `${opts.schema.targetPrefix}.`;

  app.post('/', async (req: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    reply.header('x-amzn-RequestId', requestId);
    let operation = 'unknown';
    try {
      const target = req.headers['x-amz-target'];
      if (typeof target !== 'string' || !target.startsWith(prefix)) {
        throw new EcsError(
          'UnknownOperationException',
          typeof target === 'string' ? `Unknown operation ${target}.` : 'Missing X-Amz-Target header.',
        );
      }
      operation = target.slice(prefix.length);
      const def = opts.schema.operations[operation];
      if (!def) throw new EcsError('UnknownOperationException', `Unknown operation ${target}.`);
      const handler = opts.operations[operation];
      if (!handler) {
        throw new EcsError('UnknownOperationException', `Berth does not implement ${operation} yet.`);
      }
      const input = parseBody(req.body);
      validateInput(opts.schema, operation, input);

      const who = identityFromAuthorization(req.headers.authorization);
      const region = who.region && isPlausibleRegion(who.region) ? who.region : opts.defaultRegion;
      const ctx: RequestContext = {
        requestId,
        account: opts.accountId,
        region,
        principalArn: `arn:aws:iam::${opts.accountId}:root`,
        store: opts.store,
        clock: opts.clock,
        log: opts.log,
        newId: randomUUID,
      };
      const output = await handler(ctx, input as never);
      observe?.(operation, 200, Number(process.hrtime.bigint() - started) / 1e9);
      return sendJson(reply, 200, output ?? {});
    } catch (e) {
      const err = toWireError(e, requestId, operation, opts.log);
      observe?.(operation, err.httpStatus, Number(process.hrtime.bigint() - started) / 1e9);
      return sendError(reply, err);
    }
  });
}

/** Client mistakes keep their name; anything unexpected is logged and becomes a ServerException. */
export function toWireError(e: unknown, requestId: string, operation: string, log: Logger): EcsError {
  if (isEcsError(e)) {
    if (e.httpStatus >= 500) log.error({ err: e, requestId, operation }, 'server error');
    return e;
  }
  log.error({ err: e, requestId, operation }, 'unexpected error');
  return new EcsError('ServerException', `An internal error occurred. Request id: ${requestId}.`);
}
