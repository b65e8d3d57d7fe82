// What every operation handler gets: who is calling (account, region from the SigV4 scope),
// the store, the clock, a logger. Handlers are plain async functions of (ctx, input).
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Scope } from '../domain/arn.js';
import type { Store } from '../store/store.js';
import type { EcsOperationName, EcsOperations } from '../generated/ecs/types.js';

export interface RequestContext extends Scope {
  requestId: string;
  /** IAM principal ARN of the caller (from the access key; a root ARN until identities exist). */
  principalArn: string;
  store: Store;
  clock: Clock;
  log: Logger;
  /** Random ids (uuids); injectable so tests can make them predictable. */
  newId(): string;
}

export type OperationHandler<K extends EcsOperationName> = (
  ctx: RequestContext,
  input: EcsOperations[K]['input'],
) => Promise<EcsOperations[K]['output']>;

export type OperationGroup = { [K in EcsOperationName]?: OperationHandler<K> };
