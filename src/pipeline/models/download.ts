import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PortraitError } from '../../errors.js';

/** Bytes received so far and the expected total (0 when the server did not say). */
export type DownloadProgress = (received: number, total: number) => void;

export interface DownloadOptions {
  onProgress?: DownloadProgress;
  signal?: AbortSignal;
  /** Injected for tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

/** sha256 of a file as lowercase hex, streamed (model files can be gigabytes). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Downloads `url` to `dest` only if its sha256 matches: the bytes stream into a temporary file beside `dest`
 * while being hashed, and the file is renamed into place after the check, so a crash, a cut connection or a
 * tampered mirror never leaves a half or wrong file under the final name.
 * Throws PortraitError 'model.missing' when the file cannot be fetched and 'model.checksum' when it differs.
 */
export async function downloadVerified(
  url: string,
  dest: string,
  sha256: string,
  options: DownloadOptions = {},
): Promise<void> {
  const name = basename(dest);
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, { redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    throw new PortraitError(
      'model.missing',
      `could not download ${name} from ${url}: ${reason(err)}`,
      { model: name, reason: reason(err) },
      {
        cause: err,
      },
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => {});
    throw new PortraitError('model.missing', `could not download ${name} from ${url}: HTTP ${response.status}`, {
      model: name,
      reason: `HTTP ${response.status}`,
    });
  }
  const total = Number(response.headers.get('content-length') ?? 0) || 0;
  await mkdir(dirname(dest), { recursive: true });
  const temp = join(dirname(dest), `.${name}.${process.pid}.${Date.now().toString(36)}.part`);
  const file = await open(temp, 'w');
  const hash = createHash('sha256');
  let received = 0;
  try {
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        await file.write(chunk);
        received += chunk.byteLength;
        options.onProgress?.(received, total);
      }
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (err) {
    await rm(temp, { force: true });
    throw new PortraitError(
      'model.missing',
      `download of ${name} was cut off: ${reason(err)}`,
      { model: name, reason: `cut off: ${reason(err)}` },
      {
        cause: err,
      },
    );
  }
  const got = hash.digest('hex');
  if (got !== sha256.toLowerCase()) {
    await rm(temp, { force: true });
    throw new PortraitError(
      'model.checksum',
      `${name} from ${url} has sha256 ${got}, expected ${sha256}: refusing to use it (a changed upstream file or a bad mirror)`,
      { model: name },
    );
  }
  await rename(temp, dest);
}

function reason(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

/**
 * A one-line progress bar on stderr, redrawn in place, when stderr is a terminal; silent otherwise (logs and CI
 * stay clean). Returns the progress callback and a `done` that ends the line.
 */
export function terminalProgress(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const enabled = stream.isTTY === true;
  let last = 0;
  const draw = (received: number, total: number) => {
    const width = 28;
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    if (total > 0) {
      const frac = Math.min(1, received / total);
      const filled = Math.round(frac * width);
      stream.write(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(received)}/${mb(total)} MB`,
      );
    } else {
      stream.write(`\r${label} ${mb(received)} MB`);
    }
  };
  return {
    onProgress: (received: number, total: number) => {
      if (!enabled) return;
      const now = Date.now();
      // Redraw at most ~10 times a second; always draw the final state.
      if (now - last < 100 && received !== total) return;
      last = now;
      draw(received, total);
    },
    done: () => {
      if (enabled) stream.write('\n');
    },
  };
}
