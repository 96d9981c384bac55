import { QueueKeys } from 'bullmq';
import type { Redis } from 'ioredis';
import { deliveryQueueName } from '../queue/deliveries.js';
import { PORTRAIT_QUEUE } from '../queue/keys.js';

/** The chat platforms whose shared delivery queues are watched (a CLI run's private inbox is its own business). */
export const WATCHED_PLATFORMS = ['discord', 'slack'] as const;

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
}

export interface QueueSnapshot {
  portraits: QueueDepth;
  /** Answers and progress not yet handled by an adapter, per platform (waiting, delayed, prioritized or active). */
  deliveriesPending: Record<(typeof WATCHED_PLATFORMS)[number], number>;
}

/**
 * Reads the queue's depth straight from BullMQ's keys: one MULTI of LLEN/ZCARD, one round trip, whatever the
 * queue's length. Metrics call it on scrape, never per job.
 */
export function createQueueProbe(client: Redis, prefix: string): () => Promise<QueueSnapshot> {
  const names = new QueueKeys(prefix);
  const depthCommands = (queue: string) => {
    const k = names.getKeys(queue);
    return [k['wait'], k['active'], k['delayed'], k['prioritized']] as string[];
  };
  const portraitKeys = depthCommands(PORTRAIT_QUEUE);
  const deliveryKeys = WATCHED_PLATFORMS.map((p) => depthCommands(deliveryQueueName(p)));

  return async () => {
    const multi = client.multi();
    for (const keys of [portraitKeys, ...deliveryKeys]) {
      const [wait, active, delayed, prioritized] = keys as [string, string, string, string];
      multi.llen(wait).llen(active).zcard(delayed).zcard(prioritized);
    }
    const replies = await multi.exec();
    if (!replies) throw new Error('queue probe: transaction aborted');
    const n = replies.map(([err, value]) => {
      if (err) throw err;
      return Number(value);
    });
    const at = (i: number): QueueDepth => ({
      waiting: n[i] ?? 0,
      active: n[i + 1] ?? 0,
      delayed: n[i + 2] ?? 0,
      prioritized: n[i + 3] ?? 0,
    });
    const sum = (d: QueueDepth) => d.waiting + d.active + d.delayed + d.prioritized;
    return {
      portraits: at(0),
      deliveriesPending: Object.fromEntries(
        WATCHED_PLATFORMS.map((platform, i) => [platform, sum(at(4 * (i + 1)))]),
      ) as QueueSnapshot['deliveriesPending'],
    };
  };
}
