import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeError } from '../../src/core/messages.js';
import type { Requester } from '../../src/core/request.js';
import { PortraitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { queueKeys } from '../../src/queue/keys.js';
import { formatRetryAfter, takeRate } from '../../src/queue/rate-limit.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';

/**
 * Per-user rate limit (src/queue/rate-limit.ts): a sliding window in Redis, checked and recorded atomically with the
 * in-flight reservation. No worker runs here: submitted jobs stay queued.
 */
describe('per-user rate limit', () => {
  let env: QueueTestEnv;
  let service: PortraitQueueService;
  const user = (userId: string): Requester => ({ platform: 'discord', userId, scopeId: 'rate-guild' });

  before(async () => {
    env = await queueTestEnv('rate', {
      PORTRAIT_USER_RATE: '3',
      PORTRAIT_USER_RATE_WINDOW_SECONDS: '3600',
      PORTRAIT_USER_IN_FLIGHT: '20',
    });
    service = createPortraitService(env.config, env.redis, silentLogger);
  });
  after(async () => {
    await service.close();
    await env.cleanup();
  });

  async function submit(requester: Requester, key: string) {
    const selfie = await service.putBlob(new Uint8Array([1, 2, 3]), requester);
    return service.submit({ idempotencyKey: key, request: { requester, selfieKeys: [selfie], seed: 1 } });
  }
  async function refusal(p: Promise<unknown>): Promise<PortraitError> {
    const err = await p.then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof PortraitError, String(err));
    return err;
  }

  it('the sliding window: full at the limit, open again when the oldest request leaves it', async () => {
    const key = `${env.config.PORTRAIT_QUEUE_PREFIX}:rate:window-test`;
    const rate = { limit: 3, windowMs: 60_000 };
    const redis = env.redis.connection();
    assert.equal(await takeRate(redis, key, rate, 1_000), 0);
    assert.equal(await takeRate(redis, key, rate, 2_000), 0);
    assert.equal(await takeRate(redis, key, rate, 30_000), 0);
    // Full: the wait is until the request at 1 s leaves the window (61 s).
    assert.equal(await takeRate(redis, key, rate, 40_000), 21_000);
    // A refused request is not recorded: at 61.001 s one slot is free again, and only one.
    assert.equal(await takeRate(redis, key, rate, 61_001), 0);
    assert.equal(await takeRate(redis, key, rate, 61_002), 998);
    assert.ok((await redis.pttl(key)) <= 60_000, 'the log expires one window after the last request');
  });

  it('a requester over the limit is refused with quota.rate_limited and when to come back', async () => {
    const alice = user('alice');
    for (const i of [1, 2, 3]) await submit(alice, `alice-${i}`);
    const err = await refusal(submit(alice, 'alice-4'));
    assert.equal(err.code, 'quota.rate_limited');
    assert.equal(err.details['limit'], 3);
    assert.equal(err.details['retryAfter'], '60 minutes');
    const seconds = Number(err.details['retryAfterSeconds']);
    assert.ok(seconds > 3590 && seconds <= 3600, `${seconds}`);
    assert.equal(describeError(err), "You're making portraits faster than this bot allows. Try again in 60 minutes.");
    // A retry of an accepted request is still answered as the same job, not refused.
    const again = await submit(alice, 'alice-2');
    assert.equal(again.duplicate, true);
    // Someone else is not affected.
    assert.equal((await submit(user('bob'), 'bob-1')).duplicate, false);
  });

  it('the operator running portrait generate has no rate limit and no in-flight cap; CLI-platform visitors do', async () => {
    const operator: Requester = { platform: 'cli', userId: 'admin', scopeId: 'local' };
    const submitAs = async (requester: Requester, key: string, asOperator: boolean) => {
      const selfie = await service.putBlob(new Uint8Array([1, 2, 3]), requester);
      return service.submit({
        idempotencyKey: key,
        request: { requester, selfieKeys: [selfie], seed: 1 },
        ...(asOperator ? { operator: true } : {}),
      });
    };
    // Past the rate (3) and the in-flight cap (20) in one window, with every job still queued.
    const receipts = [];
    for (let i = 1; i <= 25; i++) receipts.push(await submitAs(operator, `operator-${i}`, true));
    assert.equal(new Set(receipts.map((r) => r.jobId)).size, 25);
    assert.ok(receipts.every((r) => !r.duplicate));
    // The reservation still answers a retried run as the same job.
    assert.equal((await submitAs(operator, 'operator-7', true)).duplicate, true);
    // The exemption is the operator's, not the platform's: a playground visitor (platform cli too) is limited.
    const visitor: Requester = { platform: 'cli', userId: 'playground-abc', scopeId: 'playground' };
    for (const i of [1, 2, 3]) await submitAs(visitor, `visitor-${i}`, false);
    assert.equal((await refusal(submitAs(visitor, 'visitor-4', false))).code, 'quota.rate_limited');
  });

  it('is atomic: ten concurrent submits over an empty window accept exactly the limit', async () => {
    const carol = user('carol');
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => submit(carol, `carol-${i}`)));
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as PortraitError).code] : []));
    assert.equal(accepted, 3);
    assert.deepEqual(new Set(codes), new Set(['quota.rate_limited']));
  });

  it('a request refused for the in-flight cap does not use up the rate', async () => {
    const capped = await queueTestEnv('rate-cap', { PORTRAIT_USER_RATE: '2', PORTRAIT_USER_IN_FLIGHT: '1' });
    const svc = createPortraitService(capped.config, capped.redis, silentLogger);
    const dave = user('dave');
    const send = async (key: string) => {
      const selfie = await svc.putBlob(new Uint8Array([1]), dave);
      return svc.submit({ idempotencyKey: key, request: { requester: dave, selfieKeys: [selfie], seed: 1 } });
    };
    try {
      const d1 = await send('d1');
      assert.equal((await refusal(send('d2'))).code, 'quota.user_in_flight');
      await svc.cancel(d1.jobId, dave);
      // Accepted: d2 did not count, so this is the second of two.
      const d3 = await send('d3');
      await svc.cancel(d3.jobId, dave);
      assert.equal((await refusal(send('d4'))).code, 'quota.rate_limited');
    } finally {
      await svc.close();
      await capped.cleanup();
    }
  });

  it('the sliding log names nobody: a hashed key, random members, a TTL of one window', async () => {
    const keys = queueKeys(env.config.PORTRAIT_QUEUE_PREFIX);
    const key = keys.userRate(user('alice'));
    assert.ok(!key.includes('alice'), key);
    const redis = env.redis.connection();
    const members = await redis.zrange(key, 0, -1);
    assert.equal(members.length, 3);
    for (const m of members) assert.ok(!/alice|discord-/.test(m), m);
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= 3600_000, `${ttl}`);
    assert.notEqual(keys.userRate(user('alice')), keys.userRate(user('bob')));
  });

  it('formats the wait rounded up', () => {
    assert.equal(formatRetryAfter(1), '1 second');
    assert.equal(formatRetryAfter(45_200), '46 seconds');
    assert.equal(formatRetryAfter(61_000), '2 minutes');
    assert.equal(formatRetryAfter(3600_000), '60 minutes');
    assert.equal(formatRetryAfter(3 * 3600_000 + 1), '4 hours');
  });
});
