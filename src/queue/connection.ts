import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/**
 * Redis for everything in src/queue: `REDIS_URL` when set, else an embedded `redis-server` child process so that a
 * fresh clone runs with zero configuration.
 */
export interface RedisHandle {
  /** The URL every connection uses (the embedded server's loopback URL when embedded). */
  readonly url: string;
  /**
   * True when this process started (and owns) the redis-server: from the start, or since it took over the embedded
   * server of another portrait process that went away.
   */
  readonly embedded: boolean;
  /**
   * A new connection, closed by `close()` unless its user closes it first.
   * - `worker`: BullMQ workers and subscribers; commands wait through reconnects (`maxRetriesPerRequest: null`).
   * - `client`: request paths (submit, cancel, blobs); a command fails after a short retry, so an outage is
   *   answered with `service.unavailable` instead of a hang.
   */
  connection(role?: 'worker' | 'client'): Redis;
  close(): Promise<void>;
}

export interface OpenRedisOptions {
  /** The server binary to start when embedding (tests point it at a missing name). */
  redisServer?: string;
  /** How long the first PING to REDIS_URL may take before start gives up with a sentence. Default 10 s. */
  probeTimeoutMs?: number;
  /**
   * PING REDIS_URL before handing out connections (default true). Off only where a Redis that is down is the point
   * (tests of how a running process answers while it cannot reach Redis).
   */
  probe?: boolean;
}

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

export async function openRedis(
  config: Pick<Config, 'REDIS_URL' | 'PORTRAIT_DATA_DIR'>,
  log: Logger,
  options: OpenRedisOptions = {},
): Promise<RedisHandle> {
  if (config.REDIS_URL) {
    if (options.probe !== false) await probeRedis(config.REDIS_URL, options.probeTimeoutMs ?? 10_000);
    return connectionsTo(config.REDIS_URL, { owned: false, closing() {}, async stop() {} });
  }
  const server = await startEmbedded(
    join(config.PORTRAIT_DATA_DIR, 'redis'),
    log,
    options.redisServer ?? 'redis-server',
  );
  return connectionsTo(server.url, server);
}

function connectionsTo(url: string, server: Omit<EmbeddedServer, 'url'>): RedisHandle {
  const open = new Set<Redis>();
  let closed = false;
  return {
    url,
    get embedded() {
      return server.owned;
    },
    connection(role = 'client') {
      if (closed) throw new Error('Redis handle is closed');
      const opts: RedisOptions =
        role === 'worker'
          ? { maxRetriesPerRequest: null, enableReadyCheck: true }
          : { maxRetriesPerRequest: 2, connectTimeout: 5000 };
      const conn = redisClient(url, opts);
      // An unhandled 'error' event would crash the process; reconnects are ioredis's job, failures surface on commands.
      conn.on('error', () => {});
      conn.once('end', () => open.delete(conn));
      open.add(conn);
      return conn;
    },
    async close() {
      if (closed) return;
      closed = true;
      // First, so that the server stopping while our connections quit (its owner closing too) is not taken over.
      server.closing();
      await Promise.all([...open].map((c) => quit(c)));
      await server.stop();
    },
  };
}

/** `unix:/path/to/redis.sock` (REDIS_URL's socket form) as ioredis takes it; redis:// and rediss:// as they are. */
function redisClient(url: string, options: RedisOptions): Redis {
  const socket = /^unix:(?:\/\/)?(\/[^?]*)/i.exec(url)?.[1];
  return socket ? new Redis({ ...options, path: socket }) : new Redis(url, options);
}

/** REDIS_URL as it may be shown: the password replaced. */
export function redisUrlForDisplay(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/i, (_, scheme: string, auth: string) =>
    auth.includes(':') ? `${scheme}${auth.slice(0, auth.indexOf(':'))}:***@` : `${scheme}***@`,
  );
}

/**
 * One connection and a PING before anything starts, so a wrong or unreachable REDIS_URL ends the start with a
 * sentence instead of "redis ready" and reconnect warnings forever (ioredis retries without end by design).
 */
async function probeRedis(url: string, timeoutMs: number): Promise<void> {
  const probe = redisClient(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError: Error | undefined;
  probe.on('error', (err: Error) => {
    lastError = err;
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('ETIMEDOUT')), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await probe.connect();
        await probe.ping();
      })(),
      deadline,
    ]);
  } catch (err) {
    throw new RedisUnavailableError(redisProblem(url, (lastError ?? err) as Error, timeoutMs), { cause: err });
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
}

