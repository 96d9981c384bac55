#!/usr/bin/env node
// Exit 0 when a Redis answers PING at the given URL within a second, else 1. Used by .ci/run.
import { Redis } from 'ioredis';

const url = process.argv[2] ?? 'redis://127.0.0.1:6379';
const redis = new Redis(url, {
  lazyConnect: true,
  connectTimeout: 1000,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
});
redis.on('error', () => {});
try {
  await redis.connect();
  process.exit((await redis.ping()) === 'PONG' ? 0 : 1);
} catch {
  process.exit(1);
}
