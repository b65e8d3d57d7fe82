// Runs a long-lived process until SIGINT/SIGTERM, then stops it in order and exits.
import type { Logger } from 'pino';

export async function runUntilSignal(
  log: Logger,
  start: () => Promise<void>,
  stop: () => Promise<void>,
): Promise<void> {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await start();
}