function redisProblem(url: string, err: Error, timeoutMs: number): string {
  const shown = redisUrlForDisplay(url);
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const text = `${code} ${err.message}`;
  const fix = 'start Redis there or correct REDIS_URL (leave it unset and portrait runs its own under .data/)';
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(text)) {
    return `Redis at REDIS_URL=${shown} refused the login: put the right user and password in REDIS_URL (redis://user:password@host:6379).`;
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) {
    return `The host in REDIS_URL=${shown} was not found: correct the host name in REDIS_URL.`;
  }
  if (/ECONNREFUSED|ENOENT/.test(text)) {
    return `Nothing answers at REDIS_URL=${shown} (connection refused): ${fix}.`;
  }
  if (/ETIMEDOUT|timed? ?out/i.test(text)) {
    return `Redis at REDIS_URL=${shown} did not answer within ${Math.round(timeoutMs / 1000)} s: check the host, port and firewall, or ${fix}.`;
  }
  if (/Protocol error/i.test(text)) {
    return `Something that is not Redis answers at REDIS_URL=${shown}: correct the host and port in REDIS_URL.`;
  }
  if (/SSL|TLS|EPROTO|wrong version number|ECONNRESET|Connection is closed|isn't writeable/i.test(text)) {
    return `The server at REDIS_URL=${shown} closed the connection without answering: check that host and port are Redis's, and use rediss:// for a TLS port and redis:// for a plain one.`;
  }
  return `Redis at REDIS_URL=${shown} cannot be used (${err.message}): ${fix}.`;
}

async function quit(conn: Redis): Promise<void> {
  if (conn.status === 'end') return;
  // QUIT waits for replies in flight; a connection that cannot reach the server would wait forever.
  const timer = setTimeout(() => conn.disconnect(), 1000);
  try {
    await conn.quit();
  } catch {
    conn.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

export type RedisPersistence = 'aof' | 'rdb' | 'none' | 'unknown';

/**
 * Whether a Redis keeps its data across a restart: an append-only file, snapshots only, nothing, or 'unknown' when the
 * server does not say (managed services often disable CONFIG). Without persistence a Redis restart loses every queued
 * job and undelivered answer.
 */
export async function redisPersistence(conn: Redis): Promise<RedisPersistence> {
  try {
    const [, aof] = (await conn.call('CONFIG', 'GET', 'appendonly')) as string[];
    if (aof === 'yes') return 'aof';
    const [, save] = (await conn.call('CONFIG', 'GET', 'save')) as string[];
    return save?.trim() ? 'rdb' : 'none';
  } catch {
    return 'unknown';
  }
}

interface EmbeddedServer {
  url: string;
  /** Whether this process runs the server (and stops it on close); becomes true on a takeover. */
  readonly owned: boolean;
  /** close() began: no takeover from now on, and the watcher connection is closed. */
  closing(): void;
  /** Stops the server when this process runs it, after any takeover in flight has settled. */
  stop(): Promise<void>;
}

/**
 * Runs redis-server through a small sh supervisor that stops it when our stdin pipe closes. The pipe closes when
 * this process exits for any reason (close(), a signal, a crash, SIGKILL), so the server never outlives its parent.
 * The child gets its own process group so a terminal's Ctrl-C reaches only us; our shutdown stops Redis last.
 */
const SUPERVISOR = `
exec 3<&0
command -v "$1" >/dev/null 2>&1 || exit 127
"$@" </dev/null &
pid=$!
( read -r _ <&3; kill -TERM "$pid" 2>/dev/null ) &
watcher=$!
wait "$pid"
rc=$?
kill "$watcher" 2>/dev/null
exit $rc
`;

const STATE_FILE = 'embedded.json';
const NOT_RESTARTED = 'the embedded redis-server went away and could not be restarted';

async function startEmbedded(dir: string, log: Logger, bin: string): Promise<EmbeddedServer> {
  mkdirSync(dir, { recursive: true });
  const reused = await reuseRunning(dir);
  if (reused) {
    log.info(
      { url: `redis://127.0.0.1:${reused}` },
      'using the embedded redis-server another portrait process started',
    );
    return watched(reused, dir, log, bin, undefined);
  }
  let lastError: Error | undefined;
  // A free port can be taken between our probe and the server's bind; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const child = await spawnServer(bin, dir, port);
      writeState(dir, port, child);
      log.info({ port, dir }, 'started embedded redis-server (set REDIS_URL to use your own)');
      return watched(port, dir, log, bin, child);
    } catch (err) {
      lastError = err as Error;
      if (!(err instanceof PortInUse)) break;
    }
  }
  throw lastError ?? new RedisUnavailableError('could not start redis-server');
}

/**
 * The embedded server on `port`, watched: several portrait processes may share it (the first one started it, the
 * others reused it), and when it goes away (its owner exited, or it crashed) every sharer's worker connections would
 * wait forever for it (`maxRetriesPerRequest: null`). So one dedicated connection watches it; when that connection
 * closes and nothing serves our folder on the port any more, this process starts redis-server itself on the SAME port
 * and folder: the AOF brings the queue back, every existing connection reconnects by itself to the same URL, and
 * this process owns the server from then on. When several try at once one binds the port; the others get
 * PortInUse and keep watching the winner's server.
 */
