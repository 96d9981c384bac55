import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.js';
import { MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';

/**
 * The real CLI as a spawned process, for the start-up checks (startup-*.test.ts): every operator mistake must end
 * the process by itself, non-zero, with one sentence naming the variable and the fix, and no stack trace.
 */
const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');
export const dir = mkdtempSync(join(tmpdir(), 'portrait-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// A start that hangs instead of failing is the bug: the process is killed well past the 10 s the checks allow (and
// the few seconds tsx needs to start, more on a loaded machine).
const HANG_MS = 90_000;

export interface CliRun {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
}

export function portrait(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: dir,
        env: {
          PATH: process.env['PATH'] ?? '',
          PORTRAIT_MODELS_DIR: MODELS_DIR,
          PORTRAIT_QUEUE_PREFIX: uniquePrefix('startup'),
          PORTRAIT_DATA_DIR: join(dir, 'data'),
          REDIS_URL,
          ...env,
        },
        timeout: HANG_MS,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number; killed?: boolean }) | null;
        done({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          killed: e?.killed ?? false,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** Ended by itself with `code` and one sentence matching `sentence` on stderr; no stack trace, no JSON log noise. */
export function assertRefused(r: CliRun, code: number, sentence: RegExp): void {
  assert.equal(r.killed, false, `still running after ${HANG_MS} ms; stderr: ${r.stderr}`);
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, sentence);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace');
  assert.doesNotMatch(r.stderr, /"level":/, 'log lines instead of a sentence');
}

export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as { port: number };
  await new Promise((ok) => srv.close(ok));
  return port;
}
