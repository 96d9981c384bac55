import { z } from 'zod';
import { PortraitError } from '../errors.js';
import { parseLighting } from './lighting.js';
import { checkPoseForEngine, parsePose } from './pose.js';
import {
  ENGINE_NAMES,
  type EngineName,
  OUTPUT_FORMATS,
  type OutputFormat,
  PLATFORMS,
  type PortraitRequestInput,
} from './request.js';
import { checkStyleForEngine } from './style.js';

/**
 * Community avatar events as data: an organiser picks one theme (pose, lighting, style, engine, output) and every
 * member who joins gets a portrait in it. This module is pure and platform-neutral: the schema, validation of what an
 * organiser types (with the same pose and lighting parsers as /portrait, so the same typo suggestions), status
 * transitions, the entry window and who may manage an event. Storage lives in src/queue/events.ts, the chat commands
 * in src/bots/<platform>/events.ts.
 */

export const EVENT_STATUSES = ['draft', 'open', 'closed'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const MAX_ENTRIES_PER_MEMBER = 10;
export const MAX_RETENTION_DAYS = 365;
export const DEFAULT_RETENTION_DAYS = 30;
/** An event without an end runs this long. */
export const DEFAULT_EVENT_DAYS = 7;
const DAY_MS = 24 * 3600 * 1000;
export const EVENT_NAME_MAX = 80;

const id64 = z.string().min(1).max(64);
const hexColour = z.string().regex(/^#[0-9a-f]{6}$/, 'expected a colour such as #ff8800');

export const eventThemeSchema = z.object({
  /** Canonical pose label (src/core/pose.ts), e.g. 'three-quarter left' or 'yaw=20 pitch=-5'. */
  pose: z.string().max(200).default('front'),
  /** Canonical lighting label (src/core/lighting.ts), e.g. 'golden hour' or 'key from left, warm'. */
  lighting: z.string().max(200).default('studio'),
  style: z.string().max(500).default(''),
  /** Unset: the worker's default engine. */
  engine: z.enum(ENGINE_NAMES).optional(),
  output: z.object({ size: z.number().int().min(64).max(2048), format: z.enum(OUTPUT_FORMATS) }).optional(),
  /** Frame drawn around every avatar in the gallery (and the event's accent colour), '#rrggbb'. */
  frameColour: hexColour.optional(),
});
export type EventTheme = z.infer<typeof eventThemeSchema>;

export const eventDestinationSchema = z.object({
  /** Discord channel id, Slack channel id. */
  channelId: id64,
  /** Discord thread (channel) id, Slack thread_ts. Unset: results go to the channel itself. */
  threadId: id64.optional(),
});
export type EventDestination = z.infer<typeof eventDestinationSchema>;

export const eventSchema = z.object({
  id: z.string().regex(/^ev[0-9a-z]{4,40}$/),
  platform: z.enum(PLATFORMS),
  /** Discord guild id, Slack team id: events are per community. */
  scopeId: id64,
  name: z.string().min(1).max(EVENT_NAME_MAX),
  theme: eventThemeSchema,
  /** Epoch milliseconds. Entries are taken from startsAt (inclusive) to endsAt (exclusive) while open. */
  startsAt: z.number().int(),
  endsAt: z.number().int(),
  /** How many avatars one member may hold; a submission beyond it replaces their oldest. */
  entriesPerMember: z.number().int().min(1).max(MAX_ENTRIES_PER_MEMBER).default(1),
  /** Extra organisers: Discord role ids or user ids, Slack user-group ids or user ids. */
  managers: z.array(id64).max(25).default([]),
  createdBy: id64,
  destination: eventDestinationSchema,
  status: z.enum(EVENT_STATUSES).default('draft'),
  /** Results are removed this many days after the event ends (or is closed), or when it is deleted. */
  retentionDays: z.number().int().min(1).max(MAX_RETENTION_DAYS).default(DEFAULT_RETENTION_DAYS),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  closedAt: z.number().int().optional(),
});
export type AvatarEvent = z.infer<typeof eventSchema>;

export type EventResult<T> = { ok: true; value: T } | { ok: false; error: PortraitError };
const ok = <T>(value: T): EventResult<T> => ({ ok: true, value });
const fail = <T>(error: PortraitError): EventResult<T> => ({ ok: false, error });
const badOption = <T>(option: string, expected: string, got?: string): EventResult<T> =>
  fail(
    new PortraitError('request.bad_option', `${option}: ${expected}`, {
      option,
      expected,
      ...(got === undefined ? {} : { got }),
    }),
  );

/** What an organiser supplies, as typed in chat (times already parsed, see parseEventTime). */
export interface EventDraftInput {
  name: string;
  pose?: string;
  lighting?: string;
  style?: string;
  engine?: string;
  size?: number;
  format?: string;
  frameColour?: string;
  startsAt?: number;
  endsAt?: number;
  entriesPerMember?: number;
  managers?: readonly string[];
  retentionDays?: number;
  destination: EventDestination;
}

/** The validated definition, without the identity and bookkeeping fields the store adds. */
export type EventFields = Omit<AvatarEvent, 'id' | 'platform' | 'scopeId' | 'createdBy' | 'createdAt' | 'updatedAt'>;

export interface EventValidationContext {
  now: number;
  /** The engine used when the theme names none (PORTRAIT_ENGINE): its pose limits apply. */
  defaultEngine: EngineName;
}

/**
 * Validates a new event. Never throws: the first problem comes back as a PortraitError whose sentence
 * (src/core/messages.ts) tells the organiser what to type instead. Pose and lighting are stored as their canonical
 * labels, so the gallery and every entry show the same words.
 */
export function validateEventDraft(input: EventDraftInput, ctx: EventValidationContext): EventResult<EventFields> {
  const name = cleanName(input.name);
  if (!name.ok) return name;
  const theme = validateTheme(input, ctx.defaultEngine);
  if (!theme.ok) return theme;
  const startsAt = input.startsAt ?? ctx.now;
  const endsAt = input.endsAt ?? startsAt + DEFAULT_EVENT_DAYS * DAY_MS;
  const times = checkTimes(startsAt, endsAt, ctx.now);
  if (!times.ok) return times;
  const counts = checkCounts(input.entriesPerMember, input.retentionDays);
  if (!counts.ok) return counts;
  const managers = checkManagers(input.managers ?? []);
  if (!managers.ok) return managers;
  const destination = eventDestinationSchema.safeParse(input.destination);
  if (!destination.success) return badOption('destination', 'a channel or thread of this community');
  return ok({
    name: name.value,
    theme: theme.value,
    startsAt,
    endsAt,
    entriesPerMember: counts.value.entriesPerMember ?? 1,
    managers: managers.value,
    destination: destination.data,
    status: 'draft',
    retentionDays: counts.value.retentionDays ?? DEFAULT_RETENTION_DAYS,
  });
}

/** What an edit may change. Absent fields stay; `frameColour: ''` removes the frame. */
export type EventPatch = Partial<Omit<EventDraftInput, 'destination'>> & { destination?: EventDestination };

const THEME_FIELDS = ['pose', 'lighting', 'style', 'engine', 'size', 'format', 'frameColour'] as const;

/**
 * Applies an organiser's edit. The theme is what makes the gallery match, so it can change only while nobody has
 * entered yet (`hasEntries`); names, times, organisers, destination and retention can change any time.
 */
export function applyEventEdit(
  event: AvatarEvent,
  patch: EventPatch,
  ctx: EventValidationContext & { hasEntries: boolean },
): EventResult<AvatarEvent> {
  const touchesTheme = THEME_FIELDS.some((f) => patch[f] !== undefined);
  if (touchesTheme && ctx.hasEntries) {
    return fail(
      new PortraitError('event.not_allowed', 'theme change after members joined', {
        name: event.name,
        reason: 'theme_locked',
      }),
    );
  }
  let theme = event.theme;
  if (touchesTheme) {
    const merged = validateTheme(
      {
        pose: patch.pose ?? event.theme.pose,
        lighting: patch.lighting ?? event.theme.lighting,
        style: patch.style ?? event.theme.style,
        ...optional('engine', patch.engine ?? event.theme.engine),
        ...optional('size', patch.size ?? event.theme.output?.size),
        ...optional('format', patch.format ?? event.theme.output?.format),
        ...optional('frameColour', patch.frameColour ?? event.theme.frameColour),
      },
      ctx.defaultEngine,
    );
    if (!merged.ok) return merged;
    theme = merged.value;
  }
  let name = event.name;
  if (patch.name !== undefined) {
    const n = cleanName(patch.name);
    if (!n.ok) return n;
    name = n.value;
  }
  const startsAt = patch.startsAt ?? event.startsAt;
  const endsAt = patch.endsAt ?? event.endsAt;
  if (patch.startsAt !== undefined || patch.endsAt !== undefined) {
    const times = checkTimes(startsAt, endsAt, ctx.now);
    if (!times.ok) return times;
  }
  const counts = checkCounts(patch.entriesPerMember, patch.retentionDays);
  if (!counts.ok) return counts;
  let managers = event.managers;
  if (patch.managers !== undefined) {
    const m = checkManagers(patch.managers);
    if (!m.ok) return m;
    managers = m.value;
  }
  let destination = event.destination;
  if (patch.destination !== undefined) {
    const d = eventDestinationSchema.safeParse(patch.destination);
    if (!d.success) return badOption('destination', 'a channel or thread of this community');
    destination = d.data;
  }
  return ok({
    ...event,
    name,
    theme,
    startsAt,
    endsAt,
    entriesPerMember: counts.value.entriesPerMember ?? event.entriesPerMember,
    retentionDays: counts.value.retentionDays ?? event.retentionDays,
    managers,
    destination,
    updatedAt: ctx.now,
  });
}

export type EventAction = 'open' | 'close';

/**
 * Status changes: a draft or closed event opens (when its end is still ahead: a closed event can be re-opened if the
 * organiser closed it early); an open or draft event closes. Opening before `startsAt` is allowed: entries are taken
 * from then on.
 */
export function transitionEvent(event: AvatarEvent, action: EventAction, now: number): EventResult<AvatarEvent> {
  if (action === 'open') {
    if (event.status === 'open') return ok(event);
    if (event.endsAt <= now) {
      return badOption('end', 'a time in the future: the event has already ended, edit its end before opening it');
    }
    const { closedAt: _closed, ...rest } = event;
    return ok({ ...rest, status: 'open', updatedAt: now });
  }
  if (event.status === 'closed') return ok(event);
  return ok({ ...event, status: 'closed', closedAt: now, updatedAt: now });
}

/** The status a member sees: an open event past its end is closed even before anybody closed it. */
export function effectiveStatus(event: AvatarEvent, now: number): EventStatus {
  if (event.status === 'open' && now >= event.endsAt) return 'closed';
  return event.status;
}

/** Whether the event takes an entry now; the error says why not (not open yet, closed). */
export function checkEntryWindow(event: AvatarEvent, now: number): EventResult<AvatarEvent> {
  const status = effectiveStatus(event, now);
  if (status === 'closed') {
    return fail(new PortraitError('event.closed', 'the event takes no entries', { name: event.name }));
  }
  if (status === 'draft' || now < event.startsAt) {
    return fail(
      new PortraitError('event.not_open', 'the event has not started', {
        name: event.name,
        ...(status === 'open' ? { opens: new Date(event.startsAt).toISOString().slice(0, 16).replace('T', ' ') } : {}),
      }),
    );
  }
  return ok(event);
}

/**
 * When the event's results are removed: retention days after it ended (its end, or the moment it was closed, the
 * earlier). While it is still open and its end ahead, the same rule on its planned end.
 */
export function eventExpiresAt(event: AvatarEvent): number {
  const ended = event.closedAt !== undefined ? Math.min(event.closedAt, event.endsAt) : event.endsAt;
  return ended + event.retentionDays * DAY_MS;
}

/** Who is asking, as the adapter knows them: platform admin (Manage Server, workspace admin) and role/group ids. */
export interface EventActor {
  userId: string;
  isAdmin: boolean;
  /** Discord role ids, Slack user-group ids. */
  roleIds: readonly string[];
}

/**
 * Whether the actor may create (no event given) or manage an event: platform admins, members of a configured
 * organiser role or group, the event's creator, and the event's extra managers (role/group or user ids).
 */
export function canManageEvent(
  actor: EventActor,
  event: AvatarEvent | undefined,
  organiserRoles: readonly string[],
): boolean {
  if (actor.isAdmin) return true;
  if (actor.roleIds.some((r) => organiserRoles.includes(r))) return true;
  if (!event) return false;
  if (event.createdBy === actor.userId) return true;
  return event.managers.includes(actor.userId) || actor.roleIds.some((r) => event.managers.includes(r));
}

/** The organiser refusal, named for the event (or for creating one). */
export function notAllowed(eventName?: string): PortraitError {
  return new PortraitError('event.not_allowed', 'not an organiser', eventName ? { name: eventName } : {});
}

/** Names compare case- and space-insensitively within a community. */
export function eventNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The request fields an entry's portrait job takes from the theme (the adapter adds requester, selfie, route). */
export function themeRequest(
  theme: EventTheme,
): Pick<PortraitRequestInput, 'pose' | 'lighting' | 'style'> &
  Partial<Pick<PortraitRequestInput, 'engine' | 'output'>> {
  return {
    pose: theme.pose,
    lighting: theme.lighting,
    style: theme.style,
    ...(theme.engine ? { engine: theme.engine } : {}),
    ...(theme.output ? { output: theme.output } : {}),
  };
}

/** One line describing the theme, for status messages and the gallery header. */
export function describeTheme(theme: EventTheme): string {
  const parts = [`pose ${theme.pose}`, `lighting ${theme.lighting}`];
  if (theme.style) parts.push(`style "${theme.style}"`);
  if (theme.engine) parts.push(`engine ${theme.engine}`);
  if (theme.output) parts.push(`${theme.output.size}px ${theme.output.format}`);
  if (theme.frameColour) parts.push(`frame ${theme.frameColour}`);
  return parts.join(', ');
}

const RELATIVE = /^(?:in\s+)?(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };

/**
 * Parses a start or end time as organisers type it: 'now'; a relative time ('in 3 days', '12h', '2w', '90 min');
 * a date ('2026-12-01', midnight UTC); a date and time ('2026-12-01 18:30', UTC unless an offset follows, or a full
 * ISO string with Z or +hh:mm). Never throws.
 */
export function parseEventTime(text: string, now: number, option = 'time'): EventResult<number> {
  const t = text.trim().toLowerCase();
  const expected = "'now', 'in 3 days', '12h', '2026-12-01' or '2026-12-01 18:30' (UTC)";
  if (t === '') return badOption(option, expected, text);
  if (t === 'now') return ok(now);
  const rel = RELATIVE.exec(t);
  if (rel) {
    const unit = UNIT_MS[(rel[2] ?? 'm').charAt(0)] ?? 60_000;
    return ok(now + Math.round(Number(rel[1]) * unit));
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})(?:[ t](\d{2}):(\d{2})(?::(\d{2}))?(z|[+-]\d{2}:?\d{2})?)?$/.exec(t);
  if (date) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', zone] = date;
    let iso = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
    iso +=
      zone === undefined ? 'Z' : zone === 'z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
    const ms = Date.parse(iso);
    // Date.parse rolls 2026-02-30 over to March: compare the fields back to refuse impossible dates.
    if (
      Number.isFinite(ms) &&
      new Date(Date.parse(`${y}-${mo}-${d}T00:00:00Z`)).toISOString().startsWith(`${y}-${mo}-${d}`)
    ) {
      return ok(ms);
    }
  }
  return badOption(option, expected, text);
}

