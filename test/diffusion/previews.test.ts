import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { silentLogger } from '../../src/log.js';
import type { Delivery } from '../../src/queue/jobs.js';
import { PREVIEW_SIZE, PREVIEW_TTL_SECONDS } from '../../src/queue/previews.js';
import type { DeliveryConsumer } from '../../src/queue/service.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import { facePath, MODELS_DIR } from '../helpers/env.js';
import { alice, DeliveryInbox, type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';
import { makePack } from './fixtures/make-pack.js';

// A diffusion job on a fixture pack through the real queue, worker thread and pipeline: its progress deliveries
// carry preview keys whose blobs are small WebP images of the requester's, short-lived, and gone after forget.
let packDir: string;
let env: QueueTestEnv;
let service: PortraitQueueService;
let worker: PortraitWorker;
let consumer: DeliveryConsumer;
const inbox = new DeliveryInbox();

before(async () => {
  packDir = await makePack({ flavor: 'optimum', channels: 9 });
  env = await queueTestEnv('previews', {
    PORTRAIT_MODELS_DIR: MODELS_DIR,
    PORTRAIT_ENGINE: 'diffusion',
    PORTRAIT_DIFFUSION_PACK: packDir,
    PORTRAIT_ORT_THREADS: '1',
    // Every step: fixture steps take milliseconds, a real pack's the default 2 s.
    PORTRAIT_PREVIEW_INTERVAL_MS: '0',
    PORTRAIT_OUTPUT_SIZE: '128',
  });
  service = createPortraitService(env.config, env.redis, silentLogger);
  worker = await startWorker(env.config, env.redis, silentLogger, { progressIntervalMs: 0 });
  consumer = await service.consumeDeliveries('discord', inbox.handler, { retryDelayMs: 5 });
});
after(async () => {
  await consumer?.close();
  await worker?.close();
  await service?.close();
  await env?.cleanup();
  rmSync(packDir, { recursive: true, force: true });
});

test('progress deliveries of a diffusion job carry preview keys whose blobs decode as images', async () => {
  const selfie = await service.putBlob(new Uint8Array(readFileSync(facePath('astronaut.png'))), alice);
  const { jobId } = await service.submit({
    idempotencyKey: 'previews-1',
    request: { requester: alice, selfieKeys: [selfie], seed: 11, route: { channel: 'c1' } },
  });
  const answer = await inbox.answerFor(jobId);
  assert.equal(answer.kind, 'result', JSON.stringify(answer));
  assert.equal(answer.kind === 'result' && answer.result.engine, 'diffusion');

  const previews = inbox.received.filter(
    (d): d is Extract<Delivery, { kind: 'progress' }> => d.jobId === jobId && d.kind === 'progress' && !!d.previewKey,
  );
  assert.ok(previews.length >= 1, 'at least one progress delivery with a preview');
  assert.ok(previews.every((d) => d.stage === 'generate' && d.step !== undefined));
  const key = previews.at(-1)!.previewKey!;
  const bytes = await service.getBlob(key);
  assert.ok(bytes, 'the preview blob exists');
  const meta = await sharp(bytes).metadata();
  assert.equal(meta.format, 'webp');
  // The fixture runs 64 px per view: an 8x8 latent target view, scaled up to the preview size.
  assert.deepEqual([meta.width, meta.height], [PREVIEW_SIZE, PREVIEW_SIZE]);
  const ttl = await env.redis.connection().ttl(key);
  assert.ok(ttl > 0 && ttl <= PREVIEW_TTL_SECONDS, `preview TTL ${ttl}`);

  await service.forget(alice);
  assert.equal(await service.getBlob(key), null, 'forget removes the preview');
});
