/**
 * Load run (`npm run load`, or `npm run bench -- load`): simulated users ask for portraits through the real chat
 * adapters' code paths and every request is matched to exactly one answer at the platform fakes. Loopback only.
 *
 * - Half the users are Discord members: `/portrait` interactions with a selfie attachment dispatched by the
 *   loopback gateway (test/bots/discord/fake-discord.ts) into the real discord.js client; the selfie is served by
 *   the fake CDN; the portrait is uploaded to the fake REST API.
 * - Half are Slack members: app mentions with the selfie as a file, pushed over Socket Mode by the loopback Slack
 *   fake (test/bots/slack/fake-slack.ts) into Bolt; the file is downloaded from the fake's private file host; the
 *   portrait arrives through files.uploadV2 at the fake. Each Slack request is in a channel of its own, so every
 *   message the bot posts names the request it answers.
 * - The bot is a child process: `portrait start`'s composition (src/cli/start.ts) without its in-process worker
 *   (bench/load/bot-process.ts), so its RSS is the adapters'. The pipeline runs in LOAD_WORKERS `portrait worker`
 *   child processes (the real CLI, compositor engine, a real photo from FACES_DIR).
 *
 * Each user keeps at most PORTRAIT_USER_IN_FLIGHT requests in flight and sends the next once one is answered; the
 * run raises PORTRAIT_USER_RATE and the community queue cap (all Discord users share one guild, all Slack users one
 * team) so that what is measured is the queue and the workers; any refusal is still counted by its code.
 *
 * End to end = command sent by the fake -> portrait (or final sentence) received by the fake. Queue wait = the
 * worker's own `waitMs` on its 'portrait started' line, matched by request id.
 *
 * Knobs (environment): LOAD_REQUESTS (500), LOAD_USERS (100), LOAD_WORKERS (1 worker process), LOAD_CONCURRENCY
 * (pipeline threads per worker, 1), LOAD_OUTPUT_SIZE (512), LOAD_IN_FLIGHT (requests each user keeps in flight:
 * PORTRAIT_USER_IN_FLIGHT; more shows the refusals), LOAD_MAX_SECONDS (600: the run stops there and what
 * is unanswered counts as lost).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getConfig, PROJECT_ROOT } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { openRedis } from '../src/queue/connection.js';
import { APP_ID, BOT_TOKEN, chatCommand, FakeDiscord, USER } from '../test/bots/discord/fake-discord.js';
import { FakeSlack } from '../test/bots/slack/fake-slack.js';
import { facePath, MODELS_DIR, photoOrCommitted } from '../test/helpers/env.js';
import { deleteKeys } from '../test/helpers/redis.js';
import { codeOfSentence } from './load/answers.js';
import { LoadProcess, type LogLine } from './load/processes.js';

const PHOTO = photoOrCommitted('pexels-dinielle-de-veyra-4195444.jpg');
const TSX = import.meta.resolve('tsx');
const DISCORD_UPLOAD = /^portrait-(\d+)\.webp$/;

const knob = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
};

interface Req {
  n: number;
  user: number;
  platform: 'discord' | 'slack';
  /** Discord: the interaction token; Slack: the request's own channel. */
  key: string;
  requestId: string;
  sentAt: number;
  answeredAt?: number;
  /** Answers seen at the fake: portraits uploaded plus final sentences. */
  answers: number;
  code?: string;
  queueMs?: number;
}

