import type { AddressInfo } from 'node:net';
import { App, type Logger as BoltLogger, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import type { EventUpdateHandler } from '../../avatar-events/scheduler.js';
import type { AvatarEventService } from '../../avatar-events/service.js';
import type { Config } from '../../config.js';
import type { Catalogue } from '../../conversation/catalogue.js';
import { limitsFromConfig } from '../../conversation/present.js';
import type { Logger } from '../../log.js';
import type { DeliveryConsumer, DeliveryHandler, PortraitService } from '../../queue/service.js';
import { createDeliveries, PROGRESS_INTERVAL_MS, type SlackDeliveries } from './delivery.js';
import { SlackEvents } from './events.js';
import { registerHandlers } from './handlers.js';
import { type SlackConfig, type SlackContext, slackContext } from './portraits.js';
import { restartingGate } from './restarting.js';

export type SlackBotConfig = SlackConfig &
  Pick<Config, 'SLACK_SIGNING_SECRET' | 'SLACK_APP_TOKEN' | 'SLACK_PORT' | 'SLACK_API_URL' | 'LOG_LEVEL'>;

export interface SlackBotDeps {
  /**
   * Starts consuming the durable Slack delivery queue (src/queue/deliveries.ts) with the adapter's handler.
   * Left out, the bot answers requests but posts no results (a bot process without a consumer).
   */
  consumeDeliveries?: (handler: DeliveryHandler) => DeliveryConsumer | Promise<DeliveryConsumer>;
  catalogue?: Catalogue;
  /** Seeds for requests that give none, and the clock (tests pin them). */
  newSeed?: () => number;
  now?: () => number;
  /** Used for Slack file downloads; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** HTTP mode port; defaults to SLACK_PORT (0 picks a free port, for tests). */
  port?: number;
  /** Progress edit interval (default 3 s). */
  progressIntervalMs?: number;
  /**
   * Community avatar events ("@portrait event ...", "@portrait join ..."), with the user groups that may organise
   * them (SLACK_EVENT_GROUPS). The event scheduler's updates go to `eventUpdates`.
   */
  events?: { service: AvatarEventService; organiserGroups: readonly string[] };
}

export interface SlackBot {
  /** The HTTP port in HTTP mode (useful with port 0), undefined in Socket Mode. */
  readonly port: number | undefined;
  readonly mode: 'socket' | 'http';
  /** Posts avatar-event updates (the event scheduler's onUpdate); undefined without events. */
  readonly eventUpdates: EventUpdateHandler | undefined;
  /** Stop taking new requests: they are answered "restarting" from now on. Deliveries continue until stop(). */
  drain(): void;
  stop(): Promise<void>;
}

export interface SlackApp {
  app: App;
  ctx: SlackContext;
  deliveries: SlackDeliveries;
  events: SlackEvents | undefined;
  /** See SlackBot.drain. */
  drain(): void;
}

/**
 * Builds the Bolt app with every listener registered, without starting a receiver. `startSlackBot` uses it;
 * tests feed events to `app.processEvent` or through the receiver they pass.
 */
export function createSlackApp(
  config: SlackBotConfig,
  service: PortraitService,
  log: Logger,
  deps: Omit<SlackBotDeps, 'consumeDeliveries' | 'port'> & { receiver?: HTTPReceiver | SocketModeReceiver } = {},
): SlackApp {
  if (!config.SLACK_BOT_TOKEN) throw new Error('SLACK_BOT_TOKEN is not set: the Slack adapter needs the bot token');
  const app = new App({
    token: config.SLACK_BOT_TOKEN,
    ...(deps.receiver ? { receiver: deps.receiver } : { signingSecret: config.SLACK_SIGNING_SECRET ?? 'unused' }),
    clientOptions: { slackApiUrl: config.SLACK_API_URL },
    logger: boltLogger(log),
    logLevel: config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? LogLevel.DEBUG : LogLevel.INFO,
  });
  const ctx = slackContext({
    client: app.client,
    service,
    config,
    log,
    ...(deps.catalogue ? { catalogue: deps.catalogue } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.newSeed ? { newSeed: deps.newSeed } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const events = deps.events
    ? new SlackEvents({ ctx, events: deps.events.service, organiserGroups: deps.events.organiserGroups })
    : undefined;
  let draining = false;
  app.use(restartingGate(ctx, () => draining));
  registerHandlers(app, ctx, limitsFromConfig(config), events);
  const deliveries = createDeliveries(ctx, deps.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
  const drain = () => {
    draining = true;
  };
  return { app, ctx, deliveries, events, drain };
}

/**
 * Starts the Slack adapter: Socket Mode when SLACK_APP_TOKEN is set (no public URL needed), otherwise the HTTP
 * Events API on SLACK_PORT at /slack/events with request signatures checked against SLACK_SIGNING_SECRET.
 */
export async function startSlackBot(
  config: SlackBotConfig,
  service: PortraitService,
  log: Logger,
  deps: SlackBotDeps = {},
): Promise<SlackBot> {
  const boltLog = boltLogger(log);
  const clientOptions = { slackApiUrl: config.SLACK_API_URL };
  let receiver: HTTPReceiver | SocketModeReceiver;
  let mode: SlackBot['mode'];
  if (config.SLACK_APP_TOKEN) {
    mode = 'socket';
    receiver = new SocketModeReceiver({
      appToken: config.SLACK_APP_TOKEN,
      logger: boltLog,
      installerOptions: { clientOptions },
    });
  } else {
    if (!config.SLACK_SIGNING_SECRET) {
      throw new Error(
        'Slack HTTP mode needs SLACK_SIGNING_SECRET (Basic Information > App Credentials), or set SLACK_APP_TOKEN for Socket Mode',
      );
    }
    mode = 'http';
    receiver = new HTTPReceiver({
      signingSecret: config.SLACK_SIGNING_SECRET,
      endpoints: '/slack/events',
      logger: boltLog,
    });
  }
  const { app, deliveries, events, drain } = createSlackApp(config, service, log, { ...deps, receiver });
  const consumer = deps.consumeDeliveries ? await deps.consumeDeliveries(deliveries.handle) : undefined;
  let port: number | undefined;
  try {
    if (receiver instanceof HTTPReceiver) {
      const server = await receiver.start(deps.port ?? config.SLACK_PORT);
      port = (server.address() as AddressInfo | null)?.port;
    } else {
      await app.start();
    }
  } catch (err) {
    await consumer?.close();
    await deliveries.close();
    throw err;
  }
  log.info({ mode, port }, 'slack: adapter started');
  return {
    port,
    mode,
    eventUpdates: events?.onUpdate,
    drain,
    stop: async () => {
      // Stop taking new events first, then let in-flight deliveries and edits finish.
      await app.stop().catch((err: unknown) => log.warn({ err: String(err) }, 'slack: receiver stop failed'));
      await consumer?.close();
      await deliveries.close();
    },
  };
}

/**
 * Slack's SDK debug lines that carry whole request or event bodies: file URLs, message texts, modal metadata.
 * Selfie URLs must never reach a log, even at debug level, so these lines are dropped.
 */
const BODY_LINES =
  /http request (?:body|result)|WebSocket message|Received a message on the WebSocket|Calling ack\(\)|^\{/;

/** Bolt's logger interface on top of the project's pino logger (which scrubs secrets). */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : safeJson(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => {
      const line = text(msg);
      if (!BODY_LINES.test(line)) child.debug(line);
    },
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

function safeJson(v: unknown): string {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
