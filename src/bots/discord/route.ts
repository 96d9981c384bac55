import { z } from 'zod';

/**
 * Where a job's answer goes on Discord, stored (as strings) in the request's opaque `route` and handed back with
 * every delivery. It holds ids only, never the interaction token: tokens stay in the memory of the process that
 * received the interaction (src/bots/discord/tokens.ts), and everything here is enough to answer with the bot
 * token after a restart or after the token's 15 minutes.
 */
export interface DiscordRoute {
  /** Application id (interaction webhooks live under it). */
  app: string;
  /** The interaction that created the status message; keys the in-memory token. */
  interaction: string;
  guild: string;
  /** Channel (or thread) holding the status message. */
  channel: string;
  /** Status message id: the deferred reply that says queued/progress/done. Empty when unknown. */
  status: string;
  /** Where portraits are posted: the thread started on the status message, else the channel itself. */
  thread: string;
  /** Ephemeral request: answers go through the interaction token, or a DM once it has expired. */
  private: boolean;
  /** The requester, who alone may use the result's buttons. */
  user: string;
  /** Blob key of the recipe the buttons redo; empty when it could not be stored. */
  recipe: string;
  /** As the user asked, for the caption. */
  pose: string;
  lighting: string;
  /** How many selfies the request had: error sentences name "selfie 2" only when there were several. */
  selfies: number;
}

const snowflake = z.string().regex(/^\d{1,25}$/);
const routeSchema = z.object({
  platform: z.literal('discord'),
  app: snowflake,
  interaction: snowflake,
  guild: z.string().max(25),
  channel: snowflake,
  status: z.string().max(25),
  thread: snowflake,
  private: z.enum(['0', '1']),
  user: snowflake,
  recipe: z.string().max(200),
  pose: z.string().max(200),
  lighting: z.string().max(200),
  selfies: z.enum(['1', '2', '3', '4']),
});

export function routeToRecord(r: DiscordRoute): Record<string, string> {
  return {
    platform: 'discord',
    app: r.app,
    interaction: r.interaction,
    guild: r.guild,
    channel: r.channel,
    status: r.status,
    thread: r.thread,
    private: r.private ? '1' : '0',
    user: r.user,
    recipe: r.recipe,
    pose: r.pose,
    lighting: r.lighting,
    selfies: String(r.selfies),
  };
}

/** The route, or undefined for a record this adapter did not write (another version, another platform). */
export function routeFromRecord(rec: Readonly<Record<string, string>>): DiscordRoute | undefined {
  const parsed = routeSchema.safeParse(rec);
  if (!parsed.success) return undefined;
  const { platform: _platform, private: priv, selfies, ...rest } = parsed.data;
  return { ...rest, private: priv === '1', selfies: Number(selfies) };
}
