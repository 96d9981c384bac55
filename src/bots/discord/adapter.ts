import {
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type InteractionCallbackResponse,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type RawFile,
  type REST,
  SnowflakeUtil,
  type StringSelectMenuInteraction,
} from 'discord.js';
import type { AvatarEventService } from '../../avatar-events/service.js';
import type { Config } from '../../config.js';
import { errorAnswer } from '../../conversation/answers.js';
import { type Catalogue, suggest } from '../../conversation/catalogue.js';
import {
  type ChatSurface,
  type ConversationDeliveries,
  createDeliveries,
  type LogIds,
  type ResultView,
  type StatusView,
} from '../../conversation/deliveries.js';
import type { DeclaredFile } from '../../conversation/files.js';
import { altText, limitsFromConfig, reportNote } from '../../conversation/present.js';
import { loadRedoRecord, mayRedo, type RedoRecord, redoRequest, storeRedoRecord } from '../../conversation/redo.js';
import { Conversation, type PortraitOptions } from '../../conversation/requests.js';
import type { ThrottleClock } from '../../conversation/throttle.js';
import type { Requester } from '../../core/request.js';
import { type ErrorPayload, isPortraitError, PortraitError, toErrorPayload } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Delivery } from '../../queue/jobs.js';
import type { PortraitService } from '../../queue/service.js';
import { COMMANDS, EXTRA_SELFIE_OPTIONS } from './commands.js';
import { cancelComponents, forgetComponents, resultComponents, statusComponents } from './components.js';
import { DiscordEvents, EVENT_COMMAND } from './events.js';
import { type ComponentId, decodeComponentId } from './ids.js';
import { DiscordOutput, type OutgoingMessage, restErrorCode, safeRestError } from './output.js';
import { type DiscordRoute, routeFromRecord, routeToRecord } from './route.js';
import {
  CANCEL_FAILED_TEXT,
  CANCELLED_TEXT,
  doneText,
  errorSentence,
  FORGET_CONFIRM_TEXT,
  FORGET_KEPT_TEXT,
  forgetDoneText,
  helpMessages,
  NO_IMAGES_TEXT,
  NOT_YOUR_MESSAGE_TEXT,
  NOT_YOURS_TEXT,
  progressText,
  queuedText,
  quotaText,
  resultText,
  statusText,
} from './texts.js';
import { TokenBook } from './tokens.js';

/** Inert mentions on everything sent through an interaction (REST bodies get the same in output.ts). */
const allowedMentions = { parse: [] };
const ALREADY_ACKNOWLEDGED = 40060;
const UNKNOWN_INTERACTION = 10062;

export interface DiscordAdapterOptions {
  config: Config;
  service: PortraitService;
  log: Logger;
  /** The client's REST manager (bot token, DISCORD_API_URL). */
  rest: REST;
  catalogue: Catalogue;
  /** Used to download attachments; the global fetch by default. */
  fetch?: typeof fetch;
  /** Minimum time between two progress edits of one status message (default 2 s). */
  progressIntervalMs?: number;
  clock?: ThrottleClock;
  now?: () => number;
  /** Seed for requests that give none (tests pin it). */
  newSeed?: () => number;
  /** Community avatar events (/avatar-event); left out, the command answers that events are off. */
  events?: AvatarEventService;
}

/** What a request needs, wherever it came from (slash command, Make portrait, a result's button). */
interface JobSpec {
  selfies: { files: DeclaredFile[] } | { keys: string[] };
  options: PortraitOptions;
  private: boolean;
  /** 'create': start a thread on the status message; 'here': answer in the interaction's channel. */
  thread: 'create' | 'here';
}

/** The progress preview's file name and alt text on the status message. */
const PREVIEW_FILE = 'preview.webp';
const PREVIEW_ALT = 'A rough preview of the portrait being painted';

type Repliable =
  | ChatInputCommandInteraction
  | MessageContextMenuCommandInteraction
  | ButtonInteraction
  | StringSelectMenuInteraction;

/**
 * The request id of an interaction: the job's idempotency key, so the adapter's lines, the queue's and the worker's
 * about one request share it.
 */
