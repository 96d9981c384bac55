import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { validateEventDraft } from '../../src/avatar-events/definition.js';
import { createEventStore } from '../../src/avatar-events/store.js';
import { parseConfig } from '../../src/config.js';
import { describeError } from '../../src/core/messages.js';
import { parsePose } from '../../src/core/pose.js';
import { silentLogger } from '../../src/log.js';
import { type RunningPlayground, startPlayground } from '../../src/playground/index.js';
import { openRedis, type RedisHandle } from '../../src/queue/index.js';
import { facePath, MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';
import { deleteKeys } from '../helpers/redis.js';
import { Client } from './helpers.js';

/**
 * The playground's HTTP API against a real playground: real Redis, the real portrait queue and an in-process worker
 * running the compositor on a real photo. The browser test (browser.test.ts) drives the page itself.
 */
const config = parseConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  REDIS_URL,
  PORTRAIT_QUEUE_PREFIX: uniquePrefix('playground'),
  PORTRAIT_MODELS_DIR: MODELS_DIR,
  PORTRAIT_OUTPUT_SIZE: '256',
  PORTRAIT_MAX_INPUT_BYTES: String(1024 * 1024),
  PORTRAIT_USER_IN_FLIGHT: '1',
});
const obama = new Uint8Array(readFileSync(facePath('obama.jpg')));
type Refusal = { refusal: { code: string; sentence: string } };

let playground: RunningPlayground;
let redis: RedisHandle;
let client: Client;

before(async () => {
  playground = await startPlayground(config, silentLogger, { host: '127.0.0.1', port: 0, worker: true });
  redis = await openRedis(config, silentLogger);
  client = new Client(playground.port);
});
after(async () => {
  await playground.close();
  await deleteKeys(redis.connection(), config.PORTRAIT_QUEUE_PREFIX);
  await redis.close();
});

async function upload(c: Client, bytes: Uint8Array, selfie?: number) {
  return c.post(`/api/selfies${selfie ? `?selfie=${selfie}` : ''}`, bytes);
}

describe('serving and request safety', () => {
  test('the page and its files come from the process itself, under a strict content security policy', async () => {
    const page = await client.get('/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.text(), /<script src="\/app\.js" defer><\/script>/);
    assert.doesNotMatch(page.text(), /https?:\/\//, 'no CDN or other origin');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal((await client.get('/app.js')).headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await client.get('/app.css')).status, 200);
    assert.equal((await client.get('/nothing-here')).status, 404);
  });

  test('a request whose Host header is not the served address is refused (DNS rebinding)', async () => {
    const port = playground.port;
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      `127.0.0.1:${port + 1}`,
      `localhost.evil.example:${port}`,
    ]) {
      const r = await client.get('/', { host });
      assert.equal(r.status, 403, `Host '${host}'`);
      assert.match(r.text(), /answers only requests addressed to 127\.0\.0\.1:\d+/);
    }
    const api = await client.get('/api/catalogue', { host: `attacker.test:${playground.port}` });
    assert.equal(api.status, 403);
    for (const host of [`localhost:${playground.port}`, `[::1]:${playground.port}`, `LOCALHOST:${playground.port}`]) {
      assert.equal((await client.get('/', { host })).status, 200, `Host '${host}'`);
    }
  });

  test('changes need the page header and, when a browser names one, this origin', async () => {
    const noHeader = await client.send('POST', '/api/selfies', { body: obama, headers: { 'x-playground': '' } });
    assert.equal(noHeader.status, 403);
    const foreign = await client.post('/api/selfies', obama, { headers: { origin: 'http://evil.example' } });
    assert.equal(foreign.status, 403);
    const own = await client.post('/api/selfies', obama, {
      headers: { origin: `http://127.0.0.1:${playground.port}` },
    });
    assert.equal(own.status, 200, own.text());
  });
});

