import type { BackgroundTreatment, Rgb } from '../../core/lighting.js';
import type { RgbImage } from '../types.js';
import { linearToSrgbByte, luminance, SRGB_TO_LINEAR } from './colour.js';
import { boxBlur } from './mesh-raster.js';

/**
 * What happens behind the person: the lighting preset's background treatment (kept, blurred, darkened, toned)
 * applied to the background plate (src/pipeline/compose/plate.ts: the photo with the person taken out), so the
 * treatment never touches the person and no halo of untreated background can cling to them.
 */

/**
 * The background as composition reads it: the image itself, or (when the preset blurs) a blurred copy at
 * 1/`factor` resolution that composition upsamples bilinearly, which is the cheap way to a wide blur.
 */
export interface BackgroundSource {
  image: RgbImage;
  /** Image pixels per background pixel (1 = full resolution). */
  factor: number;
}

/**
 * The background source for a treatment. A blur of sigma s output pixels is a box-average down by
 * f = min(4, s / 1.5) and a three-pass box blur of the remaining radius there (about a Gaussian).
 */
export function backgroundSource(image: RgbImage, treatment: BackgroundTreatment): BackgroundSource {
  const sigma = treatment.blur * Math.max(image.width, image.height);
  if (sigma < 0.6) return { image, factor: 1 };
  const f = Math.max(1, Math.min(4, Math.floor(sigma / 1.5)));
  const w = Math.ceil(image.width / f);
  const h = Math.ceil(image.height / f);
  const sum = new Float32Array(w * h * 3);
  const count = new Float32Array(w * h);
  const src = image.data;
  const col = new Int32Array(image.width);
  for (let x = 0; x < image.width; x++) col[x] = Math.floor(x / f);
  for (let y = 0; y < image.height; y++) {
    const row = Math.floor(y / f) * w;
    let i = y * image.width * 3;
    for (let x = 0; x < image.width; x++, i += 3) {
      const o = row + col[x]!;
      count[o]! += 1;
      sum[o * 3]! += src[i]!;
      sum[o * 3 + 1]! += src[i + 1]!;
      sum[o * 3 + 2]! += src[i + 2]!;
    }
  }
  for (let o = 0; o < w * h; o++) {
    const n = count[o] || 1;
    sum[o * 3]! /= n;
    sum[o * 3 + 1]! /= n;
    sum[o * 3 + 2]! /= n;
  }
  const blurred = boxBlur(sum, w, h, 3, sigma / f);
  const data = new Uint8Array(w * h * 3);
  for (let k = 0; k < data.length; k++) data[k] = Math.min(255, Math.max(0, Math.round(blurred[k]!)));
  return { image: { data, width: w, height: h, channels: 3 }, factor: f };
}

export interface ComposeOptions {
  treatment: BackgroundTreatment;
  /** The lighting rig's overall colour (unit luminance), for toning. */
  rigColour: Rgb;
  /** Extra background brightness factor (variation jitter). @defaultValue 1 */
  backgroundGain?: number;
}

/** A background pixel counts as burnt from BURNT_FROM (its darkest channel), fully at BURNT_AT; it keeps BURNT_KEEP of its brightness. */
const BURNT_FROM = 228;
const BURNT_AT = 250;
const BURNT_KEEP = 0.7;

/** How far round each pixel its burnt share is averaged, as a share of the image's side. */
const BURNT_REACH = 0.01;

/**
 * How much of its brightness each pixel keeps under a darkening treatment: its burnt share, averaged over the burnt
 * pixels round it, so a blown sky or wall keeps its brightness as one. Read pixel by pixel, the slightly brighter
 * rim a photo's sharpening leaves round an ear or a jaw on a near-white wall counted as more burnt than the wall
 * beside it and stayed bright while the wall darkened: a white outline round the member (a blind panel rated such
 * portraits broken; averaged over burnt pixels, before the own-share rule below, a blind paired panel preferred
 * that photo's portraits 7 to 1). Undefined where nothing is burnt.
 */