/** Parses a retention as typed: '30', '30d', '30 days', '2w'. */
export function parseRetentionDays(text: string): EventResult<number> {
  const m = /^(\d+)\s*(d|days?|w|weeks?)?$/.exec(text.trim().toLowerCase());
  const days = m ? Number(m[1]) * (m[2]?.startsWith('w') ? 7 : 1) : Number.NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
    return badOption('retention', `1 to ${MAX_RETENTION_DAYS} days, e.g. '30d'`, text);
  }
  return ok(days);
}

function cleanName(raw: string): EventResult<string> {
  const name = raw.replace(/\s+/g, ' ').trim();
  if (name.length < 1 || name.length > EVENT_NAME_MAX) {
    return badOption('name', `1 to ${EVENT_NAME_MAX} characters`);
  }
  if (/[<>@#`*_~|]/.test(name)) {
    // Names are echoed into Discord and Slack markup: keep mentions and formatting characters out.
    return badOption('name', 'letters, digits, spaces and simple punctuation (no @ # < > ` * _ ~ |)', name);
  }
  return ok(name);
}

function validateTheme(
  input: Pick<EventDraftInput, (typeof THEME_FIELDS)[number]>,
  defaultEngine: EngineName,
): EventResult<EventTheme> {
  const pose = parsePose(input.pose ?? '');
  if (!pose.ok) return fail(pose.error);
  const lighting = parseLighting(input.lighting ?? '');
  if (!lighting.ok) return fail(lighting.error);
  let engine: EngineName | undefined;
  if (input.engine !== undefined && input.engine !== '') {
    if (!(ENGINE_NAMES as readonly string[]).includes(input.engine)) {
      return badOption('engine', ENGINE_NAMES.join(', '), input.engine);
    }
    engine = input.engine as EngineName;
  }
  const tooFar = checkPoseForEngine(pose.value, engine ?? defaultEngine);
  if (tooFar) return fail(tooFar);
  const style = (input.style ?? '').trim();
  if (style.length > 500) return badOption('style', 'at most 500 characters');
  // Every member's avatar would fail on a style the engine cannot render: refuse it when the event is made.
  const unknownStyle = checkStyleForEngine(style, engine ?? defaultEngine);
  if (unknownStyle) return fail(unknownStyle);
  let output: EventTheme['output'];
  if (input.size !== undefined || input.format !== undefined) {
    const size = input.size ?? 1024;
    if (!Number.isInteger(size) || size < 64 || size > 2048) {
      return badOption('size', 'a whole number of pixels from 64 to 2048', String(size));
    }
    const format = input.format ?? 'webp';
    if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
      return badOption('format', OUTPUT_FORMATS.join(' or '), format);
    }
    output = { size, format: format as OutputFormat };
  }
  let frameColour: string | undefined;
  if (input.frameColour !== undefined && input.frameColour !== '') {
    const c = parseColour(input.frameColour);
    if (!c)
      return badOption('frame colour', "a colour such as '#ff8800', 'f80' or a name like gold", input.frameColour);
    frameColour = c;
  }
  return ok({
    pose: pose.value.label,
    lighting: lighting.value.label,
    style,
    ...(engine ? { engine } : {}),
    ...(output ? { output } : {}),
    ...(frameColour ? { frameColour } : {}),
  });
}

