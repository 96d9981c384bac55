// The chat bots' own platform-neutral texts: the page says exactly what Discord and Slack say.
import { formatBytes, sniffImage } from '../bots/common/download.js';
import {
  altText,
  captionText,
  limitLines,
  limitsFromConfig,
  privacyLines,
  progressText,
  queuedText,
  reportNote,
  STAGE_LABELS,
} from '../bots/common/present.js';
import type { Config } from '../config.js';
import { type AvatarEvent, describeTheme, effectiveStatus, themeRequest } from '../core/events.js';
import { LIGHTING_PRESETS, parseLighting } from '../core/lighting.js';
import { describeError } from '../core/messages.js';
import { checkPoseForEngine, POSE_PRESETS, parsePose } from '../core/pose.js';
import { parsePrompt } from '../core/prompt.js';
import { type EngineName, MAX_SELFIES, MAX_VARIATIONS, randomSeed } from '../core/request.js';
import { checkStyleForEngine, describeStylePresets, parseStyle, STYLE_PRESETS } from '../core/style.js';
import { type ErrorPayload, PortraitError } from '../errors.js';
import type { Logger } from '../log.js';
import { STAGES } from '../pipeline/types.js';
import type { Delivery, PortraitService } from '../queue/index.js';
import type { JobRecipe, JobView, Refusal, Session, SessionStore } from './sessions.js';

/**
 * The playground's behaviour, without HTTP: the catalogues the page offers, the same input checks as the chat bots
 * (declared size, magic bytes, pose and lighting parsers, engine limits, variation and seed ranges), submitting
 * through the real portrait queue, and turning the worker's deliveries into the job views the page shows. Every
 * refusal is a PortraitError whose sentence is the bots' (src/core/messages.ts).
 */

export type PlaygroundConfig = Pick<
  Config,
  | 'PORTRAIT_ENGINE'
  | 'PORTRAIT_MAX_INPUT_BYTES'
  | 'PORTRAIT_BLOB_TTL_SECONDS'
  | 'PORTRAIT_USER_IN_FLIGHT'
  | 'PORTRAIT_SCOPE_QUEUE_CAP'
>;

/** Where avatar events come from (the configured Redis's event store); absent when events are not available. */
export interface ThemeSource {
  /** Every event of every community, newest first. */
  list(): Promise<AvatarEvent[]>;
  get(id: string): Promise<AvatarEvent | null>;
}

export interface PlaygroundDeps {
  config: PlaygroundConfig;
  service: Pick<PortraitService, 'putBlob' | 'getBlob' | 'submit' | 'position' | 'cancel' | 'forget'>;
  sessions: SessionStore;
  /** The private delivery inbox this process consumes (see consumeDeliveries). */
  inbox: string;
  themes?: ThemeSource;
  log: Logger;
  /** Injected by tests; defaults to a random 32-bit seed. */
  newSeed?: () => number;
}

/** What the page POSTs to make a portrait. Everything but the selfies is optional. */
export interface SubmitBody {
  /** A fresh id per button press: a double click, or a retried request, makes one job. */
  requestId?: unknown;
  selfies?: unknown;
  pose?: unknown;
  lighting?: unknown;
  style?: unknown;
  seed?: unknown;
  variations?: unknown;
  /** An avatar event whose theme to preview: its pose, lighting, style, engine and output win. */
  event?: unknown;
}

const STYLE_MAX = 500;
const SEED_MAX = 2 ** 32 - 1;
/** How the quota sentence says to cancel a job on this page (the bots name their status command). */
const CANCEL_HINT = 'the Cancel button under it';

export class Playground {
  readonly #d: PlaygroundDeps;
  readonly #listeners = new Map<string, Set<(job: JobView) => void>>();

  constructor(deps: PlaygroundDeps) {
    this.#d = deps;
  }

