/**
 * Slack: mention received -> first visible answer (the :eyes: reaction or the status message in the thread,
 * whichever reaches the loopback Web API first), measured on the fake's side, so both loopback hops are included.
 * 200 mentions with a selfie at 20 per second from 200 members, in both modes: signed Events API requests to the
 * HTTP receiver, and envelopes over the Socket Mode WebSocket. The real queue on Redis and the real worker
 * (compositor, in its thread) turn the queued mentions into portraits meanwhile.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SlackBot, startSlackBot } from '../src/bots/slack/index.js';
import { type Config, getConfig, parseConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { openRedis } from '../src/queue/connection.js';
import { createPortraitService, type PortraitQueueService } from '../src/queue/submit.js';
import { startWorker } from '../src/queue/worker.js';
import { FakeSlack } from '../test/bots/slack/fake-slack.js';
import { facePath, photoOrCommitted } from '../test/helpers/env.js';
import { deleteKeys } from '../test/helpers/redis.js';

const MENTIONS = 200;
const PER_SECOND = 20;
const SECRET = 'bench-signing-secret';

export async function run(): Promise<void> {
  const base = getConfig();
  const fake = await new FakeSlack().start();
  const common = {
    ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])),
    PORTRAIT_QUEUE_PREFIX: `bench-slack-${process.pid}-${Date.now().toString(36)}`,
    PORTRAIT_SCOPE_QUEUE_CAP: '1000',
    PORTRAIT_OUTPUT_SIZE: '512',
    LOG_LEVEL: 'silent',
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
    SLACK_FILE_HOSTS: '127.0.0.1',
    SLACK_ALLOWED_CHANNELS: '',
    SLACK_APP_TOKEN: '',
  };
  const config = parseConfig(common);
  const redis = await openRedis(config, silentLogger);
  const service = createPortraitService(config, redis, silentLogger);
  const worker = await startWorker(config, redis, silentLogger, { concurrency: 1 });
  const selfie = new Uint8Array(readFileSync(facePath(photoOrCommitted('pexels-dinielle-de-veyra-4195444.jpg'))));
  const url = fake.addFile('me.jpg', selfie);
  const rows: Array<[string, Result]> = [];
  try {
    for (const mode of ['http', 'socket'] as const) {
      const modeConfig = mode === 'socket' ? parseConfig({ ...common, SLACK_APP_TOKEN: fake.appToken }) : config;
      const connected = mode === 'socket' ? fake.socketConnected() : Promise.resolve();
      const bot = await start(modeConfig, service, mode);
      await connected;
      try {
        rows.push([
          mode === 'http' ? 'HTTP (signed Events API)' : 'Socket Mode',
          await measure(fake, bot, mode, url, selfie),
        ]);
      } finally {
        await bot.stop();
      }
    }
    console.log(
      `cores: ${availableParallelism()}, ${MENTIONS} mentions with a selfie at ${PER_SECOND}/s from ${MENTIONS} members, worker busy`,
    );
    console.log('event sent to the adapter -> first reaction or status message received by the loopback Web API (ms)');
    console.log(
      `${'mode'.padEnd(26)} ${'p50'.padStart(6)} ${'p90'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)} ${'loop lag p99'.padStart(13)}`,
    );
    for (const [label, m] of rows) {
      const cells = [m.p50, m.p90, m.p99, m.max].map((v) => v.toFixed(1).padStart(6)).join(' ');
      console.log(`${label.padEnd(26)} ${cells} ${m.lagP99.toFixed(1).padStart(13)}`);
    }
    console.log(`portraits uploaded meanwhile: ${fake.callsOf('files.completeUploadExternal').length}`);
  } finally {
    await worker.close().catch(() => {});
    await deleteKeys(redis.connection(), config.PORTRAIT_QUEUE_PREFIX);
    await service.close();
    await redis.close();
    await fake.close();
  }
}

function start(config: Config, service: PortraitQueueService, mode: 'http' | 'socket'): Promise<SlackBot> {
  return startSlackBot(config, service, silentLogger, {
    ...(mode === 'http' ? { port: 0 } : {}),
    consumeDeliveries: (h) => service.consumeDeliveries('slack', h),
  });
}

interface Result {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  lagP99: number;
}

async function measure(fake: FakeSlack, bot: SlackBot, mode: 'http' | 'socket', url: string, selfie: Uint8Array) {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const latencies: number[] = [];
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < MENTIONS; i++) {
    const ts = `${mode === 'http' ? 1760 : 1770}${String(i).padStart(6, '0')}.000100`;
    const body = {
      token: 'x',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: `Ev${mode}${i}`,
      event_time: 1,
      event: {
        type: 'app_mention',
        user: `U${mode}${i}`,
        text: `<@${fake.botUserId}> pose: three-quarter left, light: golden hour`,
        ts,
        event_ts: ts,
        channel: 'C1',
        files: [
          { id: `F${i}`, mimetype: 'image/jpeg', filetype: 'jpg', size: selfie.byteLength, url_private_download: url },
        ],
      },
    };
    const sent = performance.now();
    const seen = Promise.race([
      fake.waitFor('reactions.add', (a) => a['timestamp'] === ts, 60_000),
      fake.waitFor('chat.postMessage', (a) => a['thread_ts'] === ts, 60_000),
    ]).then(() => {
      latencies.push(performance.now() - sent);
    });
    pending.push(seen);
    if (mode === 'http') {
      const raw = JSON.stringify(body);
      const stamp = Math.floor(Date.now() / 1000);
      const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${stamp}:${raw}`).digest('hex')}`;
      pending.push(
        fetch(`http://127.0.0.1:${bot.port}/slack/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-slack-signature': sig,
            'x-slack-request-timestamp': String(stamp),
          },
          body: raw,
        }).then((r) => r.text()),
      );
    } else {
      pending.push(fake.sendEnvelope('events_api', body));
    }
    await sleep(1000 / PER_SECOND);
  }
  await Promise.all(pending);
  lag.disable();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return { p50: q(50), p90: q(90), p99: q(99), max: latencies.at(-1) ?? Number.NaN, lagP99: lag.percentile(99) / 1e6 };
}
