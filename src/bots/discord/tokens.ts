/**
 * Interaction tokens, kept in this process's memory only, never in Redis or logs: a token is a 15-minute
 * credential for one interaction. Used for what only a token can do (edit an ephemeral reply, ephemeral
 * follow-ups, clearing the "thinking..." state); everything else, and everything after expiry or a restart, uses
 * the bot token. Entries are dropped a minute before Discord's 15 minutes so a slow request never hits an
 * expired token (expired-token 401s count towards Discord's invalid-request limit).
 */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
const SAFETY_MS = 60_000;

export class TokenBook {
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** `createdAt` is the interaction's creation time (from its snowflake), not when we got it. */
  remember(interactionId: string, token: string, createdAt: number): void {
    this.#prune();
    const expiresAt = createdAt + TOKEN_LIFETIME_MS - SAFETY_MS;
    if (expiresAt > this.#now()) this.#tokens.set(interactionId, { token, expiresAt });
  }

  /** The token while it is safely usable. */
  get(interactionId: string): string | undefined {
    const e = this.#tokens.get(interactionId);
    if (!e) return undefined;
    if (e.expiresAt <= this.#now()) {
      this.#tokens.delete(interactionId);
      return undefined;
    }
    return e.token;
  }

  /** Forget a token early (Discord said it is invalid, or the job is answered). */
  forget(interactionId: string): void {
    this.#tokens.delete(interactionId);
  }

  get size(): number {
    return this.#tokens.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, e] of this.#tokens) if (e.expiresAt <= now) this.#tokens.delete(id);
  }
}
