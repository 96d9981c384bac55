import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Platform } from '../core/request.js';
import { type ErrorPayload, isPortraitError, toErrorPayload } from '../errors.js';
import type { Logger } from '../log.js';
import { createBlobStore } from '../queue/blobs.js';
import type { RedisHandle } from '../queue/connection.js';
import type { Delivery } from '../queue/jobs.js';
import { queueKeys } from '../queue/keys.js';
import { runScript } from '../queue/scripts.js';
import type { DeliveryConsumer, DeliveryHandler, PortraitService } from '../queue/service.js';
import { type AvatarEvent, themeRequest } from './definition.js';
import { type EventEntry, type EventStore, entryRef, type ParsedRef, parseEntryRef } from './store.js';

/**
 * The job side of avatar events: feeds waiting entries into the ordinary portrait queue without starving /portrait
 * users, and records what comes back.
 *
 * Fairness, three ways:
 * - Event jobs carry a BullMQ priority (EVENT_JOB_PRIORITY). BullMQ runs jobs without a priority first, so a member
 *   asking for a /portrait waits for the jobs already running, never for the event backlog.
 * - A capped share: a community has at most PORTRAIT_EVENT_IN_FLIGHT event jobs in the portrait queue at once; the
 *   rest wait in the event's own pending list (Redis), so an event never fills the community's queue cap
 *   (PORTRAIT_SCOPE_QUEUE_CAP) and ordinary requests are never refused because of it.
 * - One event job in flight per member (a per-member marker), across all events of the platform.
 *
 * The claim (pending -> running, cap and member checks) is one Lua script, so several bot processes can pump the same
 * lists. A claim is a short lease until its job is queued, then a long one; a lease that lapses (a process died
 * between claim and submit) puts the entry back at the head of the list, and the resubmission has the same
 * idempotency key, so it never makes a second job.
 *
 * Results come back through a private delivery inbox (EVENT_INBOX) that this scheduler consumes: the result image is
 * copied into the event (kept for its retention) and the worker's short-lived blobs are deleted, then `onUpdate`
 * lets the platform adapter post the avatar to the event thread and, when asked, by DM.
 */

export const EVENT_INBOX = 'events';
/** Lower numbers run first; jobs without a priority run before any prioritized job. */
export const EVENT_JOB_PRIORITY = 1_000_000;

/** Claim lease while the job is being submitted; a process that dies here loses its claim after this long. */
const CLAIM_LEASE_MS = 60_000;
/** How long an unwelcome quota answer (the member's own /portrait jobs, a full queue) defers an entry. */
const DEFER_MS = 15_000;
const MAX_SCAN = 500;

export type EventUpdate =
  | { kind: 'result'; event: AvatarEvent; entry: EventEntry; image: Uint8Array; previous: EventEntry }
  | { kind: 'failure'; event: AvatarEvent; entry: EventEntry; error: ErrorPayload };
/** Posts an update where the event's results go. Throwing retries the delivery (the update is sent again). */
export type EventUpdateHandler = (update: EventUpdate) => Promise<void>;

export interface EventSchedulerOptions {
  platform: Platform;
  onUpdate: EventUpdateHandler;
  /** How often waiting entries are looked at without a trigger (deferred ones, lapsed leases). Default 5 s; 0: never. */
  tickMs?: number;
  /** How often the retention sweep runs. Default hourly; 0: never. */
  sweepMs?: number;
  /** Default: Date.now. */
  now?: () => number;
  /** Options of the delivery consumer (tests shorten retries). */
  deliveryRetryDelayMs?: number;
  /** How long an entry waits after a quota refusal (the member's own jobs, a full queue). Default 15 s. */
  deferMs?: number;
}

export interface EventScheduler {
  readonly platform: Platform;
  /** Submits waiting entries while the share allows. Resolves with how many jobs this call queued. */
  pump(): Promise<number>;
  /** Gives up an entry's lease (its job was cancelled, its member forgot). */
  release(entry: EventEntry): Promise<void>;
  close(): Promise<void>;
}

/** The delivery route of an event job: enough to find the entry again, nothing about the member. */
function routeFor(entry: EventEntry): Record<string, string> {
  return { event: entryRef(entry) };
}

/** Idempotency key of an entry revision: the same revision never makes two jobs. */
export function eventIdempotencyKey(entry: Pick<EventEntry, 'eventId' | 'member' | 'slot' | 'rev'>): string {
  const who = createHash('sha256').update(`${entry.member.userId}|${entry.slot}`).digest('base64url').slice(0, 16);
  return `event-${entry.eventId}-${who}-${entry.rev}`;
}

