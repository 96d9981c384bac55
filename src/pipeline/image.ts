import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { type ImageFormat, sniffFile } from '../core/file-kind.js';
import type { OutputFormat } from '../core/request.js';
import { type ErrorCode, PortraitError } from '../errors.js';
import type { Box, RgbImage } from './types.js';

/**
 * Safe ingest of untrusted photos, and the few RgbImage <-> sharp helpers the pipeline shares.
 *
 * Defences, in order (inference.md, "sharp 0.35"): a byte cap; the real format sniffed from magic bytes (the
 * declared type and file name are ignored); a libvips loader allowlist so only the JPEG, PNG, WebP, GIF and HEIF
 * loaders can ever run (SVG, PDF, TIFF and friends never reach their parsers, whatever the bytes claim); HEVC
 * HEIC refused before decoding; the header's pixel count checked before decoding (decompression bombs fail in
 * milliseconds); `failOn: 'warning'` so truncated or corrupt files fail instead of decoding to garbage; the first
 * frame only. Errors carry the selfie's 1-based index and the format found, never bytes.
 */

export type SniffedFormat = ImageFormat;

export type SniffResult =
  | { ok: true; format: SniffedFormat }
  | {
      ok: false;
      code: Extract<ErrorCode, 'input.unsupported_format' | 'input.not_image' | 'input.heic_unsupported'>;
      got: string;
    };

export interface IngestLimits {
  /** PORTRAIT_MAX_INPUT_BYTES */
  maxBytes: number;
  /** PORTRAIT_MAX_INPUT_PIXELS (width x height of the first frame) */
  maxPixels: number;
  /** Shortest side accepted after orientation. @defaultValue 64 */
  minSide?: number;
  /**
   * Pixels of the decoded image: larger photos are scaled down (keeping their shape) while they decode, JPEGs
   * shrinking on load. Pixels beyond this add nothing to a portrait of at most 2048 px and cost memory: four
   * selfies at the 40 MP cap would hold about 480 MB of RGB through detection and the engine.
   * @defaultValue 16777216 (4096 x 4096)
   */
  maxDecodedPixels?: number;
}

export interface IngestOptions extends IngestLimits {
  /** 1-based position of the selfie in the request, for error sentences. */
  selfie?: number;
}

export interface IngestedImage {
  image: RgbImage;
  format: SniffedFormat;
}

export const MIN_INPUT_SIDE = 64;
export const MAX_DECODED_PIXELS = 4096 * 4096;
/** Transparent areas become this (a light grey reads as "background" to the detector and the compositor). */
const FLATTEN_BACKGROUND = { r: 240, g: 240, b: 240 };
/** Every decode is bounded in time too, in case a crafted file finds a slow path in an allowed loader. */
const DECODE_TIMEOUT_SECONDS = 15;

const ALLOWED_LOADERS = ['Jpeg', 'Png', 'Webp', 'Nsgif', 'Heif'].flatMap((f) => [
  `VipsForeignLoad${f}Buffer`,
  // File variants serve our own trusted paths (tests, the CLI reading a local file goes through bytes anyway).
  `VipsForeignLoad${f}File`,
]);

let allowlistInstalled = false;

/**
 * Blocks every libvips loader except JPEG, PNG, WebP, GIF and HEIF (AVIF), process-wide. Idempotent. Called by
 * decodeImage; the worker may call it at start. Raw-pixel inputs, `create` and Pango `text` inputs are not
 * loaders and keep working; SVG inputs (including our own generated overlays) stop working by design.
 */
export function installLoaderAllowlist(): void {
  if (allowlistInstalled) return;
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: ALLOWED_LOADERS });
  allowlistInstalled = true;
}

/**
 * The real format of `bytes`, from the project's one sniffer (src/core/file-kind.ts). Accepted: JPEG, PNG, WebP,
 * GIF, AVIF (and HEIF files whose brand does not say; their codec is checked from the header before decoding).
 * Everything else is refused with a code and a readable name of what it is.
 */
export async function sniffFormat(bytes: Uint8Array): Promise<SniffResult> {
  const sniffed = await sniffFile(bytes);
  switch (sniffed.kind) {
    case 'image':
      return { ok: true, format: sniffed.format };
    case 'heic':
      return { ok: false, code: 'input.heic_unsupported', got: sniffed.name };
    case 'unsupported_image':
      return { ok: false, code: 'input.unsupported_format', got: sniffed.name };
    default:
      return { ok: false, code: 'input.not_image', got: sniffed.name };
  }
}

const FORMAT_NAMES: Record<SniffedFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  avif: 'AVIF',
  heif: 'HEIF',
};

