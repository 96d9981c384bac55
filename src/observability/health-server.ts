import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { PortraitMetrics } from './metrics.js';

/** A readiness check: resolves when ready, throws (or rejects) with the reason when not. */
export type ReadinessCheck = () => void | Promise<void>;

export interface HealthServerOptions {
  /** 0 picks a free port (tests); `port` on the returned server says which. */
  port: number;
  /** Default 127.0.0.1: scrapes and probes from the same host. Containers set 0.0.0.0 (HEALTH_HOST). */
  host?: string;
  metrics: PortraitMetrics;
  /** Named checks, all of which must pass for /readyz (redis, models, shutdown ...). */
  checks: Readonly<Record<string, ReadinessCheck>>;
  /** How long one check may take before it counts as failed. Default 2000 ms. */
  checkTimeoutMs?: number;
  log: Logger;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * GET /healthz: the process is alive (200 whenever it can answer at all).
 * GET /readyz: 200 when every check passes, else 503 with a JSON body naming each check's state and the reason.
 * GET /metrics: Prometheus text exposition.
 * Nothing in any answer comes from a request (no user ids, no URLs), and nothing is read from the request body.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { metrics, checks, log } = options;
  const timeoutMs = options.checkTimeoutMs ?? 2000;

  const readiness = async () => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
    );
    const failing = results.filter(([, r]) => r !== 'ok');
    return {
      ready: failing.length === 0,
      body: {
        status: failing.length === 0 ? 'ready' : 'not ready',
        ...(failing.length > 0 ? { reason: failing.map(([name, r]) => `${name}: ${r}`).join('; ') } : {}),
        checks: Object.fromEntries(results),
      },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }), { allow: 'GET' });
    }
    switch (path) {
      case '/healthz':
        return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
      case '/readyz': {
        const r = await readiness();
        if (!r.ready) log.debug({ reason: r.body.reason }, 'readiness check failed');
        return send(res, r.ready ? 200 : 503, 'application/json', JSON.stringify(r.body));
      }
      case '/metrics':
        return send(res, 200, metrics.contentType, await metrics.render());
      default:
        return send(res, 404, 'application/json', JSON.stringify({ error: 'not found' }));
    }
  };

  const server = createServer((req, res) => {
    // The request body is never read; drain it so keep-alive connections are reusable.
    req.resume();
    handle(req, res).catch((err: unknown) => {
      log.warn({ err }, 'health endpoint failed');
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
      else res.destroy();
    });
  });
  // Probes hold no long requests: keep idle connections short so close() is quick.
  server.keepAliveTimeout = 5000;
  server.listen(options.port, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  log.info({ port, host: options.host ?? '127.0.0.1' }, 'health and metrics endpoint listening');
  return {
    port,
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(check),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
