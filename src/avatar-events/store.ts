import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  ENGINE_NAMES,
  type EngineName,
  OUTPUT_FORMATS,
  type OutputFormat,
  type Platform,
  type Requester,
  requesterSchema,
} from '../core/request.js';
import { type ErrorPayload, PortraitError } from '../errors.js';
import { throwOnFailure } from '../queue/blobs.js';
import { errorPayloadSchema } from '../queue/jobs.js';
import { runScript } from '../queue/scripts.js';
import { type AvatarEvent, type EventFields, eventExpiresAt, eventNameKey, eventSchema } from './definition.js';

/**
 * Avatar events and their entries in Redis, platform-neutral. Events and entries survive restarts (they are plain
 * Redis data, with the AOF the embedded server runs); result images are copied out of the short-lived blob namespace
 * into keys of the event, kept until the event is deleted or its retention runs out. Every image key an event ever
 * wrote is listed in the event's `files` set, so deleting the event (or the retention sweep) removes all of them.
 *
 * The queue side (which entry's portrait runs next, results coming back) is src/avatar-events/scheduler.ts; it shares the
 * keys and the entry records defined here.
 */

const DAY_MS = 24 * 3600 * 1000;

export const ENTRY_STATES = ['pending', 'running', 'done', 'failed'] as const;
export type EntryState = (typeof ENTRY_STATES)[number];

export const eventEntrySchema = z.object({
  eventId: z.string(),
  member: requesterSchema,
  /** Shown under the avatar in the gallery. */
  displayName: z.string().max(100),
  /** 1..entriesPerMember: a member's entries are slots; a new submission fills a free slot or replaces the oldest. */
  slot: z.number().int().min(1),
  /** Grows with every submission to this slot: answers for an older revision are stale and dropped. */
  rev: z.number().int().min(1),
  /** State of the newest submission. A slot keeps its previous avatar (resultKey) until a new one is done. */
  state: z.enum(ENTRY_STATES),
  submittedAt: z.number(),
  updatedAt: z.number(),
  /** Blob key of the selfie while the submission waits or runs; deleted once it has been used. */
  selfieKey: z.string().optional(),
  jobId: z.string().optional(),
  resultKey: z.string().optional(),
  result: z
    .object({
      format: z.enum(OUTPUT_FORMATS),
      width: z.number().int(),
      height: z.number().int(),
      engine: z.enum(ENGINE_NAMES),
      at: z.number(),
    })
    .optional(),
  /** Why the newest submission failed (its sentence comes from src/core/messages.ts). */
  error: errorPayloadSchema.pick({ code: true, details: true, refId: true }).optional(),
  /** The member asked for their avatar by direct message too. */
  dm: z.boolean(),
  /** Adapter-defined return address for the member (e.g. where they joined). Opaque here. */
  route: z.record(z.string(), z.string()),
});
export type EventEntry = z.infer<typeof eventEntrySchema>;

export interface EventProgress {
  /** Members with at least one entry. */
  entrants: number;
  entries: number;
  pending: number;
  running: number;
  done: number;
  failed: number;
  /** Entries that show an avatar in the gallery (done, or an earlier avatar kept while a redo waits or failed). */
  avatars: number;
}

