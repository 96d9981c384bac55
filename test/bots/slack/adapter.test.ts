import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { App } from '@slack/bolt';
import { pino } from 'pino';
import { createSlackApp, type SlackApp } from '../../../src/bots/slack/index.js';
import { escapeMrkdwn } from '../../../src/bots/slack/mrkdwn.js';
import { type Config, parseConfig } from '../../../src/config.js';
import { createCatalogue } from '../../../src/conversation/catalogue.js';
import { NOT_REQUESTER_TEXT } from '../../../src/conversation/present.js';
import { describeError } from '../../../src/core/messages.js';
import { silentLogger } from '../../../src/log.js';
import type { Delivery } from '../../../src/queue/jobs.js';
import { facePath } from '../../helpers/env.js';
import { MemoryService } from './fake-service.js';
import { FakeSlack } from './fake-slack.js';

/**
 * The Slack adapter through Bolt's real code paths: `new App({ token, clientOptions: { slackApiUrl } })`, events
 * fed to `app.processEvent` exactly as a receiver does, and the real @slack/web-api client calling a loopback
 * fake of the Web API and of Slack's private file host. The queue is an in-memory PortraitService here;
 * test/bots/slack/e2e.test.ts runs the same flow through the real queue and worker on Redis.
 */

const selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));
const portrait = new Uint8Array(readFileSync(facePath('obama2.jpg')));
let fake: FakeSlack;
let seq = 0;