function watched(
  port: number,
  dir: string,
  log: Logger,
  bin: string,
  started: ChildProcess | undefined,
): EmbeddedServer {
  const url = `redis://127.0.0.1:${port}`;
  let child = started;
  let closing = false;
  let watcher: Redis | undefined;
  let takeover: Promise<void> | undefined;

  const watch = () => {
    // No reconnects (ioredis would retry forever): a closed socket ends the connection, and 'end' decides at once.
    const conn = new Redis(url, { retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    conn.on('error', () => {});
    // The watcher alone must not keep a process alive that has nothing else to do.
    conn.on('connect', () => conn.stream?.unref?.());
    conn.once('end', () => {
      if (closing || watcher !== conn) return;
      takeover = takeOver().catch((err: unknown) => {
        log.error({ port, dir, err }, NOT_RESTARTED);
      });
    });
    watcher = conn;
  };

  const takeOver = async () => {
    for (let attempt = 0; attempt < 5 && !closing; attempt++) {
      if (attempt > 0) await sleep(200, undefined, { ref: false });
      // Only a dropped connection, or another process won the race: keep watching the server that is there.
      if (await servesDir(port, dir)) return closing ? undefined : watch();
      if (closing) return;
      try {
        child = await spawnServer(bin, dir, port);
      } catch (err) {
        if (err instanceof PortInUse) continue;
        log.error({ port, dir, err }, NOT_RESTARTED);
        return;
      }
      writeState(dir, port, child);
      log.info({ port, dir }, 'the embedded redis-server went away: took it over (same port and data)');
      if (!closing) watch();
      return;
    }
    if (!closing)
      log.error({ port, dir }, 'the embedded redis-server went away and its port is taken by another program');
  };

  watch();
  return {
    url,
    get owned() {
      return child !== undefined;
    },
    closing() {
      closing = true;
      watcher?.disconnect();
    },
    async stop() {
      await takeover;
      if (child) await stopServer(child, dir);
    },
  };
}

/**
 * Another portrait process on the same data folder already runs a server: its port, to share it instead of starting
 * a second writer on the same AOF.
 */
async function reuseRunning(dir: string): Promise<number | undefined> {
  const port = readState(dir)?.port;
  if (typeof port !== 'number') return undefined;
  return (await servesDir(port, dir)) ? port : undefined;
}

/** Whether a redis-server on the loopback port answers and runs in `dir` (and is not some other program or Redis). */
async function servesDir(port: number, dir: string): Promise<boolean> {
  const probe = new Redis(`redis://127.0.0.1:${port}`, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    const reply = (await probe.call('CONFIG', 'GET', 'dir')) as string[];
    // Redis reports its working directory with symlinks resolved.
    return reply[1] === realpathSync(dir);
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** embedded.json: how the next portrait process on this data folder finds the server to share. */
function writeState(dir: string, port: number, child: ChildProcess): void {
  writeFileSync(join(dir, STATE_FILE), JSON.stringify({ port, supervisorPid: child.pid }));
}

/** embedded.json as written by writeState (its fields unchecked), or undefined when there is none to read. */
function readState(dir: string): { port?: unknown; supervisorPid?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { port?: unknown; supervisorPid?: unknown };
  } catch {
    return undefined;
  }
}

class PortInUse extends Error {}

function spawnServer(bin: string, dir: string, port: number): Promise<ChildProcess> {
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--dir', dir],
    // AOF so nothing acknowledged is lost across restarts; noeviction so BullMQ keys are never dropped silently.
    ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'],
    ...['--daemonize', 'no', '--logfile', '', '--loglevel', 'notice'],
  ];
  const child = spawn('sh', ['-c', SUPERVISOR, 'portrait-redis', bin, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const tail: string[] = [];
  const remember = (chunk: Buffer) => {
    tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
  };
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      remember(chunk);
      if (chunk.toString('utf8').includes('Ready to accept connections')) {
        cleanup();
        // Keep draining the server's log so a full pipe can never block it; and let this process exit on its own.
        child.stdout?.on('data', remember);
        for (const s of [child.stdout, child.stderr, child.stdin]) (s as { unref?: () => void } | null)?.unref?.();
        child.unref();
        resolve(child);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      const log = tail.join('\n');
      if (code === 127) {
        reject(
          new RedisUnavailableError(
            `'${bin}' was not found. Install Redis (apt-get install redis-server, or brew install redis) ` +
              'or set REDIS_URL to a Redis you run yourself.',
          ),
        );
      } else if (/Address already in use/i.test(log)) {
        reject(new PortInUse(log));
      } else {
        reject(new RedisUnavailableError(`redis-server exited (code ${code}) before it was ready:\n${log}`));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new RedisUnavailableError(`could not start redis-server: ${err.message}`));
    };
    const cleanup = () => {
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', remember);
    child.on('exit', onExit);
    child.on('error', onError);
  });
}

async function stopServer(child: ChildProcess, dir: string): Promise<void> {
  // Only our own record: after a crash another process may have taken over and written its own.
  const recorded = readState(dir);
  if (!recorded || recorded.supervisorPid === child.pid) rmSync(join(dir, STATE_FILE), { force: true });
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Closing stdin makes the supervisor send SIGTERM: Redis flushes its AOF and exits cleanly.
  child.stdin?.end();
  const timer = setTimeout(() => {
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
