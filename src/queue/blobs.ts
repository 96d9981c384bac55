import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Requester } from '../core/request.js';
import type { QueueKeys } from './keys.js';

/**
 * Images in Redis under keys with a TTL: job data carries keys, never bytes. Every key is indexed under its owner so
 * `forget` can remove all of a requester's images at once (selfies are biometric data).
 */
export interface BlobStore {
  /**
   * Stores bytes for the TTL (or `ttlSeconds`, when shorter: progress previews live minutes). `name` makes the key
   * deterministic (results are keyed by job id, so a re-run overwrites).
   */
  put(bytes: Uint8Array, owner: Requester, name?: string, ttlSeconds?: number): Promise<string>;
  /** The bytes, or null when the key expired, was forgotten, or is not a blob key of this store. */
  get(key: string): Promise<Uint8Array | null>;
  /** Which of the keys still exist. */
  exists(keys: readonly string[]): Promise<boolean[]>;
  /** Deletes every blob of this requester and the index itself; returns how many blobs went. */
  forget(owner: Requester): Promise<number>;
  isBlobKey(key: string): boolean;
  /** The key `put(..., name)` writes to. */
  keyFor(name: string): string;
}

export function createBlobStore(redis: Redis, keys: QueueKeys, ttlSeconds: number): BlobStore {
  const isBlobKey = (key: string) => key.startsWith(keys.blobPrefix) && key.length > keys.blobPrefix.length;
  const keyFor = (name: string) => `${keys.blobPrefix}${name}`;
  return {
    isBlobKey,
    keyFor,
    async put(bytes, owner, name, ttl) {
      const key = keyFor(name ?? randomUUID());
      const index = keys.owner(owner);
      const blobTtl = Math.max(1, Math.min(ttl ?? ttlSeconds, ttlSeconds));
      // The index lives a full TTL from the newest put, so it never forgets a key that still exists.
      await redis
        .multi()
        .set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'EX', blobTtl)
        .sadd(index, key)
        .expire(index, ttlSeconds)
        .exec()
        .then(throwOnFailure);
      return key;
    },
    async get(key) {
      // Callers hand keys back from job data and chat payloads: never read anything outside the blob namespace.
      if (!isBlobKey(key)) return null;
      const buf = await redis.getBuffer(key);
      return buf ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : null;
    },
    async exists(list) {
      if (list.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const key of list) pipeline.exists(key);
      const replies = throwOnFailure(await pipeline.exec());
      return list.map((key, i) => isBlobKey(key) && replies[i] === 1);
    },
    async forget(owner) {
      const index = keys.owner(owner);
      const members = await redis.smembers(index);
      let removed = 0;
      for (let i = 0; i < members.length; i += 500) {
        const chunk = members.slice(i, i + 500).filter(isBlobKey);
        if (chunk.length > 0) removed += await redis.del(...chunk);
      }
      await redis.del(index);
      return removed;
    },
  };
}

/** MULTI/pipeline replies carry per-command errors instead of rejecting; surface the first one. */
export function throwOnFailure(replies: [Error | null, unknown][] | null): unknown[] {
  if (!replies) throw new Error('Redis transaction was aborted');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
