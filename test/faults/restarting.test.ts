import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSlackApp } from '../../src/bots/slack/index.js';
import { escapeMrkdwn } from '../../src/bots/slack/mrkdwn.js';
import { parseConfig } from '../../src/config.js';
import { describeError } from '../../src/core/messages.js';
import { silentLogger } from '../../src/log.js';
import { autocomplete, chatCommand, FakeDiscord } from '../bots/discord/fake-discord.js';
import { FakePortraitService } from '../bots/discord/fake-service.js';
import { contentOf, isCallbackOf, PNG_BYTES, startBot } from '../bots/discord/harness.js';
import { MemoryService } from '../bots/slack/fake-service.js';
import { FakeSlack } from '../bots/slack/fake-slack.js';

/**
 * A draining adapter (the process got SIGTERM; test/faults/shutdown.test.ts drives that end to end) answers every
 * kind of request "restarting, try again in a minute" the way that request is answered, and starts nothing.
 */
const RESTARTING = describeError({ code: 'service.restarting', details: {} });

describe('Discord adapter while draining', () => {
  let fake: FakeDiscord;
  before(async () => {
    fake = await new FakeDiscord().start();
  });
  after(async () => {
    await fake.stop();
  });

  it('answers /portrait and /portrait-status privately with the restarting sentence, and offers no suggestions', async () => {
    const service = new FakePortraitService();
    const { bot } = await startBot(fake, service);
    try {
      bot.drain();
      const url = fake.putCdnFile('me.png', PNG_BYTES, 'image/png');
      const portrait = chatCommand('portrait', {
        attachments: { selfie: { url, filename: 'me.png', contentType: 'image/png', size: PNG_BYTES.byteLength } },
      });
      const status = chatCommand('portrait-status');
      const suggest = autocomplete('pose', 'thr');
      for (const raw of [portrait, status, suggest]) fake.dispatchInteraction(raw);

      for (const raw of [portrait, status]) {
        const reply = await fake.waitFor(isCallbackOf(raw['id'] as string), 'the reply');
        assert.equal(reply.body?.['type'], 4, 'answered at once, not deferred');
        assert.equal(contentOf(reply), RESTARTING);
        assert.equal(((reply.body?.['data'] as { flags?: number } | undefined)?.flags ?? 0) & 64, 64, 'ephemeral');
      }
      const choices = await fake.waitFor(isCallbackOf(suggest['id'] as string, 8), 'the autocomplete answer');
      assert.deepEqual((choices.body?.['data'] as { choices?: unknown[] } | undefined)?.choices, []);
      assert.equal(service.submitted.length, 0, 'nothing was queued');
      assert.equal(fake.callsTo('GET', /^\/cdn\//).length, 0);
    } finally {
      await bot.stop();
    }
  });
});

describe('Slack adapter while draining', () => {
  let fake: FakeSlack;
  before(async () => {
    fake = await new FakeSlack().start();
  });
  after(async () => {
    await fake.close();
  });

  const SENTENCE = `:warning: ${escapeMrkdwn(RESTARTING)}`;
  const app = () => {
    const service = new MemoryService();
    const slack = createSlackApp(
      parseConfig({
        SLACK_BOT_TOKEN: fake.botToken,
        SLACK_SIGNING_SECRET: 'restarting-secret',
        SLACK_API_URL: fake.apiUrl,
        SLACK_FILE_HOSTS: '127.0.0.1',
        LOG_LEVEL: 'silent',
      }),
      service,
      silentLogger,
    );
    slack.drain();
    return { slack, service };
  };
  const feed = async (slack: ReturnType<typeof app>['slack'], body: Record<string, unknown>) => {
    const out = { acked: false, response: undefined as unknown };
    await slack.app.processEvent({
      body,
      ack: async (response?: unknown) => {
        out.acked = true;
        out.response = response;
      },
    });
    return out;
  };

  it('answers a slash command in its acknowledgement and keeps a submitted form open with the sentence', async () => {
    const { slack } = app();
    const command = await feed(slack, {
      command: '/portrait',
      text: 'profile left',
      team_id: 'T1',
      channel_id: 'C1',
      user_id: 'U1',
      trigger_id: 't1',
      response_url: `${fake.origin}/response/9`,
      api_app_id: 'A1',
    });
    assert.deepEqual(command.response, { response_type: 'ephemeral', text: SENTENCE });
    assert.equal(fake.callsOf('views.open').length, 0, 'no form opened');

    const form = await feed(slack, {
      type: 'view_submission',
      team: { id: 'T1' },
      user: { id: 'U1', team_id: 'T1' },
      api_app_id: 'A1',
      view: {
        id: 'V1',
        team_id: 'T1',
        callback_id: 'portrait_modal',
        private_metadata: '{"c":"C1"}',
        state: { values: {} },
      },
    });
    assert.deepEqual(form.response, { response_action: 'errors', errors: { pose: SENTENCE } });
  });

  it('answers a mention (once, though it arrives twice) and a button privately, and queues nothing', async () => {
    const { slack, service } = app();
    const before = fake.callsOf('chat.postEphemeral').length;
    const ts = '1750000000.000100';
    const event = {
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
          size: 10,
          url_private_download: fake.addFile('x.jpg', PNG_BYTES),
        },
      ],
    };
    const envelope = (e: Record<string, unknown>, id: string) => ({
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: id,
      event_time: 1,
      event: e,
    });
    await feed(slack, envelope(event, 'Ev1'));
    await feed(slack, envelope({ ...event, type: 'message', subtype: 'file_share' }, 'Ev2'));
    const button = await feed(slack, {
      type: 'block_actions',
      team: { id: 'T1' },
      user: { id: 'U1', team_id: 'T1' },
      api_app_id: 'A1',
      channel: { id: 'C1' },
      container: { type: 'message', message_ts: ts, channel_id: 'C1' },
      response_url: `${fake.origin}/response/10`,
      actions: [{ action_id: 'portrait_reroll', block_id: 'portrait_actions', value: 'x', type: 'button' }],
    });
    assert.ok(button.acked);
    const notices = fake.callsOf('chat.postEphemeral').slice(before);
    assert.equal(notices.length, 2, 'one for the mention, one for the button');
    for (const n of notices)
      assert.deepEqual([n.args['channel'], n.args['user'], n.args['text']], ['C1', 'U1', SENTENCE]);
    assert.equal(notices[0]?.args['thread_ts'], ts, 'in the thread of the mention');
    assert.equal(service.jobs.length, 0, 'nothing was queued');
    assert.equal(fake.callsOf('file_download').length, 0, 'no selfie was fetched');
    assert.equal(fake.callsOf('reactions.add').length, 0);
  });
});
