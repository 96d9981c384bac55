/**
 * Remembers recently seen keys (Slack event ids, channel:ts of messages) so a retried event or the same message
 * arriving both as `app_mention` and as `message`/`file_share` is handled once by this process. Bounded by count
 * and age. Across processes the queue's idempotency key does the same job.
 */
export class RecentKeys {
  readonly #seen = new Map<string, number>();
  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time a key is seen (within the TTL); records it. */
  firstTime(...keys: Array<string | undefined>): boolean {
    const t = this.now();
    this.#prune(t);
    const present = keys.filter((k): k is string => typeof k === 'string' && k.length > 0);
    const seen = present.some((k) => this.#seen.has(k));
    for (const k of present) {
      this.#seen.delete(k);
      this.#seen.set(k, t);
    }
    return !seen;
  }

  #prune(t: number): void {
    for (const [k, at] of this.#seen) {
      if (this.#seen.size <= this.max && t - at < this.ttlMs) break;
      this.#seen.delete(k);
    }
  }
}
