/**
 * Every log line of a job carries its jobId and its requestId: from the adapter taking the request, through submit,
 * the worker and the pipeline thread (its lines forwarded to the worker's logger), to the adapter posting the answer.
 * Real Redis, queue, worker threads and the adapters' own request and delivery code; the chat platforms are
 * in-process fakes that accept every call.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { REST } from 'discord.js';
import { DiscordAdapter } from '../../src/bots/discord/adapter.js';
import { routeToRecord } from '../../src/bots/discord/route.js';
import { createDeliveries } from '../../src/bots/slack/delivery.js';
import { type SlackClient, type SlackContext, slackContext, startPortrait } from '../../src/bots/slack/portraits.js';
import { createCatalogue as coreCatalogue } from '../../src/conversation/catalogue.js';
import type { Requester } from '../../src/core/request.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { Delivery } from '../../src/queue/jobs.js';
import { jobIdFor } from '../../src/queue/keys.js';
import type { DeliveryConsumer } from '../../src/queue/service.js';
import { createPortraitService, type PortraitQueueService } from '../../src/queue/submit.js';
import { type PortraitWorker, startWorker } from '../../src/queue/worker.js';
import { DeliveryInbox, type QueueTestEnv, queueTestEnv } from '../queue/helpers.js';

const LOGGING_PIPELINE = new URL('./fixtures/logging-pipeline.ts', import.meta.url).href;

interface Line {
  level: number;
  msg: string;
  jobId?: unknown;
  requestId?: unknown;
  from?: unknown;
  [field: string]: unknown;
}

/** Accepts every Web API call the adapter makes, answering with just enough for it to go on. */
function fakeSlackClient(): SlackClient {
  let ts = 1_700_000_000;
  const message = async (args: { channel: string }) => ({ ok: true, ts: `${ts++}.000100`, channel: args.channel });
  return {
    chat: { postMessage: message, update: message, delete: async () => ({ ok: true }), postEphemeral: message },
    reactions: { add: async () => ({ ok: true }) },
    files: { uploadV2: async () => ({ ok: true, files: [{ files: [{ id: 'F1' }] }] }) },
  } as unknown as SlackClient;
}

/** Discord's REST manager as the adapter's output uses it: every edit and post succeeds. */
function fakeDiscordRest(): REST {
  return {
    patch: async () => ({}),
    post: async () => ({ id: '1234567890123456789' }),
  } as unknown as REST;
}

