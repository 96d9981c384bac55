import {
  ApplicationIntegrationType,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  type RawFile,
  type REST,
  type RESTPostAPIApplicationCommandsJSONBody,
  Routes,
  SlashCommandBuilder,
  type SlashCommandSubcommandBuilder,
} from 'discord.js';
import type { AvatarEvent } from '../../avatar-events/definition.js';
import { effectiveStatus, MAX_ENTRIES_PER_MEMBER } from '../../avatar-events/definition.js';
import type { EventUpdate } from '../../avatar-events/scheduler.js';
import type { AvatarEventService, EventCaller } from '../../avatar-events/service.js';
import { suggest } from '../../conversation/catalogue.js';
import {
  avatarAlt,
  EventCommands,
  eventTexts,
  type RawEventOptions,
  STATUS_WORDS,
} from '../../conversation/event-commands.js';
import type { Conversation } from '../../conversation/requests.js';
import type { Requester } from '../../core/request.js';
import type { ErrorPayload } from '../../errors.js';
import type { Logger } from '../../log.js';
import { type DiscordOutput, NO_MENTIONS, safeRestError } from './output.js';
import { routeToRecord } from './route.js';
import { clip, escapeUserText } from './texts.js';
import type { TokenBook } from './tokens.js';

/**
 * `/avatar-event`: community avatar events on Discord. Organisers (Manage Server, a role in DISCORD_EVENT_ROLES, the
 * event's creator and the roles it names) create, edit, preview, open, close and delete an event and see its status,
 * gallery and export; members join with a selfie and leave. The platform-neutral rules and storage are in
 * src/avatar-events/definition.ts and src/avatar-events/service.ts; this file turns interactions into those calls and event
 * updates (an avatar made, a photo refused) into messages.
 *
 * Results go to the event's thread (started on the reply to `create`), and by DM to members who ask. A member's
 * join reply is ephemeral; while its interaction token lives it is edited with the outcome (the refusal sentence
 * reaches only them); after that the outcome goes by DM.
 */

export const EVENT_COMMAND = 'avatar-event';
const allowedMentions = { parse: [] as never[] };
/** Bytes kept free under Discord's upload limit for the request's own overhead. */
const UPLOAD_MARGIN = 64 * 1024;
const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;

const guildOnly = (b: SlashCommandBuilder): SlashCommandBuilder =>
  b.setContexts(InteractionContextType.Guild).setIntegrationTypes(ApplicationIntegrationType.GuildInstall);

/** Theme and schedule options shared by create and edit. */
function themeOptions(s: SlashCommandSubcommandBuilder): SlashCommandSubcommandBuilder {
  return s
    .addStringOption((o) =>
      o.setName('pose').setDescription('Everyone’s head pose: front, three-quarter left ...').setAutocomplete(true),
    )
    .addStringOption((o) =>
      o.setName('lighting').setDescription('Everyone’s lighting: golden hour, rembrandt ...').setAutocomplete(true),
    )
    .addStringOption((o) =>
      o
        .setName('style')
        .setDescription('Everyone’s style: black and white, oil paint, studio grey ...')
        .setAutocomplete(true)
        .setMaxLength(500),
    )
    .addStringOption((o) => o.setName('starts').setDescription("When entries open: 'now', 'in 2 days', '2026-12-01'"))
    .addStringOption((o) => o.setName('ends').setDescription("When entries close: 'in 7 days', '2026-12-24 18:00'"))
    .addIntegerOption((o) =>
      o
        .setName('entries')
        .setDescription('Avatars per member (a new photo replaces the oldest)')
        .setMinValue(1)
        .setMaxValue(MAX_ENTRIES_PER_MEMBER),
    )
    .addStringOption((o) => o.setName('frame').setDescription("Frame colour in the gallery: '#ff8800', gold ..."))
    .addStringOption((o) => o.setName('retention').setDescription("How long results are kept after the end: '30d'"))
    .addRoleOption((o) => o.setName('organisers').setDescription('A role that may manage this event too'))
    .addStringOption((o) =>
      o
        .setName('engine')
        .setDescription('Engine for every avatar')
        .addChoices(
          { name: 'compositor', value: 'compositor' },
          { name: 'crop', value: 'crop' },
          { name: 'diffusion', value: 'diffusion' },
        ),
    )
    .addIntegerOption((o) =>
      o.setName('size').setDescription('Avatar size in pixels').setMinValue(64).setMaxValue(2048),
    )
    .addStringOption((o) =>
      o
        .setName('format')
        .setDescription('Avatar file format')
        .addChoices({ name: 'webp', value: 'webp' }, { name: 'png', value: 'png' }),
    );
}