/** Every key of the event feature, under the queue prefix so one Redis serves several bots (and tests). */
export function eventKeys(prefix: string) {
  return {
    event: (id: string) => `${prefix}:ev:${id}`,
    /** Hash `<member>|<slot>` -> entry JSON. */
    entries: (id: string) => `${prefix}:ev:${id}:entries`,
    /** Set of every image key written for the event: what delete and the retention sweep remove. */
    files: (id: string) => `${prefix}:ev:${id}:files`,
    image: (id: string, e: Pick<EventEntry, 'member' | 'slot' | 'rev'>) =>
      `${prefix}:ev:${id}:img:${enc(e.member.userId)}:${e.slot}:${e.rev}`,
    /** Hash name key -> event id, per community: names are unique there and members join by name. */
    names: (platform: Platform, scopeId: string) => `${prefix}:ev:names:${platform}:${enc(scopeId)}`,
    /** Sorted set event id -> when its results are removed (epoch ms). */
    expiry: `${prefix}:ev:expiry`,
    /** Set of the event ids a member has entries in, for forget. */
    member: (m: Pick<Requester, 'platform' | 'userId'>) => `${prefix}:ev:member:${m.platform}:${enc(m.userId)}`,
    /** Sorted set of entry refs waiting for a job, score = when they may be submitted (FIFO by submission). */
    pending: (platform: Platform) => `${prefix}:ev:pending:${platform}`,
    /** Sorted set of entry refs with a job in the portrait queue, score = lease deadline. */
    running: (platform: Platform) => `${prefix}:ev:running:${platform}`,
    /** Prefix of the per-member marker holding the ref of their one event job in flight. */
    busyPrefix: (platform: Platform) => `${prefix}:ev:busy:${platform}:`,
    busy: (m: Pick<Requester, 'platform' | 'userId'>) => `${prefix}:ev:busy:${m.platform}:${enc(m.userId)}`,
  };
}
export type EventKeys = ReturnType<typeof eventKeys>;

/** Ids and user ids go into keys and '|'-separated refs: encode the separators away. */
function enc(s: string): string {
  return encodeURIComponent(s);
}

export function entryField(e: Pick<EventEntry, 'member' | 'slot'>): string {
  return `${enc(e.member.userId)}|${e.slot}`;
}

/**
 * A pending or running submission: `<scope>|<event>|<member>|<slot>|<rev>`. The scope comes first so the claim
 * script can count a community's share without reading the event.
 */
export function entryRef(e: Pick<EventEntry, 'eventId' | 'member' | 'slot' | 'rev'>): string {
  return `${enc(e.member.scopeId)}|${e.eventId}|${enc(e.member.userId)}|${e.slot}|${e.rev}`;
}

export interface ParsedRef {
  eventId: string;
  field: string;
  rev: number;
}

export function parseEntryRef(ref: string): ParsedRef | undefined {
  const parts = ref.split('|');
  if (parts.length !== 5) return undefined;
  const [, eventId = '', user = '', slot = '', rev = ''] = parts;
  return { eventId, field: `${user}|${slot}`, rev: Number(rev) };
}

export interface CreateEventInput {
  platform: Platform;
  scopeId: string;
  createdBy: string;
  fields: EventFields;
  now: number;
}

export interface JoinInput {
  member: Requester;
  displayName: string;
  /** Blob key of the selfie (PortraitService.putBlob). */
  selfieKey: string;
  dm: boolean;
  route: Record<string, string>;
  now: number;
}

export interface JoinOutcome {
  entry: EventEntry;
  /** The slot's previous submission, when this one replaced it (its job, if running, should be cancelled). */
  replaced?: EventEntry;
}

/** Removed entries and how many stored keys went; `inFlight` entries had a job queued or running. */
export interface RemovalOutcome {
  entries: EventEntry[];
  removedKeys: number;
  inFlight: EventEntry[];
}

export interface RecordResultInput {
  image: Uint8Array;
  format: OutputFormat;
  width: number;
  height: number;
  engine: EngineName;
  jobId: string;
  now: number;
}

export type RecordOutcome =
  | { outcome: 'recorded'; event: AvatarEvent; entry: EventEntry; previous: EventEntry }
  | { outcome: 'stale' };

