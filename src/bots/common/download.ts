import { parseHostEntry } from '../../config.js';
import { PortraitError } from '../../errors.js';

/**
 * Fetches a chat attachment (Discord CDN, Slack private file) for the queue, platform-neutral:
 * - only from hosts on the operator's allow-list (exact host names, case-insensitive), over https; plain http is
 *   accepted for loopback hosts only, so test doubles work and nothing on the network can downgrade a fetch;
 * - redirects are followed by hand and only while they stay on the allow-list; the auth header goes only to the
 *   host it was meant for, never across a redirect to another host;
 * - the size cap is enforced while the body streams in (a lying or missing Content-Length cannot blow memory);
 * - the content is identified by its magic bytes, never by the declared type: a Slack login page served as
 *   `200 text/html` or a PDF renamed `.jpg` is refused with its own error code.
 * Errors are PortraitErrors with user codes (`download.*`, `input.*`) and details that never include the URL.
 */

export type ImageKind = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif';

export interface DownloadOptions {
  /** Hosts the file may come from, e.g. `cdn.discordapp.com` or `files.example:8443` (no scheme, no path). */
  allowedHosts: readonly string[];
  /** Largest accepted body in bytes. */
  maxBytes: number;
  /** Extra request headers for the original host only, e.g. `{ authorization: 'Bearer xoxb-...' }` for Slack. */
  headers?: Readonly<Record<string, string>>;
  /** 1-based selfie number for the error sentences ("selfie 2 is too large"). */
  selfie?: number;
  /** Whole-download time limit (default 30 s). */
  timeoutMs?: number;
  /** At most this many redirects, each to an allowed host (default 3). */
  maxRedirects?: number;
  signal?: AbortSignal;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface DownloadedImage {
  bytes: Uint8Array;
  kind: ImageKind;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True when `url` may be fetched under `allowedHosts`; also used by adapters to refuse a link before deferring. */
export function isAllowedUrl(url: string, allowedHosts: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = parsed.hostname.toLowerCase();
  // An entry with a port allows that port only; without one, any port of the host.
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : '');
  const allowed = allowedHosts.some((entry) => {
    const h = parseHostEntry(entry);
    return 'hostname' in h && h.hostname === host && (h.port === '' || h.port === port);
  });
  if (!allowed) return false;
  if (parsed.username || parsed.password) return false;
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK.has(host));
}

/** Downloads one image attachment under the rules above. Throws PortraitError. */
export async function downloadImage(url: string, options: DownloadOptions): Promise<DownloadedImage> {
  const bytes = await downloadBytes(url, options);
  const details = options.selfie !== undefined ? { selfie: options.selfie } : {};
  const sniffed = sniffImage(bytes);
  if (sniffed.ok) return { bytes, kind: sniffed.kind };
  if (sniffed.reason === 'empty') throw new PortraitError('input.empty', 'downloaded file is empty', details);
  if (sniffed.reason === 'heic') throw new PortraitError('input.heic_unsupported', 'HEIC image', details);
  const got = sniffed.got;
  throw new PortraitError(
    sniffed.reason === 'unsupported_image' ? 'input.unsupported_format' : 'input.not_image',
    `downloaded file is ${got}`,
    { ...details, got },
  );
}

/** Downloads raw bytes under the host allow-list, redirect rule and streaming size cap. Throws PortraitError. */
export async function downloadBytes(url: string, options: DownloadOptions): Promise<Uint8Array> {
  const details = options.selfie !== undefined ? { selfie: options.selfie } : {};
  const doFetch = options.fetch ?? fetch;
  const maxRedirects = options.maxRedirects ?? 3;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

  if (!isAllowedUrl(url, options.allowedHosts)) {
    throw new PortraitError('download.host_not_allowed', 'attachment host is not on the allow-list', details);
  }
  const originalHost = new URL(url).host;
  let current = url;
  for (let hop = 0; ; hop++) {
    const sameHost = new URL(current).host === originalHost;
    let response: Response;
    try {
      response = await doFetch(current, {
        redirect: 'manual',
        signal,
        headers: { accept: 'image/*', ...(sameHost ? options.headers : {}) },
      });
    } catch (err) {
      throw new PortraitError('download.failed', `attachment fetch failed: ${errorName(err)}`, details, {
        cause: err,
      });
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get('location');
      if (!location || hop >= maxRedirects) {
        throw new PortraitError('download.failed', `attachment redirect not followed (${response.status})`, details);
      }
      const next = new URL(location, current).href;
      if (!isAllowedUrl(next, options.allowedHosts)) {
        throw new PortraitError('download.host_not_allowed', 'attachment redirected to a host not allowed', details);
      }
      current = next;
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new PortraitError('download.failed', `attachment fetch answered ${response.status}`, {
        ...details,
        status: response.status,
      });
    }
    return readCapped(response, options.maxBytes, details, signal);
  }
}

