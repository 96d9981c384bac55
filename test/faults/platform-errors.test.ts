import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { startDiscordBot } from '../../src/bots/discord/bot.js';
import { createSlackApp } from '../../src/bots/slack/index.js';
import { silentLogger } from '../../src/log.js';
import { deliveryQueueName } from '../../src/queue/deliveries.js';
import { createPortraitService } from '../../src/queue/submit.js';
import { startWorker } from '../../src/queue/worker.js';
import { APP_ID, BOT_TOKEN, chatCommand, FakeDiscord, type RecordedCall } from '../bots/discord/fake-discord.js';
import { PNG_BYTES } from '../bots/discord/harness.js';
import { FakeSlack } from '../bots/slack/fake-slack.js';
import { facePath } from '../helpers/env.js';
import { type QueueTestEnv, queueTestEnv, SCRIPTED_PIPELINE } from '../queue/helpers.js';
import { bounded } from './processes.js';

/**
 * The chat platform refusing the answer: Discord or Slack rate-limits it (429 with Retry-After) and then fails with a
 * burst of 5xx. The real SDK clients (discord.js REST, Slack's WebClient) on the loopback fakes, the real queue,
 * worker and delivery queue on Redis. The portrait must be posted exactly once, after the wait the platform asked for.
 */
const RETRY_AFTER_S = 1;
// Timers may fire a millisecond early; a retry before the Retry-After would be hundreds of milliseconds early.
const EARLY_TIMER_MS = 5;

it('Discord: an upload answered 429 (Retry-After) and then five 5xx is posted once, after the wait', {
  timeout: 60_000,
}, async () => {
  const fake = await new FakeDiscord().start();
  const env = await queueTestEnv('platform-discord', {
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_CDN_HOSTS: '127.0.0.1',
  });
  const service = createPortraitService(env.config, env.redis, silentLogger);
  const worker = await startWorker(env.config, env.redis, silentLogger, { pipelineModule: SCRIPTED_PIPELINE });
  const bot = await startDiscordBot(env.config, service, silentLogger, {
    consumeDeliveries: (h) => service.consumeDeliveries('discord', h, { retryDelayMs: 50 }),
  });
  const settled = deliveriesSettled(env, 'discord');
  await settled.ready;
  const isUpload = (c: RecordedCall) =>
    c.method === 'POST' && /^\/channels\/\d+\/messages$/.test(c.path) && c.files.length > 0;
  try {
    // discord.js retries a 5xx three times at once, so the fifth reaches the adapter: the delivery queue retries it.
    fake.failNext(
      isUpload,
      { status: 429, retryAfter: RETRY_AFTER_S },
      { status: 500 },
      { status: 502 },
      { status: 503 },
      { status: 500 },
      { status: 502 },
    );
    fake.dispatchInteraction(
      chatCommand('portrait', {
        attachments: {
          selfie: {
            url: fake.putCdnFile('me.png', PNG_BYTES, 'image/png'),
            filename: 'me.png',
            contentType: 'image/png',
            size: PNG_BYTES.byteLength,
          },
        },
      }),
    );
    await fake.waitFor((c) => isUpload(c) && c.status === 200, 'the upload that got through');
    const uploads = fake.calls.filter(isUpload);
    assert.deepEqual(
      uploads.map((c) => c.status),
      [429, 500, 502, 503, 500, 502, 200],
    );
    const [limited, next] = uploads;
    assert.ok((next?.at ?? 0) - (limited?.at ?? 0) >= RETRY_AFTER_S * 1000 - EARLY_TIMER_MS, 'Retry-After honoured');
    const posted = [...fake.messages.values()].filter((m) => m.attachments.length > 0);
    assert.equal(posted.length, 1, 'the portrait is in the thread once');
    await settled.check();
  } finally {
    await settled.close();
    await bot.stop();
    await worker.close();
    await service.close();
    await env.cleanup();
    await fake.stop();
  }
});

