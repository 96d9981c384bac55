import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type AvatarEvents, openAvatarEvents } from '../../src/avatar-events/index.js';
import { type DiscordBot, startDiscordBot } from '../../src/bots/discord/bot.js';
import { silentLogger } from '../../src/log.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import {
  APP_ID,
  BOT_TOKEN,
  CHANNEL_ID,
  chatCommand,
  FakeDiscord,
  GUILD_ID,
  type OptionSpec,
  type RecordedCall,
  type USER,
} from '../bots/discord/fake-discord.js';
import { contentOf, dataOf, isCallbackOf, isOriginalEdit } from '../bots/discord/harness.js';
import { type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';
import { EVENT_PIPELINE, flatPhoto, readZip, selfie, UpdateLog } from './helpers.js';

/**
 * Avatar events on Discord end to end: the real discord.js client on the loopback Discord (gateway, REST, CDN), the
 * real queue on real Redis, a real worker (with the cheap stand-in pipeline: a flat photo has no face) and the event
 * scheduler posting back through the adapter.
 */
describe('Discord /avatar-event end to end', () => {
  let fake: FakeDiscord;
  let env: QueueTestEnv;
  let portraits: PortraitQueueService;
  let worker: PortraitWorker;
  let events: AvatarEvents;
  let bot: DiscordBot;
  const updates = new UpdateLog();
  const EVENT = 'Winter 2026';

  before(async () => {
    fake = await new FakeDiscord().start();
    env = await queueTestEnv('events-discord', {
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_CDN_HOSTS: '127.0.0.1',
      PORTRAIT_EVENT_IN_FLIGHT: '2',
    });
    portraits = createPortraitService(env.config, env.redis, silentLogger);
    worker = await startWorker(env.config, env.redis, silentLogger, { pipelineModule: EVENT_PIPELINE, concurrency: 1 });
    events = openAvatarEvents(env.config, env.redis, portraits, silentLogger);
    bot = await startDiscordBot(env.config, portraits, silentLogger, {
      consumeDeliveries: (h) => portraits.consumeDeliveries('discord', h, { retryDelayMs: 50 }),
      events: events.service,
    });
    const post = bot.adapter.events?.onUpdate;
    assert.ok(post, 'the adapter has the events module');
    await events.attach('discord', async (u) => {
      await post(u);
      await updates.handler(u);
    });
  });
  after(async () => {
    await bot?.stop();
    await events?.close();
    await worker?.close();
    await portraits?.close();
    await env?.cleanup();
    await fake?.stop();
  });

  const person = (n: number) => ({
    id: `12000000000000000${String(n).padStart(2, '0')}`,
    username: `member${n}`,
    global_name: `Member ${n}`,
    discriminator: '0',
    avatar: null,
  });

  /** An /avatar-event <sub> interaction; attachments and options go under the subcommand, as Discord sends them. */
  function eventCommand(
    sub: string,
    o: { options?: OptionSpec[]; photo?: Uint8Array; user?: typeof USER; organiser?: boolean } = {},
  ): Record<string, unknown> {
    const attachments = o.photo
      ? {
          selfie: {
            url: fake.putCdnFile(`${sub}-${Math.random().toString(36).slice(2)}.png`, o.photo, 'image/png'),
            filename: 'me.png',
            contentType: 'image/png',
            size: o.photo.byteLength,
          },
        }
      : undefined;
    const raw = chatCommand('avatar-event', {
      ...(o.options ? { options: o.options } : {}),
      ...(attachments ? { attachments } : {}),
      ...(o.user ? { user: o.user } : {}),
    });
    const data = raw['data'] as { options: unknown[] };
    data.options = [{ name: sub, type: 1, options: data.options }];
    // Members have no Manage Server permission unless they are the organiser.
    if (o.organiser === false) (raw['member'] as { permissions: string }).permissions = '0';
    return raw;
  }
  const str = (name: string, value: string): OptionSpec => ({ name, type: 3, value });
  const bool = (name: string, value: boolean): OptionSpec => ({ name, type: 5, value });

  /** Dispatches and resolves with the call that answers it: an immediate reply, or the deferred reply's edit. */
  async function run(raw: Record<string, unknown>, label: string): Promise<RecordedCall> {
    fake.dispatchInteraction(raw);
    const first = await fake.waitFor(isCallbackOf(raw['id'] as string), `${label}: the response`);
    if (first.body?.['type'] !== 5) return first;
    return fake.waitFor(isOriginalEdit(raw['token'] as string), `${label}: the deferred answer`);
  }
  const text = (c: RecordedCall) => contentOf(c) || String(dataOf(c)['content'] ?? '');

  it('runs an event: organisers only, ten members, nine avatars, a sentence for the bad photo, close, delete', async () => {
    // A member without Manage Server cannot create an event.
    const refused = await run(eventCommand('create', { options: [str('name', 'Nope')], organiser: false }), 'create');
    assert.match(text(refused), /Only organisers can do that/);

    const created = await run(
      eventCommand('create', {
        options: [
          str('name', EVENT),
          str('pose', '3/4 left'),
          str('lighting', 'golden hour'),
          str('frame', 'gold'),
          str('ends', 'in 3 days'),
        ],
      }),
      'create',
    );
    assert.match(text(created), /\*\*Winter 2026\*\* · draft/);
    assert.match(text(created), /pose three-quarter left, lighting golden hour, frame #d4af37/);
    const event = await events.service.find('discord', GUILD_ID, EVENT);
    const thread = event.destination.threadId;
    assert.ok(thread && thread !== CHANNEL_ID, 'results go to a thread started on the reply');
    assert.match(text(created), new RegExp(`<#${thread}>`));

    // Without a name, a member is told there is no open event; with it, that it is not open yet.
    const none = await run(
      eventCommand('join', { photo: await selfie(50), user: person(50), organiser: false }),
      'join',
    );
    assert.match(text(none), /There's no open avatar event here right now/);
    const early = await run(
      eventCommand('join', {
        photo: await selfie(50),
        user: person(50),
        organiser: false,
        options: [str('event', EVENT)],
      }),
      'join',
    );
    assert.match(text(early), /The event 'Winter 2026' isn't open yet/);
    const opened = await run(eventCommand('open', { options: [str('event', EVENT)] }), 'open');
    assert.match(text(opened), /is open until <t:\d+:f>/);

    // Ten members join; member 0 twice (the second photo replaces the first), member 9 with a photo without a face,
    // member 3 asks for a DM too.
    const tokens = new Map<number, string>();
    for (let n = 0; n < 10; n++) {
      const photo = n === 9 ? await flatPhoto() : await selfie(n);
      const raw = eventCommand('join', {
        photo,
        user: person(n),
        organiser: false,
        options: n === 3 ? [bool('dm', true)] : [],
      });
      tokens.set(n, raw['token'] as string);
      assert.match(
        text(await run(raw, `join ${n}`)),
        /You're in: your \*\*Winter 2026\*\* avatar will be posted in <#/,
      );
    }
    const redo = await run(
      eventCommand('join', { photo: await selfie(100), user: person(0), organiser: false }),
      'redo',
    );
    assert.match(text(redo), /Your new photo replaces the earlier one/);

    await updates.waitFor(8, (u) => u.kind === 'result' && u.entry.member.userId !== person(0).id);
    await updates.waitFor(1, (u) => u.kind === 'result' && u.entry.member.userId === person(0).id && u.entry.rev === 2);
    await updates.waitFor(1, (u) => u.kind === 'failure');

    // The bad photo's member got the sentence in their own (ephemeral) join reply.
    const sentence = await fake.waitFor(
      isOriginalEdit(tokens.get(9) ?? '', "couldn't find a face in your selfie"),
      'the refusal sentence',
    );
    assert.match(text(sentence), /\*\*Winter 2026\*\*: I couldn't find a face in your selfie/);
    // Every avatar went to the event thread with its member named; the DM went out for member 3.
    const posts = fake.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${thread}/messages`);
    const avatarPosts = posts.filter((c) => c.files.length === 1);
    const named = new Set(avatarPosts.map((c) => /<@(\d+)>/.exec(text(c))?.[1]));
    assert.equal(named.size, 9);
    assert.ok(!named.has(person(9).id));
    assert.equal(avatarPosts[0]?.files[0]?.contentType, 'image/webp');
    const dm = fake.calls.find((c) => c.method === 'POST' && c.path === `/channels/9${person(3).id.slice(1)}/messages`);
    assert.equal(dm?.files.length, 1, 'member 3 got the avatar by DM');

    // The gallery: nine avatars, not the refused photo.
    const gallery = await run(eventCommand('gallery', { options: [str('event', EVENT)] }), 'gallery');
    assert.match(text(gallery), /\*\*Winter 2026\*\*: 9 avatars/);
    const sheet = gallery.files[0];
    assert.ok(sheet, 'the contact sheet is attached');
    const meta = await sharp(sheet.bytes).metadata();
    assert.equal(meta.format, 'jpeg');
    const alt = (gallery.body?.['attachments'] as Array<{ description?: string }> | undefined)?.[0]?.description ?? '';
    assert.match(alt, /contact sheet of 9 avatars: /);
    assert.ok(!alt.includes('Member 9'));

    const exported = await run(eventCommand('export', { options: [str('event', EVENT)] }), 'export');
    const zip = readZip(exported.files[0]?.bytes ?? new Uint8Array());
    assert.equal(zip.filter((f) => f.name.startsWith('avatars/')).length, 9);
    assert.ok(zip.some((f) => f.name === 'manifest.csv'));

    // Organisers only, also for the status numbers.
    const status = await run(eventCommand('status', { options: [str('event', EVENT)] }), 'status');
    assert.match(text(status), /Entrants: 10 · avatars: 9 · waiting: 0 · being made: 0 · refused: 1/);
    const memberStatus = await run(eventCommand('status', { user: person(4), organiser: false }), 'member status');
    assert.doesNotMatch(text(memberStatus), /Entrants/);

    // Closing refuses new entries with a clear sentence.
    const closed = await run(eventCommand('close', { options: [str('event', EVENT)] }), 'close');
    assert.match(text(closed), /is closed: 9 avatars from 10 members/);
    const late = await run(
      eventCommand('join', {
        photo: await selfie(11),
        user: person(11),
        organiser: false,
        options: [str('event', EVENT)],
      }),
      'late join',
    );
    assert.match(text(late), /The event 'Winter 2026' is closed and takes no new entries/);

    // Deleting removes every stored image: the event's avatars and every selfie.
    const prefix = env.config.PORTRAIT_QUEUE_PREFIX;
    const conn = env.redis.connection();
    assert.equal((await conn.keys(`${prefix}:ev:${event.id}:img:*`)).length, 9);
    const notConfirmed = await run(
      eventCommand('delete', { options: [str('event', EVENT), bool('confirm', false)] }),
      'delete',
    );
    assert.match(text(notConfirmed), /Nothing was deleted/);
    const deleted = await run(
      eventCommand('delete', { options: [str('event', EVENT), bool('confirm', true)] }),
      'delete',
    );
    assert.match(text(deleted), /Deleted \*\*Winter 2026\*\* with every photo and avatar \(9 stored files\)/);
    assert.deepEqual(await conn.keys(`${prefix}:ev:${event.id}*`), []);
    assert.deepEqual(await conn.keys(`${prefix}:blob:*`), [], 'no selfie or result blob is left');
  });
});
