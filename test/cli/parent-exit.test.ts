import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../../src/config.js';
import { MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';

/**
 * No bot process outlives what started it. A `portrait worker` (the same composition and stop path as `portrait
 * start`) is started through something in between that then goes away: a parent killed with SIGKILL, and `npm run`
 * stopped with SIGTERM (npm 11 ends without passing the signal on). Each time the portrait process must notice, run
 * its shutdown and end by itself.
 */
const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');
const started: ChildProcess[] = [];
const pids: number[] = [];
after(() => {
  for (const c of started) c.kill('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
});

const env = () => ({
  PATH: process.env['PATH'] ?? '',
  HOME: process.env['HOME'] ?? '',
  REDIS_URL,
  PORTRAIT_MODELS_DIR: MODELS_DIR,
  PORTRAIT_QUEUE_PREFIX: uniquePrefix('parent'),
  PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS: '5',
});

/** The JSON log lines of everything writing into `stream`, as they arrive. */
function logLines(child: ChildProcess): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        // npm's own warnings
      }
    }
  });
  return lines;
}

async function until<T>(what: string, probe: () => T | undefined, limitMs = 60_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
};

async function assertStopsByItself(lines: Array<Record<string, unknown>>, pid: number, why: RegExp): Promise<void> {
  await until(`process ${pid} to end`, () => (alive(pid) ? undefined : true));
  const msgs = lines.filter((l) => l['pid'] === pid).map((l) => String(l['msg']));
  assert.ok(
    msgs.some((m) => why.test(m)),
    msgs.join('\n'),
  );
  // Its own shutdown ran to the end (the worker closed, Redis closed), not a kill.
  assert.equal(msgs.at(-1), 'stopped', msgs.join('\n'));
}

it('a parent killed with SIGKILL: the worker stops by itself', async () => {
  // The parent passes its own stderr on, so the worker's log still reaches the test after the parent is gone.
  const parent = spawn(
    process.execPath,
    [
      '-e',
      `const c = require('node:child_process').spawn(process.execPath, [${JSON.stringify(BIN)}, 'worker'], { stdio: ['ignore', 'ignore', 'inherit'] });
       console.log(c.pid); setInterval(() => {}, 1000);`,
    ],
    { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.push(parent);
  const lines = logLines(parent);
  let out = '';
  parent.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const pid = await until('the worker pid', () => (/^\d+\n/.test(out) ? Number.parseInt(out, 10) : undefined));
  pids.push(pid);
  await until('worker ready', () => (lines.some((l) => l['msg'] === 'worker ready') ? true : undefined));
  parent.kill('SIGKILL');
  await assertStopsByItself(lines, pid, /^the process that started this one is gone: stopping$/);
});

it('`npm run` stopped with SIGTERM: the worker under it stops too', async () => {
  const npm = spawn('npm', ['run', '-s', 'portrait', '--', 'worker'], {
    cwd: PROJECT_ROOT,
    env: env(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(npm);
  const lines = logLines(npm);
  const ready = await until('worker ready', () => lines.find((l) => l['msg'] === 'worker ready'));
  const pid = Number(ready['pid']);
  pids.push(pid);
  assert.notEqual(pid, npm.pid, 'the worker runs under npm');
  npm.kill('SIGTERM');
  // npm 11 ends without passing the signal on (the parent's end stops the worker); an npm that passes it on would
  // stop it by the signal. Either way it must end by itself, through its shutdown.
  await assertStopsByItself(lines, pid, /^(the process that started this one is gone: stopping|shutting down)$/);
});
