import type { Redis } from 'ioredis';

/** Every key under a prefix, read back whole, for tests that check what Redis still holds about someone. */
export interface KeyDump {
  key: string;
  type: string;
  ttl: number;
  /** Everything the key holds, as latin1 text (binary blobs included), for searching. */
  text: string;
}

export async function dumpPrefix(redis: Redis, prefix: string): Promise<KeyDump[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const out: KeyDump[] = [];
  for (const key of keys.sort()) {
    const type = await redis.type(key);
    let parts: unknown;
    switch (type) {
      case 'string':
        parts = (await redis.getBuffer(key))?.toString('latin1');
        break;
      case 'hash':
        parts = await redis.hgetall(key);
        break;
      case 'list':
        parts = await redis.lrange(key, 0, -1);
        break;
      case 'set':
        parts = await redis.smembers(key);
        break;
      case 'zset':
        parts = await redis.zrange(key, 0, -1, 'WITHSCORES');
        break;
      case 'stream':
        parts = await redis.xrange(key, '-', '+');
        break;
      default:
        parts = '';
    }
    out.push({ key, type, ttl: await redis.ttl(key), text: `${key}\n${JSON.stringify(parts)}` });
  }
  return out;
}

/** Keys whose name or content mentions any of `needles`. */
export const mentioning = (dump: KeyDump[], needles: readonly string[]) =>
  dump.filter((k) => needles.some((n) => k.text.includes(n))).map((k) => k.key);
