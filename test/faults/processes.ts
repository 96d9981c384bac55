import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../src/config.js';

export const APP_PROCESS = new URL('./fixtures/app-process.ts', import.meta.url).pathname;
export const CONSUMER_PROCESS = new URL('./fixtures/consumer-process.ts', import.meta.url).pathname;
export const PORTRAIT_BIN = `${PROJECT_ROOT}/bin/portrait.mjs`;
/** tsx's loader by absolute URL: the children run in a temporary folder, where a bare `tsx` would not resolve. */
export const TSX = import.meta.resolve('tsx');

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** The longest any single wait on a child process may take before the test fails. */
const WAIT_LIMIT_MS = 30_000;

/** Every child still running; they are killed when the test process exits, however it exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

type Waiter<T> = { match: (item: T) => boolean; resolve: (item: T) => void };

/**
 * A child process whose pino log lines (stderr) and stdout lines the test can read and await. It runs in a
 * temporary folder, so no developer's .env is picked up.
 */
export class ProcessUnderTest {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  /** What the process printed on stdout, line by line. */
  readonly stdout: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #logWaiters: Waiter<LogLine>[] = [];
  readonly #lineWaiters: Waiter<string>[] = [];

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, args, {
      cwd: tmpdir(),
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      live.delete(this.child);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.stdout.push(line);
      settle(this.#lineWaiters, line);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = { level: 60, msg: line };
      }
      this.logs.push(parsed);
      settle(this.#logWaiters, parsed);
    });
  }

  /** Resolves with the first log line (seen or future) whose msg is `msg`; rejects if the process ends first. */
  waitForLog(msg: string | ((l: LogLine) => boolean)): Promise<LogLine> {
    const match = typeof msg === 'string' ? (l: LogLine) => l.msg === msg : msg;
    return this.#wait(this.logs, this.#logWaiters, match, `logging '${String(msg)}'`);
  }

  /** Resolves with the first stdout line (printed or future) that matches; rejects if the process ends first. */
  waitForLine(match: (line: string) => boolean, what = 'the line awaited'): Promise<string> {
    return this.#wait(this.stdout, this.#lineWaiters, match, what);
  }

  #wait<T>(seen: T[], waiters: Waiter<T>[], match: (item: T) => boolean, what: string): Promise<T> {
    const found = seen.find(match);
    if (found !== undefined) return Promise.resolve(found);
    let timer: NodeJS.Timeout | undefined;
    const later = new Promise<T>((resolve, reject) => {
      const waiter = { match, resolve };
      waiters.push(waiter);
      // A safety net so a broken test fails with what it waited for (and cleans up) instead of hanging.
      timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`gave up waiting ${WAIT_LIMIT_MS} ms for ${what}:\n${this.tail()}`));
      }, WAIT_LIMIT_MS);
    });
    const ended = this.exited.then(({ code, signal }) => {
      throw new Error(`process ended (code ${code}, signal ${signal}) before ${what}:\n${this.tail()}`);
    });
    return Promise.race([later, ended]).finally(() => clearTimeout(timer));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** The last lines of output, for failure messages. */
  tail(n = 20): string {
    return [...this.stdout, ...this.logs.map((l) => JSON.stringify(l))].slice(-n).join('\n');
  }
}

function settle<T>(waiters: Waiter<T>[], item: T): void {
  for (const w of [...waiters]) {
    if (w.match(item)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(item);
    }
  }
}

/** A worker (or `start`) process from the fault fixture: the CLI's composition with the fault pipeline. */
export function appProcess(
  command: 'worker' | 'start',
  env: Record<string, string>,
  workerOptions: Record<string, unknown> = {},
): ProcessUnderTest {
  return new ProcessUnderTest(['--import', TSX, APP_PROCESS, command, JSON.stringify(workerOptions)], env);
}

/** `promise`, or a rejection naming `what` once `limitMs` pass: waits in these tests fail instead of hanging. */
export function bounded<T>(promise: Promise<T>, what: string, limitMs = WAIT_LIMIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting ${limitMs} ms for ${what}`)), limitMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
