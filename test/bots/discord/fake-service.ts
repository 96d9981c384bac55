import type { Requester } from '../../../src/core/request.js';
import { PortraitError } from '../../../src/errors.js';
import type { JobSummary, PortraitService, SubmitOptions, SubmitReceipt } from '../../../src/queue/service.js';

/**
 * An in-memory PortraitService with the contract's behaviour (idempotent submit, per-user in-flight cap, owner
 * checks on cancel, forget by owner), for adapter tests that do not need Redis. The integration test uses the
 * real service.
 */
export class FakePortraitService implements PortraitService {
  readonly blobs = new Map<string, { bytes: Uint8Array; owner: Requester }>();
  readonly submitted: SubmitOptions[] = [];
  readonly jobs = new Map<string, JobSummary & { owner: Requester; key: string }>();
  /** Set to make submit fail like an outage (or a bug). */
  failSubmit: Error | undefined;
  inFlightLimit = 2;
  forgotten: Requester[] = [];
  #n = 0;

  async putBlob(bytes: Uint8Array, owner: Requester): Promise<string> {
    const key = `blob:${++this.#n}`;
    this.blobs.set(key, { bytes: new Uint8Array(bytes), owner });
    return key;
  }

  async getBlob(key: string): Promise<Uint8Array | null> {
    return this.blobs.get(key)?.bytes ?? null;
  }

  async submit(options: SubmitOptions): Promise<SubmitReceipt> {
    if (this.failSubmit) throw this.failSubmit;
    const existing = [...this.jobs.values()].find((j) => j.key === options.idempotencyKey);
    if (existing) return { jobId: existing.jobId, duplicate: true, position: existing.position };
    const owner = options.request.requester;
    const open = [...this.jobs.values()].filter(
      (j) => j.owner.userId === owner.userId && (j.state === 'queued' || j.state === 'running'),
    );
    if (open.length >= this.inFlightLimit) {
      throw new PortraitError('quota.user_in_flight', 'user at cap', { limit: this.inFlightLimit });
    }
    this.submitted.push(options);
    const jobId = options.idempotencyKey;
    const position = [...this.jobs.values()].filter((j) => j.state === 'queued').length + 1;
    this.jobs.set(jobId, {
      jobId,
      key: options.idempotencyKey,
      owner,
      state: 'queued',
      position,
      submittedAt: Date.now(),
      pose: options.request.pose ?? 'front',
      lighting: options.request.lighting ?? 'studio',
    });
    return { jobId, duplicate: false, position };
  }

  async position(jobId: string): Promise<number> {
    return this.jobs.get(jobId)?.position ?? 0;
  }

  async listJobs(requester: Requester): Promise<JobSummary[]> {
    return [...this.jobs.values()]
      .filter((j) => j.owner.userId === requester.userId)
      .map(({ owner: _o, key: _k, ...j }) => j);
  }

  async cancel(jobId: string, requester: Requester): Promise<boolean> {
    const job = this.jobs.get(jobId);
    if (!job || job.owner.userId !== requester.userId || (job.state !== 'queued' && job.state !== 'running'))
      return false;
    job.state = 'cancelled';
    return true;
  }

  async forget(requester: Requester): Promise<number> {
    this.forgotten.push(requester);
    let n = 0;
    for (const [k, b] of this.blobs) {
      if (b.owner.userId === requester.userId) {
        this.blobs.delete(k);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {}
}
