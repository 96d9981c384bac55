import { randomBytes } from 'node:crypto';
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
import type { Config } from '../../config.js';
import { MAX_SELFIES, MAX_VARIATIONS, type Requester, randomSeed } from '../../core/request.js';
import { type ErrorPayload, isPortraitError, isUserErrorCode, PortraitError, toErrorPayload } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Stage } from '../../pipeline/types.js';
import type { AvatarEventService } from '../../queue/event-service.js';
import type { Delivery } from '../../queue/jobs.js';
import type { PortraitService } from '../../queue/service.js';
import { downloadImage } from '../common/download.js';
import { altText, limitsFromConfig, reportNote } from '../common/present.js';
import { ProgressThrottle, type ThrottleClock } from '../common/throttle.js';
import { checkDeclaredAttachments, type DeclaredAttachment } from './attachments.js';
import { type Catalogue, matchPresets, styleChoices } from './catalogue.js';
import { COMMANDS, EXTRA_SELFIE_OPTIONS } from './commands.js';
import { cancelComponents, forgetComponents, resultComponents, statusComponents } from './components.js';
import { DiscordEvents, EVENT_COMMAND } from './events.js';
import { type ComponentId, decodeComponentId } from './ids.js';
import { DiscordOutput, type OutgoingMessage, restErrorCode, safeRestError } from './output.js';
import { loadRecipe, type Recipe, storeRecipe } from './recipe.js';
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
  selfies: { attachments: DeclaredAttachment[] } | { keys: string[] };
  pose: string;
  lighting: string;
  style: string;
  variations: number;
  seed: number;
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

interface StatusUpdate {
  route: DiscordRoute;
  message: OutgoingMessage;
  /** Blob key of a preview of the portrait forming, attached to the edit (replacing the last one). */
  previewKey?: string;
  /** The job's log ids, for the line about a failed edit. */
  ids: LogIds;
}

/** What every log line about one request or its job carries. */
type LogIds = { jobId?: string; requestId?: string };

/**
 * The request id of an interaction: the job's idempotency key, so the adapter's lines, the queue's and the worker's
 * about one request share it.
 */
function requestIdOf(i: { id: string }): string {
  return `discord-${i.id}`;
}

