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
  const g = [1, 1, 1];
  const b = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    const fy = Math.min(gh - 1, Math.max(0, (y + 0.5) / cell - 0.5));
    const r0 = Math.floor(fy);
    const r1 = Math.min(gh - 1, r0 + 1);
    const ty = fy - r0;
    const by = Math.min(bh - 1, Math.max(0, (y + 0.5) / bf - 0.5));
    const s0 = Math.floor(by);
    const s1 = Math.min(bh - 1, s0 + 1);
    const sy = by - s0;
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      const i = o * 3;
      const a = person.alpha[o]!;
      if (bf === 1) {
        b[0] = bg[i]!;
        b[1] = bg[i + 1]!;
        b[2] = bg[i + 2]!;
      } else {
        const bx = Math.min(bw - 1, Math.max(0, (x + 0.5) / bf - 0.5));
        const c0 = Math.floor(bx);
        const c1 = Math.min(bw - 1, c0 + 1);
        const sx = bx - c0;
        for (let c = 0; c < 3; c++) {
          const p00 = bg[(s0 * bw + c0) * 3 + c]!;
          const p10 = bg[(s0 * bw + c1) * 3 + c]!;
          const p01 = bg[(s1 * bw + c0) * 3 + c]!;
          const p11 = bg[(s1 * bw + c1) * 3 + c]!;
          b[c] = (p00 + (p10 - p00) * sx) * (1 - sy) + (p01 + (p11 - p01) * sx) * sy;
        }
      }
      if (a <= 0.002) {
        out[i] = b[0]! + 0.5;
        out[i + 1] = b[1]! + 0.5;
        out[i + 2] = b[2]! + 0.5;
        continue;
      }
      const fx = Math.min(gw - 1, Math.max(0, (x + 0.5) / cell - 0.5));
      const c0 = Math.floor(fx);
      const c1 = Math.min(gw - 1, c0 + 1);
      const tx = fx - c0;
      const k00 = (r0 * gw + c0) * 3;
      const k10 = (r0 * gw + c1) * 3;
      const k01 = (r1 * gw + c0) * 3;
      const k11 = (r1 * gw + c1) * 3;
      for (let c = 0; c < 3; c++) {
        g[c] =
          (gain[k00 + c]! + (gain[k10 + c]! - gain[k00 + c]!) * tx) * (1 - ty) +
          (gain[k01 + c]! + (gain[k11 + c]! - gain[k01 + c]!) * tx) * ty;
        const lit = linearToSrgbByte(SRGB_TO_LINEAR[data[i + c]!]! * g[c]!);
        out[i + c] = a * lit + (1 - a) * b[c]! + 0.5;
      }
    }
  }
  return { data: out, width, height, channels: 3 };
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
      const fx = Math.min(gw - 1, Math.max(0, gx + (inv[o * 2] ?? 0) / cell));
      const fy = Math.min(gh - 1, Math.max(0, gy + (inv[o * 2 + 1] ?? 0) / cell));
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(gw - 1, x0 + 1);
      const y1 = Math.min(gh - 1, y0 + 1);
      const tx = fx - x0;
      const ty = fy - y0;
      for (let c = 0; c < 3; c++) {
        const a = gain[(y0 * gw + x0) * 3 + c]!;
        const b = gain[(y0 * gw + x1) * 3 + c]!;
        const d = gain[(y1 * gw + x0) * 3 + c]!;
        const e = gain[(y1 * gw + x1) * 3 + c]!;
        out[o * 3 + c] = (a + (b - a) * tx) * (1 - ty) + (d + (e - d) * tx) * ty;
      }
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
