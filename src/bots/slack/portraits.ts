import type { webApi } from '@slack/bolt';
import type { Config } from '../../config.js';
import { errorAnswer } from '../../conversation/answers.js';
import { type Catalogue, createCatalogue } from '../../conversation/catalogue.js';
import { queuedText, STAGE_LABELS } from '../../conversation/present.js';
import { Conversation } from '../../conversation/requests.js';
import { describeError } from '../../core/messages.js';
import type { PromptFields } from '../../core/prompt.js';
import type { Requester } from '../../core/request.js';
import { PortraitError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { PortraitService } from '../../queue/service.js';
import { checkSlackFiles, declaredSlackFile, type SlackFile, slackDownloadPolicy } from './files.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { toRoute } from './state.js';

export type SlackClient = webApi.WebClient;

export type SlackConfig = Pick<
  Config,
  | 'SLACK_BOT_TOKEN'
  | 'SLACK_FILE_HOSTS'
  | 'SLACK_ALLOWED_CHANNELS'
  | 'PORTRAIT_MAX_INPUT_BYTES'
  | 'PORTRAIT_USER_IN_FLIGHT'
  | 'PORTRAIT_SCOPE_QUEUE_CAP'
  | 'PORTRAIT_BLOB_TTL_SECONDS'
  | 'PORTRAIT_ENGINE'
>;

/** What every handler of the adapter shares. */
export interface SlackContext {
  client: SlackClient;
  service: PortraitService;
  config: SlackConfig;
  log: Logger;
  catalogue: Catalogue;
  /** The shared request flow (src/conversation): checks, downloads, blobs, submit. */
  conversation: Conversation;
}

/** The context every listener shares, with the conversation layer set up for Slack's file host and token. */
export function slackContext(o: {
  client: SlackClient;
  service: PortraitService;
  config: SlackConfig;
  log: Logger;
  catalogue?: Catalogue;
  fetch?: typeof fetch;
  /** Seeds for requests that give none, and the clock (tests pin them). */
  newSeed?: () => number;
  now?: () => number;
}): SlackContext {
  const catalogue = o.catalogue ?? createCatalogue(o.config.PORTRAIT_ENGINE);
  const conversation = new Conversation({
    service: o.service,
    catalogue,
    download: slackDownloadPolicy(o.config, o.log),
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.newSeed ? { newSeed: o.newSeed } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  return { client: o.client, service: o.service, config: o.config, log: o.log, catalogue, conversation };
}

/** One portrait request from any entry point (mention, shortcut, modal, button). */
export interface SlackPortraitRequest {
  requester: Requester;
  channel: string;
  /** Thread to answer in; when absent the status message starts one. */
  thread?: string | undefined;
  /** The user's message, which gets the "seen" and "done" reactions. */
  message?: string | undefined;
  /** Files to download, or the blob keys of an earlier request (buttons). */
  source: { files: readonly SlackFile[] } | { keys: readonly string[] };
  fields: PromptFields;
  idempotencyKey: string;
}

export const REACTIONS = { seen: 'eyes', done: 'white_check_mark', failed: 'warning' } as const;

export function isChannelAllowed(config: Pick<Config, 'SLACK_ALLOWED_CHANNELS'>, channel: string): boolean {
  return config.SLACK_ALLOWED_CHANNELS.length === 0 || config.SLACK_ALLOWED_CHANNELS.includes(channel);
}

/**
 * The text for an error: the shared sentence for user errors; for anything else a generic sentence with a
 * reference id that is also in the log line. Escaped for mrkdwn, since sentences can quote user text.
 */
export function errorText(ctx: Pick<SlackContext, 'log'>, err: unknown, what: string, selfies = 0): string {
  const answer = errorAnswer(err, { log: ctx.log, what: `slack: ${what}`, selfies });
  return `:warning: ${escapeMrkdwn(describeError(answer))}`;
}

/**
 * Runs one request: answer at once (a reaction on the user's message and a status message in the thread),
 * download the selfies, store them, submit with the idempotency key, and show the queue position. Every failure
 * ends as a sentence in the status message. Never throws.
 */
export async function startPortrait(slack: SlackContext, req: SlackPortraitRequest): Promise<void> {
  // The idempotency key is the request id: the queue's and the worker's lines about this request carry it too.
  const ctx: SlackContext = { ...slack, log: slack.log.child({ requestId: req.idempotencyKey }) };
  const { client } = ctx;
  if (!isChannelAllowed(ctx.config, req.channel)) {
    await postEphemeralError(
      ctx,
      req,
      errorText(ctx, new PortraitError('access.not_allowed', 'channel not on SLACK_ALLOWED_CHANNELS'), 'access'),
    );
    return;
  }
  let status: string | undefined;
  let thread = req.thread;
  let channel = req.channel;
  let selfies = 0;
  const say = async (text: string): Promise<void> => {
    if (status) {
      await client.chat.update({ channel, ts: status, text });
    } else {
      const r = await client.chat.postMessage({ channel, text, ...(thread ? { thread_ts: thread } : {}) });
      status = r.ts;
    }
  };
  /**
   * The first status message. A form or shortcut can come from a channel the bot is not in; the answer then goes
   * to the requester's direct messages with the app instead of nowhere.
   */
  const firstPost = async (text: string) => {
    try {
      return await client.chat.postMessage({ channel, text, ...(thread ? { thread_ts: thread } : {}) });
    } catch (err) {
      if (thread || !['not_in_channel', 'channel_not_found', 'is_archived'].includes(errName(err))) throw err;
      const r = await client.chat.postMessage({ channel: req.requester.userId, text });
      channel = r.channel ?? req.requester.userId;
      return r;
    }
  };
  try {
    // How many selfies the request has, for "your selfie" vs "selfie 2" in sentences.
    selfies = 'files' in req.source ? req.source.files.length : req.source.keys.length;
    const files = 'files' in req.source ? checkSlackFiles(req.source.files, ctx.conversation.limits) : [];
    if ('files' in req.source) selfies = files.length;
    // The same checks as on every platform: a pose the engine refuses or a typo is answered before any download.
    const options = ctx.conversation.options(req.fields);
    // The first visible answer: both go out together, before the slow part.
    const [posted] = await Promise.all([
      firstPost(`:hourglass_flowing_sand: ${STAGE_LABELS.download}...`),
      req.message ? react(ctx, req.channel, req.message, REACTIONS.seen) : Promise.resolve(),
    ]);
    status = posted.ts;
    thread ??= status;
    if (!status || !thread) throw new Error('chat.postMessage returned no ts');

    let keys: string[];
    if ('keys' in req.source) {
      keys = [...req.source.keys];
    } else {
      keys = await ctx.conversation.storeSelfies(files.map(declaredSlackFile), req.requester);
    }
    const { pose, lighting, style, variations } = options;
    const receipt = await ctx.conversation.submit({
      idempotencyKey: req.idempotencyKey,
      requester: req.requester,
      selfieKeys: keys,
      options,
      route: toRoute({
        channel,
        thread,
        status,
        ...(req.message ? { message: req.message } : {}),
        at: String(ctx.conversation.now()),
        keys: keys.join(','),
        pose,
        lighting,
        style,
        variations: String(variations),
      }),
    });
    if (receipt.duplicate) {
      // A retry of a request another delivery (or process) already queued: its own status message answers.
      ctx.log.info({ jobId: receipt.jobId }, 'slack: duplicate request ignored');
      await client.chat.delete({ channel, ts: status }).catch(() => {});
      return;
    }
    ctx.log.info({ jobId: receipt.jobId, position: receipt.position }, 'slack: portrait queued');
    await say(`:hourglass_flowing_sand: ${escapeMrkdwn(queuedText(receipt.position))}`);
  } catch (err) {
    const text = errorText(ctx, err, 'portrait request', selfies);
    await say(text).catch((e: unknown) => ctx.log.warn({ err: errName(e) }, 'slack: could not post an error'));
    if (req.message) await react(ctx, req.channel, req.message, REACTIONS.failed);
  }
}

async function postEphemeralError(ctx: SlackContext, req: SlackPortraitRequest, text: string): Promise<void> {
  await ctx.client.chat
    .postEphemeral({
      channel: req.channel,
      user: req.requester.userId,
      text,
      ...(req.thread ? { thread_ts: req.thread } : {}),
    })
    .catch((e: unknown) => ctx.log.warn({ err: errName(e) }, 'slack: could not post an ephemeral answer'));
}

export async function react(ctx: Pick<SlackContext, 'client' | 'log'>, channel: string, ts: string, name: string) {
  try {
    await ctx.client.reactions.add({ channel, timestamp: ts, name });
  } catch (e) {
    // already_reacted, no permission: a reaction is a courtesy, never a reason to fail.
    ctx.log.debug({ err: errName(e) }, 'slack: reaction not added');
  }
}

export function errName(e: unknown): string {
  if (e && typeof e === 'object' && 'data' in e) {
    const data = (e as { data?: { error?: unknown } }).data;
    if (typeof data?.error === 'string') return data.error;
  }
  return e instanceof Error ? e.message : String(e);
}
