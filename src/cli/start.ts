import type { Config } from '../config.js';
import { StartupError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  createPortraitService,
  openRedis,
  type PortraitWorker,
  type RedisHandle,
  redisPersistence,
  startWorker,
  type WorkerOptions,
} from '../queue/index.js';
import { Shutdown, stopOnSignals } from './shutdown.js';

const NOTHING_CONFIGURED = `Nothing to start: set DISCORD_TOKEN or SLACK_BOT_TOKEN in .env (see .env.example), or run \`portrait worker\` for a worker only.

For a chat adapter, set in .env:
  DISCORD_TOKEN=...          (the slash commands are registered at start; DISCORD_GUILD_IDS=... for some servers)
  SLACK_BOT_TOKEN=xoxb-...   with SLACK_APP_TOKEN=xapp-... (Socket Mode) or SLACK_SIGNING_SECRET=... (HTTP)
Optionally REDIS_URL=redis://host:6379 (unset: an embedded redis-server under .data/).

To try the pipeline without a chat platform:
  npx portrait generate --selfie path/to/selfie.jpg --out portrait.webp
To run only a worker against a shared Redis:
  npx portrait worker
`;

export interface StartOptions {
  worker: boolean;
  adapters: boolean;
  /** The worker's options (the fault tests run this same composition with a scripted pipeline). */
  workerOptions?: WorkerOptions;
}

/**
 * `portrait start`: every chat adapter whose token is set, plus a worker, on one Redis; `portrait worker`: the
 * worker only. SIGINT/SIGTERM stop it in the order of `Shutdown` (src/cli/shutdown.ts): adapters drain (answer
 * "restarting"), the worker finishes or hands back its jobs within PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS, adapters
 * stop, then the service and Redis.
 */
