import type { Config } from '../../config.js';
import { downloadImage, formatBytes } from '../../conversation/download.js';
import { MAX_SELFIES } from '../../core/request.js';
import { PortraitError } from '../../errors.js';

/** The fields of a Slack file object the adapter reads (events, shortcuts and file_input all carry them). */
export interface SlackFile {
  id?: string;
  name?: string;
  mimetype?: string;
  filetype?: string;
  pretty_type?: string;
  size?: number;
  url_private_download?: string;
  url_private?: string;
}

const IMAGE_FILETYPES = new Set(['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif', 'heic', 'heif']);

function looksLikeImage(f: SlackFile): boolean {
  return (f.mimetype ?? '').startsWith('image/') || IMAGE_FILETYPES.has((f.filetype ?? '').toLowerCase());
}

/**
 * Checks what Slack says about the files before anything is downloaded, so the common mistakes are answered at
 * once: no photo, too many, a PDF, a HEIC, a file over the size limit. Returns the files to download.
 */
export function checkDeclaredFiles(files: readonly SlackFile[], maxBytes: number): SlackFile[] {
  if (files.length === 0) throw new PortraitError('request.no_selfie', 'no files attached');
  const images = files.filter(looksLikeImage);
  if (images.length === 0) {
    const first = files[0];
    const got = (first?.pretty_type ?? first?.filetype ?? 'a file').slice(0, 40);
    throw new PortraitError('input.not_image', 'attachment is not an image', { selfie: 1, got });
  }
  if (images.length > MAX_SELFIES) {
    throw new PortraitError('request.too_many_selfies', 'too many selfies', { limit: MAX_SELFIES });
  }
  for (const [i, f] of images.entries()) {
    const ft = (f.filetype ?? '').toLowerCase();
    if (ft === 'heic' || ft === 'heif' || /image\/hei[cf]/.test(f.mimetype ?? '')) {
      throw new PortraitError('input.heic_unsupported', 'HEIC selfie', { selfie: i + 1 });
    }
    if (typeof f.size === 'number' && f.size > maxBytes) {
      throw new PortraitError('input.too_large', 'selfie over the size limit', {
        selfie: i + 1,
        limit: formatBytes(maxBytes),
        got: formatBytes(f.size),
      });
    }
  }
  return images;
}

export interface FetchFilesOptions {
  config: Pick<Config, 'SLACK_BOT_TOKEN' | 'SLACK_FILE_HOSTS' | 'PORTRAIT_MAX_INPUT_BYTES'>;
  fetch?: typeof fetch;
  /** Told when Slack answers with its login page: a configuration problem for the admin, not the user's fault. */
  onLoginPage?: () => void;
}

/**
 * Downloads Slack private files with the bot token, only from SLACK_FILE_HOSTS (src/bots/common/download.ts does
 * the allow-list, redirects, size cap and magic bytes). Slack answers a request without a valid token, or for a
 * file the token may not read (missing `files:read`), with 200 and its HTML login page: a file that Slack itself
 * declares as an image but that turns out to be a web page is that page, so it is reported as a failed download
 * (the user's photo is fine) and the admin is told through `onLoginPage`.
 */
export async function fetchSlackFiles(files: readonly SlackFile[], o: FetchFilesOptions): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const [i, f] of files.entries()) {
    const selfie = i + 1;
    const url = f.url_private_download ?? f.url_private;
    if (!url) throw new PortraitError('download.failed', 'file has no private URL', { selfie });
    try {
      const image = await downloadImage(url, {
        allowedHosts: o.config.SLACK_FILE_HOSTS,
        maxBytes: o.config.PORTRAIT_MAX_INPUT_BYTES,
        headers: o.config.SLACK_BOT_TOKEN ? { authorization: `Bearer ${o.config.SLACK_BOT_TOKEN}` } : {},
        selfie,
        ...(o.fetch ? { fetch: o.fetch } : {}),
      });
      out.push(image.bytes);
    } catch (err) {
      if (err instanceof PortraitError && err.code === 'input.not_image' && err.details['got'] === 'a web page') {
        o.onLoginPage?.();
        throw new PortraitError('download.failed', 'Slack answered with its login page instead of the file', {
          selfie,
        });
      }
      throw err;
    }
  }
  return out;
}