function formatBytes(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(n >= 10 * 2 ** 20 ? 0 : 1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

function megapixels(n: number): string {
  return `${(n / 1e6).toFixed(n >= 10e6 ? 0 : 1)} megapixels`;
}

/**
 * Ingests one untrusted photo: checks, sniffs, reads the header, then decodes the first frame, auto-oriented
 * (EXIF), scaled down to at most `maxDecodedPixels`, converted to sRGB, alpha flattened onto light grey, as 8-bit
 * interleaved RGB.
 * Throws PortraitError with an 'input.*' code for every refusal.
 */
export async function decodeImage(bytes: Uint8Array, options: IngestOptions): Promise<IngestedImage> {
  installLoaderAllowlist();
  const selfie = options.selfie !== undefined ? { selfie: options.selfie } : {};
  const refuse = (code: ErrorCode, message: string, details: Record<string, string | number> = {}) =>
    new PortraitError(code, message, { ...selfie, ...details });

  if (bytes.byteLength === 0) throw refuse('input.empty', 'the file is empty');
  if (bytes.byteLength > options.maxBytes) {
    throw refuse('input.too_large', `${bytes.byteLength} bytes is over the ${options.maxBytes}-byte limit`, {
      got: formatBytes(bytes.byteLength),
      limit: formatBytes(options.maxBytes),
    });
  }
  const sniffed = await sniffFormat(bytes);
  if (!sniffed.ok) throw refuse(sniffed.code, `refused input: ${sniffed.got}`, { got: sniffed.got });
  const name = FORMAT_NAMES[sniffed.format];

  const open = (): Sharp =>
    sharp(bytes, {
      failOn: 'warning',
      limitInputPixels: options.maxPixels,
      animated: false,
      autoOrient: true,
      sequentialRead: true,
    }).timeout({ seconds: DECODE_TIMEOUT_SECONDS });

  const classify = (err: unknown): PortraitError => {
    const message = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(message)) {
      return refuse('input.too_many_pixels', `header declares more than ${options.maxPixels} pixels`, {
        limit: megapixels(options.maxPixels),
      });
    }
    if (/timeout/i.test(message)) return refuse('input.corrupt', `decoding took too long: ${message}`, { got: name });
    return new PortraitError(
      'input.corrupt',
      `cannot decode the ${name}: ${message}`,
      { ...selfie, got: name },
      { cause: err },
    );
  };

  let meta: Metadata;
  try {
    meta = await open().metadata();
  } catch (err) {
    throw classify(err);
  }
  if (sniffed.format === 'avif' || sniffed.format === 'heif') {
    // The prebuilt libheif reads HEVC headers but cannot decode them; refuse before the confusing decode error.
    if (meta.compression === 'hevc') throw refuse('input.heic_unsupported', 'HEVC-coded HEIF', { got: 'HEIC' });
    if (meta.compression !== 'av1')
      throw refuse('input.unsupported_format', 'HEIF with an unknown codec', { got: 'HEIF' });
  }
  const width = meta.width ?? 0;
  // For animated GIF/WebP read with animated:false the height is the first frame's; pageHeight says so too.
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width * height > options.maxPixels) {
    throw refuse('input.too_many_pixels', `${width}x${height} is over the ${options.maxPixels}-pixel limit`, {
      got: `${width}x${height}`,
      limit: megapixels(options.maxPixels),
    });
  }
  const minSide = options.minSide ?? MIN_INPUT_SIDE;
  if (Math.min(width, height) < minSide) {
    throw refuse('input.too_small', `${width}x${height} is under ${minSide} pixels on a side`, {
      got: `${width}x${height}`,
      limit: `${minSide}x${minSide}`,
    });
  }

  // A square box around the longest side scaled by the area ratio: the same box whatever the EXIF orientation.
  const scale = Math.min(1, Math.sqrt((options.maxDecodedPixels ?? MAX_DECODED_PIXELS) / (width * height)));
  const side = Math.max(1, Math.floor(Math.max(width, height) * scale));
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await open()
      .resize(side, side, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: FLATTEN_BACKGROUND })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw classify(err);
  }
  const { data, info } = decoded;
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw refuse('input.corrupt', `decoded to ${info.channels} channels`, { got: name });
  }
  return { image: { data, width: info.width, height: info.height, channels: 3 }, format: sniffed.format };
}

// ---------------------------------------------------------------------------------------------------------------
// RgbImage helpers

/** A sharp pipeline reading an RgbImage's pixels (no loader involved). */
export function toSharp(image: RgbImage): Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** Runs a sharp pipeline to 8-bit RGB pixels. */
export async function fromSharp(pipeline: Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** Resizes to exactly width x height (fit 'fill' unless told), Lanczos for downscaling, which sharp picks. */
export function resizeImage(
  image: RgbImage,
  width: number,
  height: number,
  fit: 'fill' | 'cover' | 'contain' = 'fill',
): Promise<RgbImage> {
  if (image.width === width && image.height === height) return Promise.resolve(image);
  return fromSharp(toSharp(image).resize(width, height, { fit, background: FLATTEN_BACKGROUND }));
}

/** Cuts an axis-aligned box (clamped to the image) out of an image, in JS (no sharp round trip). */
export function cropImage(image: RgbImage, box: Box): RgbImage {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(image.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.height));
  const width = Math.max(0, x1 - x0);
  const height = Math.max(0, y1 - y0);
  if (width === 0 || height === 0) throw new Error('crop box lies outside the image');
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y0 + y) * image.width + x0) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { data, width, height, channels: 3 };
}

/** Encodes for delivery: WebP (quality 92, good for photos in chat) or lossless PNG. Metadata is never written. */
export async function encodeImage(image: RgbImage, format: OutputFormat): Promise<Uint8Array> {
  const pipeline = toSharp(image);
  const out =
    format === 'webp'
      ? await pipeline.webp({ quality: 92, effort: 4 }).toBuffer()
      : await pipeline.png({ compressionLevel: 6 }).toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
