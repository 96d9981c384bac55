#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's built-in runner through tsx. Extra arguments are passed on
// (e.g. `npm test -- --test-name-pattern=ingest` or a file path to run just that file).
// Tests need a real Redis: REDIS_URL, else 127.0.0.1:6379, else a throwaway redis-server started here.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function ping(url) {
  return spawnSync(process.execPath, [join(root, 'scripts/redis-ping.mjs'), url]).status === 0;
}

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const env = { ...process.env, NODE_ENV: 'test' };
let redis;
let redisDir;
env.REDIS_URL ??= 'redis://127.0.0.1:6379';
if (!ping(env.REDIS_URL)) {
  const port = await freePort();
  redisDir = mkdtempSync(join(tmpdir(), 'portrait-test-redis-'));
  console.log(`No Redis at ${env.REDIS_URL}: starting redis-server on 127.0.0.1:${port} for the tests`);
  try {
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', redisDir], {
      stdio: 'ignore',
    });
  } catch {
    redis = undefined;
  }
  env.REDIS_URL = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !ping(env.REDIS_URL); i++) await new Promise((r) => setTimeout(r, 100));
  if (!ping(env.REDIS_URL)) {
    console.error('Tests need Redis: install it (apt-get install redis-server / brew install redis) or set REDIS_URL.');
    process.exit(1);
  }
}
// Models: PORTRAIT_MODELS_DIR when set (CI points it at offline copies), else the registry's cache under
// models/cache, filled here once from the canonical URLs (or PORTRAIT_MODEL_MIRROR) so no test downloads on its own.
// Test photos: the committed public-domain ones in test/fixtures/faces, plus PORTRAIT_TEST_FACES when set.
if (!env.PORTRAIT_MODELS_DIR) {
  // Every model, the optional ones too (the tests score identity and estimate depth).
  const fetched = spawnSync(process.execPath, [join(root, 'bin/portrait.mjs'), 'models', 'fetch', '--all'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
    cwd: root,
  });
  if (fetched.status !== 0) {
    console.error(
      'Tests need the face models: set PORTRAIT_MODELS_DIR to a folder holding them, or run where the internet is reachable.',
    );
    process.exit(1);
  }
}

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith('.ts'));
const flags = args.filter((a) => !a.endsWith('.ts'));
const targets = files.length > 0 ? files : find(join(root, 'test'));
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...flags, ...targets],
  { stdio: 'inherit', env, cwd: root },
);
if (redis) redis.kill('SIGTERM');
if (redisDir) rmSync(redisDir, { recursive: true, force: true });
process.exit(result.status ?? 1);
