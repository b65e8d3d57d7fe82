// The `berth` command line. One file per command under commands/.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/server-config.js';
import { registerAgentCommand } from './commands/agent.js';
import { registerServerCommand } from './commands/server.js';
import { registerLogsCommand } from './commands/logs.js';
import { registerUpCommand } from './commands/up.js';

const program = new Command();
program
  .name('berth')
  .description('Berth: a self-hosted container orchestrator that speaks the Amazon ECS API')
  .version('0.1.0')
  .showHelpAfterError();

registerServerCommand(program);
registerAgentCommand(program);
registerLogsCommand(program);
registerUpCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`berth: ${e.message}`);
    process.exit(2);
  }
  if (e instanceof CommanderError) process.exit(e.exitCode);
  console.error(e);
  process.exit(1);
}
