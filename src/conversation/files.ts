import { MAX_SELFIES } from '../core/request.js';
import { PortraitError } from '../errors.js';
import { formatBytes, isAllowedUrl } from './download.js';

/**
 * The check made the moment a request arrives, before anything is deferred or downloaded: both platforms say each
 * file's type, name and size, so the obvious mistakes (no photo, too many, a PDF, a HEIC photo, an empty or 50 MB
 * file, a link to another host) get an immediate answer. The declared type is only a first filter: after download
 * the bytes are sniffed (download.ts) and the pipeline decodes them for real. One set of rules for every platform.
 */

/** A file as the platform declares it (Discord attachment, Slack file object), before any byte is fetched. */
export interface DeclaredFile {
  /** Where to download it (Discord CDN url, Slack url_private_download); checked against the host allow-list. */
  url?: string | undefined;
  /** MIME type as the platform reports it; null/undefined when it did not recognise the file. */
  contentType?: string | null | undefined;
  /** File name (or, on Slack, the name built from its filetype): read for the extension only. */
  name?: string | undefined;
  size?: number | undefined;
  /** The platform's readable type name (Slack's pretty_type), used in "got ..." when the file is not an image. */
  typeName?: string | undefined;
}

export interface DeclaredLimits {
  maxBytes: number;
  allowedHosts: readonly string[];
}

/**
 * Where the files come from: 'slots' when each one was given as a selfie (a command's attachment options), so each
 * must be a photo; 'message' when they are whatever a message carries (a mention, a shortcut, a form's file field),
 * so the photos are picked out and other files ignored.
 */
export type FileSource = 'slots' | 'message';

const ACCEPTED = new Set([
  'image/jpeg',
  'image/jpg',
  'image/pjpeg',
  'image/png',
  'image/webp',
  'image/avif',
  'image/gif',
]);
const HEIC = new Set(['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence']);
const ACCEPTED_EXT = /\.(jpe?g|png|webp|avif|gif)$/i;
const HEIC_EXT = /\.(heic|heif)$/i;

const typeOf = (f: DeclaredFile): string => (f.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

function looksLikeImage(f: DeclaredFile): boolean {
  return typeOf(f).startsWith('image/') || ACCEPTED_EXT.test(f.name ?? '') || HEIC_EXT.test(f.name ?? '');
}

/**
 * The selfies of a request, checked. Throws the first problem as a PortraitError; selfie numbers ("selfie 2") are
 * given only when there are several, so a single photo reads "your selfie". Pure.
 */
export function declaredSelfies<F extends DeclaredFile>(
  files: readonly F[],
  limits: DeclaredLimits,
  source: FileSource,
): F[] {
  if (files.length === 0) throw new PortraitError('request.no_selfie', 'no files attached');
  let selfies: F[] = [...files];
  if (source === 'message') {
    selfies = files.filter(looksLikeImage);
    if (selfies.length === 0) {
      const got = describeDeclared(files[0] as F);
      throw new PortraitError('input.not_image', 'attachment is not an image', { got });
    }
  }
  if (selfies.length > MAX_SELFIES) {
    throw new PortraitError('request.too_many_selfies', 'too many selfies', { limit: MAX_SELFIES });
  }
  for (const [i, f] of selfies.entries()) {
    const problem = checkOne(f, selfies.length > 1 ? i + 1 : undefined, limits);
    if (problem) throw problem;
  }
  return selfies;
}

function checkOne(f: DeclaredFile, n: number | undefined, limits: DeclaredLimits): PortraitError | undefined {
  const selfie = n === undefined ? {} : { selfie: n };
  const type = typeOf(f);
  const name = f.name ?? '';
  if (HEIC.has(type) || ((!type || type === 'application/octet-stream') && HEIC_EXT.test(name))) {
    return new PortraitError('input.heic_unsupported', 'declared HEIC attachment', selfie);
  }
  if (type && type !== 'application/octet-stream' && !ACCEPTED.has(type)) {
    const got = describeDeclared(f);
    return type.startsWith('image/')
      ? new PortraitError('input.unsupported_format', `declared ${type}`, { ...selfie, got })
      : new PortraitError('input.not_image', `declared ${type}`, { ...selfie, got });
  }
  if ((!type || type === 'application/octet-stream') && !ACCEPTED_EXT.test(name)) {
    return new PortraitError('input.not_image', 'attachment without an image type', {
      ...selfie,
      got: f.typeName?.slice(0, 40) || 'an unknown file',
    });
  }
  if (f.size === 0) return new PortraitError('input.empty', 'declared empty attachment', selfie);
  if (f.size !== undefined && f.size > limits.maxBytes) {
    return new PortraitError('input.too_large', 'declared attachment over the limit', {
      ...selfie,
      limit: formatBytes(limits.maxBytes),
      got: formatBytes(f.size),
    });
  }
  if (!f.url) return new PortraitError('download.failed', 'file has no download URL', selfie);
  if (!isAllowedUrl(f.url, limits.allowedHosts)) {
    return new PortraitError('download.host_not_allowed', 'attachment outside the host allow-list', selfie);
  }
  return undefined;
}

const NAMES: Record<string, string> = {
  'application/pdf': 'a PDF',
  'image/svg+xml': 'an SVG drawing',
  'image/bmp': 'a BMP image',
  'image/tiff': 'a TIFF image',
  'image/jxl': 'a JPEG XL image',
  'text/plain': 'a text file',
  'text/html': 'a web page',
  'application/zip': 'a ZIP file',
};

/** "a PDF", "a video", Slack's own "Plain Text" ... for the sentence's "(got ...)". */
function describeDeclared(f: DeclaredFile): string {
  const type = typeOf(f);
  const known = NAMES[type];
  if (known) return known;
  if (f.typeName) return f.typeName.slice(0, 40);
  if (type.startsWith('video/')) return 'a video';
  if (type.startsWith('audio/')) return 'an audio file';
  if (type.startsWith('text/')) return 'a text file';
  if (type.startsWith('image/')) return `a ${type.slice(6).toUpperCase()} image`;
  return type ? 'a document' : 'an unknown file';
}
