import { Buffer } from 'node:buffer';
import type { AvatarEvent, EventPatch } from '../../avatar-events/definition.js';
import type { EventUpdate } from '../../avatar-events/scheduler.js';
import type { AvatarEventService, EventCaller } from '../../avatar-events/service.js';
import { avatarAlt, EventCommands, eventTexts, type RawEventOptions } from '../../conversation/event-commands.js';
import type { Requester } from '../../core/request.js';
import { type ErrorPayload, PortraitError } from '../../errors.js';
import { declaredSlackFile, type SlackFile } from './files.js';
import { bold, escapeMrkdwn } from './mrkdwn.js';
import { errName, errorText, REACTIONS, react, type SlackContext, startPortrait } from './portraits.js';

/**
 * Community avatar events on Slack, by mention:
 *   @portrait event create <name> pose: ..., lighting: ..., ends: in 7 days, entries: 1, frame: gold, retention: 30d
 *   @portrait event edit|open|close|status|gallery|export <name>      @portrait event delete <name> confirm
 *   @portrait event preview <name>  (with your selfie attached)
 *   @portrait join <name> [dm]      (with your selfie attached)        @portrait leave <name>
 * Organisers are workspace admins and owners, members of a user group in SLACK_EVENT_GROUPS, the event's creator
 * and the groups or people it names. The event's avatars go to the thread where it was created (and by DM to members
 * who ask); a member's join gets a status message in their thread that ends as "ready" or as the refusal sentence.
 */

export const EVENT_USAGE = [
  '@Portrait event create Winter party pose: three-quarter left, lighting: golden hour, ends: in 7 days',
  '@Portrait event open|close|status|gallery|export Winter party · @Portrait event delete Winter party confirm',
  '@Portrait event preview Winter party (attach your selfie) · @Portrait event edit Winter party lighting: neon',
  'Members: @Portrait join Winter party (attach a selfie; add "dm" to get it by direct message) · @Portrait leave Winter party',
];

const KEYS: Readonly<Record<string, keyof EventPatch | 'organisers'>> = {
  name: 'name',
  pose: 'pose',
  lighting: 'lighting',
  light: 'lighting',
  style: 'style',
  starts: 'startsAt',
  start: 'startsAt',
  ends: 'endsAt',
  end: 'endsAt',
  entries: 'entriesPerMember',
  frame: 'frameColour',
  retention: 'retentionDays',
  keep: 'retentionDays',
  engine: 'engine',
  size: 'size',
  format: 'format',
  organisers: 'organisers',
  organizers: 'organisers',
  managers: 'organisers',
};

export type EventMention =
  | { kind: 'join'; name: string; dm: boolean }
  | { kind: 'leave'; name: string }
  | { kind: 'help' }
  | {
      kind: 'manage';
      sub: 'create' | 'edit' | 'preview' | 'open' | 'close' | 'delete' | 'status' | 'gallery' | 'export';
      name: string;
      options: Record<string, string>;
      confirm: boolean;
      page: number;
    };

const SUBS = ['create', 'edit', 'preview', 'open', 'close', 'delete', 'status', 'gallery', 'export'] as const;

/** Whether a mention's text (mentions removed) is an event command rather than a portrait prompt. */
export function isEventMention(text: string): boolean {
  return /^(?:event|events|join|leave)(?:\s|$)/i.test(text.trim());
}

/**
 * Parses an event mention (plain text, bot mention removed). Never throws: unknown sub-commands come back as help.
 * `options` keys are the canonical ones of KEYS, values as typed.
 */
