import {
  type AvatarEvent,
  checkEntryWindow,
  describeTheme,
  type EventDestination,
  type EventDraftInput,
  type EventPatch,
  type EventStatus,
  parseEventTime,
  parseRetentionDays,
  validateEventDraft,
} from '../avatar-events/definition.js';
import { exportParts, renderEventGallery } from '../avatar-events/gallery.js';
import type { AvatarEventService, EventCaller, JoinReceipt } from '../avatar-events/service.js';
import type { EventProgress } from '../avatar-events/store.js';
import { describeError } from '../core/messages.js';
import type { Requester } from '../core/request.js';
import { type ErrorPayload, PortraitError } from '../errors.js';
import type { DeclaredFile } from './files.js';
import type { Conversation } from './requests.js';

/**
 * The avatar-event commands, once for every platform: what each sub-command checks and calls on the event service
 * (src/avatar-events), and every sentence it answers with. The adapters parse their input (Discord's slash-command
 * options, a Slack mention's text) into a `RawEventOptions`, say who the caller is (each platform has its own notion
 * of admins and groups), and render through their `Markup` (Discord markdown, Slack mrkdwn).
 */

/** How a platform formats the parts of a sentence: bold names, user text made inert, times, mentions. */
export interface Markup {
  bold(text: string): string;
  /** User text made inert for the platform (escaped, bounded). */
  text(text: string, max?: number): string;
  /** A point in time the client shows in the reader's own time zone. */
  time(ms: number): string;
  /** A member mention that pings nobody (messages are sent with mentions disabled). */
  user(id: string): string;
}

/** The create/edit options as typed; any may be missing. Numbers may come typed (Discord) or as text (Slack). */
export interface RawEventOptions {
  name?: string | undefined;
  pose?: string | undefined;
  lighting?: string | undefined;
  style?: string | undefined;
  engine?: string | undefined;
  format?: string | undefined;
  frameColour?: string | undefined;
  starts?: string | undefined;
  ends?: string | undefined;
  retention?: string | undefined;
  entries?: string | number | undefined;
  size?: string | number | undefined;
  /** Role, group or user ids that may manage the event too. */
  managers?: readonly string[] | undefined;
}

