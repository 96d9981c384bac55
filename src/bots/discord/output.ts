import {
  type APIActionRowComponent,
  type APIChannel,
  type APIComponentInMessageActionRow,
  type APIMessage,
  DiscordAPIError,
  MessageFlags,
  type RawFile,
  type REST,
  Routes,
} from 'discord.js';
import type { Logger } from '../../log.js';
import type { DiscordRoute } from './route.js';
import type { TokenBook } from './tokens.js';

/**
 * Everything the adapter posts outside an interaction's first response goes through here, as plain REST calls on
 * the client's REST manager (no cache needed, so it works the same right after a restart). Every body carries
 * `allowed_mentions: { parse: [] }`.
 */
export interface OutgoingMessage {
  content: string;
  components?: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** Metadata of the uploaded files by index: alt text for screen readers. */
  attachments?: Array<{ id: number; filename: string; description?: string }>;
}

export const NO_MENTIONS = Object.freeze({ parse: [] as never[] });

/** Discord error codes this file reacts to. */
const INVALID_WEBHOOK_TOKEN = 50027;
const UNKNOWN_WEBHOOK = 10015;
const UNKNOWN_CHANNEL = 10003;
const UNKNOWN_MESSAGE = 10008;
const MISSING_ACCESS = 50001;
const MISSING_PERMISSIONS = 50013;
const ARCHIVED_THREAD = 50083;
const THREAD_LOCKED = 160005;

export function restErrorCode(err: unknown): number | undefined {
  return err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : undefined;
}

/**
 * A Discord error as it may be logged. DiscordAPIError carries the request URL, which for interaction webhooks
 * contains the interaction token, and the request body: neither may reach the logs.
 */
export function safeRestError(err: unknown): Record<string, string | number> {
  if (err instanceof DiscordAPIError) {
    return { name: err.name, code: err.code, status: err.status, method: err.method, message: err.message };
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(err.stack ? { stack: err.stack } : {}),
    };
  }
  return { name: 'unknown', message: String(err) };
}

export class DiscordOutput {
  constructor(
    private readonly rest: REST,
    private readonly tokens: TokenBook,
    private readonly log: Logger,
  ) {}

  /**
   * Edits the status message: through the interaction token while it is valid (the only way for ephemeral
   * replies, and the one that clears the "thinking..." state), else with the bot token on the channel message.
   * Returns false when there was no way to edit it. `files` are uploaded with the edit (a progress preview); the
   * message's `attachments` then lists what the message keeps.
   */
  async editStatus(route: DiscordRoute, message: OutgoingMessage, files: RawFile[] = []): Promise<boolean> {
    const body = { ...message, allowed_mentions: NO_MENTIONS };
    const token = this.tokens.get(route.interaction);
    if (token) {
      try {
        await this.rest.patch(Routes.webhookMessage(route.app, token, '@original'), { body, files, auth: false });
        return true;
      } catch (err) {
        const code = restErrorCode(err);
        if (code !== INVALID_WEBHOOK_TOKEN && code !== UNKNOWN_WEBHOOK) throw err;
        this.tokens.forget(route.interaction);
      }
    }
    if (route.private || !route.status) return false;
    await this.rest.patch(Routes.channelMessage(route.channel, route.status), { body, files });
    return true;
  }

  async post(channelId: string, message: OutgoingMessage, files: RawFile[] = []): Promise<string> {
    const body = { ...message, allowed_mentions: NO_MENTIONS };
    const sent = (await this.rest.post(Routes.channelMessages(channelId), { body, files })) as APIMessage;
    return sent.id;
  }

  /**
   * Posts the answer where the route says: the thread (falling back to the channel when the thread was deleted,
   * archived or locked), or, for private requests, an ephemeral follow-up while the token lives and a DM after.
   */
  async postAnswer(route: DiscordRoute, message: OutgoingMessage, files: RawFile[] = []): Promise<void> {
    if (route.private) {
      const token = this.tokens.get(route.interaction);
      if (token) {
        try {
          const body = { ...message, flags: MessageFlags.Ephemeral, allowed_mentions: NO_MENTIONS };
          await this.rest.post(Routes.webhook(route.app, token), { body, files, auth: false });
          return;
        } catch (err) {
          const code = restErrorCode(err);
          if (code !== INVALID_WEBHOOK_TOKEN && code !== UNKNOWN_WEBHOOK) throw err;
          this.tokens.forget(route.interaction);
        }
      }
      await this.dm(route.user, message, files);
      return;
    }
    try {
      await this.post(route.thread, message, files);
    } catch (err) {
      const code = restErrorCode(err);
      const threadGone =
        code === UNKNOWN_CHANNEL ||
        code === MISSING_ACCESS ||
        code === MISSING_PERMISSIONS ||
        code === ARCHIVED_THREAD ||
        code === THREAD_LOCKED;
      if (!threadGone || route.thread === route.channel) throw err;
      this.log.warn({ err: safeRestError(err) }, 'thread unavailable, posting the answer in the channel');
      await this.post(route.channel, message, files);
    }
  }

  async dm(userId: string, message: OutgoingMessage, files: RawFile[] = []): Promise<void> {
    const channel = (await this.rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as APIChannel;
    await this.post(channel.id, message, files);
  }

  /** Starts a public thread on a message; undefined when threads are not possible there (fall back to the channel). */
  async startThread(channelId: string, messageId: string, name: string): Promise<string | undefined> {
    try {
      const thread = (await this.rest.post(Routes.threads(channelId, messageId), {
        body: { name: name.slice(0, 100), auto_archive_duration: 1440 },
      })) as APIChannel;
      return thread.id;
    } catch (err) {
      this.log.info({ err: safeRestError(err) }, 'no thread for this request, answering in the channel');
      return undefined;
    }
  }

  /** Adds the requester to the thread so they are notified when the portrait lands. Best effort. */
  async addThreadMember(threadId: string, userId: string): Promise<void> {
    await this.rest.put(Routes.threadMembers(threadId, userId)).catch((err: unknown) => {
      this.log.debug({ err: safeRestError(err) }, 'could not add the requester to the thread');
    });
  }

  async deleteMessage(channelId: string, messageId: string): Promise<void> {
    try {
      await this.rest.delete(Routes.channelMessage(channelId, messageId));
    } catch (err) {
      if (restErrorCode(err) !== UNKNOWN_MESSAGE) throw err;
    }
  }
}
