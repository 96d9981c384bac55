import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type SlackBot, startSlackBot } from '../../../src/bots/slack/index.js';
import { parseConfig } from '../../../src/config.js';
import { silentLogger } from '../../../src/log.js';
import { facePath } from '../../helpers/env.js';
import { MemoryService } from './fake-service.js';
import { FakeSlack } from './fake-slack.js';

/**
 * Socket Mode through the real SocketModeReceiver and @slack/socket-mode client: apps.connections.open with the app
 * token, the WebSocket hello, envelopes pushed by the fake and acknowledged by the client.
 */
describe('Slack Socket Mode (real SocketModeReceiver, loopback WebSocket)', () => {
  let fake: FakeSlack;
  let bot: SlackBot;
  const service = new MemoryService();
  const selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));

  before(async () => {
    fake = await new FakeSlack().start();
    const config = parseConfig({
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_APP_TOKEN: fake.appToken,
      SLACK_API_URL: fake.apiUrl,
      SLACK_FILE_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    const connected = fake.socketConnected();
    bot = await startSlackBot(config, service, silentLogger);
    await connected;
  });
  after(async () => {
    await bot?.stop();
    await fake?.close();
  });

  it('connects with the app token and needs no HTTP port', () => {
    assert.equal(bot.mode, 'socket');
    assert.equal(bot.port, undefined);
    assert.equal(fake.callsOf('apps.connections.open')[0]?.authorization, `Bearer ${fake.appToken}`);
  });

  it('a mention envelope is acknowledged and queued; its retry_attempt makes no second job', async () => {
    const url = fake.addFile('socket.jpg', selfie);
    const ts = '1750000000.000100';
    const payload = {
      token: 'x',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: 'EvSocket1',
      event_time: 1,
      event: {
        type: 'app_mention',
        user: 'U1',
        text: `<@${fake.botUserId}> split`,
        ts,
        event_ts: ts,
        channel: 'C1',
        files: [
          { id: 'F1', mimetype: 'image/jpeg', filetype: 'jpg', size: selfie.byteLength, url_private_download: url },
        ],
      },
    };
    await fake.sendEnvelope('events_api', payload);
    await fake.waitFor('chat.update', (a) => /Queued - position 1/.test(String(a['text'])));
    await fake.sendEnvelope('events_api', payload, { retryAttempt: 1 });
    assert.equal(service.jobs.length, 1);
    assert.equal(service.jobs[0]?.request.lighting, 'split');
    assert.equal(fake.callsOf('chat.postMessage').length, 1);
  });

  it('/portrait help over the socket answers in the ack', async () => {
    const ack = (await fake.sendEnvelope('slash_commands', {
      token: 'x',
      command: '/portrait',
      text: 'help',
      team_id: 'T1',
      channel_id: 'C1',
      user_id: 'U1',
      trigger_id: 't',
      response_url: `${fake.origin}/response/s`,
      api_app_id: 'A1',
    })) as { response_type?: string; blocks?: unknown[] };
    assert.equal(ack.response_type, 'ephemeral');
    assert.ok((ack.blocks?.length ?? 0) > 3);
  });
});
