/**
 * Queue overhead: how long the portrait queue adds to a job, with a no-op pipeline, against raw BullMQ in the same run
 * on the same Redis. Jobs go one at a time (latency, not throughput).
 *   submit -> worker start:   service.submit() called  ->  the worker's processor starts   (raw: Queue.add -> processor)
 *   submit -> delivered:      service.submit() called  ->  the result delivery's handler runs (raw: Queue.add -> 'completed')
 * Target: within 2 ms of raw BullMQ at p50.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { type Config, getConfig, parseConfig } from '../src/config.js';
import type { Requester } from '../src/core/request.js';
import { silentLogger } from '../src/log.js';
import { openRedis, type RedisHandle } from '../src/queue/connection.js';
import { createPortraitService } from '../src/queue/submit.js';
import { startWorker } from '../src/queue/worker.js';

const SAMPLES = 300;
const WARMUP = 30;
const NOOP_PIPELINE = new URL('../test/queue/fixtures/noop-pipeline.ts', import.meta.url).href;

export async function run(): Promise<void> {
  getConfig(); // loads .env, so the run below sees the same REDIS_URL as the product would
  const config = parseConfig({
    ...process.env,
    PORTRAIT_QUEUE_PREFIX: `bench-${process.pid}-${Date.now().toString(36)}`,
    PORTRAIT_USER_IN_FLIGHT: '100',
    // One requester submits every job of the run: no per-user rate limit.
    PORTRAIT_USER_RATE: '0',
    LOG_LEVEL: 'silent',
  });
  const redis = await openRedis(config, silentLogger);
  try {
    const paths = [await rawBullmq(config, redis), await portraitQueue(config, redis)];
    const [raw, ours] = (await measure(paths)) as [Samples, Samples];
    for (const path of paths) await path.close();
    console.log(`cores: ${availableParallelism()}, Redis: ${redis.embedded ? 'embedded redis-server' : 'REDIS_URL'}`);
    console.log(`${SAMPLES} jobs per path one at a time, paths taking turns, no-op work, ${WARMUP} warm-up jobs; ms`);
    const rows = [
      ['submit -> worker start', raw.start, ours.start],
      ['submit -> delivered', raw.done, ours.done],
    ] as const;
    console.log(
      `${'path'.padEnd(24)} ${'raw p50'.padStart(8)} ${'raw p95'.padStart(8)} ${'ours p50'.padStart(9)} ${'ours p95'.padStart(9)} ${'p50 diff'.padStart(9)}`,
    );
    for (const [name, r, o] of rows) {
      const [rp50, rp95, op50, op95] = [pct(r, 50), pct(r, 95), pct(o, 50), pct(o, 95)];
      console.log(
        `${name.padEnd(24)} ${f(rp50).padStart(8)} ${f(rp95).padStart(8)} ${f(op50).padStart(9)} ${f(op95).padStart(9)} ${`+${f(op50 - rp50)}`.padStart(9)}`,
      );
    }
    console.log(`submit() call alone: p50 ${f(pct(ours.submit, 50))}, p95 ${f(pct(ours.submit, 95))}`);
  } finally {
    await cleanup(redis, config.PORTRAIT_QUEUE_PREFIX);
    await redis.close();
  }
}

interface Samples {
  start: number[];
  done: number[];
  submit: number[];
}

/** One way of running a job end to end; `once(i)` resolves with its three timings. */
interface Path {
  once(i: number): Promise<{ start: number; done: number; submit: number }>;
  close(): Promise<void>;
}

/** Both paths are set up side by side and take turns job by job, so machine noise hits both alike. */
async function measure(paths: Path[]): Promise<Samples[]> {
  const out = paths.map((): Samples => ({ start: [], done: [], submit: [] }));
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    for (const [p, path] of paths.entries()) {
      const t = await path.once(i);
      const s = out[p];
      if (i >= WARMUP && s) {
        s.start.push(t.start);
        s.done.push(t.done);
        s.submit.push(t.submit);
      }
    }
  }
  return out;
}

async function rawBullmq(config: Config, redis: RedisHandle): Promise<Path> {
  const prefix = config.PORTRAIT_QUEUE_PREFIX;
  const queue = new Queue('raw', { connection: redis.connection(), prefix });
  let startedAt = 0;
  let finish: (() => void) | undefined;
  const worker = new Worker(
    'raw',
    async () => {
      startedAt = performance.now();
      return { ok: true };
    },
    { connection: redis.connection('worker'), prefix },
  );
  worker.on('completed', () => finish?.());
  await worker.waitUntilReady();
  return {
    async once(i) {
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const t0 = performance.now();
      await queue.add('job', { i }, { jobId: `raw-${i}`, removeOnComplete: true });
      const t1 = performance.now();
      await done;
      return { start: startedAt - t0, done: performance.now() - t0, submit: t1 - t0 };
    },
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

async function portraitQueue(config: Config, redis: RedisHandle): Promise<Path> {
  const requester: Requester = { platform: 'cli', userId: 'bench', scopeId: 'local' };
  let startedAt = 0;
  const worker = await startWorker(config, redis, silentLogger, {
    pipelineModule: NOOP_PIPELINE,
    concurrency: 1,
    onJobStart: () => {
      startedAt = performance.now();
    },
  });
  const service = createPortraitService(config, redis, silentLogger);
  let delivered: (() => void) | undefined;
  const consumer = await service.consumeDeliveries('cli', async (d) => {
    if (d.kind === 'result') delivered?.();
  });
  const selfie = await service.putBlob(new Uint8Array(2048), requester);
  return {
    async once(i) {
      const done = new Promise<void>((resolve) => {
        delivered = resolve;
      });
      const t0 = performance.now();
      await service.submit({ idempotencyKey: `bench-${i}`, request: { requester, selfieKeys: [selfie], seed: i } });
      const t1 = performance.now();
      await done;
      return { start: startedAt - t0, done: performance.now() - t0, submit: t1 - t0 };
    },
    async close() {
      await consumer.close();
      await worker.close();
      await service.close();
    },
  };
}

async function cleanup(redis: RedisHandle, prefix: string): Promise<void> {
  const conn = redis.connection();
  let cursor = '0';
  do {
    const [next, keys] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await conn.del(...keys);
  } while (cursor !== '0');
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function f(ms: number): string {
  return ms.toFixed(2);
}
