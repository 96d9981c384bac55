import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type DiscordBot, startDiscordBot } from '../../../src/bots/discord/bot.js';
import type { Config } from '../../../src/config.js';
import { sniffFile } from '../../../src/core/file-kind.js';
import { createLogger, silentLogger } from '../../../src/log.js';
import type { RedisHandle } from '../../../src/queue/connection.js';
import { createPortraitService, type PortraitQueueService } from '../../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../../src/queue/worker.js';
import { facePath, MODELS_DIR } from '../../helpers/env.js';
import { type QueueTestEnv, queueTestEnv } from '../../queue/helpers.js';
import { APP_ID, BOT_TOKEN, chatCommand, componentPress, FakeDiscord, USER } from './fake-discord.js';
import { contentOf, customIds, isCallbackOf, isChannelPost, isOriginalEdit } from './harness.js';

/**
 * End to end: the real discord.js client on the loopback gateway and REST fake, the real queue on real Redis, the
 * real worker running the real pipeline (compositor engine, shared models) in its threads. A selfie goes in as a
 * CDN attachment and comes out as a multipart upload in the thread.
 */
describe('Discord end to end: real client, real queue on Redis, real worker and pipeline', () => {
  let fake: FakeDiscord;
  let config: Config;
  let env: QueueTestEnv | undefined;
  let redis: RedisHandle;
  let service: PortraitQueueService;
  let worker: PortraitWorker;
  let bot: DiscordBot;
  let selfie: Uint8Array;

  const startBotOnQueue = () =>
    startDiscordBot(
      config,
      service,
      process.env['DEBUG_DISCORD'] ? createLogger({ LOG_LEVEL: 'debug' }) : silentLogger,
      {
        consumeDeliveries: (h) => service.consumeDeliveries('discord', h, { retryDelayMs: 50 }),
      },
    );

  before(async () => {
    fake = await new FakeDiscord().start();
    env = await queueTestEnv('discord', {
      PORTRAIT_MODELS_DIR: MODELS_DIR,
      PORTRAIT_OUTPUT_SIZE: '256',
      PORTRAIT_WORKER_CONCURRENCY: '1',
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_CDN_HOSTS: '127.0.0.1',
    });
    ({ config, redis } = env);
    service = createPortraitService(config, redis, silentLogger);
    worker = await startWorker(config, redis, silentLogger, { concurrency: 1 });
    bot = await startBotOnQueue();
    selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));
  });

  after(async () => {
    await bot?.stop();
    await worker?.close();
    await service?.close();
    await env?.cleanup();
    await fake.stop();
  });

  const portrait = (bytes: Uint8Array, name = 'me.jpg', type = 'image/jpeg') =>
    chatCommand('portrait', {
      attachments: {
        selfie: { url: fake.putCdnFile(name, bytes, type), filename: name, contentType: type, size: bytes.byteLength },
      },
    });

  it('a selfie in, a portrait upload with buttons in the thread out', async () => {
    const raw = portrait(selfie);
    fake.dispatchInteraction(raw);
    await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Queued'), 'the queued edit');
    const [job] = await service.listJobs({ platform: 'discord', userId: USER.id, scopeId: '1100000000000000002' });
    assert.ok(job);
    const upload = await fake.waitFor(
      (c) => c.method === 'POST' && /^\/channels\/\d+\/messages$/.test(c.path) && c.files.length > 0,
      'the portrait upload',
    );
    const file = upload.files[0]!;
    const sniffed = await sniffFile(file.bytes);
    assert.deepEqual(sniffed, { kind: 'image', format: 'webp' }, 'a WebP portrait');
    const meta = await sharp(file.bytes).metadata();
    assert.equal(meta.width, 256);
    assert.equal(meta.height, 256);
    assert.deepEqual(upload.body?.['allowed_mentions'], { parse: [] });
    assert.match(contentOf(upload), /Engine: compositor/);
    assert.ok(customIds(upload.body?.['components']).some((id) => id.startsWith('pt1:reroll:')));
    await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Done'), 'the done edit');
  });

  it('an image without a face gets its sentence', async () => {
    const blank = new Uint8Array(
      await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 120, g: 160, b: 200 } } })
        .png()
        .toBuffer(),
    );
    const raw = portrait(blank, 'sky.png', 'image/png');
    fake.dispatchInteraction(raw);
    const edit = await fake.waitFor(isOriginalEdit(raw['token'] as string, 'face'), 'the no-face answer');
    assert.equal(
      contentOf(edit),
      "I couldn't find a face in your selfie: use a well-lit photo where your face fills at least a fifth of the frame.",
    );
  });

  it('a text file named .jpg is refused from its bytes, an oversized file from its declared size', async () => {
    const text = portrait(new TextEncoder().encode('just some words, not a photo'), 'me.jpg', 'image/jpeg');
    fake.dispatchInteraction(text);
    const edit = await fake.waitFor(isOriginalEdit(text['token'] as string), 'the refusal');
    assert.match(contentOf(edit), /^Your selfie is not an image/);

    const huge = chatCommand('portrait', {
      attachments: {
        selfie: {
          url: fake.putCdnFile('big.jpg', selfie, 'image/jpeg'),
          filename: 'big.jpg',
          contentType: 'image/jpeg',
          size: 300 * 1024 * 1024,
        },
      },
    });
    fake.dispatchInteraction(huge);
    const cb = await fake.waitFor(isCallbackOf(huge['id'] as string), 'the refusal');
    assert.match(contentOf(cb), /^Your selfie is too large/);
  });

  it('the same interaction delivered twice makes one job', async () => {
    const before = (await service.listJobs({ platform: 'discord', userId: USER.id, scopeId: '1100000000000000002' }))
      .length;
    const raw = portrait(selfie);
    fake.dispatchInteraction(raw);
    fake.dispatchInteraction(raw);
    await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Queued'), 'the queued edit');
    await fake.waitFor(
      () => fake.calls.filter(isCallbackOf(raw['id'] as string)).length === 2,
      'both acknowledgements',
    );
    const jobs = await service.listJobs({ platform: 'discord', userId: USER.id, scopeId: '1100000000000000002' });
    assert.equal(jobs.length, before + 1);
    await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Done'), 'the done edit');
  });

  it('a bot restarted while a job runs still posts the result, and its buttons work after the restart', async () => {
    const raw = portrait(selfie);
    fake.dispatchInteraction(raw);
    await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Queued'), 'the queued edit');
    await bot.stop();
    const uploadsBefore = fake.calls.filter((c) => c.files.length > 0).length;
    bot = await startBotOnQueue();
    const upload = await fake.waitFor(
      (c) => c.files.length > 0 && fake.calls.filter((x) => x.files.length > 0).length > uploadsBefore,
      'the upload after the restart',
    );
    assert.ok(upload.auth?.startsWith('Bot '));
    const threadId = upload.path.split('/')[2]!;
    const message = [...fake.messages.values()].find((m) => m.channel_id === threadId && m.attachments.length > 0)!;

    const reroll = customIds(message.components).find((id) => id.startsWith('pt1:reroll:'))!;
    const press = componentPress(message, reroll);
    fake.dispatchInteraction(press);
    await fake.waitFor(isOriginalEdit(press['token'] as string, 'Queued'), 'the reroll queued');
    const second = await fake.waitFor(
      (c) => isChannelPost(threadId)(c) && c.files.length > 0 && c !== upload,
      'the rerolled portrait in the same thread',
    );
    assert.equal(second.files.length, 1);
    assert.notEqual(contentOf(second), contentOf(upload), 'a new seed');
  });
});
