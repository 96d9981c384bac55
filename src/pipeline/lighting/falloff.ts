import type { LightFalloff } from '../../core/lighting.js';
import type { RgbImage } from '../types.js';
import { SRGB_TO_LINEAR } from './colour.js';

/** Linear light (0..1) to sRGB bytes, exact: STEPS entries. */
const STEPS = 4096;
const TO_SRGB: Uint8Array = (() => {
  const t = new Uint8Array(STEPS + 1);
  for (let i = 0; i <= STEPS; i++) {
    const s = i / STEPS;
    const c = s <= 0.0031308 ? s * 12.92 : 1.055 * s ** (1 / 2.4) - 0.055;
    t[i] = Math.max(0, Math.min(255, Math.round(c * 255)));
  }
  return t;
})();

/**
 * A near light's falloff: a flame held by the face lights the face and little else, its light dropping with the
 * square of the distance, so the body and the room behind fall into the dark round a bright face. Applied to the
 * whole composed picture (the member and whatever is behind them alike), in linear light. Exact sRGB both ways: the
 * relight's encoder rolls off highlights, which would dim the face the light is meant to leave as it is.
 *
 * `face`: 1 inside the face's oval (width x height of the image); with no face, the picture is returned as it is.
 */
export function applyFalloff(src: RgbImage, face: ArrayLike<number>, f: LightFalloff): RgbImage {
  const { width: w, height: h } = src;
  let sx = 0;
  let sy = 0;
  let area = 0;
  for (let y = 0, p = 0; y < h; y++) {
    for (let x = 0; x < w; x++, p++) {
      if ((face[p] ?? 0) > 0.5) {
        sx += x;
        sy += y;
        area++;
      }
    }
  }
  if (area === 0) return src;
  const r = Math.sqrt(area / Math.PI);
  const cx = sx / area;
  const cy = sy / area + f.below * r;
  const reach = f.reach * r;
  const d = src.data;
  const out = new Uint8Array(d.length);
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i += 3) {
      const q = ((x - cx) ** 2 + (y - cy) ** 2) / (reach * reach);
      const gain = f.floor + (1 - f.floor) / (1 + q);
      for (let c = 0; c < 3; c++) {
        const v = (SRGB_TO_LINEAR[d[i + c]!] ?? 0) * gain;
        out[i + c] = TO_SRGB[Math.round(v * STEPS)] ?? 255;
      }
    }
  }
  return { ...src, data: out };
}
