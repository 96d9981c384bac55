import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The project's Redis Lua scripts, one `.lua` file each under src/queue/scripts/, loaded by this one typed loader:
 * each script's key count and reply type are declared here, every script is registered once per connection (the
 * first call defines them all; later calls send only the SHA through EVALSHA), and `runScript` is the only way in.
 * `-- include <file>` lines pull shared Lua functions in (the rate-window helpers used by two scripts).
 */

interface ScriptSpec<Reply> {
  file: string;
  /** Fixed key count, or 'variadic' when the caller passes it (a script over a variable number of keys). */
  keys: number | 'variadic';
  /** Only a type carrier for the reply. */
  reply?: Reply;
}

const spec = <Reply>(file: string, keys: number | 'variadic'): ScriptSpec<Reply> => ({ file, keys });

export const SCRIPTS = {
  /** slots.ts: the reservation of a submit. Reply: [outcome, n]. */
  reserveSlot: spec<[string, number]>('reserve-slot.lua', 'variadic'),
  /** rate-limit.ts: one request against a rate limit outside a reservation. Reply: 0 or ms to wait. */
  takeRate: spec<number>('take-rate.lua', 1),
  /** events-stream-purge.ts: forget's sweep of BullMQ's events streams. Reply: entries removed. */
  purgeJobEvents: spec<number>('purge-job-events.lua', 'variadic'),
  /** avatar-events/scheduler.ts: claim the next entry. Reply: its ref, or null. */
  eventClaim: spec<string | null>('event-claim.lua', 2),
  /** avatar-events/scheduler.ts: lease or release a running entry. Reply: 1/0. */
  eventLease: spec<number>('event-lease.lua', 2),
  /** avatar-events/store.ts: write an entry at a revision. Reply: 1, 0 (moved on), -1 (event gone). */
  eventPutEntry: spec<number>('event-put-entry.lua', 3),
  /** avatar-events/store.ts: store an image of a live event. Reply: 1, or 0 (gone). */
  eventPutImage: spec<number>('event-put-image.lua', 3),
} as const;

export type ScriptName = keyof typeof SCRIPTS;
type ReplyOf<N extends ScriptName> = (typeof SCRIPTS)[N] extends ScriptSpec<infer R> ? R : never;
type Arg = string | number | Buffer;

const DIR = new URL('./scripts/', import.meta.url);

/** The script's text with its `-- include` lines replaced by the included files. */
export function scriptSource(file: string): string {
  return readFileSync(new URL(file, DIR), 'utf8').replace(/^-- include (\S+)$/gm, (_, name: string) =>
    readFileSync(new URL(name, DIR), 'utf8'),
  );
}

const SOURCES: Readonly<Record<ScriptName, string>> = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, s]) => [name, scriptSource(s.file)]),
) as Record<ScriptName, string>;

const registered = new WeakSet<Redis>();

function register(redis: Redis): void {
  if (registered.has(redis)) return;
  for (const [name, s] of Object.entries(SCRIPTS)) {
    redis.defineCommand(`portrait_${name}`, {
      lua: SOURCES[name as ScriptName],
      ...(s.keys === 'variadic' ? {} : { numberOfKeys: s.keys }),
    });
  }
  registered.add(redis);
}

/** Runs script `name` with `keys` and `args`, atomically in Redis. */
export async function runScript<N extends ScriptName>(
  redis: Redis,
  name: N,
  keys: readonly string[],
  args: readonly Arg[],
): Promise<ReplyOf<N>> {
  register(redis);
  const s: ScriptSpec<unknown> = SCRIPTS[name];
  if (s.keys !== 'variadic' && keys.length !== s.keys) {
    throw new Error(`script ${name} takes ${s.keys} keys, got ${keys.length}`);
  }
  const command = (redis as unknown as Record<string, (...a: Arg[]) => Promise<unknown>>)[`portrait_${name}`];
  if (!command) throw new Error(`script ${name} is not registered`);
  const call = s.keys === 'variadic' ? [keys.length, ...keys, ...args] : [...keys, ...args];
  return (await command.apply(redis, call)) as ReplyOf<N>;
}
