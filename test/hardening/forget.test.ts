import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type DiscordBot, startDiscordBot } from '../../src/bots/discord/bot.js';
import type { Config } from '../../src/config.js';
import type { Requester } from '../../src/core/request.js';
import { silentLogger } from '../../src/log.js';
import type { RedisHandle } from '../../src/queue/connection.js';
import { queueKeys } from '../../src/queue/keys.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import {
  APP_ID,
  BOT_TOKEN,
  chatCommand,
  componentPress,
  FakeDiscord,
  GUILD_ID,
  OTHER_USER,
  USER,
} from '../bots/discord/fake-discord.js';
import { customIds, isCallbackOf, isOriginalEdit } from '../bots/discord/harness.js';
import { facePath, MODELS_DIR } from '../helpers/env.js';
import { dumpPrefix, mentioning } from '../helpers/redis-dump.js';
import { type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';

/**
 * Retention and `forget`, checked on the keys themselves: two members make portraits through the real Discord
 * adapter, queue, worker and pipeline; one of them runs /portrait-forget. Every key under the test's prefix is then
 * read back (strings, hashes, lists, sets, sorted sets, streams) and nothing may still name that member, their jobs
 * or their blobs: no selfie, portrait, recipe, job record, reservation or delivery. The other member keeps theirs.
 */

describe('forget removes every key of a member; selfies and results carry their TTL', () => {
  let fake: FakeDiscord;
  let config: Config;
  let env: QueueTestEnv | undefined;
  let redis: RedisHandle;
  let service: PortraitQueueService;
  let worker: PortraitWorker;
  let bot: DiscordBot;
  let selfie: Uint8Array;
  const TTL = 600;
  const alice: Requester = { platform: 'discord', userId: USER.id, scopeId: GUILD_ID };
  const bob: Requester = { platform: 'discord', userId: OTHER_USER.id, scopeId: GUILD_ID };

  before(async () => {
    fake = await new FakeDiscord().start();
    env = await queueTestEnv('forget', {
      PORTRAIT_MODELS_DIR: MODELS_DIR,
      PORTRAIT_ENGINE: 'crop',
      PORTRAIT_OUTPUT_SIZE: '128',
      PORTRAIT_BLOB_TTL_SECONDS: String(TTL),
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_CDN_HOSTS: '127.0.0.1',
    });
    ({ config, redis } = env);
    service = createPortraitService(config, redis, silentLogger);
    worker = await startWorker(config, redis, silentLogger, { concurrency: 1 });
    bot = await startDiscordBot(config, service, silentLogger, {
      consumeDeliveries: (h) => service.consumeDeliveries('discord', h, { retryDelayMs: 50 }),
    });
    selfie = new Uint8Array(readFileSync(facePath('obama2.jpg')));
  });

  after(async () => {
    await bot?.stop();
    await worker?.close();
    await service?.close();
    await env?.cleanup();
    await fake?.stop();
  });

  /** One /portrait by `user`, answered by an upload (or, for a selfie without a face, by its sentence). */
  async function portrait(user: typeof USER, bytes: Uint8Array, expect: 'upload' | 'face') {
    const url = fake.putCdnFile('me.jpg', bytes, 'image/jpeg');
    const raw = chatCommand('portrait', {
      user,
      attachments: { selfie: { url, filename: 'me.jpg', contentType: 'image/jpeg', size: bytes.byteLength } },
    });
    fake.dispatchInteraction(raw);
    await fake.waitFor(isOriginalEdit(raw['token'] as string, expect === 'upload' ? 'Done' : 'face'), expect);
  }

  it('two members, a portrait each and a failed one; then one forgets', async () => {
    const prefix = config.PORTRAIT_QUEUE_PREFIX;
    const conn = redis.connection();
    const keys = queueKeys(prefix);
    const sky = new Uint8Array(
      await sharp({ create: { width: 300, height: 300, channels: 3, background: { r: 90, g: 150, b: 220 } } })
        .jpeg()
        .toBuffer(),
    );
    await portrait(USER, selfie, 'upload');
    await portrait(USER, sky, 'face');
    await portrait(OTHER_USER, selfie, 'upload');

    // What Alice left behind: her jobs and every blob she owns (selfies, portraits, recipes).
    const aliceJobs = (await service.listJobs(alice)).map((j) => j.jobId);
    const aliceBlobs = await conn.smembers(keys.owner(alice));
    const bobBlobs = await conn.smembers(keys.owner(bob));
    assert.equal(aliceJobs.length, 2);
    assert.ok(aliceBlobs.length >= 4, `selfies, a portrait and a recipe: ${aliceBlobs.length}`);
    const aliceNeedles = [USER.id, ...aliceJobs, ...aliceBlobs];
    const beforeForget = await dumpPrefix(conn, prefix);
    assert.ok(mentioning(beforeForget, aliceNeedles).length > 5, 'the dump sees her keys');

    // Retention: every blob (selfies, portraits, recipes) and every per-member index carries the TTL.
    for (const k of beforeForget) {
      const perMember = k.key.startsWith(keys.blobPrefix) || /:(owner|jobs|inflight):/.test(k.key);
      if (perMember) assert.ok(k.ttl > 0 && k.ttl <= TTL, `${k.key} has TTL ${k.ttl}`);
    }

    // The portrait queue keeps no copy of a result (it travels in the delivery): no result keys or report in its
    // job records or events stream, which outlive the blob TTL.
    const queueCopies = beforeForget.filter(
      (k) => k.key.startsWith(`${prefix}:portraits:`) && /outputKeys|report/.test(k.text),
    );
    assert.deepEqual(
      queueCopies.map((k) => k.key),
      [],
    );

    // /portrait-forget, confirmed.
    const ask = chatCommand('portrait-forget');
    fake.dispatchInteraction(ask);
    await fake.waitFor(isCallbackOf(ask['id'] as string), 'the question');
    const question = [...fake.messages.values()].find((m) => m.interactionId === ask['id'])!;
    const confirm = customIds(question.components).find((id) => id.startsWith('pt1:forget:'))!;
    const press = componentPress(question, confirm);
    fake.dispatchInteraction(press);
    await fake.waitFor(
      (c) => c.method === 'PATCH' && c.path === `/webhooks/${APP_ID}/${press['token']}/messages/@original`,
      'the confirmation',
    );

    const afterForget = await dumpPrefix(conn, prefix);
    if (process.env['PRINT_KEYS']) {
      for (const k of afterForget) console.log(k.type.padEnd(7), String(k.ttl).padStart(6), k.text.slice(0, 300));
    }
    assert.deepEqual(mentioning(afterForget, aliceNeedles), [], 'nothing names Alice, her jobs or her blobs');
    for (const blob of aliceBlobs) assert.equal(await conn.exists(blob), 0, blob);
    // Bob keeps everything, his entries in the queues' event streams included (the purge is selective).
    for (const blob of bobBlobs) assert.equal(await conn.exists(blob), 1, blob);
    const bobJobs = (await service.listJobs(bob)).map((j) => j.jobId);
    assert.equal(bobJobs.length, 1);
    assert.ok(mentioning(afterForget, bobJobs).includes(`${prefix}:portraits:events`));
    // What is left of Alice is her rate-limit log: a hashed key of random members that expires within the window.
    const rateKey = keys.userRate(alice);
    assert.ok(
      (await conn.zrange(rateKey, 0, -1)).every((m) => !aliceNeedles.includes(m)),
      'rate-limit members are random',
    );
    assert.ok((await conn.pttl(rateKey)) <= config.PORTRAIT_USER_RATE_WINDOW_SECONDS * 1000);
  });
});
