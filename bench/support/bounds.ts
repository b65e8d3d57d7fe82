// Bounds for the bench scripts: an overall deadline (also tripped by Ctrl-C, so that the
// scripts' finally blocks still clean up), bounded polling, and a concurrency-limited map.

export interface Deadline {
  /** Throws once the run is past its time or was interrupted. */
  check(): void;
  remainingMs(): number;
}

/**
 * `name` exceeded `--max-seconds`: throws from check(). With `interruptible`, SIGINT/SIGTERM do
 * not kill the process at once but make the next check() throw, so cleanup runs.
 */
export function makeDeadline(
  name: string,
  maxSeconds: number,
  opts: { interruptible?: boolean } = {},
): Deadline {
  const end = Date.now() + maxSeconds * 1000;
  let interrupted: NodeJS.Signals | undefined;
  if (opts.interruptible) {
    const onSignal = (sig: NodeJS.Signals): void => {
      // A second signal means "now": the cleanup itself is stuck.
      if (interrupted) process.exit(130);
      interrupted = sig;
      console.error(`\n${name}: ${sig}, cleaning up (send it again to quit at once)`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return {
    check() {
      if (interrupted) throw new Error(`${name} interrupted by ${interrupted}`);
      if (Date.now() > end) throw new Error(`${name} exceeded --max-seconds ${maxSeconds}`);
    },
    remainingMs: () => end - Date.now(),
  };
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs: number;
  /** Says what was awaited and what was last seen, for the timeout error. */
  describe: () => string;
  deadline?: Deadline;
}

/** Calls `probe` until it returns something other than undefined; bounded by time and the deadline. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, opts: PollOptions): Promise<T> {
  const end = Date.now() + opts.timeoutMs;
  for (;;) {
    opts.deadline?.check();
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > end)
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.describe()}`);
    await sleep(opts.intervalMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pooled<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
