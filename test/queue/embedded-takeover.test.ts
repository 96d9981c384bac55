import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, silentLogger } from '../../src/log.js';
import { openRedis, type RedisHandle } from '../../src/queue/connection.js';

const portOf = (redis: RedisHandle) => Number(new URL(redis.url).port);

/** Whether something accepts a TCP connection on the loopback port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** The promise, or a failure naming what did not happen in time (instead of a test that hangs until its timeout). */
const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};

describe('embedded redis-server shared between processes', () => {
  const dirs: string[] = [];
  const handles: RedisHandle[] = [];
  const open = async (dir: string, log = silentLogger) => {
    const redis = await openRedis({ PORTRAIT_DATA_DIR: dir }, log);
    handles.push(redis);
    return redis;
  };
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'portrait-redis-takeover-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    // Closing twice is a no-op; this is for a test that failed half-way (its handles would keep the run alive).
    await Promise.all(handles.map((h) => h.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a sharer takes over when the owner goes away: same port, data kept, its connections answer, it then owns it', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const log = createLogger({ LOG_LEVEL: 'info' }, 'portrait', { write: (line: string) => void lines.push(line) });
    const owner = await open(dir);
    const sharer = await open(dir, log);
    assert.equal(owner.embedded, true);
    assert.equal(sharer.embedded, false, 'the second handle reuses the first one’s server');
    assert.equal(sharer.url, owner.url);

    // A worker connection waits through reconnects (maxRetriesPerRequest: null): the one that hung forever.
    const conn = sharer.connection('worker');
    // Redis writes the AOF before it replies, and the owner's close stops it with SIGTERM (a final flush), so the
    // key is on disk for the server that takes over.
    await conn.set('queued', 'job-1');
    await owner.close();

    assert.equal(await within(5000, 'GET on the sharer after the owner closed', conn.get('queued')), 'job-1');
    assert.equal(await sharer.connection('client').ping(), 'PONG');
    assert.equal(sharer.embedded, true, 'the sharer owns the server it started');
    assert.equal(sharer.url, owner.url, 'same URL: existing connections reconnected by themselves');
    const state = JSON.parse(readFileSync(join(dir, 'redis', 'embedded.json'), 'utf8')) as { port: number };
    assert.equal(state.port, portOf(sharer), 'embedded.json names the new server for the next process');
    assert.equal(lines.filter((l) => l.includes('took it over')).length, 1, 'one info line on takeover');

    await sharer.close();
    assert.equal(await listening(portOf(sharer)), false, 'close() stopped the server it took over');
  });

  it('of several sharers one takes over, the others keep using its server (and take over in turn)', async () => {
    const dir = tempDir();
    const owner = await open(dir);
    const sharers = [await open(dir), await open(dir)];
    const conns = sharers.map((s) => s.connection('worker'));
    await conns[0]!.set('kept', 'yes');
    await owner.close();

    for (const c of conns) assert.equal(await within(5000, 'GET on a sharer', c.get('kept')), 'yes');
    assert.deepEqual(sharers.map((s) => s.embedded).sort(), [false, true], 'exactly one of them owns the new server');

    // The new owner goes away too: the remaining sharer, which lost the first race, takes over in its turn.
    const [winner, loser] = sharers[0]!.embedded ? [sharers[0]!, sharers[1]!] : [sharers[1]!, sharers[0]!];
    const loserConn = conns[sharers.indexOf(loser)]!;
    await winner.close();
    assert.equal(await within(5000, 'GET on the last sharer', loserConn.get('kept')), 'yes');
    assert.equal(loser.embedded, true);
    await loser.close();
    assert.equal(await listening(portOf(loser)), false);
  });

  it('a sharer that is closing does not take over', async () => {
    const dir = tempDir();
    const owner = await open(dir);
    const sharer = await open(dir);
    await sharer.connection('worker').ping();
    // The sharer's close begins first; the owner's server stops while the sharer's connections are still quitting.
    await Promise.all([sharer.close(), owner.close()]);
    assert.equal(await listening(portOf(owner)), false, 'nobody restarted the server');
    assert.equal(sharer.embedded, false);
  });
});
