import type { EngineName, Platform, PortraitRequestInput, Requester } from '../core/request.js';
import { PortraitError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PortraitService } from '../queue/service.js';
import {
  type AvatarEvent,
  applyEventEdit,
  canManageEvent,
  checkEntryWindow,
  type EventActor,
  type EventDraftInput,
  type EventPatch,
  type EventStatus,
  effectiveStatus,
  notAllowed,
  themeRequest,
  transitionEvent,
  validateEventDraft,
} from './definition.js';
import type { EventScheduler } from './scheduler.js';
import type { EventEntry, EventProgress, EventStore, RemovalOutcome } from './store.js';

/**
 * What the chat adapters call for avatar events: organiser commands (with the organiser check), member commands, the
 * status and gallery data. Platform-neutral: the adapter says who is asking (admin? which roles or groups?) and turns
 * the thrown PortraitErrors into sentences (src/core/messages.ts). Only the adapters' SDK work stays in src/bots.
 */

/** Who is asking: the requester (platform, community, user) plus what the platform says about their rights. */
export type EventCaller = Requester & Omit<EventActor, 'userId'>;

export interface EventStatusReport {
  event: AvatarEvent;
  /** Draft, open or closed as members see it now (an open event past its end is closed). */
  status: EventStatus;
  progress: EventProgress;
}

export interface JoinRequest {
  /** The member; platform and scopeId must be the event's. */
  member: Requester;
  displayName: string;
  selfie: Uint8Array;
  /** Also send the avatar by direct message. */
  dm: boolean;
  /** Adapter-defined return address stored with the entry. */
  route?: Record<string, string>;
}

export interface JoinReceipt {
  event: AvatarEvent;
  entry: EventEntry;
  /** True when this submission replaced an earlier one of the member. */
  replaced: boolean;
  /** 1-based place among waiting event entries of the platform (0: already being made). */
  position: number;
}

export interface AvatarEventService {
  /** Creates a draft event. Throws `event.not_allowed`, `event.name_taken`, or the validation's error. */
  create(caller: EventCaller, input: EventDraftInput): Promise<AvatarEvent>;
  /** Finds an event by name (or id). Without a name: the community's only open event, else `event.not_found`. */
  find(platform: Platform, scopeId: string, name?: string): Promise<AvatarEvent>;
  list(platform: Platform, scopeId: string): Promise<AvatarEvent[]>;
  edit(caller: EventCaller, name: string, patch: EventPatch): Promise<AvatarEvent>;
  open(caller: EventCaller, name: string): Promise<AvatarEvent>;
  close(caller: EventCaller, name: string): Promise<AvatarEvent>;
  /** Deletes the event with every entry and image; cancels its jobs. Returns the removed event and key count. */
  delete(caller: EventCaller, name: string): Promise<{ event: AvatarEvent; removedKeys: number }>;
  status(platform: Platform, scopeId: string, name?: string): Promise<EventStatusReport>;
  /** Organiser-only status (entrant counts and progress are for organisers). */
  organiserStatus(caller: EventCaller, name?: string): Promise<EventStatusReport>;
  /** The request fields of a preview: the organiser's own selfie in the theme, submitted as an ordinary portrait. */
  preview(caller: EventCaller, name: string): Promise<{ event: AvatarEvent; request: Partial<PortraitRequestInput> }>;
  /** Whether the caller may manage this event (or create one, without an event). */
  canManage(caller: EventCaller, event?: AvatarEvent): boolean;
  /** A member joins (or redoes their entry) with a selfie. Throws `event.closed` / `event.not_open` / ... */
  join(name: string | undefined, request: JoinRequest): Promise<JoinReceipt>;
  /** A member leaves: their entries, selfies and avatars in the event are deleted. Returns how many entries went. */
  leave(member: Requester, name?: string): Promise<number>;
  /** Removes a member from every event (their `forget`). Returns how many stored keys went. */
  forget(member: Requester): Promise<number>;
  /** The entries that show an avatar, in joining order, and a reader for their images (gallery, export). */
  gallery(
    caller: EventCaller,
    name?: string,
  ): Promise<{ event: AvatarEvent; entries: EventEntry[]; readImage: (e: EventEntry) => Promise<Uint8Array | null> }>;
}

export interface EventServiceDeps {
  store: EventStore;
  portraits: PortraitService;
  /** The local scheduler(s), pumped after a join; without one, the scheduler's own tick picks entries up. */
  schedulers?: Partial<Record<Platform, Pick<EventScheduler, 'pump' | 'release'>>>;
  /** PORTRAIT_ENGINE: its pose limits apply to themes that name no engine. */
  defaultEngine: EngineName;
  /** Configured organiser roles/groups per platform (DISCORD_EVENT_ROLES, SLACK_EVENT_GROUPS). */
  organiserRoles: Partial<Record<Platform, readonly string[]>>;
  log: Logger;
  now?: () => number;
}

