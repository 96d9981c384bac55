/**
 * Load run: simulated users submit portraits through the portrait service (what the chat adapters call) into a real
 * `portrait worker` process (the CLI, its pipeline threads, the real engine) on one Redis, and every request is
 * matched to its answer on the delivery queue an adapter would consume. Loopback only.
 *
 * Each user keeps as many requests in flight as PORTRAIT_USER_IN_FLIGHT allows (2 by default) and sends the next the
 * moment an answer comes back, so the queue holds users x in-flight jobs while the worker drains it. Users are spread
 * over communities so the per-community cap is not what is measured.
 *
 * Prints: throughput, queue wait (submit -> worker start) and end to end (submit -> answer handled) p50/p95/p99, the
 * worst wait of any single user (fairness), failures by code, lost and duplicated answers, peak RSS of both
 * processes and the worker's RSS trend (read from its own /metrics, which this run also cross-checks).
 *
 * Knobs (environment, all optional): LOAD_REQUESTS (500), LOAD_USERS (100), LOAD_ENGINE (compositor | crop: the crop
 * engine for queue throughput without the compositor's work), LOAD_CONCURRENCY (the worker's
 * PORTRAIT_WORKER_CONCURRENCY), LOAD_OUTPUT_SIZE (512), LOAD_MAX_SECONDS (900: the run stops there and counts what
 * is unanswered as lost).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { getConfig, PROJECT_ROOT, parseConfig } from '../src/config.js';
import type { Requester } from '../src/core/request.js';
import { silentLogger } from '../src/log.js';
import { openRedis } from '../src/queue/connection.js';
import type { Delivery } from '../src/queue/jobs.js';
import { createPortraitService } from '../src/queue/submit.js';
import { facePath, MODELS_DIR } from '../test/helpers/env.js';
import { deleteKeys } from '../test/helpers/redis.js';

const env = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

const PHOTO = 'pexels-dinielle-de-veyra-4195444.jpg';
/** Poses and lightings the compositor accepts for a frontal selfie, so every request should succeed. */
const POSES = ['front', 'tilt left', 'tilt right', 'look down'];
const LIGHTINGS = ['studio', 'rembrandt', 'window', 'golden hour'];
const USERS_PER_COMMUNITY = 10;

interface Sent {
  user: number;
  submittedAt: number;
  answeredAt?: number;
  answers: number;
  queueMs?: number;
  code?: string;
}

