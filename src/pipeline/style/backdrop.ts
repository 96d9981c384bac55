import type { Random } from '../../core/random.js';
import type { Backdrop, Style } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import { fractalNoise } from './filters.js';

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

function toLinear(byte: number): number {
  const v = byte / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function paintBackdrop(b: Backdrop, width: number, height: number, rng: Random): RgbImage {
  const lin = b.colour.map(toLinear) as [number, number, number];
  // The light is smooth: computed on a grid of CELL px and interpolated, which costs a tenth of per-pixel work.
  const gw = Math.ceil(width / CELL) + 1;
  const gh = Math.ceil(height / CELL) + 1;
  const side = Math.max(width, height);
  const half = Math.hypot(width, height) / 2;
  const a = (b.angle * Math.PI) / 180;
  // The hot spot: a little above the centre (behind the head), moved along `angle` by `offset` half-diagonals.
  const hx = width / 2 + Math.sin(a) * b.offset * half;
  const hy = height * 0.42 - Math.cos(a) * b.offset * half;
  const noiseCell = Math.max(2, Math.round(side / 3 / CELL));
  const mottle = b.mottle > 0 ? fractalNoise(gw, gh, noiseCell, 3, rng) : undefined;
  const warmth = b.mottle > 0 ? fractalNoise(gw, gh, noiseCell * 1.5, 2, rng) : undefined;
  const grid = [new Float32Array(gw * gh), new Float32Array(gw * gh), new Float32Array(gw * gh)] as const;
  for (let gy = 0; gy < gh; gy++) {
    const dy = (gy * CELL - hy) / half;
    for (let gx = 0; gx < gw; gx++) {
      const q = gy * gw + gx;
      const dx = (gx * CELL - hx) / half;
      // Inverse-square-like falloff from the hot spot, flattened so the centre is even.
      let light = 1 / (1 + b.vignette * 2.2 * (dx * dx + dy * dy));
      let shift = 0;
      if (mottle && warmth) {
        light *= 1 + b.mottle * 0.5 * (mottle[q]! - 0.5);
        shift = b.mottle * 0.12 * (warmth[q]! - 0.5);
      }
      grid[0][q] = srgb(lin[0] * light * (1 + shift));
      grid[1][q] = srgb(lin[1] * light);
      grid[2][q] = srgb(lin[2] * light * (1 - shift));
    }
  }
  const [g0, g1, g2] = grid;
  const out = new Uint8ClampedArray(width * height * 3);
  // Triangular dither of about one step from two 16-bit halves of one xorshift draw, the same in all channels
  // so it reads as grain, not colour noise.
  let s = (rng.int(0x7fffffff) | 1) >>> 0;
  for (let y = 0; y < height; y++) {
    const fy = y / CELL;
    const r0 = Math.floor(fy) * gw;
    const r1 = r0 + gw;
    const ty = fy - Math.floor(fy);
    for (let x = 0; x < width; x++) {
      const fx = x / CELL;
      const c0 = Math.floor(fx);
      const tx = fx - c0;
      const w00 = (1 - tx) * (1 - ty);
      const w01 = tx * (1 - ty);
      const w10 = (1 - tx) * ty;
      const w11 = tx * ty;
      const a0 = r0 + c0;
      const a1 = r1 + c0;
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const dither = (((s >>> 16) & 0xffff) + (s & 0xffff)) / 65536 - 1;
      const i = (y * width + x) * 3;
      out[i] = g0[a0]! * w00 + g0[a0 + 1]! * w01 + g0[a1]! * w10 + g0[a1 + 1]! * w11 + dither * DITHER;
      out[i + 1] = g1[a0]! * w00 + g1[a0 + 1]! * w01 + g1[a1]! * w10 + g1[a1 + 1]! * w11 + dither * DITHER;
      out[i + 2] = g2[a0]! * w00 + g2[a0 + 1]! * w01 + g2[a1]! * w10 + g2[a1 + 1]! * w11 + dither * DITHER;
    }
  }
  return { data: new Uint8Array(out.buffer), width, height, channels: 3 };
}

const CELL = 8;
/** Dither amplitude in sRGB steps: a triangular +-2.5, enough to break every band and to read as fine grain. */
const DITHER = 2.5;

function srgb(v: number): number {
  const c = Math.min(1, Math.max(0, v));
  return 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
}

/**
 * A studio backdrop lit like the photo's own background: its brightness follows the blurred plate's (the photo
 * with the person taken out) by `strength` (0 = the flat backdrop, 1 = the plate's light pattern fully), so
 * whatever of the old background the cut-out kept at the member's edge (a dark studio wall round dark hair, window
 * blinds between dreadlocks) sits on backdrop of about its own brightness instead of standing out against a flat
 * colour. The plate comes blurred (wide, it reads as the mottle of a painted canvas); its mean brightness maps to
 * the backdrop's own, and the ratio is held within [RATIO_LOW, RATIO_HIGH].
 */
const RATIO_LOW = 0.45;
const RATIO_HIGH = 1.8;

export function lightBackdropLikePlate(
  backdrop: RgbImage,
  plate: { image: RgbImage; factor: number },
  strength: number,
): RgbImage {
  const { width, height } = backdrop;
  const p = plate.image;
  const lum = new Float32Array(p.width * p.height);
  let sum = 0;
  for (let q = 0; q < lum.length; q++) {
    const v =
      0.2126 * toLinear(p.data[q * 3] ?? 0) +
      0.7152 * toLinear(p.data[q * 3 + 1] ?? 0) +
      0.0722 * toLinear(p.data[q * 3 + 2] ?? 0);
    lum[q] = v;
    sum += v;
  }
  const mean = Math.max(1e-4, sum / Math.max(1, lum.length));
  const out = new Uint8Array(backdrop.data.length);
  const f = plate.factor;
  for (let y = 0; y < height; y++) {
    const py = Math.min(p.height - 1, Math.max(0, (y + 0.5) / f - 0.5));
    const y0 = Math.floor(py);
    const y1 = Math.min(p.height - 1, y0 + 1);
    const ty = py - y0;
    for (let x = 0; x < width; x++) {
      const px = Math.min(p.width - 1, Math.max(0, (x + 0.5) / f - 0.5));
      const x0 = Math.floor(px);
      const x1 = Math.min(p.width - 1, x0 + 1);
      const tx = px - x0;
      const l =
        ((lum[y0 * p.width + x0] ?? 0) * (1 - tx) + (lum[y0 * p.width + x1] ?? 0) * tx) * (1 - ty) +
        ((lum[y1 * p.width + x0] ?? 0) * (1 - tx) + (lum[y1 * p.width + x1] ?? 0) * tx) * ty;
      const ratio = Math.min(RATIO_HIGH, Math.max(RATIO_LOW, l / mean)) ** strength;
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(srgb(toLinear(backdrop.data[i + c] ?? 0) * ratio));
    }
  }
  return { data: out, width, height, channels: 3 };
}
