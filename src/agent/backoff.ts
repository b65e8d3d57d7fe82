// Exponential back-off with jitter, shared by the session's reconnects, registration retries and
// the task runner's retries of retriable Docker errors. Pure: randomness is passed in.

export interface BackoffPolicy {
  /** Delay before the first retry. */
  minMs: number;
  /** Delays never exceed this. */
  maxMs: number;
  /** Growth per attempt (2 doubles). */
  factor: number;
  /** ± fraction of the delay drawn at random, so that many agents do not retry in lock step. */
  jitter: number;
}

/** Delay before retry number `attempt` (0 = first retry). `random` is in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const base = Math.min(policy.maxMs, policy.minMs * policy.factor ** Math.max(0, attempt));
  const spread = base * policy.jitter * (2 * random - 1);
  return Math.max(0, Math.min(policy.maxMs, Math.round(base + spread)));
}
