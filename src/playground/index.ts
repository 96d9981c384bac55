import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { AvatarEvent } from '../core/events.js';
import type { Logger } from '../log.js';
import { fetchModels } from '../pipeline/models/index.js';
import { createEventStore, eventKeys } from '../queue/events.js';
import {
  createPortraitService,
  type DeliveryConsumer,
  openRedis,
  type RedisHandle,
  startWorker,
} from '../queue/index.js';
import { Playground, type ThemeSource } from './app.js';
import { type PlaygroundServer, startPlaygroundServer } from './server.js';
import { SessionStore } from './sessions.js';

export interface PlaygroundOptions {
  host: string;
  port: number;
  /** Run a pipeline worker in this process (default). Without: the workers of the configured Redis run the jobs. */
  worker: boolean;
}

export interface RunningPlayground {
  readonly url: string;
  readonly port: number;
  readonly embeddedRedis: boolean;
  close(): Promise<void>;
}

/**
 * The playground composed like `portrait generate` and `portrait start`: the configured Redis (an embedded one when
 * REDIS_URL is unset), the same portrait service and worker as the bots, a private delivery inbox for this process,
 * the avatar events of that Redis, and the page's HTTP server. `close` stops them in reverse order; jobs still
 * queued stay in Redis and expire with the blob TTL.
 */
export async function startPlayground(
  config: Config,
  log: Logger,
  options: PlaygroundOptions,
): Promise<RunningPlayground> {
  const steps: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const step of steps.splice(0).reverse())
      await step().catch((err: unknown) => log.warn({ err }, 'close failed'));
  };
  try {
    // Face models first, on the main thread: a first run shows one download bar before the URL.
    if (options.worker) await fetchModels();
    const redis: RedisHandle = await openRedis(config, log);
    steps.push(() => redis.close());
    if (options.worker) {
      const worker = await startWorker(config, redis, log);
      steps.push(() => worker.close({ timeoutMs: config.PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS * 1000 }));
    }
    const service = createPortraitService(config, redis, log);
    steps.push(() => service.close());

    const sessions = new SessionStore({ idleMs: config.PORTRAIT_BLOB_TTL_SECONDS * 1000 });
    // One inbox per playground process: another playground or a CLI run on the same Redis never takes its answers.
    const inbox = `playground-${randomBytes(6).toString('hex')}`;
    const app = new Playground({
      config,
      service,
      sessions,
      inbox,
      themes: eventThemes(redis, config.PORTRAIT_QUEUE_PREFIX),
      log,
    });
    const consumer: DeliveryConsumer = await service.consumeDeliveries('cli', (d) => app.deliver(d), {
      inbox,
      removeOnClose: true,
    });
    steps.push(() => consumer.close());
    const server: PlaygroundServer = await startPlaygroundServer({
      app,
      sessions,
      host: options.host,
      port: options.port,
      maxUploadBytes: config.PORTRAIT_MAX_INPUT_BYTES,
      log,
    });
    steps.push(() => server.close());
    return { url: server.url, port: server.port, embeddedRedis: redis.embedded, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Every avatar event on this Redis, from the event store's removal schedule (one sorted set that holds every event
 * of every community), so an organiser can preview any event's theme before it opens.
 */
function eventThemes(redis: RedisHandle, prefix: string): ThemeSource {
  const conn = redis.connection('client');
  const store = createEventStore(conn, prefix);
  return {
    async list() {
      const ids = await conn.zrange(eventKeys(prefix).expiry, 0, 199);
      const events = await Promise.all(ids.map((id) => store.get(id)));
      return events.filter((e): e is AvatarEvent => e !== null).sort((a, b) => b.createdAt - a.createdAt);
    },
    get: (id) => store.get(id),
  };
}
