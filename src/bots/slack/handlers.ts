import type { App, BlockAction, types } from '@slack/bolt';
import { describeError } from '../../core/messages.js';
import { type PromptFields, parsePrompt } from '../../core/prompt.js';
import { MAX_SELFIES, MAX_VARIATIONS, type Requester, randomSeed } from '../../core/request.js';
import { isPortraitError, PortraitError } from '../../errors.js';
import { helpSections, type Limits, NOT_REQUESTER_TEXT } from '../common/present.js';
import { ACTION_IDS, CALLBACK_IDS, helpBlocks, homeView, jobBlocks, MODAL_FIELDS, portraitModal } from './blocks.js';
import { RecentKeys } from './dedupe.js';
import { isEventMention, type SlackEvents } from './events.js';
import { checkDeclaredFiles, type SlackFile } from './files.js';
import { escapeMrkdwn, messageToPlainText } from './mrkdwn.js';
import {
  errName,
  errorText,
  isChannelAllowed,
  REACTIONS,
  react,
  type SlackContext,
  type SlackPortraitRequest,
  startPortrait,
} from './portraits.js';
import { decodeState, type PortraitState } from './state.js';

/** How Slack users ask; the first section of every help text. */
export const SLACK_USAGE = [
  'Mention me in a channel with 1 to 4 selfies attached, e.g. "@Portrait pose: three-quarter left, light: golden hour, 2 variations".',
  'Or type /portrait to pick your photos, pose and lighting in a form.',
  'Or use the "Make portrait" shortcut (the ⋮ menu) on one of your own messages with photos.',
  '/portrait status lists your portraits; /portrait help shows this help.',
];
export const SLACK_FORGET_HINT = 'Type /portrait forget (or use the button on my Home tab)';
export const OWN_MESSAGES_ONLY_TEXT =
  'Make portrait works on your own messages only: the photos must be of you. Post your selfie and run it there.';

/** The loose shape of the message events the adapter reads (app_mention, message/file_share). */
interface MessageLike {
  channel?: string;
  ts?: string;
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  text?: string;
  files?: SlackFile[];
}

/** What a modal carries in private_metadata: the channel, and for the shortcut the source message and its files. */
interface ModalMetadata {
  c: string;
  /** Thread and message of the shortcut's message. */
  th?: string;
  m?: string;
  f?: SlackFile[];
}