const NAMED_COLOURS: Readonly<Record<string, string>> = {
  black: '#000000',
  white: '#ffffff',
  gold: '#d4af37',
  silver: '#c0c0c0',
  red: '#d62828',
  orange: '#f77f00',
  yellow: '#fcbf49',
  green: '#2a9d8f',
  blue: '#1d4ed8',
  purple: '#7b2cbf',
  pink: '#ff69b4',
  teal: '#008080',
  navy: '#1b263b',
};

/** '#ff8800', 'ff8800', '#f80', 'f80' or a few names; undefined when it is none of those. */
export function parseColour(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  const named = NAMED_COLOURS[t];
  if (named) return named;
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/.exec(t)?.[1];
  if (!hex) return undefined;
  return `#${hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex}`;
}

function checkTimes(startsAt: number, endsAt: number, now: number): EventResult<true> {
  if (!Number.isFinite(startsAt) || !Number.isFinite(endsAt)) return badOption('time', 'a valid date and time');
  if (endsAt <= startsAt) return badOption('end', 'a time after the start');
  if (endsAt <= now) return badOption('end', 'a time in the future');
  if (endsAt - startsAt > MAX_RETENTION_DAYS * DAY_MS) return badOption('end', 'at most a year after the start');
  return ok(true);
}

