// `berth server`: run the control plane (ECS API on the embedded store).
import type { Command } from 'commander';
import { parseServerConfig } from '../../config/server-config.js';
import { BerthServer } from '../../server/berth-server.js';
import { runUntilSignal } from '../run-until-signal.js';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the control plane: the ECS API on the embedded store')
    .option('--host <host>', 'interface to listen on (BERTH_HOST)')
    .option('--port <port>', 'API port (BERTH_PORT)')
    .option('--data-dir <dir>', 'store directory (BERTH_DATA_DIR, default ~/.berth)')
    .option('--account-id <id>', 'account id in ARNs (BERTH_ACCOUNT_ID)')
    .option('--region <region>', 'region when a request names none (BERTH_REGION)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (BERTH_LOG_LEVEL)')
    .action(async (o: Record<string, string | undefined>) => {
      const config = parseServerConfig({
        host: o.host,
        port: o.port,
        dataDir: o.dataDir,
        accountId: o.accountId,
        defaultRegion: o.region,
        logLevel: o.logLevel,
      });
      const server = new BerthServer(config);
      await runUntilSignal(
        server.log,
        async () => {
          await server.start();
        },
        () => server.stop(),
      );
    });
}
