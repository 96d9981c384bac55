import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { selfieDetails } from '../conversation/answers.js';
import { parseLighting } from '../core/lighting.js';
import { describeError } from '../core/messages.js';
import { parsePose } from '../core/pose.js';
import { type Requester, randomSeed } from '../core/request.js';
import { checkStyleForEngine } from '../core/style.js';
import { type ErrorPayload, newReferenceId, PortraitError, StartupError, toErrorPayload } from '../errors.js';
import type { Logger } from '../log.js';
import { loadPack } from '../pipeline/diffusion/pack.js';
import { fetchModels } from '../pipeline/models/index.js';
import { createPortraitService, type Delivery, openRedis, RedisUnavailableError, startWorker } from '../queue/index.js';
import { GENERATE_HELP, type GenerateArgs, parseGenerateArgs } from './generate-args.js';
import { createProgressLine } from './progress-line.js';

type Answer = Extract<Delivery, { kind: 'result' | 'failure' }>;

/** Exit codes: 0 done, 1 internal error (a bug or an outage), 2 the user's to fix. */
export const EXIT = { ok: 0, internal: 1, user: 2 } as const;

/**
 * `portrait generate`: one portrait through the real queue and a worker in this process, with the embedded Redis
 * when REDIS_URL is unset. The same path a chat request takes, so a newcomer's first run exercises the product.
 */