const eventOption = (s: SlashCommandSubcommandBuilder, required: boolean) =>
  s.addStringOption((o) =>
    o.setName('event').setDescription('The event').setAutocomplete(true).setRequired(required).setMaxLength(80),
  );

/** The /avatar-event command with its subcommands, as Discord's JSON. */
export function eventCommandDefinition(): RESTPostAPIApplicationCommandsJSONBody {
  const cmd = guildOnly(
    new SlashCommandBuilder().setName(EVENT_COMMAND).setDescription('Community avatar events: one theme for everyone'),
  );
  cmd
    .addSubcommand((s) =>
      themeOptions(
        s
          .setName('create')
          .setDescription('Organisers: create an event (a draft until you open it)')
          .addStringOption((o) => o.setName('name').setDescription('Event name').setRequired(true).setMaxLength(80)),
      ),
    )
    .addSubcommand((s) =>
      themeOptions(
        eventOption(s.setName('edit').setDescription('Organisers: change an event'), true).addStringOption((o) =>
          o.setName('name').setDescription('New name').setMaxLength(80),
        ),
      ),
    )
    .addSubcommand((s) =>
      eventOption(
        s.setName('preview').setDescription('Organisers: a sample avatar from your own selfie'),
        true,
      ).addAttachmentOption((o) => o.setName('selfie').setDescription('Your selfie').setRequired(true)),
    )
    .addSubcommand((s) => eventOption(s.setName('open').setDescription('Organisers: start taking entries'), true))
    .addSubcommand((s) => eventOption(s.setName('close').setDescription('Organisers: stop taking entries'), true))
    .addSubcommand((s) =>
      eventOption(
        s.setName('delete').setDescription('Organisers: delete the event with every photo and avatar'),
        true,
      ).addBooleanOption((o) =>
        o.setName('confirm').setDescription('Yes: delete everything of this event').setRequired(true),
      ),
    )
    .addSubcommand((s) => eventOption(s.setName('status').setDescription('Entrants and progress'), false))
    .addSubcommand((s) =>
      eventOption(s.setName('gallery').setDescription('Organisers: post the contact sheet'), false).addIntegerOption(
        (o) => o.setName('page').setDescription('Page of a large gallery').setMinValue(1),
      ),
    )
    .addSubcommand((s) =>
      eventOption(s.setName('export').setDescription('Organisers: download every avatar as a zip'), false),
    )
    .addSubcommand((s) =>
      eventOption(
        s
          .setName('join')
          .setDescription('Join with a selfie: you get an avatar in the event’s theme')
          .addAttachmentOption((o) =>
            o.setName('selfie').setDescription('A clear photo of your face').setRequired(true),
          ),
        false,
      ).addBooleanOption((o) => o.setName('dm').setDescription('Also send my avatar by direct message')),
    )
    .addSubcommand((s) =>
      eventOption(s.setName('leave').setDescription('Leave: your photo and avatar are deleted'), false),
    );
  return cmd.toJSON();
}

export interface DiscordEventsOptions {
  events: AvatarEventService;
  /** The shared request flow: declared-file checks, downloads, blobs, submit, the clock. */
  conversation: Conversation;
  output: DiscordOutput;
  /** The client's REST manager, for edits through interaction tokens. */
  rest: REST;
  tokens: TokenBook;
  log: Logger;
}

/** Discord markdown for the shared event sentences. */
const texts = eventTexts({
  bold: (t) => `**${escapeUserText(t, 80)}**`,
  text: (t, max = 300) => escapeUserText(t, max),
  time: (ms) => `<t:${Math.floor(ms / 1000)}:f>`,
  user: (id) => `<@${id}>`,
});

export class DiscordEvents {
  readonly #o: DiscordEventsOptions;
  readonly #log: Logger;
  readonly #commands: EventCommands;

  constructor(options: DiscordEventsOptions) {
    this.#o = options;
    this.#log = options.log.child({ feature: 'events' });
    this.#commands = new EventCommands({ events: options.events, conversation: options.conversation });
  }

  /** Handles one /avatar-event interaction. Throws only what the adapter's error answer should say. */
  async handle(i: ChatInputCommandInteraction): Promise<void> {
    switch (i.options.getSubcommand()) {
      case 'create':
        return this.#create(i);
      case 'edit':
        return this.#edit(i);
      case 'preview':
        return this.#preview(i);
      case 'open':
        return this.#open(i);
      case 'close':
        return this.#close(i);
      case 'delete':
        return this.#delete(i);
      case 'status':
        return this.#status(i);
      case 'gallery':
        return this.#gallery(i);
      case 'export':
        return this.#export(i);
      case 'join':
        return this.#join(i);
      case 'leave':
        return this.#leave(i);
    }
  }

