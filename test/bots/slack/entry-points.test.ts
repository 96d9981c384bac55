import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { App } from '@slack/bolt';
import { OWN_MESSAGES_ONLY_TEXT } from '../../../src/bots/slack/handlers.js';
import { createSlackApp, type SlackBot, startSlackBot } from '../../../src/bots/slack/index.js';
import { escapeMrkdwn } from '../../../src/bots/slack/mrkdwn.js';
import { type Config, parseConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/log.js';
import { facePath } from '../../helpers/env.js';
import { MemoryService } from './fake-service.js';
import { FakeSlack } from './fake-slack.js';

/**
 * The other ways in: signed Events API requests to the real HTTP receiver, the /portrait command and its modal,
 * the "Make portrait" message shortcut, and the App Home tab.
 */

const selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));
const SECRET = 'test-signing-secret';
let fake: FakeSlack;

function configFor(extra: Record<string, string> = {}): Config {
  return parseConfig({
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
    SLACK_FILE_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

async function feed(app: App, body: unknown): Promise<{ acked: boolean; response: unknown }> {
  const out = { acked: false, response: undefined as unknown };
  await app.processEvent({
    body: body as Record<string, unknown>,
    ack: async (response?: unknown) => {
      out.acked = true;
      out.response = response;
    },
  });
  return out;
}

function sign(body: string, secret = SECRET, ts = Math.floor(Date.now() / 1000)) {
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts) };
}

const imageFile = (url: string) => ({
  id: 'F1',
  name: 'me.jpg',
  mimetype: 'image/jpeg',
  filetype: 'jpg',
  size: selfie.byteLength,
  url_private_download: url,
});

describe('Slack entry points', () => {
  let service: MemoryService;

  before(async () => {
    fake = await new FakeSlack().start();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.calls.length = 0;
    service = new MemoryService();
  });

  describe('HTTP Events API (real HTTPReceiver, signed requests)', () => {
    let bot: SlackBot;
    let base: string;
    before(async () => {
      // The bot keeps the service it started with: route it to the current test's service.
      const current: MemoryService = new Proxy({} as MemoryService, {
        get: (_t, prop) => {
          const v = Reflect.get(service, prop);
          return typeof v === 'function' ? v.bind(service) : v;
        },
      });
      bot = await startSlackBot(configFor(), current, silentLogger, { port: 0 });
      base = `http://127.0.0.1:${bot.port}/slack/events`;
    });
    after(async () => {
      await bot.stop();
    });
    const post = (body: string, headers: Record<string, string>, type = 'application/json') =>
      fetch(base, { method: 'POST', headers: { 'content-type': type, ...headers }, body });

    it('answers the URL verification challenge', async () => {
      const body = JSON.stringify({ type: 'url_verification', challenge: 'c-123', token: 'x' });
      const res = await post(body, sign(body));
      assert.equal(res.status, 200);
      assert.match(await res.text(), /c-123/);
    });

    it('rejects a bad or stale signature and does nothing', async () => {
      const body = JSON.stringify({ type: 'url_verification', challenge: 'c-1', token: 'x' });
      assert.equal((await post(body, sign(body, 'wrong-secret'))).status, 401);
      const stale = sign(body, SECRET, Math.floor(Date.now() / 1000) - 3600);
      assert.equal((await post(body, stale)).status, 401);
      assert.equal(fake.calls.length, 0);
    });

    it('a signed mention is acknowledged with 200 and queued; a retry (X-Slack-Retry-Num) is not', async () => {
      const url = fake.addFile('http.jpg', selfie);
      const ts = '1720000000.000100';
      const body = JSON.stringify({
        token: 'x',
        team_id: 'T1',
        api_app_id: 'A1',
        type: 'event_callback',
        event_id: 'EvHTTP1',
        event_time: 1,
        event: {
          type: 'app_mention',
          user: 'U1',
          text: `<@${fake.botUserId}> profile right`,
          ts,
          event_ts: ts,
          channel: 'C1',
          files: [imageFile(url)],
        },
      });
      const res = await post(body, sign(body));
      assert.equal(res.status, 200);
      await fake.waitFor('chat.update', (a) => /Queued - position/.test(String(a['text'])));
      const retry = await post(body, {
        ...sign(body),
        'x-slack-retry-num': '1',
        'x-slack-retry-reason': 'http_timeout',
      });
      assert.equal(retry.status, 200);
      assert.equal(service.jobs.length, 1);
      assert.equal(service.jobs[0]?.request.pose, 'profile right');
      assert.equal(fake.callsOf('chat.postMessage').length, 1);
    });

    it('/portrait help answers privately with usage, presets, limits and privacy', async () => {
      const body = new URLSearchParams({
        token: 'x',
        command: '/portrait',
        text: 'help',
        team_id: 'T1',
        channel_id: 'C1',
        user_id: 'U1',
        trigger_id: 't1',
        response_url: `${fake.origin}/response/1`,
        api_app_id: 'A1',
      }).toString();
      const res = await post(body, sign(body), 'application/x-www-form-urlencoded');
      assert.equal(res.status, 200);
      const answer = (await res.json()) as { response_type: string; blocks: Array<{ text?: { text: string } }> };
      assert.equal(answer.response_type, 'ephemeral');
      const text = answer.blocks.map((b) => b.text?.text ?? '').join('\n');
      for (const part of ['How to ask', 'three-quarter left', 'golden hour', 'Limits', 'Privacy', '/portrait forget']) {
        assert.ok(text.includes(part), `help mentions ${part}`);
      }
    });
  });

  describe('/portrait modal, shortcut and Home (Bolt processEvent)', () => {
    const command = (text: string) => ({
      token: 'x',
      command: '/portrait',
      text,
      team_id: 'T1',
      channel_id: 'C1',
      user_id: 'U1',
      trigger_id: 'trigger-1',
      response_url: `${fake.origin}/response/2`,
      api_app_id: 'A1',
    });
    const submission = (view: { private_metadata: string; values: Record<string, unknown> }) => ({
      type: 'view_submission',
      team: { id: 'T1', domain: 't' },
      user: { id: 'U1', team_id: 'T1' },
      api_app_id: 'A1',
      token: 'x',
      trigger_id: 'trigger-2',
      view: {
        id: 'VMODAL1',
        team_id: 'T1',
        type: 'modal',
        callback_id: 'portrait_modal',
        private_metadata: view.private_metadata,
        state: { values: view.values },
        hash: 'h',
      },
    });

    it('/portrait opens a modal with a file input and pose/lighting selects, pre-filled from the text', async () => {
      const bot = createSlackApp(configFor(), service, silentLogger);
      const { acked } = await feed(bot.app, command('profile left, rembrandt'));
      assert.ok(acked);
      const open = fake.callsOf('views.open')[0];
      assert.equal(open?.args['trigger_id'], 'trigger-1');
      const view = JSON.parse(String(open?.args['view'])) as {
        private_metadata: string;
        blocks: Array<{
          block_id: string;
          element: { type: string; max_files?: number; initial_option?: { value: string } };
        }>;
      };
      const byId = Object.fromEntries(view.blocks.map((b) => [b.block_id, b.element]));
      assert.equal(byId['selfies']?.type, 'file_input');
      assert.equal(byId['selfies']?.max_files, 4);
      assert.equal(byId['pose']?.initial_option?.value, 'profile left');
      assert.equal(byId['lighting']?.initial_option?.value, 'rembrandt');

      // Submitting the modal queues the request with the view id as idempotency key.
      const url = fake.addFile('modal.jpg', selfie);
      const values = {
        selfies: { selfies: { type: 'file_input', files: [imageFile(url)] } },
        pose: { pose: { type: 'static_select', selected_option: { value: 'profile left' } } },
        lighting: { lighting: { type: 'static_select', selected_option: { value: 'neon' } } },
        // The style menu and the text field below it combine into one style.
        style: { style: { type: 'static_select', selected_option: { value: 'comic' } } },
        style_text: { style_text: { type: 'plain_text_input', value: 'studio grey' } },
        variations: { variations: { type: 'static_select', selected_option: { value: '2' } } },
      };
      const res = await feed(bot.app, submission({ private_metadata: view.private_metadata, values }));
      assert.ok(res.acked);
      assert.equal(res.response, undefined, 'the modal closes');
      assert.equal(service.jobs.length, 1);
      const job = service.jobs[0]!;
      assert.equal(job.key, 'slack-view-VMODAL1');
      assert.deepEqual(
        [job.request.pose, job.request.lighting, job.request.style, job.request.variations],
        ['profile left', 'neon', 'comic, studio grey', 2],
      );
      // From a modal the status message starts the thread in the command's channel.
      const status = fake.callsOf('chat.postMessage')[0];
      assert.equal(status?.args['channel'], 'C1');
      assert.equal(status?.args['thread_ts'], undefined);
      assert.equal(job.request.route?.['thread'], job.request.route?.['status']);

      // The same submission again (a double click, a retry) makes no second job.
      await feed(bot.app, submission({ private_metadata: view.private_metadata, values }));
      assert.equal(service.jobs.length, 1);
    });

    it('a form sent from a channel the bot is not in is answered in the direct messages', async () => {
      const bot = createSlackApp(configFor(), service, silentLogger);
      const url = fake.addFile('dm.jpg', selfie);
      const values = { selfies: { selfies: { type: 'file_input', files: [imageFile(url)] } } };
      fake.failNext('chat.postMessage', 'not_in_channel');
      await feed(bot.app, submission({ private_metadata: JSON.stringify({ c: 'C9' }), values }));
      assert.equal(service.jobs.length, 1);
      assert.equal(service.jobs[0]?.request.route?.['channel'], 'U1');
      assert.equal(fake.callsOf('chat.update').at(-1)?.args['channel'], 'U1');
    });

    it('a modal with a non-image file keeps the form open with the error under the file field', async () => {
      const bot = createSlackApp(configFor(), service, silentLogger);
      const values = {
        selfies: {
          selfies: {
            type: 'file_input',
            files: [{ id: 'F9', mimetype: 'application/pdf', filetype: 'pdf', pretty_type: 'PDF' }],
          },
        },
      };
      const res = await feed(bot.app, submission({ private_metadata: JSON.stringify({ c: 'C1' }), values }));
      const response = res.response as { response_action: string; errors: Record<string, string> };
      assert.equal(response.response_action, 'errors');
      assert.match(response.errors['selfies'] ?? '', /is not an image \(got PDF\)/);
      assert.equal(service.jobs.length, 0);
    });

    it('the "Make portrait" shortcut uses the photos of your own message, and only yours', async () => {
      const bot = createSlackApp(configFor(), service, silentLogger);
      const url = fake.addFile('shortcut.jpg', selfie);
      const shortcut = (user: string, author: string) => ({
        type: 'message_action',
        callback_id: 'make_portrait',
        trigger_id: 'trigger-s',
        message_ts: '1730000000.000100',
        response_url: `${fake.origin}/response/3`,
        team: { id: 'T1', domain: 't' },
        channel: { id: 'C1', name: 'general' },
        user: { id: user, name: 'someone' },
        token: 'x',
        action_ts: '1',
        message: { type: 'message', user: author, ts: '1730000000.000100', text: 'me', files: [imageFile(url)] },
      });
      await feed(bot.app, shortcut('U2', 'U1'));
      assert.equal(fake.callsOf('views.open').length, 0);
      assert.equal(fake.callsOf('chat.postEphemeral')[0]?.args['text'], escapeMrkdwn(OWN_MESSAGES_ONLY_TEXT));

      await feed(bot.app, shortcut('U1', 'U1'));
      const open = fake.callsOf('views.open')[0];
      const view = JSON.parse(String(open?.args['view'])) as {
        private_metadata: string;
        blocks: Array<{ block_id?: string }>;
      };
      assert.ok(!view.blocks.some((b) => b.block_id === 'selfies'), 'no file input: the message has the photos');
      const values = { lighting: { lighting: { type: 'static_select', selected_option: { value: 'candle' } } } };
      await feed(bot.app, submission({ private_metadata: view.private_metadata, values }));
      assert.equal(service.jobs.length, 1);
      assert.equal(service.jobs[0]?.request.lighting, 'candle');
      // The answer goes into the thread of the message with the photos, which gets the reaction.
      assert.equal(fake.callsOf('chat.postMessage')[0]?.args['thread_ts'], '1730000000.000100');
      assert.equal(fake.callsOf('reactions.add')[0]?.args['timestamp'], '1730000000.000100');
    });

    it('the App Home tab shows usage, presets, limits, privacy and your recent portraits', async () => {
      const bot = createSlackApp(configFor(), service, silentLogger);
      await service.submit({
        idempotencyKey: 'k1',
        request: {
          requester: { platform: 'slack', userId: 'U1', scopeId: 'T1' },
          selfieKeys: ['b'],
          seed: 1,
          pose: 'look up',
          lighting: 'rim',
        },
      });
      await feed(bot.app, {
        token: 'x',
        team_id: 'T1',
        api_app_id: 'A1',
        type: 'event_callback',
        event_id: 'EvHome',
        event_time: 1,
        event: { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home', event_ts: '1.2' },
      });
      const publish = fake.callsOf('views.publish')[0];
      assert.equal(publish?.args['user_id'], 'U1');
      const text = String(publish?.args['view']);
      for (const part of [
        'Your recent portraits',
        'look up',
        'rim',
        'Cancel',
        'Poses',
        'Lighting',
        'Limits',
        'Privacy',
      ]) {
        assert.ok(text.includes(part), `home shows ${part}`);
      }
    });
  });
});
