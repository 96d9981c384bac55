import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PortraitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { jobIdFor, queueKeys } from '../../src/queue/keys.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { alice, bob, DeliveryInbox, type QueueTestEnv, queueTestEnv } from './helpers.js';

const BYTES = new Uint8Array([1, 2, 3]);

/** No worker runs in this file: submitted jobs stay queued, so caps and positions are deterministic. */
describe('submit (no worker)', () => {
  let env: QueueTestEnv;
  let service: PortraitQueueService;
  let selfie: string;

  const request = (requester = alice, extra: Record<string, unknown> = {}) => ({
    requester,
    selfieKeys: [selfie],
    seed: 1,
    ...extra,
  });

  before(async () => {
    env = await queueTestEnv('submit', { PORTRAIT_USER_IN_FLIGHT: '2', PORTRAIT_SCOPE_QUEUE_CAP: '3' });
    service = createPortraitService(env.config, env.redis, silentLogger);
    selfie = await service.putBlob(BYTES, alice);
  });
  after(async () => {
    await service.close();
    await env.cleanup();
  });

  it('derives BullMQ-safe job ids (no colon, not all digits) from idempotency keys', () => {
    for (const key of ['123456789012345678', 'a:b:c', 'Ev012ABC']) {
      const id = jobIdFor('discord', key);
      assert.ok(!id.includes(':') && !/^\d+$/.test(id), id);
    }
    assert.notEqual(jobIdFor('discord', 'x'), jobIdFor('slack', 'x'));
    assert.equal(jobIdFor('slack', 'x'), jobIdFor('slack', 'x'));
  });

  it('returns the same job for a second submit with the same idempotency key, also when both race', async () => {
    const first = await service.submit({ idempotencyKey: 'interaction-1', request: request() });
    assert.equal(first.duplicate, false);
    assert.equal(first.position, 1);
    const again = await service.submit({ idempotencyKey: 'interaction-1', request: request() });
    assert.deepEqual(again, { ...first, duplicate: true });
    const raced = await Promise.all(
      [1, 2, 3].map(() => service.submit({ idempotencyKey: 'interaction-2', request: request() })),
    );
    assert.equal(new Set(raced.map((r) => r.jobId)).size, 1);
    assert.equal(raced.filter((r) => !r.duplicate).length, 1, 'exactly one submit created the job');
    await service.cancel(first.jobId, alice);
    await service.cancel(raced[0]?.jobId ?? '', alice);
  });

  it('refuses a requester over the in-flight cap, atomically under concurrent submits', async () => {
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((i) => service.submit({ idempotencyKey: `cap-${i}`, request: request(bob) })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 2, 'PORTRAIT_USER_IN_FLIGHT=2');
    for (const r of refused) {
      assert.ok(r.reason instanceof PortraitError);
      assert.equal(r.reason.code, 'quota.user_in_flight');
      assert.equal(r.reason.details['limit'], 2);
    }
    // Cancelling one frees its slot.
    const jobs = await service.listJobs(bob);
    assert.equal(jobs.length, 2);
    assert.equal(await service.cancel(jobs[0]?.jobId ?? '', bob), true);
    await service.submit({ idempotencyKey: 'cap-after-cancel', request: request(bob) });
    for (const j of await service.listJobs(bob)) await service.cancel(j.jobId, bob);
  });

  it('refuses a community over its queue cap', async () => {
    const users = ['u1', 'u2', 'u3', 'u4'].map((userId) => ({ ...alice, userId, scopeId: 'busy-guild' }));
    const receipts = [];
    for (const u of users.slice(0, 3))
      receipts.push(await service.submit({ idempotencyKey: `scope-${u.userId}`, request: request(u) }));
    assert.deepEqual(
      receipts.map((r) => r.position),
      [1, 2, 3],
    );
    await assert.rejects(
      service.submit({ idempotencyKey: 'scope-u4', request: request(users[3]) }),
      (err: unknown) => err instanceof PortraitError && err.code === 'quota.queue_full',
    );
    // Another community is not affected.
    const other = await service.submit({
      idempotencyKey: 'scope-other',
      request: request({ ...alice, userId: 'u9', scopeId: 'calm' }),
    });
    assert.equal(other.duplicate, false);
    await service.cancel(other.jobId, { ...alice, userId: 'u9', scopeId: 'calm' });
    for (const [i, u] of users.slice(0, 3).entries()) await service.cancel(receipts[i]?.jobId ?? '', u);
  });

  it('drops a reservation whose job is gone instead of refusing forever', async () => {
    const keys = queueKeys(env.config.PORTRAIT_QUEUE_PREFIX);
    const carol = { ...alice, userId: 'carol' };
    const conn = env.redis.connection();
    // Two reservations a crashed process never released (their jobs do not exist).
    await conn.zadd(keys.userInFlight(carol), Date.now() + 60_000, 'ghost-1', Date.now() + 60_000, 'ghost-2');
    const receipt = await service.submit({ idempotencyKey: 'carol-1', request: request(carol) });
    assert.equal(receipt.duplicate, false);
    assert.deepEqual(await conn.zrange(keys.userInFlight(carol), 0, -1), [receipt.jobId]);
    await service.cancel(receipt.jobId, carol);
  });

  it('orders prioritized jobs after the plain wait list, by priority', async () => {
    const dave = (n: number) => ({ ...alice, userId: `dave${n}`, scopeId: 'prio' });
    const plain = await service.submit({ idempotencyKey: 'p-plain', request: request(dave(1)) });
    const low = await service.submit({ idempotencyKey: 'p-low', request: request(dave(2)), priority: 10 });
    const high = await service.submit({ idempotencyKey: 'p-high', request: request(dave(3)), priority: 1 });
    assert.equal(await service.position(plain.jobId), 1);
    assert.equal(await service.position(high.jobId), 2);
    assert.equal(await service.position(low.jobId), 3);
    assert.equal(await service.position('no-such-job'), 0);
    await service.cancel(plain.jobId, dave(1));
    assert.equal(await service.position(high.jobId), 1);
    await service.cancel(low.jobId, dave(2));
    await service.cancel(high.jobId, dave(3));
  });

  it('validates requests with stable codes', async () => {
    const refuse = (options: Parameters<typeof service.submit>[0], code: string) =>
      assert.rejects(service.submit(options), (err: unknown) => err instanceof PortraitError && err.code === code);
    await refuse({ idempotencyKey: 'v1', request: { requester: alice, selfieKeys: [], seed: 1 } }, 'request.no_selfie');
    await refuse(
      { idempotencyKey: 'v2', request: { requester: alice, selfieKeys: Array(5).fill(selfie), seed: 1 } },
      'request.too_many_selfies',
    );
    await refuse({ idempotencyKey: 'v3', request: { ...request(), variations: 9 } }, 'request.bad_option');
    await refuse({ idempotencyKey: '', request: request() }, 'request.bad_option');
    await refuse({ idempotencyKey: 'v4', request: request(), inbox: 'a:b' }, 'request.bad_option');
    await refuse({ idempotencyKey: 'v5', request: { ...request(), selfieKeys: [`${selfie}-gone`] } }, 'job.expired');
  });

  it('cancels a queued job: removed, slot freed, answered job.cancelled; never another requester’s job', async () => {
    const inbox = new DeliveryInbox();
    const consumer = await service.consumeDeliveries('discord', inbox.handler, { inbox: 'cancel-test' });
    const erin = { ...alice, userId: 'erin' };
    const { jobId } = await service.submit({
      idempotencyKey: 'erin-1',
      request: request(erin, { route: { thread: 't1' } }),
      inbox: 'cancel-test',
    });
    assert.equal(await service.cancel(jobId, bob), false, 'not bob’s job');
    assert.equal(await service.cancel(jobId, erin), true);
    assert.equal(await service.cancel(jobId, erin), false, 'already cancelled');
    const answer = await inbox.answerFor(jobId);
    assert.equal(answer.kind === 'failure' && answer.error.code, 'job.cancelled');
    assert.deepEqual(answer.route, { thread: 't1' });
    assert.equal(await service.position(jobId), 0);
    assert.deepEqual(
      (await service.listJobs(erin)).map((j) => [j.jobId, j.state]),
      [[jobId, 'cancelled']],
    );
    await consumer.close();
  });

  it('lists a requester’s jobs with state and position', async () => {
    const frank = { ...alice, userId: 'frank', scopeId: 'list' };
    const a = await service.submit({ idempotencyKey: 'f1', request: request(frank, { pose: 'profile left' }) });
    const jobs = await service.listJobs(frank);
    assert.deepEqual(
      jobs.map(({ jobId, state, position, pose, lighting }) => ({ jobId, state, position, pose, lighting })),
      [{ jobId: a.jobId, state: 'queued', position: 1, pose: 'profile left', lighting: 'studio' }],
    );
    await service.cancel(a.jobId, frank);
  });

  it('forget removes the requester’s blobs, jobs and records, and nobody else’s', async () => {
    const gina = { ...alice, userId: 'gina', scopeId: 'forget' };
    const other = await service.putBlob(BYTES, bob);
    const own = await service.putBlob(BYTES, gina);
    const { jobId } = await service.submit({
      idempotencyKey: 'g1',
      request: { requester: gina, selfieKeys: [own], seed: 1 },
    });
    const removed = await service.forget(gina);
    assert.ok(removed >= 2, `removed ${removed}`);
    assert.equal(await service.getBlob(own), null);
    assert.deepEqual(await service.getBlob(other), BYTES);
    assert.deepEqual(await service.listJobs(gina), []);
    assert.equal(await service.position(jobId), 0);
    const conn = env.redis.connection();
    const keys = queueKeys(env.config.PORTRAIT_QUEUE_PREFIX);
    assert.equal(await conn.exists(keys.owner(gina), keys.userJobs(gina), keys.userInFlight(gina)), 0);
    assert.equal(await conn.exists(`${env.config.PORTRAIT_QUEUE_PREFIX}:portraits:${jobId}`), 0, 'job record gone');
  });
});

describe('submit without Redis', () => {
  it('answers service.unavailable instead of hanging', async () => {
    const { openRedis } = await import('../../src/queue/connection.js');
    const { parseConfig } = await import('../../src/config.js');
    // Port 1 on loopback: nothing listens there.
    const config = parseConfig({ NODE_ENV: 'test', REDIS_URL: 'redis://127.0.0.1:1' });
    // A process that is already running when Redis goes away: start-up's PING (which would refuse) is skipped.
    const redis = await openRedis(config, silentLogger, { probe: false });
    const service = createPortraitService(config, redis, silentLogger);
    await assert.rejects(
      service.putBlob(BYTES, alice),
      (err: unknown) => err instanceof PortraitError && err.code === 'service.unavailable',
    );
    await service.close();
    await redis.close();
  });
});
