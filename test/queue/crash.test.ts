import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { it } from 'node:test';
import { Queue } from 'bullmq';
import { silentLogger } from '../../src/log.js';
import { deliveryQueueName } from '../../src/queue/deliveries.js';
import { PORTRAIT_QUEUE } from '../../src/queue/keys.js';
import { createPortraitService } from '../../src/queue/submit.js';
import { startWorker } from '../../src/queue/worker.js';
import { alice, DeliveryInbox, queueTestEnv, SCRIPTED_PIPELINE } from './helpers.js';

const WORKER_SCRIPT = new URL('./fixtures/worker-process.ts', import.meta.url).pathname;

/** Starts a worker process and resolves once it prints "ready". */
async function startWorkerProcess(prefix: string, redisUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT, prefix, redisUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`worker process exited early (code ${code})`);
  });
  await Promise.race([once(lines, 'line'), exited]);
  exited.catch(() => {});
  return child;
}

it('a worker killed with SIGKILL mid-job loses nothing: the job re-runs elsewhere and is delivered once', async () => {
  const env = await queueTestEnv('crash');
  const service = createPortraitService(env.config, env.redis, silentLogger);
  const inbox = new DeliveryInbox();
  const consumer = await service.consumeDeliveries('discord', inbox.handler);
  const tmp = mkdtempSync(join(tmpdir(), 'portrait-crash-test-'));
  const gate = join(tmp, 'gate');
  const children: ChildProcess[] = [];
  try {
    const first = await startWorkerProcess(env.config.PORTRAIT_QUEUE_PREFIX, env.redis.url);
    children.push(first);
    const selfie = await service.putBlob(new Uint8Array([7, 7, 7]), alice);
    const { jobId } = await service.submit({
      idempotencyKey: 'crash-1',
      request: { requester: alice, selfieKeys: [selfie], seed: 3, style: `wait-for:${gate}` },
    });
    // The first worker is inside the pipeline (it reported a stage) when it dies.
    await inbox.next((d) => d.jobId === jobId && d.kind === 'progress' && d.stage === 'detect');
    first.kill('SIGKILL');
    await once(first, 'exit');
    writeFileSync(gate, '');

    const second = await startWorkerProcess(env.config.PORTRAIT_QUEUE_PREFIX, env.redis.url);
    children.push(second);
    const answer = await inbox.answerFor(jobId);
    assert.equal(answer.kind, 'result');
    assert.deepEqual(
      answer.kind === 'result' && (await service.getBlob(answer.result.outputKeys[0] ?? '')),
      new Uint8Array([7, 7, 7]),
    );

    // Let the second worker finish its bookkeeping and leave, then look at what Redis holds.
    second.kill('SIGTERM');
    await once(second, 'exit');
    const connection = env.redis.connection();
    const prefix = env.config.PORTRAIT_QUEUE_PREFIX;
    const portraits = new Queue(PORTRAIT_QUEUE, { connection, prefix });
    const job = await portraits.getJob(jobId);
    assert.equal(await job?.getState(), 'completed');
    assert.equal(job?.stalledCounter, 1, 'the job was recovered from a stall, not retried as a failure');
    const deliveries = new Queue(deliveryQueueName('discord'), { connection, prefix });
    assert.deepEqual(await deliveries.getJobCounts('wait', 'active', 'delayed', 'failed'), {
      wait: 0,
      active: 0,
      delayed: 0,
      failed: 0,
    });
    assert.equal(inbox.answers(jobId).length, 1, 'delivered exactly once');
    await Promise.all([portraits.close(), deliveries.close()]);
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await consumer.close();
    await service.close();
    await env.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
});

it('a forced close gives the running job back without answering it; another worker completes it', async () => {
  const env = await queueTestEnv('force-close');
  const service = createPortraitService(env.config, env.redis, silentLogger);
  const inbox = new DeliveryInbox();
  const consumer = await service.consumeDeliveries('discord', inbox.handler);
  const tmp = mkdtempSync(join(tmpdir(), 'portrait-force-test-'));
  const gate = join(tmp, 'gate');
  const options = {
    pipelineModule: SCRIPTED_PIPELINE,
    lockDurationMs: 1000,
    stalledIntervalMs: 400,
    progressIntervalMs: 0,
  };
  try {
    const first = await startWorker(env.config, env.redis, silentLogger, options);
    const selfie = await service.putBlob(new Uint8Array([5]), alice);
    const { jobId } = await service.submit({
      idempotencyKey: 'force-1',
      request: { requester: alice, selfieKeys: [selfie], seed: 3, style: `wait-for:${gate}` },
    });
    await inbox.next((d) => d.jobId === jobId && d.kind === 'progress' && d.stage === 'detect');
    await first.close({ force: true });
    writeFileSync(gate, '');
    const second = await startWorker(env.config, env.redis, silentLogger, options);
    const answer = await inbox.answerFor(jobId);
    assert.equal(answer.kind, 'result');
    await second.close();
    assert.equal(inbox.answers(jobId).length, 1);
  } finally {
    await consumer.close();
    await service.close();
    await env.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
});