/** A seed per event and member: a member's redo of the same selfie looks the same, members differ. */
function seedFor(entry: EventEntry): number {
  return createHash('sha256').update(`${entry.eventId}|${entry.member.userId}|${entry.slot}`).digest().readUInt32BE(0);
}

export interface EventSchedulerDeps {
  config: Config;
  redis: RedisHandle;
  /** The portrait queue, with its delivery side (createPortraitService). */
  service: PortraitService & {
    consumeDeliveries(
      platform: Platform,
      handler: DeliveryHandler,
      options?: { inbox?: string; retryDelayMs?: number },
    ): Promise<DeliveryConsumer>;
  };
  store: EventStore;
  log: Logger;
}

export async function startEventScheduler(
  deps: EventSchedulerDeps,
  options: EventSchedulerOptions,
): Promise<EventScheduler> {
  const { config, service, store } = deps;
  const platform = options.platform;
  const log = deps.log.child({ events: platform });
  const now = options.now ?? Date.now;
  const client: Redis = deps.redis.connection('client');
  const blobs = createBlobStore(client, queueKeys(config.PORTRAIT_QUEUE_PREFIX), config.PORTRAIT_BLOB_TTL_SECONDS);
  const keys = store.keys;
  // A job waits in the portrait queue at most as long as its selfie lives; past that it fails as expired anyway.
  const jobLeaseMs = config.PORTRAIT_BLOB_TTL_SECONDS * 1000;
  const deferMs = options.deferMs ?? DEFER_MS;

  const busyKeyOf = (ref: string) => `${keys.busyPrefix(platform)}${ref.split('|')[2] ?? ''}`;
  const lease = (ref: string, ms: number) =>
    runScript(client, 'eventLease', [keys.running(platform), busyKeyOf(ref)], [ref, ms, now()]);
  const releaseRef = (ref: string) => lease(ref, 0);
  const defer = async (ref: string, ms: number) => {
    await releaseRef(ref);
    await client.zadd(keys.pending(platform), now() + ms, ref);
    wakeIn(ms);
  };
  // A deferred entry is looked at again when it is due, even when nothing else (a delivery, the tick) pumps: one
  // timer for the earliest due entry.
  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeAt = Number.POSITIVE_INFINITY;
  const wakeIn = (ms: number) => {
    const at = Date.now() + ms;
    if (wakeTimer && wakeAt <= at) return;
    if (wakeTimer) clearTimeout(wakeTimer);
    wakeAt = at;
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      wakeAt = Number.POSITIVE_INFINITY;
      pumpQuietly();
    }, ms + 10).unref();
  };

  type Step = 'submitted' | 'dropped' | 'deferred' | 'stop';

  async function submitRef(ref: string): Promise<Step> {
    const parsed = parseEntryRef(ref);
    const event = parsed ? await store.get(parsed.eventId) : null;
    const entry = parsed && event ? await store.getEntry(parsed.eventId, parsed.field) : null;
    if (!parsed || !event || !entry || entry.rev !== parsed.rev || entry.state !== 'pending') {
      // Replaced, left, forgotten or deleted since it was queued.
      await releaseRef(ref);
      return 'dropped';
    }
    try {
      if (!entry.selfieKey) throw new Error('pending entry without a selfie');
      const receipt = await service.submit({
        idempotencyKey: eventIdempotencyKey(entry),
        request: {
          requester: entry.member,
          selfieKeys: [entry.selfieKey],
          ...themeRequest(event.theme),
          variations: 1,
          seed: seedFor(entry),
          route: routeFor(entry),
        },
        priority: EVENT_JOB_PRIORITY,
        inbox: EVENT_INBOX,
      });
      await lease(ref, jobLeaseMs);
      await store.putEntry(event, { ...entry, state: 'running', jobId: receipt.jobId, updatedAt: now() }, entry.rev);
      log.debug({ event: event.id, jobId: receipt.jobId }, 'event entry queued');
      return 'submitted';
    } catch (err) {
      if (isPortraitError(err)) {
        switch (err.code) {
          case 'quota.user_in_flight':
          case 'quota.rate_limited':
            // The member's own /portrait jobs come first; try again later, meanwhile serve other members.
            await defer(ref, deferMs);
            return 'deferred';
          case 'quota.queue_full':
          case 'service.unavailable':
          case 'service.restarting':
            await defer(ref, deferMs);
            return 'stop';
        }
        if (err.userError) {
          // The selfie expired, the theme no longer fits the engine...: the member is told, the entry fails.
          await failEntry(parsed, toErrorPayload(err));
          await releaseRef(ref);
          return 'dropped';
        }
      }
      log.error({ err, event: event.id }, 'could not queue an event entry; will retry');
      await defer(ref, deferMs);
      return 'stop';
    }
  }

  async function failEntry(ref: ParsedRef, error: ErrorPayload): Promise<void> {
    const rec = await store.recordFailure(ref, error, now());
    if (rec.outcome === 'recorded') {
      await options.onUpdate({ kind: 'failure', event: rec.event, entry: rec.entry, error });
    }
  }

  let pumping: Promise<number> | undefined;
  let again = false;
  async function pumpLoop(): Promise<number> {
    let submitted = 0;
    do {
      again = false;
      for (;;) {
        const ref = await runScript(
          client,
          'eventClaim',
          [keys.pending(platform), keys.running(platform)],
          [now(), config.PORTRAIT_EVENT_IN_FLIGHT, CLAIM_LEASE_MS, MAX_SCAN, keys.busyPrefix(platform)],
        );
        if (!ref) break;
        const step = await submitRef(ref);
        if (step === 'submitted') submitted++;
        if (step === 'stop') break;
      }
    } while (again);
    return submitted;
  }
  /** One loop per process at a time; a trigger during a loop makes it look once more. */
  function pump(): Promise<number> {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = pumpLoop().finally(() => {
      pumping = undefined;
    });
    return pumping;
  }
  const pumpQuietly = () => {
    pump().catch((err: unknown) => log.warn({ err }, 'event pump failed'));
  };

  async function onDelivery(delivery: Delivery): Promise<void> {
    if (delivery.kind === 'progress') return;
    const ref = delivery.route['event'];
    const parsed = ref ? parseEntryRef(ref) : undefined;
    if (!ref || !parsed) {
      log.warn({ jobId: delivery.jobId }, 'event delivery without an entry route');
      return;
    }
    try {
      if (delivery.kind === 'result') {
        const current = await store.getEntry(parsed.eventId, parsed.field);
        if (current && current.rev === parsed.rev && current.state === 'done' && current.jobId === delivery.jobId) {
          // Recorded on an earlier try whose update failed: send the update again.
          const event = await store.get(parsed.eventId);
          const image = await store.readImage(current);
          if (event && image)
            await options.onUpdate({ kind: 'result', event, entry: current, image, previous: current });
          return;
        }
        const outputKey = delivery.result.outputKeys[0] ?? '';
        const image = await blobs.get(outputKey);
        if (!image) {
          await failEntry(parsed, { code: 'job.expired', message: 'result blob gone', details: {} });
          return;
        }
        const rec = await store.recordResult(parsed, {
          image,
          format: delivery.result.format,
          width: delivery.result.width,
          height: delivery.result.height,
          engine: delivery.result.engine,
          jobId: delivery.jobId,
          now: now(),
        });
        // The avatar now lives in the event (or nowhere, when stale): the worker's copies go.
        const outputs = [...delivery.result.outputKeys, delivery.result.debugSheetKey].filter(
          (k): k is string => typeof k === 'string' && blobs.isBlobKey(k),
        );
        if (outputs.length > 0) await client.del(...outputs);
        if (rec.outcome === 'recorded') {
          await options.onUpdate({ kind: 'result', event: rec.event, entry: rec.entry, image, previous: rec.previous });
        }
        return;
      }
      const current = await store.getEntry(parsed.eventId, parsed.field);
      if (current && current.rev === parsed.rev && current.state === 'failed') {
        const event = await store.get(parsed.eventId);
        if (event) await options.onUpdate({ kind: 'failure', event, entry: current, error: delivery.error });
        return;
      }
      await failEntry(parsed, delivery.error);
    } finally {
      await releaseRef(ref);
      pumpQuietly();
    }
  }

  const consumer = await service.consumeDeliveries(platform, onDelivery, {
    inbox: EVENT_INBOX,
    ...(options.deliveryRetryDelayMs === undefined ? {} : { retryDelayMs: options.deliveryRetryDelayMs }),
  });

  const timers: NodeJS.Timeout[] = [];
  const tickMs = options.tickMs ?? 5000;
  if (tickMs > 0) timers.push(setInterval(pumpQuietly, tickMs).unref());
  const sweepMs = options.sweepMs ?? 3_600_000;
  const sweep = () => {
    store
      .sweep(now())
      .then((gone) => gone.length > 0 && log.info({ events: gone.length }, 'removed events past their retention'))
      .catch((err: unknown) => log.warn({ err }, 'event retention sweep failed'));
  };
  if (sweepMs > 0) {
    sweep();
    timers.push(setInterval(sweep, sweepMs).unref());
  }
  pumpQuietly();

  let closed = false;
  return {
    platform,
    pump,
    async release(entry) {
      await releaseRef(entryRef(entry));
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearInterval(t);
      if (wakeTimer) clearTimeout(wakeTimer);
      await consumer.close();
      await pumping?.catch(() => 0);
      await client.quit().catch(() => client.disconnect());
    },
  };
}
