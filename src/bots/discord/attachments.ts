import { formatBytes, isAllowedUrl } from '../../conversation/download.js';
import { PortraitError } from '../../errors.js';

/**
 * The check made the moment a command arrives, before anything is deferred or downloaded: Discord tells us each
 * attachment's declared type and size, so the obvious mistakes (a PDF, a HEIC photo, a 50 MB file, a link to
 * another host) get an immediate private answer. The declared type is only a first filter: after download the
 * bytes are sniffed (src/bots/common/download.ts) and the pipeline decodes them for real.
 */

export interface DeclaredAttachment {
  url: string;
  /** MIME type as Discord reports it; null when Discord did not recognise the file. */
  contentType: string | null;
  size: number;
  name: string;
}

export interface DeclaredLimits {
  maxBytes: number;
  allowedHosts: readonly string[];
}

export type DeclaredCheck = { ok: true } | { ok: false; error: PortraitError };

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

/** Checks every attachment; the first problem wins, named by its selfie number (1-based). Pure. */
export function checkDeclaredAttachments(
  attachments: readonly DeclaredAttachment[],
  limits: DeclaredLimits,
): DeclaredCheck {
  for (const [i, a] of attachments.entries()) {
    // "your selfie" for one attachment, "selfie 2" when there are several.
    const problem = checkOne(a, attachments.length > 1 ? i + 1 : undefined, limits);
    if (problem) return { ok: false, error: problem };
  }
  return { ok: true };
}

function checkOne(a: DeclaredAttachment, n: number | undefined, limits: DeclaredLimits): PortraitError | undefined {
  const selfie = n === undefined ? {} : { selfie: n };
  const type = (a.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (HEIC.has(type) || (!type && /\.(heic|heif)$/i.test(a.name))) {
    return new PortraitError('input.heic_unsupported', 'declared HEIC attachment', selfie);
  }
  if (type && !ACCEPTED.has(type)) {
    const got = describeType(type);
    return type.startsWith('image/')
      ? new PortraitError('input.unsupported_format', `declared ${type}`, { ...selfie, got })
      : new PortraitError('input.not_image', `declared ${type}`, { ...selfie, got });
  }
  if (!type && !ACCEPTED_EXT.test(a.name)) {
    return new PortraitError('input.not_image', 'attachment without an image type', {
      ...selfie,
      got: 'an unknown file',
    });
  }
  if (a.size === 0) return new PortraitError('input.empty', 'declared empty attachment', selfie);
  if (a.size > limits.maxBytes) {
    return new PortraitError('input.too_large', 'declared attachment over the limit', {
      ...selfie,
      limit: formatBytes(limits.maxBytes),
      got: formatBytes(a.size),
    });
  }
  if (!isAllowedUrl(a.url, limits.allowedHosts)) {
    return new PortraitError('download.host_not_allowed', 'attachment outside the CDN allow-list', selfie);
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

function describeType(type: string): string {
  const known = NAMES[type];
  if (known) return known;
  if (type.startsWith('video/')) return 'a video';
  if (type.startsWith('audio/')) return 'an audio file';
  if (type.startsWith('text/')) return 'a text file';
  return type.startsWith('image/') ? `a ${type.slice(6).toUpperCase()} image` : 'a document';
}
