import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type SlackBot, startSlackBot } from '../../../src/bots/slack/index.js';
import type { Config } from '../../../src/config.js';
import { sniffFile } from '../../../src/core/file-kind.js';
import { describeError } from '../../../src/core/messages.js';
import { createLogger, silentLogger } from '../../../src/log.js';
import type { RedisHandle } from '../../../src/queue/connection.js';
import { createPortraitService, type PortraitQueueService } from '../../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../../src/queue/worker.js';
import { facePath, MODELS_DIR } from '../../helpers/env.js';
import { type QueueTestEnv, queueTestEnv } from '../../queue/helpers.js';
import { FakeSlack } from './fake-slack.js';

/**
 * End to end: the real Bolt HTTP receiver taking signed Events API requests, the real queue on real Redis, the real
 * worker running the real pipeline (compositor engine, shared models), deliveries consumed by the adapter, and the
 * portrait uploaded through Slack's external upload flow on the loopback fake.
 */
const SECRET = 'e2e-signing-secret';

describe('Slack end to end: Bolt HTTP receiver, real queue on Redis, real worker and pipeline', () => {
  let fake: FakeSlack;
  let config: Config;
  let env: QueueTestEnv | undefined;
  let redis: RedisHandle;
  let service: PortraitQueueService;
  let worker: PortraitWorker;
  let bot: SlackBot;
  let selfie: Uint8Array;
  let seq = 0;

  const log = process.env['DEBUG_SLACK'] ? createLogger({ LOG_LEVEL: 'debug' }) : silentLogger;
  const startBot = () =>
    startSlackBot(config, service, log, {
      port: 0,
      consumeDeliveries: (h) => service.consumeDeliveries('slack', h, { retryDelayMs: 50 }),
    });

  before(async () => {
    fake = await new FakeSlack().start();
    env = await queueTestEnv('slack', {
      PORTRAIT_MODELS_DIR: MODELS_DIR,
      PORTRAIT_OUTPUT_SIZE: '256',
      PORTRAIT_WORKER_CONCURRENCY: '1',
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_FILE_HOSTS: '127.0.0.1',
    });
    ({ config, redis } = env);
    service = createPortraitService(config, redis, silentLogger);
    worker = await startWorker(config, redis, silentLogger, { concurrency: 1 });
    bot = await startBot();
    selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));
  });

  after(async () => {
    await bot?.stop();
    await worker?.close();
    await service?.close();
    await env?.cleanup();
    await fake?.close();
  });

  function signed(body: string, type: string): RequestInit {
    const ts = Math.floor(Date.now() / 1000);
    const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    return {
      method: 'POST',
      headers: { 'content-type': type, 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts) },
      body,
    };
  }
  const postEvent = async (payload: unknown, headers: Record<string, string> = {}) => {
    const body = JSON.stringify(payload);
    const init = signed(body, 'application/json');
    const res = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...headers },
    });
    assert.equal(res.status, 200);
  };
  const postInteraction = async (payload: unknown) => {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await fetch(
      `http://127.0.0.1:${bot.port}/slack/events`,
      signed(body, 'application/x-www-form-urlencoded'),
    );
    assert.equal(res.status, 200);
  };

  function mention(
    bytes: Uint8Array,
    text = 'pose: three-quarter left, light: golden hour',
    name = `e2e-${++seq}.jpg`,
  ) {
    const url = fake.addFile(name, bytes);
    const ts = `17400000${String(++seq).padStart(2, '0')}.000300`;
    return {
      token: 'x',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: `EvE2E${seq}`,
      event_time: 1,
      event: {
        type: 'app_mention',
        user: 'U1',
        text: `<@${fake.botUserId}> ${text}`,
        ts,
        event_ts: ts,
        channel: 'C1',
        files: [
          {
            id: `F${seq}`,
            name,
            mimetype: 'image/jpeg',
            filetype: 'jpg',
            size: bytes.byteLength,
            url_private_download: url,
          },
        ],
      },
    };
  }

  const completed = (thread: string, nth = 1) =>
    fake.waitFor(
      'files.completeUploadExternal',
      (a) =>
        a['thread_ts'] === thread &&
        fake.callsOf('files.completeUploadExternal').filter((c) => c.args['thread_ts'] === thread).length >= nth,
      60_000,
    );

  it('a selfie mention in, a portrait uploaded into the thread with alt text and controls out', async () => {
    const event = mention(selfie);
    await postEvent(event);
    await fake.waitFor('chat.update', (a) => /Queued - position|Painting|Finding/.test(String(a['text'])), 30_000);
    const done = await completed(event.event.ts);
    const files = JSON.parse(String(done.args['files'])) as Array<{ id: string }>;
    const bytes = fake.uploads.get(files[0]!.id)!;
    const sniffed = await sniffFile(bytes);
    assert.deepEqual(sniffed, { kind: 'image', format: 'webp' }, 'a WebP portrait');
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.width, meta.height], [256, 256]);
    const alt = fake.callsOf('files.getUploadURLExternal').at(-1)?.args['alt_text'];
    assert.match(String(alt), /pose three-quarter left, golden hour lighting/);
    const controls = await fake.waitFor('chat.postMessage', (a) => a['thread_ts'] === event.event.ts && 'blocks' in a);
    assert.match(String(controls.args['text']), /Engine: compositor/);
    await fake.waitFor('chat.update', (a) => /Done in/.test(String(a['text'])));
  });

  it('an image without a face gets its sentence in the status message', async () => {
    const blank = new Uint8Array(
      await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 120, g: 160, b: 200 } } })
        .jpeg()
        .toBuffer(),
    );
    const event = mention(blank, 'front');
    await postEvent(event);
    const sentence = describeError({ code: 'face.none', details: {} });
    const answer = await fake.waitFor('chat.update', (a) => String(a['text']).includes('find a face'), 60_000);
    assert.equal(answer.args['text'], `:warning: ${sentence}`);
  });

  it("Slack's retries of one event make one job", async () => {
    const event = mention(selfie, 'front, studio');
    await Promise.all([
      postEvent(event),
      postEvent(event, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }),
    ]);
    await completed(event.event.ts);
    const inThread = (m: string) => fake.callsOf(m).filter((c) => c.args['thread_ts'] === event.event.ts);
    assert.equal(inThread('files.completeUploadExternal').length, 1, 'one portrait');
    assert.equal(inThread('chat.postMessage').filter((c) => !('blocks' in c.args)).length, 1, 'one status message');
  });

  it('a bot restarted mid-job still delivers, and Reroll works on the new process', async () => {
    const event = mention(selfie, 'look up, rim');
    await postEvent(event);
    await fake.waitFor(
      'chat.update',
      (a) => /Queued - position|Finding|Painting|Reading/.test(String(a['text'])),
      30_000,
    );
    await bot.stop();
    bot = await startBot();
    await completed(event.event.ts);
    const controls = await fake.waitFor('chat.postMessage', (a) => a['thread_ts'] === event.event.ts && 'blocks' in a);
    const blocks = JSON.parse(String(controls.args['blocks'])) as Array<{
      type: string;
      elements?: Array<{ action_id: string; value?: string }>;
    }>;
    const reroll = blocks.find((b) => b.type === 'actions')?.elements?.find((e) => e.action_id === 'portrait_reroll');
    assert.ok(reroll?.value);
    await postInteraction({
      type: 'block_actions',
      team: { id: 'T1', domain: 't' },
      user: { id: 'U1', team_id: 'T1' },
      api_app_id: 'A1',
      token: 'x',
      trigger_id: `trig-e2e-${seq}`,
      channel: { id: 'C1', name: 'general' },
      container: { type: 'message', message_ts: '1740009999.000100', channel_id: 'C1', is_ephemeral: false },
      message: { type: 'message', ts: '1740009999.000100', thread_ts: event.event.ts, blocks },
      response_url: `${fake.origin}/response/e2e`,
      actions: [
        {
          type: 'button',
          action_id: 'portrait_reroll',
          block_id: 'portrait_actions',
          value: reroll.value,
          action_ts: '1',
        },
      ],
    });
    await completed(event.event.ts, 2);
  });
});
