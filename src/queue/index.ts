/**
 * The queue's public surface for the CLI commands that compose a process (src/cli/start.ts, generate.ts): Redis, the
 * portrait service and the worker. The conversation layer and the adapters depend only on the types in service.ts
 * and jobs.ts.
 */
export {
  type OpenRedisOptions,
  openRedis,
  type RedisHandle,
  type RedisPersistence,
  RedisUnavailableError,
  redisPersistence,
} from './connection.js';
export type { ConsumeOptions } from './deliveries.js';
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