  /** The catalogues, limits and privacy lines the page shows; the same data the bots' menus and help use. */
  catalogue() {
    const engine = this.#d.config.PORTRAIT_ENGINE;
    const limits = limitsFromConfig(this.#d.config);
    const preset = (p: { name: string; description: string; aliases: readonly string[] }) => ({
      name: p.name,
      description: p.description,
      aliases: p.aliases,
    });
    return {
      engine,
      // Poses the engine cannot draw (profiles on the compositor) are left out, as in the Discord menus.
      poses: POSE_PRESETS.filter((p) => !checkPoseForEngine({ ...p, label: p.name }, engine)).map(preset),
      lightings: LIGHTING_PRESETS.map(preset),
      styles: STYLE_PRESETS.map((p) => ({ name: p.name, description: p.description, role: p.role })),
      // The compositor renders the catalogue's looks and backdrops, the diffusion engine prompts with any words; the
      // crop engine only crops.
      styleUsed: engine !== 'crop',
      styleHint: describeStylePresets().at(-1) ?? '',
      limits: {
        maxSelfies: MAX_SELFIES,
        maxVariations: MAX_VARIATIONS,
        maxInputBytes: limits.maxInputBytes,
        maxInputSize: formatBytes(limits.maxInputBytes),
      },
      limitLines: limitLines(limits),
      privacyLines: privacyLines(limits, 'Press "Delete my photos"'),
      events: this.#d.themes !== undefined,
      /** Stage order, for the progress bar. */
      stages: STAGES,
      /** Refusals the page makes before asking the server, in the bots' words. */
      sentences: {
        noSelfie: describeError({ code: 'request.no_selfie', details: {} }),
        tooManySelfies: describeError({ code: 'request.too_many_selfies', details: { limit: MAX_SELFIES } }),
      },
    };
  }

  /** Checks a pose and a lighting as the bots do when a command arrives; each field gets its label or its sentence. */
  check(fields: {
    pose?: string | undefined;
    lighting?: string | undefined;
    style?: string | undefined;
    engine?: EngineName | undefined;
  }) {
    const out: Record<string, { label: string } | Refusal> = {};
    if (fields.pose !== undefined) {
      const r = this.#pose(fields.pose, fields.engine ?? this.#d.config.PORTRAIT_ENGINE);
      out['pose'] = r instanceof PortraitError ? this.refusal(r) : { label: r };
    }
    if (fields.lighting !== undefined) {
      const r = parseLighting(fields.lighting.trim() || 'studio');
      out['lighting'] = r.ok ? { label: r.value.label } : this.refusal(r.error);
    }
    if (fields.style !== undefined) {
      const r = this.#style(fields.style, fields.engine ?? this.#d.config.PORTRAIT_ENGINE);
      out['style'] = r instanceof PortraitError ? this.refusal(r) : { label: r };
    }
    return out;
  }

  /** A pasted theme or chat request ("three-quarter left, golden hour, oil painting"), read by the Slack grammar. */
  parseTheme(text: string) {
    const r = parsePrompt(text.slice(0, 2000));
    if (!r.ok) throw r.error;
    return r.value;
  }

  /** Avatar events of the configured Redis whose theme the page can preview. */
  async events() {
    if (!this.#d.themes) return [];
    const now = Date.now();
    return (await this.#d.themes.list()).map((e) => ({
      id: e.id,
      name: e.name,
      platform: e.platform,
      status: effectiveStatus(e, now),
      startsAt: e.startsAt,
      endsAt: e.endsAt,
      theme: { ...e.theme, description: describeTheme(e.theme) },
    }));
  }

  /**
   * Stores one uploaded selfie as a TTL'd blob of the session's requester, after the checks the bots make on an
   * attachment: not empty, under the size cap, an image format the pipeline reads (by its bytes, not its name).
   * `selfie` is its 1-based number when several were picked, so the sentence can say "selfie 2".
   */
  async upload(session: Session, bytes: Uint8Array, selfie?: number): Promise<{ id: string }> {
    const details = selfie === undefined ? {} : { selfie };
    const max = this.#d.config.PORTRAIT_MAX_INPUT_BYTES;
    if (bytes.byteLength > max) throw this.tooLarge(bytes.byteLength, selfie);
    const sniffed = sniffImage(bytes);
    if (!sniffed.ok) {
      if (sniffed.reason === 'empty') throw new PortraitError('input.empty', 'uploaded file is empty', details);
      if (sniffed.reason === 'heic') throw new PortraitError('input.heic_unsupported', 'HEIC image', details);
      throw new PortraitError(
        sniffed.reason === 'unsupported_image' ? 'input.unsupported_format' : 'input.not_image',
        `uploaded file is ${sniffed.got}`,
        { ...details, got: sniffed.got },
      );
    }
    const key = await this.#d.service.putBlob(bytes, session.requester);
    const id = `s${crypto.randomUUID().replace(/-/g, '')}`;
    session.selfies.set(id, key);
    return { id };
  }

