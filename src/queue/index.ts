/**
 * The queue's public surface, for main.ts / the CLI and the chat adapters' wiring. Adapters themselves depend only on
 * the types in service.ts.
 */
export {
  type OpenRedisOptions,
  openRedis,
  type RedisHandle,
  type RedisPersistence,
  RedisUnavailableError,
  redisPersistence,
} from './connection.js';
export { type ConsumeOptions, consumeDeliveries } from './deliveries.js';
export type { Delivery, PortraitJobData, PortraitResult } from './jobs.js';
export type {
  DeliveryConsumer,
  DeliveryHandler,
  JobState,
  JobSummary,
  PortraitService,
  SubmitOptions,
  SubmitReceipt,
} from './service.js';
export { createPortraitService, type PortraitQueueService } from './submit.js';
export { type PortraitWorker, startWorker, type WorkerOptions } from './worker.js';
