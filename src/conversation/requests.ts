import { sniffFile } from '../core/file-kind.js';
import type { Requester } from '../core/request.js';
import { randomSeed } from '../core/request.js';
import { PortraitError } from '../errors.js';
import type { PortraitService, SubmitReceipt } from '../queue/service.js';
import { type Catalogue, checkOptions } from './catalogue.js';
import { downloadBytes, refusalFor } from './download.js';
import { type DeclaredFile, type DeclaredLimits, declaredSelfies, type FileSource } from './files.js';

/**
 * The request side of a conversation, once for every platform: the declared-file check, the option check against
 * the engine-aware catalogue, the downloads (all selfies at once), the blobs and the submit. The adapters parse their
 * platform's input into these calls and render what comes back; the ordering around them (Discord's 3-second defer,
 * Slack's status message) stays theirs.
 */

/** Where a platform's files may be fetched from, and how. */
export interface DownloadPolicy {
  /** DISCORD_CDN_HOSTS, SLACK_FILE_HOSTS. */
  allowedHosts: readonly string[];
  /** PORTRAIT_MAX_INPUT_BYTES. */
  maxBytes: number;
  /** Extra headers for the file host (Slack's bot token); never sent across a redirect to another host. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Slack answers a file request it will not serve (no token, no `files:read`) with 200 and its HTML login page.
   * When set, a file the platform declared as an image whose bytes are a web page is reported as a failed download
   * (the user's photo is fine) and this is called so the operator is told.
   */
  onLoginPage?: () => void;
}

/** The options of a portrait request, as parsed from any entry point. */
export interface PortraitOptions {
  pose: string;
  lighting: string;
  style: string;
  variations: number;
  seed: number;
}

export interface ConversationOptions {
  service: PortraitService;
  catalogue: Catalogue;
  download: DownloadPolicy;
  /** Downloads go through this fetch (tests inject one); the global fetch by default. */
  fetch?: typeof fetch;
  /** Seeds for requests that give none (tests pin it). */
  newSeed?: () => number;
  /** The clock for captions' elapsed times and event windows (tests pin it); Date.now by default. */
  now?: () => number;
}

export class Conversation {
  readonly catalogue: Catalogue;
  readonly service: PortraitService;
  readonly #o: ConversationOptions;

  constructor(options: ConversationOptions) {
    this.#o = options;
    this.catalogue = options.catalogue;
    this.service = options.service;
  }

  newSeed(): number {
    return (this.#o.newSeed ?? randomSeed)();
  }

  now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** The platform's size cap and file hosts, for the declared-file check. */
  get limits(): DeclaredLimits {
    return this.#o.download;
  }

  /** The declared files checked for a request (throws the first problem). See files.ts for `source`. */
  selfies<F extends DeclaredFile>(files: readonly F[], source: FileSource): F[] {
    return declaredSelfies(files, this.limits, source);
  }

  /**
   * The request's options filled with the defaults and checked against the catalogue: a pose the engine refuses,
   * a typo, a variation count out of range are refused before anything is downloaded or queued.
   */
  options(o: { [K in keyof PortraitOptions]?: PortraitOptions[K] | undefined }): PortraitOptions {
    const pose = o.pose?.trim() || 'front';
    const lighting = o.lighting?.trim() || 'studio';
    const style = o.style?.trim() ?? '';
    const bad = checkOptions(this.catalogue, { pose, lighting, style });
    if (bad) throw bad;
    const variations = o.variations ?? 1;
    if (!Number.isInteger(variations) || variations < 1 || variations > 4) {
      throw new PortraitError('request.bad_option', 'variations', { option: 'variations', expected: '1 to 4' });
    }
    return { pose, lighting, style, variations, seed: o.seed ?? this.newSeed() };
  }

  /** Downloads one selfie under the platform's policy; `selfie` numbers it in sentences (left out for one). */
  async download(file: DeclaredFile, selfie?: number): Promise<Uint8Array> {
    const { allowedHosts, maxBytes, headers, onLoginPage } = this.#o.download;
    const details = selfie === undefined ? {} : { selfie };
    if (!file.url) throw new PortraitError('download.failed', 'file has no download URL', details);
    const bytes = await downloadBytes(file.url, {
      allowedHosts,
      maxBytes,
      ...(headers ? { headers } : {}),
      ...(selfie !== undefined ? { selfie } : {}),
      ...(this.#o.fetch ? { fetch: this.#o.fetch } : {}),
    });
    const kind = await sniffFile(bytes);
    if (kind.kind === 'image') return bytes;
    if (kind.kind === 'web_page' && onLoginPage) {
      // The platform declared an image and its file host sent a web page: its login page, not the user's fault.
      onLoginPage();
      throw new PortraitError('download.failed', 'the file host answered with a web page instead of the file', details);
    }
    throw refusalFor(kind, selfie);
  }

  /** Downloads every selfie at once and stores each as a blob owned by the requester; the keys in order. */
  async storeSelfies(files: readonly DeclaredFile[], owner: Requester): Promise<string[]> {
    const many = files.length > 1;
    const images = await Promise.all(files.map((f, i) => this.download(f, many ? i + 1 : undefined)));
    return Promise.all(images.map((bytes) => this.service.putBlob(bytes, owner)));
  }

  /** Queues the request; the route is the adapter's own record of where to answer. */
  submit(o: {
    idempotencyKey: string;
    requester: Requester;
    selfieKeys: readonly string[];
    options: PortraitOptions;
    route: Record<string, string>;
  }): Promise<SubmitReceipt> {
    return this.service.submit({
      idempotencyKey: o.idempotencyKey,
      request: { requester: o.requester, selfieKeys: [...o.selfieKeys], ...o.options, route: o.route },
    });
  }
}
