import type { Logger } from '../log.js';

/** A chat adapter as shutdown sees it. */
export interface DrainableAdapter {
  name: string;
  /** Stop taking new commands: from now on they are answered "restarting, try again in a minute". */
  drain(): void;
  /** Stop consuming deliveries and disconnect; what is left stays in Redis for the next start. */
  stop(): Promise<void>;
}

export interface ClosableWorker {
  /** Finishes its running jobs within `timeoutMs`, hands back the rest unanswered, then stops. */
  close(options: { timeoutMs: number }): Promise<void>;
}

export interface Resource {
  name: string;
  close(): Promise<void>;
}

/**
 * The order a process stops in, shared by `portrait start` / `portrait worker` and the fault tests' processes:
 *
 * 1. adapters drain: commands that still arrive are answered "restarting" instead of being half-taken;
 * 2. the worker finishes its running jobs, or hands them back to the queue after the timeout;
 * 3. adapters stop, after the worker, so a job that finishes during the shutdown is still posted from here;
 * 4. resources (the queue service, Redis) close last, in the reverse order they were opened.
 *
 * Nothing is lost at any step: queued jobs, handed-back jobs and unposted deliveries stay in Redis.
 */
export class Shutdown {
  readonly #adapters: DrainableAdapter[] = [];
  readonly #resources: Resource[] = [];
  #worker: ClosableWorker | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly log: Logger,
    /** How long the worker's running jobs may take to finish (PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS). */
    readonly timeoutMs: number,
  ) {}

  get stopping(): boolean {
    return this.#running !== undefined;
  }

  addAdapter(adapter: DrainableAdapter): void {
    this.#adapters.push(adapter);
  }

  setWorker(worker: ClosableWorker): void {
    this.#worker = worker;
  }

  addResource(resource: Resource): void {
    this.#resources.push(resource);
  }

  /** Runs the shutdown once; later calls return the same promise. Never rejects: failures are logged. */
  run(reason: string): Promise<void> {
    this.#running ??= this.#stop(reason);
    return this.#running;
  }

  async #stop(reason: string): Promise<void> {
    this.log.info({ reason, timeoutMs: this.timeoutMs }, 'shutting down');
    for (const adapter of this.#adapters) adapter.drain();
    if (this.#adapters.length > 0) this.log.info('adapters draining: new commands are answered "restarting"');
    if (this.#worker) {
      await this.#worker
        .close({ timeoutMs: this.timeoutMs })
        .catch((err: unknown) => this.log.error({ err, part: 'worker' }, 'stop failed'));
    }
    await Promise.all(
      this.#adapters.map((a) => a.stop().catch((err: unknown) => this.log.error({ err, part: a.name }, 'stop failed'))),
    );
    for (const resource of [...this.#resources].reverse()) {
      await resource.close().catch((err: unknown) => this.log.error({ err, part: resource.name }, 'stop failed'));
    }
    this.log.info('stopped');
  }
}

export interface StopOptions {
  /** How long past the worker's timeout a shutdown may take before the process ends at once. Default 15 s. */
  graceMs?: number;
  /** Also stop when the process that started this one is gone (PORTRAIT_EXIT_WITH_PARENT). Default true. */
  withParent?: boolean;
  /** How often the parent is looked at. Default 1 s. */
  parentCheckMs?: number;
}

/**
 * SIGINT/SIGTERM run the shutdown and end the process (exit 0). A second signal, or a shutdown that outlasts the
 * worker's timeout by `graceMs`, ends it at once (exit 1): what was still running stays in Redis and runs again.
 *
 * The parent's end stops it the same way. `npm start` stopped by SIGTERM (a process manager's restart) ends npm
 * without passing the signal on (npm 11), and the bot would run on under init beside the restarted one; a terminal
 * closed under it or a supervisor that died would leave it the same. Started by init itself (systemd, a container's
 * PID 1), there is no parent to lose and nothing is watched.
 */
export function stopOnSignals(shutdown: Shutdown, log: Logger, options: StopOptions = {}): void {
  const graceMs = options.graceMs ?? 15_000;
  const stop = (reason: string) => {
    if (shutdown.stopping) {
      log.warn({ reason }, `second stop (${reason}): stopping now`);
      process.exit(1);
    }
    const hardStop = setTimeout(() => {
      log.error({ limitMs: shutdown.timeoutMs + graceMs }, 'shutdown took too long: stopping now');
      process.exit(1);
    }, shutdown.timeoutMs + graceMs);
    hardStop.unref();
    void shutdown.run(reason).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const parent = process.ppid;
  if ((options.withParent ?? true) && parent > 1) {
    const watch = setInterval(() => {
      // Node reads the parent pid afresh: once the parent is gone, this process has been handed to init (or a
      // subreaper) and the number changes.
      if (process.ppid === parent) return;
      clearInterval(watch);
      log.warn({ parent }, 'the process that started this one is gone: stopping');
      stop('parent exited');
    }, options.parentCheckMs ?? 1000);
    watch.unref();
  }
}
