import { randomBytes } from 'node:crypto';

/**
 * Stable error codes. Codes (not classes) cross Redis: a failed job carries its code and the chat adapter turns
 * it into a sentence (src/core/messages.ts). Add a code here together with its sentence there.
 */
export const USER_ERROR_CODES = [
  // input: what was uploaded
  'input.empty',
  'input.too_large',
  'input.too_many_pixels',
  'input.too_small',
  'input.unsupported_format',
  'input.heic_unsupported',
  'input.corrupt',
  'input.not_image',
  // download of an attachment from the chat platform
  'download.host_not_allowed',
  'download.failed',
  'download.too_large',
  // faces
  'face.none',
  'face.too_small',
  'face.low_resolution',
  'face.several',
  'face.different_people',
  'face.cut_off',
  // request options
  'request.no_selfie',
  'request.too_many_selfies',
  'request.bad_pose',
  'request.pose_out_of_range',
  'request.bad_lighting',
  'request.bad_style',
  'request.backdrop_unavailable',
  'request.bad_option',
  'request.engine_unavailable',
  // limits
  'quota.user_in_flight',
  'quota.queue_full',
  'quota.rate_limited',
  'access.not_allowed',
  // job lifecycle
  'job.cancelled',
  'job.timeout',
  'job.expired',
  'service.restarting',
  'service.unavailable',
  // community avatar events (src/avatar-events/definition.ts)
  'event.not_found',
  'event.not_open',
  'event.closed',
  'event.not_allowed',
  'event.name_taken',
] as const;

export const INTERNAL_ERROR_CODES = ['internal.error', 'model.missing', 'model.checksum', 'model.invalid'] as const;

export type UserErrorCode = (typeof USER_ERROR_CODES)[number];
export type InternalErrorCode = (typeof INTERNAL_ERROR_CODES)[number];
export type ErrorCode = UserErrorCode | InternalErrorCode;

const userCodes: ReadonlySet<string> = new Set(USER_ERROR_CODES);
const allCodes: ReadonlySet<string> = new Set([...USER_ERROR_CODES, ...INTERNAL_ERROR_CODES]);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && allCodes.has(value);
}

export function isUserErrorCode(value: unknown): value is UserErrorCode {
  return typeof value === 'string' && userCodes.has(value);
}

/** Values that fill a sentence's blanks, e.g. `{ selfie: 2, limit: '10 MB', got: 'PDF' }`. Never user bytes or URLs. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean>>;

/**
 * The one error type of the project. `userError` errors are the requester's to fix (bad input, limits): they are
 * answered with a sentence and never retried. Everything else is a bug or an outage: logged with context, retried
 * where that can help, and answered with a generic sentence and a reference id.
 */
export class PortraitError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PortraitError';
    this.code = code;
    this.details = details;
  }
  get userError(): boolean {
    return isUserErrorCode(this.code);
  }
}

export function isPortraitError(err: unknown): err is PortraitError {
  return err instanceof PortraitError;
}

/** The serialisable shape of an error as it crosses Redis and worker threads. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
  /** Reference id shown to the user for internal errors and written to the logs. */
  refId?: string | undefined;
}

export function toErrorPayload(err: unknown, refId?: string): ErrorPayload {
  if (err instanceof PortraitError) {
    return { code: err.code, message: err.message, details: err.details, ...(refId ? { refId } : {}) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal.error', message, details: {}, ...(refId ? { refId } : {}) };
}

/**
 * A fresh reference id for an internal error: shown to the user at the end of the sentence and written to the log
 * line about the failure, so support can find one from the other. The one maker for worker, adapters and CLI.
 */
export function newReferenceId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Something the operator must fix before a process can run: a wrong token, an unreachable Redis or chat platform, a
 * folder that does not exist. The message is one sentence naming the variable and the fix; main.ts prints it without
 * a stack and exits with `exitCode` (2: a setting to change, 1: something to bring up or reach).
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2 = 2, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}