function configFor(extra: Record<string, string> = {}): Config {
  return parseConfig({
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: fake.apiUrl,
    SLACK_FILE_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

function nextTs(): string {
  seq += 1;
  return `1710000${String(seq).padStart(3, '0')}.000200`;
}

function imageFile(url: string, size = selfie.byteLength) {
  return { id: `F${seq}`, name: 'me.jpg', mimetype: 'image/jpeg', filetype: 'jpg', size, url_private_download: url };
}

function mentionBody(o: { text: string; files?: unknown[]; ts?: string; eventId?: string; channel?: string }) {
  const ts = o.ts ?? nextTs();
  return {
    token: 'legacy',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: o.eventId ?? `Ev${ts.replace('.', '')}`,
    event_time: 1_710_000_000,
    event: {
      type: 'app_mention',
      user: 'U1',
      text: o.text,
      ts,
      event_ts: ts,
      channel: o.channel ?? 'C1',
      ...(o.files ? { files: o.files } : {}),
    },
  };
}

async function feed(app: App, body: unknown, retryNum?: number): Promise<{ acked: boolean; response: unknown }> {
  const out = { acked: false, response: undefined as unknown };
  await app.processEvent({
    body: body as Record<string, unknown>,
    ack: async (response?: unknown) => {
      out.acked = true;
      out.response = response;
    },
    ...(retryNum !== undefined ? { retryNum, retryReason: 'http_timeout' } : {}),
  });
  return out;
}

function texts(method: string): string[] {
  return fake.callsOf(method).map((c) => String(c.args['text'] ?? ''));
}

describe('Slack adapter (Bolt + fake Web API, in-memory queue)', () => {
  let service: MemoryService;
  let bot: SlackApp;

  before(async () => {
    fake = await new FakeSlack().start();
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.calls.length = 0;
    service = new MemoryService();
    bot = createSlackApp(configFor(), service, silentLogger);
  });

  it('a mention with a selfie is acknowledged, queued, and the portrait lands in the thread with alt text and buttons', async () => {
    const url = fake.addFile('obama.jpg', selfie);
    const body = mentionBody({
      text: `<@${fake.botUserId}> pose: three-quarter left, light: golden hour, style: oil painting, seed 42`,
      files: [imageFile(url)],
    });
    const { acked } = await feed(bot.app, body);
    assert.ok(acked, 'the event is acknowledged');

    // First visible answer: a reaction on the message and a status message in its thread.
    const ts = body.event.ts;
    assert.deepEqual(fake.callsOf('reactions.add')[0]?.args, { channel: 'C1', timestamp: ts, name: 'eyes' });
    const status = fake.callsOf('chat.postMessage')[0];
    assert.equal(status?.args['thread_ts'], ts);
    // The private file was fetched with the bot token.
    assert.equal(fake.callsOf('file_download')[0]?.authorization, `Bearer ${fake.botToken}`);

    assert.equal(service.jobs.length, 1);
    const job = service.jobs[0]!;
    assert.equal(job.key, `slack-T1-C1-${ts}`);
    assert.equal(job.request.pose, 'three-quarter left');
    assert.equal(job.request.lighting, 'golden hour');
    assert.equal(job.request.style, 'oil painting');
    assert.equal(job.request.seed, 42);
    assert.deepEqual(job.request.requester, { platform: 'slack', userId: 'U1', scopeId: 'T1' });
    const stored = service.blobs.get(job.request.selfieKeys[0]!);
    assert.deepEqual(stored?.bytes, selfie);
    assert.match(texts('chat.update').at(-1) ?? '', /Queued - position 1/);

    // The worker's answer comes back through the delivery queue.
    const outputKey = await service.putBlob(portrait, job.request.requester);
    const delivery: Delivery = {
      kind: 'result',
      jobId: job.jobId,
      platform: 'slack',
      route: job.request.route ?? {},
      requester: job.request.requester,
      seed: 42,
      result: {
        outputKeys: [outputKey],
        format: 'webp',
        width: 1024,
        height: 1024,
        engine: 'compositor',
        facesPerSelfie: [1],
        timings: {},
        report: {},
      },
    };
    await bot.deliveries.handle(delivery);

    const urlCall = fake.callsOf('files.getUploadURLExternal')[0];
    assert.match(
      String(urlCall?.args['alt_text']),
      /pose three-quarter left, golden hour lighting, style: oil painting/,
    );
    const fileId = [...fake.uploads.keys()][0]!;
    assert.deepEqual(fake.uploads.get(fileId), portrait, 'the uploaded bytes are the portrait');
    const complete = fake.callsOf('files.completeUploadExternal')[0];
    assert.equal(complete?.args['channel_id'], 'C1');
    assert.equal(complete?.args['thread_ts'], ts);

    const controls = fake.callsOf('chat.postMessage').at(-1)!;
    assert.equal(controls.args['thread_ts'], ts);
    const blocks = JSON.parse(String(controls.args['blocks'])) as Array<{
      type: string;
      text?: { text: string };
      elements?: Array<{ type: string; action_id: string; value?: string }>;
    }>;
    assert.match(
      blocks[0]?.text?.text ?? '',
      /Pose: three-quarter left · Lighting: golden hour · Style: oil painting · Engine: compositor · Seed: 42/,
    );
    const actions = blocks.find((b) => b.type === 'actions')?.elements ?? [];
    assert.deepEqual(
      actions.map((e) => e.action_id),
      ['portrait_reroll', 'portrait_variations', 'portrait_relight', 'portrait_delete'],
    );
    assert.match(actions[0]?.value ?? '', new RegExp(fileId), 'Delete knows the uploaded file');
    assert.match(texts('chat.update').at(-1) ?? '', /Done in/);
    assert.equal(fake.callsOf('reactions.add').at(-1)?.args['name'], 'white_check_mark');
  });

  it("Slack's retry of the same event and the message/file_share twin make no second job", async () => {
    const url = fake.addFile('retry.jpg', selfie);
    const body = mentionBody({ text: `<@${fake.botUserId}> rembrandt`, files: [imageFile(url)] });
    await feed(bot.app, body);
    await feed(bot.app, body, 1);
    const twin = {
      ...body,
      event_id: `${body.event_id}b`,
      event: { ...body.event, type: 'message', subtype: 'file_share', channel_type: 'channel' },
    };
    await feed(bot.app, twin);
    assert.equal(service.jobs.length, 1);
    assert.equal(fake.callsOf('chat.postMessage').length, 1, 'one status message');

    // Another bot process (a fresh app, nothing in memory) gets the retry: the queue says duplicate, and the
    // status message it had posted is taken back.
    const other = createSlackApp(configFor(), service, silentLogger);
    await feed(other.app, body, 2);
    assert.equal(service.jobs.length, 1);
    assert.equal(fake.callsOf('chat.delete').length, 1);
  });

  it("Slack's HTML login page instead of the image is refused as a failed download", async () => {
    // The fake file host, like files.slack.com, answers a file the token may not read with its sign-in page.
    const url = `${fake.origin}/files/not-shared-with-the-bot.jpg`;
    await feed(bot.app, mentionBody({ text: `<@${fake.botUserId}>`, files: [imageFile(url)] }));
    assert.equal(service.jobs.length, 0);
    const answer = texts('chat.update').at(-1) ?? '';
    assert.ok(answer.includes(escapeMrkdwn(describeError({ code: 'download.failed', details: {} }))), answer);

    // With several selfies the sentence names the one that failed.
    fake.calls.length = 0;
    const good = fake.addFile('good.jpg', selfie);
    await feed(bot.app, mentionBody({ text: `<@${fake.botUserId}>`, files: [imageFile(good), imageFile(url)] }));
    assert.match(texts('chat.update').at(-1) ?? '', /I couldn't download selfie 2\./);
  });

  it('files from hosts outside SLACK_FILE_HOSTS are never fetched', async () => {
    const url = fake.addFile('elsewhere.jpg', selfie).replace('127.0.0.1', 'localhost');
    await feed(bot.app, mentionBody({ text: `<@${fake.botUserId}>`, files: [imageFile(url)] }));
    assert.equal(fake.callsOf('file_download').length, 0);
    assert.equal(service.jobs.length, 0);
    // Refused from the declared file, before any status message (as on Discord).
    const answer = texts('chat.postMessage').at(-1) ?? '';
    const sentence = describeError({ code: 'download.host_not_allowed', details: {} });
    assert.ok(answer.includes(escapeMrkdwn(sentence)), answer);
  });

  it('no image, a PDF, or too many files are answered at once without downloading', async () => {
    const cases: Array<[unknown[], string]> = [
      [[], describeError({ code: 'request.no_selfie', details: {} })],
      [
        [{ name: 'cv.pdf', mimetype: 'application/pdf', filetype: 'pdf', pretty_type: 'PDF', size: 10 }],
        describeError({ code: 'input.not_image', details: { got: 'a PDF' } }),
      ],
      [
        Array.from({ length: 5 }, () => imageFile(`${fake.origin}/files/x.jpg`)),
        describeError({ code: 'request.too_many_selfies', details: { limit: 4 } }),
      ],
    ];
    for (const [files, sentence] of cases) {
      fake.calls.length = 0;
      await feed(bot.app, mentionBody({ text: `<@${fake.botUserId}>`, files }));
      const answer = fake.callsOf('chat.postMessage').at(-1)?.args['text'];
      assert.equal(answer, `:warning: ${escapeMrkdwn(sentence)}`);
    }
    assert.equal(fake.callsOf('file_download').length, 0);
    assert.equal(service.jobs.length, 0);
  });

  it('user text with <!channel>, <!here> or <@U> is escaped, never a mention', async () => {
    // Slack sends a typed "<!channel>" as entities and a real @channel as <!channel>; both must come out inert.
    await feed(bot.app, mentionBody({ text: `<@${fake.botUserId}> light: &lt;!channel&gt; &lt;@U999&gt;` }));
    const answer = String(fake.callsOf('chat.postMessage').at(-1)?.args['text']);
    assert.match(answer, /I don't know the lighting '&lt;!channel&gt; &lt;@U999&gt;'/);
    assert.doesNotMatch(answer, /<!channel>|<@U999>/);

    fake.calls.length = 0;
    const url = fake.addFile('esc.jpg', selfie);
    // Free style words are taken by the diffusion engine (the compositor renders only its style catalogue).
    const diffusion = createSlackApp(configFor(), service, silentLogger, { catalogue: createCatalogue('diffusion') });
    await feed(
      diffusion.app,
      mentionBody({ text: `<@${fake.botUserId}> style: &lt;!here&gt; @channel &amp; co`, files: [imageFile(url)] }),
    );
    const job = service.jobs.at(-1)!;
    assert.equal(job.request.style, '<!here> @channel & co', 'the pipeline gets what the user typed');
    const outputKey = await service.putBlob(portrait, job.request.requester);
    await diffusion.deliveries.handle({
      kind: 'result',
      jobId: job.jobId,
      platform: 'slack',
      route: job.request.route ?? {},
      requester: job.request.requester,
      seed: 1,
      result: {
        outputKeys: [outputKey],
        format: 'png',
        width: 64,
        height: 64,
        engine: 'compositor',
        facesPerSelfie: [1],
        timings: {},
        report: {},
      },
    });
    // Everything Slack renders as mrkdwn: message texts and section texts (button values and alt text are not).
    const rendered = fake.calls
      .filter((c) => c.method.startsWith('chat.'))
      .flatMap((c) => [
        String(c.args['text'] ?? ''),
        ...(JSON.parse(String(c.args['blocks'] ?? '[]')) as Array<{ text?: { text?: string } }>).map(
          (b) => b.text?.text ?? '',
        ),
      ])
      .join('\n');
    assert.doesNotMatch(rendered, /<!here>|<!channel>/);
    assert.match(rendered, /Style: &lt;!here&gt; @\u2060channel &amp; co/);
  });

  it('even at debug level no selfie URL or token reaches the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    const debugBot = createSlackApp(configFor({ LOG_LEVEL: 'debug' }), service, log);
    const url = fake.addFile('secret-selfie.jpg', selfie);
    await feed(debugBot.app, mentionBody({ text: `<@${fake.botUserId}> front`, files: [imageFile(url)] }));
    assert.equal(service.jobs.length, 1);
    // The shortcut sends the file URLs to Slack inside the form's private_metadata (views.open's body).
    await feed(debugBot.app, {
      type: 'message_action',
      callback_id: 'make_portrait',
      trigger_id: 'trigger-log',
      message_ts: '1790000000.000100',
      response_url: `${fake.origin}/response/log`,
      team: { id: 'T1', domain: 't' },
      channel: { id: 'C1', name: 'general' },
      user: { id: 'U1', name: 'me' },
      token: 'x',
      action_ts: '1',
      message: { type: 'message', user: 'U1', ts: '1790000000.000100', text: 'me', files: [imageFile(url)] },
    });
    assert.match(String(fake.callsOf('views.open').at(-1)?.args['view']), /secret-selfie/);
    const all = lines.join('');
    assert.ok(lines.length > 0, 'something was logged');
    assert.ok(!all.includes('secret-selfie'), 'no file URL in the log');
    assert.ok(!all.includes(fake.botToken), 'no token in the log');
  });

  it('a quota refusal from the queue is shown with its sentence', async () => {
    service = new MemoryService({ userInFlight: 1, scopeCap: 50 });
    bot = createSlackApp(configFor(), service, silentLogger);
    for (const name of ['q1.jpg', 'q2.jpg']) {
      const url = fake.addFile(name, selfie);
      await feed(bot.app, mentionBody({ text: `<@${fake.botUserId}>`, files: [imageFile(url)] }));
    }
    assert.equal(service.jobs.length, 1);
    const sentence = describeError({ code: 'quota.user_in_flight', details: { limit: 1 } });
    assert.equal(texts('chat.update').at(-1), `:warning: ${escapeMrkdwn(sentence)}`);
  });

  it('channels outside SLACK_ALLOWED_CHANNELS get a private refusal and no job', async () => {
    bot = createSlackApp(configFor({ SLACK_ALLOWED_CHANNELS: 'C1' }), service, silentLogger);
    const url = fake.addFile('c2.jpg', selfie);
    await feed(bot.app, mentionBody({ text: `<@${fake.botUserId}>`, files: [imageFile(url)], channel: 'C2' }));
    assert.equal(service.jobs.length, 0);
    const eph = fake.callsOf('chat.postEphemeral')[0];
    assert.equal(eph?.args['user'], 'U1');
    assert.match(String(eph?.args['text']), /Portraits aren't enabled in this channel/);
  });

  it('a failure delivery turns the status message into the sentence', async () => {
    const url = fake.addFile('noface.jpg', selfie);
    await feed(bot.app, mentionBody({ text: `<@${fake.botUserId}>`, files: [imageFile(url)] }));
    const job = service.jobs[0]!;
    await bot.deliveries.handle({
      kind: 'progress',
      jobId: job.jobId,
      platform: 'slack',
      route: job.request.route ?? {},
      requester: job.request.requester,
      stage: 'detect',
      at: Date.now(),
    });
    await fake.waitFor('chat.update', (a) => String(a['text']).includes('Finding your face'));
    await bot.deliveries.handle({
      kind: 'failure',
      jobId: job.jobId,
      platform: 'slack',
      route: job.request.route ?? {},
      requester: job.request.requester,
      error: { code: 'face.none', message: 'no face', details: { selfie: 1 } },
    });
    assert.equal(
      texts('chat.update').at(-1),
      `:warning: ${escapeMrkdwn(describeError({ code: 'face.none', details: {} }))}`,
    );
    await bot.deliveries.close();
  });

  it('buttons carry their state: Reroll works in a fresh process, only for the requester; Delete removes the files', async () => {
    const url = fake.addFile('btn.jpg', selfie);
    const body = mentionBody({ text: `<@${fake.botUserId}> look up, rim`, files: [imageFile(url)] });
    await feed(bot.app, body);
    const job = service.jobs[0]!;
    const outputKey = await service.putBlob(portrait, job.request.requester);
    await bot.deliveries.handle({
      kind: 'result',
      jobId: job.jobId,
      platform: 'slack',
      route: job.request.route ?? {},
      requester: job.request.requester,
      seed: 7,
      result: {
        outputKeys: [outputKey],
        format: 'webp',
        width: 64,
        height: 64,
        engine: 'compositor',
        facesPerSelfie: [1],
        timings: {},
        report: {},
      },
    });
    const controls = fake.callsOf('chat.postMessage').at(-1)!;
    const blocks = JSON.parse(String(controls.args['blocks'])) as Array<{
      type: string;
      elements?: Array<{ action_id: string; value?: string }>;
    }>;
    const value = blocks.find((b) => b.type === 'actions')?.elements?.[0]?.value ?? '';
    const message = { type: 'message', ts: '1710009999.000100', thread_ts: body.event.ts, blocks };
    const click = (user: string, action: Record<string, unknown>) => ({
      type: 'block_actions',
      team: { id: 'T1', domain: 't' },
      user: { id: user, team_id: 'T1' },
      api_app_id: 'A1',
      token: 'legacy',
      trigger_id: `trig-${user}-${String(action['action_id'])}`,
      channel: { id: 'C1', name: 'general' },
      container: { type: 'message', message_ts: message.ts, channel_id: 'C1', is_ephemeral: false },
      message,
      response_url: `${fake.origin}/response/1`,
      actions: [{ block_id: 'portrait_actions', action_ts: '1710009999.1', ...action }],
    });

    // "After a restart": a brand-new app with no memory of the job.
    const restarted = createSlackApp(configFor(), service, silentLogger);
    const reroll = {
      type: 'button',
      action_id: 'portrait_reroll',
      value,
      text: { type: 'plain_text', text: 'Reroll' },
    };
    const intruder = await feed(restarted.app, click('U2', reroll));
    assert.ok(intruder.acked);
    assert.equal(service.jobs.length, 1, 'someone else cannot rerun my selfies');
    assert.equal(fake.callsOf('chat.postEphemeral').at(-1)?.args['text'], escapeMrkdwn(NOT_REQUESTER_TEXT));

    service.jobs[0]!.state = 'done';
    await feed(restarted.app, click('U1', reroll));
    assert.equal(service.jobs.length, 2);
    const rerun = service.jobs[1]!;
    assert.deepEqual(rerun.request.selfieKeys, job.request.selfieKeys);
    assert.equal(rerun.request.pose, 'look up');
    assert.equal(rerun.request.lighting, 'rim');
    assert.equal(rerun.request.route?.['thread'], body.event.ts, 'the rerun answers in the same thread');

    rerun.state = 'done';
    const relight = {
      type: 'static_select',
      action_id: 'portrait_relight',
      selected_option: { text: { type: 'plain_text', text: 'neon' }, value: 'neon' },
    };
    await feed(restarted.app, click('U1', relight));
    assert.equal(service.jobs.at(-1)?.request.lighting, 'neon');
    assert.equal(service.jobs.at(-1)?.request.seed, 7, 'relight keeps the seed');

    const del = { type: 'button', action_id: 'portrait_delete', value, text: { type: 'plain_text', text: 'Delete' } };
    await feed(restarted.app, click('U1', del));
    assert.equal(fake.callsOf('files.delete').length, 1);
    assert.deepEqual(fake.callsOf('chat.delete').at(-1)?.args, { channel: 'C1', ts: message.ts });
  });
});
