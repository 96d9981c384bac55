import { isDeepStrictEqual } from 'node:util';
import { DiscordAPIError, REST, Routes } from 'discord.js';
import type { Config } from '../../config.js';
import { StartupError } from '../../errors.js';
import { commandDefinitions, inviteUrl } from './commands.js';

/** What `syncCommands` did: per scope (a guild id, or 'global'), whether the registered set was replaced. */
export interface SyncResult {
  scope: 'guild' | 'global';
  /** The guilds (or ['global']) whose commands were replaced because they differed. */
  updated: string[];
  /** The guilds (or ['global']) already up to date. */
  unchanged: string[];
  commands: number;
}

/** Fields Discord adds to a stored command, or fills with a default that a definition may leave out. */
const SERVER_FIELDS = new Set(['id', 'application_id', 'guild_id', 'version', 'dm_permission', 'nsfw']);

/**
 * A command as a comparable value: the fields Discord adds dropped, and unset-like values (false, null, empty
 * lists and objects) removed on both sides, since Discord leaves out `required: false` and friends in what it
 * returns. Options keep their order (Discord shows them in that order).
 */
function normalise(value: unknown, top = true): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, false));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) {
    if (top && SERVER_FIELDS.has(key)) continue;
    if (v === false || v === null || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) continue;
    out[key] = normalise(v, false);
  }
  return out;
}

function sameSet(registered: unknown[], wanted: unknown[]): boolean {
  const key = (c: unknown) => {
    const n = normalise(c) as { name?: string; type?: number };
    return `${n.type ?? 1}:${n.name ?? ''}`;
  };
  const byKey = (list: unknown[]) => [...list].sort((a, b) => key(a).localeCompare(key(b))).map((c) => normalise(c));
  return isDeepStrictEqual(byKey(registered), byKey(wanted));
}

/**
 * `portrait start` keeps the slash commands in step with this version: it reads what is registered (in each guild
 * of DISCORD_GUILD_IDS, else globally) and replaces the set only where it differs, so an upgrade that adds or changes
 * a command needs no `register-commands`, and an unchanged start writes nothing (global changes take up to an hour
 * to reach every client). `portrait register-commands` stays for a manual, unconditional write.
 */
export async function syncCommands(
  config: Pick<Config, 'DISCORD_TOKEN' | 'DISCORD_API_URL' | 'DISCORD_GUILD_IDS'>,
  applicationId: string,
): Promise<SyncResult> {
  const rest = new REST({
    version: '10',
    timeout: 15_000,
    ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}),
  }).setToken(config.DISCORD_TOKEN ?? '');
  const wanted = commandDefinitions();
  const scopes =
    config.DISCORD_GUILD_IDS.length > 0
      ? config.DISCORD_GUILD_IDS.map((g) => ({ name: g, route: Routes.applicationGuildCommands(applicationId, g) }))
      : [{ name: 'global', route: Routes.applicationCommands(applicationId) }];
  const result: SyncResult = {
    scope: config.DISCORD_GUILD_IDS.length > 0 ? 'guild' : 'global',
    updated: [],
    unchanged: [],
    commands: wanted.length,
  };
  try {
    for (const { name, route } of scopes) {
      const registered = (await rest.get(route).catch((err: unknown) => {
        // 50001 Missing Access: the application is not in that server (never invited, or removed from it).
        if (err instanceof DiscordAPIError && (err.code === 50001 || err.status === 403) && name !== 'global') {
          throw new StartupError(
            `DISCORD_GUILD_IDS names server ${name}, which this bot is not in (${err.message}): invite it there with ` +
              `${inviteUrl({ DISCORD_APPLICATION_ID: applicationId })}, or remove the id from DISCORD_GUILD_IDS.`,
            2,
            { cause: err },
          );
        }
        throw err;
      })) as unknown[];
      if (sameSet(registered, wanted)) {
        result.unchanged.push(name);
      } else {
        await rest.put(route, { body: wanted });
        result.updated.push(name);
      }
    }
  } finally {
    rest.clearHandlerSweeper();
    rest.clearHashSweeper();
  }
  return result;
}
