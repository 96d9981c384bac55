import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../src/config.js';

export const APP_PROCESS = new URL('./fixtures/app-process.ts', import.meta.url).pathname;
/** tsx's loader by absolute URL: the children run in a temporary folder, where a bare `tsx` would not resolve. */
const TSX = import.meta.resolve('tsx');
export const PORTRAIT_BIN = `${PROJECT_ROOT}/bin/portrait.mjs`;

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * A child process whose pino log lines (stderr) the test can read and await. Run from a temporary folder, so no
 * developer's .env is picked up.
 */
export class ProcessUnderTest {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  private readonly stdout: string[] = [];

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, args, {
      cwd: tmpdir(),
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.stdout.push(line));
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = { level: 60, msg: line };
      }
      this.logs.push(parsed);
      for (const w of [...this.waiters]) {
        if (w.match(parsed)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    });
  }

  /** Resolves with the first log line (seen or future) whose msg is `msg`; rejects if the process ends first. */
  waitForLog(msg: string | ((l: LogLine) => boolean)): Promise<LogLine> {
    const match = typeof msg === 'string' ? (l: LogLine) => l.msg === msg : msg;
    const seen = this.logs.find(match);
    if (seen) return Promise.resolve(seen);
    const found = new Promise<LogLine>((resolve) => this.waiters.push({ match, resolve }));
    const ended = this.exited.then(({ code, signal }) => {
      throw new Error(
        `process ended (code ${code}, signal ${signal}) before logging '${String(msg)}':\n${this.tail()}`,
      );
    });
    return Promise.race([found, ended]);
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

/** A worker (or `start`) process from the fault fixture: the CLI's composition with the fault pipeline. */
export function appProcess(
  command: 'worker' | 'start',
  env: Record<string, string>,
  workerOptions: Record<string, unknown> = {},
): ProcessUnderTest {
  return new ProcessUnderTest(['--import', TSX, APP_PROCESS, command, JSON.stringify(workerOptions)], env);
}
