import { randomBytes } from 'node:crypto';
import type { Requester } from '../core/request.js';
import type { Stage } from '../pipeline/types.js';

/**
 * What the playground remembers about each browser, in this process's memory only: which uploaded selfies and
 * which images (results, debug sheets, previews) it may read, and its jobs. Bytes stay in Redis as TTL'd blobs (the
 * same store and TTL as the bots); the page only ever sees opaque ids, never blob keys, so one browser cannot read
 * another's images. A session idle for the blob TTL is dropped (its blobs have expired by then anyway).
 */

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Refusal {
  code: string;
  sentence: string;
}

/** The options a job ran with, as the page shows them and resubmits them (reroll, variations). */
export interface JobRecipe {
  selfies: string[];
  pose: string;
  lighting: string;
  style: string;
  seed: number;
  variations: number;
  /** Set when the job previews an avatar event's theme. */
  event?: { id: string; name: string; frameColour?: string };
}

export interface JobResultView {
  /** One URL per variation. */
  images: string[];
  /** One caption per image, the bots' own caption text. */
  captions: string[];
  /** Short alt text for the images. */
  alt: string;
  format: string;
  width: number;
  height: number;
  engine: string;
  seed: number;
  debugSheet?: string;
  /** Per-stage milliseconds, and what the engine reported (pose numbers, identity score ...). */
  timings: Record<string, number>;
  report: Record<string, string | number | boolean>;
  facesPerSelfie: number[];
}

/** A job as the page sees it; sent whole on every change (small, and a reconnecting page needs nothing else). */
export interface JobView {
  id: string;
  status: JobStatus;
  /** 1-based place in the queue while queued. */
  position: number;
  submittedAt: number;
  finishedAt?: number;
  recipe: JobRecipe;
  /** Stages reached so far, in order, with the bots' labels. */
  stages: Array<{ stage: Stage; label: string; at: number }>;
  /** The bots' status line for the latest progress ("Painting the portrait (step 12 of 30)"). */
  progress?: string;
  /** Latest diffusion preview, when the engine sends them. */
  preview?: string;
  result?: JobResultView;
  refusal?: Refusal;
}

export type JobListener = (job: JobView) => void;

export class Session {
  readonly requester: Requester;
  /** Selfie id -> blob key. */
  readonly selfies = new Map<string, string>();
  /** Image id -> blob key (results, debug sheets, previews). */
  readonly images = new Map<string, string>();
  /** Jobs in the order they were made. */
  readonly jobs = new Map<string, JobView>();
  lastSeen = Date.now();

  constructor(readonly id: string) {
    // Not derived from the cookie: the requester id reaches Redis keys and log lines, the cookie must not.
    this.requester = { platform: 'cli', userId: `playground-${randomId(8)}`, scopeId: 'playground' };
  }

  /** Registers a blob this session may read and returns its URL. */
  imageUrl(blobKey: string): string {
    const id = randomId(12);
    this.images.set(id, blobKey);
    return `/api/images/${id}`;
  }

  /** Forgets everything this session holds (the blobs themselves are deleted through the portrait service). */
  clear(): void {
    this.selfies.clear();
    this.images.clear();
    this.jobs.clear();
  }
}

export interface SessionStoreOptions {
  /** Sessions idle this long are dropped. */
  idleMs: number;
  /** At most this many sessions; the longest idle goes first. */
  max?: number;
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #max: number;

  constructor(options: SessionStoreOptions) {
    this.#idleMs = options.idleMs;
    this.#max = options.max ?? 1000;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (Date.now() - s.lastSeen > this.#idleMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastSeen = Date.now();
    // Map order is least recently used first.
    this.#sessions.delete(id);
    this.#sessions.set(id, s);
    return s;
  }

  create(): Session {
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    const s = new Session(randomId(24));
    this.#sessions.set(s.id, s);
    return s;
  }

  /** The session owning a job, for deliveries (which know the job, not the browser). */
  findJob(jobId: string): { session: Session; job: JobView } | undefined {
    for (const session of this.#sessions.values()) {
      const job = session.jobs.get(jobId);
      if (job) return { session, job };
    }
    return undefined;
  }

  all(): IterableIterator<Session> {
    return this.#sessions.values();
  }
}

export function randomId(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