export async function run(): Promise<void> {
  const base = getConfig();
  const requests = env('LOAD_REQUESTS', 500);
  const users = Math.min(env('LOAD_USERS', 100), requests);
  const engine = process.env['LOAD_ENGINE'] === 'crop' ? 'crop' : 'compositor';
  const concurrency = env('LOAD_CONCURRENCY', base.PORTRAIT_WORKER_CONCURRENCY);
  const outputSize = env('LOAD_OUTPUT_SIZE', 512);
  const maxMs = env('LOAD_MAX_SECONDS', 900) * 1000;
  const prefix = `load-${process.pid}-${Date.now().toString(36)}`;
  const config = parseConfig({
    ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])),
    PORTRAIT_QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  const redis = await openRedis(config, silentLogger);
  const service = createPortraitService(config, redis, silentLogger);
  const worker = startWorkerProcess({
    REDIS_URL: redis.url,
    PORTRAIT_QUEUE_PREFIX: prefix,
    PORTRAIT_ENGINE: engine,
    PORTRAIT_WORKER_CONCURRENCY: String(concurrency),
    PORTRAIT_OUTPUT_SIZE: String(outputSize),
    PORTRAIT_MODELS_DIR: base.PORTRAIT_MODELS_DIR ?? MODELS_DIR,
    HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });

  const sent = new Map<string, Sent>();
  const submitRefusals = new Map<string, number>();
  const duplicates: string[] = [];
  const rss: RssSample[] = [];
  let finished: () => void = () => {};
  const allAnswered = new Promise<void>((resolve) => {
    finished = resolve;
  });
  let answered = 0;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const metricsPort = await worker.ready;
    const selfieBytes = new Uint8Array(readFileSync(facePath(PHOTO)));
    const requesters: Requester[] = Array.from({ length: users }, (_, u) => ({
      platform: 'discord',
      userId: `load-user-${u}`,
      scopeId: `load-guild-${Math.floor(u / USERS_PER_COMMUNITY)}`,
    }));
    // Each user's selfie is stored once, as an adapter does on the first request; redos reuse the key.
    const selfies = await Promise.all(requesters.map((r) => service.putBlob(selfieBytes, r)));
    const nextOf = new Map<number, () => void>();
    const consumer = await service.consumeDeliveries('discord', async (d: Delivery) => {
      if (d.kind === 'progress') return;
      const s = sent.get(d.jobId);
      if (!s) return;
      s.answers++;
      if (s.answers > 1) {
        duplicates.push(d.jobId);
        return;
      }
      s.answeredAt = performance.now();
      const queueMs = d.kind === 'result' ? d.result.timings['queue'] : undefined;
      if (queueMs !== undefined) s.queueMs = queueMs;
      if (d.kind === 'failure') s.code = d.error.code;
      answered++;
      nextOf.get(s.user)?.();
      if (answered === requests) finished();
    });

    // The worker's RSS, as its own /metrics reports it, once a second.
    const sample = async () => {
      const text = await scrape(metricsPort).catch(() => '');
      const bytes = metricValue(text, 'process_resident_memory_bytes');
      if (bytes !== undefined) rss.push({ answered, bytes });
    };
    sampler = setInterval(() => void sample(), 1000);
    await sample();

    // Requests are dealt to users round-robin; each user sends its share keeping `inFlight` outstanding.
    const inFlight = config.PORTRAIT_USER_IN_FLIGHT;
    const share = requesters.map((_, u) => Math.floor(requests / users) + (u < requests % users ? 1 : 0));
    let issued = 0;
    const t0 = performance.now();
    const submitOne = async (u: number, n: number) => {
      const requester = requesters[u] as Requester;
      const idempotencyKey = `load-${u}-${n}`;
      const submittedAt = performance.now();
      const i = issued++;
      try {
        const receipt = await service.submit({
          idempotencyKey,
          request: {
            requester,
            selfieKeys: [selfies[u] as string],
            pose: POSES[i % POSES.length] as string,
            lighting: LIGHTINGS[Math.floor(i / POSES.length) % LIGHTINGS.length] as string,
            seed: i,
            route: { user: String(u) },
          },
        });
        if (receipt.duplicate) throw new Error(`request ${idempotencyKey} was taken for a duplicate`);
        sent.set(receipt.jobId, { user: u, submittedAt, answers: 0 });
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'submit.error';
        submitRefusals.set(code, (submitRefusals.get(code) ?? 0) + 1);
        // A refused request is answered (by the refusal): it counts towards the end, and the user goes on.
        answered++;
        if (answered === requests) finished();
        nextOf.get(u)?.();
      }
    };
    for (const [u, total] of share.entries()) {
      let next = 0;
      const sendNext = () => {
        if (next < total) void submitOne(u, next++);
      };
      nextOf.set(u, sendNext);
      for (let k = 0; k < Math.min(inFlight, total); k++) sendNext();
    }
    const timedOut = await Promise.race([
      allAnswered.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), maxMs).unref()),
    ]);
    const elapsedMs = performance.now() - t0;
    clearInterval(sampler);
    await sample();
    const finalMetrics = await scrape(metricsPort).catch(() => '');
    await consumer.close();

    report({
      requests,
      users,
      engine,
      concurrency,
      outputSize,
      sent,
      submitRefusals,
      duplicates,
      rss,
      elapsedMs,
      timedOut,
      workerPeakRss: worker.peakRss(),
      workerMetrics: finalMetrics,
    });
  } finally {
    clearInterval(sampler);
    await worker.stop();
    await deleteKeys(redis.connection(), prefix);
    await service.close();
    await redis.close();
  }
}

interface RssSample {
  /** Requests answered when it was taken: the trend is judged after the warm-up (models, first allocations). */
  answered: number;
  bytes: number;
}

interface WorkerProcess {
  /** Resolves with the worker's metrics port once its models are loaded. */
  ready: Promise<number>;
  /** Peak RSS in bytes from /proc (Linux), else undefined. */
  peakRss(): number | undefined;
  stop(): Promise<void>;
}

/** `portrait worker` as an operator runs it, with its health endpoint on a free port. */
function startWorkerProcess(extraEnv: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [`${PROJECT_ROOT}/bin/portrait.mjs`, 'worker'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tail: string[] = [];
  const ready = new Promise<number>((resolve, reject) => {
    let port: number | undefined;
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      const entry = parseLine(line);
      if (entry?.['msg'] === 'health and metrics endpoint listening') port = Number(entry['port']);
      if (entry?.['msg'] === 'portrait worker ready' && port !== undefined) resolve(port);
    });
    void exited.then(() => reject(new Error(`portrait worker exited before it was ready:\n${tail.join('\n')}`)));
  });
  let peak: number | undefined;
  const readPeak = () => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (kb) peak = Number(kb) * 1024;
    } catch {
      // Not Linux, or the process is gone: the sampled RSS stands in.
    }
    return peak;
  };
  return {
    ready,
    peakRss: readPeak,
    async stop() {
      readPeak();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
      await exited;
      clearTimeout(killer);
    },
  };
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

