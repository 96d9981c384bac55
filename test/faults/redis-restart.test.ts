import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDiscordBot } from '../../src/bots/discord/bot.js';
import { parseConfig } from '../../src/config.js';
import { describeError } from '../../src/core/messages.js';
import { PortraitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createPortraitService } from '../../src/queue/submit.js';
import { APP_ID, BOT_TOKEN, chatCommand, FakeDiscord } from '../bots/discord/fake-discord.js';
import { isOriginalEdit, PNG_BYTES } from '../bots/discord/harness.js';
import { alice, DeliveryInbox, queueTestEnv } from '../queue/helpers.js';
import { appProcess, bounded, type ProcessUnderTest } from './processes.js';
import { ThrowawayRedis } from './redis-server.js';

/**
 * Redis restarted under a running worker process and a running service (the bots' side): a throwaway redis-server
 * of the test's own, stopped with SIGTERM and started again on the same port and folder.
 */
describe('Redis restarted', { timeout: 120_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'portrait-redis-restart-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const setUp = async (persistent: boolean) => {
    const server = await ThrowawayRedis.start(persistent);
    const env = await queueTestEnv('redis-restart', { REDIS_URL: server.url, PORTRAIT_USER_IN_FLIGHT: '10' });
    const service = createPortraitService(env.config, env.redis, silentLogger);
    const inbox = new DeliveryInbox();
    const consumer = await service.consumeDeliveries('discord', inbox.handler, { retryDelayMs: 50 });
    const worker = appProcess('worker', {
      REDIS_URL: server.url,
      PORTRAIT_QUEUE_PREFIX: env.config.PORTRAIT_QUEUE_PREFIX,
    });
    let seq = 0;
    const submit = async (style: string) => {
      const selfie = await service.putBlob(new Uint8Array([9, 9, seq]), alice);
      const receipt = await service.submit({
        idempotencyKey: `k${seq++}`,
        request: { requester: alice, selfieKeys: [selfie], seed: 1, style, route: {} },
      });
      return receipt.jobId;
    };
    /** While Redis is down the service answers at once that it cannot reach its queue: the bots' sentence. */
    const refusedWhileDown = () =>
      assert.rejects(
        bounded(submit('noop'), 'the refusal while Redis is down', 5000),
        (err: unknown) => err instanceof PortraitError && err.code === 'service.unavailable',
      );
    const tearDown = async (processes: ProcessUnderTest[]) => {
      for (const p of processes) p.kill('SIGKILL');
      await consumer.close();
      await service.close();
      await env.redis.close();
      await server.destroy();
    };
    await worker.waitForLog('portrait worker ready');
    return {
      server,
      service,
      inbox,
      worker,
      submit,
      refusedWhileDown,
      tearDown,
      prefix: env.config.PORTRAIT_QUEUE_PREFIX,
    };
  };

  it('with AOF: clients reconnect, the running and the queued jobs are all delivered once', async () => {
    const t = await setUp(true);
    const gate = join(tmp, 'aof-gate');
    try {
      assert.equal(t.worker.logs.filter((l) => l.level >= 40).length, 0, 'no warning about persistence');
      const running = await t.submit(`wait-for:${gate}`);
      const queued = [await t.submit('noop'), await t.submit('noop')];
      await bounded(
        t.inbox.next((d) => d.jobId === running && d.kind === 'progress' && d.stage === 'detect'),
        'the running job',
      );

      await t.server.stop();
      await t.refusedWhileDown();
      await t.server.start();

      writeFileSync(gate, '');
      for (const jobId of [running, ...queued]) {
        assert.equal((await bounded(t.inbox.answerFor(jobId), `the answer to ${jobId}`)).kind, 'result');
      }
      const after = await t.submit('noop');
      assert.equal((await bounded(t.inbox.answerFor(after), 'a job after the restart')).kind, 'result');
      for (const jobId of [running, ...queued, after]) assert.equal(t.inbox.answers(jobId).length, 1);
      assert.ok(t.worker.alive, 'the worker rode out the restart');
    } finally {
      await t.tearDown([t.worker]);
    }
  });

  it('without persistence: the worker warns at start, the bot says the queue is unreachable while Redis is down, then work resumes', async () => {
    const t = await setUp(false);
    const fake = await new FakeDiscord().start();
    const config = parseConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      REDIS_URL: t.server.url,
      PORTRAIT_QUEUE_PREFIX: t.prefix,
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_CDN_HOSTS: '127.0.0.1',
    });
    const bot = await startDiscordBot(config, t.service, silentLogger, {
      consumeDeliveries: () => ({ close: async () => {} }),
    });
    try {
      const warning = t.worker.logs.find((l) => l.persistence === 'none');
      assert.equal(warning?.level, 40, 'the operator is told that a Redis restart loses queued jobs');

      await t.server.stop();
      await t.refusedWhileDown();
      // The same through the Discord adapter: the user's /portrait gets the sentence instead of a spinner.
      const url = fake.putCdnFile('me.png', PNG_BYTES, 'image/png');
      const raw = chatCommand('portrait', {
        attachments: { selfie: { url, filename: 'me.png', contentType: 'image/png', size: PNG_BYTES.byteLength } },
      });
      fake.dispatchInteraction(raw);
      const unavailable = describeError({ code: 'service.unavailable', details: {} });
      await fake.waitFor(isOriginalEdit(raw['token'] as string, unavailable), 'the unavailable sentence');
      await t.server.start();

      // Everything Redis held is gone; new requests are taken and run by the same worker as before.
      const after = await t.submit('noop');
      assert.equal((await bounded(t.inbox.answerFor(after), 'a job after the restart')).kind, 'result');
      assert.ok(t.worker.alive, 'the worker rode out the restart');
    } finally {
      await bot.stop();
      await fake.stop();
      await t.tearDown([t.worker]);
    }
  });
});
