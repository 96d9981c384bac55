import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createBlobStore } from '../../src/queue/blobs.js';
import { queueKeys } from '../../src/queue/keys.js';
import { alice, bob, type QueueTestEnv, queueTestEnv } from './helpers.js';

describe('blob store', () => {
  let env: QueueTestEnv;
  let conn: Redis;
  const TTL = 120;

  before(async () => {
    env = await queueTestEnv('blobs');
    conn = env.redis.connection();
  });
  after(() => env.cleanup());

  const store = () => createBlobStore(conn, queueKeys(env.config.PORTRAIT_QUEUE_PREFIX), TTL);

  it('round-trips bytes under a prefixed key with the TTL, indexed under the owner with the same TTL', async () => {
    const blobs = store();
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    const key = await blobs.put(bytes.subarray(1000), alice);
    assert.ok(key.startsWith(`${env.config.PORTRAIT_QUEUE_PREFIX}:blob:`));
    assert.deepEqual(await blobs.get(key), bytes.subarray(1000));
    const ttl = await conn.ttl(key);
    assert.ok(ttl > 0 && ttl <= TTL, `ttl ${ttl}`);
    const index = queueKeys(env.config.PORTRAIT_QUEUE_PREFIX).owner(alice);
    assert.ok(await conn.sismember(index, key));
    assert.ok((await conn.ttl(index)) > 0);
    assert.deepEqual(await blobs.exists([key, `${key}x`]), [true, false]);
  });

  it('expires blobs when their TTL runs out', async () => {
    const blobs = store();
    const key = await blobs.put(new Uint8Array([1]), alice);
    // Expiry is Redis's job; shorten it instead of waiting a minute.
    await conn.pexpire(key, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await blobs.get(key), null);
  });

  it('overwrites a named blob (results keyed by job id) instead of adding another', async () => {
    const blobs = store();
    const first = await blobs.put(new Uint8Array([1]), alice, 'out:job-1:0');
    const second = await blobs.put(new Uint8Array([2]), alice, 'out:job-1:0');
    assert.equal(first, second);
    assert.deepEqual(await blobs.get(first), new Uint8Array([2]));
  });

  it('never reads a key outside the blob namespace', async () => {
    await conn.set(`${env.config.PORTRAIT_QUEUE_PREFIX}:secret`, 'x');
    assert.equal(await store().get(`${env.config.PORTRAIT_QUEUE_PREFIX}:secret`), null);
    assert.equal(await store().get(`${env.config.PORTRAIT_QUEUE_PREFIX}:blob:`), null);
  });

  it('forget removes every blob of one requester and leaves others alone', async () => {
    const blobs = store();
    const mine = await Promise.all([1, 2, 3].map((i) => blobs.put(new Uint8Array([i]), bob)));
    const theirs = await blobs.put(new Uint8Array([9]), { ...bob, userId: 'someone-else' });
    assert.equal(await blobs.forget(bob), 3);
    for (const key of mine) assert.equal(await blobs.get(key), null);
    assert.deepEqual(await blobs.get(theirs), new Uint8Array([9]));
    assert.equal(await conn.exists(queueKeys(env.config.PORTRAIT_QUEUE_PREFIX).owner(bob)), 0);
    assert.equal(await blobs.forget(bob), 0);
  });
});
