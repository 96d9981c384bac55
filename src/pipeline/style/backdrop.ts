import type { Random } from '../../core/random.js';
import type { Backdrop, Style } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import { fractalNoise, whiteNoise } from './filters.js';

/**
 * A studio backdrop: lit paper or painted canvas, computed in linear light so the falloff looks like light. The
 * hot spot sits behind the head (`angle`, `offset` move it), the corners fall off by `vignette`, `mottle` adds the
 * low-frequency clouds of a painted canvas, and a little luminance grain both hides 8-bit banding in the smooth
 * gradient and keeps the backdrop from looking computer-made.
 */
export function renderBackdrop(style: Style, width: number, height: number, rng: Random): RgbImage | undefined {
  const b = style.backdrop;
  return b ? paintBackdrop(b, width, height, rng) : undefined;
}

/** Linear light 0..1 to sRGB 0..255 as a table: a pow per pixel and channel would cost most of the time. */
const TO_SRGB_STEPS = 4096;
const TO_SRGB = (() => {
  const t = new Float32Array(TO_SRGB_STEPS + 1);
  for (let k = 0; k <= TO_SRGB_STEPS; k++) {
    const v = k / TO_SRGB_STEPS;
    t[k] = 255 * (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);
  }
  return t;
})();

function toLinear(byte: number): number {
  const v = byte / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

export function paintBackdrop(b: Backdrop, width: number, height: number, rng: Random): RgbImage {
  const n = width * height;
  const lin = b.colour.map(toLinear) as [number, number, number];
  const side = Math.max(width, height);
  // The hot spot: a little above the centre (behind the head), moved along `angle` by `offset` half-diagonals.
  const half = Math.hypot(width, height) / 2;
  const a = (b.angle * Math.PI) / 180;
  const hx = width / 2 + Math.sin(a) * b.offset * half;
  const hy = height * 0.42 - Math.cos(a) * b.offset * half;
  const mottle = b.mottle > 0 ? fractalNoise(width, height, Math.max(8, Math.round(side / 3)), 3, rng) : undefined;
  const warmth = b.mottle > 0 ? fractalNoise(width, height, Math.max(8, Math.round(side / 2)), 2, rng) : undefined;
  const grain = whiteNoise(n, rng);
  const grain2 = whiteNoise(n, rng);
  const out = new Uint8ClampedArray(n * 3);
  const inv = 1 / half;
  for (let y = 0; y < height; y++) {
    const dy = (y - hy) * inv;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const dx = (x - hx) * inv;
      const d2 = dx * dx + dy * dy;
      // Inverse-square-like falloff from the hot spot, flattened so the centre is even.
      let light = 1 / (1 + b.vignette * 2.2 * d2);
      let shift = 0;
      if (mottle && warmth) {
        light *= 1 + b.mottle * 0.5 * (mottle[p]! - 0.5);
        shift = b.mottle * 0.12 * (warmth[p]! - 0.5);
      }
      // Triangular dither of about one step, the same in all channels so it reads as grain, not colour noise.
      const dither = (grain[p]! + grain2[p]!) * 2.2;
      const i = p * 3;
      out[i] = TO_SRGB[Math.min(TO_SRGB_STEPS, Math.round(lin[0] * light * (1 + shift) * TO_SRGB_STEPS))]! + dither;
      out[i + 1] = TO_SRGB[Math.min(TO_SRGB_STEPS, Math.round(lin[1] * light * TO_SRGB_STEPS))]! + dither;
      out[i + 2] = TO_SRGB[Math.min(TO_SRGB_STEPS, Math.round(lin[2] * light * (1 - shift) * TO_SRGB_STEPS))]! + dither;
    }
  }
  return { data: new Uint8Array(out.buffer), width, height, channels: 3 };
}
