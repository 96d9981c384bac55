import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Queue } from 'bullmq';
import { createDeliveryProducer, deliveryQueueName } from '../../src/queue/deliveries.js';
import { alice, queueTestEnv } from '../queue/helpers.js';
import { bounded, CONSUMER_PROCESS, ProcessUnderTest, TSX } from './processes.js';

/**
 * The bot side of a crash: a process consuming the Discord delivery queue is SIGKILLed while some answers are being
 * posted (their platform calls in flight) and others wait in the queue; then the restarted process is killed again
 * while posting the same answers. The third process posts every answer, and no answer is posted twice.
 */
it('bot processes killed twice with answers in flight and queued: every answer is posted exactly once', {
  timeout: 60_000,
}, async () => {
  const env = await queueTestEnv('bot-restart');
  const prefix = env.config.PORTRAIT_QUEUE_PREFIX;
  const postedKey = `${prefix}:test-posted`;
  const producer = createDeliveryProducer(env.redis.connection(), prefix);
  const jobIds = Array.from({ length: 12 }, (_, i) => `job-${i + 1}`);
  // The four answers in flight at both crashes (4 = the consumer's concurrency, so the first bot is blocked on them).
  const held = jobIds.slice(3, 7);
  const consumer = (hold: string[]) =>
    new ProcessUnderTest([`--import`, TSX, CONSUMER_PROCESS, prefix, env.redis.url, postedKey, hold.join(',')], {});
  const holding = (p: ProcessUnderTest, ids: string[]) =>
    Promise.all(ids.map((id) => p.waitForLine((l) => l === `holding ${id}`, `holding ${id}`)));
  const processes: ProcessUnderTest[] = [];
  try {
    for (const jobId of jobIds) {
      await producer.answer({
        kind: 'failure',
        jobId,
        platform: 'discord',
        route: {},
        requester: alice,
        error: { code: 'face.none', message: 'no face', details: {} },
      });
    }

    const first = consumer(held);
    processes.push(first);
    await holding(first, held);
    first.kill('SIGKILL');
    await bounded(first.exited, 'exit');

    // The second bot posts the answers still queued, then gets the four stalled ones back and dies on them too.
    const second = consumer(held);
    processes.push(second);
    await holding(second, held);
    second.kill('SIGKILL');
    await bounded(second.exited, 'exit');

    const third = consumer([]);
    processes.push(third);
    await Promise.all(held.map((id) => third.waitForLine((l) => l === `posted ${id}`, `posted ${id}`)));
    third.kill('SIGTERM');
    assert.equal((await bounded(third.exited, 'exit')).code, 0);

    const posted = await env.redis.connection().lrange(postedKey, 0, -1);
    assert.deepEqual([...posted].sort(), [...jobIds].sort(), 'every answer posted, none twice');
    const queue = new Queue(deliveryQueueName('discord'), { connection: env.redis.connection(), prefix });
    assert.deepEqual(await queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'completed'), {
      wait: 0,
      active: 0,
      delayed: 0,
      failed: 0,
      completed: jobIds.length,
    });
    await queue.close();
  } finally {
    for (const p of processes) p.kill('SIGKILL');
    await producer.close();
    await env.cleanup();
  }
});
