/**
 * Discord acknowledgement latency: the loopback gateway sends INTERACTION_CREATE -> the defer callback reaches the
 * loopback REST API, measured on the fake's side (so it includes both loopback hops: an upper bound of "received
 * to defer sent"). 200 /portrait commands at 20 per second from 200 different members, while the real worker
 * turns the queued ones into portraits with the real pipeline (compositor) in its thread. Target: p99 <= 150 ms.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDiscordBot } from '../src/bots/discord/bot.js';
import { getConfig, parseConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { openRedis } from '../src/queue/connection.js';
import { createPortraitService } from '../src/queue/submit.js';
import { startWorker } from '../src/queue/worker.js';
import { APP_ID, BOT_TOKEN, chatCommand, FakeDiscord, USER } from '../test/bots/discord/fake-discord.js';
import { facePath, photoOrCommitted } from '../test/helpers/env.js';
import { deleteKeys } from '../test/helpers/redis.js';

const COMMANDS = 200;
const PER_SECOND = 20;

export async function run(): Promise<void> {
  const base = getConfig();
  const fake = await new FakeDiscord().start();
  const config = parseConfig({
    ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])),
    PORTRAIT_QUEUE_PREFIX: `bench-discord-${process.pid}-${Date.now().toString(36)}`,
    PORTRAIT_SCOPE_QUEUE_CAP: '1000',
    PORTRAIT_OUTPUT_SIZE: '512',
    LOG_LEVEL: 'silent',
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_CDN_HOSTS: '127.0.0.1',
    DISCORD_ALLOWED_CHANNELS: '',
    DISCORD_GUILD_IDS: '',
  });
  const redis = await openRedis(config, silentLogger);
  const service = createPortraitService(config, redis, silentLogger);
  const bot = await startDiscordBot(config, service, silentLogger, {
    consumeDeliveries: (h) => service.consumeDeliveries('discord', h),
  });
  const selfie = new Uint8Array(readFileSync(facePath(photoOrCommitted('pexels-dinielle-de-veyra-4195444.jpg'))));
  const url = fake.putCdnFile('me.jpg', selfie, 'image/jpeg');
  try {
    const idle = await measure(fake, url, selfie.byteLength, 0);
    const worker = await startWorker(config, redis, silentLogger, { concurrency: 1 });
    let busy: Awaited<ReturnType<typeof measure>>;
    try {
      busy = await measure(fake, url, selfie.byteLength, 1);
    } finally {
      await worker.close().catch(() => {});
    }
    console.log(
      `cores: ${availableParallelism()}, ${COMMANDS} /portrait commands at ${PER_SECOND}/s from ${COMMANDS} members`,
    );
    console.log('INTERACTION_CREATE sent by the loopback gateway -> defer callback received by the loopback REST (ms)');
    console.log(
      `${'worker'.padEnd(28)} ${'p50'.padStart(6)} ${'p90'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)} ${'loop lag p99'.padStart(13)}`,
    );
    for (const [label, m] of [
      ['idle (jobs only queue)', idle],
      [`busy (${busy.posted} portraits posted)`, busy],
    ] as const) {
      const cells = [m.p50, m.p90, m.p99, m.max].map((v) => v.toFixed(1).padStart(6)).join(' ');
      console.log(`${label.padEnd(28)} ${cells} ${m.lagP99.toFixed(1).padStart(13)}`);
    }
  } finally {
    await bot.stop();
    await deleteKeys(redis.connection(), config.PORTRAIT_QUEUE_PREFIX);
    await service.close();
    await redis.close();
    await fake.stop();
  }
}

/** Sends COMMANDS commands at PER_SECOND and returns the latency quantiles and the event loop's own lag. */
async function measure(fake: FakeDiscord, url: string, size: number, round: number) {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const uploadsBefore = fake.calls.filter((c) => c.files.length > 0).length;
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const user = { ...USER, id: String(BigInt(USER.id) + BigInt(round * COMMANDS + i + 100)) };
    const raw = chatCommand('portrait', {
      user,
      attachments: { selfie: { url, filename: 'me.jpg', contentType: 'image/jpeg', size } },
    });
    const id = raw['id'] as string;
    const sent = performance.now();
    pending.push(
      fake
        .waitFor((c) => c.method === 'POST' && c.path.startsWith(`/interactions/${id}/`), 'the defer')
        .then(() => {
          latencies.push(performance.now() - sent);
        }),
    );
    fake.dispatchInteraction(raw);
    await sleep(1000 / PER_SECOND);
  }
  await Promise.all(pending);
  lag.disable();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return {
    p50: q(50),
    p90: q(90),
    p99: q(99),
    max: latencies.at(-1) ?? Number.NaN,
    lagP99: lag.percentile(99) / 1e6,
    posted: fake.calls.filter((c) => c.files.length > 0).length - uploadsBefore,
  };
}
