import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { isPortraitError, PortraitError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { MODEL_CARDS, type ModelCard, type ModelId, modelCard } from './cards.js';
import { type DownloadProgress, downloadVerified, sha256File, terminalProgress } from './download.js';

/** The configuration the registry reads. */
export type ModelConfig = Pick<Config, 'PORTRAIT_MODELS_DIR' | 'PORTRAIT_MODELS_CACHE' | 'PORTRAIT_MODEL_MIRROR'>;

export type ModelLocation = 'models-dir' | 'cache' | 'missing';

export interface ModelStatus {
  id: ModelId;
  file: string;
  license: string;
  optional: boolean;
  bytes: number;
  location: ModelLocation;
  /** Absolute path when found. */
  path?: string;
  /** Where it would be downloaded from (the mirror when set). */
  url: string;
}

export interface VerifyResult {
  id: ModelId;
  file: string;
  /** Optional models (the identity score) may be absent; a required one missing is a failed verify. */
  optional: boolean;
  location: ModelLocation;
  path?: string;
  /** true: sha256 matches; false: it does not; undefined: the file is missing. */
  ok?: boolean;
  expected: string;
  actual?: string;
}

export interface FetchResult {
  id: ModelId;
  file: string;
  path: string;
  /** Where the file came from this time. */
  source: 'models-dir' | 'cache' | 'downloaded';
}

export interface ResolveOptions {
  /** Download into the cache when the file is nowhere local. @defaultValue true */
  download?: boolean;
  /** Draw a progress bar on stderr (only when it is a terminal). @defaultValue true */
  progress?: boolean;
  onProgress?: DownloadProgress;
  signal?: AbortSignal;
}

interface Checked {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** sha256 results by path, shared by every registry in this process (workers re-create theirs). */
const checked = new Map<string, Checked>();

/**
 * Finds model files: PORTRAIT_MODELS_DIR first (an operator's folder, never written to), then the cache folder,
 * then a download from the canonical URL (or PORTRAIT_MODEL_MIRROR + file name) into the cache. Every file is
 * checked against its card's sha256 once per process; the result is remembered by path, size and mtime, so a
 * file replaced on disk is checked again.
 */
export class ModelRegistry {
  readonly #config: ModelConfig;
  readonly #logger: Logger;
  readonly #inFlight = new Map<ModelId, Promise<FetchResult>>();

  constructor(config: ModelConfig, logger: Logger = silentLogger) {
    this.#config = config;
    this.#logger = logger;
  }

  get cacheDir(): string {
    return this.#config.PORTRAIT_MODELS_CACHE;
  }

  /** The URL a card is downloaded from under this configuration. */
  sourceUrl(card: ModelCard): string {
    const mirror = this.#config.PORTRAIT_MODEL_MIRROR;
    if (!mirror) return card.url;
    return new URL(encodeURIComponent(card.file), mirror.endsWith('/') ? mirror : `${mirror}/`).href;
  }

  /** Where a model is now, without hashing or downloading. */
  locate(id: ModelId): { location: ModelLocation; path?: string } {
    const card = modelCard(id);
    const dir = this.#config.PORTRAIT_MODELS_DIR;
    if (dir && existsSync(join(dir, card.file))) return { location: 'models-dir', path: join(dir, card.file) };
    const cached = join(this.cacheDir, card.file);
    if (existsSync(cached)) return { location: 'cache', path: cached };
    return { location: 'missing' };
  }

  /** `portrait models list`: every card and where its file is. */
  list(): ModelStatus[] {
    return MODEL_CARDS.map((card) => {
      const where = this.locate(card.id);
      return {
        id: card.id,
        file: card.file,
        license: card.license,
        optional: card.optional,
        bytes: card.bytes,
        location: where.location,
        ...(where.path ? { path: where.path } : {}),
        url: this.sourceUrl(card),
      };
    });
  }

  /** `portrait models verify`: hashes every file that is present (freshly, ignoring the per-process memo). */
  async verify(): Promise<VerifyResult[]> {
    const out: VerifyResult[] = [];
    for (const card of MODEL_CARDS) {
      const where = this.locate(card.id);
      const base = {
        id: card.id,
        file: card.file,
        optional: card.optional,
        location: where.location,
        expected: card.sha256,
      };
      if (!where.path) {
        out.push(base);
        continue;
      }
      const actual = await sha256File(where.path);
      const ok = actual === card.sha256;
      if (ok) await this.#remember(where.path, actual);
      out.push({ ...base, path: where.path, ok, actual });
    }
    return out;
  }

  /**
   * `portrait models fetch`: makes the given models (default: every required one) present and verified,
   * downloading what is missing.
   */
  async fetch(ids?: readonly ModelId[], options: ResolveOptions = {}): Promise<FetchResult[]> {
    const wanted = ids ?? MODEL_CARDS.filter((c) => !c.optional).map((c) => c.id);
    const out: FetchResult[] = [];
    for (const id of wanted) out.push(await this.ensure(id, options));
    return out;
  }

  /** The verified local path of a model, downloading it when allowed. */
  async resolve(id: ModelId, options: ResolveOptions = {}): Promise<string> {
    return (await this.ensure(id, options)).path;
  }

  /** Like resolve(), saying where the file came from. Concurrent calls for one model share one download. */
  ensure(id: ModelId, options: ResolveOptions = {}): Promise<FetchResult> {
    const running = this.#inFlight.get(id);
    if (running) return running;
    const task = this.#ensure(id, options).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, task);
    return task;
  }

  async #ensure(id: ModelId, options: ResolveOptions): Promise<FetchResult> {
    const card = modelCard(id);
    const dir = this.#config.PORTRAIT_MODELS_DIR;
    if (dir) {
      const path = join(dir, card.file);
      if (existsSync(path)) {
        // The operator's folder is never modified: a wrong file there is theirs to replace.
        if (!(await this.#matches(path, card))) {
          throw new PortraitError(
            'model.checksum',
            `${path} does not match the sha256 of ${card.file} (${card.sha256}); replace it with the file from ${card.url}`,
            { model: card.file },
          );
        }
        return { id, file: card.file, path, source: 'models-dir' };
      }
    }
    const cached = join(this.cacheDir, card.file);
    if (existsSync(cached)) {
      if (await this.#matches(cached, card)) return { id, file: card.file, path: cached, source: 'cache' };
      // Downloads are atomic, so a wrong cached file was changed by hand; fetch a good one instead.
      this.#logger.warn({ model: card.file }, 'cached model file has the wrong sha256; downloading it again');
      await rm(cached, { force: true });
    }
    const url = this.sourceUrl(card);
    if (options.download === false) throw this.#missing(card, url, 'downloads are off');
    const bar = options.progress === false ? undefined : terminalProgress(`downloading ${card.file}`);
    this.#logger.info({ model: card.file, url }, 'downloading model');
    try {
      await downloadVerified(url, cached, card.sha256, {
        onProgress: (received, total) => {
          bar?.onProgress(received, total || card.bytes);
          options.onProgress?.(received, total || card.bytes);
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if (isPortraitError(err) && err.code === 'model.missing') {
        throw this.#missing(card, url, String(err.details['reason'] ?? err.message), err);
      }
      throw err;
    } finally {
      bar?.done();
    }
    await this.#remember(cached, card.sha256);
    return { id, file: card.file, path: cached, source: 'downloaded' };
  }

  #missing(card: ModelCard, url: string, why: string, cause?: unknown): PortraitError {
    const dir = this.#config.PORTRAIT_MODELS_DIR;
    const places = dir ? `${dir} (PORTRAIT_MODELS_DIR) or ${this.cacheDir}` : this.cacheDir;
    return new PortraitError(
      'model.missing',
      `The model ${card.file} is not in ${places} and could not be downloaded from ${url} (${why}): run ` +
        '`npx portrait models fetch` where the internet is reachable, set PORTRAIT_MODELS_DIR to a folder holding ' +
        `${card.file}, or set PORTRAIT_MODEL_MIRROR to a server that serves it by file name.`,
      { model: card.file },
      cause === undefined ? undefined : { cause },
    );
  }

  async #matches(path: string, card: ModelCard): Promise<boolean> {
    const st = await stat(path);
    const seen = checked.get(path);
    if (seen && seen.size === st.size && seen.mtimeMs === st.mtimeMs) return seen.sha256 === card.sha256;
    // A size that differs from the card's is wrong without hashing.
    const sha = card.bytes > 0 && st.size !== card.bytes ? 'size-mismatch' : await sha256File(path);
    checked.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256: sha });
    return sha === card.sha256;
  }

  async #remember(path: string, sha256: string): Promise<void> {
    const st = await stat(path);
    checked.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  }
}
