import { once } from 'node:events';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { AvatarEventService } from '../../avatar-events/service.js';
import type { Config } from '../../config.js';
import { ConfigError } from '../../config.js';
import { type Catalogue, createCatalogue } from '../../conversation/catalogue.js';
import type { ThrottleClock } from '../../conversation/throttle.js';
import type { Logger } from '../../log.js';
import type { DeliveryConsumer, DeliveryHandler, PortraitService } from '../../queue/service.js';
import { DiscordAdapter } from './adapter.js';
import { safeRestError } from './output.js';

export interface DiscordBotDeps {
  /**
   * Starts consuming the Discord delivery queue with `handler` (wired by main.ts to the queue's consumer). Called
   * once the client has logged in, so deliveries are never handled with an unchecked token.
   */
  consumeDeliveries(handler: DeliveryHandler): DeliveryConsumer | Promise<DeliveryConsumer>;
  catalogue?: Catalogue;
  /** Attachment downloads; the global fetch by default. */
  fetch?: typeof fetch;
  /** Minimum time between two progress edits of one message (default 2000 ms). */
  progressIntervalMs?: number;
  clock?: ThrottleClock;
  newSeed?: () => number;
  /** How long to wait for the gateway's READY (default 30 s). */
  readyTimeoutMs?: number;
  /** Community avatar events; the event scheduler's updates go to `bot.adapter.events.onUpdate`. */
  events?: AvatarEventService;
}

export interface DiscordBot {
  readonly client: Client;
  readonly adapter: DiscordAdapter;
  /** Stop taking new commands: interactions that still arrive are answered "restarting". Deliveries continue. */
  drain(): void;
  stop(): Promise<void>;
}

/**
 * Logs the bot in (gateway intent Guilds only: interactions need no privileged intents), routes interactions to
 * the adapter and starts consuming deliveries. `stop()` stops consuming, lets in-flight edits finish and
 * disconnects; jobs and deliveries stay in Redis for the next start.
 */
export async function startDiscordBot(
  config: Config,
  service: PortraitService,
  log: Logger,
  deps: DiscordBotDeps,
): Promise<DiscordBot> {
  if (!config.DISCORD_TOKEN) {
    throw new ConfigError(
      'The Discord bot needs DISCORD_TOKEN (Discord developer portal > your app > Bot > Reset Token).',
    );
  }
  const blog = log.child({ component: 'discord' });
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    allowedMentions: { parse: [] },
    ...(config.DISCORD_API_URL ? { rest: { api: config.DISCORD_API_URL } } : {}),
  });
  const adapter = new DiscordAdapter({
    config,
    service,
    log: blog,
    rest: client.rest,
    catalogue: deps.catalogue ?? createCatalogue(config.PORTRAIT_ENGINE),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.progressIntervalMs !== undefined ? { progressIntervalMs: deps.progressIntervalMs } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.newSeed ? { newSeed: deps.newSeed } : {}),
    ...(deps.events ? { events: deps.events } : {}),
  });
  client.on(Events.InteractionCreate, (interaction) => {
    void adapter.handleInteraction(interaction);
  });
  client.on(Events.Error, (err) => blog.error({ err: safeRestError(err) }, 'discord client error'));
  client.on(Events.ShardDisconnect, (event, shard) => blog.warn({ code: event.code, shard }, 'gateway disconnected'));

  const ready = once(client, Events.ClientReady, { signal: AbortSignal.timeout(deps.readyTimeoutMs ?? 30_000) });
  ready.catch(() => {}); // awaited below; this only keeps an early rejection from being unhandled
  try {
    await client.login(config.DISCORD_TOKEN);
    await ready;
  } catch (err) {
    await client.destroy();
    throw err;
  }
  blog.info({ user: client.user?.id, application: client.application?.id }, 'discord bot ready');

  let consumer: DeliveryConsumer | undefined;
  try {
    consumer = await deps.consumeDeliveries((d) => adapter.handleDelivery(d));
  } catch (err) {
    await client.destroy();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    client,
    adapter,
    drain: () => adapter.drain(),
    stop() {
      stopping ??= (async () => {
        await consumer?.close();
        await adapter.close();
        await client.destroy();
        blog.info('discord bot stopped');
      })();
      return stopping;
    },
  };
}
