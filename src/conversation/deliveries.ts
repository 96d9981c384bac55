import type { Platform } from '../core/request.js';
import { type ErrorPayload, isUserErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Delivery, PortraitResult } from '../queue/jobs.js';
import type { DeliveryHandler, PortraitService } from '../queue/service.js';
import { deliveryIds, selfieDetails } from './answers.js';
import type { ProgressInfo } from './present.js';
import { ProgressThrottle, type ThrottleClock } from './throttle.js';

/**
 * The answer side of a conversation, once for every platform: the worker's deliveries (progress, result, failure)
 * are read, routed, throttled, logged and turned into neutral views; a platform's `ChatSurface` only renders them.
 * The same model as Bolt's Receiver: the platform code sits at the edge and the flow lives here.
 */

/** Ids every log line about one job carries. */
export type LogIds = { jobId: string; requestId?: string };

/** A status line for the request's status message: queued with a position, or a stage of the job. */
export type StatusView =
  | { kind: 'queued'; jobId: string; position: number }
  | { kind: 'progress'; progress: ProgressInfo; previewKey?: string | undefined };

/** A finished job, with its images read from their blobs. */
export interface ResultView {
  images: readonly Uint8Array[];
  result: PortraitResult;
  seed: number;
  requester: Delivery['requester'];
}

/** What one platform does with the views. `R` is the platform's route, read back from the job's opaque record. */
export interface ChatSurface<R> {
  readonly platform: Platform;
  /** The route the adapter stored with the job; undefined when it cannot be read (the delivery is dropped). */
  readRoute(record: Readonly<Record<string, string>>): R | undefined;
  /** How many selfies the request had, so a single one reads "your selfie" in sentences. */
  selfies(route: R): number;
  /** Edits the status message (best effort: a failure is logged by the surface). */
  showStatus(route: R, view: StatusView, ids: LogIds): Promise<void>;
  /** Posts the portraits. A throw makes the delivery queue retry. */
  showResult(route: R, view: ResultView, ids: LogIds): Promise<void>;
  /** Answers with the failure's sentence (details already fitted to the selfie count). A throw retries. */
  showFailure(route: R, error: ErrorPayload, ids: LogIds): Promise<void>;
}

export interface ConversationDeliveries<R> {
  /** The delivery queue's handler for this platform. */
  readonly handle: DeliveryHandler;
  /** Shows a status through the same throttle as progress, so edits stay in order and never follow the answer. */
  status(jobId: string, route: R, view: StatusView, ids: LogIds): void;
  close(): Promise<void>;
}

export interface DeliveryOptions {
  service: Pick<PortraitService, 'getBlob'>;
  log: Logger;
  /** Minimum time between two edits of one status message (platform rate limits). */
  intervalMs: number;
  clock?: ThrottleClock;
}

export function createDeliveries<R>(surface: ChatSurface<R>, o: DeliveryOptions): ConversationDeliveries<R> {
  const throttle = new ProgressThrottle<{ route: R; view: StatusView; ids: LogIds }>({
    intervalMs: o.intervalMs,
    ...(o.clock ? { clock: o.clock } : {}),
    send: (_jobId, u) => surface.showStatus(u.route, u.view, u.ids),
  });

  async function failure(route: R, error: ErrorPayload, ids: LogIds): Promise<void> {
    if (!isUserErrorCode(error.code)) {
      o.log.error({ ...ids, code: error.code, refId: error.refId, message: error.message }, 'portrait job failed');
    } else {
      o.log.info({ ...ids, code: error.code }, 'portrait job refused');
    }
    const fitted = { ...error, details: selfieDetails(error.details, surface.selfies(route)) };
    await surface.showFailure(route, fitted, ids);
  }

  const handle: DeliveryHandler = async (d) => {
    if (d.platform !== surface.platform) return;
    const ids = deliveryIds(d);
    const route = surface.readRoute(d.route);
    if (!route) {
      o.log.warn({ ...ids, kind: d.kind }, `delivery without a ${surface.platform} route, dropped`);
      return;
    }
    if (d.kind === 'progress') {
      const progress: ProgressInfo = { stage: d.stage, step: d.step, steps: d.steps };
      throttle.update(d.jobId, { route, view: { kind: 'progress', progress, previewKey: d.previewKey }, ids });
      return;
    }
    // From here on the answer owns the status message: pending progress is dropped, late progress ignored.
    await throttle.finish(d.jobId);
    if (d.kind === 'failure') return failure(route, d.error, ids);
    const images = await Promise.all(d.result.outputKeys.map((k) => o.service.getBlob(k)));
    if (images.some((b) => b === null)) {
      return failure(route, { code: 'job.expired', message: 'result blobs expired', details: {} }, ids);
    }
    await surface.showResult(
      route,
      { images: images as Uint8Array[], result: d.result, seed: d.seed, requester: d.requester },
      ids,
    );
    o.log.info({ ...ids, images: images.length }, 'portrait posted');
  };

  return {
    handle,
    status: (jobId, route, view, ids) => throttle.update(jobId, { route, view, ids }),
    close: () => throttle.close(),
  };
}