/** One sample's value from a Prometheus exposition; labels given as they appear, e.g. `{engine="crop"}`. */
function metricValue(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function report(r: {
  requests: number;
  users: number;
  engine: string;
  concurrency: number;
  outputSize: number;
  sent: Map<string, Sent>;
  submitRefusals: Map<string, number>;
  duplicates: string[];
  rss: RssSample[];
  elapsedMs: number;
  timedOut: boolean;
  workerPeakRss: number | undefined;
  workerMetrics: string;
}): void {
  const all = [...r.sent.values()];
  const answered = all.filter((s) => s.answeredAt !== undefined);
  const ok = answered.filter((s) => s.code === undefined);
  const e2e = answered.map((s) => (s.answeredAt as number) - s.submittedAt);
  const waits = ok.map((s) => s.queueMs ?? Number.NaN).filter(Number.isFinite);
  const failures = new Map<string, number>();
  for (const s of answered) if (s.code) failures.set(s.code, (failures.get(s.code) ?? 0) + 1);
  for (const [code, n] of r.submitRefusals) failures.set(`${code} (at submit)`, n);
  const worstWait = new Map<number, number>();
  for (const s of ok) worstWait.set(s.user, Math.max(worstWait.get(s.user) ?? 0, s.queueMs ?? 0));
  const perUserWorst = [...worstWait.values()];
  const lost = all.length - answered.length;

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`cores: ${availableParallelism()} (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
  console.log(
    `${r.requests} requests from ${r.users} users (up to ${getConfig().PORTRAIT_USER_IN_FLIGHT} in flight each), ` +
      `engine ${r.engine} at ${r.outputSize}px, 1 worker process with ${r.concurrency} pipeline thread(s), one photo`,
  );
  const row = (label: string, value: string) => console.log(`  ${label.padEnd(38)} ${value}`);
  row('wall time', `${(r.elapsedMs / 1000).toFixed(1)} s${r.timedOut ? ' (stopped at LOAD_MAX_SECONDS)' : ''}`);
  row('throughput', `${(answered.length / (r.elapsedMs / 1000)).toFixed(2)} answers/s`);
  row('queue wait p50 / p95 / p99', triple(waits));
  row('end to end p50 / p95 / p99', triple(e2e));
  row('worst queue wait of any one user', `${seconds(Math.max(0, ...perUserWorst))}`);
  row('best user’s worst wait', `${seconds(perUserWorst.length ? Math.min(...perUserWorst) : 0)}`);
  row('answered ok', `${ok.length} of ${r.requests}`);
  row('failures by code', failures.size === 0 ? 'none' : [...failures].map(([code, n]) => `${code}: ${n}`).join(', '));
  row('lost (accepted, never answered)', String(lost));
  row('duplicated answers', String(r.duplicates.length));
  // Flatness after the warm-up (the first 10% of answers: models loaded, buffers grown to their working size).
  const steady = r.rss.filter((x) => x.answered >= r.requests / 10);
  const quarter = Math.max(1, Math.floor(steady.length / 4));
  const avg = (xs: RssSample[]) => xs.reduce((a, x) => a + x.bytes, 0) / Math.max(1, xs.length);
  const [first, last] = [avg(steady.slice(0, quarter)), avg(steady.slice(-quarter))];
  const sampledPeak = Math.max(0, ...r.rss.map((x) => x.bytes));
  row('worker peak RSS', mib(r.workerPeakRss ?? sampledPeak) + (r.workerPeakRss ? ' (VmHWM)' : ' (sampled)'));
  row(
    'worker RSS after warm-up',
    steady.length < 2
      ? 'too short a run to say'
      : `${mib(first)} -> ${mib(last)} first to last quarter (${(((last - first) / first) * 100).toFixed(1)}%), ` +
          `range ${mib(Math.min(...steady.map((x) => x.bytes)))}-${mib(Math.max(...steady.map((x) => x.bytes)))}, ${steady.length} samples`,
  );
  row('driver (service + consumer) peak RSS', mib(process.resourceUsage().maxRSS * 1024));
  // The worker's own counters must agree with what the driver saw.
  const completed = metricValue(r.workerMetrics, 'portrait_jobs_completed_total', `{engine="${r.engine}"}`) ?? 0;
  const waitCount = metricValue(r.workerMetrics, 'portrait_queue_wait_seconds_count') ?? 0;
  row('worker /metrics: completed, waits', `${completed}, ${waitCount} (driver saw ${ok.length} ok)`);
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
