import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type SlackBot, startSlackBot } from '../../src/bots/slack/index.js';
import { parseConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { MemoryService } from '../bots/slack/fake-service.js';
import { FakeSlack } from '../bots/slack/fake-slack.js';
import { facePath } from '../helpers/env.js';

/**
 * Slack HTTP mode: every request must carry a valid v0 HMAC of `v0:<timestamp>:<body>` under the signing secret,
 * with a timestamp inside Bolt's five-minute replay window. A captured request cannot be replayed later, re-dated,
 * or altered; a replay inside the window is answered but makes no second job. (Socket Mode has no signatures: the
 * socket itself is authenticated with the app token.)
 */
const SECRET = 'replay-window-signing-secret';

function signed(body: string, ts: number, secret = SECRET): Record<string, string> {
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts) };
}

describe('Slack request signatures and the replay window (real HTTPReceiver)', () => {
  let fake: FakeSlack;
  let service: MemoryService;
  let bot: SlackBot;
  let url: string;
  const now = () => Math.floor(Date.now() / 1000);
  const selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));

  const start = async () => {
    const config = parseConfig({
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_FILE_HOSTS: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    bot = await startSlackBot(config, service, silentLogger, { port: 0 });
    url = `http://127.0.0.1:${bot.port}/slack/events`;
  };

  before(async () => {
    fake = await new FakeSlack().start();
    service = new MemoryService();
    await start();
  });
  after(async () => {
    await bot?.stop();
    await fake?.close();
  });

  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const challenge = (c: string) => JSON.stringify({ type: 'url_verification', challenge: c, token: 'x' });
  const mention = JSON.stringify({
    token: 'x',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: 'EvReplay1',
    event_time: 1,
    event: {
      type: 'app_mention',
      user: 'U1',
      text: '<@UBOT> front',
      ts: '1730000000.000100',
      event_ts: '1730000000.000100',
      channel: 'C1',
      files: [{ id: 'F1', name: 'me.jpg', mimetype: 'image/jpeg', filetype: 'jpg', size: 1, url_private_download: '' }],
    },
  });

  it('accepts a request signed inside the window (4 min 50 s old)', async () => {
    const res = await post(challenge('in-window'), signed(challenge('in-window'), now() - 290));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /in-window/);
  });

  it('refuses the same request signed outside the window (5 min 10 s old)', async () => {
    const res = await post(challenge('stale'), signed(challenge('stale'), now() - 310));
    assert.equal(res.status, 401);
  });

  it('refuses a captured request re-dated to now (the signature covers the timestamp)', async () => {
    const captured = signed(challenge('redated'), now() - 600);
    const res = await post(challenge('redated'), { ...captured, 'x-slack-request-timestamp': String(now()) });
    assert.equal(res.status, 401);
  });

  it('refuses an altered body under a valid signature', async () => {
    const headers = signed(challenge('original'), now());
    const res = await post(challenge('tampered'), headers);
    assert.equal(res.status, 401);
  });

  it('refuses missing, malformed and wrongly keyed signatures', async () => {
    const body = challenge('bad');
    const good = signed(body, now());
    const cases: Array<Record<string, string>> = [
      {},
      { 'x-slack-request-timestamp': String(now()) },
      { 'x-slack-signature': good['x-slack-signature'] ?? '' },
      { ...good, 'x-slack-request-timestamp': 'yesterday' },
      { ...good, 'x-slack-signature': (good['x-slack-signature'] ?? '').replace('v0=', 'v1=') },
      { ...good, 'x-slack-signature': 'v0=' },
      signed(body, now(), 'another-apps-secret'),
    ];
    const calls = fake.calls.length;
    for (const headers of cases) assert.equal((await post(body, headers)).status, 401, JSON.stringify(headers));
    assert.equal(fake.calls.length, calls, 'nothing reached the Slack API');
    assert.equal(service.jobs.length, 0);
  });

  it('a replay inside the window is answered but makes no second job, also after a restart', async () => {
    const fileUrl = fake.addFile('replay.jpg', selfie);
    const body = mention.replace('"url_private_download":""', `"url_private_download":${JSON.stringify(fileUrl)}`);
    const headers = signed(body, now());
    assert.equal((await post(body, headers)).status, 200);
    await fake.waitFor('chat.update', (a) => /Queued - position/.test(String(a['text'])));
    // The identical bytes again, as an attacker who captured them would send them.
    assert.equal((await post(body, headers)).status, 200);
    await bot.stop();
    await start();
    assert.equal((await post(body, headers)).status, 200);
    // The restarted process does not remember the event; the queue's idempotency key does.
    await fake.waitFor('chat.delete');
    assert.equal(service.jobs.length, 1);
  });
});
