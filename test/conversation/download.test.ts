import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { downloadBytes, downloadImage, isAllowedUrl } from '../../src/conversation/download.js';
import { sniffFile } from '../../src/core/file-kind.js';
import { PortraitError } from '../../src/errors.js';
import { sniffFormat } from '../../src/pipeline/image.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]);
const ftyp = (major: string, ...compat: string[]): Uint8Array => {
  const size = 16 + 4 * compat.length;
  const b = Buffer.alloc(size + 8);
  b.writeUInt32BE(size, 0);
  b.write(`ftyp${major}`, 4, 'latin1');
  compat.forEach((c, i) => {
    b.write(c, 16 + 4 * i, 'latin1');
  });
  return new Uint8Array(b);
};

async function rejectsWith(p: Promise<unknown>, code: string): Promise<PortraitError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PortraitError, `expected a PortraitError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('sniffFile (the one sniffer of downloads and the pipeline)', () => {
  const BMP = new Uint8Array(Buffer.concat([Buffer.from('BM'), Buffer.alloc(24)]));
  const table: Array<[string, Uint8Array, string]> = [
    ['png', PNG, 'png'],
    ['jpeg', JPEG, 'jpeg'],
    ['gif', new TextEncoder().encode('GIF89a....'), 'gif'],
    ['webp', new TextEncoder().encode('RIFF\x10\0\0\0WEBPVP8 '), 'webp'],
    ['avif', ftyp('avif', 'mif1', 'miaf'), 'avif'],
    ['avif by compatible brand', ftyp('mif1', 'avif'), 'avif'],
    ['heic', ftyp('heic', 'mif1', 'heic'), 'heic'],
    ['HEIF with HEVC compatible brands', ftyp('mif1', 'mif1', 'heic', 'miaf'), 'heic'],
    // Brands that say neither AVIF nor HEVC: the decoder reads the codec from the header (src/pipeline/image.ts).
    ['HEIF of unknown codec', ftyp('mif1', 'miaf'), 'heif'],
    ['mp4', ftyp('isom', 'mp41'), 'other'],
    ['html login page', new TextEncoder().encode('\n  <!DOCTYPE html><html><head>'), 'web_page'],
    ['pdf', new TextEncoder().encode('%PDF-1.7'), 'other'],
    ['bmp', BMP, 'unsupported_image'],
    ['svg', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'unsupported_image'],
    ['empty', new Uint8Array(0), 'empty'],
    ['text', new TextEncoder().encode('hello world'), 'other'],
  ];
  for (const [name, bytes, expected] of table) {
    it(name, async () => {
      const r = await sniffFile(bytes);
      assert.equal(r.kind === 'image' ? r.format : r.kind, expected);
    });
  }
  it('names a web page so the sentence says what arrived', async () => {
    assert.deepEqual(await sniffFile(new TextEncoder().encode('<html><head><title>Sign in</title>')), {
      kind: 'web_page',
      name: 'a web page',
    });
  });
  it('the download and the pipeline refuse every file with the same code and name', async () => {
    for (const [, bytes] of table) {
      if (bytes.length === 0) continue;
      const pipeline = await sniffFormat(bytes);
      let download: { code: string; got: unknown } | undefined;
      const server = await serve(bytes);
      try {
        await downloadImage(server.url, { allowedHosts: ['127.0.0.1'], maxBytes: 1 << 20 });
      } catch (err) {
        if (!(err instanceof PortraitError)) throw err;
        download = { code: err.code, got: err.details['got'] };
      } finally {
        await server.close();
      }
      if (pipeline.ok)
        assert.equal(download, undefined, `download refused what the pipeline reads: ${pipeline.format}`);
      else
        assert.deepEqual(download, {
          code: pipeline.code,
          got: pipeline.code === 'input.heic_unsupported' ? undefined : pipeline.got,
        });
    }
  });
});

/** A one-file loopback server for the agreement test. */
async function serve(bytes: Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  const srv = createServer((_req, res) => res.end(Buffer.from(bytes)));
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/f`, close: () => new Promise<void>((ok) => srv.close(() => ok())) };
}

describe('isAllowedUrl', () => {
  const hosts = ['cdn.discordapp.com', '127.0.0.1'];
  const table: Array<[string, boolean]> = [
    ['https://cdn.discordapp.com/attachments/1/2/a.png?ex=1', true],
    ['https://CDN.discordapp.com/a.png', true],
    ['http://cdn.discordapp.com/a.png', false],
    ['https://cdn.discordapp.com.evil.example/a.png', false],
    ['https://evil.example/cdn.discordapp.com/a.png', false],
    ['https://user:pw@cdn.discordapp.com/a.png', false],
    ['http://127.0.0.1:9999/a.png', true],
    ['file:///etc/passwd', false],
    ['not a url', false],
  ];
  for (const [url, ok] of table) it(`${url} -> ${ok}`, () => assert.equal(isAllowedUrl(url, hosts), ok));

  // An entry with a port allows that port only (DISCORD_CDN_HOSTS=127.0.0.1:8080, SLACK_FILE_HOSTS=files.example:8443).
  const withPorts = ['127.0.0.1:8080', 'files.example:8443', 'cdn.example:443', '[::1]:9000'];
  const ported: Array<[string, boolean]> = [
    ['http://127.0.0.1:8080/a.png', true],
    ['http://127.0.0.1:8081/a.png', false],
    ['http://127.0.0.1/a.png', false],
    ['https://files.example:8443/f/a.jpg', true],
    ['https://FILES.example:8443/f/a.jpg', true],
    ['https://files.example/f/a.jpg', false],
    ['https://files.example:443/f/a.jpg', false],
    ['https://cdn.example/a.png', true],
    ['https://cdn.example:443/a.png', true],
    ['https://cdn.example:8443/a.png', false],
    ['http://[::1]:9000/a.png', true],
    ['http://[::1]:9001/a.png', false],
  ];
  for (const [url, ok] of ported) {
    it(`${url} under ${withPorts.join(',')} -> ${ok}`, () => assert.equal(isAllowedUrl(url, withPorts), ok));
  }
});

