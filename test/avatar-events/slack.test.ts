import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type AvatarEvents, openAvatarEvents } from '../../src/avatar-events/index.js';
import { createSlackApp, type SlackApp } from '../../src/bots/slack/index.js';
import { silentLogger } from '../../src/log.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import { FakeSlack } from '../bots/slack/fake-slack.js';
import { type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';
import { EVENT_PIPELINE, flatPhoto, readZip, selfie, UpdateLog } from './helpers.js';

/**
 * Avatar events on Slack end to end: Bolt's real event processing (`app.processEvent`, as a receiver calls it) and
 * the real Web API client against the loopback Slack, the real queue on real Redis, a real worker with the cheap
 * stand-in pipeline, and the event scheduler posting back through the adapter.
 */
describe('Slack avatar events end to end', () => {
  let fake: FakeSlack;
  let env: QueueTestEnv;
  let portraits: PortraitQueueService;
  let worker: PortraitWorker;
  let events: AvatarEvents;
  let slack: SlackApp;
  const updates = new UpdateLog();
  const EVENT = 'Winter 2026';
  let seq = 0;

  before(async () => {
    fake = await new FakeSlack().start();
    env = await queueTestEnv('events-slack', {
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: fake.apiUrl,
      SLACK_FILE_HOSTS: '127.0.0.1',
      PORTRAIT_EVENT_IN_FLIGHT: '2',
    });
    // Workspace admins organise; everybody has a display name; DMs open on the user's id.
    fake.answers.set('users.info', (args) => ({
      ok: true,
      user: {
        id: args['user'],
        is_admin: args['user'] === 'UORG',
        profile: { display_name: `Member ${String(args['user']).slice(1)}` },
      },
    }));
    fake.answers.set('conversations.open', (args) => ({ ok: true, channel: { id: `D${String(args['users'])}` } }));
    portraits = createPortraitService(env.config, env.redis, silentLogger);
    worker = await startWorker(env.config, env.redis, silentLogger, { pipelineModule: EVENT_PIPELINE, concurrency: 1 });
    events = openAvatarEvents(env.config, env.redis, portraits, silentLogger);
    slack = createSlackApp(env.config, portraits, silentLogger, {
      events: { service: events.service, organiserGroups: [] },
    });
    const post = slack.events?.onUpdate;
    assert.ok(post, 'the app has the events module');
    await events.attach('slack', async (u) => {
      await post(u);
      await updates.handler(u);
    });
  });
  after(async () => {
    await events?.close();
    await worker?.close();
    await portraits?.close();
    await env?.cleanup();
    await fake?.close();
  });

  /** A mention of the bot by `user`, with an optional photo, fed through Bolt; resolves when it was handled. */
  async function mention(user: string, text: string, photo?: Uint8Array, thread?: string): Promise<string> {
    seq += 1;
    const ts = `1710000${String(seq).padStart(3, '0')}.000300`;
    const files = photo
      ? [
          {
            id: `F${seq}`,
            name: 'me.png',
            mimetype: 'image/png',
            filetype: 'png',
            size: photo.byteLength,
            url_private_download: fake.addFile(`me-${seq}.png`, photo, 'image/png'),
          },
        ]
      : undefined;
    await slack.app.processEvent({
      body: {
        token: 'legacy',
        team_id: 'T1',
        api_app_id: 'A1',
        type: 'event_callback',
        event_id: `Ev${seq}`,
        event_time: 1_710_000_000,
        event: {
          type: 'app_mention',
          user,
          text: `<@${fake.botUserId}> ${text}`,
          ts,
          event_ts: ts,
          channel: 'C1',
          ...(thread ? { thread_ts: thread } : {}),
          ...(files ? { files } : {}),
        },
      },
      ack: async () => {},
    });
    return ts;
  }
  /** The texts the bot posted or edited into a thread since `from` calls. */
  const saidIn = (thread: string, from = 0) =>
    fake.calls
      .slice(from)
      .filter((c) => c.method === 'chat.postMessage' && c.args['thread_ts'] === thread)
      .map((c) => String(c.args['text'] ?? ''));
  const lastSaid = (thread: string) => saidIn(thread).at(-1) ?? '';

  it('runs an event: organisers only, ten members, nine avatars, a sentence for the bad photo, close, delete', async () => {
    const nope = await mention('U50', 'event create Nope');
    assert.match(lastSaid(nope), /Only organisers can do that/);

    const root = await mention(
      'UORG',
      `event create ${EVENT} pose: 3/4 left, lighting: golden hour, frame: gold, ends: in 3 days`,
    );
    assert.match(lastSaid(root), /\*Winter 2026\* · draft/);
    assert.match(lastSaid(root), /pose three-quarter left, lighting golden hour, frame #d4af37/);
    const event = await events.service.find('slack', 'T1', EVENT);
    assert.deepEqual(event.destination, { channelId: 'C1', threadId: root });

    const early = await mention('U50', `join ${EVENT}`, await selfie(50));
    assert.match(lastSaid(early), /The event 'Winter 2026' isn't open yet/);
    await mention('UORG', `event open ${EVENT}`, undefined, root);
    assert.match(lastSaid(root), /\*Winter 2026\* is open until/);

    // Ten members; U0 twice, U9 with a photo without a face, U3 asks for a DM.
    const joins = new Map<number, string>();
    for (let n = 0; n < 10; n++) {
      const photo = n === 9 ? await flatPhoto() : await selfie(n);
      joins.set(n, await mention(`U${n}`, `join ${EVENT}${n === 3 ? ' dm' : ''}`, photo));
    }
    const redoAt = fake.calls.length;
    await mention('U0', `join ${EVENT}`, await selfie(100));
    // The worker edits other members' statuses at the same time ("avatar is ready"), so the replacement sentence
    // need not be the last edit: it must be among them (it failed once in CI when a job finished in between).
    const edits = fake.calls.slice(redoAt).filter((c) => c.method === 'chat.update');
    assert.ok(
      edits.some((c) => /Your new photo replaces the earlier one/.test(String(c.args['text']))),
      `no replacement sentence among ${edits.map((c) => String(c.args['text'])).join(' | ')}`,
    );

    await updates.waitFor(8, (u) => u.kind === 'result' && u.entry.member.userId !== 'U0');
    await updates.waitFor(1, (u) => u.kind === 'result' && u.entry.member.userId === 'U0' && u.entry.rev === 2);
    await updates.waitFor(1, (u) => u.kind === 'failure');

    // U9's join status (in U9's own thread) ends as the sentence.
    const sentence = await fake.waitFor('chat.update', (a) => String(a['text']).includes("couldn't find a face"));
    assert.match(String(sentence.args['text']), /\*Winter 2026\*: I couldn't find a face in your selfie/);
    assert.ok(joins.get(9));
    // Every avatar was uploaded into the event thread with its member named; U3 also got a DM.
    const shares = fake.callsOf('files.completeUploadExternal');
    const inThread = shares.filter((c) => c.args['channel_id'] === 'C1' && c.args['thread_ts'] === root);
    const named = new Set(inThread.map((c) => /<@(U\d+)>/.exec(String(c.args['initial_comment']))?.[1]));
    assert.equal(named.size, 9);
    assert.ok(!named.has('U9'));
    assert.ok(
      shares.some((c) => c.args['channel_id'] === 'DU3'),
      'U3 got the avatar by DM',
    );

    // The gallery, posted where it was asked for: nine avatars.
    const galleryAt = fake.calls.length;
    await mention('UORG', `event gallery ${EVENT}`, undefined, root);
    const sheet = fake.calls.slice(galleryAt).find((c) => c.method === 'files.completeUploadExternal');
    assert.match(String(sheet?.args['initial_comment']), /\*Winter 2026\*: 9 avatars/);
    const sheetId = (JSON.parse(String(sheet?.args['files'])) as Array<{ id: string }>)[0]?.id ?? '';
    assert.equal((await sharp(fake.uploads.get(sheetId)).metadata()).format, 'jpeg');

    // The export goes to the organiser's direct messages.
    const exportAt = fake.calls.length;
    await mention('UORG', `event export ${EVENT}`, undefined, root);
    const zipShare = fake.calls.slice(exportAt).find((c) => c.method === 'files.completeUploadExternal');
    assert.equal(zipShare?.args['channel_id'], 'DUORG');
    const zipId = (JSON.parse(String(zipShare?.args['files'])) as Array<{ id: string }>)[0]?.id ?? '';
    const zip = readZip(fake.uploads.get(zipId) ?? new Uint8Array());
    assert.equal(zip.filter((f) => f.name.startsWith('avatars/')).length, 9);

    await mention('UORG', `event status ${EVENT}`, undefined, root);
    assert.match(lastSaid(root), /Entrants: 10 · avatars: 9 · waiting: 0 · being made: 0 · refused: 1/);

    // Closing refuses new entries with a clear sentence.
    await mention('UORG', `event close ${EVENT}`, undefined, root);
    assert.match(lastSaid(root), /\*Winter 2026\* is closed: 9 avatars from 10 members/);
    const late = await mention('U11', `join ${EVENT}`, await selfie(11));
    assert.match(lastSaid(late), /The event 'Winter 2026' is closed and takes no new entries/);

    // Deleting removes every stored image.
    const prefix = env.config.PORTRAIT_QUEUE_PREFIX;
    const conn = env.redis.connection();
    assert.equal((await conn.keys(`${prefix}:ev:${event.id}:img:*`)).length, 9);
    await mention('U5', `event delete ${EVENT} confirm`, undefined, root);
    assert.match(lastSaid(root), /Only organisers can do that/);
    await mention('UORG', `event delete ${EVENT}`, undefined, root);
    assert.match(lastSaid(root), /To go ahead: `@Portrait event delete Winter 2026 confirm`/);
    await mention('UORG', `event delete ${EVENT} confirm`, undefined, root);
    assert.match(lastSaid(root), /Deleted \*Winter 2026\* with every photo and avatar \(9 stored files\)/);
    assert.deepEqual(await conn.keys(`${prefix}:ev:${event.id}*`), []);
    assert.deepEqual(await conn.keys(`${prefix}:blob:*`), [], 'no selfie or result blob is left');
  });
});
