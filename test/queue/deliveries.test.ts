import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { silentLogger } from '../../src/log.js';
import { consumeDeliveries, createDeliveryProducer, type DeliveryProducer } from '../../src/queue/deliveries.js';
import type { Delivery } from '../../src/queue/jobs.js';
import { alice, DeliveryInbox, type QueueTestEnv, queueTestEnv } from './helpers.js';

const failure = (jobId: string): Extract<Delivery, { kind: 'failure' }> => ({
  kind: 'failure',
  jobId,
  platform: 'slack',
  route: { channel: 'C1' },
  requester: { ...alice, platform: 'slack' },
  error: { code: 'face.none', message: 'no face', details: {} },
});

describe('delivery queue', () => {
  let env: QueueTestEnv;
  let conn: Redis;
  let producer: DeliveryProducer;

  before(async () => {
    env = await queueTestEnv('deliveries');
    conn = env.redis.connection();
    producer = createDeliveryProducer(conn, env.config.PORTRAIT_QUEUE_PREFIX);
  });
  after(async () => {
    await producer.close();
    await env.cleanup();
  });

  it('retries an answer whose handler throws, and hands it to a successful handler once', async () => {
    const inbox = new DeliveryInbox();
    let calls = 0;
    const consumer = await consumeDeliveries(
      env.config,
      env.redis,
      silentLogger,
      'slack',
      async (d) => {
        calls++;
        if (calls < 3) throw new Error('chat API down');
        await inbox.handler(d);
      },
      { retryDelayMs: 5 },
    );
    await producer.answer(failure('job-a'));
    await inbox.answerFor('job-a');
    assert.equal(calls, 3);
    // The same answer queued again (a job re-run after a stall) is not handed out again.
    await producer.answer(failure('job-a'));
    await producer.answer(failure('job-b'));
    await inbox.answerFor('job-b');
    assert.equal(inbox.answers('job-a').length, 1);
    assert.equal(await producer.answered('job-a', 'slack'), true);
    assert.equal(await producer.answered('job-zzz', 'slack'), false);
    await consumer.close();
  });

  it('keeps answers while no consumer runs and delivers them once to the next one', async () => {
    await producer.answer(failure('job-c'));
    await producer.answer(failure('job-d'));
    const inbox = new DeliveryInbox();
    const consumer = await consumeDeliveries(env.config, env.redis, silentLogger, 'slack', inbox.handler);
    await Promise.all([inbox.answerFor('job-c'), inbox.answerFor('job-d')]);
    await consumer.close();
    const again = new DeliveryInbox();
    const restarted = await consumeDeliveries(env.config, env.redis, silentLogger, 'slack', again.handler);
    await producer.answer(failure('job-e'));
    await again.answerFor('job-e');
    assert.deepEqual(
      again.received.map((d) => d.jobId),
      ['job-e'],
      'nothing acknowledged before the restart is handed out again',
    );
    await restarted.close();
  });

  it('drops stale progress and does not let progress pile up', async () => {
    const base = {
      jobId: 'job-p',
      platform: 'slack' as const,
      route: {},
      requester: { ...alice, platform: 'slack' as const },
    };
    await producer.progress({ ...base, kind: 'progress', stage: 'ingest', at: Date.now() - 60_000 });
    // A second update of the same stage while the first waits is coalesced away.
    await producer.progress({ ...base, kind: 'progress', stage: 'detect', at: Date.now() });
    await producer.progress({ ...base, kind: 'progress', stage: 'detect', step: 2, at: Date.now() });
    const waiting = await conn.llen(`${env.config.PORTRAIT_QUEUE_PREFIX}:deliveries-slack:wait`);
    assert.equal(waiting, 2);
    const inbox = new DeliveryInbox();
    const consumer = await consumeDeliveries(env.config, env.redis, silentLogger, 'slack', inbox.handler);
    await producer.answer(failure('job-p'));
    await inbox.answerFor('job-p');
    const progress = inbox.received.filter((d) => d.kind === 'progress');
    assert.deepEqual(
      progress.map((d) => d.kind === 'progress' && d.stage),
      ['detect'],
      'the minute-old one was dropped',
    );
    await consumer.close();
    const left = await conn.keys(`${env.config.PORTRAIT_QUEUE_PREFIX}:deliveries-slack:job-p-progress*`);
    assert.deepEqual(left, [], 'consumed progress is removed');
  });

  it('keeps private inboxes apart from the shared queue and removes them on request', async () => {
    const shared = new DeliveryInbox();
    const own = new DeliveryInbox();
    const c1 = await consumeDeliveries(env.config, env.redis, silentLogger, 'slack', shared.handler);
    const c2 = await consumeDeliveries(env.config, env.redis, silentLogger, 'slack', own.handler, {
      inbox: 'cli-run-1',
      removeOnClose: true,
    });
    await producer.answer(failure('job-private'), 'cli-run-1');
    await own.answerFor('job-private');
    await producer.answer(failure('job-shared'));
    await shared.answerFor('job-shared');
    assert.deepEqual(
      shared.received.map((d) => d.jobId),
      ['job-shared'],
    );
    await c2.close();
    await c1.close();
    assert.deepEqual(await conn.keys(`${env.config.PORTRAIT_QUEUE_PREFIX}:deliveries-slack-cli-run-1:*`), []);
  });
});