export function registerHandlers(app: App, ctx: SlackContext, limits: Limits, events?: SlackEvents): void {
  const recent = new RecentKeys();
  const help = () =>
    helpBlocks(
      helpSections({
        poses: ctx.catalogue.poses,
        lightings: ctx.catalogue.lightings,
        styles: ctx.catalogue.styles,
        limits,
        usage: SLACK_USAGE,
        forgetHint: SLACK_FORGET_HINT,
      }),
    );
  const ephemeral = async (channel: string, user: string, text: string, thread?: string) => {
    await ctx.client.chat
      .postEphemeral({ channel, user, text, ...(thread ? { thread_ts: thread } : {}) })
      .catch((e: unknown) => ctx.log.warn({ err: errName(e) }, 'slack: ephemeral answer failed'));
  };

  /** A message that mentions the bot: dedupe, parse the request, answer at once, queue. */
  async function onMention(msg: MessageLike, eventId: string | undefined, team: string | undefined): Promise<void> {
    const { channel, ts, user } = msg;
    if (!channel || !ts || !user || msg.bot_id || !team) return;
    if (!recent.firstTime(eventId, `${channel}:${ts}`)) {
      ctx.log.debug({ eventId }, 'slack: event already handled');
      return;
    }
    const thread = msg.thread_ts ?? ts;
    if (!isChannelAllowed(ctx.config, channel)) {
      await ephemeral(channel, user, errorText(ctx, accessError(), 'access'), thread);
      return;
    }
    const text = messageToPlainText(msg.text ?? '');
    // Community avatar events: "event ...", "join <event>", "leave <event>" (src/bots/slack/events.ts).
    if (events && isEventMention(text)) {
      await events.handleMention({
        channel,
        ts,
        thread,
        user,
        team,
        text,
        raw: msg.text ?? '',
        files: msg.files ?? [],
      });
      return;
    }
    if (/^(?:help|\?)$/i.test(text)) {
      await ctx.client.chat.postEphemeral({ channel, user, thread_ts: thread, text: 'Portrait help', blocks: help() });
      return;
    }
    const parsed = parsePrompt(text, ctx.catalogue.vocabulary);
    if (!parsed.ok) {
      await ctx.client.chat.postMessage({ channel, thread_ts: thread, text: errorText(ctx, parsed.error, 'parse') });
      await react(ctx, channel, ts, REACTIONS.failed);
      return;
    }
    await startPortrait(ctx, {
      requester: { platform: 'slack', userId: user, scopeId: team },
      channel,
      thread,
      message: ts,
      source: { files: msg.files ?? [] },
      fields: parsed.value,
      // One key per message: the same mention arriving as app_mention and as message/file_share, or retried by
      // Slack with the same event_id, or delivered to another bot process, is one job.
      idempotencyKey: `slack-${team}-${channel}-${ts}`,
    });
  }

  app.event('app_mention', async ({ event, body, context }) => {
    await onMention(event as MessageLike, body.event_id, body.team_id ?? context.teamId);
  });

  // A mention that uploads files may come only as message/file_share; the mention is then in its text.
  app.event('message', async ({ event, body, context }) => {
    const msg = event as MessageLike;
    if (msg.subtype !== 'file_share' || !context.botUserId) return;
    if (!(msg.text ?? '').includes(`<@${context.botUserId}>`)) return;
    await onMention(msg, body.event_id, body.team_id ?? context.teamId);
  });

  app.command(/^\/portrait(?:-status)?$/, async ({ command, ack }) => {
    const requester: Requester = { platform: 'slack', userId: command.user_id, scopeId: command.team_id };
    const sub = command.command.endsWith('-status') ? 'status' : command.text.trim().toLowerCase();
    if (sub === 'help') return ack({ response_type: 'ephemeral', text: 'Portrait help', blocks: help() });
    if (sub === 'status') {
      // The ack is the answer, so a queue outage must still be acknowledged (within Slack's 3 s) with a sentence.
      try {
        const jobs = await ctx.service.listJobs(requester);
        return await ack({ response_type: 'ephemeral', text: 'Your portraits', blocks: jobBlocks(jobs) });
      } catch (err) {
        return ack({ response_type: 'ephemeral', text: errorText(ctx, err, 'status') });
      }
    }
    if (sub === 'forget') {
      return ack({
        response_type: 'ephemeral',
        text: 'Delete everything stored about you?',
        blocks: [
          {
            type: 'section',
            text: { type: 'mrkdwn', text: 'Delete your stored selfies, portraits and job records now?' },
            accessory: {
              type: 'button',
              action_id: ACTION_IDS.forget,
              style: 'danger',
              text: { type: 'plain_text', text: 'Delete everything' },
              value: 'forget',
            },
          },
        ],
      });
    }
    if (!isChannelAllowed(ctx.config, command.channel_id)) {
      return ack({ response_type: 'ephemeral', text: errorText(ctx, accessError(), 'access') });
    }
    await ack();
    // "/portrait profile left, rembrandt" pre-fills the form; a typo just leaves the field empty.
    const parsed = command.text.trim() ? parsePrompt(command.text, ctx.catalogue.vocabulary) : undefined;
    const initial = parsed?.ok ? parsed.value : {};
    await ctx.client.views.open({
      trigger_id: command.trigger_id,
      view: portraitModal({
        poses: ctx.catalogue.poses,
        lightings: ctx.catalogue.lightings,
        styles: ctx.catalogue.styles,
        privateMetadata: JSON.stringify({ c: command.channel_id } satisfies ModalMetadata),
        withFileInput: true,
        maxSelfies: MAX_SELFIES,
        maxVariations: MAX_VARIATIONS,
        initial: { pose: initial.pose, lighting: initial.lighting, style: initial.style },
      }),
    });
  });

  app.shortcut(CALLBACK_IDS.shortcut, async ({ shortcut, ack }) => {
    await ack();
    if (shortcut.type !== 'message_action') return;
    const user = shortcut.user.id;
    const channel = shortcut.channel.id;
    const message = shortcut.message as MessageLike & { ts: string };
    const thread = message.thread_ts ?? message.ts;
    if (!isChannelAllowed(ctx.config, channel)) {
      await ephemeral(channel, user, errorText(ctx, accessError(), 'access'), thread);
      return;
    }
    // Selfies are biometric: nobody makes portraits out of someone else's photos.
    if (message.user !== user) {
      await ephemeral(channel, user, escapeMrkdwn(OWN_MESSAGES_ONLY_TEXT), thread);
      return;
    }
    let files: SlackFile[];
    try {
      files = checkDeclaredFiles(message.files ?? [], ctx.config.PORTRAIT_MAX_INPUT_BYTES);
    } catch (err) {
      await ephemeral(channel, user, errorText(ctx, err, 'shortcut'), thread);
      return;
    }
    const meta: ModalMetadata = { c: channel, th: thread, m: message.ts, f: files.map(slimFile) };
    await ctx.client.views.open({
      trigger_id: shortcut.trigger_id,
      view: portraitModal({
        poses: ctx.catalogue.poses,
        lightings: ctx.catalogue.lightings,
        styles: ctx.catalogue.styles,
        privateMetadata: JSON.stringify(meta),
        withFileInput: false,
        maxSelfies: MAX_SELFIES,
        maxVariations: MAX_VARIATIONS,
        note: `Using the ${files.length === 1 ? 'photo' : `${files.length} photos`} of your message.`,
      }),
    });
  });

  app.view(CALLBACK_IDS.modal, async ({ ack, view, body }) => {
    let meta: ModalMetadata;
    try {
      meta = JSON.parse(view.private_metadata) as ModalMetadata;
      if (typeof meta.c !== 'string') throw new Error('no channel');
    } catch {
      await ack();
      ctx.log.warn('slack: modal submission without metadata');
      return;
    }
    const values = view.state.values;
    const selected = (f: { block: string; action: string }) => values[f.block]?.[f.action];
    const files: SlackFile[] = meta.f ?? (selected(MODAL_FIELDS.selfies)?.['files'] as SlackFile[] | undefined) ?? [];
    if (!meta.f) {
      // Problems with the chosen files are shown under the file field, and the form stays open.
      try {
        checkDeclaredFiles(files, ctx.config.PORTRAIT_MAX_INPUT_BYTES);
      } catch (err) {
        if (isPortraitError(err) && err.userError) {
          await ack({ response_action: 'errors', errors: { [MODAL_FIELDS.selfies.block]: describeError(err) } });
          return;
        }
        throw err;
      }
    }
    await ack();
    const variations = Number(selected(MODAL_FIELDS.variations)?.selected_option?.value ?? '1');
    // A catalogue style from the menu and free words from the text field combine ("oil paint" + "studio grey").
    const style = [selected(MODAL_FIELDS.style)?.selected_option?.value, selected(MODAL_FIELDS.styleText)?.value]
      .map((v) => v?.trim())
      .filter(Boolean)
      .join(', ');
    const fields: PromptFields = {
      ...optional('pose', selected(MODAL_FIELDS.pose)?.selected_option?.value),
      ...optional('lighting', selected(MODAL_FIELDS.lighting)?.selected_option?.value),
      ...(style ? { style } : {}),
      variations: Number.isInteger(variations) && variations >= 1 ? Math.min(variations, MAX_VARIATIONS) : 1,
    };
    const team = body.team?.id ?? view.team_id;
    await startPortrait(ctx, {
      requester: { platform: 'slack', userId: body.user.id, scopeId: team },
      channel: meta.c,
      thread: meta.th,
      message: meta.m,
      source: { files },
      fields,
      idempotencyKey: `slack-view-${view.id}`,
    });
  });

  /** Reroll, Variations, Relight: a new job from the state in the controls message. */
  async function rerun(body: BlockAction, state: PortraitState, fields: PromptFields): Promise<void> {
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!channel) return;
    const message = body.message as (MessageLike & { ts: string }) | undefined;
    const request: SlackPortraitRequest = {
      requester: { platform: 'slack', userId: state.u, scopeId: state.t },
      channel,
      thread: message?.thread_ts ?? message?.ts,
      source: { keys: state.k },
      fields,
      idempotencyKey: `slack-action-${body.trigger_id ?? `${channel}-${body.actions[0]?.action_ts ?? Date.now()}`}`,
    };
    await startPortrait(ctx, request);
  }

  /** The requester check shared by the controls: false (and an ephemeral answer) for anyone else. */
  async function ownerOnly(body: BlockAction, value: string | undefined): Promise<PortraitState | undefined> {
    const state = decodeState(value);
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!state) {
      ctx.log.warn('slack: action without a readable state');
      return undefined;
    }
    if (body.user.id === state.u) return state;
    if (channel) await ephemeral(channel, body.user.id, escapeMrkdwn(NOT_REQUESTER_TEXT));
    return undefined;
  }

  const base = (s: PortraitState): PromptFields => ({
    pose: s.p,
    lighting: s.l,
    ...(s.s ? { style: s.s } : {}),
    variations: s.n,
  });

  app.action<BlockAction>(ACTION_IDS.reroll, async ({ ack, body, action }) => {
    await ack();
    const state = await ownerOnly(body, buttonValue(action));
    if (state) await rerun(body, state, { ...base(state), seed: randomSeed() });
  });

  app.action<BlockAction>(ACTION_IDS.variations, async ({ ack, body, action }) => {
    await ack();
    const state = await ownerOnly(body, buttonValue(action));
    if (state) await rerun(body, state, { ...base(state), variations: MAX_VARIATIONS, seed: randomSeed() });
  });

  app.action<BlockAction>(ACTION_IDS.relight, async ({ ack, body, action }) => {
    await ack();
    // A select has no value of its own: the state is read from the Reroll button of the same message.
    const lighting = action.type === 'static_select' ? action.selected_option?.value : undefined;
    if (!lighting) return;
    const state = await ownerOnly(body, stateFromMessage(body));
    if (state) await rerun(body, state, { ...base(state), lighting, seed: state.d });
  });

  app.action<BlockAction>(ACTION_IDS.delete, async ({ ack, body, action }) => {
    await ack();
    const state = await ownerOnly(body, buttonValue(action));
    if (!state) return;
    for (const file of state.f) {
      await ctx.client.files
        .delete({ file })
        .catch((e: unknown) => ctx.log.warn({ err: errName(e) }, 'slack: file delete failed'));
    }
    const channel = body.channel?.id ?? body.container?.channel_id;
    const ts = body.message?.ts ?? body.container?.message_ts;
    if (channel && ts) {
      await ctx.client.chat
        .delete({ channel, ts })
        .catch((e: unknown) => ctx.log.warn({ err: errName(e) }, 'slack: controls delete failed'));
    }
  });

  app.action<BlockAction>(ACTION_IDS.cancel, async ({ ack, body, action, respond }) => {
    await ack();
    const jobId = buttonValue(action);
    const team = body.team?.id ?? body.user.team_id;
    if (!jobId || !team) return;
    const requester: Requester = { platform: 'slack', userId: body.user.id, scopeId: team };
    const cancelled = await ctx.service.cancel(jobId, requester);
    if (body.view?.type === 'home') return publishHome(body.user.id, team);
    await respond({
      response_type: 'ephemeral',
      replace_original: true,
      text: cancelled ? 'Cancelled.' : 'That portrait had already finished or was not yours.',
      blocks: jobBlocks(await ctx.service.listJobs(requester)),
    });
  });

  app.action<BlockAction>(ACTION_IDS.forget, async ({ ack, body, respond }) => {
    await ack();
    const team = body.team?.id ?? body.user.team_id;
    if (!team) return;
    const removed = await ctx.service.forget({ platform: 'slack', userId: body.user.id, scopeId: team });
    ctx.log.info({ removed }, 'slack: forgot a user on request');
    if (body.view?.type === 'home') return publishHome(body.user.id, team);
    await respond({
      response_type: 'ephemeral',
      replace_original: true,
      text: `Done: deleted ${removed} stored item${removed === 1 ? '' : 's'} about you.`,
    });
  });

  async function publishHome(user: string, team: string): Promise<void> {
    const jobs = await ctx.service.listJobs({ platform: 'slack', userId: user, scopeId: team });
    const sections = helpSections({
      poses: ctx.catalogue.poses,
      lightings: ctx.catalogue.lightings,
      styles: ctx.catalogue.styles,
      limits,
      usage: SLACK_USAGE,
      forgetHint: SLACK_FORGET_HINT,
    });
    await ctx.client.views.publish({ user_id: user, view: homeView(sections, jobs) });
  }

  app.event('app_home_opened', async ({ event, body, context }) => {
    if (event.tab !== 'home') return;
    const team = body.team_id ?? context.teamId;
    if (team) await publishHome(event.user, team);
  });

  app.error(async (err) => {
    ctx.log.error({ err: { code: err.code, message: err.message } }, 'slack: listener failed');
  });
}