function checkCounts(
  entriesPerMember: number | undefined,
  retentionDays: number | undefined,
): EventResult<{ entriesPerMember?: number; retentionDays?: number }> {
  if (
    entriesPerMember !== undefined &&
    (!Number.isInteger(entriesPerMember) || entriesPerMember < 1 || entriesPerMember > MAX_ENTRIES_PER_MEMBER)
  ) {
    return badOption(
      'entries per member',
      `a whole number from 1 to ${MAX_ENTRIES_PER_MEMBER}`,
      String(entriesPerMember),
    );
  }
  if (
    retentionDays !== undefined &&
    (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > MAX_RETENTION_DAYS)
  ) {
    return badOption('retention', `1 to ${MAX_RETENTION_DAYS} days`, String(retentionDays));
  }
  return ok({
    ...(entriesPerMember === undefined ? {} : { entriesPerMember }),
    ...(retentionDays === undefined ? {} : { retentionDays }),
  });
}

function checkManagers(list: readonly string[]): EventResult<string[]> {
  const out = [...new Set(list.map((m) => m.trim()).filter((m) => m !== ''))];
  if (out.length > 25) return badOption('organisers', 'at most 25 roles, groups or people');
  if (out.some((m) => !/^[A-Za-z0-9_.-]{1,64}$/.test(m))) return badOption('organisers', 'role, group or user ids');
  return ok(out);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
