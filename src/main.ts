/**
 * The `portrait` CLI: start | worker | generate | models | register-commands. Config and logger are made here; each
 * command composes the rest of its process (src/cli/start.ts: Redis, queue, worker, avatar events and the chat
 * adapters; src/cli/generate.ts: an in-process worker for one request).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, envFileWarnings, getConfig, PROJECT_ROOT } from './config.js';
import { closest } from './core/typos.js';
import { StartupError } from './errors.js';
import { createLogger } from './log.js';

const HELP = `portrait <command>

  start                 run every configured chat adapter (DISCORD_TOKEN, SLACK_BOT_TOKEN) plus a worker
  worker                run a pipeline worker only
  generate              make a portrait from selfie files
  playground            a page in your browser to try poses, lighting and styles on your selfies
  models list|fetch|verify
                        the face models: where they are, download them, check their sha256
  register-commands     register the Discord slash commands (per guild with DISCORD_GUILD_IDS)
  help [command]        this text, or a command's own
  --version             the version

Settings come from the environment and .env (every variable is in .env.example).
`;

/** `portrait help <command>` and `portrait <command> --help`. */
const COMMAND_HELP: Record<string, () => Promise<string>> = {
  start: async () => `portrait start

  Runs every chat adapter whose token is set (DISCORD_TOKEN, SLACK_BOT_TOKEN) plus a worker, on REDIS_URL or an
  embedded redis-server under PORTRAIT_DATA_DIR. Settings are checked first (tokens, Redis, folders); a wrong one
  ends the start with one sentence naming it. SIGTERM or Ctrl-C stops it in order (docs/operations.md).
`,
  worker: async () => `portrait worker

  Runs a pipeline worker only, against REDIS_URL (one per GPU or machine, beside the bots' Redis).
  PORTRAIT_WORKER_CONCURRENCY jobs at once; SIGTERM lets running jobs finish (PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS).
`,
  generate: async () => (await import('./cli/generate-args.js')).GENERATE_HELP,
  playground: async () => (await import('./cli/playground.js')).PLAYGROUND_HELP,
  models: async () => (await import('./cli/models.js')).MODELS_HELP,
  'register-commands': async () => `portrait register-commands

  Registers the Discord slash commands: in each server of DISCORD_GUILD_IDS at once, else globally (up to an hour
  to appear). Needs DISCORD_TOKEN and DISCORD_APPLICATION_ID. Prints the invite URL.
`,
};

/** The version from package.json (the repository root's, also in a build). */
function version(): string {
  const pkg = JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  // Asking for help or the version never needs (or checks) the settings.
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic === undefined) {
      process.stdout.write(HELP);
      return 0;
    }
    const help = COMMAND_HELP[topic];
    if (help) {
      process.stdout.write(await help());
      return 0;
    }
    return unknownCommand(topic);
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`portrait ${version()}\n`);
    return 0;
  }
  if (!(command in COMMAND_HELP)) return unknownCommand(command);
  // generate and playground answer --help themselves (among their other options).
  if ((rest.includes('--help') || rest.includes('-h')) && command !== 'generate' && command !== 'playground') {
    process.stdout.write(await (COMMAND_HELP[command] as () => Promise<string>)());
    return 0;
  }
  // A one-shot command logs only warnings unless LOG_LEVEL says otherwise; services log at info.
  const quiet =
    command === 'generate' || command === 'playground' || command === 'models' || command === 'register-commands';
  const config = getConfig(quiet ? { LOG_LEVEL: 'warn' } : {});
  const log = createLogger(config);
  for (const warning of envFileWarnings()) log.warn(warning);
  switch (command) {
    case 'generate': {
      const { generateCommand } = await import('./cli/generate.js');
      return generateCommand(rest, config, log);
    }
    case 'playground':
      return (await import('./cli/playground.js')).playgroundCommand(rest, config, log);
    case 'start':
      return (await import('./cli/start.js')).startCommand(config, log, { worker: true, adapters: true });
    case 'worker':
      return (await import('./cli/start.js')).startCommand(config, log, { worker: true, adapters: false });
    case 'models':
      return (await import('./cli/models.js')).modelsCommand(rest);
    default: {
      const { inviteUrl, registerCommands } = await import('./bots/discord/commands.js');
      const r = await registerCommands(config);
      process.stdout.write(
        `Registered ${r.commands} commands ${r.scope === 'guild' ? `in guilds ${r.guildIds.join(', ')}` : 'globally (may take up to an hour to appear)'}\n` +
          `Invite the bot to a server with: ${inviteUrl(config)}\n`,
      );
      return 0;
    }
  }
}

function unknownCommand(name: string): number {
  const near = closest(name, Object.keys(COMMAND_HELP));
  process.stderr.write(
    `portrait: there is no command '${name}'${near ? ` (did you mean '${near}'?)` : ''}; \`portrait help\` lists them.\n`,
  );
  return 2;
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
