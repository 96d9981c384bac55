import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback double of the parts of Slack the adapter talks to, driven by the real @slack/web-api client:
 * - Web API methods under /api/ (form-encoded like Slack's), every call recorded with its arguments;
 * - the external upload flow: files.getUploadURLExternal hands out an upload URL on this server, the client POSTs
 *   the bytes there, files.completeUploadExternal shares them;
 * - a private file host under /files/ that, like files.slack.com, needs `Authorization: Bearer <bot token>` and
 *   otherwise answers 200 with an HTML login page;
 * - response_url targets under /response/;
 * - Socket Mode: apps.connections.open (app token) hands out a loopback WebSocket URL; the fake speaks just enough
 *   RFC 6455 (text frames, ping/pong, close) to say hello, push envelopes and collect the client's acks.
 */
export interface Call {
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
  /** For Web API methods: the HTTP status the fake answered with (failHttpNext), else 200. */
  status?: number;
  /** For Web API methods: when the call arrived (Date.now()). */
  at?: number;
}

interface StoredFile {
  bytes: Uint8Array;
  contentType: string;
}

type Waiter = { match: (c: Call) => boolean; resolve: (c: Call) => void };

export class FakeSlack {
  readonly calls: Call[] = [];
  /** Bytes received on upload URLs, by file id. */
  readonly uploads = new Map<string, Uint8Array>();
  readonly botToken: string;
  readonly botUserId = 'UBOT';
  readonly appToken = 'xapp-test-app-token';
  #server: Server;
  #sockets = new Set<Socket>();
  #acks = new Map<string, (payload: unknown) => void>();
  #connectedWaiters: Array<() => void> = [];
  #files = new Map<string, StoredFile>();
  #waiters: Waiter[] = [];
  #ts = 1_700_000_000;
  #fileSeq = 0;
  #failures = new Map<string, string[]>();
  #httpFailures = new Map<string, Array<{ status: number; retryAfter?: number }>>();
  #base = '';

  constructor(botToken = 'xoxb-test-token') {
    this.botToken = botToken;
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket) => this.#upgrade(req, socket));
  }

  async start(): Promise<this> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    // Close Socket Mode connections with a close handshake: a client whose socket just dies keeps a 30 s timer.
    await Promise.all(
      [...this.#sockets].map(async (s) => {
        const closed = once(s, 'close');
        if (s.writable) s.write(frame(8, Buffer.from([0x03, 0xe8])));
        const timer = setTimeout(() => s.destroy(), 2000);
        await closed;
        clearTimeout(timer);
      }),
    );
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  get apiUrl(): string {
    return `${this.#base}/api/`;
  }
  get origin(): string {
    return this.#base;
  }

  /** Hosts a private file; returns its url_private_download. */
  addFile(name: string, bytes: Uint8Array, contentType = 'image/jpeg'): string {
    this.#files.set(name, { bytes, contentType });
    return `${this.#base}/files/${encodeURIComponent(name)}`;
  }

  /**
   * The next calls of `method` fail at the HTTP level, in order, without being carried out: 429 with Retry-After
   * (seconds), as Slack rate-limits, or a 5xx outage.
   */
  failHttpNext(method: string, ...failures: Array<{ status: number; retryAfter?: number }>): void {
    this.#httpFailures.set(method, [...(this.#httpFailures.get(method) ?? []), ...failures]);
  }

  /** The next call of `method` answers `{ ok: false, error }`. */
  failNext(method: string, error: string): void {
    const list = this.#failures.get(method) ?? [];
    list.push(error);
    this.#failures.set(method, list);
  }

  callsOf(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves with the first call (already made or future) of `method` that matches. */
  waitFor(method: string, match: (args: Record<string, unknown>) => boolean = () => true, timeoutMs = 10_000) {
    const pred = (c: Call) => c.method === method && match(c.args);
    const done = this.calls.find(pred);
    if (done) return Promise.resolve(done);
    return new Promise<Call>((resolve, reject) => {
      const waiter: Waiter = { match: pred, resolve };
      this.#waiters.push(waiter);
      // Only a safety net so a broken test fails with a message instead of hanging; never a timed assertion.
      setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${method} call arrived; calls so far: ${this.calls.map((c) => c.method).join(', ')}`));
      }, timeoutMs).unref();
    });
  }

  #record(call: Call): void {
    this.calls.push(call);
    for (const w of [...this.#waiters]) {
      if (w.match(call)) {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        w.resolve(call);
      }
    }
  }

  #nextTs(): string {
    this.#ts += 1;
    return `${this.#ts}.000100`;
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#base);
    const body = await readBody(req);
    if (url.pathname.startsWith('/files/')) return this.#serveFile(req, res, decodeURIComponent(url.pathname.slice(7)));
    if (url.pathname.startsWith('/upload/')) {
      const id = url.pathname.slice(8);
      const form = await new Request(url, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? '' },
        body,
      }).formData();
      const part = form.get('body') ?? form.get('file');
      const bytes = part instanceof Blob ? new Uint8Array(await part.arrayBuffer()) : new Uint8Array(body);
      this.uploads.set(id, bytes);
      this.#record({
        method: 'upload',
        args: { id, size: bytes.byteLength },
        authorization: req.headers.authorization,
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${bytes.byteLength}`);
      return;
    }
    if (url.pathname.startsWith('/response/')) {
      const args = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      this.#record({ method: 'response_url', args, authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      res.writeHead(404).end();
      return;
    }
    const method = url.pathname.slice(5);
    const type = req.headers['content-type'] ?? '';
    const args: Record<string, unknown> = type.includes('json')
      ? (JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    const call: Call = { method, args, authorization: req.headers.authorization, status: 200, at: Date.now() };
    this.#record(call);
    const httpFailure = this.#httpFailures.get(method)?.shift();
    if (httpFailure) {
      call.status = httpFailure.status;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (httpFailure.retryAfter !== undefined) headers['retry-after'] = String(httpFailure.retryAfter);
      const error = httpFailure.status === 429 ? 'ratelimited' : 'fatal_error';
      res.writeHead(httpFailure.status, headers).end(JSON.stringify({ ok: false, error }));
      return;
    }
    const json = (o: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
    const failure = this.#failures.get(method)?.shift();
    if (failure) return void json({ ok: false, error: failure });
    if (method === 'apps.connections.open') {
      if (req.headers.authorization !== `Bearer ${this.appToken}`)
        return void json({ ok: false, error: 'invalid_auth' });
      return void json({ ok: true, url: `${this.#base.replace('http', 'ws')}/socket?ticket=${randomUUID()}` });
    }
    if (req.headers.authorization !== `Bearer ${this.botToken}`) return void json({ ok: false, error: 'invalid_auth' });
    json(this.#answer(method, args));
  }

  /** Answers a test sets for methods the fake does not model (users.info, usergroups.users.list ...). */
  readonly answers = new Map<string, (args: Record<string, unknown>) => Record<string, unknown>>();

  #answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const custom = this.answers.get(method);
    if (custom) return custom(args);
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: this.botUserId, bot_id: 'BBOT', team_id: 'T1', user: 'portrait', team: 'Test' };
      case 'chat.postMessage':
        return { ok: true, channel: args['channel'], ts: this.#nextTs(), message: { text: args['text'] } };
      case 'chat.update':
        return { ok: true, channel: args['channel'], ts: args['ts'] };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.#nextTs() };
      case 'views.open':
      case 'views.publish':
        return { ok: true, view: { id: `V${++this.#fileSeq}` } };
      case 'files.getUploadURLExternal': {
        const id = `F${++this.#fileSeq}`;
        return { ok: true, upload_url: `${this.#base}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = JSON.parse(String(args['files'] ?? '[]')) as Array<{ id: string; title?: string }>;
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? '' })) };
      }
      default:
        // chat.delete, reactions.add, files.delete ...
        return { ok: true };
    }
  }

  /** Resolves once a Socket Mode client is connected (now or later). */
  socketConnected(): Promise<void> {
    if (this.#sockets.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.#connectedWaiters.push(resolve));
  }

  /**
   * Pushes an envelope to the connected Socket Mode client (the first one, as Slack picks one socket) and resolves
   * with the ack's payload when the client acknowledges it.
   */
  sendEnvelope(
    type: 'events_api' | 'slash_commands' | 'interactive',
    payload: unknown,
    o: { retryAttempt?: number; envelopeId?: string } = {},
  ): Promise<unknown> {
    const socket = [...this.#sockets][0];
    if (!socket) return Promise.reject(new Error('no Socket Mode client connected'));
    const envelopeId = o.envelopeId ?? randomUUID();
    const acked = new Promise<unknown>((resolve) => this.#acks.set(envelopeId, resolve));
    const envelope = {
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: type !== 'events_api',
      ...(type === 'events_api'
        ? { retry_attempt: o.retryAttempt ?? 0, retry_reason: o.retryAttempt ? 'timeout' : '' }
        : {}),
    };
    socket.write(frame(1, Buffer.from(JSON.stringify(envelope))));
    return acked;
  }

  #upgrade(req: IncomingMessage, socket: Socket): void {
    const key = req.headers['sec-websocket-key'];
    if (!req.url?.startsWith('/socket') || typeof key !== 'string') {
      socket.destroy();
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => this.#sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const parsed = parseFrame(buffer);
        if (!parsed) break;
        buffer = buffer.subarray(parsed.length);
        if (parsed.opcode === 9) socket.write(frame(10, parsed.payload));
        else if (parsed.opcode === 8) {
          if (socket.writable) socket.end(frame(8, parsed.payload.subarray(0, 2)));
          else socket.end();
        } else if (parsed.opcode === 1) this.#onSocketText(parsed.payload.toString('utf8'));
      }
    });
    socket.write(frame(1, Buffer.from(JSON.stringify({ type: 'hello', num_connections: this.#sockets.size }))));
    for (const w of this.#connectedWaiters.splice(0)) w();
  }

  #onSocketText(text: string): void {
    const msg = JSON.parse(text) as { envelope_id?: string; payload?: unknown };
    if (!msg.envelope_id) return;
    this.#record({ method: 'socket_ack', args: { envelope_id: msg.envelope_id }, authorization: undefined });
    this.#acks.get(msg.envelope_id)?.(msg.payload);
    this.#acks.delete(msg.envelope_id);
  }

  #serveFile(req: IncomingMessage, res: ServerResponse, name: string): void {
    this.#record({ method: 'file_download', args: { name }, authorization: req.headers.authorization });
    const file = this.#files.get(name);
    // Like files.slack.com: no (or a wrong) token gets the sign-in page with status 200, not an error.
    if (req.headers.authorization !== `Bearer ${this.botToken}` || !file) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to your workspace</body></html>');
      return;
    }
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.byteLength });
    res.end(file.bytes);
  }
}

/** One unmasked server frame (FIN set). */
function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (n >= 126 && n < 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else if (n >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

/** One masked client frame from the front of `b`, or undefined while it is incomplete. */
function parseFrame(b: Buffer): { opcode: number; payload: Buffer; length: number } | undefined {
  if (b.length < 2) return undefined;
  const opcode = b[0]! & 0x0f;
  const masked = (b[1]! & 0x80) !== 0;
  let len = b[1]! & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (b.length < 4) return undefined;
    len = b.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (b.length < 10) return undefined;
    len = Number(b.readBigUInt64BE(2));
    offset = 10;
  }
  const maskAt = offset;
  if (masked) offset += 4;
  if (b.length < offset + len) return undefined;
  const payload = Buffer.from(b.subarray(offset, offset + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ b[maskAt + (i % 4)]!;
  return { opcode, payload, length: offset + len };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
