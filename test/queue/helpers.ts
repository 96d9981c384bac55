import { type Config, parseConfig } from '../../src/config.js';
import type { Requester } from '../../src/core/request.js';
import { silentLogger } from '../../src/log.js';
import { openRedis, type RedisHandle } from '../../src/queue/connection.js';
import type { Delivery } from '../../src/queue/jobs.js';
import type { DeliveryHandler } from '../../src/queue/service.js';
import { REDIS_URL, uniquePrefix } from '../helpers/env.js';
import { deleteKeys } from '../helpers/redis.js';

export const SCRIPTED_PIPELINE = new URL('./fixtures/scripted-pipeline.ts', import.meta.url).href;
export const BROKEN_PIPELINE = new URL('./fixtures/broken-pipeline.ts', import.meta.url).href;

export interface QueueTestEnv {
  config: Config;
  redis: RedisHandle;
  /** Deletes every key under the test's prefix and closes the connections. */
  cleanup(): Promise<void>;
}

/** A config on the test Redis with a prefix of its own; `env` overrides variables. */
export async function queueTestEnv(label: string, env: Record<string, string> = {}): Promise<QueueTestEnv> {
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    REDIS_URL,
    PORTRAIT_QUEUE_PREFIX: uniquePrefix(label),
    ...env,
  });
  const redis = await openRedis(config, silentLogger);
  return {
    config,
    redis,
    async cleanup() {
      await deleteKeys(redis.connection(), config.PORTRAIT_QUEUE_PREFIX);
      await redis.close();
    },
  };
}

export const alice: Requester = { platform: 'discord', userId: 'alice', scopeId: 'guild-1' };
export const bob: Requester = { platform: 'discord', userId: 'bob', scopeId: 'guild-1' };

/** Collects deliveries and lets a test await the one it expects, without sleeping. */
export class DeliveryInbox {
  readonly received: Delivery[] = [];
  private readonly waiters: { match: (d: Delivery) => boolean; resolve: (d: Delivery) => void }[] = [];
  readonly handler: DeliveryHandler = async (delivery) => {
    this.received.push(delivery);
    for (const w of [...this.waiters]) {
      if (w.match(delivery)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(delivery);
      }
    }
  };
  next(match: (d: Delivery) => boolean): Promise<Delivery> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
  answerFor(jobId: string): Promise<Delivery> {
    return this.next((d) => d.jobId === jobId && d.kind !== 'progress');
  }
  answers(jobId: string): Delivery[] {
    return this.received.filter((d) => d.jobId === jobId && d.kind !== 'progress');
  }
}
