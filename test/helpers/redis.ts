import type { Redis } from 'ioredis';

/** Deletes every key under a test's prefix (SCAN, not KEYS, so a shared Redis is never blocked). */
export async function deleteKeys(conn: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await conn.del(...found);
  } while (cursor !== '0');
}