export function parseEventMention(text: string): EventMention {
  const t = text.trim();
  const join = /^join\b\s*(.*)$/is.exec(t);
  if (join) {
    let rest = (join[1] ?? '').trim();
    const dm = /(?:^|\s)(?:by\s+)?dm(?:\s+me)?$/i.test(rest);
    if (dm) rest = rest.replace(/(?:^|\s)(?:by\s+)?dm(?:\s+me)?$/i, '').trim();
    return { kind: 'join', name: unquote(rest), dm };
  }
  const leave = /^leave\b\s*(.*)$/is.exec(t);
  if (leave) return { kind: 'leave', name: unquote(leave[1] ?? '') };
  const m = /^events?\b\s*(\w*)\s*(.*)$/is.exec(t);
  const sub = (m?.[1] ?? '').toLowerCase();
  if (!m || !(SUBS as readonly string[]).includes(sub)) return { kind: 'help' };
  let rest = (m[2] ?? '').trim();
  let confirm = false;
  let page = 1;
  if (sub === 'delete' && /\s*\bconfirm$/i.test(rest)) {
    confirm = true;
    rest = rest.replace(/\s*\bconfirm$/i, '');
  }
  const pageMatch = /\s*\bpage\s+(\d+)$/i.exec(rest);
  if (sub === 'gallery' && pageMatch) {
    page = Number(pageMatch[1]);
    rest = rest.slice(0, pageMatch.index);
  }
  const keyRe = new RegExp(`(?:^|[\\s,;])(${Object.keys(KEYS).join('|')})\\s*:`, 'gi');
  const marks = [...rest.matchAll(keyRe)];
  const name = unquote((marks[0] ? rest.slice(0, marks[0].index) : rest).replace(/[,;]\s*$/, ''));
  const options: Record<string, string> = {};
  for (const [n, mark] of marks.entries()) {
    const start = (mark.index ?? 0) + mark[0].length;
    const end = marks[n + 1]?.index ?? rest.length;
    const key = KEYS[(mark[1] ?? '').toLowerCase()];
    if (key) options[key] = rest.slice(start, end).trim().replace(/[,;]$/, '').trim();
  }
  return { kind: 'manage', sub: sub as (typeof SUBS)[number], name, options, confirm, page };
}

