import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { silentLogger } from '../../src/log.js';
import { type EventScheduler, startEventScheduler } from '../../src/queue/event-jobs.js';
import { type AvatarEventService, createEventService } from '../../src/queue/event-service.js';
import { createEventStore, type EventStore } from '../../src/queue/events.js';
import type { DeliveryConsumer } from '../../src/queue/service.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import { DeliveryInbox, type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';
import { EVENT_PIPELINE, member, organiser, selfie, UpdateLog } from './helpers.js';

/**
 * The fairness measurement: ordinary /portrait jobs submitted while a 200-entry event backlog waits must not queue
 * behind it. Measured with a real worker (concurrency 1) and the cheap stand-in pipeline: for each ordinary job, the
 * wait from submit to start, and how many event jobs started in between. The ordering (not the milliseconds) is
 * what is asserted; the waits are reported.
 */
describe('event fairness', () => {
  let env: QueueTestEnv;
  let conn: Redis;
  let portraits: PortraitQueueService;
  let store: EventStore;
  let scheduler: EventScheduler;
  let events: AvatarEventService;
  let worker: PortraitWorker;
  let consumer: DeliveryConsumer;
  const inbox = new DeliveryInbox();
  const log = new UpdateLog();
  const starts = new Map<string, number>();
  let photo: Uint8Array;

  before(async () => {
    env = await queueTestEnv('events-fair', {
      PORTRAIT_EVENT_IN_FLIGHT: '2',
      PORTRAIT_SCOPE_QUEUE_CAP: '50',
      PORTRAIT_USER_IN_FLIGHT: '2',
    });
    conn = env.redis.connection();
    portraits = createPortraitService(env.config, env.redis, silentLogger);
    store = createEventStore(conn, env.config.PORTRAIT_QUEUE_PREFIX);
    worker = await startWorker(env.config, env.redis, silentLogger, {
      pipelineModule: EVENT_PIPELINE,
      concurrency: 1,
      progressIntervalMs: 60_000,
      onJobStart: (jobId) => starts.set(jobId, performance.now()),
    });
    scheduler = await startEventScheduler(
      { config: env.config, redis: env.redis, service: portraits, store, log: silentLogger },
      { platform: 'discord', onUpdate: log.handler, tickMs: 0, sweepMs: 0 },
    );
    events = createEventService({
      store,
      portraits,
      schedulers: { discord: scheduler },
      defaultEngine: 'compositor',
      organiserRoles: {},
      log: silentLogger,
    });
    consumer = await portraits.consumeDeliveries('discord', inbox.handler);
    photo = await selfie(3);
  });
  after(async () => {
    await consumer.close();
    await scheduler.close();
    await worker.close();
    await portraits.close();
    await env.cleanup();
  });

  /** Event jobs (every started job not in `ordinary`) that started after `from` and before `to`. */
  const eventStartsBetween = (from: number, to: number, ordinary: Set<string>) =>
    [...starts].filter(([id, t]) => !ordinary.has(id) && t > from && t < to).length;

  const ordinaryJob = async (userId: string, scopeId: string, key: string) => {
    const blob = await portraits.putBlob(photo, member(userId, scopeId));
    const t0 = performance.now();
    const receipt = await portraits.submit({
      idempotencyKey: key,
      request: { requester: member(userId, scopeId), selfieKeys: [blob], style: 'sleep:10', seed: 1 },
    });
    return { jobId: receipt.jobId, t0 };
  };

  it('runs /portrait jobs submitted during a 200-entry event ahead of the event backlog', async (t) => {
    await events.create(organiser, {
      name: 'Big',
      engine: 'diffusion',
      style: 'sleep:10',
      destination: { channelId: 'c' },
    });
    await events.open(organiser, 'Big');
    const eventStart = performance.now();
    for (let i = 0; i < 200; i++) {
      await events.join('Big', { member: member(`m${i}`), displayName: `m${i}`, selfie: photo, dm: false });
    }
    const ordinary: { jobId: string; t0: number; backlog: number }[] = [];
    for (let k = 0; k < 8; k++) {
      // Spread over the event: after 10, 30, 50 ... event avatars.
      await log.waitFor(10 + 20 * k, (u) => u.kind === 'result');
      const backlog = await conn.zcard(store.keys.pending('discord'));
      // Same community as the event: its share must not fill the community's queue cap either.
      ordinary.push({ ...(await ordinaryJob(`o${k}`, 'g1', `fair-${k}`)), backlog });
    }
    for (const o of ordinary) assert.equal((await inbox.answerFor(o.jobId)).kind, 'result');
    await log.waitFor(200, (u) => u.kind === 'result');
    const eventMs = performance.now() - eventStart;

    const ids = new Set(ordinary.map((o) => o.jobId));
    const rows = ordinary.map((o) => {
      const started = starts.get(o.jobId) ?? Number.NaN;
      return { backlog: o.backlog, waitMs: started - o.t0, eventJobsAhead: eventStartsBetween(o.t0, started, ids) };
    });
    const waits = rows.map((r) => r.waitMs).sort((a, b) => a - b);
    const perEventJob = eventMs / 200;
    // The numbers for the report: waits against the time the backlog would have taken.
    t.diagnostic(
      `fairness: ${rows.length} ordinary jobs during a 200-entry event; wait p50 ${waits[3]?.toFixed(1)} ms, ` +
        `max ${waits.at(-1)?.toFixed(1)} ms; event job every ${perEventJob.toFixed(1)} ms; ` +
        `backlog at submit ${rows.map((r) => r.backlog).join('/')}; event jobs ahead ${rows.map((r) => r.eventJobsAhead).join('/')}`,
    );
    for (const r of rows) {
      assert.ok(r.backlog >= 40, `a real backlog was waiting (${r.backlog})`);
      // With one worker slot, at most the event job already being fetched can start first.
      assert.ok(r.eventJobsAhead <= 1, `${r.eventJobsAhead} event jobs ran before an ordinary job`);
    }
    const report = await events.status('discord', 'g1', 'Big');
    assert.equal(report.progress.done, 200);
  });

  it('control: the same measure sees the delay when event-like jobs go straight into the queue', async (t) => {
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) await ordinaryJob(`flood${i}`, 'g2', `flood-${i}`);
    const probe = await ordinaryJob('probe', 'g2', 'probe');
    ids.add(probe.jobId);
    await inbox.answerFor(probe.jobId);
    const ahead = eventStartsBetween(probe.t0, starts.get(probe.jobId) ?? Number.NaN, ids);
    t.diagnostic(`control: a job behind 40 unprioritised jobs waited for ${ahead} of them`);
    assert.ok(ahead >= 30, `the probe waited behind the flood (${ahead})`);
  });
});
