import { webApi } from '@slack/bolt';
import type { Config } from '../../config.js';
import { StartupError } from '../../errors.js';

/** Who the bot token logs in as. */
export interface SlackIdentity {
  botUserId: string;
  botName: string;
  team: string;
}

const TIMEOUT_MS = 10_000;

/** Token errors Slack answers with: each means the token itself is wrong, expired or not of the kind asked for. */
const TOKEN_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'not_allowed_token_type',
  'missing_scope',
]);

/**
 * The start-up check of the Slack settings, before Bolt starts: `auth.test` with SLACK_BOT_TOKEN and, for Socket
 * Mode, `apps.connections.open` with SLACK_APP_TOKEN (it only hands out a WebSocket URL, which is left unused).
 * No retries and a 10 s limit, so a wrong token or an unreachable Slack ends the start with one sentence naming the
 * variable (a StartupError), not Bolt's stack trace or its endless reconnects.
 */
export async function checkSlack(
  config: Pick<Config, 'SLACK_BOT_TOKEN' | 'SLACK_APP_TOKEN' | 'SLACK_API_URL'>,
): Promise<SlackIdentity> {
  const client = (token: string | undefined) =>
    new webApi.WebClient(token, {
      slackApiUrl: config.SLACK_API_URL,
      timeout: TIMEOUT_MS,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
    });
  if (config.SLACK_BOT_TOKEN?.startsWith('xapp-')) {
    throw new StartupError(`SLACK_BOT_TOKEN holds an app-level token (xapp-...): ${FIX.SLACK_BOT_TOKEN}.`);
  }
  if (config.SLACK_APP_TOKEN && /^xox[bp]-/.test(config.SLACK_APP_TOKEN)) {
    throw new StartupError(`SLACK_APP_TOKEN holds a bot or user token (xox...): ${FIX.SLACK_APP_TOKEN}.`);
  }
  let identity: SlackIdentity;
  try {
    const auth = await client(config.SLACK_BOT_TOKEN).auth.test();
    identity = { botUserId: auth.user_id ?? '', botName: auth.user ?? '', team: auth.team ?? '' };
  } catch (err) {
    throw slackStartupError(err, 'SLACK_BOT_TOKEN', config.SLACK_API_URL) ?? err;
  }
  if (config.SLACK_APP_TOKEN) {
    try {
      await client(config.SLACK_APP_TOKEN).apps.connections.open();
    } catch (err) {
      throw slackStartupError(err, 'SLACK_APP_TOKEN', config.SLACK_API_URL) ?? err;
    }
  }
  return identity;
}

const FIX: Record<'SLACK_BOT_TOKEN' | 'SLACK_APP_TOKEN', string> = {
  SLACK_BOT_TOKEN:
    "copy the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page into SLACK_BOT_TOKEN",
  SLACK_APP_TOKEN:
    'create an app-level token with the connections:write scope (your app > Basic Information > App-Level Tokens, ' +
    'xapp-...) and put it in SLACK_APP_TOKEN, or leave SLACK_APP_TOKEN unset for HTTP mode',
};

/** A Slack failure at start as one sentence naming the variable: the token refused, Slack unreachable or failing. */
export function slackStartupError(
  err: unknown,
  variable: 'SLACK_BOT_TOKEN' | 'SLACK_APP_TOKEN',
  apiUrl: string,
): StartupError | undefined {
  if (err instanceof StartupError) return err;
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number; original?: Error };
  if (e.code === webApi.ErrorCode.PlatformError) {
    const reason = e.data?.error ?? 'error';
    if (TOKEN_ERRORS.has(reason)) {
      return new StartupError(`Slack refused ${variable} (${reason}): ${FIX[variable]}.`, 2, { cause: err });
    }
    return new StartupError(`Slack answered ${reason} when checking ${variable}: ${FIX[variable]}.`, 2, {
      cause: err,
    });
  }
  if (e.code === webApi.ErrorCode.HTTPError || e.code === webApi.ErrorCode.RateLimitedError) {
    const status = e.code === webApi.ErrorCode.RateLimitedError ? 429 : e.statusCode;
    return new StartupError(
      `Slack answered HTTP ${status} at ${apiUrl} when the bot started: if it persists, see https://slack-status.com ` +
        'and check SLACK_API_URL; start again in a minute.',
      1,
      { cause: err },
    );
  }
  if (e.code !== webApi.ErrorCode.RequestError) return undefined;
  const original = e.original as (Error & { code?: string; cause?: { code?: string } }) | undefined;
  const code = original?.code ?? original?.cause?.code ?? original?.message ?? 'no answer';
  return new StartupError(
    `Slack cannot be reached at ${apiUrl} (${code}): check this machine's internet connection, DNS, proxy and ` +
      'firewall, and SLACK_API_URL.',
    1,
    { cause: err },
  );
}