it('Slack: the upload answered 429 (Retry-After) and 5xx is shared once, after the wait', {
  timeout: 60_000,
}, async () => {
  const fake = await new FakeSlack().start();
  const env = await queueTestEnv('platform-slack', {
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_SIGNING_SECRET: 'platform-errors-secret',
    SLACK_API_URL: fake.apiUrl,
    SLACK_FILE_HOSTS: '127.0.0.1',
  });
  const service = createPortraitService(env.config, env.redis, silentLogger);
  const worker = await startWorker(env.config, env.redis, silentLogger, { pipelineModule: SCRIPTED_PIPELINE });
  const slack = createSlackApp(env.config, service, silentLogger);
  const consumer = await service.consumeDeliveries('slack', slack.deliveries.handle, { retryDelayMs: 50 });
  const settled = deliveriesSettled(env, 'slack');
  await settled.ready;
  try {
    // Slack's WebClient retries both itself (its default policy: about 1 s, then 2 s, then 4 s ... with jitter).
    fake.failHttpNext('files.getUploadURLExternal', { status: 503 }, { status: 502 });
    fake.failHttpNext('files.completeUploadExternal', { status: 429, retryAfter: RETRY_AFTER_S });
    const selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));
    const url = fake.addFile('me.jpg', selfie);
    const ts = '1740000001.000100';
    await slack.app.processEvent({
      body: {
        team_id: 'T1',
        api_app_id: 'A1',
        type: 'event_callback',
        event_id: 'EvPlatform1',
        event_time: 1,
        event: {
          type: 'app_mention',
          user: 'U1',
          text: `<@${fake.botUserId}> pose: front`,
          ts,
          event_ts: ts,
          channel: 'C1',
          files: [
            {
              id: 'F1',
              name: 'me.jpg',
              mimetype: 'image/jpeg',
              filetype: 'jpg',
              size: selfie.byteLength,
              url_private_download: url,
            },
          ],
        },
      },
      ack: async () => {},
    });
    const shared = await bounded(
      fake
        .waitFor('files.completeUploadExternal', () => true, 30_000)
        .then(() => fake.waitFor('chat.update', (a) => String(a['text']).startsWith(':white_check_mark:'), 30_000)),
      'the portrait shared and the status done',
    );
    assert.ok(shared);
    const statuses = (method: string) => fake.callsOf(method).map((c) => c.status);
    assert.deepEqual(statuses('files.getUploadURLExternal'), [503, 502, 200]);
    assert.deepEqual(statuses('files.completeUploadExternal'), [429, 200]);
    const [limited, next] = fake.callsOf('files.completeUploadExternal');
    assert.ok((next?.at ?? 0) - (limited?.at ?? 0) >= RETRY_AFTER_S * 1000 - EARLY_TIMER_MS, 'Retry-After honoured');
    assert.equal(fake.callsOf('upload').length, 1, 'the bytes went up once');
    assert.equal(
      fake.callsOf('chat.postMessage').filter((c) => Array.isArray(JSON.parse(String(c.args['blocks'] ?? 'null'))))
        .length,
      1,
      'one controls message',
    );
    await settled.check();
  } finally {
    await settled.close();
    await consumer.close();
    await slack.deliveries.close();
    await worker.close();
    await service.close();
    await env.cleanup();
    await fake.close();
  }
});

/**
 * Resolves once the answer's delivery is acknowledged, then checks nothing is left over in the delivery queue: the
 * answer handled once, none failed or waiting for a retry.
 */
function deliveriesSettled(env: QueueTestEnv, platform: 'discord' | 'slack') {
  const name = deliveryQueueName(platform);
  const options = { connection: env.redis.connection('worker'), prefix: env.config.PORTRAIT_QUEUE_PREFIX };
  const events = new QueueEvents(name, options);
  const answered = new Promise<void>((resolve) =>
    events.on('completed', ({ jobId }) => {
      if (jobId.endsWith('-result')) resolve();
    }),
  );
  return {
    ready: events.waitUntilReady(),
    async check() {
      await bounded(answered, 'the answer acknowledged');
      await events.close();
      const queue = new Queue(name, { connection: env.redis.connection(), prefix: env.config.PORTRAIT_QUEUE_PREFIX });
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'completed');
      await queue.close();
      assert.deepEqual(counts, { wait: 0, active: 0, delayed: 0, failed: 0, completed: 1 });
    },
    close: () => events.close(),
  };
}
