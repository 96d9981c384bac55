import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { downloadBytes, downloadImage, isAllowedUrl } from '../../src/conversation/download.js';
import { isPortraitError, type PortraitError } from '../../src/errors.js';

/**
 * Attachment downloads under attack, beyond the basics of test/conversation/download.test.ts: URL tricks that make an
 * allowed host name appear somewhere in a URL for another host, redirects to places off the list (other hosts, IP
 * literals, other schemes, downgrades, loops), and bodies that try to exhaust memory or time (never-ending streams,
 * lying Content-Length, gzip bombs, a slow drip). Every one ends in its refusal code, within bounded time and memory.
 */

const CDN = ['cdn.discordapp.com', 'media.discordapp.net'];
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const MAX_MS = 5000;
const MAX_RSS_GROWTH_MB = 300;

async function refusedWith(p: Promise<unknown>, code: string): Promise<PortraitError> {
  const err = await p.then(
    () => assert.fail(`expected ${code}, the download succeeded`),
    (e: unknown) => e,
  );
  assert.ok(isPortraitError(err), `expected a PortraitError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

/** Runs `work`, sampling RSS, and asserts the time and memory bounds. */
async function bounded<T>(label: string, work: () => Promise<T>): Promise<T> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  const started = performance.now();
  try {
    return await work();
  } finally {
    clearInterval(sampler);
    const ms = performance.now() - started;
    const grew = (Math.max(peak, process.memoryUsage.rss()) - before) / 2 ** 20;
    assert.ok(ms < MAX_MS, `${label} took ${ms.toFixed(0)} ms`);
    assert.ok(grew < MAX_RSS_GROWTH_MB, `${label} grew RSS by ${grew.toFixed(0)} MB`);
  }
}

describe('allowed URLs: an allowed host name anywhere but the host does not count', () => {
  const table: Array<[string, boolean]> = [
    ['https://cdn.discordapp.com/attachments/1/2/me.png', true],
    // userinfo tricks: the allowed name is the user name, the host is evil.test
    ['https://cdn.discordapp.com@evil.test/me.png', false],
    ['https://cdn.discordapp.com:443@evil.test/me.png', false],
    ['https://media.discordapp.net:x@evil.test/', false],
    // the allowed name after a delimiter that ends the host
    ['https://evil.test#@cdn.discordapp.com/me.png', false],
    ['https://evil.test?@cdn.discordapp.com/me.png', false],
    ['https://evil.test\\@cdn.discordapp.com/me.png', false],
    ['https://evil.test/cdn.discordapp.com/me.png', false],
    // look-alike hosts
    ['https://cdn.discordapp.com.evil.test/me.png', false],
    ['https://cdn.discordapp.com%2eevil.test/me.png', false],
    ['https://cdn.discordapp.com\t.evil.test/me.png', false],
    ['https://cdn.d\u0456scordapp.com/me.png', false], // Cyrillic i: punycode, another host
    ['https://cdn.discordapp.com./me.png', false], // trailing dot: refused rather than guessed
    ['https://xcdn.discordapp.com/me.png', false],
    // IP literals, however they are spelled, are not on a list of names
    ['https://127.0.0.1/me.png', false],
    ['https://2130706433/me.png', false],
    ['https://0x7f.1/me.png', false],
    ['https://[::1]/me.png', false],
    ['https://[::ffff:7f00:1]/me.png', false],
    ['https://169.254.169.254/latest/meta-data/', false],
    // plain http on a non-loopback host, and other schemes
    ['http://cdn.discordapp.com/me.png', false],
    ['ftp://cdn.discordapp.com/me.png', false],
    ['ws://cdn.discordapp.com/me.png', false],
    ['file://cdn.discordapp.com/etc/passwd', false],
    ['data:image/png;base64,iVBORw0KGgo=', false],
    ['javascript:alert(1)//cdn.discordapp.com', false],
    ['//cdn.discordapp.com/me.png', false],
  ];
  for (const [url, ok] of table) {
    it(`${JSON.stringify(url)} -> ${ok}`, () => assert.equal(isAllowedUrl(url, CDN), ok));
  }

  it('plain http only for loopback hosts that are themselves on the list', () => {
    assert.equal(isAllowedUrl('http://127.0.0.1:8080/me.png', ['127.0.0.1']), true);
    assert.equal(isAllowedUrl('http://localhost:8080/me.png', ['127.0.0.1']), false);
    assert.equal(isAllowedUrl('http://[::1]:8080/me.png', ['127.0.0.1']), false);
  });
});

describe('redirects never leave the allow-list', () => {
  /** A fetch stand-in for https hosts (no TLS in tests): answers from a table and records every URL asked for. */
  function scriptedFetch(routes: Record<string, () => Response>) {
    const asked: string[] = [];
    const fetchFn = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      asked.push(url);
      const route = routes[url];
      if (!route) throw new TypeError(`unexpected fetch of ${url}`);
      return route();
    }) as typeof fetch;
    return { fetchFn, asked };
  }
  const redirect =
    (location: string, status = 302) =>
    () =>
      new Response(null, { status, headers: { location } });
  const png = () => new Response(PNG, { status: 200, headers: { 'content-type': 'image/png' } });

  const offList: Array<[string, string]> = [
    ['a downgrade to http on the same host', 'http://cdn.discordapp.com/me.png'],
    ['a userinfo trick', 'https://cdn.discordapp.com@evil.test/me.png'],
    ['an IP literal (cloud metadata)', 'https://169.254.169.254/latest/meta-data/'],
    ['a decimal IP literal', 'https://2130706433/me.png'],
    ['a protocol-relative location', '//evil.test/me.png'],
    ['a backslash location', '/\\evil.test/me.png'],
    ['a file: URL', 'file:///etc/passwd'],
    ['a data: URL', 'data:image/png;base64,iVBORw0KGgo='],
  ];
  for (const [label, location] of offList) {
    for (const status of [302, 307, 308]) {
      it(`${label} (${status}) -> download.host_not_allowed, never fetched`, async () => {
        const start = 'https://cdn.discordapp.com/attachments/1/2/me.png';
        const { fetchFn, asked } = scriptedFetch({ [start]: redirect(location, status) });
        await refusedWith(
          downloadImage(start, { allowedHosts: CDN, maxBytes: 1 << 20, fetch: fetchFn }),
          'download.host_not_allowed',
        );
        assert.deepEqual(asked, [start]);
      });
    }
  }

  it('a redirect to another allowed host is followed, without the auth header', async () => {
    const start = 'https://cdn.discordapp.com/a.png';
    const next = 'https://media.discordapp.net/a.png';
    const seen: Array<[string, string | null]> = [];
    const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input);
      seen.push([url, new Headers(init?.headers).get('authorization')]);
      return url === start ? redirect(next)() : png();
    }) as typeof fetch;
    const got = await downloadImage(start, {
      allowedHosts: CDN,
      maxBytes: 1 << 20,
      fetch: fetchFn,
      headers: { authorization: 'Bearer secret' },
    });
    assert.equal(got.format, 'png');
    assert.deepEqual(seen, [
      [start, 'Bearer secret'],
      [next, null],
    ]);
  });

  it('a redirect loop between two URLs stops after the redirect budget -> download.failed', async () => {
    const a = 'https://cdn.discordapp.com/a.png';
    const b = 'https://cdn.discordapp.com/b.png';
    const { fetchFn, asked } = scriptedFetch({ [a]: redirect(b), [b]: redirect(a) });
    await refusedWith(
      downloadImage(a, { allowedHosts: CDN, maxBytes: 1 << 20, fetch: fetchFn, maxRedirects: 3 }),
      'download.failed',
    );
    assert.equal(asked.length, 4, 'the first request and three redirects');
  });

  it('a redirect without a Location -> download.failed', async () => {
    const a = 'https://cdn.discordapp.com/a.png';
    const { fetchFn } = scriptedFetch({ [a]: () => new Response(null, { status: 301 }) });
    await refusedWith(downloadImage(a, { allowedHosts: CDN, maxBytes: 1 << 20, fetch: fetchFn }), 'download.failed');
  });
});

describe('bodies that try to exhaust memory or time (raw loopback HTTP)', () => {
  let server: TcpServer;
  let http: Server;
  let base: string;
  let httpBase: string;
  /** Bytes each route wrote before its socket closed, and whether the client hung up. */
  const written = new Map<string, { bytes: number; closed: Promise<void> }>();
  const GZIP_BOMB = gzipSync(Buffer.concat([PNG, Buffer.alloc(64 << 20)]), { level: 9 });

  /** Writes `chunk` until the socket closes or `limit` bytes went out. */
  function pump(sock: Socket, path: string, chunk: Buffer, limit = Number.POSITIVE_INFINITY): void {
    const state = written.get(path);
    if (!state) return;
    const go = (): void => {
      while (!sock.destroyed && state.bytes < limit) {
        state.bytes += chunk.length;
        if (!sock.write(chunk)) {
          sock.once('drain', go);
          return;
        }
      }
      if (state.bytes >= limit) sock.end();
    };
    go();
  }

  before(async () => {
    // A raw TCP server: these answers break HTTP on purpose, which http.ServerResponse would not let us do.
    server = createTcpServer((sock) => {
      sock.on('error', () => {});
      sock.once('data', (head) => {
        const path = head.toString('latin1').split(' ')[1] ?? '/';
        let closedResolve: () => void = () => {};
        const closed = new Promise<void>((r) => {
          closedResolve = r;
        });
        sock.once('close', () => closedResolve());
        written.set(path, { bytes: 0, closed });
        const chunk = Buffer.alloc(64 * 1024, 7);
        switch (path) {
          case '/never-ending':
            sock.write('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n');
            pump(sock, path, Buffer.concat([Buffer.from('10000\r\n'), chunk, Buffer.from('\r\n')]));
            break;
          case '/close-delimited':
            // HTTP/1.0 style: no length at all, the body ends when the connection does (it never does).
            sock.write('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n');
            sock.write(PNG);
            pump(sock, path, chunk);
            break;
          case '/lying-small':
            // Declares 1000 bytes, then keeps sending: the client must stop at the declared length.
            sock.write('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n');
            sock.write(PNG);
            pump(sock, path, chunk, 50 << 20);
            break;
          case '/lying-large':
            // Declares 1 GB and sends ten bytes: refused from the header alone.
            sock.write('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1073741824\r\n\r\n');
            sock.write(PNG.subarray(0, 10));
            break;
          case '/bad-length':
            sock.end('HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n\x89PNG');
            break;
          case '/gzip-bomb':
            // 64 MB of zeros in a 64 KB gzip stream with an honest, small Content-Length.
            sock.write(
              `HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Encoding: gzip\r\nContent-Length: ${GZIP_BOMB.length}\r\n\r\n`,
            );
            sock.end(GZIP_BOMB);
            break;
          case '/slow-drip':
            sock.write('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n');
            {
              const timer = setInterval(() => (sock.destroyed ? clearInterval(timer) : sock.write('x')), 20);
              sock.once('close', () => clearInterval(timer));
            }
            break;
          default:
            sock.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        }
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // An ordinary HTTP server for the redirect-to-a-bomb case.
    http = createHttpServer((_req, res) => res.writeHead(302, { location: `${base}/never-ending` }).end());
    await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
    httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.close();
    http.closeAllConnections();
    await new Promise((ok) => http.close(ok));
  });

  const MAX = 2 << 20;
  const opts = { allowedHosts: ['127.0.0.1'], maxBytes: MAX, selfie: 1 };

  it('a never-ending chunked body is cut at the cap -> download.too_large, and the connection is dropped', async () => {
    const err = await bounded('never-ending', () =>
      refusedWith(downloadImage(`${base}/never-ending`, opts), 'download.too_large'),
    );
    assert.equal(err.details['limit'], '2 MB');
    await written.get('/never-ending')?.closed;
    // The server could only push what fits in the cap plus socket buffers before the client hung up.
    assert.ok((written.get('/never-ending')?.bytes ?? 0) < MAX + (16 << 20));
  });

  it('a never-ending body without any length -> download.too_large', async () => {
    await bounded('close-delimited', () =>
      refusedWith(downloadImage(`${base}/close-delimited`, opts), 'download.too_large'),
    );
    await written.get('/close-delimited')?.closed;
  });

  it('a Content-Length that lies small: only the declared bytes are read', async () => {
    const got = await bounded('lying-small', () => downloadBytes(`${base}/lying-small`, opts));
    assert.equal(got.byteLength, 1000);
  });

  it('a Content-Length that lies large is refused from the header', async () => {
    const err = await bounded('lying-large', () =>
      refusedWith(downloadImage(`${base}/lying-large`, opts), 'download.too_large'),
    );
    assert.equal(err.details['got'], '1024 MB');
  });

  it('a malformed Content-Length -> download.failed', async () => {
    await bounded('bad-length', () => refusedWith(downloadImage(`${base}/bad-length`, opts), 'download.failed'));
  });

  it('a gzip bomb (64 KB on the wire, 64 MB inflated) is cut at the cap while inflating', async () => {
    await bounded('gzip-bomb', () => refusedWith(downloadImage(`${base}/gzip-bomb`, opts), 'download.too_large'));
  });

  it('a slow drip is stopped by the download timeout -> download.failed', async () => {
    const err = await bounded('slow-drip', () =>
      refusedWith(downloadImage(`${base}/slow-drip`, { ...opts, timeoutMs: 300 }), 'download.failed'),
    );
    assert.match(err.message, /timed out|TimeoutError/);
    await written.get('/slow-drip')?.closed;
  });

  it('an allowed redirect into a never-ending body is still capped', async () => {
    await bounded('redirect-bomb', () => refusedWith(downloadImage(`${httpBase}/start`, opts), 'download.too_large'));
  });
});
