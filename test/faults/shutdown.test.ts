import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { describeError } from '../../src/core/messages.js';
import { silentLogger } from '../../src/log.js';
import { jobIdFor, PORTRAIT_QUEUE } from '../../src/queue/keys.js';
import { createPortraitService } from '../../src/queue/submit.js';
import { APP_ID, BOT_TOKEN, chatCommand, FakeDiscord, type RecordedCall } from '../bots/discord/fake-discord.js';
import { contentOf, isCallbackOf, PNG_BYTES } from '../bots/discord/harness.js';
import { facePath, MODELS_DIR } from '../helpers/env.js';
import { alice, DeliveryInbox, queueTestEnv } from '../queue/helpers.js';
import { appProcess, bounded, PORTRAIT_BIN, ProcessUnderTest } from './processes.js';

/**
 * SIGTERM on real processes: `portrait worker` with the real pipeline, the CLI's composition with a scripted pipeline
 * for a job that outlives the shutdown timeout, and `portrait start` with the Discord adapter on the loopback fake.
 */
describe('graceful shutdown (SIGTERM)', { timeout: 120_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'portrait-shutdown-test-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** `consume`: the test itself takes the Discord deliveries (not when a bot process under test does). */
  const setUp = async (label: string, consume = true) => {
    const env = await queueTestEnv(label);
    const service = createPortraitService(env.config, env.redis, silentLogger);
    const inbox = new DeliveryInbox();
    const consumer = consume ? await service.consumeDeliveries('discord', inbox.handler) : undefined;
    const childEnv = { REDIS_URL: env.redis.url, PORTRAIT_QUEUE_PREFIX: env.config.PORTRAIT_QUEUE_PREFIX };
    const queue = new Queue(PORTRAIT_QUEUE, {
      connection: env.redis.connection(),
      prefix: childEnv.PORTRAIT_QUEUE_PREFIX,
    });
    return {
      env,
      service,
      inbox,
      childEnv,
      queue,
      async tearDown(processes: ProcessUnderTest[]) {
        for (const p of processes) p.kill('SIGKILL');
        await queue.close();
        await consumer?.close();
        await service.close();
        await env.cleanup();
      },
    };
  };

  it('portrait worker (the real CLI and pipeline) finishes its running job, delivers it once and exits 0', async () => {
    const t = await setUp('shutdown-real');
    const worker = new ProcessUnderTest([PORTRAIT_BIN, 'worker'], {
      ...t.childEnv,
      PORTRAIT_MODELS_DIR: MODELS_DIR,
      PORTRAIT_OUTPUT_SIZE: '256',
    });
    try {
      await worker.waitForLog('portrait worker ready');
      const selfie = await t.service.putBlob(readFileSync(facePath('obama.jpg')), alice);
      const { jobId } = await t.service.submit({
        idempotencyKey: 'real-1',
        // Two variations: long enough to be still running when the signal lands after the first stage.
        request: { requester: alice, selfieKeys: [selfie], seed: 5, variations: 2, route: {} },
      });
      await bounded(
        t.inbox.next((d) => d.jobId === jobId && d.kind === 'progress'),
        'progress',
      );
      worker.kill('SIGTERM');
      const answer = await bounded(t.inbox.answerFor(jobId), `the answer to ${jobId}`);
      assert.equal(answer.kind, 'result');
      assert.equal((await bounded(worker.exited, 'exit')).code, 0);
      const msgs = worker.logs.map((l) => l.msg);
      assert.ok(msgs.indexOf('shutting down') < msgs.indexOf('portrait done'), 'the job was still running at SIGTERM');
      assert.equal(t.inbox.answers(jobId).length, 1);
      assert.equal(await t.queue.getJobState(jobId), 'completed');
    } finally {
      await t.tearDown([worker]);
    }
  });

  it('a job that outlives PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS is handed back unanswered and the next worker completes it', async () => {
    const t = await setUp('shutdown-handback');
    const gate = join(tmp, 'handback-gate');
    const env = { ...t.childEnv, PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS: '1' };
    const first = appProcess('worker', env);
    const processes = [first];
    try {
      await first.waitForLog('portrait worker ready');
      const selfie = await t.service.putBlob(new Uint8Array([4, 2]), alice);
      const { jobId } = await t.service.submit({
        idempotencyKey: 'handback-1',
        request: { requester: alice, selfieKeys: [selfie], seed: 5, style: `wait-for:${gate}`, route: {} },
      });
      await bounded(
        t.inbox.next((d) => d.jobId === jobId && d.kind === 'progress' && d.stage === 'detect'),
        'progress',
      );
      first.kill('SIGTERM');
      assert.equal((await bounded(first.exited, 'exit')).code, 0);
      assert.ok(first.logs.some((l) => l.msg === 'handed back to the queue (shutdown)'));

      // Back at the front of the queue at once: no try used, no stall counted, nobody told it failed.
      const job = await t.queue.getJob(jobId);
      assert.equal(await job?.getState(), 'waiting');
      assert.equal(job?.attemptsMade, 0);
      assert.equal(job?.stalledCounter, 0);
      assert.equal(t.inbox.answers(jobId).length, 0);

      writeFileSync(gate, '');
      const second = appProcess('worker', env);
      processes.push(second);
      assert.equal((await bounded(t.inbox.answerFor(jobId), `the answer to ${jobId}`)).kind, 'result');
      second.kill('SIGTERM');
      assert.equal((await bounded(second.exited, 'exit')).code, 0);
      assert.equal(t.inbox.answers(jobId).length, 1);
    } finally {
      await t.tearDown(processes);
    }
  });

  it('portrait start: commands during the shutdown are answered "restarting", the running job is posted once', async () => {
    const t = await setUp('shutdown-start', false);
    const fake = await new FakeDiscord().start();
    const gate = join(tmp, 'start-gate');
    const env = {
      ...t.childEnv,
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_CDN_HOSTS: '127.0.0.1',
      // The scripted pipeline reads its script from the style words, which the compositor's adapter check would
      // refuse as an unknown style; the crop engine takes any words.
      PORTRAIT_ENGINE: 'crop',
    };
    const events = new QueueEvents(PORTRAIT_QUEUE, {
      connection: t.env.redis.connection('worker'),
      prefix: t.childEnv.PORTRAIT_QUEUE_PREFIX,
    });
    const bot = appProcess('start', env);
    const processes = [bot];
    const portrait = (style: string) =>
      chatCommand('portrait', {
        attachments: {
          selfie: {
            url: fake.putCdnFile('me.png', PNG_BYTES, 'image/png'),
            filename: 'me.png',
            contentType: 'image/png',
            size: PNG_BYTES.byteLength,
          },
        },
        options: [{ name: 'style', type: 3, value: style }],
      });
    const isUpload = (c: RecordedCall) =>
      c.method === 'POST' && /^\/channels\/\d+\/messages$/.test(c.path) && c.files.length > 0;
    try {
      await events.waitUntilReady();
      await bot.waitForLog('discord adapter ready');
      const running = portrait(`wait-for:${gate}`);
      const jobId = jobIdFor('discord', `discord-${running['id']}`);
      const active = new Promise<void>((resolve) =>
        events.on('active', (e) => {
          if (e.jobId === jobId) resolve();
        }),
      );
      fake.dispatchInteraction(running);
      await bounded(active, 'the job to start');

      bot.kill('SIGTERM');
      await bot.waitForLog('adapters draining: new commands are answered "restarting"');
      const late = portrait('noop');
      fake.dispatchInteraction(late);
      const reply = await fake.waitFor(isCallbackOf(late['id'] as string, 4), 'the restarting reply');
      assert.equal(contentOf(reply), describeError({ code: 'service.restarting', details: {} }));
      assert.equal(await t.queue.getJob(jobIdFor('discord', `discord-${late['id']}`)), undefined, 'not queued');

      // The worker is still finishing its job; the adapter, stopped after it, posts the portrait.
      writeFileSync(gate, '');
      assert.equal((await bounded(bot.exited, 'exit')).code, 0);
      // The order of src/cli/shutdown.ts: drain, the worker's job done, then the adapter stops, then the rest.
      const order = [
        'adapters draining: new commands are answered "restarting"',
        'portrait done',
        'discord bot stopped',
        'stopped',
      ];
      // By each line's time, not its place in the stream: in one CI run (of many) stderr carried 'stopped' a line
      // before 'discord bot stopped'; a step truly out of order still has the later time.
      const at = order.map((msg) => bot.logs.find((l) => l.msg === msg)?.['time']);
      assert.ok(
        at.every((t) => typeof t === 'number'),
        'every step logged',
      );
      const times = at as number[];
      assert.deepEqual(
        [...times].sort((a, b) => a - b),
        times,
        `in order: ${order.join(' < ')}`,
      );
      if (!fake.calls.some(isUpload)) {
        // The answer was queued a moment after this process stopped consuming: the next start posts it.
        const next = appProcess('start', env);
        processes.push(next);
        await fake.waitFor(isUpload, 'the portrait upload after the restart');
        next.kill('SIGTERM');
        assert.equal((await bounded(next.exited, 'exit')).code, 0);
      }
      assert.equal(fake.calls.filter(isUpload).length, 1, 'the portrait was posted exactly once');
      assert.equal(await t.queue.getJobState(jobId), 'completed');
    } finally {
      await events.close();
      await t.tearDown(processes);
      await fake.stop();
    }
  });
});
