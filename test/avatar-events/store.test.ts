import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { openAvatarEvents } from '../../src/avatar-events/index.js';
import { type AvatarEventService, createEventService, type EventCaller } from '../../src/avatar-events/service.js';
import { createEventStore, type EventStore, entryRef, parseEntryRef } from '../../src/avatar-events/store.js';
import { describeError } from '../../src/core/messages.js';
import type { Requester } from '../../src/core/request.js';
import { isPortraitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { openRedis } from '../../src/queue/connection.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';

const DAY = 24 * 3600 * 1000;
const SELFIE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

const organiser: EventCaller = { platform: 'discord', scopeId: 'g1', userId: 'org', isAdmin: true, roleIds: [] };
const member = (userId: string, scopeId = 'g1'): Requester => ({ platform: 'discord', userId, scopeId });
const plain = (userId: string): EventCaller => ({ ...member(userId), isAdmin: false, roleIds: [] });

async function rejects(p: Promise<unknown>, code: string): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isPortraitError(err), `expected a PortraitError, got ${String(err)}`);
    assert.equal(err.code, code);
    return describeError(err);
  }
  assert.fail(`expected ${code}`);
}

describe('event store and service (real Redis, no worker)', () => {
  let env: QueueTestEnv;
  let conn: Redis;
  let portraits: PortraitQueueService;
  let store: EventStore;
  let events: AvatarEventService;
  // Real time: Redis expiry (PEXPIREAT) runs on the server's clock, so a fixed date in the past would expire keys at once.
  let clock = Date.now();

  /** Every key under the test's prefix. */
  const allKeys = async (): Promise<string[]> => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await conn.scan(cursor, 'MATCH', `${env.config.PORTRAIT_QUEUE_PREFIX}:*`, 'COUNT', 1000);
      cursor = next;
      out.push(...found);
    } while (cursor !== '0');
    return out.sort();
  };

  /** Stands in for a finished job: what the scheduler records when a result comes back. */
  const finish = async (eventName: string, userId: string) => {
    const event = await events.find('discord', 'g1', eventName);
    const [entry] = await store.memberEntries(event.id, { userId });
    assert.ok(entry);
    const ref = parseEntryRef(entryRef(entry));
    assert.ok(ref);
    const rec = await store.recordResult(ref, {
      image: new Uint8Array([1, 2, 3, userId.length]),
      format: 'webp',
      width: 64,
      height: 64,
      engine: 'compositor',
      jobId: `job-${userId}`,
      now: clock,
    });
    assert.equal(rec.outcome, 'recorded');
    // The scheduler takes the ref off the pending list when it claims it; do the same.
    await conn.zrem(store.keys.pending('discord'), entryRef(entry));
    return rec;
  };

  before(async () => {
    env = await queueTestEnv('events-store', { PORTRAIT_USER_IN_FLIGHT: '5' });
    conn = env.redis.connection();
    portraits = createPortraitService(env.config, env.redis, silentLogger);
  });
  beforeEach(async () => {
    const keys = await allKeys();
    if (keys.length > 0) await conn.del(...keys);
    store = createEventStore(conn, env.config.PORTRAIT_QUEUE_PREFIX);
    events = createEventService({
      store,
      portraits,
      defaultEngine: 'compositor',
      organiserRoles: { discord: ['role-org'] },
      log: silentLogger,
      now: () => clock,
    });
  });
  after(async () => {
    await portraits.close();
    await env.cleanup();
  });

  it('runs an event from draft to closed: organisers only, entries replace, closed refuses with a sentence', async () => {
    await rejects(events.create(plain('x'), { name: 'Winter', destination: { channelId: 'c' } }), 'event.not_allowed');
    const byRole: EventCaller = { ...plain('r'), roleIds: ['role-org'] };
    const created = await events.create(byRole, {
      name: 'Winter',
      pose: 'left',
      lighting: 'golden hour',
      destination: { channelId: 'c', threadId: 't' },
    });
    assert.equal(created.status, 'draft');
    assert.equal(created.theme.pose, 'three-quarter left');
    const taken = await rejects(
      events.create(organiser, { name: '  winter ', destination: { channelId: 'c' } }),
      'event.name_taken',
    );
    assert.match(taken, /already an event called 'winter'/);

    const early = await rejects(
      events.join('winter', { member: member('m1'), displayName: 'M1', selfie: SELFIE, dm: false }),
      'event.not_open',
    );
    assert.match(early, /isn't open yet/);
    await rejects(events.open(plain('x'), 'Winter'), 'event.not_allowed');
    const opened = await events.open(byRole, 'Winter');
    assert.equal(opened.status, 'open');

    const first = await events.join('Winter', { member: member('m1'), displayName: 'M1', selfie: SELFIE, dm: true });
    assert.equal(first.replaced, false);
    assert.equal(first.position, 1);
    await events.join('Winter', { member: member('m2'), displayName: 'M2', selfie: SELFIE, dm: false });
    // Joining without a name finds the community's one open event.
    const third = await events.join(undefined, { member: member('m3'), displayName: 'M3', selfie: SELFIE, dm: false });
    assert.equal(third.position, 3);
    clock += 1000;
    const redo = await events.join('Winter', { member: member('m1'), displayName: 'M1', selfie: SELFIE, dm: false });
    assert.equal(redo.replaced, true);
    assert.equal(redo.entry.slot, 1);
    assert.equal(redo.entry.rev, 2);
    // The redo goes to the back of the line, and the first selfie is gone.
    assert.equal(redo.position, 3);
    assert.equal(await conn.exists(first.entry.selfieKey ?? ''), 0);
    assert.equal(await conn.zcard(store.keys.pending('discord')), 3);

    const report = await events.organiserStatus(organiser, 'Winter');
    assert.deepEqual(
      { entrants: report.progress.entrants, entries: report.progress.entries, pending: report.progress.pending },
      { entrants: 3, entries: 3, pending: 3 },
    );
    await rejects(events.organiserStatus(plain('m1'), 'Winter'), 'event.not_allowed');

    await events.close(organiser, 'Winter');
    const closed = await rejects(
      events.join('Winter', { member: member('m4'), displayName: 'M4', selfie: SELFIE, dm: false }),
      'event.closed',
    );
    assert.match(closed, /'Winter' is closed and takes no new entries/);
    const unknown = await rejects(
      events.join('Summer', { member: member('m4'), displayName: 'M4', selfie: SELFIE, dm: false }),
      'event.not_found',
    );
    assert.match(unknown, /no avatar event called 'Summer'/);
    // Members who joined before the close still get their avatar: their entries stay queued.
    assert.equal(await conn.zcard(store.keys.pending('discord')), 3);
  });

  it('gives a member several slots when the event allows, then replaces the oldest', async () => {
    await events.create(organiser, { name: 'Multi', entriesPerMember: 2, destination: { channelId: 'c' } });
    await events.open(organiser, 'Multi');
    const join = async () => {
      clock += 1000;
      return events.join('Multi', { member: member('m1'), displayName: 'M1', selfie: SELFIE, dm: false });
    };
    const a = await join();
    const b = await join();
    const c = await join();
    assert.deepEqual([a.entry.slot, b.entry.slot, c.entry.slot], [1, 2, 1]);
    assert.equal(c.entry.rev, 2);
    assert.equal(c.replaced, true);
    const event = await events.find('discord', 'g1', 'Multi');
    assert.equal((await store.memberEntries(event.id, { userId: 'm1' })).length, 2);
  });

  it('locks the theme once someone joined, and keeps a finished avatar until the redo is done', async () => {
    await events.create(organiser, { name: 'Lock', destination: { channelId: 'c' } });
    await events.edit(organiser, 'Lock', { lighting: 'neon' });
    await events.open(organiser, 'Lock');
    await events.join('Lock', { member: member('m1'), displayName: 'M1', selfie: SELFIE, dm: false });
    const locked = await rejects(events.edit(organiser, 'Lock', { pose: 'look up' }), 'event.not_allowed');
    assert.match(locked, /theme can't change/);
    const renamed = await events.edit(organiser, 'Lock', { name: 'Locked in' });
    assert.equal(renamed.theme.lighting, 'neon');
    assert.equal((await events.find('discord', 'g1', 'locked in')).id, renamed.id);
    await rejects(events.find('discord', 'g1', 'Lock'), 'event.not_found');

    const done = await finish('Locked in', 'm1');
    assert.equal(done.outcome === 'recorded' && done.entry.state, 'done');
    const redo = await events.join('Locked in', { member: member('m1'), displayName: 'M1', selfie: SELFIE, dm: false });
    assert.equal(redo.entry.state, 'pending');
    assert.equal(redo.entry.resultKey, done.outcome === 'recorded' ? done.entry.resultKey : '');
    const gallery = await events.gallery(organiser, 'Locked in');
    assert.equal(gallery.entries.length, 1);
    assert.deepEqual(await gallery.readImage(gallery.entries[0] ?? redo.entry), new Uint8Array([1, 2, 3, 2]));
  });

  it('deletes an event with every stored image, selfie, entry and queue reference', async () => {
    await events.create(organiser, { name: 'Gone', destination: { channelId: 'c' } });
    await events.create(organiser, { name: 'Stays', destination: { channelId: 'c' } });
    await events.open(organiser, 'Gone');
    await events.open(organiser, 'Stays');
    for (const u of ['a', 'b', 'c']) {
      await events.join('Gone', { member: member(u), displayName: u, selfie: SELFIE, dm: false });
    }
    await events.join('Stays', { member: member('a'), displayName: 'a', selfie: SELFIE, dm: false });
    await finish('Gone', 'a');
    await finish('Gone', 'b');
    const gone = await events.find('discord', 'g1', 'Gone');
    const before = await allKeys();
    const images = before.filter((k) => k.includes(`:ev:${gone.id}:img:`));
    assert.equal(images.length, 2);
    // c's selfie is still waiting in a blob.
    const selfies = (await store.entries(gone.id)).flatMap((e) => (e.selfieKey ? [e.selfieKey] : []));
    assert.equal(selfies.length, 1);

    await rejects(events.delete(plain('a'), 'Gone'), 'event.not_allowed');
    const { removedKeys } = await events.delete(organiser, 'Gone');
    assert.equal(removedKeys, 3);
    const afterKeys = await allKeys();
    assert.deepEqual(
      afterKeys.filter((k) => k.includes(gone.id)),
      [],
    );
    for (const k of [...images, ...selfies]) assert.ok(!afterKeys.includes(k), `${k} survived the delete`);
    const pending = await conn.zrange(store.keys.pending('discord'), 0, -1);
    assert.ok(pending.every((ref) => !ref.includes(gone.id)));
    assert.equal(pending.length, 1);
    await rejects(events.find('discord', 'g1', 'Gone'), 'event.not_found');
    // The other event is untouched.
    assert.equal((await store.entries((await events.find('discord', 'g1', 'Stays')).id)).length, 1);
  });

  it("forget removes a member from every event they entered, and nobody else's entries", async () => {
    await events.create(organiser, { name: 'One', destination: { channelId: 'c' } });
    await events.create(organiser, { name: 'Two', destination: { channelId: 'c' } });
    await events.open(organiser, 'One');
    await events.open(organiser, 'Two');
    for (const name of ['One', 'Two']) {
      await events.join(name, { member: member('leaver'), displayName: 'L', selfie: SELFIE, dm: false });
      await events.join(name, { member: member('stayer'), displayName: 'S', selfie: SELFIE, dm: false });
    }
    await finish('One', 'leaver');
    const one = await events.find('discord', 'g1', 'One');
    const two = await events.find('discord', 'g1', 'Two');
    const leaverKeys = (await allKeys()).filter((k) => k.includes(':img:leaver:'));
    assert.equal(leaverKeys.length, 1);

    const removed = await events.forget(member('leaver'));
    assert.equal(removed, 2, 'one avatar and one waiting selfie');
    assert.deepEqual(await store.memberEntries(one.id, { userId: 'leaver' }), []);
    assert.deepEqual(await store.memberEntries(two.id, { userId: 'leaver' }), []);
    const keys = await allKeys();
    assert.ok(keys.every((k) => !k.includes(':img:leaver:')));
    assert.ok(keys.every((k) => !k.endsWith(':ev:member:discord:leaver')));
    const pending = await conn.zrange(store.keys.pending('discord'), 0, -1);
    assert.ok(pending.every((ref) => !ref.includes('|leaver|')));
    assert.equal((await store.memberEntries(one.id, { userId: 'stayer' })).length, 1);
    assert.equal((await store.memberEntries(two.id, { userId: 'stayer' })).length, 1);

    // Leaving one event is the same, for that event only.
    assert.equal(await events.leave(member('stayer'), 'One'), 1);
    assert.equal((await store.memberEntries(two.id, { userId: 'stayer' })).length, 1);
  });

  it("the adapters' forget (the service openAvatarEvents hands them) also removes the member from events", async () => {
    await events.create(organiser, { name: 'Forgettable', destination: { channelId: 'c' } });
    await events.open(organiser, 'Forgettable');
    await events.join('Forgettable', { member: member('gone'), displayName: 'G', selfie: SELFIE, dm: false });
    await finish('Forgettable', 'gone');
    const wired = openAvatarEvents(env.config, env.redis, portraits, silentLogger);
    const removed = await wired.portraits.forget(member('gone'));
    assert.ok(removed >= 1);
    const event = await events.find('discord', 'g1', 'Forgettable');
    assert.deepEqual(await store.memberEntries(event.id, { userId: 'gone' }), []);
    assert.deepEqual(
      (await allKeys()).filter((k) => k.includes(':img:gone:')),
      [],
    );
    await wired.close();
  });

  it('keeps events and entries across a restart (a new connection and store)', async () => {
    await events.create(organiser, { name: 'Durable', destination: { channelId: 'c' } });
    await events.open(organiser, 'Durable');
    await events.join('Durable', { member: member('m1'), displayName: 'M1', selfie: SELFIE, dm: true });
    const handle = await openRedis(env.config, silentLogger);
    try {
      const fresh = createEventStore(handle.connection(), env.config.PORTRAIT_QUEUE_PREFIX);
      const event = await fresh.findByName('discord', 'g1', 'durable');
      assert.equal(event?.status, 'open');
      const [entry] = await fresh.entries(event?.id ?? '');
      assert.equal(entry?.displayName, 'M1');
      assert.equal(entry?.dm, true);
      assert.equal(await fresh.pendingPosition(entry ?? assert.fail()), 1);
    } finally {
      await handle.close();
    }
  });

  it('removes an event and its images when its retention runs out, not before', async () => {
    await events.create(organiser, { name: 'Short', retentionDays: 1, destination: { channelId: 'c' } });
    await events.open(organiser, 'Short');
    await events.join('Short', { member: member('m1'), displayName: 'M1', selfie: SELFIE, dm: false });
    await finish('Short', 'm1');
    const closed = await events.close(organiser, 'Short');
    const image = (await allKeys()).find((k) => k.includes(`:ev:${closed.id}:img:`));
    assert.ok(image);
    // Redis expires the image a day after the sweep would have removed it, should no sweep ever run.
    const pexpire = await conn.pexpiretime(image);
    assert.equal(pexpire, clock + 2 * DAY);

    assert.deepEqual(await store.sweep(clock + DAY - 1), []);
    assert.deepEqual(await store.sweep(clock + DAY), [closed.id]);
    const keys = await allKeys();
    assert.deepEqual(
      keys.filter((k) => k.includes(closed.id)),
      [],
    );
    await rejects(events.find('discord', 'g1', 'Short'), 'event.not_found');
  });
});
