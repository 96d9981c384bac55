import { parseHostEntry } from '../config.js';
import { type FileKind, type ImageFormat, sniffFile } from '../core/file-kind.js';
import { PortraitError } from '../errors.js';

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
  format: ImageFormat;
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
  const kind = await sniffFile(bytes);
  if (kind.kind === 'image') return { bytes, format: kind.format };
  throw refusalFor(kind, options.selfie);
}

/** The refusal for a file that is no photo the bot reads, named by what it is ("got a PDF"). */
export function refusalFor(kind: Exclude<FileKind, { kind: 'image' }>, selfie?: number): PortraitError {
  const details = selfie !== undefined ? { selfie } : {};
  switch (kind.kind) {
    case 'empty':
      return new PortraitError('input.empty', 'downloaded file is empty', details);
    case 'heic':
      return new PortraitError('input.heic_unsupported', 'HEIC image', details);
    case 'unsupported_image':
      return new PortraitError('input.unsupported_format', `downloaded file is ${kind.name}`, {
        ...details,
        got: kind.name,
      });
    default:
      return new PortraitError('input.not_image', `downloaded file is ${kind.name}`, { ...details, got: kind.name });
  }
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

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

function errorName(err: unknown): string {
  if (err instanceof Error) return err.name === 'Error' ? 'network error' : err.name;
  return 'network error';
}
