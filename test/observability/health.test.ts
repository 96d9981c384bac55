/**
 * The health and metrics endpoint on real Redis with a real worker (the cheap logging pipeline in threads): readiness
 * follows Redis and the models, /metrics moves with jobs and parses as Prometheus text, queue depth is read on
 * scrape, and `portrait worker` serves it on HEALTH_PORT.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import type { Requester } from '../../src/core/request.js';
import { silentLogger } from '../../src/log.js';
import { type Observability, startObservability } from '../../src/observability/index.js';
import { openRedis } from '../../src/queue/connection.js';
import type { QueueMetrics } from '../../src/queue/metrics.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import { PORTRAIT_BIN, ProcessUnderTest } from '../faults/processes.js';
import { MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';
import { deleteKeys } from '../helpers/redis.js';
import { DeliveryInbox, type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';
import { parseExposition } from './exposition.js';

const LOGGING_PIPELINE = new URL('./fixtures/logging-pipeline.ts', import.meta.url).href;
const alice: Requester = { platform: 'discord', userId: 'alice', scopeId: 'guild-obs' };

async function get(port: number, path: string, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function scrape(port: number) {
  const res = await get(port, '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.type, /^text\/plain; version=0\.0\.4/);
  return parseExposition(res.text);
}

/** Calls through to `inner` and lets the test await the n-th final answer of the worker. */
function countingMetrics(inner: QueueMetrics) {
  let answered = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const answer = () => {
    answered++;
    for (const w of waiters.filter((w) => w.n <= answered)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const metrics: QueueMetrics = {
    ...inner,
    jobStarted: (ms) => inner.jobStarted(ms),
    jobCompleted: (engine, stages, ms) => {
      inner.jobCompleted(engine, stages, ms);
      answer();
    },
    jobFailed: (code, final) => {
      inner.jobFailed(code, final);
      if (final) answer();
    },
  };
  const answers = (n: number) =>
    answered >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
  return { metrics, answers };
}

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('health and metrics endpoint', () => {
  let env: QueueTestEnv;
  let obs: Observability;
  let service: PortraitQueueService;
  let worker: PortraitWorker | undefined;

  before(async () => {
    env = await queueTestEnv('obs-health');
    obs = await startObservability({ ...env.config, HEALTH_PORT: 0 }, env.redis, silentLogger, { worker: true });
    service = createPortraitService(env.config, env.redis, silentLogger, { metrics: obs.metrics });
  });

  after(async () => {
    await worker?.close({ force: true });
    await service?.close();
    await obs?.close();
    await env?.cleanup();
  });

  it('is alive at once, and not ready until the worker has loaded its models', async () => {
    const live = await get(obs.server.port, '/healthz');
    assert.equal(live.status, 200);
    assert.deepEqual(JSON.parse(live.text), { status: 'ok' });
    const notReady = await get(obs.server.port, '/readyz');
    assert.equal(notReady.status, 503);
    const body = JSON.parse(notReady.text);
    assert.equal(body.status, 'not ready');
    assert.equal(body.checks.redis, 'ok');
    assert.match(body.reason, /^models: the worker is still loading its models$/);
  });

  it('counts jobs through submit, worker and deliveries; queue depth and pending deliveries are read on scrape', async () => {
    const port = obs.server.port;
    const before = await scrape(port);
    assert.equal(before.value('portrait_queue_probe_up'), 1);
    assert.equal(before.value('portrait_queue_jobs', { state: 'waiting' }), 0);
    assert.ok((before.value('process_resident_memory_bytes') ?? 0) > 0, 'process metrics are collected');

    // Two jobs queued while no worker runs: the depth shows them.
    const selfie = await service.putBlob(new Uint8Array(32).fill(7), alice);
    const ok = await service.submit({
      idempotencyKey: 'obs-ok',
      request: { requester: alice, selfieKeys: [selfie], style: 'ok', seed: 1, route: {} },
    });
    const refused = await service.submit({
      idempotencyKey: 'obs-refused',
      request: { requester: alice, selfieKeys: [selfie], style: 'user-error', seed: 2, route: {} },
    });
    await service.submit({
      idempotencyKey: 'obs-ok',
      request: { requester: alice, selfieKeys: [selfie], style: 'ok', seed: 1, route: {} },
    });
    await assert.rejects(
      service.submit({ idempotencyKey: 'obs-over-cap', request: { requester: alice, selfieKeys: [selfie], seed: 3 } }),
      { code: 'quota.user_in_flight' },
    );
    const queued = await scrape(port);
    assert.equal(queued.value('portrait_queue_jobs', { state: 'waiting' }), 2);
    assert.equal(queued.value('portrait_queue_jobs', { state: 'active' }), 0);
    assert.equal(queued.value('portrait_requests_accepted_total', { platform: 'discord' }), 2, 'the duplicate not');
    assert.equal(queued.value('portrait_requests_refused_total', { code: 'quota.user_in_flight' }), 1);

    // The worker answers both; nobody consumes the answers yet, so they are pending.
    const counting = countingMetrics(obs.metrics);
    worker = await startWorker(env.config, env.redis, silentLogger, {
      pipelineModule: LOGGING_PIPELINE,
      concurrency: 1,
      metrics: counting.metrics,
    });
    obs.modelsLoaded();
    await counting.answers(2);
    const done = await scrape(port);
    assert.equal(done.value('portrait_queue_jobs', { state: 'waiting' }), 0);
    assert.equal(done.value('portrait_jobs_completed_total', { engine: 'compositor' }), 1);
    assert.equal(done.value('portrait_jobs_failed_total', { code: 'face.none' }), 1);
    assert.equal(done.value('portrait_queue_wait_seconds_count'), 2, 'both jobs waited');
    assert.ok((done.value('portrait_queue_wait_seconds_sum') ?? 0) > 0);
    // The logging pipeline reports ingest 4 ms, detect 3 ms, encode 1 ms.
    assert.equal(done.value('portrait_stage_duration_seconds_count', { stage: 'ingest' }), 1);
    assert.equal(done.value('portrait_stage_duration_seconds_sum', { stage: 'ingest' }), 0.004);
    assert.equal(done.value('portrait_stage_duration_seconds_bucket', { stage: 'detect', le: '0.005' }), 1);
    assert.equal(done.value('portrait_stage_duration_seconds_bucket', { stage: 'detect', le: '0.001' }), undefined);
    assert.equal(done.value('portrait_job_duration_seconds_count', { engine: 'compositor' }), 1);
    const pending = done.value('portrait_deliveries_pending', { platform: 'discord' }) ?? 0;
    assert.ok(pending >= 2, `both answers wait for the Discord adapter (pending ${pending})`);
    assert.equal(done.value('portrait_deliveries_pending', { platform: 'slack' }), 0);

    // An adapter consumes them.
    const inbox = new DeliveryInbox();
    const consumer = await service.consumeDeliveries('discord', inbox.handler);
    try {
      await inbox.answerFor(ok.jobId);
      await inbox.answerFor(refused.jobId);
      const delivered = await scrape(port);
      assert.equal(
        delivered.value('portrait_deliveries_total', { platform: 'discord', kind: 'result', outcome: 'ok' }),
        1,
      );
      assert.equal(
        delivered.value('portrait_deliveries_total', { platform: 'discord', kind: 'failure', outcome: 'ok' }),
        1,
      );
    } finally {
      await consumer.close();
    }

    const ready = await get(port, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { status: 'ready', checks: { redis: 'ok', models: 'ok' } });
  });

  it('answers only GET and HEAD on its three paths', async () => {
    assert.equal((await get(obs.server.port, '/nope')).status, 404);
    assert.equal((await get(obs.server.port, '/metrics', 'POST')).status, 405);
    const head = await get(obs.server.port, '/healthz', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  it('is not ready while Redis does not answer, and /metrics still answers', async () => {
    const config = parseConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      HEALTH_PORT: '0',
    });
    const redis = await openRedis(config, silentLogger, { probe: false });
    const down = await startObservability(config, redis, silentLogger, { worker: false });
    try {
      const res = await get(down.server.port, '/readyz');
      assert.equal(res.status, 503);
      const body = JSON.parse(res.text);
      assert.equal(body.checks.models, 'ok', 'no worker in this process: nothing to load');
      assert.match(body.checks.redis, /^no answer to PING/);
      assert.match(body.reason, /^redis: no answer to PING/);
      const metrics = await scrape(down.server.port);
      assert.equal(metrics.value('portrait_queue_probe_up'), 0);
      assert.equal(metrics.value('portrait_queue_jobs', { state: 'waiting' }), undefined, 'no stale depth');
    } finally {
      await down.close();
      await redis.close();
    }
  });

  it('portrait worker serves it on HEALTH_PORT: ready once its models are loaded', async () => {
    const prefix = uniquePrefix('obs-cli');
    const worker = new ProcessUnderTest([PORTRAIT_BIN, 'worker'], {
      REDIS_URL,
      PORTRAIT_QUEUE_PREFIX: prefix,
      PORTRAIT_MODELS_DIR: MODELS_DIR,
      PORTRAIT_ENGINE: 'crop',
      HEALTH_PORT: '0',
    });
    try {
      const listening = await worker.waitForLog('health and metrics endpoint listening');
      const port = Number(listening['port']);
      await worker.waitForLog('portrait worker ready');
      const ready = await get(port, '/readyz');
      assert.equal(ready.status, 200, ready.text);
      assert.deepEqual(JSON.parse(ready.text).checks, { redis: 'ok', models: 'ok', shutdown: 'ok' });
      const metrics = await scrape(port);
      assert.equal(metrics.value('portrait_queue_jobs', { state: 'waiting' }), 0);
      assert.equal(metrics.types.get('portrait_stage_duration_seconds'), 'histogram');
      worker.kill('SIGTERM');
      assert.equal((await worker.exited).code, 0);
    } finally {
      worker.kill('SIGKILL');
      const redis = await openRedis(parseConfig({ REDIS_URL }), silentLogger);
      await deleteKeys(redis.connection(), prefix);
      await redis.close();
    }
  });
});
