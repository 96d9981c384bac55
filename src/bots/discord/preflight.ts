import { type APIApplication, type APIUser, DiscordAPIError, REST, Routes } from 'discord.js';
import type { Config } from '../../config.js';
import { StartupError } from '../../errors.js';

/** Who the token logs in as, read before the gateway connects. */
export interface DiscordIdentity {
  botId: string;
  botName: string;
  applicationId: string;
  applicationName: string;
}

const TIMEOUT_MS = 10_000;

/**
 * The start-up check of the Discord settings: one REST call for the bot user and one for its application, with no
 * retries and a 10 s limit, so a wrong token, an application id of another app or an unreachable Discord ends the
 * start with one sentence naming the variable (a StartupError) instead of a library stack trace, before the worker
 * loads its models. The identity it returns names the bot in the start log and fills in the invite URL.
 */
export async function checkDiscord(
  config: Pick<Config, 'DISCORD_TOKEN' | 'DISCORD_APPLICATION_ID' | 'DISCORD_API_URL'>,
): Promise<DiscordIdentity> {
  const token = config.DISCORD_TOKEN ?? '';
  if (/^bot\s/i.test(token)) {
    throw new StartupError('DISCORD_TOKEN starts with "Bot ": set it to the token alone, without that word.');
  }
  const rest = new REST({
    version: '10',
    retries: 0,
    timeout: TIMEOUT_MS,
    ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}),
  }).setToken(token);
  try {
    const user = (await rest.get(Routes.user('@me'))) as APIUser;
    const app = (await rest.get(Routes.currentApplication())) as APIApplication;
    if (config.DISCORD_APPLICATION_ID && config.DISCORD_APPLICATION_ID !== app.id) {
      throw new StartupError(
        `DISCORD_APPLICATION_ID is ${config.DISCORD_APPLICATION_ID}, but DISCORD_TOKEN belongs to application ${app.id} ` +
          `(${app.name}): set DISCORD_APPLICATION_ID=${app.id}, or use the token of the other application.`,
      );
    }
    return { botId: user.id, botName: user.username, applicationId: app.id, applicationName: app.name };
  } catch (err) {
    throw (
      discordStartupError(err, config.DISCORD_API_URL) ??
      new StartupError(
        `Discord could not be checked at start (${String(err)}): check DISCORD_TOKEN and DISCORD_API_URL.`,
        1,
        {
          cause: err,
        },
      )
    );
  } finally {
    rest.clearHandlerSweeper();
    rest.clearHashSweeper();
  }
}

/**
 * A Discord failure at start as one sentence: the token refused, Discord unreachable or failing. Also used for what
 * the gateway login throws after the check passed (a token reset in between, say). A StartupError passes through;
 * anything else (a bug) gives undefined, to be thrown as it is.
 */
export function discordStartupError(err: unknown, apiUrl: string | undefined): StartupError | undefined {
  if (err instanceof StartupError) return err;
  const where = apiUrl ?? 'https://discord.com/api';
  const status = err instanceof DiscordAPIError ? err.status : undefined;
  const code = errorCode(err);
  if (status === 401 || code === 'TokenInvalid') {
    return new StartupError(
      'Discord refused DISCORD_TOKEN (401 Unauthorized): copy the bot token again from the developer portal ' +
        '(your application > Bot > Reset Token) into DISCORD_TOKEN.',
      2,
      { cause: err },
    );
  }
  if (status !== undefined) {
    return new StartupError(
      `Discord answered HTTP ${status} at ${where} when the bot started: if it persists, see https://discordstatus.com` +
        `${apiUrl ? ' and check DISCORD_API_URL' : ''}; start again in a minute.`,
      1,
      { cause: err },
    );
  }
  if (code === undefined) return undefined;
  return new StartupError(
    `Discord cannot be reached at ${where} (${code}): check this machine's internet connection, DNS, ` +
      `proxy and firewall${apiUrl ? ', and DISCORD_API_URL' : ''}.`,
    1,
    { cause: err },
  );
}

/** The most telling code of a network error: undici wraps the system error (ENOTFOUND ...) as its cause. */
function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  let found: string | undefined;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') found = code;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') found ??= `no answer within ${TIMEOUT_MS / 1000} s`;
    e = (e as { cause?: unknown }).cause;
  }
  return found;
}
