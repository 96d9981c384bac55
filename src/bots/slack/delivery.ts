import { Buffer } from 'node:buffer';
import { describeError } from '../../core/messages.js';
import type { Delivery } from '../../queue/jobs.js';
import type { DeliveryHandler } from '../../queue/service.js';
import {
  altText,
  captionText,
  formatDuration,
  type ProgressInfo,
  progressText,
  reportNote,
} from '../common/present.js';
import { ProgressThrottle } from '../common/throttle.js';
import { resultBlocks, resultFallback } from './blocks.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { errName, REACTIONS, react, type SlackContext, selfieDetails } from './portraits.js';
import { fromRoute, type PortraitState } from './state.js';

/** Slack's chat.update is rate-limited per channel: status edits go out at most this often per job. */
export const PROGRESS_INTERVAL_MS = 3000;

type ResultDelivery = Extract<Delivery, { kind: 'result' }>;
type FailureDelivery = Extract<Delivery, { kind: 'failure' }>;

export interface SlackDeliveries {
  handle: DeliveryHandler;
  close(): Promise<void>;
}

/**
 * Answers the worker's deliveries in Slack: progress edits the status message (throttled, best effort, text only:
 * a diffusion step's `previewKey` is ignored, since Slack can swap an image in a message only by uploading a new
 * file each time and sharing it, far too heavy for a throwaway preview); a result
 * uploads the portrait(s) into the thread with alt text and a caption, then posts the controls; a failure turns
 * the status message into the error sentence. A throw makes the delivery queue retry, so only the final answers
 * throw on Slack errors.
 */
export function createDeliveries(ctx: SlackContext, intervalMs = PROGRESS_INTERVAL_MS): SlackDeliveries {
  const throttle = new ProgressThrottle<{ channel: string; ts: string; progress: ProgressInfo; ids: LogIds }>({
    intervalMs,
    send: async (_key, v) => {
      await ctx.client.chat
        .update({ channel: v.channel, ts: v.ts, text: `:art: ${escapeMrkdwn(progressText(v.progress))}` })
        .catch((err: unknown) => ctx.log.debug({ ...v.ids, err: errName(err) }, 'slack: progress edit failed'));
    },
  });

  async function onResult(d: ResultDelivery): Promise<void> {
    // Every line about the answer carries the job's ids (the worker's and the queue's lines have the same).
    const log = ctx.log.child(deliveryIds(d));
    const route = fromRoute(d.route);
    if (!route) return void log.warn('slack: result without a Slack route dropped');
    await throttle.finish(d.jobId);
    const images = await Promise.all(d.result.outputKeys.map((k) => ctx.service.getBlob(k)));
    if (images.some((b) => b === null)) {
      const expired = describeError({ code: 'job.expired', details: {} });
      await finalText({ ...ctx, log }, route, `:warning: ${escapeMrkdwn(expired)}`);
      return;
    }
    const elapsedMs = Date.now() - Number(route.at);
    const info = {
      pose: route.pose,
      lighting: route.lighting,
      style: route.style,
      engine: d.result.engine,
      seed: d.seed,
      elapsedMs,
      note: reportNote(d.result.report),
    };
    const count = images.length;
    const caption = count > 1 ? `${count} variations · ${captionText(info)}` : captionText(info);
    const upload = await ctx.client.files.uploadV2({
      channel_id: route.channel,
      thread_ts: route.thread,
      file_uploads: images.map((bytes, i) => ({
        file: Buffer.from(bytes as Uint8Array),
        filename: `portrait-${i + 1}.${d.result.format}`,
        title: count > 1 ? `Portrait ${i + 1} of ${count}` : 'Portrait',
        alt_text: altText(info),
      })),
    });
    const fileIds = uploadedFileIds(upload);
    const state: PortraitState = {
      v: 1,
      u: d.requester.userId,
      t: d.requester.scopeId,
      k: route.keys.split(',').filter(Boolean),
      p: route.pose,
      l: route.lighting,
      s: route.style,
      n: Math.max(1, Number(route.variations) || 1),
      d: d.seed,
      f: fileIds,
    };
    await ctx.client.chat.postMessage({
      channel: route.channel,
      thread_ts: route.thread,
      text: resultFallback(caption),
      blocks: resultBlocks(caption, state, ctx.catalogue.lightings),
    });
    log.info({ images: count }, 'slack: portrait posted');
    await finalText({ ...ctx, log }, route, `:white_check_mark: Done in ${formatDuration(elapsedMs)}.`);
    if (route.message) await react({ ...ctx, log }, route.channel, route.message, REACTIONS.done);
  }

  async function onFailure(d: FailureDelivery): Promise<void> {
    const log = ctx.log.child(deliveryIds(d));
    const route = fromRoute(d.route);
    if (!route) return void log.warn('slack: failure without a Slack route dropped');
    await throttle.finish(d.jobId);
    if (d.error.refId) log.warn({ code: d.error.code, refId: d.error.refId }, 'slack: job failed');
    else log.info({ code: d.error.code }, 'slack: job refused');
    const { code, details, refId } = d.error;
    const selfies = route.keys.split(',').filter(Boolean).length;
    const sentence = describeError({ code, details: selfieDetails(details, selfies), ...(refId ? { refId } : {}) });
    await finalText({ ...ctx, log }, route, `:warning: ${escapeMrkdwn(sentence)}`);
    if (route.message) await react({ ...ctx, log }, route.channel, route.message, REACTIONS.failed);
  }

  return {
    handle: async (d) => {
      if (d.platform !== 'slack') return;
      if (d.kind === 'progress') {
        const route = fromRoute(d.route);
        if (route)
          throttle.update(d.jobId, { channel: route.channel, ts: route.status, progress: d, ids: deliveryIds(d) });
        return;
      }
      if (d.kind === 'result') return onResult(d);
      return onFailure(d);
    },
    close: () => throttle.close(),
  };
}

type LogIds = { jobId: string; requestId?: string };

function deliveryIds(d: Delivery): LogIds {
  return d.requestId === undefined ? { jobId: d.jobId } : { jobId: d.jobId, requestId: d.requestId };
}

/** Edits the status message; when that is gone (deleted, too old), posts the text in the thread instead. */
async function finalText(ctx: SlackContext, route: { channel: string; thread: string; status: string }, text: string) {
  try {
    await ctx.client.chat.update({ channel: route.channel, ts: route.status, text });
  } catch (err) {
    ctx.log.debug({ err: errName(err) }, 'slack: status edit failed, posting instead');
    await ctx.client.chat.postMessage({ channel: route.channel, thread_ts: route.thread, text });
  }
}

/** File ids from files.uploadV2's answer (one completeUploadExternal response per channel/thread group). */
function uploadedFileIds(upload: unknown): string[] {
  const groups = (upload as { files?: Array<{ files?: Array<{ id?: unknown }> }> }).files ?? [];
  return groups.flatMap((g) => g.files ?? []).flatMap((f) => (typeof f.id === 'string' ? [f.id] : []));
}
