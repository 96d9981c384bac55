import { type ErrorDetails, type ErrorPayload, isPortraitError, newReferenceId, toErrorPayload } from '../errors.js';
import type { Logger } from '../log.js';
import type { Delivery } from '../queue/jobs.js';

/**
 * How a failure becomes an answer, the same on every platform: user errors keep their code and details (their
 * sentence comes from src/core/messages.ts); anything else is logged once with a fresh reference id and answered
 * with the generic sentence carrying that id. The adapters only escape and format the sentence.
 */
export function errorAnswer(
  err: unknown,
  o: { log: Logger; what: string; selfies?: number; ids?: Readonly<Record<string, unknown>> },
): ErrorPayload {
  if (isPortraitError(err) && err.userError) {
    o.log.info({ ...o.ids, code: err.code }, `${o.what} refused`);
    const payload = toErrorPayload(err);
    return { ...payload, details: selfieDetails(payload.details, o.selfies ?? 0) };
  }
  const refId = newReferenceId();
  o.log.error({ ...o.ids, refId, err: safeError(err) }, `${o.what} failed`);
  return { ...toErrorPayload(err, refId), details: {} };
}

/**
 * With a single selfie the sentence says "your selfie", not "selfie 1": the number is kept only when the request
 * had several (the worker numbers every selfie it reads).
 */
export function selfieDetails(details: ErrorDetails, selfies: number): ErrorDetails {
  if (selfies !== 1 || !('selfie' in details)) return details;
  const { selfie: _one, ...rest } = details;
  return rest;
}

/** The ids every log line about a delivered answer carries (the worker's and the queue's lines have the same). */
export function deliveryIds(d: Pick<Delivery, 'jobId' | 'requestId'>): { jobId: string; requestId?: string } {
  return d.requestId === undefined ? { jobId: d.jobId } : { jobId: d.jobId, requestId: d.requestId };
}

/** An error for a log line: name, message, and a platform's error code when it has one; never a request body. */
function safeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; status?: unknown; data?: { error?: unknown } };
  return {
    name: e.name,
    message: e.message,
    ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    ...(typeof e.data?.error === 'string' ? { error: e.data.error } : {}),
  };
}
