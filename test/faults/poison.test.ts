import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Queue } from 'bullmq';
import { silentLogger } from '../../src/log.js';
import { PORTRAIT_QUEUE } from '../../src/queue/keys.js';
import { createPortraitService } from '../../src/queue/submit.js';
import { alice, bob, DeliveryInbox, queueTestEnv } from '../queue/helpers.js';
import { appProcess, bounded, type ProcessUnderTest } from './processes.js';

/**
 * A job that kills its worker PROCESS on every try (a native crash on one photo). A supervisor (systemd, Docker,
 * here the test) restarts the worker each time. The job must end as failed with a reference id after a bounded
 * number of crashes, and the jobs queued behind it must still complete.
 */
it('a job that kills the worker process every time fails with a reference id after two crashes; the queue flows on', {
  timeout: 90_000,
}, async () => {
  const env = await queueTestEnv('poison', { PORTRAIT_USER_IN_FLIGHT: '10' });
  const service = createPortraitService(env.config, env.redis, silentLogger);
  const inbox = new DeliveryInbox();
  const consumer = await service.consumeDeliveries('discord', inbox.handler);
  const childEnv = { REDIS_URL: env.redis.url, PORTRAIT_QUEUE_PREFIX: env.config.PORTRAIT_QUEUE_PREFIX };
  const workers: ProcessUnderTest[] = [];
  let crashes = 0;
  let supervising = true;
  // Restarts the worker whenever it dies, as a process supervisor would.
  const supervise = async (): Promise<void> => {
    while (supervising) {
      const worker = appProcess('worker', childEnv);
      workers.push(worker);
      const { signal } = await worker.exited;
      if (signal === 'SIGKILL') crashes++;
      else if (supervising) throw new Error(`worker ended without a crash:\n${worker.tail()}`);
    }
  };
  try {
    const submit = async (key: string, style: string, who = alice) => {
      const selfie = await service.putBlob(new Uint8Array([1, 2, 3]), who);
      const receipt = await service.submit({
        idempotencyKey: key,
        request: { requester: who, selfieKeys: [selfie], seed: 1, style, route: { channel: 'c' } },
      });
      return receipt.jobId;
    };
    const poison = await submit('poison', 'kill-process');
    const others = [await submit('after-1', 'noop'), await submit('after-2', 'noop', bob)];
    const supervisor = supervise();
    supervisor.catch(() => {});

    const answer = await bounded(inbox.answerFor(poison), `the answer to ${poison}`);
    assert.equal(answer.kind, 'failure');
    const error = answer.kind === 'failure' ? answer.error : undefined;
    assert.equal(error?.code, 'internal.error');
    assert.match(error?.refId ?? '', /^[0-9a-f]{8}$/, 'the user gets a reference id');
    for (const jobId of others)
      assert.equal(
        (await bounded(inbox.answerFor(jobId), `the answer to ${jobId}`)).kind,
        'result',
        'the queue kept flowing',
      );

    supervising = false;
    const last = workers.at(-1);
    last?.kill('SIGTERM');
    if (last) await bounded(last.exited, 'exit');
    await supervisor;

    // Two crashes: the first try and one re-run after a stall (STALL_LIMIT); the third worker refuses to run it.
    assert.equal(crashes, 2);
    const logged = workers.flatMap((w) => w.logs).find((l) => l.refId === error?.refId);
    assert.equal(logged?.level, 50, 'the reference id is in an error line of the worker that refused the job');
    for (const jobId of [poison, ...others]) assert.equal(inbox.answers(jobId).length, 1, `${jobId} answered once`);

    const queue = new Queue(PORTRAIT_QUEUE, {
      connection: env.redis.connection(),
      prefix: env.config.PORTRAIT_QUEUE_PREFIX,
    });
    const job = await queue.getJob(poison);
    assert.equal(await job?.getState(), 'failed');
    assert.equal(job?.attemptsMade, 1, 'failed at once on the stall limit, not after PORTRAIT_JOB_ATTEMPTS more tries');
    await queue.close();
  } finally {
    supervising = false;
    for (const w of workers) w.kill('SIGKILL');
    await consumer.close();
    await service.close();
    await env.cleanup();
  }
});
