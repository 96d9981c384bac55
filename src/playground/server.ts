import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ENGINE_NAMES, type EngineName } from '../core/request.js';
import { PortraitError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Playground } from './app.js';
import { type HostRule, hostAllowed, hostRule, originAllowed } from './host.js';
import type { JobView, Session, SessionStore } from './sessions.js';

/**
 * The playground's HTTP side: the page (plain HTML, CSS and JS from ./static, no build step), a small JSON API and
 * one server-sent-events stream per job. Nothing is read from or written to disk after start-up: uploads become
 * TTL'd blobs in Redis through the Playground, images are streamed back from there.
 *
 * Safety for a server on 127.0.0.1: a request whose Host header is not this server's address is refused (DNS
 * rebinding); requests that change anything must carry the `X-Playground` header and, when the browser sends one, an
 * Origin of this server (a foreign page can send neither without a CORS preflight, which is never granted); the
 * session cookie is HttpOnly and SameSite=Strict; a strict Content-Security-Policy allows only this server's files.
 */

export interface PlaygroundServerOptions {
  app: Playground;
  sessions: SessionStore;
  /** The address to listen on (`--host`); 127.0.0.1 unless the operator says otherwise. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Uploads larger than this are refused before their body is read. */
  maxUploadBytes: number;
  log: Logger;
  /** How often queued jobs' positions are re-read for watching pages. Default 1500 ms. */
  positionIntervalMs?: number;
}

export interface PlaygroundServer {
  readonly port: number;
  /** The URL to open, e.g. http://127.0.0.1:7860/. */
  readonly url: string;
  close(): Promise<void>;
}

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

const COOKIE = 'portrait_playground';
const JSON_LIMIT = 64 * 1024;

