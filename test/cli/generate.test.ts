import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { PROJECT_ROOT } from '../../src/config.js';
import { facePath, MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';

const run = promisify(execFile);
const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');
const dir = mkdtempSync(join(tmpdir(), 'portrait-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `portrait generate ...` as a user would, in a clean environment with only what the CLI needs. */
async function generate(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'generate', ...args], {
      cwd: dir,
      env: {
        PATH: process.env['PATH'] ?? '',
        PORTRAIT_MODELS_DIR: MODELS_DIR,
        PORTRAIT_QUEUE_PREFIX: uniquePrefix('cli'),
        PORTRAIT_DATA_DIR: join(dir, 'data'),
        REDIS_URL,
        ...env,
      },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('a selfie becomes a portrait file, with one JSON summary', async () => {
  const out = join(dir, 'portrait.png');
  const r = await generate([
    '--selfie',
    facePath('astronaut.png'),
    '--light',
    'rembrandt',
    '--size',
    '256',
    '--seed',
    '7',
    '--out',
    out,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(summary['code'], 'ok');
  assert.deepEqual(summary['outputs'], [out]);
  assert.equal(summary['seed'], 7);
  assert.deepEqual(summary['faces'], [1]);
  const timings = summary['timings'] as Record<string, number>;
  for (const stage of ['ingest', 'detect', 'encode', 'total']) assert.ok(timings[stage]! >= 0, `timing for ${stage}`);
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 256);
  assert.equal(meta.height, 256);
});

test('user errors exit 2 with the stable code and a readable sentence', async () => {
  const notImage = join(dir, 'selfie.jpg');
  writeFileSync(notImage, 'this is a text file, not a photo\n');
  const cases: Array<[string[], string]> = [
    [['--selfie', notImage], 'input.not_image'],
    [['--selfie', join(dir, 'missing.jpg')], 'request.bad_option'],
    [['--selfie', facePath('astronaut.png'), '--pose', 'lft'], 'request.bad_pose'],
    [['--selfie', facePath('astronaut.png'), '--light', 'disco ball'], 'request.bad_lighting'],
    // The compositor renders only the style catalogue; anything else is refused, never silently ignored.
    [['--selfie', facePath('astronaut.png'), '--engine', 'compositor', '--style', 'watercolour'], 'request.bad_style'],
    [['--pose', 'front'], 'request.no_selfie'],
    [['--selfie', facePath('astronaut.png'), '--seed', 'abc'], 'request.bad_option'],
  ];
  for (const [args, code] of cases) {
    const r = await generate([...args, '--out', join(dir, 'x.webp'), '--json']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const summary = JSON.parse(r.stdout) as { code: string; message: string };
    assert.equal(summary.code, code, args.join(' '));
    assert.ok(r.stderr.startsWith(`${code}: `) && r.stderr.length > code.length + 20, 'sentence on stderr');
    assert.doesNotMatch(summary.message, /undefined|\[object/);
  }
});

test('with no REDIS_URL the CLI starts its own Redis and stops it again', async () => {
  const out = join(dir, 'embedded.webp');
  const r = await generate(['--selfie', facePath('astronaut.png'), '--engine', 'crop', '--size', '128', '--out', out], {
    REDIS_URL: '',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), out);
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'webp');
  assert.equal(meta.width, 128);
});
