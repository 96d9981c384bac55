import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export type LogLine = Record<string, unknown> & { msg?: string };

/** Every child still running is killed when the driver exits, however it exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * A child process of the load run (the bot or a worker): its pino lines are handed to `onLog`, its RSS is read
 * from /proc (Linux) on demand, and it stops with SIGTERM as an operator stops it.
 */
export class LoadProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  readonly rss: Array<{ answered: number; bytes: number }> = [];
  readonly tail: string[] = [];
  #peak: number | undefined;
  #waiters: Array<(l: LogLine) => void> = [];

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
    onLog: (line: LogLine) => void = () => {},
  ) {
    this.child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(this.child);
    this.exited = once(this.child, 'exit').finally(() => live.delete(this.child));
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (text) => {
      this.tail.push(text);
      if (this.tail.length > 30) this.tail.shift();
      try {
        const line = JSON.parse(text) as LogLine;
        onLog(line);
        for (const w of [...this.#waiters]) w(line);
      } catch {
        // Not a log line (a stack trace from a crash): kept in the tail only.
      }
    });
  }

  /** Resolves once a log line matches; rejects with the process's last lines if it ends first. */
  waitForLog(match: (l: LogLine) => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = (l: LogLine) => {
        if (!match(l)) return;
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        resolve();
      };
      this.#waiters.push(waiter);
      void this.exited.then(() => reject(new Error(`${this.name} ended before ${what}:\n${this.tail.join('\n')}`)));
    });
  }

  /** Current RSS, recorded against the number of requests answered so far; also refreshes the peak. */
  sample(answered: number): void {
    const status = this.#status();
    const kb = status && /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (kb) this.rss.push({ answered, bytes: Number(kb) * 1024 });
  }

  /** Peak RSS (VmHWM) in bytes, last read while the process was alive. */
  peakRss(): number | undefined {
    this.#status();
    return this.#peak;
  }

  #status(): string | undefined {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      if (kb) this.#peak = Number(kb) * 1024;
      return status;
    } catch {
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.peakRss();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 60_000).unref();
    await this.exited;
    clearTimeout(killer);
  }
}