export interface EventStore {
  readonly keys: EventKeys;
  /** Creates a draft event. Throws `event.name_taken` when the community already has an event of that name. */
  create(input: CreateEventInput): Promise<AvatarEvent>;
  get(eventId: string): Promise<AvatarEvent | null>;
  findByName(platform: Platform, scopeId: string, name: string): Promise<AvatarEvent | null>;
  /** The community's events, newest first. */
  list(platform: Platform, scopeId: string): Promise<AvatarEvent[]>;
  /**
   * Saves an edited or transitioned event (status, times, name...): renames it in the name index (refusing a taken
   * name with `event.name_taken`) and moves its removal date and every key's expiry along with its end/retention.
   */
  save(event: AvatarEvent): Promise<AvatarEvent>;
  /** Deletes the event with every entry and stored image. Null when there was no such event. */
  delete(eventId: string): Promise<RemovalOutcome | null>;
  /**
   * Adds a member's submission: a free slot, else the oldest one is replaced (entriesPerMember 1: re-submission
   * replaces). The entry waits in the platform's pending list for src/avatar-events/scheduler.ts to submit it.
   */
  addEntry(event: AvatarEvent, input: JoinInput): Promise<JoinOutcome>;
  entries(eventId: string): Promise<EventEntry[]>;
  memberEntries(eventId: string, member: Pick<Requester, 'userId'>): Promise<EventEntry[]>;
  getEntry(eventId: string, field: string): Promise<EventEntry | null>;
  hasEntries(eventId: string): Promise<boolean>;
  progress(eventId: string): Promise<EventProgress>;
  /** 1-based place of the entry's submission among the platform's waiting event entries; 0 when not waiting. */
  pendingPosition(entry: EventEntry): Promise<number>;
  /** A member leaves: their entries, selfies and avatars in this event are deleted. */
  removeMember(eventId: string, member: Requester): Promise<RemovalOutcome>;
  /** `forget`: removes the member from every event they entered. */
  forgetMember(member: Requester): Promise<RemovalOutcome>;
  /** The avatar an entry shows, or null (none yet, or removed). */
  readImage(entry: EventEntry): Promise<Uint8Array | null>;
  /**
   * Compare-and-set on an entry: writes `next` only if the slot still holds `expectedRev`. Used by the job side to
   * mark a submission running.
   */
  putEntry(event: AvatarEvent, next: EventEntry, expectedRev: number): Promise<boolean>;
  /** Stores a finished avatar for an entry's current revision; stale when the slot moved on or the event is gone. */
  recordResult(ref: ParsedRef, input: RecordResultInput): Promise<RecordOutcome>;
  /** Marks the entry's current revision failed (its selfie is deleted); stale as for recordResult. */
  recordFailure(ref: ParsedRef, error: ErrorPayload, now: number): Promise<RecordOutcome>;
  /** Deletes every event whose retention ran out. Returns their ids. */
  sweep(now: number): Promise<string[]>;
}