function unquote(s: string): string {
  return s
    .trim()
    .replace(/^["“'](.*)["”']$/s, '$1')
    .trim();
}

/** A mention as the adapter received it. */
export interface EventMentionMessage {
  channel: string;
  ts: string;
  /** Thread root of the mention (its own ts when not in a thread). */
  thread: string;
  user: string;
  team: string;
  /** Plain text with mentions removed. */
  text: string;
  /** The raw text (user-group mentions name organisers). */
  raw: string;
  files: readonly SlackFile[];
}

export interface SlackEventsOptions {
  ctx: SlackContext;
  events: AvatarEventService;
  /** SLACK_EVENT_GROUPS. */
  organiserGroups: readonly string[];
}

/** A time Slack shows in the reader's own zone, with a UTC fallback for clients that cannot. */
const slackTime = (ms: number) =>
  `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString().slice(0, 16)} UTC>`;

/** Slack mrkdwn for the shared event sentences. */
const texts = eventTexts({
  bold,
  text: (t) => escapeMrkdwn(t),
  time: slackTime,
  user: (id) => `<@${id}>`,
});
/** Slack takes files up to 1 GB; parts keep a large export's memory bounded. */
const EXPORT_PART_BYTES = 200 * 1024 * 1024;

export class SlackEvents {
  readonly #o: SlackEventsOptions;
  readonly #ctx: SlackContext;
  readonly #commands: EventCommands;

  constructor(options: SlackEventsOptions) {
    this.#o = options;
    this.#ctx = options.ctx;
    this.#commands = new EventCommands({ events: options.events, conversation: options.ctx.conversation });
  }

  /** Handles an event mention; every failure ends as a sentence in the thread. Never throws. */
  async handleMention(m: EventMentionMessage): Promise<void> {
    const parsed = parseEventMention(m.text);
    try {
      switch (parsed.kind) {
        case 'help':
          await this.#say(m, EVENT_USAGE.map((l) => `• ${escapeMrkdwn(l)}`).join('\n'));
          return;
        case 'join':
          return await this.#join(m, parsed.name, parsed.dm);
        case 'leave':
          return await this.#leave(m, parsed.name);
        case 'manage':
          return await this.#manage(m, parsed);
      }
    } catch (err) {
      await this.#say(m, errorText(this.#ctx, err, 'event command', 1)).catch((e: unknown) =>
        this.#ctx.log.warn({ err: errName(e) }, 'slack: could not answer an event command'),
      );
    }
  }

  async #say(m: Pick<EventMentionMessage, 'channel' | 'thread'>, text: string): Promise<string | undefined> {
    const r = await this.#ctx.client.chat.postMessage({ channel: m.channel, thread_ts: m.thread, text });
    return r.ts;
  }

  /** Admin flag from users.info; roles: the organiser groups (and the event's groups) the user is in. */
  async #caller(m: EventMentionMessage, event?: AvatarEvent): Promise<EventCaller> {
    const { client } = this.#ctx;
    let isAdmin = false;
    try {
      const info = await client.users.info({ user: m.user });
      const u = info.user as { is_admin?: boolean; is_owner?: boolean; is_primary_owner?: boolean } | undefined;
      isAdmin = Boolean(u?.is_admin || u?.is_owner || u?.is_primary_owner);
    } catch (err) {
      this.#ctx.log.warn({ err: errName(err) }, 'slack: users.info failed (scope users:read?)');
    }
    const groups = new Set([...this.#o.organiserGroups, ...(event?.managers ?? []).filter((g) => /^S/.test(g))]);
    const roleIds: string[] = [];
    for (const usergroup of groups) {
      try {
        const r = await client.usergroups.users.list({ usergroup });
        if ((r.users ?? []).includes(m.user)) roleIds.push(usergroup);
      } catch (err) {
        this.#ctx.log.warn({ err: errName(err) }, 'slack: usergroups.users.list failed (scope usergroups:read?)');
      }
    }
    return { platform: 'slack', userId: m.user, scopeId: m.team, isAdmin, roleIds };
  }

  #member(m: EventMentionMessage): Requester {
    return { platform: 'slack', userId: m.user, scopeId: m.team };
  }

  /** The typed `key: value` options as the shared commands read them; organisers from the mention's own ids. */
  #patch(m: EventMentionMessage, options: Record<string, string>) {
    const raw: RawEventOptions = {
      name: options['name'],
      pose: options['pose'],
      lighting: options['lighting'],
      style: options['style'],
      engine: options['engine'],
      format: options['format'],
      frameColour: options['frameColour'],
      starts: options['startsAt'],
      ends: options['endsAt'],
      retention: options['retentionDays'],
      entries: options['entriesPerMember'],
      size: options['size'],
    };
    // Organisers: user-group mentions (<!subteam^S123|@group>), user mentions and plain ids.
    if (options['organisers'] !== undefined) {
      raw.managers = [
        ...[...m.raw.matchAll(/<!subteam\^([A-Z0-9]+)/g)].map((x) => x[1] ?? ''),
        ...[...m.raw.matchAll(/<@([A-Z0-9]+)>/g)].map((x) => x[1] ?? '').filter((id) => id !== m.user),
        ...options['organisers'].split(/[\s,]+/).filter((x) => /^[SUW][A-Z0-9]{2,}$/.test(x)),
      ];
    }
    return this.#commands.patch(raw);
  }

  async #manage(m: EventMentionMessage, p: Extract<EventMention, { kind: 'manage' }>): Promise<void> {
    const { events } = this.#o;
    switch (p.sub) {
      case 'create': {
        const caller = await this.#caller(m);
        const destination = { channelId: m.channel, threadId: m.thread };
        const checked = this.#commands.checkDraft(caller, { ...this.#patch(m, p.options), name: p.name }, destination);
        const event = await events.create(caller, checked.input);
        await this.#say(
          m,
          `${texts.summary(event, event.status)}\nTry it with \`@Portrait event preview ${escapeMrkdwn(event.name)}\` and a selfie, then \`@Portrait event open ${escapeMrkdwn(
            event.name,
          )}\`. Avatars will be posted in this thread.`,
        );
        return;
      }
      case 'edit': {
        const before = await events.find('slack', m.team, p.name);
        const event = await events.edit(await this.#caller(m, before), before.name, this.#patch(m, p.options));
        await this.#say(m, texts.updated(texts.summary(event, event.status)));
        return;
      }
      case 'open': {
        const before = await events.find('slack', m.team, p.name);
        const event = await events.open(await this.#caller(m, before), before.name);
        await this.#say(
          m,
          `:camera_with_flash: ${texts.opened(event, `Mention me with \`join ${escapeMrkdwn(event.name)}\``)}`,
        );
        return;
      }
      case 'close': {
        const before = await events.find('slack', m.team, p.name);
        const { event, progress } = await this.#commands.close(await this.#caller(m, before), before.name);
        await this.#say(m, texts.closed(event, progress));
        return;
      }
      case 'delete': {
        const before = await events.find('slack', m.team, p.name);
        const caller = await this.#caller(m, before);
        if (!events.canManage(caller, before)) throw new PortraitError('event.not_allowed', 'x', { name: before.name });
        if (!p.confirm) {
          await this.#say(
            m,
            texts.deleteConfirm(before, `\`@Portrait event delete ${escapeMrkdwn(before.name)} confirm\``),
          );
          return;
        }
        const { event, removedKeys } = await events.delete(caller, before.name);
        await this.#say(m, texts.deleted(event, removedKeys));
        return;
      }
      case 'status': {
        const target = await events.find('slack', m.team, p.name || undefined);
        const report = await this.#commands.status(await this.#caller(m, target), target);
        const lines = [texts.summary(report.event, report.status)];
        if (report.progress) lines.push(texts.progress(report.progress));
        await this.#say(m, lines.join('\n'));
        return;
      }
      case 'gallery': {
        const target = await events.find('slack', m.team, p.name || undefined);
        const { event, count, page } = await this.#commands.gallery(await this.#caller(m, target), target.name, p.page);
        if (!page) {
          await this.#say(m, texts.noAvatars(event));
          return;
        }
        await this.#ctx.client.files.uploadV2({
          channel_id: m.channel,
          thread_ts: m.thread,
          initial_comment: texts.gallery(event, count, page),
          file_uploads: [
            {
              file: Buffer.from(page.image),
              filename: `gallery-${page.page}.${page.format === 'jpeg' ? 'jpg' : page.format}`,
              title: `${event.name} gallery`,
              alt_text: page.alt.slice(0, 1000),
            },
          ],
        });
        return;
      }
      case 'export': {
        const target = await events.find('slack', m.team, p.name || undefined);
        const caller = await this.#caller(m, target);
        const { event, parts } = await this.#commands.export(caller, target.name, EXPORT_PART_BYTES);
        // The zip lists member ids: it goes to the organiser's direct messages, not the channel.
        const dm = await this.#dmChannel(m.user);
        for await (const part of parts) {
          await this.#ctx.client.files.uploadV2({
            channel_id: dm ?? m.channel,
            ...(dm ? {} : { thread_ts: m.thread }),
            initial_comment: texts.exportPart(event, part.files, part.missing),
            file_uploads: [{ file: Buffer.from(part.zip), filename: part.fileName, title: part.fileName }],
          });
        }
        if (dm) await this.#say(m, texts.exportSent(event));
        return;
      }
      case 'preview': {
        const target = await events.find('slack', m.team, p.name);
        const { event, request } = await events.preview(await this.#caller(m, target), target.name);
        // An ordinary portrait in the theme, through the adapter's own flow (status, upload, buttons).
        await startPortrait(this.#ctx, {
          requester: this.#member(m),
          channel: m.channel,
          thread: m.thread,
          message: m.ts,
          source: { files: m.files },
          fields: {
            pose: request.pose ?? event.theme.pose,
            lighting: request.lighting ?? event.theme.lighting,
            ...(event.theme.style ? { style: event.theme.style } : {}),
            variations: 1,
          },
          idempotencyKey: `slack-${m.team}-${m.channel}-${m.ts}`,
        });
        return;
      }
    }
  }

  async #join(m: EventMentionMessage, name: string, dm: boolean): Promise<void> {
    const member = this.#member(m);
    // Refuse a closed or unknown event, or a message without a photo, before downloading anything.
    const files = m.files.map((file) => ({ ...declaredSlackFile(file), file }));
    const { event, file } = await this.#commands.joinable(member, name || undefined, files, 'message');
    const [status] = await Promise.all([
      this.#say(m, `:hourglass_flowing_sand: ${texts.joining(event)}`),
      react(this.#ctx, m.channel, m.ts, REACTIONS.seen),
    ]);
    try {
      const receipt = await this.#commands.join(event, file, {
        member,
        displayName: await this.#displayName(m.user),
        dm,
        route: { channel: m.channel, status: status ?? '', message: m.ts },
      });
      await this.#update(
        m.channel,
        status,
        `:hourglass_flowing_sand: ${texts.joined(receipt, "in the event's thread")}`,
      );
    } catch (err) {
      await this.#update(m.channel, status, errorText(this.#ctx, err, 'event join', 1));
      await react(this.#ctx, m.channel, m.ts, REACTIONS.failed);
    }
  }

  async #leave(m: EventMentionMessage, name: string): Promise<void> {
    const { event, entries } = await this.#commands.leave(this.#member(m), name || undefined);
    await this.#say(m, texts.left(event, entries));
  }

  async #displayName(user: string): Promise<string> {
    try {
      const info = await this.#ctx.client.users.info({ user });
      const u = info.user as { profile?: { display_name?: string; real_name?: string }; name?: string } | undefined;
      return u?.profile?.display_name || u?.profile?.real_name || u?.name || user;
    } catch {
      return user;
    }
  }

  async #update(channel: string, ts: string | undefined, text: string): Promise<void> {
    if (!ts) return;
    await this.#ctx.client.chat
      .update({ channel, ts, text })
      .catch((e: unknown) => this.#ctx.log.warn({ err: errName(e) }, 'slack: event status edit failed'));
  }

  async #dmChannel(user: string): Promise<string | undefined> {
    try {
      const r = await this.#ctx.client.conversations.open({ users: user });
      return (r.channel as { id?: string } | undefined)?.id;
    } catch (err) {
      this.#ctx.log.info({ err: errName(err) }, 'slack: no direct message channel (scope im:write?)');
      return undefined;
    }
  }

  // ------------------------------------------------------------------------------------------------ updates

  /**
   * An entry's outcome, from the event scheduler. The avatar is uploaded into the event's thread (and by DM when
   * asked) and the member's join status says it is ready; a refusal turns the join status into its sentence, which
   * only says what to do about the photo. A throw makes the scheduler's delivery retry.
   */
  readonly onUpdate = async (update: EventUpdate): Promise<void> => {
    if (update.event.platform !== 'slack') return;
    const { event, entry } = update;
    const route = entry.route;
    if (update.kind === 'failure') {
      await this.#tellFailure(event, entry.member.userId, route, update.error);
      return;
    }
    const format = entry.result?.format ?? 'webp';
    const upload = (channel_id: string, thread_ts: string | undefined, comment: string) =>
      this.#ctx.client.files.uploadV2({
        channel_id,
        ...(thread_ts ? { thread_ts } : {}),
        initial_comment: comment,
        file_uploads: [
          {
            file: Buffer.from(update.image),
            filename: `avatar-${entry.member.userId}.${format}`,
            title: `${entry.displayName} · ${event.name}`,
            alt_text: avatarAlt(event, entry.displayName),
          },
        ],
      });
    await upload(event.destination.channelId, event.destination.threadId, texts.avatarFor(event, entry.member.userId));
    if (entry.dm) {
      const dm = await this.#dmChannel(entry.member.userId);
      if (dm) {
        await upload(dm, undefined, texts.yourAvatar(event)).catch((e: unknown) =>
          this.#ctx.log.info({ err: errName(e) }, 'slack: could not DM an event avatar'),
        );
      }
    }
    if (route['channel'] && route['status']) {
      await this.#update(
        route['channel'],
        route['status'],
        `:white_check_mark: ${texts.ready(event, " in the event's thread")}`,
      );
      if (route['message']) await react(this.#ctx, route['channel'], route['message'], REACTIONS.done);
    }
  };

  async #tellFailure(
    event: AvatarEvent,
    userId: string,
    route: Readonly<Record<string, string>>,
    error: ErrorPayload,
  ): Promise<void> {
    const text = `:warning: ${texts.refused(event, error)}`;
    if (route['channel'] && route['status']) {
      await this.#ctx.client.chat.update({ channel: route['channel'], ts: route['status'], text });
      if (route['message']) await react(this.#ctx, route['channel'], route['message'], REACTIONS.failed);
      return;
    }
    await this.#ctx.client.chat.postEphemeral({
      channel: event.destination.channelId,
      user: userId,
      text,
      ...(event.destination.threadId ? { thread_ts: event.destination.threadId } : {}),
    });
  }
}
