import { Buffer } from 'node:buffer';
import { createDeliveries as conversationDeliveries, type ResultView } from '../../conversation/deliveries.js';
import {
  altText,
  captionText,
  formatDuration,
  progressText,
  queuedText,
  reportNote,
} from '../../conversation/present.js';
import { describeError } from '../../core/messages.js';
import type { ErrorPayload } from '../../errors.js';
import type { DeliveryHandler } from '../../queue/service.js';
import { resultBlocks, resultFallback } from './blocks.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { errName, REACTIONS, react, type SlackContext } from './portraits.js';
import { fromRoute, type SlackButtonState, type SlackRoute } from './state.js';

/** Slack's chat.update is rate-limited per channel: status edits go out at most this often per job. */
export const PROGRESS_INTERVAL_MS = 3000;

export interface SlackDeliveries {
  handle: DeliveryHandler;
  close(): Promise<void>;
}

/**
 * How the shared answer flow (src/conversation/deliveries.ts) shows up in Slack: progress edits the status message
 * (text only: a diffusion step's `previewKey` is ignored, since Slack can swap an image in a message only by
 * uploading a new file each time and sharing it, far too heavy for a throwaway preview); a result uploads the
 * portrait(s) into the thread with alt text and a caption, then posts the controls; a failure turns the status
 * message into the error sentence.
 */
export function createDeliveries(ctx: SlackContext, intervalMs = PROGRESS_INTERVAL_MS): SlackDeliveries {
  const deliveries = conversationDeliveries<SlackRoute>(
    {
      platform: 'slack',
      readRoute: fromRoute,
      selfies: (route) => route.keys.split(',').filter(Boolean).length,
      showStatus: async (route, view, ids) => {
        const text =
          view.kind === 'queued'
            ? `:hourglass_flowing_sand: ${escapeMrkdwn(queuedText(view.position))}`
            : `:art: ${escapeMrkdwn(progressText(view.progress))}`;
        await ctx.client.chat
          .update({ channel: route.channel, ts: route.status, text })
          .catch((err: unknown) => ctx.log.debug({ ...ids, err: errName(err) }, 'slack: progress edit failed'));
      },
      showResult: (route, view) => showResult(ctx, route, view),
      showFailure: (route, error) => showFailure(ctx, route, error),
    },
    { service: ctx.service, log: ctx.log, intervalMs },
  );
  return { handle: deliveries.handle, close: () => deliveries.close() };
}

async function showResult(ctx: SlackContext, route: SlackRoute, view: ResultView): Promise<void> {
  const { images, result, seed } = view;
  const elapsedMs = ctx.conversation.now() - Number(route.at);
  const info = {
    pose: route.pose,
    lighting: route.lighting,
    style: route.style,
    engine: result.engine,
    seed,
    elapsedMs,
    note: reportNote(result.report),
  };
  const count = images.length;
  const caption = count > 1 ? `${count} variations · ${captionText(info)}` : captionText(info);
  const upload = await ctx.client.files.uploadV2({
    channel_id: route.channel,
    thread_ts: route.thread,
    file_uploads: images.map((bytes, i) => ({
      file: Buffer.from(bytes),
      filename: `portrait-${i + 1}.${result.format}`,
      title: count > 1 ? `Portrait ${i + 1} of ${count}` : 'Portrait',
      alt_text: altText(info),
    })),
  });
  const state: SlackButtonState = {
    redo: {
      v: 1,
      userId: view.requester.userId,
      scopeId: view.requester.scopeId,
      selfieKeys: route.keys.split(',').filter(Boolean),
      pose: route.pose,
      lighting: route.lighting,
      style: route.style,
      variations: Math.max(1, Number(route.variations) || 1),
      seed,
    },
    files: uploadedFileIds(upload),
  };
  await ctx.client.chat.postMessage({
    channel: route.channel,
    thread_ts: route.thread,
    text: resultFallback(caption),
    blocks: resultBlocks(caption, state, ctx.catalogue.lightings),
  });
  await finalText(ctx, route, `:white_check_mark: Done in ${formatDuration(elapsedMs)}.`);
  if (route.message) await react(ctx, route.channel, route.message, REACTIONS.done);
}

async function showFailure(ctx: SlackContext, route: SlackRoute, error: ErrorPayload): Promise<void> {
  await finalText(ctx, route, `:warning: ${escapeMrkdwn(describeError(error))}`);
  if (route.message) await react(ctx, route.channel, route.message, REACTIONS.failed);
}

/** Edits the status message; when that is gone (deleted, too old), posts the text in the thread instead. */
async function finalText(ctx: SlackContext, route: SlackRoute, text: string) {
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