export function createEventService(deps: EventServiceDeps): AvatarEventService {
  const { store, portraits, log } = deps;
  const now = deps.now ?? Date.now;
  const rolesFor = (platform: Platform) => deps.organiserRoles[platform] ?? [];
  const canManage = (caller: EventCaller, event?: AvatarEvent) =>
    canManageEvent(caller, event, rolesFor(caller.platform));

  async function find(platform: Platform, scopeId: string, name?: string): Promise<AvatarEvent> {
    const wanted = name?.trim() ?? '';
    if (wanted !== '') {
      const byName = await store.findByName(platform, scopeId, wanted);
      if (byName) return byName;
      const byId = await store.get(wanted);
      if (byId && byId.platform === platform && byId.scopeId === scopeId) return byId;
    }
    const events = await store.list(platform, scopeId);
    const open = events.filter((e) => effectiveStatus(e, now()) === 'open');
    if (wanted === '' && open.length === 1 && open[0]) return open[0];
    throw new PortraitError('event.not_found', 'no such event', {
      name: wanted,
      ...(open.length > 0 ? { open: open.map((e) => e.name).join(', ') } : {}),
    });
  }

  async function managed(caller: EventCaller, name?: string): Promise<AvatarEvent> {
    const event = await find(caller.platform, caller.scopeId, name);
    if (!canManage(caller, event)) throw notAllowed(event.name);
    return event;
  }

  const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: PortraitError }): T => {
    if (!r.ok) throw r.error;
    return r.value;
  };

  /** Jobs of removed entries: cancel them (queued ones vanish, running ones stop) and free their lease. */
  async function stopJobs(outcome: RemovalOutcome): Promise<void> {
    for (const entry of outcome.inFlight) {
      if (entry.jobId) await portraits.cancel(entry.jobId, entry.member).catch(() => false);
      await deps.schedulers?.[entry.member.platform]?.release(entry);
    }
  }

  const pump = (platform: Platform) => {
    deps.schedulers?.[platform]?.pump().catch((err: unknown) => log.warn({ err }, 'event pump failed'));
  };

  async function status(platform: Platform, scopeId: string, name?: string): Promise<EventStatusReport> {
    const event = await find(platform, scopeId, name);
    return { event, status: effectiveStatus(event, now()), progress: await store.progress(event.id) };
  }

  return {
    canManage,
    find,
    list: (platform, scopeId) => store.list(platform, scopeId),
    async create(caller, input) {
      if (!canManage(caller)) throw notAllowed();
      const fields = unwrap(validateEventDraft(input, { now: now(), defaultEngine: deps.defaultEngine }));
      const event = await store.create({
        platform: caller.platform,
        scopeId: caller.scopeId,
        createdBy: caller.userId,
        fields,
        now: now(),
      });
      log.info({ event: event.id, platform: event.platform }, 'avatar event created');
      return event;
    },
    async edit(caller, name, patch) {
      const event = await managed(caller, name);
      const hasEntries = await store.hasEntries(event.id);
      const next = unwrap(applyEventEdit(event, patch, { now: now(), defaultEngine: deps.defaultEngine, hasEntries }));
      return store.save(next);
    },
    async open(caller, name) {
      const event = await managed(caller, name);
      const saved = await store.save(unwrap(transitionEvent(event, 'open', now())));
      log.info({ event: event.id }, 'avatar event opened');
      return saved;
    },
    async close(caller, name) {
      const event = await managed(caller, name);
      const saved = await store.save(unwrap(transitionEvent(event, 'close', now())));
      log.info({ event: event.id }, 'avatar event closed');
      return saved;
    },
    async delete(caller, name) {
      const event = await managed(caller, name);
      const outcome = await store.delete(event.id);
      if (!outcome) throw new PortraitError('event.not_found', 'deleted meanwhile', { name: event.name });
      await stopJobs(outcome);
      log.info({ event: event.id, removedKeys: outcome.removedKeys }, 'avatar event deleted');
      return { event, removedKeys: outcome.removedKeys };
    },
    status,
    async organiserStatus(caller, name) {
      const report = await status(caller.platform, caller.scopeId, name);
      if (!canManage(caller, report.event)) throw notAllowed(report.event.name);
      return report;
    },
    async preview(caller, name) {
      const event = await managed(caller, name);
      return { event, request: themeRequest(event.theme) };
    },
    async join(name, request) {
      const { member } = request;
      const event = await find(member.platform, member.scopeId, name);
      unwrap(checkEntryWindow(event, now()));
      const selfieKey = await portraits.putBlob(request.selfie, member);
      const { entry, replaced } = await store.addEntry(event, {
        member,
        displayName: request.displayName,
        selfieKey,
        dm: request.dm,
        route: request.route ?? {},
        now: now(),
      });
      if (replaced?.state === 'running' && replaced.jobId) {
        // The redo replaces the running one: stop it (its answer is stale either way).
        await portraits.cancel(replaced.jobId, member).catch(() => false);
      }
      const position = await store.pendingPosition(entry);
      pump(member.platform);
      return { event, entry, replaced: replaced !== undefined, position };
    },
    async leave(member, name) {
      const event = await find(member.platform, member.scopeId, name);
      const outcome = await store.removeMember(event.id, member);
      await stopJobs(outcome);
      return outcome.entries.length;
    },
    async forget(member) {
      const outcome = await store.forgetMember(member);
      await stopJobs(outcome);
      return outcome.removedKeys;
    },
    async gallery(caller, name) {
      const event = await managed(caller, name);
      const entries = (await store.entries(event.id)).filter((e) => e.resultKey);
      return { event, entries, readImage: (e) => store.readImage(e) };
    },
  };
}
