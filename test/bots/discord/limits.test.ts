import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { registerCommands } from '../../../src/bots/discord/commands.js';
import type { Delivery } from '../../../src/queue/jobs.js';
import { ManualClock } from '../../conversation/manual-clock.js';
import { APP_ID, CHANNEL_ID, chatCommand, FakeDiscord, GUILD_ID, THREAD_ID } from './fake-discord.js';
import { FakePortraitService } from './fake-service.js';
import {
  contentOf,
  isCallbackOf,
  isOriginalEdit,
  PNG_BYTES,
  progressFor,
  queuePortrait,
  resultFor,
  startBot,
  testConfig,
} from './harness.js';

/** A progress delivery carrying a preview key, as the worker sends for diffusion steps. */
function withPreview(d: Delivery, previewKey: string): Delivery {
  assert.equal(d.kind, 'progress');
  return { ...d, previewKey } as Delivery;
}

describe('Discord limits, progress and registration', () => {
  let fake: FakeDiscord;

  before(async () => {
    fake = await new FakeDiscord().start();
  });
  after(async () => {
    await fake.stop();
  });

  const portraitRaw = (channelId = CHANNEL_ID) =>
    chatCommand('portrait', {
      channelId,
      attachments: {
        selfie: {
          url: fake.putCdnFile('me.png', PNG_BYTES, 'image/png'),
          filename: 'me.png',
          contentType: 'image/png',
          size: 16,
        },
      },
    });

  it('edits progress at most every 2 s, the newest stage winning, and never after the answer', async () => {
    const clock = new ManualClock();
    const service = new FakePortraitService();
    const running = await startBot(fake, service, { clock });
    try {
      const { raw, sub } = await queuePortrait(fake, service);
      const token = raw['token'] as string;
      const edits = () => fake.calls.filter(isOriginalEdit(token));
      assert.equal(edits().length, 1, 'the queued edit went out at once');

      const stages = ['download', 'ingest', 'detect', 'mesh', 'warp', 'relight'] as const;
      for (const s of stages) await running.deliver(progressFor(sub, s));
      await running.deliver(progressFor(sub, 'generate', 3, 20));
      await running.deliver(progressFor(sub, 'generate', 4, 20));
      await clock.advance(1999);
      assert.equal(edits().length, 1, 'nothing within 2 s of the last edit');
      await clock.advance(1);
      await fake.waitFor(() => edits().length === 2, 'the throttled edit');
      assert.equal(contentOf(edits()[1]!), 'Painting the portrait (step 4 of 20)');

      await running.deliver(progressFor(sub, 'encode'));
      await running.deliver(await resultFor(service, sub));
      await fake.waitFor(isOriginalEdit(token, 'Done'), 'the done edit');
      await clock.advance(10_000);
      const texts = edits().map(contentOf);
      assert.equal(texts.at(-1), 'Done - your portrait is in the thread.', 'no progress edit after the answer');
      assert.ok(!texts.some((t) => t.includes('Finishing up')), 'the pending progress was dropped');
    } finally {
      await running.bot.stop();
    }
  });

  it('attaches the progress preview to the status edit, and the answer takes it off', async () => {
    const clock = new ManualClock();
    const service = new FakePortraitService();
    const running = await startBot(fake, service, { clock });
    try {
      const { raw, sub } = await queuePortrait(fake, service);
      const token = raw['token'] as string;
      const edits = () => fake.calls.filter(isOriginalEdit(token));
      const preview = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c08040' } })
        .webp()
        .toBuffer();
      const previewKey = await service.putBlob(preview, sub.request.requester);
      await clock.advance(2000);
      await running.deliver(withPreview(progressFor(sub, 'generate', 5, 20), previewKey));
      await fake.waitFor(() => edits().length === 2, 'the progress edit');
      const edit = edits()[1]!;
      assert.equal(contentOf(edit), 'Painting the portrait (step 5 of 20)');
      assert.equal(edit.files.length, 1, 'the preview is uploaded with the edit');
      assert.deepEqual([edit.files[0]!.name, edit.files[0]!.contentType], ['preview.webp', 'image/webp']);
      assert.deepEqual(edit.files[0]!.bytes, new Uint8Array(preview));
      const attachments = edit.body?.['attachments'] as Array<{ id: number; filename: string; description: string }>;
      assert.deepEqual(
        attachments.map((a) => [a.id, a.filename]),
        [[0, 'preview.webp']],
      );
      assert.ok(attachments[0]!.description.length > 0, 'alt text');

      // An expired preview: a text-only edit.
      await clock.advance(2000);
      await running.deliver(withPreview(progressFor(sub, 'generate', 9, 20), 'blob:gone'));
      await fake.waitFor(() => edits().length === 3, 'the next progress edit');
      assert.equal(edits()[2]!.files.length, 0);
      assert.equal(contentOf(edits()[2]!), 'Painting the portrait (step 9 of 20)');

      await running.deliver(await resultFor(service, sub));
      await fake.waitFor(isOriginalEdit(token, 'Done'), 'the done edit');
      assert.deepEqual(edits().at(-1)!.body?.['attachments'], [], 'the preview leaves with the answer');
    } finally {
      await running.bot.stop();
    }
  });

  it('refuses over the in-flight cap and shows the jobs holding the slots', async () => {
    const service = new FakePortraitService();
    service.inFlightLimit = 1;
    const running = await startBot(fake, service);
    try {
      await queuePortrait(fake, service, { options: [{ name: 'lighting', type: 3, value: 'golden hour' }] });
      const raw = portraitRaw();
      fake.dispatchInteraction(raw);
      const edit = await fake.waitFor(isOriginalEdit(raw['token'] as string), 'the refusal');
      const lines = contentOf(edit).split('\n');
      assert.equal(
        lines[0],
        'You already have 1 portrait in progress. Wait for one to finish, or cancel one with /portrait-status.',
      );
      assert.equal(lines[2], 'Your portraits in the queue:');
      assert.match(lines[3] ?? '', /^1\. front, golden hour - queued, position 1 \(asked <t:\d+:R>\)$/);
    } finally {
      await running.bot.stop();
    }
  });

  it('answers only in allowed channels (a thread counts as its parent)', async () => {
    const service = new FakePortraitService();
    const running = await startBot(fake, service, { config: testConfig(fake, { DISCORD_ALLOWED_CHANNELS: '999' }) });
    try {
      const raw = portraitRaw();
      fake.dispatchInteraction(raw);
      const cb = await fake.waitFor(isCallbackOf(raw['id'] as string), 'the refusal');
      assert.equal(contentOf(cb), "Portraits aren't enabled in this channel. Ask an admin which channel to use.");
      assert.equal(service.submitted.length, 0);
    } finally {
      await running.bot.stop();
    }
    const allowed = await startBot(fake, service, {
      config: testConfig(fake, { DISCORD_ALLOWED_CHANNELS: CHANNEL_ID }),
    });
    try {
      const raw = portraitRaw(THREAD_ID);
      fake.dispatchInteraction(raw);
      await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Queued'), 'the queued edit');
      assert.equal(service.submitted.length, 1);
    } finally {
      await allowed.bot.stop();
    }
  });

  it('keeps the gateway session alive: heartbeats are sent and acknowledged', async () => {
    const quick = await new FakeDiscord({ heartbeatIntervalMs: 30 }).start();
    const running = await startBot(quick, new FakePortraitService(), { config: testConfig(quick) });
    try {
      await quick.waitForHeartbeats(3);
      assert.equal(quick.identifies, 1, 'one session, no reconnects');
      assert.ok(running.bot.client.ws.ping >= 0, 'the client measured a heartbeat round trip');
    } finally {
      await running.bot.stop();
      await quick.stop();
    }
  });

  it('registers the commands per guild when DISCORD_GUILD_IDS is set, else globally', async () => {
    const perGuild = await registerCommands(testConfig(fake, { DISCORD_GUILD_IDS: `${GUILD_ID},42` }));
    assert.deepEqual(perGuild, { scope: 'guild', guildIds: [GUILD_ID, '42'], commands: 6 });
    const puts = fake.callsTo('PUT', /\/commands$/);
    assert.deepEqual(
      puts.map((c) => c.path),
      [`/applications/${APP_ID}/guilds/${GUILD_ID}/commands`, `/applications/${APP_ID}/guilds/42/commands`],
    );
    const body = puts[0]!.body as unknown as Array<{ name: string; options?: Array<{ name: string; type: number }> }>;
    assert.deepEqual(
      body.map((c) => c.name),
      ['portrait', 'portrait-status', 'portrait-forget', 'portrait-help', 'Make portrait', 'avatar-event'],
    );
    assert.deepEqual(
      body[0]?.options?.map((o) => `${o.name}:${o.type}`),
      [
        'selfie:11',
        'selfie2:11',
        'selfie3:11',
        'selfie4:11',
        'pose:3',
        'lighting:3',
        'style:3',
        'variations:4',
        'seed:4',
        'private:5',
      ],
    );
    const global = await registerCommands(testConfig(fake));
    assert.equal(global.scope, 'global');
    assert.equal(fake.callsTo('PUT', /\/commands$/).at(-1)?.path, `/applications/${APP_ID}/commands`);
  });
});
