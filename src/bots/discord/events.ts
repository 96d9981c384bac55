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
import type { Config } from '../../config.js';
import {
  type AvatarEvent,
  checkEntryWindow,
  describeTheme,
  type EventDraftInput,
  type EventPatch,
  effectiveStatus,
  MAX_ENTRIES_PER_MEMBER,
  parseEventTime,
  parseRetentionDays,
  validateEventDraft,
} from '../../core/events.js';
import { type Requester, randomSeed } from '../../core/request.js';
import { type ErrorPayload, PortraitError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EventUpdate } from '../../queue/event-jobs.js';
import type { AvatarEventService, EventCaller } from '../../queue/event-service.js';
import type { PortraitService } from '../../queue/service.js';
import { downloadImage } from '../common/download.js';
import { exportParts, renderEventGallery } from '../common/gallery.js';
import { checkDeclaredAttachments } from './attachments.js';
import { type Catalogue, matchPresets, styleChoices } from './catalogue.js';
import { type DiscordOutput, NO_MENTIONS, safeRestError } from './output.js';
import { routeToRecord } from './route.js';
import { clip, errorSentence, escapeUserText } from './texts.js';
import type { TokenBook } from './tokens.js';

/**
 * `/avatar-event`: community avatar events on Discord. Organisers (Manage Server, a role in DISCORD_EVENT_ROLES, the
 * event's creator and the roles it names) create, edit, preview, open, close and delete an event and see its status,
 * gallery and export; members join with a selfie and leave. The platform-neutral rules and storage are in
 * src/core/events.ts and src/queue/event-service.ts; this file turns interactions into those calls and event
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
  config: Config;
  events: AvatarEventService;
  service: PortraitService;
  output: DiscordOutput;
  /** The client's REST manager, for edits through interaction tokens. */
  rest: REST;
  tokens: TokenBook;
  catalogue: Catalogue;
  log: Logger;
  fetch?: typeof fetch;
}

/** The platform's word for an event's status. */
const STATUS_WORDS = { draft: 'draft (not open yet)', open: 'open', closed: 'closed' } as const;

export class DiscordEvents {
  readonly #o: DiscordEventsOptions;
  readonly #log: Logger;

