import type { Redis } from 'ioredis';
import { runScript } from './scripts.js';

/**
 * BullMQ keeps an events stream per queue (`<prefix>:<queue>:events`, capped by count, not by age) whose entries name
 * job ids and carry what a job returned. `forget` removes a requester's jobs; this removes their traces from those
 * streams too (scripts/purge-job-events.lua), so nothing keyed by their job ids outlives the command.
 */

/** Deletes every entry of `streams` whose jobId is one of `jobIds` or starts with one. Returns how many went. */
export async function purgeJobEvents(
  redis: Redis,
  streams: readonly string[],
  jobIds: readonly string[],
): Promise<number> {
  if (streams.length === 0 || jobIds.length === 0) return 0;
  return Number(await runScript(redis, 'purgeJobEvents', streams, jobIds));
}