export async function run(): Promise<void> {
  const base = getConfig();
  const total = knob('LOAD_REQUESTS', 500);
  const users = Math.min(knob('LOAD_USERS', 100), total);
  const workers = knob('LOAD_WORKERS', 1);
  const threads = knob('LOAD_CONCURRENCY', 1);
  const outputSize = knob('LOAD_OUTPUT_SIZE', 512);
  const maxMs = knob('LOAD_MAX_SECONDS', 600) * 1000;
  const cap = base.PORTRAIT_USER_IN_FLIGHT;
  // Users keep the bot's cap in flight; LOAD_IN_FLIGHT above it makes them send too fast, and the refusals show.
  const inFlight = knob('LOAD_IN_FLIGHT', cap);
  const prefix = `load-${process.pid}-${Date.now().toString(36)}`;

  const redis = await openRedis(base, silentLogger);
  const discord = await new FakeDiscord().start();
  const slack = await new FakeSlack().start();
  const selfie = new Uint8Array(readFileSync(facePath(PHOTO)));
  const cdnUrl = discord.putCdnFile('selfie.jpg', selfie, 'image/jpeg');
  const slackUrl = slack.addFile('selfie.jpg', selfie);

  const common: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? tmpdir(),
    NODE_ENV: 'production',
    REDIS_URL: redis.url,
    PORTRAIT_QUEUE_PREFIX: prefix,
    PORTRAIT_MODELS_DIR: base.PORTRAIT_MODELS_DIR ?? MODELS_DIR,
    PORTRAIT_ENGINE: 'compositor',
    PORTRAIT_OUTPUT_SIZE: String(outputSize),
    PORTRAIT_USER_IN_FLIGHT: String(cap),
    PORTRAIT_USER_RATE: '100000',
    PORTRAIT_SCOPE_QUEUE_CAP: '100000',
  };
  const reqs: Req[] = [];
  const byRequestId = new Map<string, Req>();
  const onWorkerLog = (l: LogLine) => {
    if (l.msg !== 'portrait started') return;
    const r = byRequestId.get(String(l['requestId']));
    if (r && r.queueMs === undefined && typeof l['waitMs'] === 'number') r.queueMs = l['waitMs'];
  };
  const bot = new LoadProcess('bot', ['--import', TSX, join(PROJECT_ROOT, 'bench/load/bot-process.ts')], {
    ...common,
    LOG_LEVEL: 'info',
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_CDN_HOSTS: '127.0.0.1',
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_APP_TOKEN: slack.appToken,
    SLACK_SIGNING_SECRET: 'load-signing-secret',
    SLACK_API_URL: slack.apiUrl,
    SLACK_FILE_HOSTS: '127.0.0.1',
  });
  const workerProcs = Array.from(
    { length: workers },
    (_, w) =>
      new LoadProcess(
        `worker ${w + 1}`,
        [join(PROJECT_ROOT, 'bin/portrait.mjs'), 'worker'],
        { ...common, LOG_LEVEL: 'debug', PORTRAIT_WORKER_CONCURRENCY: String(threads) },
        onWorkerLog,
      ),
  );
  const procs = [bot, ...workerProcs];
  let sampler: NodeJS.Timeout | undefined;
  let poller: NodeJS.Timeout | undefined;
  try {
    await Promise.all([
      discord.waitForIdentify(),
      slack.socketConnected(),
      bot.waitForLog((l) => l.msg === 'slack adapter ready', 'the adapters were ready'),
      ...workerProcs.map((w) => w.waitForLog((l) => l.msg === 'worker ready', 'its models were loaded')),
    ]);

    let answered = 0;
    let duplicates = 0;
    let finished: () => void = () => {};
    const allAnswered = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const byKey = new Map<string, Req>();
    const share = Array.from({ length: users }, (_, u) => Math.floor(total / users) + (u < total % users ? 1 : 0));
    const sentBy = new Array<number>(users).fill(0);
    let issued = 0;

    const send = (u: number): void => {
      if ((sentBy[u] ?? 0) >= (share[u] ?? 0)) return;
      sentBy[u] = (sentBy[u] ?? 0) + 1;
      const n = issued++;
      const platform = u < users / 2 ? 'discord' : 'slack';
      if (platform === 'discord') {
        const user = { ...USER, id: String(BigInt(USER.id) + BigInt(u + 1)), username: `load${u}` };
        const raw = chatCommand('portrait', {
          user,
          options: [{ name: 'seed', type: 4, value: n + 1 }],
          attachments: {
            selfie: { url: cdnUrl, filename: 'selfie.jpg', contentType: 'image/jpeg', size: selfie.byteLength },
          },
        });
        const r: Req = {
          n,
          user: u,
          platform,
          key: raw['token'] as string,
          requestId: `discord-${raw['id'] as string}`,
          sentAt: performance.now(),
          answers: 0,
        };
        track(r, String(n + 1));
        discord.dispatchInteraction(raw);
      } else {
        const channel = `CL${n}`;
        const ts = `${1_760_000_000 + n}.000100`;
        const r: Req = {
          n,
          user: u,
          platform,
          key: channel,
          requestId: `slack-T1-${channel}-${ts}`,
          sentAt: performance.now(),
          answers: 0,
        };
        track(r, channel);
        void slack.sendEnvelope('events_api', {
          token: 'x',
          team_id: 'T1',
          api_app_id: 'A1',
          type: 'event_callback',
          event_id: `EvLoad${n}`,
          event_time: 1,
          event: {
            type: 'app_mention',
            user: `UL${u}`,
            text: `<@${slack.botUserId}> front, studio`,
            ts,
            event_ts: ts,
            channel,
            files: [
              {
                id: `FL${n}`,
                name: 'selfie.jpg',
                mimetype: 'image/jpeg',
                filetype: 'jpg',
                size: selfie.byteLength,
                url_private_download: slackUrl,
              },
            ],
          },
        });
      }
    };
    const track = (r: Req, key: string) => {
      reqs.push(r);
      byKey.set(`${r.platform}:${key}`, r);
      byRequestId.set(r.requestId, r);
    };
    const answer = (r: Req | undefined, code?: string) => {
      if (!r) return;
      r.answers++;
      if (r.answers > 1) {
        duplicates++;
        return;
      }
      r.answeredAt = performance.now();
      if (code) r.code = code;
      answered++;
      if (answered === total) finished();
      else send(r.user);
    };

    // The fakes record every call; new ones are read every 50 ms and matched to their request.
    let dSeen = 0;
    let sSeen = 0;
    const poll = () => {
      for (; dSeen < discord.calls.length; dSeen++) {
        const c = discord.calls[dSeen];
        if (!c || c.status === undefined || c.status >= 300) continue;
        const upload = c.files.map((f) => DISCORD_UPLOAD.exec(f.name)?.[1]).find((s) => s !== undefined);
        if (upload) {
          answer(byKey.get(`discord:${upload}`));
          continue;
        }
        const token = /^\/(?:webhooks\/\d+|interactions\/\d+)\/([^/]+)/.exec(c.path)?.[1];
        const data = c.body?.['data'] as Record<string, unknown> | undefined;
        const code = codeOfSentence(String(c.body?.['content'] ?? data?.['content'] ?? ''));
        if (token && code)
          answer(
            [...byKey.values()].find((r) => r.platform === 'discord' && r.key === token),
            code,
          );
      }
      for (; sSeen < slack.calls.length; sSeen++) {
        const c = slack.calls[sSeen];
        if (!c) continue;
        if (c.method === 'files.completeUploadExternal') {
          answer(byKey.get(`slack:${String(c.args['channel_id'])}`));
        } else if (c.method.startsWith('chat.')) {
          // Every sentence that ends a Slack request starts with :warning:; one no code is known for still counts.
          const text = String(c.args['text'] ?? '');
          if (text.includes(':warning:')) {
            answer(byKey.get(`slack:${String(c.args['channel'])}`), codeOfSentence(text) ?? 'unrecognised sentence');
          }
        }
      }
    };
    poller = setInterval(poll, 50);
    sampler = setInterval(() => {
      for (const p of procs) p.sample(answered);
    }, 1000);

    const t0 = performance.now();
    for (let u = 0; u < users; u++) for (let k = 0; k < inFlight; k++) send(u);
    const timedOut = await Promise.race([
      allAnswered.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), maxMs).unref()),
    ]);
    const elapsedMs = performance.now() - t0;
    // A moment for late duplicates to show before counting.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    poll();
    clearInterval(poller);
    clearInterval(sampler);
    for (const p of procs) p.sample(answered);

    report({ total, users, workers, threads, outputSize, inFlight, reqs, duplicates, elapsedMs, timedOut, procs });
  } finally {
    clearInterval(poller);
    clearInterval(sampler);
    await Promise.all(procs.map((p) => p.stop()));
    await discord.stop();
    await slack.close();
    await deleteKeys(redis.connection(), prefix);
    await redis.close();
  }
}