describe('input checks, in the bots sentences', () => {
  test('uploads are checked by their bytes, like chat attachments', async () => {
    const cases: Array<[Uint8Array, number | undefined, string, string]> = [
      [new TextEncoder().encode('%PDF-1.4 not a photo'), undefined, 'input.not_image', 'a PDF'],
      [new Uint8Array(0), 2, 'input.empty', ''],
      [
        new Uint8Array([0, 0, 0, 24, ...new TextEncoder().encode('ftypheic'), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        undefined,
        'input.heic_unsupported',
        '',
      ],
      [new Uint8Array([0x42, 0x4d, 1, 2, 3, 4]), 3, 'input.unsupported_format', 'a BMP image'],
    ];
    for (const [bytes, selfie, code, got] of cases) {
      const r = await upload(client, bytes, selfie);
      assert.equal(r.status, 422, code);
      const details = { ...(selfie ? { selfie } : {}), ...(got ? { got } : {}) };
      assert.deepEqual(r.json<Refusal>().refusal, { code, sentence: describeError({ code: code as never, details }) });
    }
    const big = new Uint8Array(1536 * 1024);
    big.set([0xff, 0xd8, 0xff]);
    const declared = await upload(client, big, 2);
    assert.equal(declared.status, 413);
    assert.equal(
      declared.json<Refusal>().refusal.sentence,
      'Selfie 2 is too large (got 1.5 MB). Send a photo under 1 MB.',
    );
    // A body without a length is cut off at the limit: its size is not known, so the sentence does not guess it.
    const streamed = await client.post('/api/selfies', big, { chunked: true });
    assert.equal(streamed.status, 413);
    assert.equal(streamed.json<Refusal>().refusal.sentence, 'Your selfie is too large. Send a photo under 1 MB.');
  });

  test('options are refused at once with the sentences the bots use', async () => {
    const { id } = (await upload(client, obama)).json<{ id: string }>();
    const lft = parsePose('lft');
    assert.ok(!lft.ok);
    const cases: Array<[Record<string, unknown>, string, string | RegExp]> = [
      [{ pose: 'lft' }, 'request.bad_pose', describeError(lft.error)],
      [{ pose: 'profile left' }, 'request.pose_out_of_range', /compositor engine can draw well \(at most 30 degrees\)/],
      [{ lighting: 'goldn hour' }, 'request.bad_lighting', /Did you mean 'golden hour'\?/],
      [
        { style: 'oil paintng' },
        'request.bad_style',
        /^I don't know the style 'oil paintng'\. Did you mean 'oil paint'\?/,
      ],
      [{ variations: 9 }, 'request.bad_option', 'variations is not valid: 1 to 4.'],
      [{ seed: -1 }, 'request.bad_option', 'seed is not valid: a whole number from 0 to 4294967295.'],
      [{ selfies: [] }, 'request.no_selfie', describeError({ code: 'request.no_selfie', details: {} })],
      [{ selfies: [id, id, id, id, id] }, 'request.too_many_selfies', 'Send at most 4 selfies at once.'],
      [{ selfies: ['s-from-another-run'] }, 'job.expired', /expired/],
      [{ event: 'evnothere' }, 'event.not_found', /no open avatar event/],
    ];
    for (const [fields, code, sentence] of cases) {
      const r = await client.post('/api/portraits', { selfies: [id], ...fields });
      assert.equal(r.status, 422, JSON.stringify(fields));
      const { refusal } = r.json<Refusal>();
      assert.equal(refusal.code, code, JSON.stringify(fields));
      if (typeof sentence === 'string') assert.equal(refusal.sentence, sentence);
      else assert.match(refusal.sentence, sentence);
    }
    const check = (
      await client.get('/api/check?pose=lft&lighting=golden%20hour&style=oil%20paint%20on%20studio%20blue')
    ).json<Record<string, unknown>>();
    assert.deepEqual(check['style'], { label: 'oil paint, studio blue' });
    assert.deepEqual(check['pose'], { code: 'request.bad_pose', sentence: describeError(lft.error) });
    assert.deepEqual(check['lighting'], { label: 'golden hour' });
  });

  test('a pasted theme is read with the chat grammar', async () => {
    const r = await client.get(`/api/theme?text=${encodeURIComponent('3/4 right, golden hour, oil painting, seed 5')}`);
    assert.deepEqual(r.json(), {
      pose: 'three-quarter right',
      lighting: 'golden hour',
      style: 'oil painting',
      seed: 5,
    });
    const bad = await client.get(`/api/theme?text=${encodeURIComponent('lightning: golden hour')}`);
    assert.equal(bad.status, 422);
    assert.equal(bad.json<Refusal>().refusal.code, 'request.bad_option');
  });
});

describe('portraits through the queue', () => {
  test('a selfie becomes a portrait with caption and debug sheet, readable only by its own session', async () => {
    const me = new Client(playground.port);
    const { id } = (await upload(me, obama)).json<{ id: string }>();
    const submitted = await me.post('/api/portraits', {
      selfies: [id],
      pose: '3/4 left',
      lighting: 'rembrandt',
      style: 'b&w',
      seed: 42,
      requestId: 'test-request-0001',
    });
    assert.equal(submitted.status, 200, submitted.text());
    const job = submitted.json<{ id: string; status: string; recipe: { pose: string } }>();
    assert.equal(job.recipe.pose, 'three-quarter left', 'the canonical label');
    // The same button press sent twice is one job.
    const again = await me.post('/api/portraits', { selfies: [id], pose: '3/4 left', requestId: 'test-request-0001' });
    assert.equal(again.json<{ id: string }>().id, job.id);

    const done = await me.watch(job.id);
    assert.equal(done.status, 'done', JSON.stringify(done['refusal']));
    const result = done['result'] as { images: string[]; captions: string[]; debugSheet: string; seed: number };
    assert.equal(result.seed, 42);
    assert.match(
      result.captions[0]!,
      /^Pose: three-quarter left · Lighting: rembrandt · Style: black and white · Engine: compositor · Seed: 42 · /,
    );
    const stages = (done['stages'] as Array<{ label: string }>).map((s) => s.label);
    assert.ok(stages.includes('Finding your face'), stages.join(', '));

    const image = await me.get(result.images[0]!);
    assert.equal(image.status, 200);
    assert.equal(image.headers['content-type'], 'image/webp');
    const meta = await sharp(image.body).metadata();
    assert.equal(meta.width, 256);
    const sheet = await me.get(result.debugSheet);
    assert.equal(sheet.headers['content-type'], 'image/png');
    assert.ok((await sharp(sheet.body).metadata()).width! > 256);

    // Another browser knows neither the image nor the job.
    const stranger = new Client(playground.port);
    assert.equal((await stranger.get(result.images[0]!)).status, 404);
    assert.equal((await stranger.get(`/api/jobs/${encodeURIComponent(job.id)}/events`)).status, 404);
    // A reload of the page gets this session's portraits back.
    const session = (await me.get('/api/session')).json<{ jobs: Array<{ id: string }> }>();
    assert.deepEqual(
      session.jobs.map((j) => j.id),
      [job.id],
    );
  });

  test('a second portrait while one is in flight is refused with the page own cancel hint', async () => {
    const me = new Client(playground.port);
    const { id } = (await upload(me, obama)).json<{ id: string }>();
    const first = (await me.post('/api/portraits', { selfies: [id] })).json<{ id: string }>();
    const second = await me.post('/api/portraits', { selfies: [id] });
    assert.equal(second.status, 429);
    assert.equal(
      second.json<Refusal>().refusal.sentence,
      'You already have 1 portrait in progress. Wait for one to finish, or cancel one with the Cancel button under it.',
    );
    assert.equal((await me.watch(first.id)).status, 'done');
  });

  test('a photo without a face fails with the bots sentence, from the worker', async () => {
    const me = new Client(playground.port);
    const flat = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#88aacc' } })
      .jpeg()
      .toBuffer();
    const { id } = (await upload(me, new Uint8Array(flat))).json<{ id: string }>();
    const job = (await me.post('/api/portraits', { selfies: [id] })).json<{ id: string }>();
    const failed = await me.watch(job.id);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed['refusal'], {
      code: 'face.none',
      sentence: describeError({ code: 'face.none', details: {} }),
    });
  });

  test("an avatar event's theme is previewed before it opens: its pose, lighting and style win", async () => {
    const now = Date.now();
    const fields = validateEventDraft(
      {
        name: 'Winter portraits',
        pose: 'three-quarter right',
        lighting: 'blue hour',
        // Not a studio backdrop: obama.jpg's office is too busy to cut him out, and the backdrop would be refused.
        style: 'oil paint in sepia',
        frameColour: '#3366ff',
        destination: { channelId: 'c1' },
      },
      { now, defaultEngine: 'compositor' },
    );
    assert.ok(fields.ok);
    const store = createEventStore(redis.connection(), config.PORTRAIT_QUEUE_PREFIX);
    const event = await store.create({
      platform: 'discord',
      scopeId: 'g1',
      createdBy: 'org',
      fields: fields.value,
      now,
    });

    const me = new Client(playground.port);
    const events = (await me.get('/api/events')).json<Array<Record<string, unknown>>>();
    const listed = events.find((e) => e['id'] === event.id);
    assert.ok(listed, 'the event is listed');
    assert.equal(listed['status'], 'draft');
    assert.match(String((listed['theme'] as { description: string }).description), /pose three-quarter right/);

    const { id } = (await upload(me, obama)).json<{ id: string }>();
    const job = (await me.post('/api/portraits', { selfies: [id], pose: 'front', event: event.id })).json<{
      id: string;
      recipe: Record<string, unknown>;
    }>();
    assert.equal(job.recipe['pose'], 'three-quarter right');
    assert.equal(job.recipe['lighting'], 'blue hour');
    assert.equal(job.recipe['style'], 'oil paint, sepia');
    assert.deepEqual(job.recipe['event'], { id: event.id, name: 'Winter portraits', frameColour: '#3366ff' });
    const done = await me.watch(job.id);
    assert.equal(done.status, 'done', JSON.stringify(done['refusal']));
    assert.match(
      (done['result'] as { captions: string[] }).captions[0]!,
      /Pose: three-quarter right · Lighting: blue hour · Style: oil paint, sepia/,
    );
  });

  test('Delete my photos removes the session selfies and portraits from Redis at once', async () => {
    const me = new Client(playground.port);
    const { id } = (await upload(me, obama)).json<{ id: string }>();
    const job = (await me.post('/api/portraits', { selfies: [id], lighting: 'neon' })).json<{ id: string }>();
    const done = await me.watch(job.id);
    const url = (done['result'] as { images: string[] }).images[0]!;
    assert.equal((await me.get(url)).status, 200);
    const forgot = (await me.post('/api/forget', {})).json<{ removed: number }>();
    assert.ok(forgot.removed >= 3, `removed ${forgot.removed}`);
    assert.equal((await me.get(url)).status, 404);
    const retry = await me.post('/api/portraits', { selfies: [id] });
    assert.equal(retry.json<Refusal>().refusal.code, 'job.expired');
  });
});
