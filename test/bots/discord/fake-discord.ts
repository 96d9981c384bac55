import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A loopback stand-in for Discord, good enough for the real discord.js client:
 * - REST under `/api/v10` (point the client at it with `rest: { api: base + '/api' }`, i.e. DISCORD_API_URL),
 *   recording every call with its JSON or multipart body;
 * - the gateway: `GET /gateway/bot` hands out this server's WebSocket URL, which speaks HELLO, IDENTIFY, READY,
 *   GUILD_CREATE, heartbeats and dispatches raw INTERACTION_CREATE payloads built by the tests;
 * - a CDN under `/cdn` serving whatever the test puts there (DISCORD_CDN_HOSTS=127.0.0.1).
 * It enforces the rules the adapter must respect: one acknowledgement per interaction (40060 after that), tokens
 * that can be expired (50027), threads that can be forbidden (50013), bot-token auth on channel routes.
 */

export const BOT_TOKEN = 'fake-bot-token.AAAAAA.BBBBBBBBBBBBBBBB';
export const APP_ID = '1100000000000000001';
/** Discord's bot user id is its application's id. */
export const BOT_ID = '1100000000000000001';
export const GUILD_ID = '1100000000000000002';
export const CHANNEL_ID = '1100000000000000003';
export const THREAD_ID = '1100000000000000004';
export const USER = {
  id: '1100000000000000010',
  username: 'alice',
  global_name: 'Alice',
  discriminator: '0',
  avatar: null,
};
export const OTHER_USER = {
  id: '1100000000000000011',
  username: 'bob',
  global_name: 'Bob',
  discriminator: '0',
  avatar: null,
};
const BOT_USER = { id: BOT_ID, username: 'portrait', global_name: null, discriminator: '0', avatar: null, bot: true };

const DISCORD_EPOCH = 1420070400000n;
let counter = 0n;
/** A snowflake for "now", so discord.js computes the real creation time (token expiry) from it. */
export function snowflake(at = Date.now()): string {
  counter = (counter + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | counter).toString();
}

export interface RecordedFile {
  field: string;
  name: string;
  contentType: string;
  bytes: Uint8Array;
}

export interface RecordedCall {
  method: string;
  /** Path without the `/api/v10` prefix and without the query. */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body (or multipart `payload_json`); undefined without a body. */
  body: Record<string, unknown> | undefined;
  files: RecordedFile[];
  auth: string | undefined;
  at: number;
  /** The HTTP status the fake answered with. */
  status?: number;
}

/** A failure the fake answers instead of the real response: 429 with Retry-After (seconds), or a 5xx. */
export interface InjectedFailure {
  status: number;
  retryAfter?: number;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  content: string;
  components: unknown[];
  flags: number;
  attachments: Array<{ id: string; filename: string; size: number; content_type: string }>;
  interactionId?: string;
  deleted?: boolean;
}

interface InteractionRecord {
  id: string;
  token: string;
  channelId: string;
  type: number;
  /** For component interactions: the message carrying the component. */
  messageId?: string;
  acknowledged: boolean;
  originalMessageId?: string;
}

type Waiter = { match: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void };

export class FakeDiscord {
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly cdn = new Map<string, { bytes: Uint8Array; contentType: string }>();
  readonly interactions = new Map<string, InteractionRecord>();
  /** Application commands as registered, by route (`/applications/<id>[/guilds/<id>]/commands`). */
  readonly registeredCommands = new Map<string, unknown[]>();
  /** Servers the bot is not in: their command routes answer 403 Missing Access, as Discord does. */
  readonly missingGuilds = new Set<string>();
  readonly expiredTokens = new Set<string>();
  /** Starting threads fails with Missing Permissions while false. */
  threadsAllowed = true;
  identifies = 0;
  heartbeats = 0;
  #server: Server;
  #wss: WebSocketServer;
  #sockets = new Set<WebSocket>();
  #seq = 0;
  #waiters: Waiter[] = [];
  #base = '';
  #identifyWaiters: Array<() => void> = [];
  #heartbeatWaiters: Array<() => void> = [];
  #failures: Array<{ match: (c: RecordedCall) => boolean; pending: InjectedFailure[] }> = [];

