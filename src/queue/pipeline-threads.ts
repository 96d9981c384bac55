import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import { PortraitError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PipelineInput, PipelineOutput, ProgressFn } from '../pipeline/types.js';
import type { FromThread, ThreadData, ThreadError, ToThread } from './thread-protocol.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(`./pipeline-thread.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);
const BOOT = new URL('./thread-boot.mjs', import.meta.url);

/** The pipeline the worker runs by default: src/pipeline/run.ts (run.js in a build). */
export const DEFAULT_PIPELINE_MODULE = new URL(`../pipeline/run.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url).href;

export interface RunOptions {
  onProgress: ProgressFn;
  /** Aborting asks the pipeline to stop at its next progress report; after `cancelGraceMs` the thread is terminated. */
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  cancelGraceMs: number;
  /** The job's logger: the pipeline's lines during this run are written through it (its jobId, requestId). */
  log?: Logger | undefined;
}

/**
 * A fixed set of pipeline threads, one per concurrent job. A thread keeps one Pipeline (models loaded once); a thread
 * that crashes, times out or ignores a cancel is terminated and replaced by a fresh one.
 */
export class PipelineThreads {
  private readonly idle: PipelineThread[] = [];
  private readonly waiters: ((thread: PipelineThread) => void)[] = [];
  private readonly all = new Set<PipelineThread>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly pipelineModule: string,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  /**
   * Resolves when every initial thread has loaded its pipeline. With `tolerate`, a thread that failed is logged and
   * replaced per job later; without, the first failure rejects (a missing model stops the worker's start).
   */
  async ready(tolerate: boolean): Promise<void> {
    await Promise.all(
      [...this.all].map((t) =>
        t.ready.catch((err: unknown) => {
          this.log.error({ err }, 'pipeline thread failed to start');
          if (!tolerate) throw err;
        }),
      ),
    );
  }

  /**
   * Runs one job on a free thread. A cancel that comes before the job reaches its thread (while it waits for a free
   * thread or for a fresh one to load its models) ends it at once with job.cancelled: the thread never sees the job,
   * so there is nothing to wait out and no thread to end.
   */
  async run(input: PipelineInput, options: RunOptions): Promise<PipelineOutput> {
    const signal = options.signal;
    if (signal?.aborted) throw cancelledBeforeStart();
    const thread = await this.acquire(signal);
    try {
      await untilAborted(thread.ready, signal);
      return await this.runOn(thread, input, options);
    } finally {
      this.release(thread);
    }
  }

  private runOn(thread: PipelineThread, input: PipelineInput, o: RunOptions): Promise<PipelineOutput> {
    return new Promise<PipelineOutput>((resolve, reject) => {
      let grace: NodeJS.Timeout | undefined;
      const stop = (err: PortraitError) => {
        // A synchronous loop cannot be interrupted from outside: ending the thread is the only sure stop.
        void thread.terminate();
        reject(err);
      };
      const timer = setTimeout(
        () => stop(new PortraitError('job.timeout', `stopped after ${o.timeoutMs} ms`, { limitMs: o.timeoutMs })),
        o.timeoutMs,
      );
      const onAbort = () => {
        thread.requestCancel();
        grace = setTimeout(
          () => stop(new PortraitError('job.cancelled', 'cancelled; the pipeline did not stop in time')),
          o.cancelGraceMs,
        );
      };
      const done = () => {
        clearTimeout(timer);
        clearTimeout(grace);
        o.signal?.removeEventListener('abort', onAbort);
      };
      // run() checked the signal just before (no await in between); the listener covers the rest of the job.
      o.signal?.addEventListener('abort', onAbort, { once: true });
      thread.run(input, o.onProgress, o.log).then(
        (output) => {
          done();
          resolve(output);
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  private spawn(): PipelineThread {
    const thread = new PipelineThread(
      {
        entry: ENTRY.href,
        pipelineModule: this.pipelineModule,
        config: this.config,
        cancelFlag: new SharedArrayBuffer(4),
        logLevel: this.log.level,
      },
      this.log,
    );
    this.all.add(thread);
    thread.exited.then((code) => {
      this.all.delete(thread);
      if (!this.closed) this.log.warn({ code }, 'pipeline thread ended; a fresh one replaces it');
    });
    return thread;
  }

  private acquire(signal?: AbortSignal): Promise<PipelineThread> {
    if (this.closed) return Promise.reject(new PortraitError('service.restarting', 'worker is closing'));
    const thread = this.idle.pop();
    if (thread) return Promise.resolve(thread.dead ? this.spawn() : thread);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        // Out of the line: the thread goes to the next waiter instead.
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(cancelledBeforeStart());
      };
      const waiter = (t: PipelineThread) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(t);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(thread: PipelineThread): void {
    // A dead thread's slot gets a fresh thread now, so its models load before the next job needs them.
    const next = thread.dead && !this.closed ? this.spawn() : thread;
    const waiter = this.waiters.shift();
    if (waiter) waiter(next);
    else this.idle.push(next);
  }

  /** Disposes every pipeline (waiting up to `graceMs` each) and ends the threads. */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((t) => t.dispose(graceMs)));
  }

  /** Live threads, for tests and health checks. */
  get threadCount(): number {
    return this.all.size;
  }

  get capacity(): number {
    return this.size;
  }
}

class PipelineThread {
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;
  dead = false;
  private readonly worker: Worker;
  private readonly cancel: Int32Array;
  private pending:
    | { resolve: (o: PipelineOutput) => void; reject: (e: unknown) => void; onProgress: ProgressFn; log: Logger }
    | undefined;
  private crash: PortraitError | undefined;

  constructor(
    data: ThreadData,
    private readonly log: Logger,
  ) {
    this.cancel = new Int32Array(data.cancelFlag);
    this.worker = new Worker(FROM_SOURCE ? BOOT : ENTRY, { workerData: data });
    let readyOk!: () => void;
    let readyFail!: (err: unknown) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      readyOk = resolve;
      readyFail = reject;
    });
    this.ready.catch(() => {}); // observed by run(); avoid an unhandled rejection while idle
    this.worker.on('message', (message: FromThread) => {
      switch (message.type) {
        case 'ready':
          readyOk();
          break;
        case 'init-error':
          readyFail(fromThreadError(message.error));
          void this.terminate();
          break;
        case 'progress':
          this.pending?.onProgress(message.progress);
          break;
        case 'done':
          this.settle()?.resolve(message.output);
          break;
        case 'error':
          this.settle()?.reject(fromThreadError(message.error));
          break;
        case 'log':
          // A thread runs one job at a time, and its messages arrive in order: a line sent before 'done' is the job's.
          forwardLine(this.pending?.log ?? this.log, message.line);
          break;
      }
    });
    // An uncaught exception inside the thread; 'exit' follows.
    this.worker.on('error', (err) => {
      this.crash = new PortraitError('internal.error', `pipeline thread crashed: ${err.message}`, {}, { cause: err });
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.dead = true;
        const err = this.crash ?? new PortraitError('internal.error', `pipeline thread exited (code ${code})`);
        readyFail(err);
        this.settle()?.reject(err);
        resolve(code);
      });
    });
  }

  run(input: PipelineInput, onProgress: ProgressFn, log: Logger = this.log): Promise<PipelineOutput> {
    if (this.dead) return Promise.reject(new PortraitError('internal.error', 'pipeline thread is gone'));
    Atomics.store(this.cancel, 0, 0);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, onProgress, log };
      this.worker.postMessage({ type: 'run', input } satisfies ToThread);
    });
  }

  requestCancel(): void {
    Atomics.store(this.cancel, 0, 1);
    if (!this.dead) this.worker.postMessage({ type: 'cancel' } satisfies ToThread);
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }

  async dispose(graceMs: number): Promise<void> {
    if (this.dead) return;
    const timer = setTimeout(() => void this.terminate(), graceMs);
    this.worker.postMessage({ type: 'dispose' } satisfies ToThread);
    await this.exited;
    clearTimeout(timer);
  }

  private settle() {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }
}

/** Writes a pipeline thread's JSON line through `log` at the line's own level, marked as the pipeline's. */
function forwardLine(log: Logger, line: string): void {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    log.info({ from: 'pipeline' }, line.trim());
    return;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _host, name: _name, ...fields } = entry;
  const label = typeof level === 'number' ? log.levels.labels[level] : undefined;
  // The thread already serialized its errors; serializing them again would lose their type.
  const out = log.child({}, { serializers: { err: (e: unknown) => e } });
  const write = label && label in LEVEL_METHODS ? out[label as keyof typeof LEVEL_METHODS] : out.info;
  write.call(out, { ...fields, from: 'pipeline' }, typeof msg === 'string' ? msg : '');
}
const LEVEL_METHODS = { trace: 1, debug: 1, info: 1, warn: 1, error: 1, fatal: 1 } as const;

function cancelledBeforeStart(): PortraitError {
  return new PortraitError('job.cancelled', 'cancelled before its pipeline thread started it');
}

/** `promise`, or job.cancelled as soon as `signal` aborts (the promise itself goes on, unobserved). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(cancelledBeforeStart());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelledBeforeStart());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function fromThreadError(e: ThreadError): PortraitError {
  const err = new PortraitError(e.code, e.message, e.details);
  if (e.stack) err.stack = e.stack;
  return err;
}
