import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { queueKeys } from '../../src/queue/keys.js';
import type { DeliveryConsumer } from '../../src/queue/service.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import { dumpPrefix, mentioning } from '../helpers/redis-dump.js';
import { alice, bob, DeliveryInbox, type QueueTestEnv, queueTestEnv, SCRIPTED_PIPELINE } from '../queue/helpers.js';

/**
 * Retention without `forget`: once PORTRAIT_BLOB_TTL_SECONDS has passed after a member's portraits, nothing under the
 * prefix names them, their jobs or their blobs. Not their selfies and results (blob TTL), not BullMQ's finished job
 * records (requester, route) or delivered answers (the result), not the queues' events streams (job ids), not their
 * job list, even though no later job comes along to trigger BullMQ's own lazy removal.
 */

const SELFIE = new Uint8Array([0xff, 0xd8, 0xff, 9, 8, 7]);
/** Below the config's 60 s minimum: the test hands the functions a config object directly, validation unchanged. */
const TTL_SECONDS = 2;

describe('retention: everything naming a member expires with the blob TTL', () => {
  let env: QueueTestEnv;
  let config: Config;
  let service: PortraitQueueService;
  let worker: PortraitWorker;
  let consumer: DeliveryConsumer;
  const inbox = new DeliveryInbox();

  before(async () => {
    env = await queueTestEnv('retention', { PORTRAIT_USER_IN_FLIGHT: '10' });
    config = { ...env.config, PORTRAIT_BLOB_TTL_SECONDS: TTL_SECONDS };
    service = createPortraitService(config, env.redis, silentLogger);
    worker = await startWorker(config, env.redis, silentLogger, {
      pipelineModule: SCRIPTED_PIPELINE,
      concurrency: 1,
      retentionSweepMs: 250,
    });
    consumer = await service.consumeDeliveries('discord', inbox.handler, { retentionSweepMs: 250 });
  });

  after(async () => {
    await consumer?.close();
    await worker?.close();
    await service?.close();
    await env?.cleanup();
  });

  it('a portrait and a refusal, delivered; past the TTL nothing under the prefix names the member', async () => {
    const prefix = config.PORTRAIT_QUEUE_PREFIX;
    const conn = env.redis.connection();
    const keys = queueKeys(prefix);
    const jobIds: string[] = [];
    for (const [i, style] of ['noop', 'user-error'].entries()) {
      const selfie = await service.putBlob(SELFIE, alice);
      const { jobId } = await service.submit({
        idempotencyKey: `r${i}`,
        request: { requester: alice, selfieKeys: [selfie], style, seed: 3, route: { channel: 'alice-dm' } },
      });
      jobIds.push(jobId);
      await inbox.answerFor(jobId);
    }
    const answer = await inbox.answerFor(jobIds[0] ?? '');
    assert.equal(answer.kind, 'result');
    const blobs = await conn.smembers(keys.owner(alice));
    const needles = [alice.userId, 'alice-dm', ...jobIds, ...blobs];

    // Before the TTL: her job records, answers (with the result keys), events and blobs are all there.
    const fresh = await dumpPrefix(conn, prefix);
    const named = mentioning(fresh, needles);
    for (const part of [':portraits:events', ':deliveries-discord:events', keys.owner(alice), keys.userJobs(alice)]) {
      assert.ok(
        named.some((k) => k.endsWith(part)),
        `${part} names her before the TTL`,
      );
    }
    assert.ok(
      named.some((k) => k.startsWith(`${prefix}:portraits:${jobIds[0]}`)),
      'her job record',
    );
    assert.ok(
      fresh.some((k) => k.key.includes(':deliveries-discord:') && k.text.includes('outputKeys')),
      'the delivered answer holds the result',
    );

    // Past the TTL (no event marks it: the clock does), the sweepers of the worker and the consumer have run.
    await sleep(TTL_SECONDS * 1000 + 300);
    let left = mentioning(await dumpPrefix(conn, prefix), needles);
    for (let tries = 0; left.length > 0 && tries < 40; tries++) {
      await sleep(250);
      left = mentioning(await dumpPrefix(conn, prefix), needles);
    }
    assert.deepEqual(left, [], 'nothing names her, her jobs or her blobs');
    const rest = await dumpPrefix(conn, prefix);
    assert.deepEqual(
      rest.filter((k) => /outputKeys|alice/.test(k.text)).map((k) => k.key),
      [],
      'no result and no requester anywhere',
    );
  });

  it("an active member's job list drops records older than the TTL at their next submit", async () => {
    const conn = env.redis.connection();
    const keys = queueKeys(config.PORTRAIT_QUEUE_PREFIX);
    // A record from before the TTL, as one left behind in a list whose TTL restarts with every newer submit.
    const old = JSON.stringify({ submittedAt: Date.now() - TTL_SECONDS * 1000 - 1, pose: 'front', lighting: 'soft' });
    await conn.hset(keys.userJobs(bob), 'discord-old-job', old);
    const selfie = await service.putBlob(SELFIE, bob);
    const { jobId } = await service.submit({
      idempotencyKey: 'bob-1',
      request: { requester: bob, selfieKeys: [selfie], style: 'noop', seed: 1 },
    });
    assert.deepEqual(Object.keys(await conn.hgetall(keys.userJobs(bob))), [jobId]);
    await inbox.answerFor(jobId);
  });
});
