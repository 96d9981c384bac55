import { sampleGrid } from '../geometry/grid-sample.js';
import type { HeadWarp } from '../geometry/head-warp.js';
import type { BackgroundSource } from '../lighting/background.js';
import { linearToSrgbByte, SRGB_TO_LINEAR } from '../lighting/colour.js';
import type { PersonLight } from '../lighting/person-relight.js';
import type { RgbImage } from '../types.js';

/**
 * The portrait's last step: the turned person, relit, over the treated background plate.
 *
 *     out = alpha * relight(person) + (1 - alpha) * background
 *
 * The relight gain lives on the photo's surface, so it is first carried to where each grid cell of the output came
 * from (the warp's inverse map), then read per pixel and applied in linear light. The background plate holds no
 * person, so wherever the person layer is transparent the background shows and nothing else. A blurred background
 * comes small (`factor` photo pixels per pixel) and is upsampled here, in the same pass.
 */
export function composePortrait(person: HeadWarp, light: PersonLight, background: BackgroundSource): RgbImage {
  const { width, height, data } = person.image;
  const { width: gw, height: gh, cell } = light;
  const gain = outputGain(person, light);
  const bg = background.image.data;
  const bf = background.factor;
  const bw = background.image.width;
  const bh = background.image.height;
  const out = new Uint8Array(data.length);
  const alpha = person.alpha;
  const lut = gainTable();
  // Per output row: the gain grid's two rows interpolated once (gw cells x 3), and likewise a small background's.
  const gainRow = new Float32Array(gw * 3);
  const bgRow = new Float32Array(bw * 3);
  // Per column: which grid cell and background pixel it falls between, and where.
  const gc0 = new Int32Array(width);
  const gc1 = new Int32Array(width);
  const gtx = new Float32Array(width);
  const bc0 = new Int32Array(width);
  const bc1 = new Int32Array(width);
  const btx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = Math.min(gw - 1, Math.max(0, (x + 0.5) / cell - 0.5));
    gc0[x] = Math.floor(fx) * 3;
    gc1[x] = Math.min(gw - 1, Math.floor(fx) + 1) * 3;
    gtx[x] = fx - Math.floor(fx);
    const bx = Math.min(bw - 1, Math.max(0, (x + 0.5) / bf - 0.5));
    bc0[x] = Math.floor(bx) * 3;
    bc1[x] = Math.min(bw - 1, Math.floor(bx) + 1) * 3;
    btx[x] = bx - Math.floor(bx);
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.min(gh - 1, Math.max(0, (y + 0.5) / cell - 0.5));
    const r0 = Math.floor(fy) * gw * 3;
    const r1 = Math.min(gh - 1, Math.floor(fy) + 1) * gw * 3;
    const ty = fy - Math.floor(fy);
    for (let k = 0; k < gw * 3; k++) gainRow[k] = gain[r0 + k]! + (gain[r1 + k]! - gain[r0 + k]!) * ty;
    if (bf !== 1) {
      const by = Math.min(bh - 1, Math.max(0, (y + 0.5) / bf - 0.5));
      const s0 = Math.floor(by) * bw * 3;
      const s1 = Math.min(bh - 1, Math.floor(by) + 1) * bw * 3;
      const sy = by - Math.floor(by);
      for (let k = 0; k < bw * 3; k++) bgRow[k] = bg[s0 + k]! + (bg[s1 + k]! - bg[s0 + k]!) * sy;
    }
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      const i = o * 3;
      const a = alpha[o]!;
      let b0: number;
      let b1: number;
      let b2: number;
      if (bf === 1) {
        b0 = bg[i]!;
        b1 = bg[i + 1]!;
        b2 = bg[i + 2]!;
      } else {
        const p = bc0[x]!;
        const q = bc1[x]!;
        const t = btx[x]!;
        b0 = bgRow[p]! + (bgRow[q]! - bgRow[p]!) * t;
        b1 = bgRow[p + 1]! + (bgRow[q + 1]! - bgRow[p + 1]!) * t;
        b2 = bgRow[p + 2]! + (bgRow[q + 2]! - bgRow[p + 2]!) * t;
      }
      if (a <= 0.002) {
        out[i] = b0 + 0.5;
        out[i + 1] = b1 + 0.5;
        out[i + 2] = b2 + 0.5;
        continue;
      }
      const p = gc0[x]!;
      const q = gc1[x]!;
      const t = gtx[x]!;
      const g0 = gainRow[p]! + (gainRow[q]! - gainRow[p]!) * t;
      const g1 = gainRow[p + 1]! + (gainRow[q + 1]! - gainRow[p + 1]!) * t;
      const g2 = gainRow[p + 2]! + (gainRow[q + 2]! - gainRow[p + 2]!) * t;
      const l0 = lut[Math.min(GAIN_STEPS, Math.round(g0 * GAIN_SCALE)) * 256 + data[i]!]!;
      const l1 = lut[Math.min(GAIN_STEPS, Math.round(g1 * GAIN_SCALE)) * 256 + data[i + 1]!]!;
      const l2 = lut[Math.min(GAIN_STEPS, Math.round(g2 * GAIN_SCALE)) * 256 + data[i + 2]!]!;
      out[i] = a * l0 + (1 - a) * b0 + 0.5;
      out[i + 1] = a * l1 + (1 - a) * b1 + 0.5;
      out[i + 2] = a * l2 + (1 - a) * b2 + 0.5;
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** Gains up to GAIN_MAX in steps of 1/GAIN_SCALE (0.5%, under what banding would show). */
const GAIN_MAX = 4;
const GAIN_SCALE = 200;
const GAIN_STEPS = GAIN_MAX * GAIN_SCALE;
let table: Uint8Array | undefined;

/** sRGB byte -> sRGB byte after a linear-light gain, for every quantised gain: one lookup per channel. 200 KB, once. */
function gainTable(): Uint8Array {
  if (!table) {
    table = new Uint8Array((GAIN_STEPS + 1) * 256);
    for (let q = 0; q <= GAIN_STEPS; q++) {
      for (let v = 0; v < 256; v++) table[q * 256 + v] = linearToSrgbByte((SRGB_TO_LINEAR[v] ?? 0) * (q / GAIN_SCALE));
    }
  }
  return table;
}

/** The gain grid carried to output positions: cell q reads the photo's gain at q + inverse(q). */
function outputGain(person: HeadWarp, light: PersonLight): Float32Array {
  const { width: gw, height: gh, cell } = light;
  const inv = person.inverse;
  const gain = light.gain;
  const out = new Float32Array(gain.length);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const o = gy * gw + gx;
      sampleGrid(gain, 3, gw, gh, gx + (inv[o * 2] ?? 0) / cell, gy + (inv[o * 2 + 1] ?? 0) / cell, out, o * 3);
    }
  }
  return out;
}

/** The relight's luminance gain where each output cell came from, as grey (0.4..2.5 on a log scale), for the debug sheet. */
export function gainImage(person: HeadWarp, light: PersonLight): RgbImage {
  const gain = outputGain(person, light);
  const n = light.width * light.height;
  const data = new Uint8Array(n * 3);
  const lo = Math.log(0.4);
  const hi = Math.log(2.5);
  for (let o = 0; o < n; o++) {
    for (let c = 0; c < 3; c++) {
      const v = (Math.log(Math.max(0.4, Math.min(2.5, gain[o * 3 + c] ?? 1))) - lo) / (hi - lo);
      data[o * 3 + c] = Math.round(v * 255);
    }
  }
  return { data, width: light.width, height: light.height, channels: 3 };
}