/** The channel allow-list refusal, answered with the shared sentence. */
function accessError(): PortraitError {
  return new PortraitError('access.not_allowed', 'channel not on SLACK_ALLOWED_CHANNELS');
}

function buttonValue(action: BlockAction['actions'][number]): string | undefined {
  return action.type === 'button' ? action.value : undefined;
}

function optional<K extends 'pose' | 'lighting'>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Partial<Record<K, string>>) : {};
}

/** Only what the submission needs of a file: small enough for private_metadata (3000 characters). */
function slimFile(f: SlackFile): SlackFile {
  return {
    ...(f.id ? { id: f.id } : {}),
    ...(f.mimetype ? { mimetype: f.mimetype } : {}),
    ...(f.filetype ? { filetype: f.filetype } : {}),
    ...(f.size !== undefined ? { size: f.size } : {}),
    ...(f.url_private_download ? { url_private_download: f.url_private_download } : {}),
  };
}

function stateFromMessage(body: BlockAction): string | undefined {
  const blocks = (body.message?.['blocks'] ?? []) as types.KnownBlock[];
  for (const b of blocks) {
    if (b.type !== 'actions') continue;
    for (const e of b.elements) {
      if (e.type === 'button' && e.action_id === ACTION_IDS.reroll) return e.value;
    }
  }
  return undefined;
}
