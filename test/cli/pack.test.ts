import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { PROJECT_ROOT } from '../../src/config.js';
import { makePack } from '../diffusion/fixtures/make-pack.js';
import { facePath, MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';

// `portrait generate --engine diffusion --pack DIR` as a user runs it: a good fixture pack makes a portrait through
// the real queue and in-process worker; a broken one is refused before anything starts, exit 2 with its code and
// the sentence naming the file and tensor at fault.
const run = promisify(execFile);
const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');
const dir = mkdtempSync(join(tmpdir(), 'portrait-cli-pack-'));
const packs: string[] = [];
let good: string;
before(async () => {
  good = await makePack({ flavor: 'optimum', channels: 9 });
  packs.push(good);
});
after(() => {
  for (const p of [dir, ...packs]) rmSync(p, { recursive: true, force: true });
});

async function generate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'generate', ...args], {
      cwd: dir,
      env: {
        PATH: process.env['PATH'] ?? '',
        PORTRAIT_MODELS_DIR: MODELS_DIR,
        PORTRAIT_QUEUE_PREFIX: uniquePrefix('cli-pack'),
        PORTRAIT_DATA_DIR: join(dir, 'data'),
        PORTRAIT_ORT_THREADS: '1',
        REDIS_URL,
      },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const selfie = ['--selfie', facePath('astronaut.png'), '--size', '128', '--seed', '5'];

test('a good pack: a diffusion portrait, exit 0', async () => {
  const out = join(dir, 'diffused.png');
  const r = await generate([...selfie, '--engine', 'diffusion', '--pack', good, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(summary['engine'], 'diffusion');
  assert.deepEqual(summary['outputs'], [out]);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 128, 128]);
});

test('a pack with a wrong tensor name: exit 2, model.invalid, the file and tensor named', async () => {
  const broken = await makePack({ flavor: 'optimum', channels: 9, unetSampleName: 'latent_model_input' });
  packs.push(broken);
  const r = await generate([...selfie, '--engine', 'diffusion', '--pack', broken, '--out', join(dir, 'no.png')]);
  assert.equal(r.code, 2, r.stderr);
  const line = r.stderr.trim().split('\n').at(-1) ?? '';
  assert.ok(line.startsWith('model.invalid: the model pack '), line);
  assert.match(line, /unet\/model\.onnx input\/output "sample"/);
  assert.match(line, /required input is missing/);
});

test('a pack missing a file: exit 2, model.missing naming it; --json carries the code', async () => {
  const broken = await makePack({ flavor: 'legacy', channels: 4 });
  packs.push(broken);
  unlinkSync(join(broken, 'vae_decoder', 'model.onnx'));
  const r = await generate([...selfie, '--pack', broken, '--json']);
  assert.equal(r.code, 2, r.stderr);
  const answer = JSON.parse(r.stdout) as { code: string; message: string; details: Record<string, unknown> };
  assert.equal(answer.code, 'model.missing');
  assert.equal(answer.details['file'], 'vae_decoder/model.onnx');
  assert.match(answer.message, /vae_decoder\/model\.onnx is missing/);
});

test('--pack with another engine is a bad option', async () => {
  const r = await generate([...selfie, '--engine', 'crop', '--pack', good]);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.startsWith('request.bad_option: '), r.stderr);
});