  /** The refusal for an upload over the cap, also used before its body is read (Content-Length). */
  tooLarge(size: number | undefined, selfie?: number): PortraitError {
    return new PortraitError('input.too_large', 'upload over the limit', {
      ...(selfie === undefined ? {} : { selfie }),
      limit: formatBytes(this.#d.config.PORTRAIT_MAX_INPUT_BYTES),
      // Unknown when the body came without a length and was cut off at the limit.
      ...(size === undefined ? {} : { got: formatBytes(size) }),
    });
  }

  /** Checks the request like the bots do, then queues it. Throws PortraitError (the page shows its sentence). */
  async submit(session: Session, body: SubmitBody): Promise<JobView> {
    const ids = Array.isArray(body.selfies) ? body.selfies.filter((s): s is string => typeof s === 'string') : [];
    if (ids.length === 0) throw new PortraitError('request.no_selfie', 'no selfie picked');
    if (ids.length > MAX_SELFIES) {
      throw new PortraitError('request.too_many_selfies', 'too many selfies', { limit: MAX_SELFIES });
    }
    const selfieKeys = ids.map((id, i) => {
      const key = session.selfies.get(id);
      // A selfie of an earlier run of the playground, or one whose blob was forgotten: send it again.
      if (!key) throw new PortraitError('job.expired', 'unknown selfie id', ids.length > 1 ? { selfie: i + 1 } : {});
      return key;
    });

    let event: AvatarEvent | undefined;
    if (typeof body.event === 'string' && body.event) {
      event = (await this.#d.themes?.get(body.event)) ?? undefined;
      if (!event) throw new PortraitError('event.not_found', 'no such event');
    }
    const theme = event ? themeRequest(event.theme) : undefined;
    const engine = theme?.engine ?? this.#d.config.PORTRAIT_ENGINE;
    const pose = this.#pose(theme?.pose ?? text(body.pose, 'front'), engine);
    if (pose instanceof PortraitError) throw pose;
    const light = parseLighting(theme?.lighting ?? text(body.lighting, 'studio'));
    if (!light.ok) throw light.error;
    const styleText = theme?.style ?? (typeof body.style === 'string' ? body.style.trim() : '');
    if (styleText.length > STYLE_MAX) throw badOption('style', `at most ${STYLE_MAX} characters`);
    const style = this.#style(styleText, engine);
    if (style instanceof PortraitError) throw style;
    const variations = body.variations === undefined || body.variations === '' ? 1 : Number(body.variations);
    if (!Number.isInteger(variations) || variations < 1 || variations > MAX_VARIATIONS) {
      throw badOption('variations', `1 to ${MAX_VARIATIONS}`);
    }
    const seed =
      body.seed === undefined || body.seed === null || body.seed === ''
        ? (this.#d.newSeed ?? randomSeed)()
        : Number(body.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > SEED_MAX) {
      throw badOption('seed', `a whole number from 0 to ${SEED_MAX}`);
    }
    const requestId =
      typeof body.requestId === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(body.requestId)
        ? body.requestId
        : crypto.randomUUID();

    const recipe: JobRecipe = {
      selfies: ids,
      pose: pose,
      lighting: light.value.label,
      style,
      seed,
      variations,
      ...(event
        ? {
            event: {
              id: event.id,
              name: event.name,
              ...(event.theme.frameColour ? { frameColour: event.theme.frameColour } : {}),
            },
          }
        : {}),
    };
    const receipt = await this.#d.service.submit({
      idempotencyKey: `playground-${requestId}`,
      inbox: this.#d.inbox,
      request: {
        requester: session.requester,
        selfieKeys,
        pose: recipe.pose,
        lighting: recipe.lighting,
        style,
        variations,
        seed,
        // Always: the "what happened" view is half the point of a playground.
        debug: true,
        ...(theme?.engine ? { engine: theme.engine } : {}),
        ...(theme?.output ? { output: theme.output } : {}),
      },
    });
    const known = session.jobs.get(receipt.jobId);
    if (known) return known;
    const job: JobView = {
      id: receipt.jobId,
      status: receipt.position > 0 ? 'queued' : 'running',
      position: receipt.position,
      progress: queuedText(receipt.position),
      submittedAt: Date.now(),
      recipe,
      stages: [],
    };
    session.jobs.set(job.id, job);
    this.#d.log.info({ jobId: job.id, requestId: `playground-${requestId}` }, 'playground portrait queued');
    return job;
  }

  async cancel(session: Session, jobId: string): Promise<boolean> {
    if (!session.jobs.has(jobId)) return false;
    return this.#d.service.cancel(jobId, session.requester);
  }

  /** Deletes every selfie, result and job record of this browser, now. */
  async forget(session: Session): Promise<number> {
    const removed = await this.#d.service.forget(session.requester);
    for (const id of session.jobs.keys()) this.#listeners.delete(id);
    session.clear();
    return removed;
  }

  /** An image this session may read, with its content type; null when unknown or expired. */
  async image(session: Session, id: string): Promise<{ bytes: Uint8Array; type: string } | null> {
    const key = session.images.get(id);
    if (!key) return null;
    const bytes = await this.#d.service.getBlob(key);
    if (!bytes) return null;
    const sniffed = sniffImage(bytes);
    return { bytes, type: sniffed.ok ? `image/${sniffed.kind}` : 'application/octet-stream' };
  }

  /** Calls `listener` with the job now and on every change until the returned function is called. */
  subscribe(job: JobView, listener: (job: JobView) => void): () => void {
    let set = this.#listeners.get(job.id);
    if (!set) {
      set = new Set();
      this.#listeners.set(job.id, set);
    }
    set.add(listener);
    listener(job);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(job.id) === set) this.#listeners.delete(job.id);
    };
  }

  /** Re-reads queue positions of the jobs someone is watching (the worker sends nothing while a job waits). */
  async refreshPositions(): Promise<void> {
    for (const jobId of this.#listeners.keys()) {
      const found = this.#d.sessions.findJob(jobId);
      if (found?.job.status !== 'queued') continue;
      const position = await this.#d.service.position(jobId).catch(() => found.job.position);
      if (position !== found.job.position) {
        found.job.position = position;
        found.job.progress = queuedText(position);
        if (position === 0) found.job.status = 'running';
        this.#emit(found.job);
      }
    }
  }

  /** The worker's progress, result or failure for one of this process's jobs. */
  async deliver(d: Delivery): Promise<void> {
    const found = this.#d.sessions.findJob(d.jobId);
    // The browser's session is gone (idle past the TTL, or forgotten): nobody can see the answer.
    if (!found) return;
    const { session, job } = found;
    if (job.status === 'done' || job.status === 'failed') return;
    if (d.kind === 'progress') {
      job.status = 'running';
      job.position = 0;
      if (job.stages.at(-1)?.stage !== d.stage)
        job.stages.push({ stage: d.stage, label: STAGE_LABELS[d.stage], at: d.at });
      job.progress = progressText(d);
      if (d.previewKey) job.preview = session.imageUrl(d.previewKey);
    } else if (d.kind === 'result') {
      const r = d.result;
      const count = r.outputKeys.length;
      const caption = (i: number) =>
        captionText({
          pose: job.recipe.pose,
          lighting: job.recipe.lighting,
          style: job.recipe.style,
          engine: r.engine,
          seed: d.seed,
          elapsedMs: Date.now() - job.submittedAt,
          variation: { index: i + 1, count },
          // What the engine did differently from the request (a partial turn), as the bots show it.
          note: reportNote(r.report),
        });
      job.status = 'done';
      job.finishedAt = Date.now();
      delete job.progress;
      job.result = {
        images: r.outputKeys.map((key) => session.imageUrl(key)),
        captions: r.outputKeys.map((_, i) => caption(i)),
        alt: altText(job.recipe),
        format: r.format,
        width: r.width,
        height: r.height,
        engine: r.engine,
        seed: d.seed,
        ...(r.debugSheetKey ? { debugSheet: session.imageUrl(r.debugSheetKey) } : {}),
        timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v)])),
        report: r.report,
        facesPerSelfie: r.facesPerSelfie,
      };
    } else {
      job.status = 'failed';
      job.finishedAt = Date.now();
      delete job.progress;
      job.refusal = this.refusal(oneSelfie(d.error, job.recipe.selfies.length));
    }
    this.#emit(job);
  }

  /** The bots' sentence for an error, as the page shows it. */
  refusal(err: PortraitError | ErrorPayload): Refusal {
    const details = err.code === 'quota.user_in_flight' ? { ...err.details, cancelWith: CANCEL_HINT } : err.details;
    return {
      code: err.code,
      sentence: describeError({
        code: err.code,
        details,
        ...('refId' in err && err.refId ? { refId: err.refId } : {}),
      }),
    };
  }

  /**
   * The style checked for the engine as the bots check it (checkStyleForEngine: the compositor renders only the
   * catalogue, the diffusion engine takes any words, the crop engine none). A catalogue style is stored under its
   * canonical label ('b&w' -> 'black and white'), so the caption names what was rendered.
   */
  #style(text: string, engine: EngineName): string | PortraitError {
    const typed = text.trim();
    const refused = checkStyleForEngine(typed, engine);
    if (refused) return refused;
    const parsed = parseStyle(typed);
    return parsed.ok && parsed.value.label ? parsed.value.label : typed;
  }

  #pose(textIn: string, engine: EngineName): string | PortraitError {
    const r = parsePose(textIn.trim() || 'front');
    if (!r.ok) return r.error;
    return checkPoseForEngine(r.value, engine) ?? r.value.label;
  }

  #emit(job: JobView): void {
    for (const l of this.#listeners.get(job.id) ?? []) l(job);
  }
}

function text(v: unknown, fallback: string): string {
  return typeof v === 'string' && v.trim() ? v.trim() : fallback;
}

function badOption(option: string, expected: string): PortraitError {
  return new PortraitError('request.bad_option', `${option}: ${expected}`, { option, expected });
}

/** With a single selfie, "your selfie" reads better than "selfie 1" (as the CLI and the bots say it). */
function oneSelfie(error: ErrorPayload, selfies: number): ErrorPayload {
  if (selfies !== 1 || !('selfie' in error.details)) return error;
  const { selfie: _, ...details } = error.details;
  return { ...error, details };
}