function burntKeep(src: RgbImage): Float32Array | undefined {
  const { width, height, data } = src;
  const keep = new Float32Array(width * height);
  const burnt = new Float32Array(width * height);
  let any = false;
  for (let p = 0, i = 0; p < keep.length; p++, i += 3) {
    const low = Math.min(data[i]!, data[i + 1]!, data[i + 2]!);
    if (low <= BURNT_FROM) continue;
    keep[p] = BURNT_KEEP * Math.min(1, (low - BURNT_FROM) / (BURNT_AT - BURNT_FROM));
    burnt[p] = 1;
    any = true;
  }
  if (!any) return undefined;
  // Averaged over the burnt pixels round it only: with the member's dark hair in the average, the wall next to it
  // kept less than the wall further off and darkened into a grey haze round the silhouette (a blind paired panel).
  const reach = Math.max(1, Math.max(width, height) * BURNT_REACH);
  const sum = boxBlur(keep, width, height, 1, reach, 2);
  const count = boxBlur(burnt, width, height, 1, reach, 2);
  // No pixel keeps more than its own share: a faint strand of hair over the wall, lifted to the wall's, faded out.
  for (let p = 0; p < keep.length; p++) {
    keep[p] = burnt[p]! > 0 ? Math.min(keep[p]!, sum[p]! / Math.max(count[p]!, 1e-6)) : 0;
  }
  return keep;
}

/** The background's colours after the treatment (brightness, tone, saturation), at the source's resolution. */
function treat(src: RgbImage, options: ComposeOptions): Uint8Array {
  const t = options.treatment;
  const gain = t.brightness * (options.backgroundGain ?? 1);
  const lut: Uint8Array[] = [0, 1, 2].map((c) => {
    const tone = 1 + ((options.rigColour[c] ?? 1) - 1) * t.tone;
    const l = new Uint8Array(256);
    for (let v = 0; v < 256; v++) l[v] = linearToSrgbByte(SRGB_TO_LINEAR[v]! * gain * tone);
    return l;
  });
  const [l0, l1, l2] = lut as [Uint8Array, Uint8Array, Uint8Array];
  const d = src.data;
  const out = new Uint8Array(d.length);
  const sat = t.saturation;
  // Where the photo burnt the background to white (a blown sky, an overexposed wall) a darker treatment turned it
  // into flat grey, which read as a studio backdrop half pasted in beside the rest of the scene (a blind panel):
  // there the treatment darkens only a little, as a bright window stays bright in a darker room.
  const keeps = gain < 1 ? burntKeep(src) : undefined;
  for (let p = 0, i = 0; i < d.length; p++, i += 3) {
    let r = l0[d[i]!]!;
    let g = l1[d[i + 1]!]!;
    let b = l2[d[i + 2]!]!;
    const keep = keeps?.[p] ?? 0;
    if (keep > 0) {
      r += (d[i]! - r) * keep;
      g += (d[i + 1]! - g) * keep;
      b += (d[i + 2]! - b) * keep;
    }
    if (sat !== 1) {
      const y = luminance(r, g, b);
      r = y + (r - y) * sat;
      g = y + (g - y) * sat;
      b = y + (b - y) * sat;
    }
    // Uint8Array stores truncate; clamp first, round by +0.5.
    out[i] = r < 0 ? 0 : r > 255 ? 255 : r + 0.5;
    out[i + 1] = g < 0 ? 0 : g > 255 ? 255 : g + 0.5;
    out[i + 2] = b < 0 ? 0 : b > 255 ? 255 : b + 0.5;
  }
  return out;
}

/** The plate after the treatment, small when it is blurred (composition upsamples it). */
export function treatedBackground(plate: RgbImage, options: ComposeOptions): BackgroundSource {
  const source = backgroundSource(plate, options.treatment);
  return { image: { ...source.image, data: treat(source.image, options) }, factor: source.factor };
}

/**
 * A whole frame turned and lit as one (no clean cut: a busy background) under a rig that lights the room
 * (BackgroundTreatment.room): what lies outside `scene`, the member's soft mask (1 on the member, fading to 0 over a
 * wide feather), takes the preset's treatment as a plate behind a cut-out member does. The rig's tint stays on it,
 * darkened. Unblurred, as the frame holds the member: a blur bled their colours into a halo.
 */
export function treatSceneOutside(portrait: RgbImage, scene: ArrayLike<number>, options: ComposeOptions): RgbImage {
  const treated = treat(portrait, { ...options, treatment: { ...options.treatment, blur: 0 } });
  const d = portrait.data;
  const out = new Uint8Array(d.length);
  for (let p = 0, i = 0; i < d.length; p++, i += 3) {
    const a = Math.min(1, Math.max(0, scene[p] ?? 1));
    out[i] = treated[i]! + (d[i]! - treated[i]!) * a + 0.5;
    out[i + 1] = treated[i + 1]! + (d[i + 1]! - treated[i + 1]!) * a + 0.5;
    out[i + 2] = treated[i + 2]! + (d[i + 2]! - treated[i + 2]!) * a + 0.5;
  }
  return { ...portrait, data: out };
}