export function createEventStore(redis: Redis, prefix: string): EventStore {
  const keys = eventKeys(prefix);
  const parseEvent = (json: string | null): AvatarEvent | null => {
    if (!json) return null;
    const parsed = eventSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  };
  const parseEntry = (json: string | null | undefined): EventEntry | null => {
    if (!json) return null;
    const parsed = eventEntrySchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  };
  /** Backstop expiry of every key: the sweep removes the event at `expiresAt`; Redis a day later if it never ran. */
  const backstop = (event: AvatarEvent) => eventExpiresAt(event) + DAY_MS;

  async function get(eventId: string): Promise<AvatarEvent | null> {
    if (!/^ev[0-9a-z]{4,40}$/.test(eventId)) return null;
    return parseEvent(await redis.get(keys.event(eventId)));
  }

  async function entries(eventId: string): Promise<EventEntry[]> {
    const all = await redis.hvals(keys.entries(eventId));
    return all
      .map((json) => parseEntry(json))
      .filter((e): e is EventEntry => e !== null)
      .sort((a, b) => a.submittedAt - b.submittedAt);
  }

  async function putEntry(event: AvatarEvent, next: EventEntry, expectedRev: number, refs?: RefMove) {
    const reply = await runScript(
      redis,
      'eventPutEntry',
      [keys.entries(event.id), keys.pending(event.platform), keys.event(event.id)],
      [entryField(next), expectedRev, JSON.stringify(next), refs?.add ?? '', refs?.score ?? 0, refs?.remove ?? ''],
    );
    return reply;
  }

  /** Deletes entries (already read) with their selfies and images; the caller removed or checked the records. */
  async function dropEntries(event: AvatarEvent, list: EventEntry[]): Promise<RemovalOutcome> {
    const doomed: string[] = [];
    const refs: string[] = [];
    const inFlight: EventEntry[] = [];
    for (const e of list) {
      if (e.selfieKey) doomed.push(e.selfieKey);
      if (e.resultKey) doomed.push(e.resultKey);
      if (e.state === 'pending') refs.push(entryRef(e));
      if (e.state === 'running') inFlight.push(e);
    }
    let removedKeys = 0;
    const tx = redis.multi();
    if (list.length > 0) tx.hdel(keys.entries(event.id), ...list.map(entryField));
    if (refs.length > 0) tx.zrem(keys.pending(event.platform), ...refs);
    if (doomed.length > 0) {
      tx.del(...doomed);
      tx.srem(keys.files(event.id), ...doomed);
    }
    const replies = throwOnFailure(await tx.exec());
    if (doomed.length > 0) removedKeys = Number(replies[replies.length - 2]);
    return { entries: list, removedKeys, inFlight };
  }

  async function deleteEvent(eventId: string): Promise<RemovalOutcome | null> {
    const event = await get(eventId);
    if (!event) {
      // A half-deleted event (a crash mid-delete) still has files: finish the job.
      const leftovers = await redis.smembers(keys.files(eventId));
      if (leftovers.length === 0) return null;
      const removedKeys = await redis.del(...leftovers, keys.files(eventId), keys.entries(eventId));
      await redis.zrem(keys.expiry, eventId);
      return { entries: [], removedKeys, inFlight: [] };
    }
    // The event key goes first: from here no new image can be stored for it (PUT_IMAGE checks it).
    await redis
      .multi()
      .del(keys.event(eventId))
      .hdel(keys.names(event.platform, event.scopeId), eventNameKey(event.name))
      .zrem(keys.expiry, eventId)
      .exec()
      .then(throwOnFailure);
    const list = await entries(eventId);
    const outcome = await dropEntries(event, list);
    const files = await redis.smembers(keys.files(eventId));
    let removedKeys = outcome.removedKeys;
    for (let i = 0; i < files.length; i += 500) removedKeys += await redis.del(...files.slice(i, i + 500));
    await redis.del(keys.files(eventId), keys.entries(eventId));
    const members = new Set(list.map((e) => keys.member(e.member)));
    for (const m of members) await redis.srem(m, eventId);
    return { ...outcome, removedKeys };
  }

  /** Re-applies the backstop expiry to every key of an event (its end or retention changed). */
  async function applyExpiry(event: AvatarEvent): Promise<void> {
    const at = backstop(event);
    const files = await redis.smembers(keys.files(event.id));
    const p = redis.pipeline();
    p.zadd(keys.expiry, eventExpiresAt(event), event.id);
    p.pexpireat(keys.event(event.id), at);
    p.pexpireat(keys.entries(event.id), at);
    p.pexpireat(keys.files(event.id), at);
    for (const f of files) p.pexpireat(f, at);
    throwOnFailure(await p.exec());
  }

  const store: EventStore = {
    keys,
    async create(input) {
      const id = `ev${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
      const event = eventSchema.parse({
        ...input.fields,
        id,
        platform: input.platform,
        scopeId: input.scopeId,
        createdBy: input.createdBy,
        createdAt: input.now,
        updatedAt: input.now,
      });
      const claimed = await redis.hsetnx(keys.names(input.platform, input.scopeId), eventNameKey(event.name), id);
      if (claimed === 0) throw nameTaken(event.name);
      await redis
        .multi()
        .set(keys.event(id), JSON.stringify(event), 'PXAT', backstop(event))
        .zadd(keys.expiry, eventExpiresAt(event), id)
        .exec()
        .then(throwOnFailure);
      return event;
    },
    get,
    async findByName(platform, scopeId, name) {
      const id = await redis.hget(keys.names(platform, scopeId), eventNameKey(name));
      return id ? get(id) : null;
    },
    async list(platform, scopeId) {
      const ids = await redis.hvals(keys.names(platform, scopeId));
      const events = await Promise.all(ids.map((id) => get(id)));
      return events.filter((e): e is AvatarEvent => e !== null).sort((a, b) => b.createdAt - a.createdAt);
    },
    async save(event) {
      const valid = eventSchema.parse(event);
      const before = await get(valid.id);
      if (!before) throw new PortraitError('event.not_found', 'event vanished', { name: valid.name });
      const names = keys.names(valid.platform, valid.scopeId);
      const newKey = eventNameKey(valid.name);
      const oldKey = eventNameKey(before.name);
      if (newKey !== oldKey) {
        if ((await redis.hsetnx(names, newKey, valid.id)) === 0) throw nameTaken(valid.name);
        await redis.hdel(names, oldKey);
      }
      await redis.set(keys.event(valid.id), JSON.stringify(valid), 'PXAT', backstop(valid));
      if (eventExpiresAt(before) !== eventExpiresAt(valid)) await applyExpiry(valid);
      return valid;
    },
    delete: deleteEvent,
    async addEntry(event, input) {
      for (let attempt = 0; attempt < 8; attempt++) {
        const mine = await store.memberEntries(event.id, input.member);
        const taken = new Set(mine.map((e) => e.slot));
        let slot = 0;
        for (let s = 1; s <= event.entriesPerMember && slot === 0; s++) if (!taken.has(s)) slot = s;
        // Full: replace the slot submitted longest ago (with one entry per member, the member's entry).
        const old = slot === 0 ? [...mine].sort((a, b) => a.submittedAt - b.submittedAt)[0] : undefined;
        if (old) slot = old.slot;
        const entry: EventEntry = {
          eventId: event.id,
          member: input.member,
          displayName: input.displayName.slice(0, 100),
          slot,
          rev: (old?.rev ?? 0) + 1,
          state: 'pending',
          submittedAt: input.now,
          updatedAt: input.now,
          selfieKey: input.selfieKey,
          // The slot's avatar stays in the gallery until the redo is done.
          ...(old?.resultKey ? { resultKey: old.resultKey } : {}),
          ...(old?.result ? { result: old.result } : {}),
          dm: input.dm,
          route: input.route,
        };
        const reply = await putEntry(event, entry, old?.rev ?? 0, {
          add: entryRef(entry),
          score: input.now,
          ...(old?.state === 'pending' ? { remove: entryRef(old) } : {}),
        });
        if (reply === -1)
          throw new PortraitError('event.not_found', 'event deleted while joining', { name: event.name });
        if (reply === 0) continue;
        const tx = redis
          .multi()
          .sadd(keys.member(input.member), event.id)
          // The entries go with the event even if no sweep ever runs.
          .pexpireat(keys.entries(event.id), backstop(event));
        // A replaced submission's selfie is not needed any more (its job, if any, finds it gone and stops).
        if (old?.selfieKey) tx.del(old.selfieKey);
        throwOnFailure(await tx.exec());
        return old ? { entry, replaced: old } : { entry };
      }
      throw new Error('could not add the entry: the slot kept changing');
    },
    entries,
    async memberEntries(eventId, member) {
      const prefix = `${enc(member.userId)}|`;
      const all = await redis.hgetall(keys.entries(eventId));
      return Object.entries(all)
        .filter(([field]) => field.startsWith(prefix))
        .map(([, json]) => parseEntry(json))
        .filter((e): e is EventEntry => e !== null)
        .sort((a, b) => a.slot - b.slot);
    },
    async getEntry(eventId, field) {
      return parseEntry(await redis.hget(keys.entries(eventId), field));
    },
    async hasEntries(eventId) {
      return (await redis.hlen(keys.entries(eventId))) > 0;
    },
    async progress(eventId) {
      const list = await entries(eventId);
      const count = (s: EntryState) => list.filter((e) => e.state === s).length;
      return {
        entrants: new Set(list.map((e) => e.member.userId)).size,
        entries: list.length,
        pending: count('pending'),
        running: count('running'),
        done: count('done'),
        failed: count('failed'),
        avatars: list.filter((e) => e.resultKey).length,
      };
    },
    async pendingPosition(entry) {
      const rank = await redis.zrank(keys.pending(entry.member.platform), entryRef(entry));
      return rank === null ? 0 : rank + 1;
    },
    async removeMember(eventId, member) {
      const event = await get(eventId);
      const mine = await store.memberEntries(eventId, member);
      if (!event) return { entries: [], removedKeys: 0, inFlight: [] };
      const outcome = await dropEntries(event, mine);
      await redis.srem(keys.member(member), eventId);
      return outcome;
    },
    async forgetMember(member) {
      const ids = await redis.smembers(keys.member(member));
      const total: RemovalOutcome = { entries: [], removedKeys: 0, inFlight: [] };
      for (const id of ids) {
        const out = await store.removeMember(id, member);
        total.entries.push(...out.entries);
        total.inFlight.push(...out.inFlight);
        total.removedKeys += out.removedKeys;
      }
      await redis.del(keys.member(member));
      return total;
    },
    async readImage(entry) {
      if (!entry.resultKey?.startsWith(`${prefix}:ev:${entry.eventId}:img:`)) return null;
      const buf = await redis.getBuffer(entry.resultKey);
      return buf ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : null;
    },
    async putEntry(event, next, expectedRev) {
      return (await putEntry(event, next, expectedRev)) === 1;
    },
    async recordResult(ref, input) {
      const event = await get(ref.eventId);
      const previous = event ? await store.getEntry(ref.eventId, ref.field) : null;
      if (!event || !previous || previous.rev !== ref.rev) return { outcome: 'stale' };
      const imageKey = keys.image(event.id, previous);
      const bytes = Buffer.from(input.image.buffer, input.image.byteOffset, input.image.byteLength);
      if (
        (await runScript(
          redis,
          'eventPutImage',
          [keys.event(event.id), keys.files(event.id), imageKey],
          [bytes, backstop(event)],
        )) === 0
      ) {
        return { outcome: 'stale' };
      }
      const { error: _error, selfieKey: _selfie, ...rest } = previous;
      const entry: EventEntry = {
        ...rest,
        state: 'done',
        jobId: input.jobId,
        resultKey: imageKey,
        result: { format: input.format, width: input.width, height: input.height, engine: input.engine, at: input.now },
        updatedAt: input.now,
      };
      if ((await putEntry(event, entry, previous.rev)) !== 1) {
        // The member redid or left meanwhile: this avatar is nobody's.
        await redis.multi().del(imageKey).srem(keys.files(event.id), imageKey).exec();
        return { outcome: 'stale' };
      }
      const tx = redis.multi();
      if (previous.resultKey && previous.resultKey !== imageKey) {
        tx.del(previous.resultKey).srem(keys.files(event.id), previous.resultKey);
      }
      if (previous.selfieKey) tx.del(previous.selfieKey);
      throwOnFailure(await tx.exec());
      return { outcome: 'recorded', event, entry, previous };
    },
    async recordFailure(ref, error, now) {
      const event = await get(ref.eventId);
      const previous = event ? await store.getEntry(ref.eventId, ref.field) : null;
      if (!event || !previous || previous.rev !== ref.rev) return { outcome: 'stale' };
      const { selfieKey: _selfie, ...rest } = previous;
      const entry: EventEntry = {
        ...rest,
        state: 'failed',
        error: { code: error.code, details: { ...error.details }, ...(error.refId ? { refId: error.refId } : {}) },
        updatedAt: now,
      };
      if ((await putEntry(event, entry, previous.rev)) !== 1) return { outcome: 'stale' };
      if (previous.selfieKey) await redis.del(previous.selfieKey);
      return { outcome: 'recorded', event, entry, previous };
    },
    async sweep(now) {
      const due = await redis.zrangebyscore(keys.expiry, '-inf', now);
      const gone: string[] = [];
      for (const id of due) {
        const event = await get(id);
        // An edit may have moved the date since this id was scored: look again.
        if (event && eventExpiresAt(event) > now) {
          await redis.zadd(keys.expiry, eventExpiresAt(event), id);
          continue;
        }
        await deleteEvent(id);
        await redis.zrem(keys.expiry, id);
        gone.push(id);
      }
      return gone;
    },
  };
  return store;
}

interface RefMove {
  add?: string;
  score?: number;
  remove?: string;
}

function nameTaken(name: string): PortraitError {
  return new PortraitError('event.name_taken', 'an event of that name exists', { name });
}
