import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisHandle } from '../queue/connection.js';
import { type HealthServer, type ReadinessCheck, startHealthServer } from './health-server.js';
import { createMetrics, type PortraitMetrics } from './metrics.js';
import { createQueueProbe } from './queue-probe.js';

export type { QueueMetrics } from '../queue/metrics.js';
export { type HealthServer, type ReadinessCheck, startHealthServer } from './health-server.js';
export { createMetrics, type MetricsOptions, type PortraitMetrics } from './metrics.js';
export { createQueueProbe, type QueueSnapshot } from './queue-probe.js';

export interface Observability {
  readonly metrics: PortraitMetrics;
  readonly server: HealthServer;
  /** The worker's pipeline threads have loaded their models: the `models` check passes from now on. */
  modelsLoaded(): void;
  close(): Promise<void>;
}

export interface ObservabilityOptions {
  /** This process runs a worker, so readiness waits for its models. */
  worker: boolean;
  /** True once the process is shutting down: readiness fails so traffic moves elsewhere. */
  isStopping?: () => boolean;
}

/**
 * The health and metrics endpoint of `portrait start` / `portrait worker` on HEALTH_PORT (HEALTH_HOST): readiness
 * is Redis answering PING, the worker's models loaded and no shutdown under way; metrics are the queue hooks (hand
 * `metrics` to the worker and the service) plus queue depth read on scrape over one connection of its own.
 */
export async function startObservability(
  config: Pick<Config, 'HEALTH_PORT' | 'HEALTH_HOST' | 'PORTRAIT_QUEUE_PREFIX'>,
  redis: RedisHandle,
  log: Logger,
  options: ObservabilityOptions,
): Promise<Observability> {
  const client = redis.connection('client');
  const metrics = createMetrics({ log });
  metrics.watchQueue(createQueueProbe(client, config.PORTRAIT_QUEUE_PREFIX));
  let modelsReady = !options.worker;
  const checks: Record<string, ReadinessCheck> = {
    redis: async () => {
      try {
        await client.ping();
      } catch (err) {
        // A reason of our own words: a driver's message could name the server's address with its password.
        const code = (err as { code?: unknown }).code;
        throw new Error(`no answer to PING${typeof code === 'string' ? ` (${code})` : ''}`);
      }
    },
    models: () => {
      if (!modelsReady) throw new Error('the worker is still loading its models');
    },
  };
  const isStopping = options.isStopping;
  if (isStopping) {
    checks['shutdown'] = () => {
      if (isStopping()) throw new Error('shutting down');
    };
  }
  const server = await startHealthServer({
    port: config.HEALTH_PORT ?? 0,
    host: config.HEALTH_HOST,
    metrics,
    checks,
    log,
  });
  return {
    metrics,
    server,
    modelsLoaded() {
      modelsReady = true;
    },
    async close() {
      await server.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