  /** Event names for the `event` option; presets for pose and lighting. */
  async autocomplete(i: AutocompleteInteraction): Promise<void> {
    const focused = i.options.getFocused(true);
    const typed = String(focused.value ?? '')
      .trim()
      .toLowerCase();
    if (focused.name === 'event') {
      const events = i.guildId ? await this.#o.events.list('discord', i.guildId) : [];
      const now = this.#o.conversation.now();
      const choices = events
        .filter((e) => e.name.toLowerCase().includes(typed))
        .map((e) => ({ name: `${e.name} (${STATUS_WORDS[effectiveStatus(e, now)]})`.slice(0, 100), value: e.name }));
      await i.respond(choices.slice(0, 25));
      return;
    }
    if (focused.name !== 'pose' && focused.name !== 'lighting' && focused.name !== 'style') return await i.respond([]);
    const choices = suggest(this.#o.conversation.catalogue, focused.name, String(focused.value ?? ''));
    await i.respond(choices.map((c) => ({ name: c.label, value: c.value })));
  }

  #caller(i: ChatInputCommandInteraction): EventCaller {
    const member = i.member;
    let roleIds: string[] = [];
    if (member && Array.isArray(member.roles)) roleIds = [...member.roles];
    else if (member && 'cache' in member.roles) roleIds = [...member.roles.cache.keys()];
    return {
      platform: 'discord',
      userId: i.user.id,
      scopeId: i.guildId ?? `dm-${i.user.id}`,
      isAdmin: i.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false,
      roleIds,
    };
  }

