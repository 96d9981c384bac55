/**
 * The `portrait` CLI: start | worker | generate | models | register-commands. This is the composition root:
 * config, logger, Redis, queue, engines and adapters are wired here and nowhere else.
 */
import { ConfigError, getConfig } from './config.js';
import { StartupError } from './errors.js';
import { createLogger } from './log.js';

const HELP = `portrait <command>

  start                 run every configured chat adapter (DISCORD_TOKEN, SLACK_BOT_TOKEN) plus a worker
  worker                run a pipeline worker only
  generate              make a portrait from selfie files (portrait generate --help)
  models list|fetch|verify
                        the face models: where they are, download them, check their sha256
  register-commands     register the Discord slash commands (per guild with DISCORD_GUILD_IDS)
  help                  this text
`;

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  // A one-shot command logs only warnings unless LOG_LEVEL says otherwise; services log at info.
  const quiet = command === 'generate' || command === 'models' || command === 'register-commands';
  const config = getConfig(quiet ? { LOG_LEVEL: 'warn' } : {});
  const log = createLogger(config);
  switch (command) {
    case 'generate': {
      const { generateCommand } = await import('./cli/generate.js');
      return generateCommand(rest, config, log);
    }
    case 'start':
      return (await import('./cli/start.js')).startCommand(config, log, { worker: true, adapters: true });
    case 'worker':
      return (await import('./cli/start.js')).startCommand(config, log, { worker: true, adapters: false });
    case 'models':
      return (await import('./cli/models.js')).modelsCommand(rest);
    case 'register-commands': {
      const { inviteUrl, registerCommands } = await import('./bots/discord/commands.js');
      const r = await registerCommands(config);
      process.stdout.write(
        `Registered ${r.commands} commands ${r.scope === 'guild' ? `in guilds ${r.guildIds.join(', ')}` : 'globally (may take up to an hour to appear)'}\n` +
          `Invite the bot to a server with: ${inviteUrl(config)}\n`,
      );
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`unknown command '${command}'\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands return undefined and keep the process alive; one-shot ones end it, even if a library
    // left a handle open.
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof StartupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    const name = (err as { name?: string }).name;
    if (name === 'RedisUnavailableError') {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    }
    process.stderr.write(`portrait: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
