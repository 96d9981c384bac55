import type { PortraitRequestInput, Requester } from '../core/request.js';
import type { Delivery } from './jobs.js';

/**
 * What the chat adapters and the CLI use of the queue. Implemented in src/queue (submit.ts, blobs.ts,
 * deliveries.ts) over BullMQ + Redis; bots depend on these types only, never on BullMQ.
 */
export interface SubmitOptions {
  /** Interaction id, Slack event id ...: a second submit with the same key returns the first job. */
  idempotencyKey: string;
  request: PortraitRequestInput;
  /** Lower runs first (BullMQ priority); ordinary requests leave it unset. */
  priority?: number;
  /**
   * Deliver this job's messages to a private inbox (letters, digits, - or _) that the submitting process consumes
   * (`consumeDeliveries(..., { inbox })`) instead of the platform's shared queue. The CLI uses one per run.
   */
  inbox?: string;
  /**
   * The operator at the machine (`portrait generate`): not counted against the in-flight caps or the rate limit,
   * which share the workers among chat members (and playground visitors). Adapters never set it.
   */
  operator?: boolean;
}

export interface SubmitReceipt {
  jobId: string;
  /** True when the idempotency key was seen before and this is the earlier job. */
  duplicate: boolean;
  /** 1-based place in the queue at submit time (1 = next to run), 0 when already running or finished. */
  position: number;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobSummary {
  jobId: string;
  state: JobState;
  position: number;
  submittedAt: number;
  pose: string;
  lighting: string;
}

export interface PortraitService {
  /** Stores an image (a selfie) with the blob TTL and returns its key. The owner is recorded for `forget`. */
  putBlob(bytes: Uint8Array, owner: Requester): Promise<string>;
  getBlob(key: string): Promise<Uint8Array | null>;
  /** Queues a request. Throws PortraitError `quota.*` when the requester or the community is over its cap. */
  submit(options: SubmitOptions): Promise<SubmitReceipt>;
  position(jobId: string): Promise<number>;
  /** The requester's jobs that are queued or running, plus recent finished ones. */
  listJobs(requester: Requester): Promise<JobSummary[]>;
  /** Cancels a queued or running job of this requester; false when it was not theirs or already finished. */
  cancel(jobId: string, requester: Requester): Promise<boolean>;
  /** Deletes every stored selfie, result and job record of this requester. Returns how many keys went. */
  forget(requester: Requester): Promise<number>;
  close(): Promise<void>;
}

/**
 * Consumes the durable delivery queue of one platform. The handler's promise resolving acknowledges the delivery;
 * a throw retries it with backoff. Result and failure deliveries reach a successful handler exactly once per job,
 * also across restarts of the consuming process.
 */
export interface DeliveryConsumer {
  close(): Promise<void>;
}
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;