  #member(i: ChatInputCommandInteraction): Requester {
    return { platform: 'discord', userId: i.user.id, scopeId: i.guildId ?? `dm-${i.user.id}` };
  }

  #name(i: ChatInputCommandInteraction): string | undefined {
    return i.options.getString('event')?.trim() || undefined;
  }

  /** The create/edit options as typed; the shared commands parse and check them. */
  #themeInput(i: ChatInputCommandInteraction) {
    const text = (n: string) => i.options.getString(n) ?? undefined;
    const role = i.options.getRole('organisers');
    const raw: RawEventOptions = {
      name: text('name'),
      pose: text('pose'),
      lighting: text('lighting'),
      style: text('style'),
      engine: text('engine'),
      format: text('format'),
      frameColour: text('frame'),
      starts: text('starts'),
      ends: text('ends'),
      retention: text('retention'),
      entries: i.options.getInteger('entries') ?? undefined,
      size: i.options.getInteger('size') ?? undefined,
      managers: role ? [role.id] : undefined,
    };
    return this.#commands.patch(raw);
  }

  async #create(i: ChatInputCommandInteraction): Promise<void> {
    const caller = this.#caller(i);
    const patch = this.#themeInput(i);
    // Everything is checked before anything is posted: a typo never leaves an empty thread behind.
    const checked = this.#commands.checkDraft(caller, patch, { channelId: i.channelId });
    const reply = await i.deferReply({ withResponse: true });
    const message = reply.resource?.message ?? (await i.fetchReply());
    const channel = message.channelId || i.channelId;
    const thread = i.channel?.isThread()
      ? undefined
      : await this.#o.output.startThread(channel, message.id, `Avatars: ${checked.name}`);
    const event = await this.#o.events.create(caller, {
      ...checked.input,
      destination: { channelId: channel, ...(thread ? { threadId: thread } : {}) },
    });
    this.#log.info({ event: event.id }, 'avatar event created');
    await i.editReply({
      content: clip(
        `${texts.summary(event, event.status)}\n` +
          `Check the look with \`/avatar-event preview\`, then \`/avatar-event open\`. Avatars will be posted ${
            thread ? `in <#${thread}>` : 'here'
          }.`,
      ),
      allowedMentions,
    });
  }

  async #edit(i: ChatInputCommandInteraction): Promise<void> {
    const event = await this.#o.events.edit(this.#caller(i), this.#name(i) ?? '', this.#themeInput(i));
    await i.reply({
      content: clip(texts.updated(texts.summary(event, event.status))),
      flags: MessageFlags.Ephemeral,
      allowedMentions,
    });
  }

  async #open(i: ChatInputCommandInteraction): Promise<void> {
    const event = await this.#o.events.open(this.#caller(i), this.#name(i) ?? '');
    const where = event.destination.threadId ? ` Avatars are posted in <#${event.destination.threadId}>.` : '';
    await i.reply({
      content: clip(`📸 ${texts.opened(event, 'Join with `/avatar-event join`', where)}`),
      allowedMentions,
    });
  }

  async #close(i: ChatInputCommandInteraction): Promise<void> {
    const { event, progress } = await this.#commands.close(this.#caller(i), this.#name(i) ?? '');
    await i.reply({ content: clip(texts.closed(event, progress)), allowedMentions });
  }

  async #delete(i: ChatInputCommandInteraction): Promise<void> {
    if (!i.options.getBoolean('confirm', true)) {
      await i.reply({ content: texts.kept, flags: MessageFlags.Ephemeral, allowedMentions });
      return;
    }
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const { event, removedKeys } = await this.#o.events.delete(this.#caller(i), this.#name(i) ?? '');
    await i.editReply({ content: texts.deleted(event, removedKeys), allowedMentions });
  }

  async #status(i: ChatInputCommandInteraction): Promise<void> {
    const caller = this.#caller(i);
    const target = await this.#o.events.find('discord', caller.scopeId, this.#name(i));
    const report = await this.#commands.status(caller, target);
    const lines = [texts.summary(report.event, report.status)];
    if (report.progress) lines.push(texts.progress(report.progress));
    await i.reply({ content: clip(lines.join('\n')), flags: MessageFlags.Ephemeral, allowedMentions });
  }

  async #gallery(i: ChatInputCommandInteraction): Promise<void> {
    await i.deferReply();
    const { event, count, page } = await this.#commands.gallery(
      this.#caller(i),
      this.#name(i),
      i.options.getInteger('page') ?? 1,
    );
    if (!page) {
      await i.editReply({ content: texts.noAvatars(event), allowedMentions });
      return;
    }
    await i.editReply({
      content: texts.gallery(event, count, page),
      files: [
        {
          attachment: Buffer.from(page.image),
          name: `gallery-${page.page}.${page.format === 'jpeg' ? 'jpg' : page.format}`,
          description: page.alt.slice(0, 1024),
        },
      ],
      allowedMentions,
    });
  }

  async #export(i: ChatInputCommandInteraction): Promise<void> {
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const limit = (i.attachmentSizeLimit || DEFAULT_UPLOAD_LIMIT) - UPLOAD_MARGIN;
    const { event, parts } = await this.#commands.export(this.#caller(i), this.#name(i), limit);
    let n = 0;
    for await (const part of parts) {
      const message = {
        content: texts.exportPart(event, part.files, part.missing),
        files: [{ attachment: Buffer.from(part.zip), name: part.fileName }],
        allowedMentions,
      };
      if (n++ === 0) await i.editReply(message);
      else await i.followUp({ ...message, flags: MessageFlags.Ephemeral });
    }
  }

  async #preview(i: ChatInputCommandInteraction): Promise<void> {
    const caller = this.#caller(i);
    const { event, request } = await this.#o.events.preview(caller, this.#name(i) ?? '');
    const { conversation } = this.#o;
    const [file] = conversation.selfies([declared(i.options.getAttachment('selfie', true))], 'slots');
    const reply = await i.deferReply({ flags: MessageFlags.Ephemeral, withResponse: true });
    this.#o.tokens.remember(i.id, i.token, i.createdTimestamp);
    const requester = this.#member(i);
    const [selfieKey = ''] = await conversation.storeSelfies(file ? [file] : [], requester);
    const pose = request.pose ?? 'front';
    const lighting = request.lighting ?? 'studio';
    // An ordinary private portrait in the theme: the adapter's delivery path shows it to the organiser only.
    const receipt = await conversation.service.submit({
      idempotencyKey: `discord-${i.id}`,
      request: {
        ...request,
        requester,
        selfieKeys: [selfieKey],
        variations: 1,
        seed: conversation.newSeed(),
        route: routeToRecord({
          app: i.applicationId,
          interaction: i.id,
          guild: i.guildId ?? '',
          channel: i.channelId,
          status: reply.resource?.message?.id ?? '',
          thread: i.channelId,
          private: true,
          user: i.user.id,
          recipe: '',
          pose,
          lighting,
          selfies: 1,
        }),
      },
    });
    await i.editReply({ content: texts.previewQueued(event, receipt.position), allowedMentions });
  }

  async #join(i: ChatInputCommandInteraction): Promise<void> {
    const member = this.#member(i);
    const attachment = i.options.getAttachment('selfie', true);
    // Refuse a closed or unknown event, or a file that is no photo, before downloading anything.
    const { event, file } = await this.#commands.joinable(member, this.#name(i), [declared(attachment)], 'slots');
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    this.#o.tokens.remember(i.id, i.token, i.createdTimestamp);
    const receipt = await this.#commands.join(event, file, {
      member,
      displayName: i.member && 'displayName' in i.member ? i.member.displayName : i.user.displayName,
      dm: i.options.getBoolean('dm') ?? false,
      route: { app: i.applicationId, interaction: i.id },
    });
    const thread = receipt.event.destination.threadId;
    if (thread) void this.#o.output.addThreadMember(thread, i.user.id);
    const where = thread ? `in <#${thread}>` : `in <#${receipt.event.destination.channelId}>`;
    await i.editReply({ content: clip(texts.joined(receipt, where)), allowedMentions });
  }

  async #leave(i: ChatInputCommandInteraction): Promise<void> {
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const { event, entries } = await this.#commands.leave(this.#member(i), this.#name(i));
    await i.editReply({ content: texts.left(event, entries), allowedMentions });
  }

  // ------------------------------------------------------------------------------------------------ updates

  /**
   * An entry's outcome, from the event scheduler. The avatar goes to the event's thread (the channel when the thread
   * is gone) and by DM when asked; the member's join reply says it is done. A refusal reaches the member only: their
   * join reply while its token lives, else a DM. A throw makes the scheduler's delivery retry.
   */
  readonly onUpdate = async (update: EventUpdate): Promise<void> => {
    if (update.event.platform !== 'discord') return;
    if (update.kind === 'result') return this.#postAvatar(update);
    return this.#tellFailure(update.event, update.entry.member.userId, update.entry.route, update.error);
  };

  async #postAvatar(update: Extract<EventUpdate, { kind: 'result' }>): Promise<void> {
    const { event, entry, image } = update;
    const format = entry.result?.format ?? 'webp';
    const file = (): RawFile => ({
      name: `avatar-${entry.member.userId}.${format}`,
      data: Buffer.from(image),
      contentType: `image/${format}`,
    });
    const message = {
      content: clip(texts.avatarFor(event, entry.member.userId)),
      attachments: [
        {
          id: 0,
          filename: `avatar-${entry.member.userId}.${format}`,
          description: avatarAlt(event, entry.displayName),
        },
      ],
    };
    const { channelId, threadId } = event.destination;
    try {
      await this.#o.output.post(threadId ?? channelId, message, [file()]);
    } catch (err) {
      if (!threadId) throw err;
      this.#log.warn({ err: safeRestError(err) }, 'event thread unavailable, posting in the channel');
      await this.#o.output.post(channelId, message, [file()]);
    }
    if (entry.dm) {
      await this.#o.output
        .dm(entry.member.userId, { content: clip(texts.yourAvatar(event)), attachments: message.attachments }, [file()])
        .catch((err: unknown) => this.#log.info({ err: safeRestError(err) }, 'could not DM an event avatar'));
    }
    await this.#editJoinReply(entry.route, texts.ready(event, threadId ? ` in <#${threadId}>` : ''));
  }

  async #tellFailure(
    event: AvatarEvent,
    userId: string,
    route: Readonly<Record<string, string>>,
    error: ErrorPayload,
  ): Promise<void> {
    const sentence = texts.refused(event, error);
    if (await this.#editJoinReply(route, sentence)) return;
    await this.#o.output.dm(userId, { content: clip(sentence) }).catch(async (err: unknown) => {
      this.#log.info({ err: safeRestError(err) }, 'could not DM an event refusal; telling the thread');
      const { channelId, threadId } = event.destination;
      await this.#o.output.post(threadId ?? channelId, { content: clip(`<@${userId}> ${sentence}`) });
    });
  }

  /** Edits the member's ephemeral join reply while its token lives. False when it could not. */
  async #editJoinReply(route: Readonly<Record<string, string>>, content: string): Promise<boolean> {
    const interaction = route['interaction'];
    const app = route['app'];
    const token = interaction ? this.#o.tokens.get(interaction) : undefined;
    if (!interaction || !app || !token) return false;
    try {
      await this.#o.rest.patch(Routes.webhookMessage(app, token, '@original'), {
        body: { content: clip(content), components: [], allowed_mentions: NO_MENTIONS },
        auth: false,
      });
      return true;
    } catch (err) {
      this.#log.info({ err: safeRestError(err) }, 'could not edit a join reply');
      this.#o.tokens.forget(interaction);
      return false;
    }
  }
}

/** A Discord attachment as a declared file. */
function declared(a: { url: string; contentType: string | null; size: number; name: string }) {
  return { url: a.url, contentType: a.contentType, size: a.size, name: a.name };
}
