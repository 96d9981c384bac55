import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../src/log.js';
import { openRedis, RedisUnavailableError } from '../../src/queue/connection.js';
import { REDIS_URL } from '../helpers/env.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const serverPid = async (conn: { info(section: string): Promise<string> }) =>
  Number(/process_id:(\d+)/.exec(await conn.info('server'))?.[1]);

describe('redis connection', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'portrait-redis-test-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('uses REDIS_URL when set', async () => {
    const redis = await openRedis({ REDIS_URL, PORTRAIT_DATA_DIR: tempDir() }, silentLogger);
    assert.equal(redis.embedded, false);
    assert.equal(await redis.connection().ping(), 'PONG');
    await redis.close();
  });

  it('embeds redis-server on a free loopback port, keeps data across restarts (AOF), stops it on close', async () => {
    const dir = tempDir();
    const redis = await openRedis({ PORTRAIT_DATA_DIR: dir }, silentLogger);
    assert.equal(redis.embedded, true);
    assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    const conn = redis.connection();
    const pid = await serverPid(conn);
    assert.deepEqual(await conn.config('GET', 'appendonly'), ['appendonly', 'yes']);
    await conn.set('kept', 'yes');

    // A second process on the same data folder shares the server instead of starting a second writer.
    const shared = await openRedis({ PORTRAIT_DATA_DIR: dir }, silentLogger);
    assert.equal(shared.embedded, false);
    assert.equal(shared.url, redis.url);
    await shared.close();
    assert.equal(await conn.get('kept'), 'yes', 'closing the sharer leaves the owner’s server running');

    await redis.close();
    assert.equal(alive(pid), false, 'redis-server stopped with close()');
    const reopened = await openRedis({ PORTRAIT_DATA_DIR: dir }, silentLogger);
    assert.equal(await reopened.connection().get('kept'), 'yes');
    await reopened.close();
  });

  it('stops the embedded server when its parent process is killed', async () => {
    const script = new URL('./fixtures/embedded-redis-process.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', script, tempDir()], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const pid = Number(line);
    assert.ok(alive(pid));
    child.kill('SIGKILL');
    await once(child, 'exit');
    // The server notices the closed pipe and shuts down (flushing its AOF): wait for that, bounded.
    for (let i = 0; i < 250 && alive(pid); i++) await sleep(20);
    assert.equal(alive(pid), false);
  });

  it('explains how to get Redis when redis-server is missing', async () => {
    await assert.rejects(
      openRedis({ PORTRAIT_DATA_DIR: tempDir() }, silentLogger, { redisServer: 'redis-server-not-installed' }),
      (err: unknown) =>
        err instanceof RedisUnavailableError &&
        err.message.includes('apt-get install redis-server') &&
        err.message.includes('brew install redis') &&
        err.message.includes('REDIS_URL'),
    );
  });
});