  readonly #heartbeatIntervalMs: number;

  /** `heartbeatIntervalMs` is what HELLO asks the client for (Discord sends about 41 s). */
  constructor(options: { heartbeatIntervalMs?: number } = {}) {
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41_250;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: String(err), code: 0 }));
      });
    });
    this.#wss = new WebSocketServer({ noServer: true });
    this.#server.on('upgrade', (req, socket, head) => {
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws));
    });
  }

  async start(): Promise<this> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise((ok) => this.#server.close(ok));
  }

  /** DISCORD_API_URL for the bot under test. */
  get apiUrl(): string {
    return `${this.#base}/api`;
  }

  /** Serves `bytes` on the fake CDN and returns its URL. */
  putCdnFile(name: string, bytes: Uint8Array, contentType: string): string {
    const path = `/cdn/attachments/${snowflake()}/${randomBytes(4).toString('hex')}/${encodeURIComponent(name)}`;
    this.cdn.set(path, { bytes, contentType });
    return `${this.#base}${path}?ex=${Date.now().toString(16)}&is=signed`;
  }

  // ---------------------------------------------------------------------------------------------- gateway

  /** Resolves once a client has identified (call before or after login; counts identifies). */
  waitForIdentify(count = 1): Promise<void> {
    if (this.identifies >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.identifies >= count) resolve();
        else this.#identifyWaiters.push(check);
      };
      this.#identifyWaiters.push(check);
    });
  }

  /** Resolves once the clients have sent `count` heartbeats in all (each is acknowledged with op 11). */
  async waitForHeartbeats(count: number): Promise<void> {
    while (this.heartbeats < count) await new Promise<void>((resolve) => this.#heartbeatWaiters.push(resolve));
  }

  #onSocket(ws: WebSocket): void {
    this.#sockets.add(ws);
    ws.on('close', () => this.#sockets.delete(ws));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: unknown };
      if (msg.op === 1) {
        this.heartbeats++;
        ws.send(JSON.stringify({ op: 11 }));
        for (const w of this.#heartbeatWaiters.splice(0)) w();
      } else if (msg.op === 2) {
        this.identifies++;
        const sessionId = randomBytes(8).toString('hex');
        this.#send(ws, 'READY', {
          v: 10,
          user: BOT_USER,
          guilds: [{ id: GUILD_ID, unavailable: true }],
          session_id: sessionId,
          resume_gateway_url: this.#base.replace('http', 'ws'),
          shard: [0, 1],
          application: { id: APP_ID, flags: 0 },
        });
        this.#send(ws, 'GUILD_CREATE', guildPayload());
        const waiters = this.#identifyWaiters.splice(0);
        for (const w of waiters) w();
      }
    });
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.#heartbeatIntervalMs } }));
  }

  #send(ws: WebSocket, t: string, d: unknown): void {
    ws.send(JSON.stringify({ op: 0, t, s: ++this.#seq, d }));
  }

  /** Sends a raw INTERACTION_CREATE to every connected client and remembers it for the REST side. */
  dispatchInteraction(raw: Record<string, unknown>): void {
    this.#rememberInteraction(raw);
    for (const ws of this.#sockets) this.#send(ws, 'INTERACTION_CREATE', raw);
  }

  #rememberInteraction(raw: Record<string, unknown>): void {
    const message = raw['message'] as { id: string } | undefined;
    this.interactions.set(raw['id'] as string, {
      id: raw['id'] as string,
      token: raw['token'] as string,
      channelId: raw['channel_id'] as string,
      type: raw['type'] as number,
      ...(message ? { messageId: message.id } : {}),
      acknowledged: false,
    });
  }

  // ---------------------------------------------------------------------------------------------- REST

  /** Resolves with the first call (already made or future) that matches. */
  waitFor(match: (c: RecordedCall) => boolean, what = 'a REST call'): Promise<RecordedCall> {
    const seen = this.calls.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 30_000);
      timer.unref();
      this.#waiters.push({
        match,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      });
    });
  }

  /**
   * The next calls that match are answered with these failures, in order, instead of being carried out (nothing is
   * created or changed): Discord's 429 rate limit (with Retry-After and the JSON body) or a 5xx outage.
   */
  failNext(match: (c: RecordedCall) => boolean, ...failures: InjectedFailure[]): void {
    this.#failures.push({ match, pending: [...failures] });
  }

  callsTo(method: string, pattern: RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && pattern.test(c.path));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#base);
    if (url.pathname.startsWith('/cdn/')) {
      const file = this.cdn.get(url.pathname);
      if (!file) return void res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.byteLength });
      res.end(file.bytes);
      return;
    }
    const prefix = '/api/v10';
    if (!url.pathname.startsWith(prefix)) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const { body, files } = await parseBody(raw, req.headers['content-type']);
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname.slice(prefix.length)),
      query: url.searchParams,
      body,
      files,
      auth: req.headers.authorization,
      at: Date.now(),
    };
    this.calls.push(call);
    const injected = this.#failures.find((f) => f.pending.length > 0 && f.match(call))?.pending.shift();
    const [status, payload] = injected ? failureResponse(injected) : this.#route(call);
    call.status = status;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (injected?.retryAfter !== undefined) {
      headers['retry-after'] = String(injected.retryAfter);
      headers['x-ratelimit-scope'] = 'user';
    }
    if (status === 204) res.writeHead(204).end();
    else res.writeHead(status, headers).end(JSON.stringify(payload));
    for (const w of this.#waiters.splice(0)) {
      if (w.match(call)) w.resolve(call);
      else this.#waiters.push(w);
    }
  }

  #route(c: RecordedCall): [number, unknown] {
    const p = c.path;
    const botAuth = c.auth === `Bot ${BOT_TOKEN}`;
    const at = (re: RegExp): RegExpExecArray | null => re.exec(p);
    let m = at(/^\/interactions\/(\d+)\/([^/]+)\/callback$/);
    // Like Discord, /gateway/bot needs the bot token: a wrong one fails the login there with 401.
    if (c.method === 'GET' && p === '/gateway/bot' && botAuth) {
      return [
        200,
        {
          url: this.#base.replace('http', 'ws'),
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
        },
      ];
    }
    if (m) {
      const rec = this.interactions.get(m[1] ?? '');
      if (!rec || rec.token !== m[2]) return err(404, 10062, 'Unknown interaction');
      if (rec.acknowledged) return err(400, 40060, 'Interaction has already been acknowledged.');
      rec.acknowledged = true;
      const type = c.body?.['type'] as number;
      const data = (c.body?.['data'] ?? {}) as Record<string, unknown>;
      let message: FakeMessage | undefined;
      if (type === 4 || type === 5) {
        message = this.#createMessage(rec.channelId, {
          content: (data['content'] as string) ?? '',
          components: (data['components'] as unknown[]) ?? [],
          flags: ((data['flags'] as number) ?? 0) | (type === 5 ? 128 : 0),
        });
        message.interactionId = rec.id;
        rec.originalMessageId = message.id;
      } else if ((type === 6 || type === 7) && rec.messageId) {
        rec.originalMessageId = rec.messageId;
        message = this.messages.get(rec.messageId);
        if (type === 7 && message) patchMessage(message, data);
      }
      if (c.query.get('with_response') !== 'true') return [204, undefined];
      return [
        200,
        {
          interaction: {
            id: rec.id,
            type: rec.type,
            response_message_id: message?.id,
            response_message_loading: type === 5,
            response_message_ephemeral: Boolean((message?.flags ?? 0) & 64),
          },
          resource: message ? { type, message: this.#apiMessage(message) } : { type },
        },
      ];
    }
    m = at(/^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|\d+))?$/);
    if (m) {
      const token = m[2] ?? '';
      if (this.expiredTokens.has(token)) return err(401, 50027, 'Invalid Webhook Token');
      const rec = [...this.interactions.values()].find((r) => r.token === token);
      if (!rec || m[1] !== APP_ID) return err(404, 10015, 'Unknown Webhook');
      if (!m[3] && c.method === 'POST') {
        const flags = (c.body?.['flags'] as number) ?? 0;
        const msg = this.#createMessage(rec.channelId, { ...bodyMessage(c), flags });
        return [200, this.#apiMessage(msg)];
      }
      const id = m[3] === '@original' ? rec.originalMessageId : m[3];
      const msg = id ? this.messages.get(id) : undefined;
      if (!msg || msg.deleted) return err(404, 10008, 'Unknown Message');
      if (c.method === 'PATCH') {
        patchMessage(msg, c.body ?? {});
        msg.flags &= ~128;
        return [200, this.#apiMessage(msg)];
      }
      if (c.method === 'DELETE') {
        msg.deleted = true;
        return [204, undefined];
      }
      return [200, this.#apiMessage(msg)];
    }
    if (!botAuth) return err(401, 0, '401: Unauthorized');
    m = at(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/);
    if (c.method === 'POST' && m) {
      if (!this.threadsAllowed) return err(403, 50013, 'Missing Permissions');
      const id = snowflake();
      return [
        201,
        {
          id,
          type: 11,
          guild_id: GUILD_ID,
          parent_id: m[1],
          name: c.body?.['name'],
          owner_id: BOT_ID,
          thread_metadata: {
            archived: false,
            auto_archive_duration: 1440,
            locked: false,
            archive_timestamp: new Date().toISOString(),
          },
        },
      ];
    }
    if (c.method === 'PUT' && /^\/channels\/\d+\/thread-members\/\d+$/.test(p)) return [204, undefined];
    m = at(/^\/channels\/(\d+)\/messages$/);
    if (m && c.method === 'POST') {
      const msg = this.#createMessage(m[1] ?? '', bodyMessage(c));
      msg.attachments = c.files.map((f) => ({
        id: snowflake(),
        filename: f.name,
        size: f.bytes.byteLength,
        content_type: f.contentType,
      }));
      return [200, this.#apiMessage(msg)];
    }
    m = at(/^\/channels\/(\d+)\/messages\/(\d+)$/);
    if (m) {
      const msg = this.messages.get(m[2] ?? '');
      if (!msg || msg.deleted || msg.channel_id !== m[1]) return err(404, 10008, 'Unknown Message');
      if (msg.flags & 64) return err(404, 10008, 'Unknown Message'); // ephemeral: not reachable by the bot token
      if (c.method === 'PATCH') {
        patchMessage(msg, c.body ?? {});
        return [200, this.#apiMessage(msg)];
      }
      if (c.method === 'DELETE') {
        msg.deleted = true;
        return [204, undefined];
      }
      return [200, this.#apiMessage(msg)];
    }
    if (c.method === 'POST' && p === '/users/@me/channels') {
      const recipient = String(c.body?.['recipient_id'] ?? '');
      return [200, { id: `9${recipient.slice(1)}`, type: 1, recipients: [USER] }];
    }
    if (c.method === 'GET' && p === '/users/@me') return [200, BOT_USER];
    if (c.method === 'GET' && p === '/applications/@me') {
      return [200, { id: APP_ID, name: 'Portrait', description: '', bot_public: true, flags: 0 }];
    }
    if (/^\/applications\/\d+(\/guilds\/\d+)?\/commands$/.test(p)) {
      const guild = /\/guilds\/(\d+)\//.exec(p)?.[1];
      if (guild && this.missingGuilds.has(guild)) return err(403, 50001, 'Missing Access');
      if (!p.startsWith(`/applications/${APP_ID}/`))
        return err(403, 20012, 'You are not authorized to perform this action on this application');
      if (c.method === 'GET') return [200, this.registeredCommands.get(p) ?? []];
      if (c.method === 'PUT') {
        // Discord answers with the stored commands, each with its id, application id, version and defaults filled in.
        const list = Array.isArray(c.body) ? (c.body as Record<string, unknown>[]) : [];
        const stored = list.map((cmd) => ({
          ...cmd,
          id: snowflake(),
          application_id: APP_ID,
          version: snowflake(),
          default_member_permissions: cmd['default_member_permissions'] ?? null,
        }));
        this.registeredCommands.set(p, stored);
        return [200, stored];
      }
    }
    return err(404, 0, '404: Not Found');
  }

  #createMessage(channelId: string, data: { content?: string; components?: unknown[]; flags?: number }): FakeMessage {
    const msg: FakeMessage = {
      id: snowflake(),
      channel_id: channelId,
      content: data.content ?? '',
      components: data.components ?? [],
      flags: data.flags ?? 0,
      attachments: [],
    };
    this.messages.set(msg.id, msg);
    return msg;
  }

  #apiMessage(m: FakeMessage): Record<string, unknown> {
    return messagePayload({ ...m, author: BOT_USER });
  }
}

function failureResponse(f: InjectedFailure): [number, unknown] {
  if (f.status === 429) {
    return [429, { message: 'You are being rate limited.', retry_after: f.retryAfter ?? 1, global: false, code: 0 }];
  }
  return [f.status, { message: `${f.status}: injected failure`, code: 0 }];
}

function err(status: number, code: number, message: string): [number, unknown] {
  return [status, { code, message }];
}

function bodyMessage(c: RecordedCall): { content: string; components: unknown[]; flags: number } {
  return {
    content: (c.body?.['content'] as string) ?? '',
    components: (c.body?.['components'] as unknown[]) ?? [],
    flags: (c.body?.['flags'] as number) ?? 0,
  };
}

function patchMessage(m: FakeMessage, body: Record<string, unknown>): void {
  if (typeof body['content'] === 'string') m.content = body['content'];
  if (Array.isArray(body['components'])) m.components = body['components'];
}

async function parseBody(
  raw: Buffer,
  contentType: string | undefined,
): Promise<{ body: Record<string, unknown> | undefined; files: RecordedFile[] }> {
  if (raw.byteLength === 0) return { body: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const files: RecordedFile[] = [];
    let body: Record<string, unknown> | undefined;
    for (const [field, value] of form.entries()) {
      if (field === 'payload_json' && typeof value === 'string') body = JSON.parse(value) as Record<string, unknown>;
      else if (typeof value !== 'string') {
        files.push({
          field,
          name: value.name,
          contentType: value.type,
          bytes: new Uint8Array(await value.arrayBuffer()),
        });
      }
    }
    return { body, files };
  }
  return { body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, files: [] };
}

// ------------------------------------------------------------------------------------------------ payloads

function guildPayload(): Record<string, unknown> {
  return {
    id: GUILD_ID,
    name: 'Test server',
    icon: null,
    owner_id: USER.id,
    unavailable: false,
    member_count: 3,
    large: false,
    features: [],
    roles: [
      {
        id: GUILD_ID,
        name: '@everyone',
        permissions: '0',
        position: 0,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
    members: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    channels: [
      {
        id: CHANNEL_ID,
        type: 0,
        guild_id: GUILD_ID,
        name: 'portraits',
        position: 0,
        permission_overwrites: [],
        parent_id: null,
      },
    ],
    threads: [
      {
        id: THREAD_ID,
        type: 11,
        guild_id: GUILD_ID,
        parent_id: CHANNEL_ID,
        name: 'an existing thread',
        owner_id: USER.id,
        thread_metadata: {
          archived: false,
          auto_archive_duration: 1440,
          locked: false,
          archive_timestamp: new Date().toISOString(),
        },
      },
    ],
    joined_at: new Date().toISOString(),
    preferred_locale: 'en-US',
    premium_tier: 0,
    system_channel_flags: 0,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    nsfw_level: 0,
  };
}

export function messagePayload(m: {
  id: string;
  channel_id: string;
  content: string;
  components?: unknown[];
  flags?: number;
  attachments?: unknown[];
  author: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    id: m.id,
    channel_id: m.channel_id,
    guild_id: GUILD_ID,
    author: m.author,
    content: m.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: m.attachments ?? [],
    embeds: [],
    pinned: false,
    type: 0,
    flags: m.flags ?? 0,
    components: m.components ?? [],
  };
}

export interface AttachmentSpec {
  url: string;
  filename: string;
  contentType: string | null;
  size: number;
}

function member(user: typeof USER) {
  return {
    user,
    roles: [],
    permissions: '2251799813685247',
    joined_at: new Date().toISOString(),
    deaf: false,
    mute: false,
    flags: 0,
    nick: null,
    avatar: null,
  };
}

function base(type: number, user: typeof USER, channelId: string) {
  return {
    id: snowflake(),
    application_id: APP_ID,
    type,
    token: `itok-${randomBytes(12).toString('hex')}`,
    version: 1,
    guild_id: GUILD_ID,
    guild: { id: GUILD_ID, features: [], locale: 'en-US' },
    channel_id: channelId,
    channel: {
      id: channelId,
      type: channelId === THREAD_ID ? 11 : 0,
      guild_id: GUILD_ID,
      name: 'portraits',
      ...(channelId === THREAD_ID ? { parent_id: CHANNEL_ID } : {}),
    },
    member: member(user),
    locale: 'en-US',
    guild_locale: 'en-US',
    app_permissions: '2251799813685247',
    entitlements: [],
    authorizing_integration_owners: { '0': GUILD_ID },
    context: 0,
    attachment_size_limit: 10 * 1024 * 1024,
  };
}

export type OptionSpec = { name: string; type: number; value: string | number | boolean; focused?: boolean };

/** A `/portrait` (or other chat command) interaction; attachments become `resolved.attachments`. */
export function chatCommand(
  name: string,
  opts: {
    options?: OptionSpec[];
    attachments?: Record<string, AttachmentSpec>;
    user?: typeof USER;
    channelId?: string;
  } = {},
): Record<string, unknown> {
  const options: OptionSpec[] = [...(opts.options ?? [])];
  const resolved: Record<string, unknown> = {};
  for (const [optName, a] of Object.entries(opts.attachments ?? {})) {
    const id = snowflake();
    options.push({ name: optName, type: 11, value: id });
    resolved[id] = {
      id,
      filename: a.filename,
      size: a.size,
      url: a.url,
      proxy_url: a.url,
      content_type: a.contentType ?? undefined,
      width: 512,
      height: 512,
    };
  }
  return {
    ...base(2, opts.user ?? USER, opts.channelId ?? CHANNEL_ID),
    data: {
      id: snowflake(),
      name,
      type: 1,
      options,
      ...(Object.keys(resolved).length ? { resolved: { attachments: resolved } } : {}),
    },
  };
}

export function autocomplete(option: string, value: string): Record<string, unknown> {
  return {
    ...base(4, USER, CHANNEL_ID),
    data: { id: snowflake(), name: 'portrait', type: 1, options: [{ name: option, type: 3, value, focused: true }] },
  };
}

/** A button (component_type 2) or string select (3) press on a stored fake message. */
export function componentPress(
  message: FakeMessage,
  customId: string,
  opts: { user?: typeof USER; values?: string[] } = {},
): Record<string, unknown> {
  return {
    ...base(3, opts.user ?? USER, message.channel_id),
    message: messagePayload({ ...message, author: BOT_USER }),
    data: { custom_id: customId, component_type: opts.values ? 3 : 2, ...(opts.values ? { values: opts.values } : {}) },
  };
}

/** "Make portrait" run on a message by `user`, the message posted by `author` with these attachments. */
export function messageCommand(
  author: typeof USER,
  attachments: AttachmentSpec[],
  user = USER,
): Record<string, unknown> {
  const target = snowflake();
  return {
    ...base(2, user, CHANNEL_ID),
    data: {
      id: snowflake(),
      name: 'Make portrait',
      type: 3,
      target_id: target,
      resolved: {
        messages: {
          [target]: messagePayload({
            id: target,
            channel_id: CHANNEL_ID,
            content: 'my selfie',
            author,
            attachments: attachments.map((a) => ({
              id: snowflake(),
              filename: a.filename,
              size: a.size,
              url: a.url,
              proxy_url: a.url,
              content_type: a.contentType ?? undefined,
            })),
          }),
        },
      },
    },
  };
}
