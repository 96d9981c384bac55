import type { AllMiddlewareArgs, AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { PortraitError } from '../../errors.js';
import { MODAL_FIELDS } from './blocks.js';
import { errName, errorText, type SlackContext } from './portraits.js';

/**
 * Global Bolt middleware for a stopping process: while `draining()` is true no listener runs, and whatever asks
 * for something (a slash command, the form, a shortcut, a button, a mention) is answered "restarting, try again in
 * a minute" in the way that request is answered. Everything else (home tab, plain channel messages) is dropped.
 */
export function restartingGate(
  ctx: Pick<SlackContext, 'log' | 'client'>,
  draining: () => boolean,
): Middleware<AnyMiddlewareArgs> {
  // The same mention arrives as app_mention and as message/file_share: one notice per message.
  const noticed = new Set<string>();
  return async (args) => {
    if (!draining()) return args.next();
    const text = errorText(ctx, new PortraitError('service.restarting', 'the bot is shutting down'), 'restarting');
    const body = args.body as unknown as Record<string, unknown>;
    const ack = 'ack' in args ? (args.ack as (response?: unknown) => Promise<void>) : undefined;
    const ephemeral = (channel: string | undefined, user: string | undefined, thread?: string) =>
      channel && user
        ? ctx.client.chat
            .postEphemeral({ channel, user, text, ...(thread ? { thread_ts: thread } : {}) })
            .then(() => undefined)
            .catch((e: unknown) => ctx.log.warn({ err: errName(e) }, 'slack: restarting notice failed'))
        : Promise.resolve();
    try {
      if ('command' in args) return await ack?.({ response_type: 'ephemeral', text });
      switch (body['type']) {
        case 'view_submission':
          // The form stays open with the sentence under a field, so the user can send it again in a minute.
          return await ack?.({ response_action: 'errors', errors: { [MODAL_FIELDS.pose.block]: text } });
        case 'block_suggestion':
          return await ack?.({ options: [] });
        case 'block_actions':
        case 'message_action':
        case 'shortcut': {
          await ack?.();
          const channel = (body['channel'] as { id?: string } | undefined)?.id;
          const user = (body['user'] as { id?: string } | undefined)?.id;
          if (channel) return await ephemeral(channel, user);
          // A global shortcut has no channel: the app's direct messages with the user.
          if (user) await ctx.client.chat.postMessage({ channel: user, text }).catch(() => {});
          return;
        }
        case 'event_callback':
          return await onEvent(args as unknown as AllMiddlewareArgs & { event: Record<string, unknown> });
        default:
          await ack?.();
      }
    } catch (err) {
      ctx.log.warn({ err: errName(err) }, 'slack: could not answer "restarting"');
    }

    async function onEvent({ event, context }: AllMiddlewareArgs & { event: Record<string, unknown> }) {
      const mention =
        event['type'] === 'app_mention' ||
        (event['type'] === 'message' &&
          event['subtype'] === 'file_share' &&
          Boolean(context.botUserId) &&
          String(event['text'] ?? '').includes(`<@${context.botUserId}>`));
      if (!mention || event['bot_id']) return;
      const channel = event['channel'] as string | undefined;
      const ts = event['ts'] as string | undefined;
      const key = `${channel}:${ts}`;
      if (noticed.has(key)) return;
      noticed.add(key);
      await ephemeral(channel, event['user'] as string | undefined, (event['thread_ts'] as string | undefined) ?? ts);
    }
  };
}