describe('downloadImage over loopback HTTP', () => {
  let server: Server;
  let base: string;
  const seenAuth: Array<[string, string | undefined]> = [];
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/ok.png': (_q, r) => r.writeHead(200, { 'content-type': 'image/png' }).end(PNG),
    '/lying-type.jpg': (_q, r) => r.writeHead(200, { 'content-type': 'image/jpeg' }).end('%PDF-1.4 not a photo'),
    '/login': (_q, r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html>Sign in'),
    '/big-declared': (_q, r) => r.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000)),
    '/big-chunked': (_q, r) => {
      // No Content-Length: the cap must hold while streaming, so send far more than the cap.
      r.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(1024, 1);
      let sent = 0;
      const pump = (): void => {
        while (sent < 1000 && r.write(chunk)) sent++;
        if (sent < 1000) r.once('drain', pump);
        else r.end();
      };
      r.on('error', () => {});
      pump();
    },
    '/redirect-same': (_q, r) => r.writeHead(302, { location: '/ok.png' }).end(),
    '/redirect-away': (_q, r) => r.writeHead(302, { location: 'https://evil.example/x.png' }).end(),
    '/redirect-localhost': (_q, r) =>
      r.writeHead(302, { location: `${base.replace('127.0.0.1', 'localhost')}/ok.png` }).end(),
    '/loop': (_q, r) => r.writeHead(302, { location: '/loop' }).end(),
    '/gone': (_q, r) => r.writeHead(404).end('no'),
    '/empty': (_q, r) => r.writeHead(200).end(),
  };

  before(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      seenAuth.push([path, req.headers.authorization]);
      const route = routes[path];
      if (route) route(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  const opts = { allowedHosts: ['127.0.0.1'], maxBytes: 2048, selfie: 2 };

  it('returns the bytes and the sniffed kind, sending the injected auth header', async () => {
    const got = await downloadImage(`${base}/ok.png?sig=x`, { ...opts, headers: { authorization: 'Bearer t0k3n' } });
    assert.equal(got.format, 'png');
    assert.deepEqual(got.bytes, PNG);
    assert.deepEqual(seenAuth.at(-1), ['/ok.png', 'Bearer t0k3n']);
  });
  it('trusts the bytes, not the declared content type', async () => {
    const err = await rejectsWith(downloadImage(`${base}/lying-type.jpg`, opts), 'input.not_image');
    assert.deepEqual(err.details, { selfie: 2, got: 'a PDF' });
  });
  it('refuses an HTML login page served as 200', async () => {
    await rejectsWith(downloadImage(`${base}/login`, opts), 'input.not_image');
  });
  it('refuses a host that is not allowed before connecting', async () => {
    const before = seenAuth.length;
    await rejectsWith(
      downloadImage(`${base}/ok.png`, { ...opts, allowedHosts: ['cdn.discordapp.com'] }),
      'download.host_not_allowed',
    );
    assert.equal(seenAuth.length, before);
  });
  it('refuses by Content-Length and while streaming', async () => {
    const declared = await rejectsWith(downloadBytes(`${base}/big-declared`, opts), 'download.too_large');
    assert.equal(declared.details['limit'], '2 KB');
    await rejectsWith(downloadBytes(`${base}/big-chunked`, opts), 'download.too_large');
  });
  it('follows a redirect on the same host with the header', async () => {
    const got = await downloadImage(`${base}/redirect-same`, { ...opts, headers: { authorization: 'Bearer a' } });
    assert.equal(got.format, 'png');
    assert.deepEqual(seenAuth.at(-1), ['/ok.png', 'Bearer a']);
  });
  it('never follows a redirect to a host off the list', async () => {
    await rejectsWith(downloadBytes(`${base}/redirect-away`, opts), 'download.host_not_allowed');
  });
  it('drops the auth header when a redirect changes host', async () => {
    const hosts = ['127.0.0.1', 'localhost'];
    await downloadImage(`${base}/redirect-localhost`, {
      ...opts,
      allowedHosts: hosts,
      headers: { authorization: 'B' },
    });
    assert.deepEqual(seenAuth.at(-1), ['/ok.png', undefined]);
  });
  it('stops redirect loops and reports HTTP failures and empty bodies', async () => {
    await rejectsWith(downloadBytes(`${base}/loop`, opts), 'download.failed');
    const gone = await rejectsWith(downloadBytes(`${base}/gone`, opts), 'download.failed');
    assert.equal(gone.details['status'], 404);
    await rejectsWith(downloadImage(`${base}/empty`, opts), 'input.empty');
  });
  it('turns a network error into download.failed without the URL in the message', async () => {
    const err = await rejectsWith(downloadBytes('http://127.0.0.1:1/secret-path.png', opts), 'download.failed');
    assert.ok(!err.message.includes('secret-path'));
  });
});