  constructor(options: DiscordEventsOptions) {
    this.#o = options;
    this.#log = options.log.child({ feature: 'events' });
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
      const now = Date.now();
      const choices = events
        .filter((e) => e.name.toLowerCase().includes(typed))
        .map((e) => ({ name: `${e.name} (${STATUS_WORDS[effectiveStatus(e, now)]})`.slice(0, 100), value: e.name }));
      await i.respond(choices.slice(0, 25));
      return;
    }
    if (focused.name === 'style') {
      await i.respond(styleChoices(this.#o.catalogue, String(focused.value ?? '')));
      return;
    }
    const presets = focused.name === 'pose' ? this.#o.catalogue.poses : this.#o.catalogue.lightings;
    await i.respond(
      matchPresets(presets, typed).map((p) => ({
        name: `${p.name} - ${p.description}`.slice(0, 100),
        value: p.name.slice(0, 100),
      })),
    );
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

  /** The create/edit options as typed; times and retention parsed here, everything else by the core validation. */
  #themeInput(i: ChatInputCommandInteraction): EventPatch {
    const now = Date.now();
    const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: PortraitError }): T => {
      if (!r.ok) throw r.error;
      return r.value;
    };
    const text = (n: string) => i.options.getString(n)?.trim() || undefined;
    const starts = text('starts');
    const ends = text('ends');
    const retention = text('retention');
    const role = i.options.getRole('organisers');
    const patch: EventPatch = {};
    const set = <K extends keyof EventPatch>(k: K, v: EventPatch[K] | undefined) => {
      if (v !== undefined) patch[k] = v;
    };
    set('name', text('name'));
    set('pose', text('pose'));
    set('lighting', text('lighting'));
    set('style', text('style'));
    set('engine', text('engine'));
    set('format', text('format'));
    set('frameColour', text('frame'));
    set('size', i.options.getInteger('size') ?? undefined);
    set('entriesPerMember', i.options.getInteger('entries') ?? undefined);
    if (starts) patch.startsAt = unwrap(parseEventTime(starts, now, 'start'));
    if (ends) patch.endsAt = unwrap(parseEventTime(ends, now, 'end'));
    if (retention) patch.retentionDays = unwrap(parseRetentionDays(retention));
    if (role) patch.managers = [role.id];
    return patch;
  }

  async #create(i: ChatInputCommandInteraction): Promise<void> {
    const caller = this.#caller(i);
    if (!this.#o.events.canManage(caller)) throw new PortraitError('event.not_allowed', 'not an organiser', {});
    const patch = this.#themeInput(i);
    const input: EventDraftInput = { ...patch, name: patch.name ?? '', destination: { channelId: i.channelId } };
    // Everything is checked before anything is posted: a typo never leaves an empty thread behind.
    const check = validateEventDraft(input, { now: Date.now(), defaultEngine: this.#o.config.PORTRAIT_ENGINE });
    if (!check.ok) throw check.error;
    const reply = await i.deferReply({ withResponse: true });
    const message = reply.resource?.message ?? (await i.fetchReply());
    const channel = message.channelId || i.channelId;
    const thread = i.channel?.isThread()
      ? undefined
      : await this.#o.output.startThread(channel, message.id, `Avatars: ${check.value.name}`);
    const event = await this.#o.events.create(caller, {
      ...input,
      destination: { channelId: channel, ...(thread ? { threadId: thread } : {}) },
    });
    this.#log.info({ event: event.id }, 'avatar event created');
    await i.editReply({
      content: clip(
        `${summary(event)}\n` +
          `Check the look with \`/avatar-event preview\`, then \`/avatar-event open\`. Avatars will be posted ${
            thread ? `in <#${thread}>` : 'here'
          }.`,
      ),
      allowedMentions,
    });
  }

  async #edit(i: ChatInputCommandInteraction): Promise<void> {
    const name = this.#name(i) ?? '';
    const event = await this.#o.events.edit(this.#caller(i), name, this.#themeInput(i));
    await i.reply({ content: clip(`Updated.\n${summary(event)}`), flags: MessageFlags.Ephemeral, allowedMentions });
  }

  async #open(i: ChatInputCommandInteraction): Promise<void> {
    const event = await this.#o.events.open(this.#caller(i), this.#name(i) ?? '');
    const where = event.destination.threadId ? ` Avatars are posted in <#${event.destination.threadId}>.` : '';
    await i.reply({
      content: clip(
        `📸 **${escapeUserText(event.name, 80)}** is open until <t:${Math.floor(event.endsAt / 1000)}:f>! ` +
          `Join with \`/avatar-event join\` and a selfie: everyone gets an avatar with ${escapeUserText(
            describeTheme(event.theme),
            300,
          )}.${where}`,
      ),
      allowedMentions,
    });
  }

  async #close(i: ChatInputCommandInteraction): Promise<void> {
    const caller = this.#caller(i);
    const event = await this.#o.events.close(caller, this.#name(i) ?? '');
    const report = await this.#o.events.organiserStatus(caller, event.name);
    await i.reply({
      content: clip(
        `**${escapeUserText(event.name, 80)}** is closed: ${report.progress.avatars} avatar${
          report.progress.avatars === 1 ? '' : 's'
        } from ${report.progress.entrants} member${report.progress.entrants === 1 ? '' : 's'}.` +
          (report.progress.pending + report.progress.running > 0
            ? ` ${report.progress.pending + report.progress.running} still being made.`
            : ''),
      ),
      allowedMentions,
    });
  }

  async #delete(i: ChatInputCommandInteraction): Promise<void> {
    if (!i.options.getBoolean('confirm', true)) {
      await i.reply({ content: 'Nothing was deleted.', flags: MessageFlags.Ephemeral, allowedMentions });
      return;
    }
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const { event, removedKeys } = await this.#o.events.delete(this.#caller(i), this.#name(i) ?? '');
    await i.editReply({
      content: `Deleted **${escapeUserText(event.name, 80)}** with every photo and avatar (${removedKeys} stored file${
        removedKeys === 1 ? '' : 's'
      }).`,
      allowedMentions,
    });
  }

  async #status(i: ChatInputCommandInteraction): Promise<void> {
    const caller = this.#caller(i);
    const name = this.#name(i);
    const report = await this.#o.events.status('discord', caller.scopeId, name);
    const { event, progress } = report;
    const lines = [summary(event, report.status)];
    if (this.#o.events.canManage(caller, event)) {
      lines.push(
        `Entrants: ${progress.entrants} · avatars: ${progress.avatars} · waiting: ${progress.pending} · being made: ${progress.running} · refused: ${progress.failed}`,
      );
    }
    await i.reply({ content: clip(lines.join('\n')), flags: MessageFlags.Ephemeral, allowedMentions });
  }

  async #gallery(i: ChatInputCommandInteraction): Promise<void> {
    await i.deferReply();
    const { event, entries, readImage } = await this.#o.events.gallery(this.#caller(i), this.#name(i));
    if (entries.length === 0) {
      await i.editReply({ content: `No avatars in **${escapeUserText(event.name, 80)}** yet.`, allowedMentions });
      return;
    }
    const page = await renderEventGallery(event, entries, readImage, i.options.getInteger('page') ?? 1);
    await i.editReply({
      content: `**${escapeUserText(event.name, 80)}**: ${entries.length} avatar${entries.length === 1 ? '' : 's'}${
        page.pages > 1 ? ` (page ${page.page} of ${page.pages})` : ''
      }`,
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
    const { event, entries, readImage } = await this.#o.events.gallery(this.#caller(i), this.#name(i));
    const limit = (i.attachmentSizeLimit || DEFAULT_UPLOAD_LIMIT) - UPLOAD_MARGIN;
    let n = 0;
    for await (const part of exportParts(event, entries, readImage, limit)) {
      const message = {
        content: `${part.files} avatar${part.files === 1 ? '' : 's'} of **${escapeUserText(event.name, 80)}** with a CSV manifest${
          part.missing ? ` (${part.missing} could not be read)` : ''
        }.`,
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
    const attachment = i.options.getAttachment('selfie', true);
    const declared = [
      { url: attachment.url, contentType: attachment.contentType, size: attachment.size, name: attachment.name },
    ];
    const check = checkDeclaredAttachments(declared, this.#limits());
    if (!check.ok) throw check.error;
    const reply = await i.deferReply({ flags: MessageFlags.Ephemeral, withResponse: true });
    this.#o.tokens.remember(i.id, i.token, i.createdTimestamp);
    const bytes = await this.#download(attachment.url);
    const requester = this.#member(i);
    const selfieKey = await this.#o.service.putBlob(bytes, requester);
    const pose = request.pose ?? 'front';
    const lighting = request.lighting ?? 'studio';
    // An ordinary private portrait in the theme: the adapter's delivery path shows it to the organiser only.
    const receipt = await this.#o.service.submit({
      idempotencyKey: `discord-${i.id}`,
      request: {
        ...request,
        requester,
        selfieKeys: [selfieKey],
        variations: 1,
        seed: randomSeed(),
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
    await i.editReply({
      content: `Preview of **${escapeUserText(event.name, 80)}** queued (position ${receipt.position}); it shows up here.`,
      allowedMentions,
    });
  }

  async #join(i: ChatInputCommandInteraction): Promise<void> {
    const member = this.#member(i);
    const name = this.#name(i);
    const attachment = i.options.getAttachment('selfie', true);
    const declared = [
      { url: attachment.url, contentType: attachment.contentType, size: attachment.size, name: attachment.name },
    ];
    const check = checkDeclaredAttachments(declared, this.#limits());
    if (!check.ok) throw check.error;
    // Refuse a closed or unknown event before downloading anything.
    const event = await this.#o.events.find('discord', member.scopeId, name);
    const window = checkEntryWindow(event, Date.now());
    if (!window.ok) throw window.error;
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    this.#o.tokens.remember(i.id, i.token, i.createdTimestamp);
    const selfie = await this.#download(attachment.url);
    const receipt = await this.#o.events.join(event.name, {
      member,
      displayName: i.member && 'displayName' in i.member ? i.member.displayName : i.user.displayName,
      selfie,
      dm: i.options.getBoolean('dm') ?? false,
      route: { app: i.applicationId, interaction: i.id },
    });
    const thread = receipt.event.destination.threadId;
    if (thread) void this.#o.output.addThreadMember(thread, i.user.id);
    const where = thread ? `in <#${thread}>` : `in <#${receipt.event.destination.channelId}>`;
    const ahead = receipt.position > 1 ? ` ${receipt.position - 1} ahead of you.` : '';
    await i.editReply({
      content: clip(
        `${receipt.replaced ? 'Your new photo replaces the earlier one' : "You're in"}: your **${escapeUserText(
          receipt.event.name,
          80,
        )}** avatar will be posted ${where}${receipt.entry.dm ? ' and sent to you by DM' : ''}.${ahead}`,
      ),
      allowedMentions,
    });
  }

  async #leave(i: ChatInputCommandInteraction): Promise<void> {
    await i.deferReply({ flags: MessageFlags.Ephemeral });
    const member = this.#member(i);
    const event = await this.#o.events.find('discord', member.scopeId, this.#name(i));
    const n = await this.#o.events.leave(member, event.name);
    await i.editReply({
      content:
        n > 0
          ? `You left **${escapeUserText(event.name, 80)}**: your photo and avatar are deleted.`
          : `You had no entry in **${escapeUserText(event.name, 80)}**.`,
      allowedMentions,
    });
  }

  #limits() {
    return { maxBytes: this.#o.config.PORTRAIT_MAX_INPUT_BYTES, allowedHosts: this.#o.config.DISCORD_CDN_HOSTS };
  }

  async #download(url: string): Promise<Uint8Array> {
    const { maxBytes, allowedHosts } = this.#limits();
    const image = await downloadImage(url, {
      allowedHosts,
      maxBytes,
      ...(this.#o.fetch ? { fetch: this.#o.fetch } : {}),
    });
    return image.bytes;
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
    const alt = `Avatar of ${entry.displayName} for ${event.name}: ${describeTheme(event.theme)}`.slice(0, 1024);
    const file = (): RawFile => ({
      name: `avatar-${entry.member.userId}.${format}`,
      data: Buffer.from(image),
      contentType: `image/${format}`,
    });
    const message = {
      content: clip(`Avatar for <@${entry.member.userId}> · **${escapeUserText(event.name, 80)}**`),
      attachments: [{ id: 0, filename: `avatar-${entry.member.userId}.${format}`, description: alt }],
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
        .dm(
          entry.member.userId,
          { content: clip(`Your avatar for **${escapeUserText(event.name, 80)}**`), attachments: message.attachments },
          [file()],
        )
        .catch((err: unknown) => this.#log.info({ err: safeRestError(err) }, 'could not DM an event avatar'));
    }
    await this.#editJoinReply(
      entry.route,
      `Your **${escapeUserText(event.name, 80)}** avatar is ready${threadId ? ` in <#${threadId}>` : ''}.`,
    );
  }

  async #tellFailure(
    event: AvatarEvent,
    userId: string,
    route: Readonly<Record<string, string>>,
    error: ErrorPayload,
  ): Promise<void> {
    // One selfie per entry: the sentence says "your selfie".
    const { selfie: _selfie, ...details } = error.details;
    const sentence = `**${escapeUserText(event.name, 80)}**: ${errorSentence({ ...error, details })}`;
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

/** Two lines about an event: name, status and dates; the theme. */
function summary(event: AvatarEvent, status = event.status): string {
  const t = (ms: number) => `<t:${Math.floor(ms / 1000)}:f>`;
  return [
    `**${escapeUserText(event.name, 80)}** · ${STATUS_WORDS[status]} · ${t(event.startsAt)} to ${t(event.endsAt)}`,
    `Theme: ${escapeUserText(describeTheme(event.theme), 600)} · ${event.entriesPerMember} avatar${
      event.entriesPerMember === 1 ? '' : 's'
    } per member · results kept ${event.retentionDays} days after the end`,
  ].join('\n');
}
