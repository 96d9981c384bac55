import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import {
  createPortraitService,
  openRedis,
  type PortraitWorker,
  type RedisHandle,
  startWorker,
} from '../queue/index.js';

const NOTHING_CONFIGURED = `Nothing to start: no chat adapter is configured.

Set at least one in .env (see .env.example for every variable):
  DISCORD_TOKEN=...          and DISCORD_APPLICATION_ID=..., then run: npx portrait register-commands
  SLACK_BOT_TOKEN=xoxb-...   with SLACK_APP_TOKEN=xapp-... (Socket Mode) or SLACK_SIGNING_SECRET=... (HTTP)
Optionally REDIS_URL=redis://host:6379 (unset: an embedded redis-server under .data/).

To try the pipeline without a chat platform:
  npx portrait generate --selfie path/to/selfie.jpg --out portrait.webp
To run only a worker against a shared Redis:
  npx portrait worker
`;

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/**
 * `portrait start`: every chat adapter whose token is set, plus a worker, on one Redis. Stops in reverse order on
 * SIGINT/SIGTERM: adapters first (no new requests), then the worker (finishes or hands back its job), then Redis.
 */
export async function startCommand(config: Config, log: Logger, options: { worker: boolean; adapters: boolean }) {
  const wantDiscord = options.adapters && Boolean(config.DISCORD_TOKEN);
  const wantSlack = options.adapters && Boolean(config.SLACK_BOT_TOKEN);
  if (options.adapters && !wantDiscord && !wantSlack) {
    process.stdout.write(NOTHING_CONFIGURED);
    return 0;
  }

  const running: Stoppable[] = [];
  let redis: RedisHandle | undefined;
  let stopping = false;
  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    for (const part of running.reverse()) {
      await part.stop().catch((err: unknown) => log.error({ err, part: part.name }, 'stop failed'));
    }
    await redis?.close();
    log.info('stopped');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopAll(signal).then(() => process.exit(0));
    });
  }

  redis = await openRedis(config, log);
  log.info({ embedded: redis.embedded }, 'redis ready');
  const service = createPortraitService(config, redis, log);
  running.push({ name: 'service', stop: () => service.close() });

  if (options.worker) {
    const worker: PortraitWorker = await startWorker(config, redis, log);
    running.push({ name: 'worker', stop: () => worker.close() });
    log.info({ engine: config.PORTRAIT_ENGINE }, 'worker ready');
  }
  if (wantDiscord) {
    const { startDiscordBot } = await import('../bots/discord/bot.js');
    const bot = await startDiscordBot(config, service, log, {
      consumeDeliveries: (handler) => service.consumeDeliveries('discord', handler),
    });
    running.push({ name: 'discord', stop: () => bot.stop() });
    log.info('discord adapter ready');
  }
  if (wantSlack) {
    const { startSlackBot } = await import('../bots/slack/index.js');
    const bot = await startSlackBot(config, service, log, {
      consumeDeliveries: (handler) => service.consumeDeliveries('slack', handler),
    });
    running.push({ name: 'slack', stop: () => bot.stop() });
    log.info({ mode: bot.mode, port: bot.port }, 'slack adapter ready');
  }
  // Runs until a signal: the handlers above end the process.
  return undefined;
}
