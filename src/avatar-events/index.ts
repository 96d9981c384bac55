import type { Config } from '../config.js';
import type { Platform } from '../core/request.js';
import type { Logger } from '../log.js';
import type { RedisHandle } from '../queue/connection.js';
import type { PortraitQueueService } from '../queue/submit.js';
import { type EventScheduler, type EventUpdateHandler, startEventScheduler } from './scheduler.js';
import { type AvatarEventService, createEventService } from './service.js';
import { createEventStore } from './store.js';

/**
 * Avatar events wired for a bot process (the composition root calls this): the event store on the process's Redis,
 * the service the adapters get, and one scheduler per platform whose adapter runs here. The adapters are created
 * with `service` first; `attach` then starts the platform's scheduler with the adapter's update handler.
 */
export interface AvatarEvents {
  readonly service: AvatarEventService;
  /**
   * The portrait service to hand the adapters: the same, except that `forget` also removes the member from every
   * avatar event (entries, selfies, avatars), so the adapters' existing forget commands cover events too.
   */
  readonly portraits: PortraitQueueService;
  /** Starts the platform's event scheduler, posting updates through the adapter's handler. */
  attach(platform: Platform, onUpdate: EventUpdateHandler): Promise<EventScheduler>;
  /** Stops the schedulers (the store's data stays in Redis). */
  close(): Promise<void>;
}

export function openAvatarEvents(
  config: Config,
  redis: RedisHandle,
  portraits: PortraitQueueService,
  log: Logger,
): AvatarEvents {
  const store = createEventStore(redis.connection('client'), config.PORTRAIT_QUEUE_PREFIX);
  // Filled by attach(); the service reads it at each join, so a scheduler started later is used from then on.
  const schedulers: Partial<Record<Platform, EventScheduler>> = {};
  const service = createEventService({
    store,
    portraits,
    schedulers,
    defaultEngine: config.PORTRAIT_ENGINE,
    organiserRoles: { discord: config.DISCORD_EVENT_ROLES, slack: config.SLACK_EVENT_GROUPS },
    log,
  });
  return {
    service,
    portraits: {
      ...portraits,
      async forget(requester) {
        return (await portraits.forget(requester)) + (await service.forget(requester));
      },
    },
    async attach(platform, onUpdate) {
      const scheduler = await startEventScheduler(
        { config, redis, service: portraits, store, log },
        { platform, onUpdate },
      );
      schedulers[platform] = scheduler;
      return scheduler;
    },
    async close() {
      await Promise.all(Object.values(schedulers).map((s) => s?.close()));
    },
  };
}