export async function generateCommand(argv: string[], config: Config, log: Logger): Promise<number> {
  let args: GenerateArgs;
  try {
    args = parseGenerateArgs(argv);
    if (args.help) {
      process.stdout.write(GENERATE_HELP);
      return EXIT.ok;
    }
    validate(args, config);
  } catch (err) {
    return report(toErrorPayload(err), argv.includes('--json'));
  }

  const started = performance.now();
  const progress = createProgressLine(!args.json);
  let cleanup: Array<() => Promise<void>> = [];
  try {
    // A --pack is checked before anything starts: a broken one is the user's to fix, said with the file and tensor.
    if (args.pack !== undefined) {
      const checked = await checkPack(args.pack, config, log);
      if (!checked.ok) return reportPack(args.pack, checked.error, args.json);
      config = { ...config, PORTRAIT_DIFFUSION_PACK: checked.dir };
    }
    const selfies = await Promise.all(args.selfies.map((file, i) => readSelfie(file, i + 1)));
    // Fetch the face models here, on the main thread, so a first run shows one download bar before anything else.
    await fetchModels();

    const redis = await openRedis(config, log);
    cleanup.unshift(() => redis.close());
    const worker = await startWorker(config, redis, log);
    cleanup.unshift(() => worker.close());
    const service = createPortraitService(config, redis, log);
    cleanup.unshift(() => service.close());

    const owner: Requester = { platform: 'cli', userId: safeUserName(), scopeId: 'local' };
    const selfieKeys = await Promise.all(selfies.map((bytes) => service.putBlob(bytes, owner)));
    // A private inbox: another `portrait generate` on the same Redis never takes this run's answer.
    const inbox = `cli-${randomBytes(6).toString('hex')}`;
    const answer = new Promise<Answer>((resolveAnswer) => {
      void service
        .consumeDeliveries(
          'cli',
          async (d) => {
            if (d.kind === 'progress') progress.stage(d.stage, d.step, d.steps);
            else resolveAnswer(d);
          },
          { inbox, removeOnClose: true },
        )
        .then((consumer) => cleanup.unshift(() => consumer.close()));
    });
    const seed = args.seed ?? randomSeed();
    const receipt = await service.submit({
      idempotencyKey: `cli-${randomUUID()}`,
      inbox,
      // The one running the CLI is the operator: the chat members' quotas are not theirs (src/queue/submit.ts).
      operator: true,
      request: {
        requester: owner,
        selfieKeys,
        pose: args.pose,
        lighting: args.lighting,
        style: args.style,
        variations: args.variations,
        seed,
        debug: args.debugDir !== undefined,
        ...(args.engine ? { engine: args.engine } : {}),
        output: {
          size: args.size ?? config.PORTRAIT_OUTPUT_SIZE,
          format: args.format ?? config.PORTRAIT_OUTPUT_FORMAT,
        },
      },
    });
    log.debug({ jobId: receipt.jobId }, 'submitted');
    const done = await answer;
    progress.end();
    if (done.kind === 'failure') return report(oneSelfie(done.error, args.selfies.length), args.json);

    const outputs = outputPaths(args.out, done.result.outputKeys.length);
    for (const [i, key] of done.result.outputKeys.entries()) {
      const bytes = await service.getBlob(key);
      if (!bytes) throw new PortraitError('job.expired', `output ${key} expired before it was read`);
      await mkdir(dirname(outputs[i]!), { recursive: true });
      await writeFile(outputs[i]!, bytes);
    }
    let debugSheet: string | undefined;
    if (args.debugDir && done.result.debugSheetKey) {
      const bytes = await service.getBlob(done.result.debugSheetKey);
      if (bytes) {
        debugSheet = join(resolve(args.debugDir), `${basename(args.out, extname(args.out))}-debug.png`);
        await mkdir(dirname(debugSheet), { recursive: true });
        await writeFile(debugSheet, bytes);
      }
    }
    const summary = {
      code: 'ok',
      jobId: receipt.jobId,
      outputs,
      ...(debugSheet ? { debugSheet } : {}),
      engine: done.result.engine,
      seed: done.seed,
      width: done.result.width,
      height: done.result.height,
      faces: done.result.facesPerSelfie,
      timings: roundAll({ ...done.result.timings, total: performance.now() - started }),
      report: done.result.report,
    };
    if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(`${outputs.join('\n')}\n`);
      process.stderr.write(
        `done in ${(summary.timings.total! / 1000).toFixed(2)} s with the ${summary.engine} engine, seed ${summary.seed}` +
          (debugSheet ? `; debug sheet: ${debugSheet}` : '') +
          '\n',
      );
      // What the engine did differently from the request (a partial turn), for the operator as for a member.
      const note = done.result.report['note'];
      if (typeof note === 'string' && note !== '') process.stderr.write(`note: ${note}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    progress.end();
    // An operator's setting at fault (an unreachable REDIS_URL, a model that cannot be fetched) is said by main.ts
    // in one sentence naming it; a reference id would send the operator looking for a bug.
    if (err instanceof StartupError || err instanceof RedisUnavailableError) throw err;
    // The face models are fetched and checked here, before the queue: the registry's sentence names the file and
    // the command that fetches it (the chat sentence, "the admin has been told", would be wrong: this is the admin).
    if (err instanceof PortraitError && err.code.startsWith('model.')) {
      if (args.json) process.stdout.write(`${JSON.stringify({ code: err.code, message: err.message })}\n`);
      process.stderr.write(`${err.code}: ${err.message}\n`);
      return EXIT.internal;
    }
    const refId = newReferenceId();
    const payload = toErrorPayload(err, err instanceof PortraitError && err.userError ? undefined : refId);
    if (payload.refId) log.error({ err, refId }, 'generate failed');
    return report(oneSelfie(payload, args.selfies.length), args.json);
  } finally {
    const steps = cleanup;
    cleanup = [];
    for (const close of steps) await close().catch((err: unknown) => log.warn({ err }, 'close failed'));
  }
}

/**
 * Loads the pack as a worker would (every file, tensor name, dtype and channel count checked) and releases it again.
 * A pack the loader refuses (model.missing, model.invalid) comes back as the error; anything else is thrown.
 */
async function checkPack(
  dir: string,
  config: Config,
  log: Logger,
): Promise<{ ok: true; dir: string } | { ok: false; error: ErrorPayload }> {
  const abs = resolve(dir);
  try {
    const pack = await loadPack(abs, {
      provider: config.PORTRAIT_EXECUTION_PROVIDER,
      threads: config.PORTRAIT_ORT_THREADS,
      logger: log,
    });
    await pack.dispose();
    return { ok: true, dir: abs };
  } catch (err) {
    if (err instanceof PortraitError && err.code.startsWith('model.')) return { ok: false, error: toErrorPayload(err) };
    throw err;
  }
}

/**
 * A broken --pack is a user error on the command line (exit 2): the one running the command chose the folder. The
 * loader's own message is the sentence, since it names the file and tensor at fault; the chat sentence for these
 * codes ("the admin has been told") would be wrong here.
 */
function reportPack(dir: string, error: ErrorPayload, json: boolean): number {
  const message = printable(`the model pack ${dir} cannot be used: ${error.message}`);
  if (json) process.stdout.write(`${JSON.stringify({ code: error.code, message, details: error.details })}\n`);
  process.stderr.write(`${error.code}: ${message}\n`);
  return EXIT.user;
}

function validate(args: GenerateArgs, config: Config): void {
  if (args.selfies.length === 0) throw new PortraitError('request.no_selfie', 'no --selfie given');
  if (args.selfies.length > 4) throw new PortraitError('request.too_many_selfies', 'too many selfies', { limit: 4 });
  const pose = parsePose(args.pose);
  if (!pose.ok) throw pose.error;
  const light = parseLighting(args.lighting);
  if (!light.ok) throw light.error;
  // A style the compositor cannot render is refused before anything starts (a defaulted diffusion engine may
  // still fall back to the compositor, which refuses it then).
  const style = checkStyleForEngine(args.style, args.engine ?? config.PORTRAIT_ENGINE);
  if (style) throw style;
}

async function readSelfie(file: string, selfie: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PortraitError('request.bad_option', `cannot read ${printable(file)}: ${code}`, {
      option: `--selfie ${printable(file)}`,
      expected: code === 'ENOENT' ? 'no such file' : `the file cannot be read (${code ?? 'error'})`,
      selfie,
    });
  }
}

/**
 * A file name as the terminal may show it: control characters (ANSI escape sequences that recolour or retitle the
 * terminal) and bidirectional overrides (a name that reads backwards) escaped as \uXXXX. Selfie files can come
 * from anywhere, and their names are the one piece of them the CLI prints.
 */
export function printable(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** portrait.webp, portrait-2.webp, ... one per variation. */
function outputPaths(out: string, count: number): string[] {
  const ext = extname(out);
  const stem = out.slice(0, out.length - ext.length);
  return Array.from({ length: count }, (_, i) => resolve(i === 0 ? out : `${stem}-${i + 1}${ext}`));
}

/** With a single selfie, "your selfie" reads better than "selfie 1" (the rule every platform shares). */
function oneSelfie(error: ErrorPayload, selfies: number): ErrorPayload {
  return { ...error, details: selfieDetails(error.details, selfies) };
}

function report(error: ErrorPayload, json: boolean): number {
  const user = error.code !== 'internal.error' && !error.code.startsWith('model.') && !error.refId;
  // A model problem is the operator's, and the one running the CLI is the operator: the registry's or loader's own
  // sentence (file, place, fix) instead of the chat sentence that says "the admin has been told".
  const text = error.code.startsWith('model.') ? printable(error.message) : describeError(error);
  if (json) process.stdout.write(`${JSON.stringify({ code: error.code, message: text })}\n`);
  process.stderr.write(`${error.code}: ${text}\n`);
  return user ? EXIT.user : EXIT.internal;
}

function roundAll(t: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 10) / 10]));
}

function safeUserName(): string {
  try {
    return (
      userInfo()
        .username.replace(/[^A-Za-z0-9_.-]/g, '_')
        .slice(0, 64) || 'local'
    );
  } catch {
    return 'local';
  }
}
