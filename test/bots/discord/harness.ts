import { type DiscordBot, startDiscordBot } from '../../../src/bots/discord/bot.js';
import { type Config, parseConfig } from '../../../src/config.js';
import type { Catalogue } from '../../../src/conversation/catalogue.js';
import type { ErrorCode, ErrorDetails } from '../../../src/errors.js';
import { createLogger, silentLogger } from '../../../src/log.js';
import type { Stage } from '../../../src/pipeline/types.js';
import type { Delivery } from '../../../src/queue/jobs.js';
import type { DeliveryHandler, PortraitService, SubmitOptions } from '../../../src/queue/service.js';
import type { ManualClock } from '../../conversation/manual-clock.js';
import {
  APP_ID,
  BOT_TOKEN,
  chatCommand,
  type FakeDiscord,
  type OptionSpec,
  type RecordedCall,
  type USER,
} from './fake-discord.js';
import type { FakePortraitService } from './fake-service.js';

/** A tiny valid PNG header is all the download sniffing needs; the pipeline is not involved in adapter tests. */
export const PNG_BYTES = Uint8Array.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
]);

export function testConfig(fake: FakeDiscord, extra: Record<string, string> = {}): Config {
  return parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_CDN_HOSTS: '127.0.0.1',
    ...extra,
  });
}

export interface Running {
  bot: DiscordBot;
  /** Hands a delivery to the bot the way the delivery queue would. */
  deliver(d: Delivery): Promise<void>;
}

/** Starts the real bot (real discord.js Client) against the fake; deliveries are handed in by the test. */
export async function startBot(
  fake: FakeDiscord,
  service: PortraitService,
  opts: { config?: Config; clock?: ManualClock; catalogue?: Catalogue; seeds?: number[]; fetch?: typeof fetch } = {},
): Promise<Running> {
  let handler: DeliveryHandler | undefined;
  const seeds = [...(opts.seeds ?? [])];
  let nextSeed = 1000;
  const bot = await startDiscordBot(
    opts.config ?? testConfig(fake),
    service,
    process.env['DEBUG_DISCORD'] ? createLogger({ LOG_LEVEL: 'debug' }) : silentLogger,
    {
      consumeDeliveries: (h) => {
        handler = h;
        return { close: async () => {} };
      },
      newSeed: () => seeds.shift() ?? nextSeed++,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.catalogue ? { catalogue: opts.catalogue } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    },
  );
  return {
    bot,
    deliver: (d) => {
      if (!handler) throw new Error('bot is not consuming deliveries');
      return handler(d);
    },
  };
}

// Predicates for FakeDiscord.waitFor.
export const isCallbackOf =
  (interactionId: string, type?: number) =>
  (c: RecordedCall): boolean =>
    c.method === 'POST' &&
    c.path.startsWith(`/interactions/${interactionId}/`) &&
    (type === undefined || c.body?.['type'] === type);

export const isOriginalEdit =
  (token: string, contains?: string) =>
  (c: RecordedCall): boolean =>
    c.method === 'PATCH' &&
    c.path === `/webhooks/${APP_ID}/${token}/messages/@original` &&
    (contains === undefined || String(c.body?.['content'] ?? '').includes(contains));

export const isChannelPost =
  (channelId: string) =>
  (c: RecordedCall): boolean =>
    c.method === 'POST' && c.path === `/channels/${channelId}/messages`;

/** The text a call shows the user: message content, or a callback's data.content. */
export function contentOf(c: RecordedCall): string {
  const data = c.body?.['data'] as Record<string, unknown> | undefined;
  return String(c.body?.['content'] ?? data?.['content'] ?? '');
}

/** Every custom id in a components array. */
export function customIds(components: unknown): string[] {
  const out: string[] = [];
  for (const row of (components as Array<{ components?: Array<{ custom_id?: string }> }>) ?? []) {
    for (const c of row.components ?? []) if (c.custom_id) out.push(c.custom_id);
  }
  return out;
}

export const WEBP_BYTES = new TextEncoder().encode('RIFF\x24\0\0\0WEBPVP8 fake-portrait-bytes');

/** Dispatches a good /portrait and waits until it is queued; returns the raw interaction and what was submitted. */
export async function queuePortrait(
  fake: FakeDiscord,
  service: FakePortraitService,
  opts: { options?: OptionSpec[]; channelId?: string; user?: typeof USER } = {},
): Promise<{ raw: Record<string, unknown>; sub: SubmitOptions }> {
  const url = fake.putCdnFile('me.png', PNG_BYTES, 'image/png');
  const raw = chatCommand('portrait', {
    attachments: { selfie: { url, filename: 'me.png', contentType: 'image/png', size: PNG_BYTES.byteLength } },
    ...opts,
  });
  const before = service.submitted.length;
  fake.dispatchInteraction(raw);
  await fake.waitFor(isOriginalEdit(raw['token'] as string, 'Queued'), 'the queued edit');
  const sub = service.submitted[before];
  if (!sub || sub.idempotencyKey !== `discord-${raw['id']}`) throw new Error('the portrait was not submitted');
  return { raw, sub };
}

/** A result delivery for a submitted request, its portrait stored as a blob first. */
export async function resultFor(
  service: FakePortraitService,
  sub: SubmitOptions,
  opts: { images?: number; seed?: number } = {},
): Promise<Delivery> {
  const outputKeys: string[] = [];
  for (let i = 0; i < (opts.images ?? 1); i++)
    outputKeys.push(await service.putBlob(WEBP_BYTES, sub.request.requester));
  return {
    kind: 'result',
    jobId: sub.idempotencyKey,
    platform: 'discord',
    route: sub.request.route ?? {},
    requester: sub.request.requester,
    seed: opts.seed ?? sub.request.seed,
    result: {
      outputKeys,
      format: 'webp',
      width: 64,
      height: 64,
      engine: 'compositor',
      facesPerSelfie: [1],
      timings: { detect: 1200, encode: 300 },
      report: {},
    },
  };
}

export function failureFor(sub: SubmitOptions, code: ErrorCode, details: ErrorDetails = {}, refId?: string): Delivery {
  return {
    kind: 'failure',
    jobId: sub.idempotencyKey,
    platform: 'discord',
    route: sub.request.route ?? {},
    requester: sub.request.requester,
    error: { code, message: code, details: { ...details }, ...(refId ? { refId } : {}) },
  };
}

export function progressFor(sub: SubmitOptions, stage: Stage, step?: number, steps?: number): Delivery {
  return {
    kind: 'progress',
    jobId: sub.idempotencyKey,
    platform: 'discord',
    route: sub.request.route ?? {},
    requester: sub.request.requester,
    stage,
    ...(step !== undefined ? { step } : {}),
    ...(steps !== undefined ? { steps } : {}),
    at: Date.now(),
  };
}

/** A callback's `data` object (interaction responses nest the message there). */
export function dataOf(c: RecordedCall): Record<string, unknown> {
  return (c.body?.['data'] as Record<string, unknown> | undefined) ?? {};
}
