import type { PortraitRequestInput, Requester } from '../../../src/core/request.js';
import { PortraitError } from '../../../src/errors.js';
import type { JobSummary, PortraitService, SubmitOptions, SubmitReceipt } from '../../../src/queue/service.js';

/**
 * An in-memory PortraitService with the contract's behaviour that the adapter relies on: idempotency keys, queue
 * positions, per-user in-flight and per-scope caps (as quota.* PortraitErrors), blob storage.
 */
export class MemoryService implements PortraitService {
  readonly blobs = new Map<string, { bytes: Uint8Array; owner: Requester }>();
  readonly jobs: Array<{ jobId: string; key: string; request: PortraitRequestInput; state: JobSummary['state'] }> = [];
  #seq = 0;
  constructor(
    private readonly limits = { userInFlight: 2, scopeCap: 50 },
    /** Jobs already waiting ahead of new ones (for queue positions). */
    public ahead = 0,
  ) {}

  async putBlob(bytes: Uint8Array, owner: Requester): Promise<string> {
    const key = `blob-${++this.#seq}`;
    this.blobs.set(key, { bytes, owner });
    return key;
  }
  async getBlob(key: string): Promise<Uint8Array | null> {
    return this.blobs.get(key)?.bytes ?? null;
  }
  async submit(o: SubmitOptions): Promise<SubmitReceipt> {
    const existing = this.jobs.find((j) => j.key === o.idempotencyKey);
    if (existing) return { jobId: existing.jobId, duplicate: true, position: 0 };
    const live = this.jobs.filter((j) => j.state === 'queued' || j.state === 'running');
    const r = o.request.requester;
    const mine = live.filter(
      (j) => j.request.requester.userId === r.userId && j.request.requester.scopeId === r.scopeId,
    );
    if (mine.length >= this.limits.userInFlight) {
      throw new PortraitError('quota.user_in_flight', 'user in-flight cap', { limit: this.limits.userInFlight });
    }
    if (live.filter((j) => j.request.requester.scopeId === r.scopeId).length >= this.limits.scopeCap) {
      throw new PortraitError('quota.queue_full', 'scope cap');
    }
    const jobId = `job-${++this.#seq}`;
    this.jobs.push({ jobId, key: o.idempotencyKey, request: o.request, state: 'queued' });
    return { jobId, duplicate: false, position: this.ahead + live.length + 1 };
  }
  async position(jobId: string): Promise<number> {
    const live = this.jobs.filter((j) => j.state === 'queued');
    return live.findIndex((j) => j.jobId === jobId) + 1;
  }
  async listJobs(requester: Requester): Promise<JobSummary[]> {
    return this.jobs
      .filter((j) => j.request.requester.userId === requester.userId)
      .map((j) => ({
        jobId: j.jobId,
        state: j.state,
        position: 0,
        submittedAt: 1_700_000_000_000,
        pose: j.request.pose ?? 'front',
        lighting: j.request.lighting ?? 'studio',
      }));
  }
  async cancel(jobId: string, requester: Requester): Promise<boolean> {
    const j = this.jobs.find((x) => x.jobId === jobId && x.request.requester.userId === requester.userId);
    if (!j || (j.state !== 'queued' && j.state !== 'running')) return false;
    j.state = 'cancelled';
    return true;
  }
  async forget(requester: Requester): Promise<number> {
    let n = 0;
    for (const [k, v] of this.blobs) {
      if (v.owner.userId === requester.userId) {
        this.blobs.delete(k);
        n++;
      }
    }
    return n;
  }
  async close(): Promise<void> {}
}
