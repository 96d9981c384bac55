/**
 * Per-message throttle for progress edits, shared by the chat adapters. Chat APIs rate-limit message edits
 * (Discord per channel, Slack `chat.update` about one a second), while a diffusion job reports a step every few
 * hundred milliseconds. For each key (one status message):
 * - the first update goes out at once, later ones at most every `intervalMs`;
 * - the last update always wins: intermediate ones are dropped, and the newest is sent when the interval is up;
 * - sends for one key never overlap, so edits cannot arrive out of order;
 * - `finish(key)` drops what is pending, waits for an edit in flight, and ignores late updates for that key, so a
 *   slow progress edit can never overwrite the final answer.
 */

export interface ThrottleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: ThrottleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Pending progress must not keep a shutting-down process alive.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ProgressThrottleOptions<T> {
  /** Minimum time between two sends for one key. */
  intervalMs: number;
  send: (key: string, value: T) => Promise<void>;
  /** A failed send is reported here and otherwise forgotten: progress is best effort. */
  onError?: (err: unknown, key: string) => void;
  clock?: ThrottleClock;
  /** How many finished keys are remembered to drop late updates (oldest forgotten first). */
  rememberFinished?: number;
}

interface KeyState<T> {
  lastSentAt: number;
  pending: { value: T } | null;
  inFlight: Promise<void> | null;
  timer: unknown;
}

export class ProgressThrottle<T> {
  readonly #states = new Map<string, KeyState<T>>();
  readonly #finished = new Set<string>();
  readonly #opts: Required<Omit<ProgressThrottleOptions<T>, 'onError'>> & Pick<ProgressThrottleOptions<T>, 'onError'>;

  constructor(options: ProgressThrottleOptions<T>) {
    this.#opts = { clock: systemClock, rememberFinished: 10_000, ...options };
  }

  /** Queues `value` as the newest state of `key`; returns at once. */
  update(key: string, value: T): void {
    if (this.#finished.has(key)) return;
    let s = this.#states.get(key);
    if (!s) {
      s = { lastSentAt: Number.NEGATIVE_INFINITY, pending: null, inFlight: null, timer: null };
      this.#states.set(key, s);
    }
    s.pending = { value };
    this.#schedule(key, s);
  }

  /** Stops progress for `key`: drops the pending update and resolves once no edit is in flight. */
  async finish(key: string): Promise<void> {
    this.#finished.add(key);
    if (this.#finished.size > this.#opts.rememberFinished) {
      const oldest = this.#finished.values().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
    const s = this.#states.get(key);
    if (!s) return;
    s.pending = null;
    if (s.timer !== null) this.#opts.clock.clearTimeout(s.timer);
    s.timer = null;
    this.#states.delete(key);
    await s.inFlight;
  }

  /** Keys with an update pending or in flight. */
  get active(): number {
    let n = 0;
    for (const s of this.#states.values()) if (s.pending || s.inFlight) n++;
    return n;
  }

  /** Drops every pending update and waits for the edits in flight. */
  async close(): Promise<void> {
    await Promise.all([...this.#states.keys()].map((k) => this.finish(k)));
  }

  #schedule(key: string, s: KeyState<T>): void {
    if (s.inFlight || s.timer !== null) return; // picked up when the send or the timer completes
    const wait = s.lastSentAt + this.#opts.intervalMs - this.#opts.clock.now();
    if (wait <= 0) {
      this.#fire(key, s);
      return;
    }
    s.timer = this.#opts.clock.setTimeout(() => {
      s.timer = null;
      this.#fire(key, s);
    }, wait);
  }

  #fire(key: string, s: KeyState<T>): void {
    if (this.#states.get(key) !== s) return; // finished meanwhile
    const next = s.pending;
    if (!next) {
      // Idle for a whole interval: forget the key so the map does not grow with every job.
      this.#states.delete(key);
      return;
    }
    s.pending = null;
    s.lastSentAt = this.#opts.clock.now();
    s.inFlight = this.#opts
      .send(key, next.value)
      .catch((err: unknown) => this.#opts.onError?.(err, key))
      .finally(() => {
        s.inFlight = null;
        if (this.#states.get(key) !== s) return;
        // Wake up after the interval either to send what came in meanwhile or to forget the idle key.
        const wait = Math.max(0, s.lastSentAt + this.#opts.intervalMs - this.#opts.clock.now());
        s.timer = this.#opts.clock.setTimeout(() => {
          s.timer = null;
          this.#fire(key, s);
        }, wait);
      });
  }
}