describe('log context of a job', () => {
  let env: QueueTestEnv;
  let lines: string[];
  let log: Logger;
  let service: PortraitQueueService;
  let worker: PortraitWorker;
  const consumers: DeliveryConsumer[] = [];
  const inbox = new DeliveryInbox();
  const slackUser: Requester = { platform: 'slack', userId: 'U0LOGS', scopeId: 'T0LOGS' };
  const discordUser: Requester = { platform: 'discord', userId: '300000000000000001', scopeId: '400000000000000001' };
  let slack: SlackContext;

  before(async () => {
    env = await queueTestEnv('obs-logs', { PORTRAIT_JOB_ATTEMPTS: '2', LOG_LEVEL: 'trace' });
    lines = [];
    // The product's logger (secret scrubbing, redaction) with the lines captured instead of written to stderr.
    log = createLogger(env.config, 'portrait', { write: (line: string) => void lines.push(line) });
    service = createPortraitService(env.config, env.redis, log);
    worker = await startWorker(env.config, env.redis, log, {
      pipelineModule: LOGGING_PIPELINE,
      concurrency: 1,
      retryDelayMs: 20,
    });
    // The test pipeline reads its script from the style, which the diffusion engine takes as free words.
    slack = slackContext({
      client: fakeSlackClient(),
      service,
      config: env.config,
      log,
      catalogue: coreCatalogue('diffusion'),
    });
    const slackDeliveries = createDeliveries(slack, 0);
    const discord = new DiscordAdapter({
      config: env.config,
      service,
      log,
      rest: fakeDiscordRest(),
      catalogue: coreCatalogue('crop'),
    });
    // The adapters handle each delivery first; the inbox only lets the test await that they did.
    const both = (handle: (d: Delivery) => Promise<void>) => async (d: Delivery) => {
      await handle(d);
      await inbox.handler(d);
    };
    consumers.push(await service.consumeDeliveries('slack', both(slackDeliveries.handle)));
    consumers.push(
      await service.consumeDeliveries(
        'discord',
        both((d) => discord.handleDelivery(d)),
      ),
    );
  });

  after(async () => {
    for (const c of consumers) await c.close();
    await worker?.close({ force: true });
    await service?.close();
    await env?.cleanup();
  });

  /** The parsed lines that mention this job or this request anywhere (message, fields, error text). */
  const linesOf = (jobId: string, requestId: string): Line[] =>
    lines.filter((l) => l.includes(jobId) || l.includes(requestId)).map((l) => JSON.parse(l) as Line);

  const assertEveryLineCarriesBoth = (jobLines: Line[], jobId: string, requestId: string) => {
    assert.ok(jobLines.length > 0);
    for (const line of jobLines) {
      assert.equal(line.jobId, jobId, `line without the job id: ${JSON.stringify(line)}`);
      assert.equal(line.requestId, requestId, `line without the request id: ${JSON.stringify(line)}`);
    }
  };

  async function slackRequest(style: string): Promise<{ jobId: string; requestId: string }> {
    const ts = `${Date.now()}.${randomBytes(3).toString('hex')}`;
    const requestId = `slack-${slackUser.scopeId}-C0LOGS-${ts}`;
    const key = await service.putBlob(randomBytes(64), slackUser);
    await startPortrait(slack, {
      requester: slackUser,
      channel: 'C0LOGS',
      message: ts,
      source: { keys: [key] },
      fields: { pose: 'front', lighting: 'studio', style },
      idempotencyKey: requestId,
    });
    return { jobId: jobIdFor('slack', requestId), requestId };
  }

  it('a Slack portrait: adapter, submit, worker, pipeline thread and the posted answer', async () => {
    const { jobId, requestId } = await slackRequest('ok');
    const answer = await inbox.answerFor(jobId);
    assert.equal(answer.kind, 'result');
    assert.equal(answer.requestId, requestId, 'the delivery names its request');

    const jobLines = linesOf(jobId, requestId);
    assertEveryLineCarriesBoth(jobLines, jobId, requestId);
    const msgs = jobLines.map((l) => l.msg);
    for (const expected of [
      'portrait queued', // submit (debug)
      'slack: portrait queued', // the adapter, after submit
      'portrait started', // worker
      'test pipeline ingest', // pipeline thread, forwarded
      'test pipeline warning',
      'portrait done',
      'portrait posted', // the conversation layer's delivery handling
    ]) {
      assert.ok(msgs.includes(expected), `no '${expected}' line for the job; saw ${JSON.stringify(msgs)}`);
    }
    const fromThread = jobLines.filter((l) => l.from === 'pipeline');
    assert.deepEqual(
      fromThread.map((l) => [l.msg, l.level]),
      [
        ['test pipeline ingest', 30],
        ['test pipeline warning', 40],
      ],
      'the thread lines keep their own level and message',
    );
    assert.equal(fromThread[1]?.['script'], 'ok', "the thread line's own fields are kept");
    const err = fromThread[1]?.['err'] as { type?: string; message?: string; stack?: string } | undefined;
    assert.equal(err?.type, 'TypeError', 'an error logged in the thread keeps its type');
    assert.equal(err?.message, 'scripted warning');
    assert.match(err?.stack ?? '', /logging-pipeline/);
    // The thread's load-time line belongs to no job and says so by carrying no job id.
    const loaded = lines.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'test pipeline loaded');
    assert.ok(loaded.length >= 1 && loaded.every((l) => l.jobId === undefined && l.from === 'pipeline'));
  });

  it('a Slack request that fails after a retry: every try and the failure answer', async () => {
    const { jobId, requestId } = await slackRequest('internal-error');
    const answer = await inbox.answerFor(jobId);
    assert.equal(answer.kind, 'failure');

    const jobLines = linesOf(jobId, requestId);
    assertEveryLineCarriesBoth(jobLines, jobId, requestId);
    const msgs = jobLines.map((l) => l.msg);
    for (const expected of ['portrait failed; will retry', 'portrait failed', 'portrait job failed']) {
      assert.ok(msgs.includes(expected), `no '${expected}' line; saw ${JSON.stringify(msgs)}`);
    }
    assert.deepEqual(
      jobLines.filter((l) => l.msg === 'test pipeline ingest').map((l) => l['attempt']),
      [1, 2],
      'the thread lines of each try carry that try',
    );
  });

  it('a Discord request refused by the pipeline: the adapter’s failure handling carries both ids', async () => {
    const interaction = (BigInt(Date.now() - 1_420_070_400_000) << 22n).toString();
    const requestId = `discord-${interaction}`;
    const key = await service.putBlob(randomBytes(64), discordUser);
    const route = {
      app: '500000000000000001',
      interaction,
      guild: discordUser.scopeId,
      channel: '600000000000000001',
      status: '700000000000000001',
      thread: '600000000000000001',
      private: false,
      user: discordUser.userId,
      recipe: '',
      pose: 'front',
      lighting: 'studio',
      selfies: 1,
    };
    const receipt = await service.submit({
      idempotencyKey: requestId,
      request: {
        requester: discordUser,
        selfieKeys: [key],
        style: 'user-error',
        seed: 7,
        route: routeToRecord(route),
      },
    });
    const answer = await inbox.answerFor(receipt.jobId);
    assert.equal(answer.kind === 'failure' && answer.error.code, 'face.none');

    const jobLines = linesOf(receipt.jobId, requestId);
    assertEveryLineCarriesBoth(jobLines, receipt.jobId, requestId);
    const msgs = jobLines.map((l) => l.msg);
    for (const expected of ['portrait queued', 'portrait refused', 'test pipeline warning', 'portrait job refused']) {
      assert.ok(msgs.includes(expected), `no '${expected}' line; saw ${JSON.stringify(msgs)}`);
    }
  });
});