function report(r: {
  total: number;
  users: number;
  workers: number;
  threads: number;
  outputSize: number;
  inFlight: number;
  reqs: Req[];
  duplicates: number;
  elapsedMs: number;
  timedOut: boolean;
  procs: LoadProcess[];
}): void {
  const answered = r.reqs.filter((q) => q.answeredAt !== undefined);
  const ok = answered.filter((q) => q.code === undefined);
  const e2e = answered.map((q) => (q.answeredAt as number) - q.sentAt);
  const waits = r.reqs.map((q) => q.queueMs).filter((v): v is number => v !== undefined);
  const failures = new Map<string, number>();
  for (const q of answered) if (q.code) failures.set(q.code, (failures.get(q.code) ?? 0) + 1);
  const worst = new Map<number, number>();
  for (const q of r.reqs) if (q.queueMs !== undefined) worst.set(q.user, Math.max(worst.get(q.user) ?? 0, q.queueMs));
  const perUser = [...worst.values()];
  const byPlatform = (p: string) => ok.filter((q) => q.platform === p).length;

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`cores: ${availableParallelism()} (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
  console.log(
    `${r.total} requests from ${r.users} users (half Discord /portrait, half Slack mentions; up to ${r.inFlight} in flight each), ` +
      `bot process + ${r.workers} worker process(es) x ${r.threads} thread(s), compositor at ${r.outputSize}px`,
  );
  const row = (label: string, value: string) => console.log(`  ${label.padEnd(36)} ${value}`);
  row('wall time', `${(r.elapsedMs / 1000).toFixed(1)} s${r.timedOut ? ' (stopped at LOAD_MAX_SECONDS)' : ''}`);
  row('throughput', `${(answered.length / (r.elapsedMs / 1000)).toFixed(2)} answers/s`);
  row('queue wait p50 / p95 / p99', `${triple(waits)} (${waits.length} jobs)`);
  row('end to end p50 / p95 / p99', triple(e2e));
  row('worst queue wait of any one user', seconds(Math.max(0, ...perUser)));
  row('best user’s worst wait', seconds(perUser.length ? Math.min(...perUser) : 0));
  row(
    'portraits delivered',
    `${ok.length} of ${r.total} (Discord ${byPlatform('discord')}, Slack ${byPlatform('slack')})`,
  );
  row(
    'failures/refusals by code',
    failures.size === 0 ? 'none' : [...failures].map(([c, n]) => `${c}: ${n}`).join(', '),
  );
  row('lost (sent, never answered)', String(r.total - answered.length));
  row('duplicated answers', String(r.duplicates));
  for (const p of r.procs) {
    const peak = p.peakRss() ?? Math.max(0, ...p.rss.map((x) => x.bytes));
    row(`${p.name} peak RSS / drift`, `${mib(peak)} / ${drift(p.rss, r.total)}`);
  }
  row('driver (fakes) peak RSS', mib(process.resourceUsage().maxRSS * 1024));
}

/** RSS change from the first to the last quarter of the samples after warm-up (the first 10% of answers). */
function drift(samples: Array<{ answered: number; bytes: number }>, total: number): string {
  const steady = samples.filter((x) => x.answered >= total / 10);
  if (steady.length < 4) return 'too short a run to say';
  const q = Math.max(1, Math.floor(steady.length / 4));
  const avg = (xs: typeof steady) => xs.reduce((a, x) => a + x.bytes, 0) / xs.length;
  const [first, last] = [avg(steady.slice(0, q)), avg(steady.slice(-q))];
  return `${mib(first)} -> ${mib(last)} (${(((last - first) / first) * 100).toFixed(1)}%)`;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function triple(values: number[]): string {
  return [50, 95, 99].map((p) => seconds(pct(values, p))).join(' / ');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

// `npm run load` runs this file directly; `npm run bench -- load` imports it and calls run().
if (import.meta.url === `file://${process.argv[1]}`) {
  process.env['PORTRAIT_MODELS_DIR'] ??= MODELS_DIR;
  await run();
  process.exit(0);
}