export async function startCommand(config: Config, log: Logger, options: StartOptions) {
  const wantDiscord = options.adapters && Boolean(config.DISCORD_TOKEN);
  const wantSlack = options.adapters && Boolean(config.SLACK_BOT_TOKEN);
  if (options.adapters && !wantDiscord && !wantSlack) throw new StartupError(NOTHING_CONFIGURED.trimEnd());
  if (wantSlack && !config.SLACK_APP_TOKEN && !config.SLACK_SIGNING_SECRET) {
    throw new StartupError(
      'Slack needs SLACK_APP_TOKEN (Socket Mode, xapp-...) or SLACK_SIGNING_SECRET (HTTP mode, your app > Basic ' +
        'Information > App Credentials): set one of them.',
    );
  }
  // The platforms' settings are checked before anything starts (each within 10 s, one sentence when wrong).
  const [discord, slack] = await Promise.all([
    wantDiscord ? (await import('../bots/discord/preflight.js')).checkDiscord(config) : undefined,
    wantSlack ? (await import('../bots/slack/preflight.js')).checkSlack(config) : undefined,
  ]);
  if (discord) await syncDiscordCommands(config, discord.applicationId, log);

  // Signals are handled from the first moment: a stop during start-up closes whatever is running by then.
  const shutdown = new Shutdown(log, config.PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS * 1000);
  stopOnSignals(shutdown, log, { withParent: config.PORTRAIT_EXIT_WITH_PARENT });

  const redis: RedisHandle = await openRedis(config, log);
  shutdown.addResource({ name: 'redis', close: () => redis.close() });
  log.info({ embedded: redis.embedded }, 'redis ready');
  if (!redis.embedded) await warnWithoutPersistence(redis, log);
  // HEALTH_PORT: /healthz, /readyz and /metrics (docs/operations.md); the service and the worker report into it.
  const observability =
    config.HEALTH_PORT === undefined
      ? undefined
      : await (await import('../observability/index.js')).startObservability(config, redis, log, {
          worker: options.worker,
          isStopping: () => shutdown.stopping,
        });
  if (observability) shutdown.addResource({ name: 'health', close: () => observability.close() });
  const metrics = observability ? { metrics: observability.metrics } : {};
  const service = createPortraitService(config, redis, log, metrics);
  shutdown.addResource({ name: 'service', close: () => service.close() });
  // Community avatar events: the adapters get the event service, and a portrait service whose forget covers events.
  const { openAvatarEvents } = await import('../avatar-events/index.js');
  const events = options.adapters ? openAvatarEvents(config, redis, service, log) : undefined;
  if (events) shutdown.addResource({ name: 'avatar events', close: () => events.close() });
  const portraits = events?.portraits ?? service;

  if (options.worker) {
    const worker: PortraitWorker = await startWorker(config, redis, log, { ...metrics, ...options.workerOptions });
    observability?.modelsLoaded();
    shutdown.setWorker(worker);
    log.info({ engine: config.PORTRAIT_ENGINE }, 'worker ready');
  }
  if (wantDiscord) {
    const { startDiscordBot } = await import('../bots/discord/bot.js');
    const { discordStartupError } = await import('../bots/discord/preflight.js');
    const bot = await startDiscordBot(config, portraits, log, {
      consumeDeliveries: (handler) => service.consumeDeliveries('discord', handler),
      ...(events ? { events: events.service } : {}),
    }).catch((err: unknown) => {
      throw discordStartupError(err, config.DISCORD_API_URL) ?? err;
    });
    shutdown.addAdapter({ name: 'discord', drain: () => bot.drain(), stop: () => bot.stop() });
    const onUpdate = bot.adapter.events?.onUpdate;
    if (events && onUpdate) await events.attach('discord', onUpdate);
    const { inviteUrl } = await import('../bots/discord/commands.js');
    const invite = inviteUrl({ DISCORD_APPLICATION_ID: discord?.applicationId ?? config.DISCORD_APPLICATION_ID });
    log.info({ bot: discord?.botName, application: discord?.applicationId }, 'discord adapter ready');
    log.info({ invite }, `Discord bot ${discord?.botName} is online; invite it to a server with ${invite}`);
  }
  if (wantSlack) {
    const { startSlackBot } = await import('../bots/slack/index.js');
    const { slackStartupError } = await import('../bots/slack/preflight.js');
    const bot = await startSlackBot(config, portraits, log, {
      consumeDeliveries: (handler) => service.consumeDeliveries('slack', handler),
      ...(events ? { events: { service: events.service, organiserGroups: config.SLACK_EVENT_GROUPS } } : {}),
    }).catch((err: unknown) => {
      throw (
        slackStartupError(err, config.SLACK_APP_TOKEN ? 'SLACK_APP_TOKEN' : 'SLACK_BOT_TOKEN', config.SLACK_API_URL) ??
        err
      );
    });
    shutdown.addAdapter({ name: 'slack', drain: () => bot.drain(), stop: () => bot.stop() });
    if (events && bot.eventUpdates) await events.attach('slack', bot.eventUpdates);
    log.info({ mode: bot.mode, port: bot.port, bot: slack?.botName, team: slack?.team }, 'slack adapter ready');
  }
  // Runs until a signal: stopOnSignals ends the process.
  return undefined;
}

/**
 * The slash commands follow this version: replaced where the registered set differs (per guild or global), before
 * anything starts, so a server the bot is not in stops the start at once.
 */
async function syncDiscordCommands(config: Config, applicationId: string, log: Logger): Promise<void> {
  const { syncCommands } = await import('../bots/discord/command-sync.js');
  const { discordStartupError } = await import('../bots/discord/preflight.js');
  const synced = await syncCommands(config, applicationId).catch((err: unknown) => {
    throw discordStartupError(err, config.DISCORD_API_URL) ?? err;
  });
  if (synced.updated.length > 0) {
    log.info(
      { scope: synced.scope, updated: synced.updated, commands: synced.commands },
      synced.scope === 'global'
        ? 'discord commands registered globally (they differed; clients may take up to an hour to show them)'
        : `discord commands registered in ${synced.updated.join(', ')} (they differed)`,
    );
  } else {
    log.info({ scope: synced.scope, unchanged: synced.unchanged }, 'discord commands up to date');
  }
}

/** Queued jobs survive a Redis restart only with persistence on (the embedded server runs with AOF). */
async function warnWithoutPersistence(redis: RedisHandle, log: Logger): Promise<void> {
  const conn = redis.connection();
  const persistence = await redisPersistence(conn);
  await conn.quit().catch(() => conn.disconnect());
  if (persistence === 'none') {
    log.warn(
      { persistence },
      'Redis keeps no data across a restart: queued jobs and undelivered portraits would be lost. Set appendonly yes.',
    );
  } else if (persistence === 'rdb') {
    log.info({ persistence }, 'Redis persists by snapshots only: a crash loses what came after the last one');
  }
}