export async function startPlaygroundServer(o: PlaygroundServerOptions): Promise<PlaygroundServer> {
  const files = await loadStatic();
  let rule: HostRule = hostRule(o.host, o.port);
  const streams = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const refId = randomBytes(4).toString('hex');
      o.log.error({ err, refId, path: pathOf(req) }, 'playground request failed');
      if (!res.headersSent)
        refuse(res, 500, o.app.refusal({ code: 'internal.error', message: '', details: {}, refId }));
      else res.destroy();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (!hostAllowed(req.headers.host, rule)) {
      req.resume();
      const names = [...rule.names].slice(0, 4).map((n) => (n.includes(':') ? `[${n}]` : n));
      return sendText(
        res,
        403,
        `Refused: this playground answers only requests addressed to ${names.map((n) => `${n}:${rule.port}`).join(', ')}.\n`,
      );
    }
    const path = pathOf(req);
    const method = req.method ?? 'GET';
    const page = STATIC_FILES[path];
    if (page && (method === 'GET' || method === 'HEAD')) {
      req.resume();
      const body = files.get(page.file)!;
      res.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-cache', 'content-length': body.length });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if (!path.startsWith('/api/')) {
      req.resume();
      return sendText(res, 404, 'Not found.\n');
    }
    if (method !== 'GET' && method !== 'POST') {
      req.resume();
      return sendText(res, 405, 'Method not allowed.\n');
    }
    if (method === 'POST' && (req.headers['x-playground'] !== '1' || !originAllowed(req.headers.origin, rule))) {
      req.resume();
      return sendText(res, 403, 'Refused: requests that change anything must come from the playground page.\n');
    }
    const session = sessionOf(req, res);
    res.setHeader('cache-control', 'no-store');
    try {
      await route(req, res, method, path, session);
    } catch (err) {
      if (err instanceof PortraitError && err.userError) {
        req.resume();
        return refuse(res, err.code.startsWith('quota.') ? 429 : 422, o.app.refusal(err));
      }
      throw err;
    }
  };

  const route = async (
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    session: Session,
  ): Promise<void> => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const get = method === 'GET';
    if (get && path === '/api/catalogue') return sendJson(res, 200, o.app.catalogue());
    if (get && path === '/api/session') {
      return sendJson(res, 200, { jobs: [...session.jobs.values()] });
    }
    if (get && path === '/api/check') {
      const engine = query.get('engine');
      return sendJson(
        res,
        200,
        o.app.check({
          pose: query.get('pose') ?? undefined,
          lighting: query.get('lighting') ?? undefined,
          style: query.get('style') ?? undefined,
          engine: ENGINE_NAMES.includes(engine as EngineName) ? (engine as EngineName) : undefined,
        }),
      );
    }
    if (get && path === '/api/theme') return sendJson(res, 200, o.app.parseTheme(query.get('text') ?? ''));
    if (get && path === '/api/events') return sendJson(res, 200, await o.app.events());
    if (!get && path === '/api/selfies') {
      const n = Number(query.get('selfie'));
      const selfie = Number.isInteger(n) && n >= 1 && n <= 4 ? n : undefined;
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > o.maxUploadBytes) {
        // Refuse before reading a byte; the connection closes so the rest of the body is not waited for.
        res.setHeader('connection', 'close');
        req.resume();
        return refuse(res, 413, o.app.refusal(o.app.tooLarge(declared, selfie)));
      }
      const body = await readBody(req, o.maxUploadBytes);
      if (body === 'too large') {
        res.setHeader('connection', 'close');
        return refuse(res, 413, o.app.refusal(o.app.tooLarge(undefined, selfie)));
      }
      return sendJson(res, 200, await o.app.upload(session, body, selfie));
    }
    if (!get && path === '/api/portraits') {
      const body = await readBody(req, JSON_LIMIT);
      let parsed: unknown;
      try {
        parsed = body === 'too large' ? undefined : JSON.parse(Buffer.from(body).toString('utf8'));
      } catch {
        parsed = undefined;
      }
      if (!parsed || typeof parsed !== 'object') return sendText(res, 400, 'Expected a JSON object.\n');
      return sendJson(res, 200, await o.app.submit(session, parsed));
    }
    if (!get && path === '/api/forget') {
      req.resume();
      return sendJson(res, 200, { removed: await o.app.forget(session) });
    }
    const image = /^\/api\/images\/([A-Za-z0-9_-]{1,64})$/.exec(path);
    if (get && image) {
      const found = await o.app.image(session, image[1]!);
      if (!found) return sendText(res, 404, 'This image has expired or was deleted.\n');
      res.writeHead(200, { 'content-type': found.type, 'content-length': found.bytes.byteLength });
      res.end(found.bytes);
      return;
    }
    const job = /^\/api\/jobs\/([^/]{1,200})\/(events|cancel)$/.exec(path);
    if (job) {
      const view = session.jobs.get(decodeURIComponent(job[1]!));
      if (!view) return sendText(res, 404, 'No such portrait in this session.\n');
      if (!get && job[2] === 'cancel') {
        req.resume();
        return sendJson(res, 200, { cancelled: await o.app.cancel(session, view.id) });
      }
      if (get && job[2] === 'events') return stream(req, res, view);
    }
    req.resume();
    return sendText(res, 404, 'Not found.\n');
  };

  /** One job's views as server-sent events until it is done; the page's EventSource reconnects on its own. */
  const stream = (req: IncomingMessage, res: ServerResponse, view: JobView) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    streams.add(res);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    let stop = (): void => {};
    const end = () => {
      clearInterval(heartbeat);
      stop();
      streams.delete(res);
      if (!res.writableEnded) res.end();
    };
    stop = o.app.subscribe(view, (job) => {
      res.write(`event: job\ndata: ${JSON.stringify(job)}\n\n`);
      if (job.status === 'done' || job.status === 'failed') setImmediate(end);
    });
    req.on('close', end);
  };

  const sessionOf = (req: IncomingMessage, res: ServerResponse): Session => {
    const id = parseCookie(req.headers.cookie)[COOKIE];
    const known = o.sessions.get(id);
    if (known) return known;
    const session = o.sessions.create();
    res.setHeader('set-cookie', `${COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict`);
    return session;
  };

  const positions = setInterval(() => void o.app.refreshPositions().catch(() => {}), o.positionIntervalMs ?? 1500);
  positions.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  rule = hostRule(o.host, port);
  const shown = urlHost(o.host);
  return {
    port,
    url: `http://${shown}:${port}/`,
    async close() {
      clearInterval(positions);
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The host part of the URL to print: wildcard binds are opened through loopback. */
function urlHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '' || bind === '::' || bind === '[::]') return '127.0.0.1';
  return bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind;
}

async function loadStatic(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const { file } of Object.values(STATIC_FILES)) {
    out.set(file, await readFile(new URL(`./static/${file}`, import.meta.url)));
  }
  return out;
}

function pathOf(req: IncomingMessage): string {
  const raw = (req.url ?? '/').split('?')[0] ?? '/';
  return raw.length > 300 ? raw.slice(0, 300) : raw;
}

/** The body up to `limit` bytes, or 'too large' (the rest is not read; the caller closes the connection). */
async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | 'too large'> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    total += buf.byteLength;
    if (total > limit) {
      req.pause();
      return 'too large';
    }
    chunks.push(buf);
  }
  const all = Buffer.concat(chunks, total);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

function parseCookie(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function refuse(res: ServerResponse, status: number, refusal: { code: string; sentence: string }): void {
  sendJson(res, status, { refusal });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
