import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  APP_ID,
  CHANNEL_ID,
  chatCommand,
  FakeDiscord,
  messageCommand,
  OTHER_USER,
  THREAD_ID,
  USER,
} from './fake-discord.js';
import { FakePortraitService } from './fake-service.js';
import {
  contentOf,
  customIds,
  dataOf,
  failureFor,
  isCallbackOf,
  isChannelPost,
  isOriginalEdit,
  PNG_BYTES,
  queuePortrait,
  type Running,
  resultFor,
  startBot,
  WEBP_BYTES,
} from './harness.js';

/**
 * The /portrait flow end to end through the real discord.js client, the loopback gateway and REST fake: the
 * queue side is an in-memory fake here (the Redis-backed path is in integration.test.ts).
 */
describe('Discord /portrait through the real discord.js client', () => {
  let fake: FakeDiscord;
  let service: FakePortraitService;
  let running: Running;

  before(async () => {
    fake = await new FakeDiscord().start();
    service = new FakePortraitService();
    service.inFlightLimit = 100;
    running = await startBot(fake, service);
  });
  after(async () => {
    await running.bot.stop();
    await fake.stop();
  });

  const attach = (name: string, bytes: Uint8Array, contentType: string | null, size = bytes.byteLength) => ({
    url: fake.putCdnFile(name, bytes, contentType ?? 'application/octet-stream'),
    filename: name,
    contentType,
    size,
  });

  /** Dispatches a /portrait with one attachment and returns the first response callback. */
  async function refusalFor(selfie: ReturnType<typeof attach>) {
    const raw = chatCommand('portrait', { attachments: { selfie } });
    fake.dispatchInteraction(raw);
    return { raw, callback: await fake.waitFor(isCallbackOf(raw['id'] as string), 'the response') };
  }

  it('a good selfie is deferred, threaded, queued, and ends as an upload with buttons in the thread', async () => {
    const { raw, sub } = await queuePortrait(fake, service, {
      options: [
        { name: 'pose', type: 3, value: 'three-quarter left' },
        { name: 'lighting', type: 3, value: 'rembrandt' },
        { name: 'variations', type: 4, value: 2 },
        { name: 'seed', type: 4, value: 7 },
      ],
    });
    const defer = fake.calls.find(isCallbackOf(raw['id'] as string))!;
    assert.equal(defer.body?.['type'], 5, 'deferred, not answered');
    assert.equal(sub.idempotencyKey, `discord-${raw['id']}`);
    assert.equal(sub.request.pose, 'three-quarter left');
    assert.equal(sub.request.lighting, 'rembrandt');
    assert.equal(sub.request.variations, 2);
    assert.equal(sub.request.seed, 7);
    assert.deepEqual(sub.request.requester, {
      platform: 'discord',
      userId: USER.id,
      scopeId: fake.interactions.get(raw['id'] as string) ? '1100000000000000002' : '',
    });
    assert.deepEqual(await service.getBlob(sub.request.selfieKeys[0]!), PNG_BYTES, 'the CDN bytes went into a blob');

    const route = sub.request.route ?? {};
    const thread = route['thread']!;
    assert.notEqual(thread, CHANNEL_ID, 'a thread was started on the reply');
    const started = fake.callsTo('POST', /\/threads$/).at(-1)!;
    assert.equal(started.path, `/channels/${CHANNEL_ID}/messages/${route['status']}/threads`);
    assert.equal(route['token'], undefined, 'the interaction token never goes into the job');

    await running.deliver(await resultFor(service, sub, { images: 2, seed: 7 }));
    const post = await fake.waitFor(isChannelPost(thread), 'the portrait upload');
    assert.equal(post.files.length, 2);
    assert.deepEqual(post.files[0]!.bytes, WEBP_BYTES);
    assert.equal(post.files[0]!.name, 'portrait-7-1.webp');
    assert.equal(post.files[0]!.contentType, 'image/webp');
    assert.match(contentOf(post), /2 portraits for <@1100000000000000010>/);
    assert.match(
      contentOf(post),
      /\nPose: three-quarter left · Lighting: rembrandt · Engine: compositor · Seed: 7 · \d+\.\d s$/,
    );
    assert.deepEqual(
      (post.body?.['attachments'] as Array<{ description: string }> | undefined)?.map((a) => a.description),
      Array(2).fill('Generated portrait of the requester, pose three-quarter left, rembrandt lighting'),
      'alt text for screen readers',
    );
    const ids = customIds(post.body?.['components']);
    const recipe = route['recipe']!;
    assert.deepEqual(ids, [
      `pt1:reroll:${recipe}`,
      `pt1:vary:${recipe}`,
      `pt1:delete:${USER.id}`,
      `pt1:relight:${recipe}`,
    ]);
    const done = await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Done'), 'the done edit');
    assert.deepEqual(done.body?.['components'], [], 'the Cancel button goes away');
  });

  it('refuses a non-image attachment at once, privately, without deferring or downloading', async () => {
    const { raw, callback } = await refusalFor(
      attach('cv.pdf', new TextEncoder().encode('%PDF-1.7'), 'application/pdf'),
    );
    assert.equal(callback.body?.['type'], 4);
    const data = dataOf(callback);
    assert.equal(data['flags'], 64, 'ephemeral');
    assert.equal(
      data['content'],
      'Your selfie is not an image (got a PDF). Send a JPEG, PNG, WebP, AVIF or GIF photo.',
    );
    assert.equal(service.submitted.filter((s) => s.idempotencyKey === `discord-${raw['id']}`).length, 0);
  });

  it('refuses a HEIC photo and an oversized file with their own sentences', async () => {
    const heic = await refusalFor(attach('IMG_0001.HEIC', new Uint8Array(10), 'image/heic'));
    assert.match(contentOf(heic.callback), /HEIC photo, which I can't read/);
    const big = await refusalFor(attach('huge.jpg', new Uint8Array(10), 'image/jpeg', 50 * 1024 * 1024));
    assert.equal(contentOf(big.callback), 'Your selfie is too large (got 50 MB). Send a photo under 20 MB.');
  });

  it('refuses an attachment whose host is not on DISCORD_CDN_HOSTS', async () => {
    const { callback } = await refusalFor({
      url: 'https://evil.example.com/a.png',
      filename: 'a.png',
      contentType: 'image/png',
      size: 100,
    });
    assert.equal(dataOf(callback)['flags'], 64);
    assert.match(contentOf(callback), /I can only fetch your selfie from this chat's own file storage/);
  });

  it('trusts the downloaded bytes over the declared type', async () => {
    const raw = chatCommand('portrait', {
      attachments: { selfie: attach('me.png', new TextEncoder().encode('%PDF-1.4'), 'image/png') },
    });
    fake.dispatchInteraction(raw);
    const edit = await fake.waitFor(isOriginalEdit(raw['token'] as string), 'the refusal edit');
    assert.equal(
      contentOf(edit),
      'Your selfie is not an image (got a PDF). Send a JPEG, PNG, WebP, AVIF or GIF photo.',
    );
    assert.equal(service.submitted.filter((s) => s.idempotencyKey === `discord-${raw['id']}`).length, 0);
  });

  it('names the selfie by number when several are given', async () => {
    const good = attach('a.png', PNG_BYTES, 'image/png');
    const raw = chatCommand('portrait', {
      attachments: {
        selfie: good,
        selfie2: attach('b.png', new TextEncoder().encode('<!doctype html><html>'), 'image/png'),
      },
    });
    fake.dispatchInteraction(raw);
    const edit = await fake.waitFor(isOriginalEdit(raw['token'] as string), 'the refusal edit');
    assert.equal(
      contentOf(edit),
      'Selfie 2 is not an image (got a web page). Send a JPEG, PNG, WebP, AVIF or GIF photo.',
    );
  });

  it('refuses an unknown lighting with the parser suggestion before deferring', async () => {
    const raw = chatCommand('portrait', {
      attachments: { selfie: attach('me.png', PNG_BYTES, 'image/png') },
      options: [{ name: 'lighting', type: 3, value: 'rembrant' }],
    });
    fake.dispatchInteraction(raw);
    const cb = await fake.waitFor(isCallbackOf(raw['id'] as string), 'the refusal');
    assert.equal(cb.body?.['type'], 4);
    assert.match(contentOf(cb), /I don't know the lighting 'rembrant'\. Did you mean 'rembrandt'\?/);
  });

  it('a job failing with face.none gets the friendly sentence on its status message', async () => {
    const { raw, sub } = await queuePortrait(fake, service);
    await running.deliver(failureFor(sub, 'face.none'));
    const edit = await fake.waitFor(isOriginalEdit(raw['token'] as string, 'face'), 'the failure edit');
    assert.equal(
      contentOf(edit),
      "I couldn't find a face in your selfie: use a well-lit photo where your face fills at least a fifth of the frame.",
    );
    assert.deepEqual(edit.body?.['components'], []);
  });

  it('an internal failure gets the generic sentence with its reference id', async () => {
    const { raw, sub } = await queuePortrait(fake, service);
    await running.deliver(failureFor(sub, 'internal.error', {}, 'ab12cd34'));
    const edit = await fake.waitFor(isOriginalEdit(raw['token'] as string, 'reference'), 'the failure edit');
    assert.equal(contentOf(edit), 'Something went wrong on my side while making your portrait. (reference ab12cd34)');
  });

  it('an unexpected error in the bot is answered with a reference id, not a stuck "thinking"', async () => {
    service.failSubmit = new Error('redis exploded');
    try {
      const raw = chatCommand('portrait', { attachments: { selfie: attach('me.png', PNG_BYTES, 'image/png') } });
      fake.dispatchInteraction(raw);
      const edit = await fake.waitFor(isOriginalEdit(raw['token'] as string), 'the error edit');
      assert.match(
        contentOf(edit),
        /^Something went wrong on my side while making your portrait\. \(reference [0-9a-f]{8}\)$/,
      );
    } finally {
      service.failSubmit = undefined;
    }
  });

  it('the same interaction delivered twice makes one job', async () => {
    const raw = chatCommand('portrait', { attachments: { selfie: attach('me.png', PNG_BYTES, 'image/png') } });
    fake.dispatchInteraction(raw);
    fake.dispatchInteraction(raw);
    await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Queued'), 'the queued edit');
    const id = raw['id'] as string;
    await fake.waitFor(() => fake.calls.filter(isCallbackOf(id)).length === 2, 'the second acknowledgement');
    const refused = fake.calls.filter(isCallbackOf(id))[1]!;
    assert.equal(refused.body?.['type'], 5, 'the second copy tried to acknowledge too and was told 40060');
    assert.equal(service.submitted.filter((s) => s.idempotencyKey === `discord-${raw['id']}`).length, 1);
  });

  it('stays in the thread it was used in, and answers in the channel when threads are not allowed', async () => {
    const inThread = await queuePortrait(fake, service, { channelId: THREAD_ID });
    assert.equal(inThread.sub.request.route?.['thread'], THREAD_ID);
    assert.equal(fake.callsTo('POST', new RegExp(`^/channels/${THREAD_ID}/messages/\\d+/threads$`)).length, 0);

    fake.threadsAllowed = false;
    try {
      const { sub } = await queuePortrait(fake, service);
      assert.equal(sub.request.route?.['thread'], CHANNEL_ID, 'fell back to the channel');
      const before = fake.callsTo('POST', new RegExp(`^/channels/${CHANNEL_ID}/messages$`)).length;
      await running.deliver(await resultFor(service, sub));
      await fake.waitFor(
        () => fake.callsTo('POST', new RegExp(`^/channels/${CHANNEL_ID}/messages$`)).length > before,
        'the upload in the channel',
      );
    } finally {
      fake.threadsAllowed = true;
    }
  });

  it('private requests are answered ephemerally through the interaction token', async () => {
    const { raw, sub } = await queuePortrait(fake, service, { options: [{ name: 'private', type: 5, value: true }] });
    const defer = fake.calls.find(isCallbackOf(raw['id'] as string))!;
    assert.equal(dataOf(defer)['flags'], 64);
    assert.equal(sub.request.route?.['private'], '1');
    assert.equal(sub.request.route?.['thread'], CHANNEL_ID, 'no thread for a private answer');
    await running.deliver(await resultFor(service, sub));
    const followUp = await fake.waitFor(
      (c) => c.method === 'POST' && c.path === `/webhooks/${APP_ID}/${raw['token']}`,
      'the ephemeral follow-up',
    );
    assert.equal(followUp.body?.['flags'], 64);
    assert.equal(followUp.files.length, 1);
  });

  it('escapes user text echoed back: no markdown, mentions or links', async () => {
    const raw = chatCommand('portrait', {
      attachments: { selfie: attach('me.png', PNG_BYTES, 'image/png') },
      options: [{ name: 'pose', type: 3, value: '@everyone **front** <@1> https://x.example' }],
    });
    fake.dispatchInteraction(raw);
    const cb = await fake.waitFor(isCallbackOf(raw['id'] as string), 'the refusal');
    const text = contentOf(cb);
    assert.match(text, /^I don't know the pose/);
    assert.ok(text.includes('@\u200beveryone'), text);
    assert.ok(text.includes('\\*\\*front\\*\\*'), text);
    assert.ok(text.includes('<\u200b@\u200b1>'), text);
    assert.ok(text.includes('https:\u200b//'), text);
  });

  it("Make portrait uses the images of your own message, and refuses someone else's", async () => {
    const mine = messageCommand(USER, [attach('me.png', PNG_BYTES, 'image/png')]);
    fake.dispatchInteraction(mine);
    await fake.waitFor(isOriginalEdit(mine['token'] as string, 'Queued'), 'the queued edit');
    assert.equal(service.submitted.at(-1)?.idempotencyKey, `discord-${mine['id']}`);

    const theirs = messageCommand(OTHER_USER, [attach('bob.png', PNG_BYTES, 'image/png')]);
    fake.dispatchInteraction(theirs);
    const cb = await fake.waitFor(isCallbackOf(theirs['id'] as string), 'the refusal');
    assert.equal(cb.body?.['type'], 4);
    assert.match(contentOf(cb), /only make portraits from photos you posted yourself/);
  });

  it('sends allowed_mentions { parse: [] } with every message it creates or edits', () => {
    let checked = 0;
    for (const c of fake.calls) {
      if (c.method !== 'POST' && c.method !== 'PATCH') continue;
      const data = c.body?.['data'] as Record<string, unknown> | undefined;
      const isMessage =
        (/\/messages(\/\d+|\/@original)?$/.test(c.path) && !c.path.endsWith('/threads')) ||
        c.path === `/webhooks/${APP_ID}/${c.path.split('/')[3]}` ||
        (c.path.endsWith('/callback') && data?.['content'] !== undefined);
      if (!isMessage) continue;
      const mentions = c.path.endsWith('/callback') ? data?.['allowed_mentions'] : c.body?.['allowed_mentions'];
      assert.deepEqual(mentions, { parse: [] }, `${c.method} ${c.path}`);
      checked++;
    }
    assert.ok(checked >= 20, `only ${checked} message bodies seen`);
  });
});
