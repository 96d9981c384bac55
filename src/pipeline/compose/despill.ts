import type { BackgroundSource } from '../lighting/background.js';
import { smoothstep } from '../style/filters.js';
import type { RgbImage } from '../types.js';
import { nearOutside } from './light-wrap.js';

/**
 * Spill suppression for a studio backdrop. A strongly coloured wall lights the person's edges with its colour: dark
 * curls before a cyan wall come out cyan at their ends, a shoulder before a green one green. Over the photo's own
 * background that is right; cut out onto a grey or blue backdrop it read as patches of the old wall left in the hair
 * (a blind panel). As a blue-screen keyer does, the wall's hue is taken out of the person's colour near their
 * outline: the part of each pixel's chroma that points the wall's way, as much as the wall is coloured and the
 * outline is near, on what is darker than the wall. Other hues are left alone, so skin before a blue wall keeps
 * its warmth.
 * Red, orange, yellow and pink walls are skipped: their hue is skin's, and taking it out greys faces.
 */
const REACH = 0.03;
const COLOURED_LOW = 40;
const COLOURED_HIGH = 80;

export function despill(image: RgbImage, alpha: Float32Array, wall: BackgroundSource): RgbImage {
  const { width, height, data } = image;
  const near = nearOutside(alpha, width, height, REACH);
  const out = new Uint8Array(data);
  const wd = wall.image.data;
  const ww = wall.image.width;
  const wh = wall.image.height;
  const f = wall.factor;
  for (let y = 0; y < height; y++) {
    const wy = Math.min(wh - 1, Math.floor(y / f)) * ww;
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      if ((alpha[o] ?? 0) < 0.01) continue;
      const k0 = Math.min(1, 3 * (near[o] ?? 0));
      if (k0 < 0.01) continue;
      const j = (wy + Math.min(ww - 1, Math.floor(x / f))) * 3;
      const wr = wd[j]!;
      const wg = wd[j + 1]!;
      const wb = wd[j + 2]!;
      if (wr >= wg && wr >= wb) continue;
      const strength = smoothstep(COLOURED_LOW, COLOURED_HIGH, Math.max(wr, wg, wb) - Math.min(wr, wg, wb));
      if (strength <= 0) continue;
      const wm = (wr + wg + wb) / 3;
      let ur = wr - wm;
      let ug = wg - wm;
      let ub = wb - wm;
      const ul = Math.hypot(ur, ug, ub);
      ur /= ul;
      ug /= ul;
      ub /= ul;
      const i = o * 3;
      const pr = data[i]!;
      const pg = data[i + 1]!;
      const pb = data[i + 2]!;
      const pm = (pr + pg + pb) / 3;
      const proj = (pr - pm) * ur + (pg - pm) * ug + (pb - pm) * ub;
      if (proj <= 0) continue;
      // Spill tints what is darker than the wall (hair, shade); a thing as bright as the wall in its colour is that
      // colour (a teal stripe on a shirt before a teal wall went grey).
      const k = proj * strength * k0 * (1 - smoothstep(0.55, 0.85, pm / Math.max(1, wm)));
      out[i] = Math.max(0, Math.min(255, pr - k * ur + 0.5));
      out[i + 1] = Math.max(0, Math.min(255, pg - k * ug + 0.5));
      out[i + 2] = Math.max(0, Math.min(255, pb - k * ub + 0.5));
    }
  }
  return { data: out, width, height, channels: 3 };
}