/** The platform's word for an event's status. */
export const STATUS_WORDS: Readonly<Record<EventStatus, string>> = {
  draft: 'draft (not open yet)',
  open: 'open',
  closed: 'closed',
};

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Every sentence the event commands answer with, in one place, formatted through a platform's markup. */
export function eventTexts(m: Markup) {
  const name = (event: Pick<AvatarEvent, 'name'>) => m.bold(event.name);
  return {
    /** Two lines about an event: name, status and dates; the theme. */
    summary: (event: AvatarEvent, status: EventStatus) =>
      [
        `${name(event)} · ${STATUS_WORDS[status]} · ${m.time(event.startsAt)} to ${m.time(event.endsAt)}`,
        `Theme: ${m.text(describeTheme(event.theme), 600)} · ${plural(event.entriesPerMember, 'avatar')} per member · results kept ${event.retentionDays} days after the end`,
      ].join('\n'),
    /** The organisers' progress line under a status. */
    progress: (g: EventProgress) =>
      `Entrants: ${g.entrants} · avatars: ${g.avatars} · waiting: ${g.pending} · being made: ${g.running} · refused: ${g.failed}`,
    /** The announcement when an event opens; `join` says how to join on this platform. */
    opened: (event: AvatarEvent, join: string, where = '') =>
      `${name(event)} is open until ${m.time(event.endsAt)}! ${join} and a selfie: everyone gets an avatar with ${m.text(describeTheme(event.theme), 300)}.${where}`,
    closed: (event: AvatarEvent, g: EventProgress) => {
      const busy = g.pending + g.running;
      return `${name(event)} is closed: ${plural(g.avatars, 'avatar')} from ${plural(g.entrants, 'member')}.${busy > 0 ? ` ${busy} still being made.` : ''}`;
    },
    deleteConfirm: (event: AvatarEvent, how: string) =>
      `This deletes ${name(event)} with every photo and avatar. To go ahead: ${how}`,
    deleted: (event: AvatarEvent, removedKeys: number) =>
      `Deleted ${name(event)} with every photo and avatar (${plural(removedKeys, 'stored file')}).`,
    kept: 'Nothing was deleted.',
    updated: (summary: string) => `Updated.\n${summary}`,
    noAvatars: (event: AvatarEvent) => `No avatars in ${name(event)} yet.`,
    gallery: (event: AvatarEvent, count: number, page: { page: number; pages: number }) =>
      `${name(event)}: ${plural(count, 'avatar')}${page.pages > 1 ? ` (page ${page.page} of ${page.pages})` : ''}`,
    exportPart: (event: AvatarEvent, files: number, missing = 0) =>
      `${plural(files, 'avatar')} of ${name(event)} with a CSV manifest${missing ? ` (${missing} could not be read)` : ''}.`,
    exportSent: (event: AvatarEvent) => `Sent you the export of ${name(event)} by direct message.`,
    previewQueued: (event: AvatarEvent, position: number) =>
      `Preview of ${name(event)} queued (position ${position}); it shows up here.`,
    joining: (event: AvatarEvent) => `Joining ${name(event)}...`,
    joined: (receipt: JoinReceipt, where: string) => {
      const ahead = receipt.position > 1 ? ` ${receipt.position - 1} ahead of you.` : '';
      const dm = receipt.entry.dm ? ' and sent to you by direct message' : '';
      return `${receipt.replaced ? 'Your new photo replaces the earlier one' : "You're in"}: your ${name(receipt.event)} avatar will be posted ${where}${dm}.${ahead}`;
    },
    left: (event: AvatarEvent, entries: number) =>
      entries > 0
        ? `You left ${name(event)}: your photo and avatar are deleted.`
        : `You had no entry in ${name(event)}.`,
    avatarFor: (event: AvatarEvent, userId: string) => `Avatar for ${m.user(userId)} · ${name(event)}`,
    yourAvatar: (event: AvatarEvent) => `Your avatar for ${name(event)}`,
    ready: (event: AvatarEvent, where: string) => `Your ${name(event)} avatar is ready${where}.`,
    /** A refused entry: the event's name and the sentence about the photo (one selfie per entry: "your selfie"). */
    refused: (event: AvatarEvent, error: ErrorPayload) => {
      const { selfie: _one, ...details } = error.details;
      const sentence = describeError({ code: error.code, details, ...(error.refId ? { refId: error.refId } : {}) });
      return `${name(event)}: ${m.text(sentence, 1000)}`;
    },
  };
}

/** Alt text of an avatar upload (screen readers). */
export function avatarAlt(event: AvatarEvent, displayName: string): string {
  return `Avatar of ${displayName} for ${event.name}: ${describeTheme(event.theme)}`.slice(0, 1000);
}

export interface EventCommandsOptions {
  events: AvatarEventService;
  conversation: Conversation;
}

/** The sub-commands' logic. Throws PortraitErrors the adapter answers with their sentence. */
export class EventCommands {
  readonly events: AvatarEventService;
  readonly #conversation: Conversation;

  constructor(o: EventCommandsOptions) {
    this.events = o.events;
    this.#conversation = o.conversation;
  }

