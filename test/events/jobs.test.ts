import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeError } from '../../src/core/messages.js';
import { silentLogger } from '../../src/log.js';
import { EVENT_JOB_PRIORITY, type EventScheduler, startEventScheduler } from '../../src/queue/event-jobs.js';
import { type AvatarEventService, createEventService } from '../../src/queue/event-service.js';
import { createEventStore, type EventStore } from '../../src/queue/events.js';
import type { PortraitJobData } from '../../src/queue/jobs.js';
import { PORTRAIT_QUEUE } from '../../src/queue/keys.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import { type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';
import { EVENT_PIPELINE, flatPhoto, member, organiser, selfie, UpdateLog } from './helpers.js';

describe('event jobs through the real queue and worker', () => {
  let env: QueueTestEnv;
  let conn: Redis;
  let portraits: PortraitQueueService;
  let store: EventStore;
  let scheduler: EventScheduler;
  let events: AvatarEventService;
  let worker: PortraitWorker;
  let queue: Queue<PortraitJobData>;
  const log = new UpdateLog();
  /** Invariant checks run at every job start: the event's share and one job per member. */
  const checks: Promise<void>[] = [];
  const violations: string[] = [];
  const startWaiters: { match: (job: Job<PortraitJobData>) => boolean; resolve: () => void }[] = [];
  /** Resolves when the worker starts a job that matches. */
  const started = (match: (job: Job<PortraitJobData>) => boolean) =>
    new Promise<void>((resolve) => startWaiters.push({ match, resolve }));

  before(async () => {
    env = await queueTestEnv('events-jobs', { PORTRAIT_EVENT_IN_FLIGHT: '2', PORTRAIT_USER_IN_FLIGHT: '3' });
    conn = env.redis.connection();
    portraits = createPortraitService(env.config, env.redis, silentLogger);
    store = createEventStore(conn, env.config.PORTRAIT_QUEUE_PREFIX);
    queue = new Queue(PORTRAIT_QUEUE, { connection: conn, prefix: env.config.PORTRAIT_QUEUE_PREFIX });
    const inspect = async () => {
      const jobs = await queue.getJobs(['active', 'prioritized', 'wait']);
      const eventJobs = jobs.filter((j) => j?.data.request.route['event']);
      if (eventJobs.length > 2) violations.push(`${eventJobs.length} event jobs in the queue`);
      const members = eventJobs.map((j) => j.data.request.requester.userId);
      if (new Set(members).size !== members.length) violations.push(`a member twice: ${members.join(',')}`);
      if (eventJobs.some((j) => j.opts.priority !== EVENT_JOB_PRIORITY)) violations.push('event job without priority');
    };
    worker = await startWorker(env.config, env.redis, silentLogger, {
      pipelineModule: EVENT_PIPELINE,
      concurrency: 1,
      progressIntervalMs: 0,
      onJobStart: (jobId) => {
        checks.push(inspect());
        const look = queue.getJob(jobId).then((job) => {
          for (const w of [...startWaiters]) {
            if (job && w.match(job)) {
              startWaiters.splice(startWaiters.indexOf(w), 1);
              w.resolve();
            }
          }
        });
        checks.push(look);
      },
    });
    scheduler = await startEventScheduler(
      { config: env.config, redis: env.redis, service: portraits, store, log: silentLogger },
      { platform: 'discord', onUpdate: log.handler, tickMs: 0, sweepMs: 0, deliveryRetryDelayMs: 10, deferMs: 50 },
    );
    events = createEventService({
      store,
      portraits,
      schedulers: { discord: scheduler },
      defaultEngine: 'compositor',
      organiserRoles: {},
      log: silentLogger,
    });
  });
  after(async () => {
    await scheduler.close();
    await worker.close();
    await queue.close();
    await portraits.close();
    await env.cleanup();
  });

  it('makes every member an avatar in the theme, tells the one with a bad photo why, and keeps only the avatars', async () => {
    await events.create(organiser, {
      name: 'Launch',
      pose: 'three-quarter right',
      lighting: 'rembrandt',
      format: 'png',
      size: 256,
      destination: { channelId: 'c1', threadId: 't1' },
    });
    await events.open(organiser, 'Launch');
    const photos = [await selfie(1), await selfie(2), await selfie(3), await flatPhoto()];
    const names = ['ada', 'bo', 'cy', 'flat'];
    // `ada` joins twice in a row: the second photo replaces the first (which may already be on its way).
    await events.join('Launch', {
      member: member('ada'),
      displayName: 'Ada',
      selfie: photos[2] as Uint8Array,
      dm: false,
    });
    for (const [i, name] of names.entries()) {
      await events.join('Launch', {
        member: member(name),
        displayName: name,
        selfie: photos[i] as Uint8Array,
        dm: i === 0,
      });
    }
    // The two other members, the redo, and the flat photo's failure.
    await log.waitFor(2, (u) => u.kind === 'result' && u.entry.member.userId !== 'ada');
    await log.waitFor(1, (u) => u.kind === 'result' && u.entry.member.userId === 'ada' && u.entry.rev === 2);
    await log.waitFor(1, (u) => u.kind === 'failure');
    await Promise.all(checks);
    assert.deepEqual(violations, []);

    const failure = log.updates.find((u) => u.kind === 'failure');
    assert.equal(failure?.entry.member.userId, 'flat');
    assert.equal(failure?.kind === 'failure' && failure.error.code, 'face.none');
    assert.match(failure?.kind === 'failure' ? describeError(failure.error) : '', /couldn't find a face in selfie 1/);
    const adaResult = log.updates.find(
      (u) => u.kind === 'result' && u.entry.member.userId === 'ada' && u.entry.rev === 2,
    );
    assert.ok(adaResult?.kind === 'result');
    assert.equal(adaResult.entry.dm, true);
    assert.equal(adaResult.event.destination.threadId, 't1');
    // Every job ran with the event's theme.
    const jobs = await queue.getJobs(['completed', 'failed']);
    for (const job of jobs) {
      assert.equal(job.data.request.pose, 'three-quarter right');
      assert.equal(job.data.request.lighting, 'rembrandt');
      assert.deepEqual(job.data.request.output, { size: 256, format: 'png' });
    }

    const event = await events.find('discord', 'g1', 'Launch');
    const report = await events.status('discord', 'g1', 'Launch');
    assert.equal(report.progress.entrants, 4);
    assert.equal(report.progress.done, 3);
    assert.equal(report.progress.failed, 1);
    assert.equal(report.progress.avatars, 3);
    const gallery = await events.gallery(organiser, 'Launch');
    assert.deepEqual(
      gallery.entries.map((e) => e.member.userId),
      ['ada', 'bo', 'cy'],
    );
    // ada's avatar is made from her second photo (the stand-in pipeline scales the selfie).
    const image = await gallery.readImage(gallery.entries[0] ?? assert.fail());
    assert.ok(image && image.length > 8 && image[1] === 0x50, 'a PNG avatar');

    // The worker's short-lived copies and the selfies are gone; the event keeps one image per avatar.
    const blobs = await conn.keys(`${env.config.PORTRAIT_QUEUE_PREFIX}:blob:*`);
    assert.deepEqual(blobs, []);
    const images = await conn.keys(`${env.config.PORTRAIT_QUEUE_PREFIX}:ev:${event.id}:img:*`);
    assert.equal(images.length, 3);
    // Nothing left in flight: leases and member markers are released.
    assert.equal(await conn.zcard(store.keys.running('discord')), 0);
    assert.deepEqual(await conn.keys(`${store.keys.busyPrefix('discord')}*`), []);
  });

  it('keeps one event job per member in flight even across events, and at most the community share', async () => {
    for (const name of ['E1', 'E2', 'E3']) {
      await events.create(organiser, {
        name,
        engine: 'diffusion',
        style: 'sleep:30',
        destination: { channelId: 'c1' },
      });
      await events.open(organiser, name);
    }
    const before = log.count((u) => u.kind === 'result');
    const photo = await selfie(9);
    // One busy member in three events, plus four others in E1.
    for (const name of ['E1', 'E2', 'E3']) {
      await events.join(name, { member: member('busy'), displayName: 'Busy', selfie: photo, dm: false });
    }
    for (const u of ['p', 'q', 'r', 's']) {
      await events.join('E1', { member: member(u), displayName: u, selfie: photo, dm: false });
    }
    await log.waitFor(before + 7, (u) => u.kind === 'result');
    await Promise.all(checks);
    assert.deepEqual(violations, []);
    assert.ok(checks.length >= 7);
  });

  it('a member who leaves mid-job loses the entry, and the late result is dropped with its images', async () => {
    await events.create(organiser, {
      name: 'Leave',
      engine: 'diffusion',
      style: 'sleep:150',
      destination: { channelId: 'c1' },
    });
    await events.open(organiser, 'Leave');
    const before = log.updates.length;
    const { entry } = await events.join('Leave', {
      member: member('quitter'),
      displayName: 'Q',
      selfie: await selfie(4),
      dm: false,
    });
    // Leave while its job runs.
    await started((job) => job.data.request.requester.userId === 'quitter');
    assert.equal(await events.leave(member('quitter'), 'Leave'), 1);
    // A sentinel entry behind it proves the pipeline moved on (and that the left entry's job was dealt with).
    await events.join('Leave', { member: member('after'), displayName: 'A', selfie: await selfie(5), dm: false });
    await log.waitFor(1, (u) => u.kind === 'result' && u.entry.member.userId === 'after');
    assert.equal(
      log.updates.slice(before).some((u) => u.entry.member.userId === 'quitter'),
      false,
      'no update for a member who left',
    );
    const keys = await conn.keys(`${env.config.PORTRAIT_QUEUE_PREFIX}:ev:${entry.eventId}:img:quitter*`);
    assert.deepEqual(keys, []);
  });

  it("waits for a member's own /portrait jobs (their in-flight cap) instead of failing, then makes the avatar", async () => {
    await events.create(organiser, { name: 'Busy member', destination: { channelId: 'c1' } });
    await events.open(organiser, 'Busy member');
    const photo = await selfie(6);
    const who = member('full');
    // Three ordinary jobs: the member's whole in-flight allowance (PORTRAIT_USER_IN_FLIGHT=3).
    const ordinary: string[] = [];
    for (let k = 0; k < 3; k++) {
      const blob = await portraits.putBlob(photo, who);
      const receipt = await portraits.submit({
        idempotencyKey: `busy-${k}`,
        request: { requester: who, selfieKeys: [blob], style: 'sleep:80', seed: 1 },
      });
      ordinary.push(receipt.jobId);
    }
    const { entry } = await events.join('Busy member', { member: who, displayName: 'Full', selfie: photo, dm: false });
    await log.waitFor(1, (u) => u.kind === 'result' && u.entry.eventId === entry.eventId);
    const states = await Promise.all(ordinary.map((id) => queue.getJobState(id)));
    assert.deepEqual(states, ['completed', 'completed', 'completed'], 'the ordinary jobs ran first, none refused');
  });
});
