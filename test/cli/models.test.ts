import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.js';
import { MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';

/**
 * `portrait models` and a first `portrait generate` without the face models, as spawned processes: an empty cache
 * and a mirror nothing answers at stand for a machine without internet. Every outcome is a sentence naming the file
 * and the command that fetches it; verify fails while a required model is missing.
 */
const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');
const dir = mkdtempSync(join(tmpdir(), 'portrait-models-cli-'));
let offline: Record<string, string>;

function portrait(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: dir, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

before(async () => {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as { port: number };
  await new Promise((ok) => srv.close(ok));
  offline = { PORTRAIT_MODELS_CACHE: join(dir, 'empty-cache'), PORTRAIT_MODEL_MIRROR: `http://127.0.0.1:${port}/` };
});
after(() => rmSync(dir, { recursive: true, force: true }));

it('models verify exits 1 naming the missing required models and the command that fetches them', async () => {
  const r = await portrait(['models', 'verify'], offline);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^yunet\s+MISSING/m);
  assert.match(r.stdout, /^identity\s+missing \(optional\)/m);
  assert.match(
    r.stderr,
    /^Required models are missing \(yunet_n_dynamic\.onnx, mediapipe-face_landmark_barracuda\.onnx, mediapipe-iris_landmark_barracuda\.onnx, [^)]+\): run `npx portrait models fetch`/,
  );
});

it('models verify exits 0 with every model in PORTRAIT_MODELS_DIR', async () => {
  const r = await portrait(['models', 'verify'], { ...offline, PORTRAIT_MODELS_DIR: MODELS_DIR });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
});

it('an offline models fetch ends with one sentence, no stack trace', async () => {
  const r = await portrait(['models', 'fetch', 'yunet'], offline);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^The model yunet_n_dynamic\.onnx is not in \S+empty-cache and could not be downloaded from http:\/\/127\.0\.0\.1:\d+\/yunet_n_dynamic\.onnx \(.*ECONNREFUSED.*\): run `npx portrait models fetch` where the internet is reachable/,
  );
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});

it('generate without the models names the file and the command, not "the admin has been told"', async () => {
  const r = await portrait(['generate', '--selfie', resolve(PROJECT_ROOT, 'samples/obama.jpg')], {
    ...offline,
    REDIS_URL,
    PORTRAIT_QUEUE_PREFIX: uniquePrefix('models-cli'),
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^model\.missing: The model yunet_n_dynamic\.onnx is not in .*`npx portrait models fetch`/m);
  assert.doesNotMatch(r.stderr, /admin has been told|reference/);
});