  /** The typed create/edit options as an event patch: times and retention parsed, numbers checked. */
  patch(raw: RawEventOptions): EventPatch {
    const now = this.#conversation.now();
    const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: PortraitError }): T => {
      if (!r.ok) throw r.error;
      return r.value;
    };
    const whole = (value: string | number | undefined, option: string): number | undefined => {
      if (value === undefined) return undefined;
      const n = typeof value === 'number' ? value : Number(value.trim());
      if (!Number.isInteger(n)) {
        throw new PortraitError('request.bad_option', option, {
          option,
          expected: 'a whole number',
          got: String(value).slice(0, 40),
        });
      }
      return n;
    };
    const patch: EventPatch = {};
    const set = <K extends keyof EventPatch>(k: K, v: EventPatch[K] | undefined) => {
      if (v !== undefined) patch[k] = v;
    };
    const text = (v: string | undefined) => v?.trim() || undefined;
    set('name', text(raw.name));
    set('pose', text(raw.pose));
    set('lighting', text(raw.lighting));
    set('style', text(raw.style));
    set('engine', text(raw.engine) as EventPatch['engine']);
    set('format', text(raw.format) as EventPatch['format']);
    set('frameColour', text(raw.frameColour));
    set('entriesPerMember', whole(raw.entries, 'entries per member'));
    set('size', whole(raw.size, 'size'));
    const starts = text(raw.starts);
    const ends = text(raw.ends);
    const retention = text(raw.retention);
    if (starts) patch.startsAt = unwrap(parseEventTime(starts, now, 'start'));
    if (ends) patch.endsAt = unwrap(parseEventTime(ends, now, 'end'));
    if (retention) patch.retentionDays = unwrap(parseRetentionDays(retention));
    if (raw.managers !== undefined) patch.managers = [...new Set(raw.managers.filter(Boolean))];
    return patch;
  }

  /**
   * A new event's draft checked completely (organiser rights, name, theme, dates) before the platform posts anything,
   * so a typo never leaves an empty thread behind.
   */
  checkDraft(caller: EventCaller, patch: EventPatch, destination: EventDestination) {
    if (!this.events.canManage(caller)) throw new PortraitError('event.not_allowed', 'not an organiser', {});
    const input: EventDraftInput = { ...patch, name: patch.name ?? '', destination };
    const check = validateEventDraft(input, {
      now: this.#conversation.now(),
      defaultEngine: this.#conversation.catalogue.engine,
    });
    if (!check.ok) throw check.error;
    return { name: check.value.name, input };
  }

  /** Status for anyone; the progress numbers only for those who may manage the event. */
  async status(caller: EventCaller, event: AvatarEvent) {
    const report = await this.events.status(caller.platform, caller.scopeId, event.name);
    return { ...report, progress: this.events.canManage(caller, report.event) ? report.progress : undefined };
  }

  /** Closes the event; its final counts come with it. */
  async close(caller: EventCaller, name: string) {
    const event = await this.events.close(caller, name);
    const { progress } = await this.events.organiserStatus(caller, event.name);
    return { event, progress };
  }

  /**
   * The checks of a join before anything is downloaded: the event exists and takes entries now, and the photo is
   * one (the first of the message's photos on platforms where a message carries several).
   */
  async joinable<F extends DeclaredFile>(
    member: Requester,
    name: string | undefined,
    files: readonly F[],
    source: 'slots' | 'message',
  ): Promise<{ event: AvatarEvent; file: F }> {
    const event = await this.events.find(member.platform, member.scopeId, name);
    const window = checkEntryWindow(event, this.#conversation.now());
    if (!window.ok) throw window.error;
    const [file] = this.#conversation.selfies(files, source);
    if (!file) throw new PortraitError('request.no_selfie', 'no selfie');
    return { event, file };
  }

  /** Downloads the selfie and joins (or redoes the member's entry). */
  async join(
    event: AvatarEvent,
    file: DeclaredFile,
    o: { member: Requester; displayName: string; dm: boolean; route: Record<string, string> },
  ): Promise<JoinReceipt> {
    const selfie = await this.#conversation.download(file);
    return this.events.join(event.name, { ...o, selfie });
  }

  /** A page of the event's contact sheet; `page` undefined when nobody has an avatar yet. */
  async gallery(caller: EventCaller, name: string | undefined, page: number) {
    const { event, entries, readImage } = await this.events.gallery(caller, name);
    if (entries.length === 0) return { event, count: 0, page: undefined };
    return { event, count: entries.length, page: await renderEventGallery(event, entries, readImage, page) };
  }

  /** The export as zips of at most `maxBytes` (a platform's upload limit), one part at a time. */
  async export(caller: EventCaller, name: string | undefined, maxBytes: number) {
    const { event, entries, readImage } = await this.events.gallery(caller, name);
    return { event, parts: exportParts(event, entries, readImage, maxBytes) };
  }

  /** Leaves; how many entries went. */
  async leave(member: Requester, name: string | undefined): Promise<{ event: AvatarEvent; entries: number }> {
    const event = await this.events.find(member.platform, member.scopeId, name);
    return { event, entries: await this.events.leave(member, event.name) };
  }
}