function requestIdOf(i: { id: string }): string {
  return `discord-${i.id}`;
}

/**
 * The Discord adapter: turns interactions into queue requests and deliveries into messages. Stateless apart from
 * interaction tokens in memory and the progress throttle, so a restarted bot (or a second one) picks up where
 * the last left off: routes, recipes and jobs live in Redis, buttons carry their own ids.
 */
export class DiscordAdapter {
  readonly tokens: TokenBook;
  readonly output: DiscordOutput;
  /** The /avatar-event commands and the event scheduler's update handler (`events.onUpdate`). */
  readonly events: DiscordEvents | undefined;
  /** The shared request and answer flow (src/conversation); this class parses interactions and renders. */
  readonly conversation: Conversation;
  readonly #deliveries: ConversationDeliveries<DiscordRoute>;
  readonly #updating = new WeakSet<Interaction>();
  readonly #o: DiscordAdapterOptions;
  readonly #log: Logger;
  #draining = false;

  constructor(options: DiscordAdapterOptions) {
    this.#o = options;
    this.#log = options.log;
    this.tokens = new TokenBook(options.now);
    this.output = new DiscordOutput(options.rest, this.tokens, options.log);
    this.conversation = new Conversation({
      service: options.service,
      catalogue: options.catalogue,
      download: {
        allowedHosts: options.config.DISCORD_CDN_HOSTS,
        maxBytes: options.config.PORTRAIT_MAX_INPUT_BYTES,
      },
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.newSeed ? { newSeed: options.newSeed } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.events = options.events
      ? new DiscordEvents({
          events: options.events,
          conversation: this.conversation,
          output: this.output,
          rest: options.rest,
          tokens: this.tokens,
          log: options.log,
        })
      : undefined;
    this.#deliveries = createDeliveries(this.#surface(), {
      service: options.service,
      log: options.log,
      intervalMs: options.progressIntervalMs ?? 2000,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  }

  async close(): Promise<void> {
    await this.#deliveries.close();
  }

  /** The process is stopping: from now on every command is answered "restarting, try again in a minute". */
  drain(): void {
    this.#draining = true;
  }

  // ---------------------------------------------------------------------------------------------- interactions

  /** Entry point for every interaction; never throws (every failure gets an answer). */
  async handleInteraction(i: Interaction): Promise<void> {
    try {
      if (this.#draining) {
        // Nothing new starts in a stopping process; suggestions are harmless but the command after them is not.
        if (i.isAutocomplete()) return await i.respond([]);
        throw new PortraitError('service.restarting', 'the bot is shutting down');
      }
      if (i.isAutocomplete()) {
        if (i.commandName === EVENT_COMMAND) return await this.events?.autocomplete(i);
        return await this.#autocomplete(i);
      }
      if (i.isChatInputCommand()) {
        switch (i.commandName) {
          case EVENT_COMMAND:
            if (!this.#allowed(i))
              return this.#refuse(i, new PortraitError('access.not_allowed', 'channel not allowed'));
            if (!this.events) return this.#refuse(i, 'Avatar events are not set up on this bot.');
            return await this.events.handle(i);
          case COMMANDS.portrait:
            return await this.#portraitCommand(i);
          case COMMANDS.status:
            return await this.#statusCommand(i);
          case COMMANDS.forget:
            return await this.#forgetCommand(i);
          case COMMANDS.help:
            return await this.#helpCommand(i);
        }
        return;
      }
      if (i.isMessageContextMenuCommand() && i.commandName === COMMANDS.makePortrait) {
        return await this.#makePortraitCommand(i);
      }
      if (i.isButton() || i.isStringSelectMenu()) return await this.#component(i);
    } catch (err) {
      await this.#answerError(i, err);
    }
  }

  #requester(i: Interaction): Requester {
    // Commands are guild-only; 'dm-<user>' keeps quotas sane should one ever arrive elsewhere.
    return { platform: 'discord', userId: i.user.id, scopeId: i.guildId ?? `dm-${i.user.id}` };
  }

  /** The operator's allow-list (DISCORD_ALLOWED_CHANNELS): guild ids, channel ids or a thread's parent channel. */
  #allowed(i: Interaction): boolean {
    const list = this.#o.config.DISCORD_ALLOWED_CHANNELS;
    if (list.length === 0) return true;
    const parent = i.channel && 'parentId' in i.channel ? i.channel.parentId : null;
    return [i.guildId, i.channelId, parent].some((id) => id !== null && list.includes(id));
  }

  async #refuse(i: Repliable, error: PortraitError | string): Promise<void> {
    const content = typeof error === 'string' ? error : errorSentence(toErrorPayload(error));
    await i.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions });
  }

  async #portraitCommand(i: ChatInputCommandInteraction): Promise<void> {
    if (!this.#allowed(i)) return this.#refuse(i, new PortraitError('access.not_allowed', 'channel not allowed'));
    const attachments = [
      i.options.getAttachment('selfie', true),
      ...EXTRA_SELFIE_OPTIONS.map((n) => i.options.getAttachment(n)),
    ].filter((a) => a !== null);
    let files: DeclaredFile[];
    let options: PortraitOptions;
    try {
      files = this.conversation.selfies(attachments.map(declaredFile), 'slots');
      options = this.conversation.options({
        pose: i.options.getString('pose') ?? undefined,
        lighting: i.options.getString('lighting') ?? undefined,
        style: i.options.getString('style') ?? undefined,
        variations: i.options.getInteger('variations') ?? undefined,
        seed: i.options.getInteger('seed') ?? undefined,
      });
    } catch (err) {
      if (isPortraitError(err)) return this.#refuse(i, err);
      throw err;
    }
    await this.#startJob(i, {
      selfies: { files },
      options,
      private: i.options.getBoolean('private') ?? false,
      thread: 'create',
    });
  }

  async #makePortraitCommand(i: MessageContextMenuCommandInteraction): Promise<void> {
    if (!this.#allowed(i)) return this.#refuse(i, new PortraitError('access.not_allowed', 'channel not allowed'));
    const target = i.targetMessage;
    // Selfies are biometric: members may turn only their own photos into portraits.
    if (target.author.id !== i.user.id) return this.#refuse(i, NOT_YOUR_MESSAGE_TEXT);
    if (target.attachments.size === 0) return this.#refuse(i, NO_IMAGES_TEXT);
    let files: DeclaredFile[];
    try {
      files = this.conversation.selfies([...target.attachments.values()].map(declaredFile), 'message');
    } catch (err) {
      if (isPortraitError(err)) return this.#refuse(i, err);
      throw err;
    }
    await this.#startJob(i, {
      selfies: { files },
      options: this.conversation.options({}),
      private: false,
      thread: 'create',
    });
  }

  /**
   * Defers at once (the 3-second deadline), then does the slow part: thread, download, blobs, submit. From the
   * defer on, every outcome is an edit of that reply, so the user never sees a stuck "thinking...".
   */
  async #startJob(i: Repliable, spec: JobSpec): Promise<void> {
    const requester = this.#requester(i);
    let deferred: InteractionCallbackResponse;
    try {
      deferred = await i.deferReply({
        withResponse: true,
        ...(spec.private ? { flags: MessageFlags.Ephemeral } : {}),
      });
    } catch (err) {
      const code = restErrorCode(err);
      if (code === ALREADY_ACKNOWLEDGED || code === UNKNOWN_INTERACTION) {
        // The same interaction delivered twice (or too late): whoever acknowledged it first owns it.
        this.#log.info(
          { interaction: i.id, requestId: requestIdOf(i), code },
          'interaction already acknowledged elsewhere, ignoring',
        );
        return;
      }
      throw err;
    }
    this.tokens.remember(i.id, i.token, i.createdTimestamp);
    this.#log.debug({ interaction: i.id, requestId: requestIdOf(i) }, 'deferred');

    try {
      const replyMessage = deferred.resource?.message ?? (await i.fetchReply());
      const channel = replyMessage.channelId || i.channelId;
      // The thread and the downloads do not depend on each other: do both at once.
      const wantThread = !spec.private && spec.thread === 'create' && !i.channel?.isThread();
      const [started, selfieKeys] = await Promise.all([
        wantThread
          ? this.output.startThread(channel, replyMessage.id, `Portrait for ${i.user.displayName}`.replace(/\s+/g, ' '))
          : Promise.resolve(undefined),
        'keys' in spec.selfies ? spec.selfies.keys : this.conversation.storeSelfies(spec.selfies.files, requester),
      ]);
      const thread = started ?? channel;
      if (started) void this.output.addThreadMember(started, i.user.id);
      const redo: RedoRecord = {
        v: 1,
        userId: requester.userId,
        scopeId: requester.scopeId,
        selfieKeys,
        ...spec.options,
      };
      const recipeKey = await storeRedoRecord(this.#o.service, redo, requester);
      const route: DiscordRoute = {
        app: i.applicationId,
        interaction: i.id,
        guild: i.guildId ?? '',
        channel,
        status: replyMessage.id,
        thread,
        private: spec.private,
        user: requester.userId,
        recipe: recipeKey,
        pose: spec.options.pose,
        lighting: spec.options.lighting,
        selfies: selfieKeys.length,
      };
      const receipt = await this.conversation.submit({
        idempotencyKey: requestIdOf(i),
        requester,
        selfieKeys,
        options: spec.options,
        route: routeToRecord(route),
      });
      this.#log.info(
        {
          interaction: i.id,
          requestId: requestIdOf(i),
          jobId: receipt.jobId,
          position: receipt.position,
          duplicate: receipt.duplicate,
        },
        'portrait queued',
      );
      // Through the throttle, keyed by job: edits stay in order, and once the answer is posted a late
      // "queued" can no longer overwrite it.
      this.#deliveries.status(
        receipt.jobId,
        route,
        { kind: 'queued', jobId: receipt.jobId, position: receipt.position },
        { jobId: receipt.jobId, requestId: requestIdOf(i) },
      );
    } catch (err) {
      await this.#answerError(i, err, requester);
    }
  }

  /**
   * Answers a failure: user errors with their sentence (quota refusals with the user's jobs), anything else with
   * the generic sentence and a reference id that is also in the log line.
   */
  async #answerError(i: Interaction, err: unknown, requester?: Requester): Promise<void> {
    const answer = errorAnswer(err, {
      log: this.#log,
      what: 'interaction',
      ids: { interaction: i.id, requestId: requestIdOf(i) },
    });
    let content = errorSentence(answer);
    if (answer.code.startsWith('quota.') && requester) {
      const jobs = await this.#o.service.listJobs(requester).catch(() => []);
      content = quotaText(content, jobs);
    }
    if (!i.isRepliable()) return;
    try {
      if (this.#updating.has(i) || (i.isMessageComponent() && i.replied)) {
        await i.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions });
      } else if (i.deferred || i.replied) {
        await i.editReply({ content, components: [], allowedMentions });
      } else {
        await i.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions });
      }
    } catch (replyErr) {
      this.#log.warn(
        { interaction: i.id, requestId: requestIdOf(i), err: safeRestError(replyErr) },
        'could not answer the interaction',
      );
    }
  }

  async #autocomplete(i: AutocompleteInteraction): Promise<void> {
    const focused = i.options.getFocused(true);
    if (focused.name !== 'pose' && focused.name !== 'lighting' && focused.name !== 'style') return await i.respond([]);
    const choices = suggest(this.#o.catalogue, focused.name, String(focused.value ?? ''));
    await i.respond(choices.map((c) => ({ name: c.label, value: c.value })));
  }

  async #statusCommand(i: ChatInputCommandInteraction): Promise<void> {
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const jobs = await this.#o.service.listJobs(this.#requester(i));
    await i.editReply({ content: statusText(jobs), components: statusComponents(jobs), allowedMentions });
  }

  async #forgetCommand(i: ChatInputCommandInteraction): Promise<void> {
    await i.reply({
      content: FORGET_CONFIRM_TEXT,
      components: forgetComponents(i.user.id),
      flags: MessageFlags.Ephemeral,
      allowedMentions,
    });
  }

  async #helpCommand(i: ChatInputCommandInteraction): Promise<void> {
    const { catalogue, config } = this.#o;
    const [first = '', ...rest] = helpMessages({
      poses: catalogue.poses,
      lightings: catalogue.lightings,
      styles: catalogue.styles,
      limits: limitsFromConfig(config),
    });
    await i.reply({ content: first, flags: MessageFlags.Ephemeral, allowedMentions });
    for (const content of rest) await i.followUp({ content, flags: MessageFlags.Ephemeral, allowedMentions });
  }

  async #component(i: ButtonInteraction | StringSelectMenuInteraction): Promise<void> {
    const id = decodeComponentId(i.customId);
    if (!id) {
      await this.#refuse(i, 'This button belongs to an older version of the bot. Start again with /portrait.');
      return;
    }
    switch (id.action) {
      case 'reroll':
      case 'vary':
      case 'relight':
        return this.#redo(i, id);
      case 'delete':
        return this.#deleteResult(i, id.arg);
      case 'cancel':
        return this.#cancel(i, id.arg);
      case 'forget':
      case 'keep':
        return this.#forget(i, id);
    }
  }

  /** Reroll / Variations / Relight: the recipe blob says what to redo; only its owner may. */
  async #redo(i: ButtonInteraction | StringSelectMenuInteraction, id: ComponentId): Promise<void> {
    const record = await loadRedoRecord(this.#o.service, id.arg);
    if (!mayRedo(record, i.user.id)) return this.#refuse(i, NOT_YOURS_TEXT);
    if (id.action !== 'reroll' && id.action !== 'vary' && id.action !== 'relight') return;
    let redo: ReturnType<typeof redoRequest>;
    try {
      redo = redoRequest(record, id.action, {
        newSeed: () => this.conversation.newSeed(),
        catalogue: this.#o.catalogue,
        lighting: i.isStringSelectMenu() ? i.values[0] : undefined,
      });
    } catch (err) {
      if (isPortraitError(err)) return this.#refuse(i, err);
      throw err;
    }
    const { selfieKeys, ...options } = redo;
    await this.#startJob(i, {
      selfies: { keys: selfieKeys },
      options,
      private: i.message.flags.has(MessageFlags.Ephemeral),
      thread: 'here',
    });
  }

  async #deleteResult(i: ButtonInteraction | StringSelectMenuInteraction, ownerId: string): Promise<void> {
    if (ownerId !== i.user.id) return this.#refuse(i, NOT_YOURS_TEXT);
    this.#updating.add(i);
    await i.deferUpdate();
    if (i.message.flags.has(MessageFlags.Ephemeral)) await i.deleteReply();
    else await this.output.deleteMessage(i.channelId, i.message.id);
  }

  async #cancel(i: ButtonInteraction | StringSelectMenuInteraction, jobId: string): Promise<void> {
    const cancelled = await this.#o.service.cancel(jobId, this.#requester(i));
    await i.reply({
      content: cancelled ? CANCELLED_TEXT : CANCEL_FAILED_TEXT,
      flags: MessageFlags.Ephemeral,
      allowedMentions,
    });
  }

  async #forget(i: ButtonInteraction | StringSelectMenuInteraction, id: ComponentId): Promise<void> {
    if (id.arg !== i.user.id) return this.#refuse(i, NOT_YOURS_TEXT);
    if (id.action === 'keep') {
      await i.update({ content: FORGET_KEPT_TEXT, components: [], allowedMentions });
      return;
    }
    this.#updating.add(i);
    await i.deferUpdate();
    const n = await this.#o.service.forget(this.#requester(i));
    this.#log.info({ user: i.user.id, keys: n }, 'forgot a user on request');
    await i.editReply({ content: forgetDoneText(n), components: [], allowedMentions });
  }

  // ---------------------------------------------------------------------------------------------- deliveries

  /**
   * Handles one delivery of the Discord queue (src/conversation/deliveries.ts does the flow; #surface renders).
   * Progress is throttled and best effort; a result or failure is posted with the bot token (so it survives
   * restarts and the 15-minute token), and a throw makes the delivery queue retry it.
   */
  handleDelivery(d: Delivery): Promise<void> {
    return this.#deliveries.handle(d);
  }

  /** How the shared answer flow shows up on Discord. */
  #surface(): ChatSurface<DiscordRoute> {
    return {
      platform: 'discord',
      readRoute: routeFromRecord,
      selfies: (route) => route.selfies,
      showStatus: (route, view, ids) => this.#showStatus(route, view, ids),
      showResult: (route, view, ids) => this.#deliverResult(route, view, ids),
      showFailure: (route, error) => this.#deliverFailure(route, error),
    };
  }

  async #showStatus(route: DiscordRoute, view: StatusView, ids: LogIds): Promise<void> {
    let message: OutgoingMessage;
    let files: RawFile[] = [];
    if (view.kind === 'queued') {
      message = { content: queuedText(view.position), components: cancelComponents(view.jobId) };
    } else {
      // The preview is read when the edit goes out (the throttle keeps only the newest update), so an expired one
      // just means a text-only edit.
      const preview = view.previewKey ? await this.#o.service.getBlob(view.previewKey).catch(() => null) : null;
      message = { content: progressText(view.progress) };
      if (preview) {
        files = [{ name: PREVIEW_FILE, data: Buffer.from(preview), contentType: 'image/webp' }];
        message.attachments = [{ id: 0, filename: PREVIEW_FILE, description: PREVIEW_ALT }];
      }
    }
    await this.output
      .editStatus(route, message, files)
      .catch((err: unknown) => this.#log.warn({ ...ids, err: safeRestError(err) }, 'progress edit failed'));
  }

  async #deliverResult(route: DiscordRoute, view: ResultView, ids: LogIds): Promise<void> {
    const { result, images, seed } = view;
    const many = images.length > 1;
    const files: RawFile[] = images.map((bytes, idx) => ({
      name: `portrait-${seed}${many ? `-${idx + 1}` : ''}.${result.format}`,
      data: Buffer.from(bytes),
      contentType: `image/${result.format}`,
    }));
    // The interaction id is a snowflake: its timestamp is when the user asked, so this is the wait they saw.
    const caption = {
      pose: route.pose,
      lighting: route.lighting,
      engine: result.engine,
      seed,
      elapsedMs: this.conversation.now() - SnowflakeUtil.timestampFrom(route.interaction),
      note: reportNote(result.report),
    };
    const content = resultText(route.user, images.length, caption);
    const description = altText(caption).slice(0, 1024);
    const attachments = files.map((f, id) => ({ id, filename: f.name, description }));
    const components = resultComponents(route.recipe, route.user, this.#o.catalogue.lightings);
    await this.output.postAnswer(route, { content, components, attachments }, files);
    await this.output
      // `attachments: []` takes a progress preview off the status message.
      .editStatus(route, { content: doneText(route.thread !== route.channel), components: [], attachments: [] })
      .catch((err: unknown) => this.#log.warn({ ...ids, err: safeRestError(err) }, 'status edit failed'));
    this.tokens.forget(route.interaction);
  }

  async #deliverFailure(route: DiscordRoute, error: ErrorPayload): Promise<void> {
    const message = { content: errorSentence(error), components: [] };
    const edited = await this.output.editStatus(route, { ...message, attachments: [] }).catch((err: unknown) => {
      this.#log.warn({ err: safeRestError(err) }, 'status edit failed, posting the answer instead');
      return false;
    });
    if (!edited) await this.output.postAnswer(route, message);
    this.tokens.forget(route.interaction);
  }
}

/** A Discord attachment as the conversation layer's declared file. */
function declaredFile(a: { url: string; contentType: string | null; size: number; name: string }): DeclaredFile {
  return { url: a.url, contentType: a.contentType, size: a.size, name: a.name };
}