async function readCapped(
  response: Response,
  maxBytes: number,
  details: Record<string, number>,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const tooLarge = (got?: number) =>
    new PortraitError('download.too_large', 'attachment exceeds the size limit', {
      ...details,
      limit: formatBytes(maxBytes),
      ...(got !== undefined ? { got: formatBytes(got) } : {}),
    });
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge(declared);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof PortraitError) throw err;
    const what = signal.aborted ? 'timed out' : errorName(err);
    throw new PortraitError('download.failed', `attachment body failed: ${what}`, details, { cause: err });
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

export type SniffResult =
  | { ok: true; kind: ImageKind }
  | { ok: false; reason: 'empty' | 'heic' | 'unsupported_image' | 'not_image'; got: string };

const ascii = (b: Uint8Array, start: number, end: number): string => String.fromCharCode(...b.subarray(start, end));

/** Identifies an image by its first bytes. Pure; the pipeline's ingest decodes and checks it fully later. */
export function sniffImage(b: Uint8Array): SniffResult {
  if (b.length === 0) return { ok: false, reason: 'empty', got: 'an empty file' };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { ok: true, kind: 'jpeg' };
  if (b.length >= 8 && ascii(b, 1, 4) === 'PNG' && b[0] === 0x89 && b[4] === 0x0d && b[5] === 0x0a) {
    return { ok: true, kind: 'png' };
  }
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return { ok: true, kind: 'gif' };
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return { ok: true, kind: 'webp' };
  if (b.length >= 12 && ascii(b, 4, 8) === 'ftyp') {
    // ISO base media: the major brand plus the compatible brands tell AVIF from HEIC.
    const boxSize = Math.min(b.length, Math.max(16, ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0));
    const brands: string[] = [ascii(b, 8, 12)];
    for (let i = 16; i + 4 <= boxSize; i += 4) brands.push(ascii(b, i, i + 4));
    if (brands.some((x) => x === 'avif' || x === 'avis')) return { ok: true, kind: 'avif' };
    if (brands.some((x) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(x))) {
      return { ok: false, reason: 'heic', got: 'a HEIC photo' };
    }
    return { ok: false, reason: 'not_image', got: 'a video or other media file' };
  }
  const unsupported: Array<[boolean, string]> = [
    [b.length >= 2 && ascii(b, 0, 2) === 'BM', 'a BMP image'],
    [b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*'), 'a TIFF image'],
    [b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0, 'an icon file'],
    [b.length >= 4 && b[0] === 0xff && b[1] === 0x0a, 'a JPEG XL image'],
  ];
  for (const [hit, got] of unsupported) if (hit) return { ok: false, reason: 'unsupported_image', got };
  return { ok: false, reason: 'not_image', got: describeNonImage(b) };
}

function describeNonImage(b: Uint8Array): string {
  if (ascii(b, 0, 4) === '%PDF') return 'a PDF';
  if (b[0] === 0x50 && b[1] === 0x4b) return 'a ZIP or Office document';
  const head = ascii(b, 0, Math.min(b.length, 256))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || head.includes('<head')) return 'a web page';
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'an SVG drawing';
  if (head.startsWith('{') || head.startsWith('[')) return 'a JSON file';
  return 'a file of unknown type';
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

function errorName(err: unknown): string {
  if (err instanceof Error) return err.name === 'Error' ? 'network error' : err.name;
  return 'network error';
}
