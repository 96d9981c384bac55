import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { PROJECT_ROOT } from '../../src/config.js';
import { MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';
import { deleteKeys } from '../helpers/redis.js';

const run = promisify(execFile);
const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');

/** `portrait playground ...` as an operator runs it; resolves with its exit code and output. */
async function playground(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'playground', ...args], {
      env: { PATH: process.env['PATH'] ?? '', PORTRAIT_MODELS_DIR: MODELS_DIR, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('operator mistakes get one sentence naming what to set, and exit 2', async () => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--port', 'abc'], {}, /^--port must be a whole number from 0 to 65535 \(got 'abc'\)\.\n$/],
    [['--port', '70000'], {}, /^--port must be a whole number/],
    [['--no-worker'], {}, /^--no-worker needs a shared Redis that workers use: set REDIS_URL/],
    [['--colour'], {}, /^Unknown option '--colour'/],
  ];
  for (const [args, env, sentence] of cases) {
    const r = await playground(args, env);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, sentence);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const help = await playground(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^portrait playground \[--port N\] \[--host H\] \[--no-worker\]/);
});

test('a port in use is named, with what to pass instead', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as { port: number }).port;
  const prefix = uniquePrefix('playground-cli');
  try {
    const r = await playground(['--port', String(port)], {
      REDIS_URL,
      PORTRAIT_QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'silent',
    });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      `Port ${port} is already in use: pass --port with another number (--port 0 picks a free one).\n`,
    );
  } finally {
    busy.close();
    const conn = new Redis(REDIS_URL);
    await deleteKeys(conn, prefix);
    await conn.quit();
  }
});
