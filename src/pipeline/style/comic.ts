import type { ComicLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import { boxBlur, image, lumaPlane, smoothstep } from './filters.js';
import { applyOilStrokes } from './oil.js';

/**
 * Comic book / pop art. The photo is first flattened (the oil filter's edge-keeping smoothing with a small brush),
 * its tones quantised into `levels` bands with soft band edges (no aliasing), colours kept or replaced by a
 * pop-art `palette`, outlines inked where a difference of Gaussians of the flattened grey crosses a threshold (the
 * dark side of edges only, so lines sit where an inker draws them), and halftone dots laid on a 45-degree screen in
 * the darker bands. With a `ground` colour and a subject mask the background becomes that one flat colour, as in
 * a screen print, instead of the photo's clutter in poster colours. Without a ground the photo's background stays
 * but is simplified, as a comic panel's is: painted with a broad brush, paler, with few ink lines and light dots,
 * so a busy street or crowd recedes behind the subject.
 */
export function applyComic(src: RgbImage, c: ComicLook, alpha: ArrayLike<number> | undefined): RgbImage {
  const { width, height } = src;
  const n = width * height;
  const scale = Math.max(width, height) / 1024;
  const flat = applyOilStrokes(src, alpha ? 0.03 : 0.014, 0.006, alpha);
  const luma = lumaPlane(flat);
  // Difference of two blurs, the wider one the narrower blurred again (box passes add their variances).
  const r = Math.max(1, Math.round(c.ink * scale * 0.5));
  const g1 = boxBlur(luma, width, height, r, 2);
  const g2 = boxBlur(g1, width, height, r, 2);
  const d = flat.data;
  const out = new Uint8ClampedArray(n * 3);
  const levels = c.levels;
  const palette = c.palette;
  // Halftone screen at 45 degrees: u, v are the rotated coordinates in cells.
  const period = c.halftone * scale;
  const cos = Math.SQRT1_2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const i = p * 3;
      const l = luma[p]! / 255;
      // Soft quantisation: a smoothstep ramp 12% of a band wide at each band edge.
      const band = l * (levels - 1);
      const base = Math.floor(band);
      const frac = band - base;
      const q = Math.min(levels - 1, base + smoothstep(0.44, 0.56, frac));
      const ql = q / (levels - 1);
      let r: number;
      let g: number;
      let b: number;
      if (palette && palette.length > 0) {
        const f = (q / (levels - 1)) * (palette.length - 1);
        const k = Math.floor(f);
        const t = f - k;
        const a = palette[k]!;
        const z = palette[Math.min(palette.length - 1, k + 1)]!;
        r = a[0] + (z[0] - a[0]) * t;
        g = a[1] + (z[1] - a[1]) * t;
        b = a[2] + (z[2] - a[2]) * t;
      } else {
        // Keep the hue, move the lightness most of the way to the band's: a full snap lifts dark skin into
        // peach (scaling a dark brown up brightens its chroma too), which changes who the person looks like.
        // The darkest band is a deep shade, not black: black belongs to the ink.
        const target = luma[p]! + (255 * (0.1 + 0.9 * ql) - luma[p]!) * 0.7;
        const k = target / Math.max(8, luma[p]!);
        r = d[i]! * k;
        g = d[i + 1]! * k;
        b = d[i + 2]! * k;
        const yy = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        r = yy + (r - yy) * c.saturation;
        g = yy + (g - yy) * c.saturation;
        b = yy + (b - yy) * c.saturation;
      }
      const ground = c.ground;
      const subject = alpha ? Math.min(1, Math.max(0, alpha[p] ?? 0)) : 1;
      if (!ground && subject < 1) {
        // The background recedes: a third of the way to a pale wash of its own colour.
        const fade = 0.35 * (1 - subject);
        r += (235 - 0.3 * (235 - r) - r) * fade;
        g += (235 - 0.3 * (235 - g) - g) * fade;
        b += (235 - 0.3 * (235 - b) - b) * fade;
      }
      if (ground && alpha) {
        // The screen print's flat ground behind the subject.
        const a = Math.min(1, Math.max(0, alpha[p] ?? 0));
        r = ground[0] + (r - ground[0]) * a;
        g = ground[1] + (g - ground[1]) * a;
        b = ground[2] + (b - ground[2]) * a;
      }
      let shade = 1;
      if (period >= 2) {
        // Dots grow as the band darkens; none in the two lightest bands.
        const cover = Math.max(0, 0.75 - ql) * 0.9;
        if (cover > 0) {
          const u = ((x + y) * cos) / period;
          const v = ((x - y) * cos) / period;
          const du = u - Math.round(u);
          const dv = v - Math.round(v);
          const dist = Math.sqrt(du * du + dv * dv);
          const radius = Math.sqrt(cover / Math.PI);
          // Dots a little darker, the gaps a little lighter, so the band keeps its mean and skin stays clean.
          const inside = smoothstep(radius + 0.06, radius - 0.06, dist);
          shade = inside * (1 - 0.3 * (1 - cover)) + (1 - inside) * (1 + 0.3 * cover);
        }
      }
      // Ink on the dark side of edges.
      const dog = g1[p]! - g2[p]!;
      let ink = c.ink > 0 ? smoothstep(1.8, 4.5, -dog) : 0;
      if (!ground) {
        // Few lines and light dots behind the subject: its clutter is not what the panel is about.
        ink *= 0.2 + 0.8 * subject;
        shade = 1 + (shade - 1) * (0.4 + 0.6 * subject);
      }
      if (ground && alpha) {
        // The flat ground stays clean: no ink or dots from the photo's background.
        const a = Math.min(1, Math.max(0, alpha[p] ?? 0));
        ink *= a;
        shade = 1 + (shade - 1) * a;
      }
      const keep = shade * (1 - ink);
      out[i] = r * keep + 18 * ink;
      out[i + 1] = g * keep + 14 * ink;
      out[i + 2] = b * keep + 20 * ink;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}
