// A RequestContext for handler unit tests: in-memory store, manual clock, silent logger,
// predictable ids. Pass overrides to share one store between calls or move the clock.
import { pino } from 'pino';
import { ManualClock } from '../../domain/clock.js';
import { MemoryStore } from '../../store/memory-store.js';
import type { RequestContext } from '../context.js';

export function testContext(
  overrides: Partial<RequestContext> = {},
): RequestContext & { clock: ManualClock } {
  let n = 0;
  return {
    requestId: 'req-test',
    account: '123456789012',
    region: 'us-east-1',
    principalArn: 'arn:aws:iam::123456789012:root',
    store: new MemoryStore(),
    clock: new ManualClock(),
    log: pino({ level: 'silent' }),
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    ...overrides,
  } as RequestContext & { clock: ManualClock };
}