function deliveryIds(d: Delivery): LogIds {
  return d.requestId === undefined ? { jobId: d.jobId } : { jobId: d.jobId, requestId: d.requestId };
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
  readonly #status: ProgressThrottle<StatusUpdate>;
  readonly #updating = new WeakSet<Interaction>();
  readonly #o: DiscordAdapterOptions;
  readonly #log: Logger;
  #draining = false;

  constructor(options: DiscordAdapterOptions) {
    this.#o = options;
    this.#log = options.log;
    this.tokens = new TokenBook(options.now);
    this.output = new DiscordOutput(options.rest, this.tokens, options.log);
    this.events = options.events
      ? new DiscordEvents({
          config: options.config,
          events: options.events,
          service: options.service,
          output: this.output,
          rest: options.rest,
          tokens: this.tokens,
          catalogue: options.catalogue,
          log: options.log,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        })
      : undefined;
    this.#status = new ProgressThrottle<StatusUpdate>({
      intervalMs: options.progressIntervalMs ?? 2000,
      ...(options.clock ? { clock: options.clock } : {}),
      send: async (_jobId, u) => {
        // The preview is read when the edit goes out (the throttle keeps only the newest update), so an expired
        // one just means a text-only edit.
        const preview = u.previewKey ? await this.#o.service.getBlob(u.previewKey).catch(() => null) : null;
        const files: RawFile[] = preview
          ? [{ name: PREVIEW_FILE, data: Buffer.from(preview), contentType: 'image/webp' }]
          : [];
        const message: OutgoingMessage = preview
          ? { ...u.message, attachments: [{ id: 0, filename: PREVIEW_FILE, description: PREVIEW_ALT }] }
          : u.message;
        await this.output
          .editStatus(u.route, message, files)
          .catch((err: unknown) => this.#log.warn({ ...u.ids, err: safeRestError(err) }, 'progress edit failed'));
      },
    });
  }

  async close(): Promise<void> {
    await this.#status.close();
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
    const declared = attachments.map((a) => ({ url: a.url, contentType: a.contentType, size: a.size, name: a.name }));
    const check = checkDeclaredAttachments(declared, this.#limits());
    if (!check.ok) return this.#refuse(i, check.error);

    const pose = i.options.getString('pose')?.trim() || 'front';
    const lighting = i.options.getString('lighting')?.trim() || 'studio';
    const style = i.options.getString('style')?.trim() ?? '';
    const bad =
      this.#o.catalogue.checkPose(pose) ??
      this.#o.catalogue.checkLighting(lighting) ??
      this.#o.catalogue.checkStyle(style);
    if (bad) return this.#refuse(i, bad);
    const variations = i.options.getInteger('variations') ?? 1;
    if (variations < 1 || variations > MAX_VARIATIONS) {
      return this.#refuse(
        i,
        new PortraitError('request.bad_option', 'variations', { option: 'variations', expected: '1 to 4' }),
      );
    }
    await this.#startJob(i, {
      selfies: { attachments: declared },
      pose,
      lighting,
      style,
      variations,
      seed: i.options.getInteger('seed') ?? this.#newSeed(),
      private: i.options.getBoolean('private') ?? false,
      thread: 'create',
    });
  }

  async #makePortraitCommand(i: MessageContextMenuCommandInteraction): Promise<void> {
    if (!this.#allowed(i)) return this.#refuse(i, new PortraitError('access.not_allowed', 'channel not allowed'));
    const target = i.targetMessage;
    // Selfies are biometric: members may turn only their own photos into portraits.
    if (target.author.id !== i.user.id) return this.#refuse(i, NOT_YOUR_MESSAGE_TEXT);
    const images = [...target.attachments.values()]
      .filter(
        (a) => (a.contentType ?? '').startsWith('image/') || /\.(jpe?g|png|webp|avif|gif|heic|heif)$/i.test(a.name),
      )
      .slice(0, MAX_SELFIES);
    if (images.length === 0) return this.#refuse(i, NO_IMAGES_TEXT);
    const declared = images.map((a) => ({ url: a.url, contentType: a.contentType, size: a.size, name: a.name }));
    const check = checkDeclaredAttachments(declared, this.#limits());
    if (!check.ok) return this.#refuse(i, check.error);
    await this.#startJob(i, {
      selfies: { attachments: declared },
      pose: 'front',
      lighting: 'studio',
      style: '',
      variations: 1,
      seed: this.#newSeed(),
      private: false,
      thread: 'create',
    });
  }

  #limits() {
    return { maxBytes: this.#o.config.PORTRAIT_MAX_INPUT_BYTES, allowedHosts: this.#o.config.DISCORD_CDN_HOSTS };
  }

  #newSeed(): number {
    return (this.#o.newSeed ?? randomSeed)();
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
        'keys' in spec.selfies ? spec.selfies.keys : this.#fetchSelfies(spec.selfies.attachments, requester),
      ]);
      const thread = started ?? channel;
      if (started) void this.output.addThreadMember(started, i.user.id);
      const recipe: Recipe = {
        v: 1,
        userId: requester.userId,
        scopeId: requester.scopeId,
        selfieKeys,
        pose: spec.pose,
        lighting: spec.lighting,
        style: spec.style,
        variations: spec.variations,
        seed: spec.seed,
      };
      const recipeKey = await storeRecipe(this.#o.service, recipe, requester);
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
        pose: spec.pose,
        lighting: spec.lighting,
        selfies: selfieKeys.length,
      };
      const receipt = await this.#o.service.submit({
        idempotencyKey: requestIdOf(i),
        request: {
          requester,
          selfieKeys,
          pose: spec.pose,
          lighting: spec.lighting,
          style: spec.style,
          variations: spec.variations,
          seed: spec.seed,
          route: routeToRecord(route),
        },
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
      this.#status.update(receipt.jobId, {
        route,
        message: { content: queuedText(receipt.position), components: cancelComponents(receipt.jobId) },
        ids: { jobId: receipt.jobId, requestId: requestIdOf(i) },
      });
    } catch (err) {
      await this.#answerError(i, err, requester);
    }
  }

  async #fetchSelfies(attachments: readonly DeclaredAttachment[], owner: Requester): Promise<string[]> {
    const { maxBytes, allowedHosts } = this.#limits();
    const images = await Promise.all(
      attachments.map((a, idx) =>
        downloadImage(a.url, {
          allowedHosts,
          maxBytes,
          ...(attachments.length > 1 ? { selfie: idx + 1 } : {}),
          ...(this.#o.fetch ? { fetch: this.#o.fetch } : {}),
        }),
      ),
    );
    return Promise.all(images.map((img) => this.#o.service.putBlob(img.bytes, owner)));
  }

  /**
   * Answers a failure: user errors with their sentence (quota refusals with the user's jobs), anything else with
   * the generic sentence and a reference id that is also in the log line.
   */
  async #answerError(i: Interaction, err: unknown, requester?: Requester): Promise<void> {
    let content: string;
    if (isPortraitError(err) && err.userError) {
      content = errorSentence(toErrorPayload(err));
      if (err.code.startsWith('quota.') && requester) {
        const jobs = await this.#o.service.listJobs(requester).catch(() => []);
        content = quotaText(content, jobs);
      }
      this.#log.info({ interaction: i.id, requestId: requestIdOf(i), code: err.code }, 'request refused');
    } else {
      const refId = randomBytes(4).toString('hex');
      this.#log.error(
        { refId, interaction: i.id, requestId: requestIdOf(i), err: safeRestError(err) },
        'interaction failed',
      );
      content = errorSentence({ code: 'internal.error', details: {}, refId });
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
    const { catalogue } = this.#o;
    if (focused.name === 'style') return await i.respond(styleChoices(catalogue, String(focused.value ?? '')));
    const presets = focused.name === 'pose' ? catalogue.poses : focused.name === 'lighting' ? catalogue.lightings : [];
    const typed = String(focused.value ?? '');
    const matches = matchPresets(presets, typed);
    const choices = matches.map((p) => ({
      name: `${p.name} - ${p.description}`.slice(0, 100),
      value: p.name.slice(0, 100),
    }));
    // Free text the parser accepts ("yaw=20", "key from left, warm") is offered as typed.
    const check = focused.name === 'pose' ? catalogue.checkPose : catalogue.checkLighting;
    const exact = matches.some((p) => p.name.toLowerCase() === typed.trim().toLowerCase());
    if (typed.trim() && !exact && !check(typed) && typed.length <= 100) {
      choices.unshift({ name: typed.trim(), value: typed.trim() });
    }
    await i.respond(choices.slice(0, 25));
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
    const recipe = await loadRecipe(this.#o.service, id.arg);
    if (recipe.userId !== i.user.id) return this.#refuse(i, NOT_YOURS_TEXT);
    let { lighting, seed, variations } = recipe;
    if (id.action === 'reroll') seed = this.#newSeed();
    if (id.action === 'vary') {
      seed = this.#newSeed();
      variations = MAX_VARIATIONS;
    }
    if (id.action === 'relight') {
      lighting = (i.isStringSelectMenu() ? i.values[0] : undefined) ?? lighting;
      const bad = this.#o.catalogue.checkLighting(lighting);
      if (bad) return this.#refuse(i, bad);
    }
    await this.#startJob(i, {
      selfies: { keys: recipe.selfieKeys },
      pose: recipe.pose,
      lighting,
      style: recipe.style,
      variations,
      seed,
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
   * Handles one delivery of the Discord queue. Progress is throttled and best effort; a result or failure is
   * posted with the bot token (so it survives restarts and the 15-minute token), and a throw makes the
   * delivery queue retry it.
   */
  async handleDelivery(d: Delivery): Promise<void> {
    if (d.platform !== 'discord') return;
    const route = routeFromRecord(d.route);
    const ids = deliveryIds(d);
    if (!route) {
      this.#log.warn(ids, 'delivery without a Discord route, dropped');
      return;
    }
    if (d.kind === 'progress') {
      const p: { stage: Stage; step?: number; steps?: number } = { stage: d.stage };
      if (d.step !== undefined) p.step = d.step;
      if (d.steps !== undefined) p.steps = d.steps;
      this.#status.update(d.jobId, {
        route,
        message: { content: progressText(p) },
        ids,
        ...(d.previewKey ? { previewKey: d.previewKey } : {}),
      });
      return;
    }
    await this.#status.finish(d.jobId);
    if (d.kind === 'result') await this.#deliverResult(d, route);
    else {
      const { refId, ...rest } = d.error;
      await this.#deliverFailure(ids, { ...rest, ...(refId ? { refId } : {}) }, route);
    }
  }

  async #deliverResult(d: Extract<Delivery, { kind: 'result' }>, route: DiscordRoute): Promise<void> {
    const { result } = d;
    const images = await Promise.all(result.outputKeys.map((k) => this.#o.service.getBlob(k)));
    if (images.some((b) => b === null)) {
      const expired = { code: 'job.expired', message: 'result blobs expired', details: {} } as const;
      await this.#deliverFailure(deliveryIds(d), expired, route);
      return;
    }
    const many = images.length > 1;
    const files: RawFile[] = images.map((bytes, idx) => ({
      name: `portrait-${d.seed}${many ? `-${idx + 1}` : ''}.${result.format}`,
      data: Buffer.from(bytes as Uint8Array),
      contentType: `image/${result.format}`,
    }));
    // The interaction id is a snowflake: its timestamp is when the user asked, so this is the wait they saw.
    const caption = {
      pose: route.pose,
      lighting: route.lighting,
      engine: result.engine,
      seed: d.seed,
      elapsedMs: (this.#o.now ?? Date.now)() - SnowflakeUtil.timestampFrom(route.interaction),
      note: reportNote(result.report),
    };
    const content = resultText(route.user, images.length, caption);
    const description = altText(caption).slice(0, 1024);
    const attachments = files.map((f, id) => ({ id, filename: f.name, description }));
    const components = resultComponents(route.recipe, route.user, this.#o.catalogue.lightings);
    await this.output.postAnswer(route, { content, components, attachments }, files);
    this.#log.info({ ...deliveryIds(d), images: images.length }, 'portrait posted');
    await this.output
      // `attachments: []` takes a progress preview off the status message.
      .editStatus(route, { content: doneText(route.thread !== route.channel), components: [], attachments: [] })
      .catch((err: unknown) => this.#log.warn({ ...deliveryIds(d), err: safeRestError(err) }, 'status edit failed'));
    this.tokens.forget(route.interaction);
  }

  async #deliverFailure(ids: LogIds, error: ErrorPayload, route: DiscordRoute): Promise<void> {
    if (!isUserErrorCode(error.code)) {
      this.#log.error({ ...ids, code: error.code, refId: error.refId, message: error.message }, 'portrait job failed');
    } else {
      this.#log.info({ ...ids, code: error.code }, 'portrait job refused');
    }
    // With a single selfie the sentence says "your selfie", not "selfie 1".
    const { selfie: _selfie, ...otherDetails } = error.details;
    const details = route.selfies > 1 ? error.details : otherDetails;
    const message = { content: errorSentence({ ...error, details }), components: [] };
    const edited = await this.output.editStatus(route, { ...message, attachments: [] }).catch((err: unknown) => {
      this.#log.warn({ ...ids, err: safeRestError(err) }, 'status edit failed, posting the answer instead');
      return false;
    });
    if (!edited) await this.output.postAnswer(route, message);
    this.tokens.forget(route.interaction);
  }
}
