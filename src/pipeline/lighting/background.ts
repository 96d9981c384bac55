import sharp from 'sharp';
import type { BackgroundTreatment, Rgb } from '../../core/lighting.js';
import type { RgbImage } from '../types.js';
import { linearToSrgbByte, luminance, SRGB_TO_LINEAR } from './colour.js';
import { boxBlur, meshBounds } from './mesh-raster.js';

/**
 * Subject vs background for the compositor: what gets relit and what gets the preset's background treatment
 * (kept, blurred, darkened, toned). There is no person-matting model with a clean license to ship, so the subject
 * is the head mask the warp derives from the mesh (face, hair, ears, neck) united with a soft shoulders region
 * below the chin; the edges are feathered wide so a wrong guess reads as a vignette, not as a cut-out.
 */

/** A soft mask on a coarse grid (cell = image pixels per cell), values 0..1. */
export interface SoftMask {
  data: Float32Array;
  width: number;
  height: number;
  cell: number;
}

const MASK_CELL = 4;

/**
 * The subject mask for an image of `width` x `height`: `headMask` (per pixel, 0..1 or 0..255, from the warp) when
 * given, else an ellipse around the face mesh grown upward for hair; plus the shoulders below the chin.
 */
export function subjectMask(
  width: number,
  height: number,
  points: Float32Array,
  headMask?: ArrayLike<number>,
  headMaskMax = 1,
): SoftMask {
  const gw = Math.ceil(width / MASK_CELL);
  const gh = Math.ceil(height / MASK_CELL);
  const data = new Float32Array(gw * gh);
  const [minX, minY, maxX, maxY] = meshBounds(points);
  const faceW = Math.max(1, maxX - minX);
  const faceH = Math.max(1, maxY - minY);
  const cx = (minX + maxX) / 2;
  // Chin: the lowest mesh point. The neck and shoulders hang below it.
  const chinY = maxY;
  for (let gy = 0; gy < gh; gy++) {
    const y = (gy + 0.5) * MASK_CELL;
    for (let gx = 0; gx < gw; gx++) {
      const x = (gx + 0.5) * MASK_CELL;
      let head: number;
      if (headMask) {
        const px = Math.min(width - 1, Math.floor(x));
        const py = Math.min(height - 1, Math.floor(y));
        head = Math.min(1, (headMask[py * width + px] ?? 0) / headMaskMax);
      } else {
        // Hair adds about a third of the face height above the forehead points and a little at the sides.
        const ex = (x - cx) / (faceW * 0.68);
        const ey = (y - (minY + faceH * 0.4)) / (faceH * 0.78);
        head = ex * ex + ey * ey <= 1 ? 1 : 0;
      }
      let body = 0;
      if (y > chinY - faceH * 0.1) {
        // Neck (about half a face wide) widening into shoulders about 2.6 face widths across.
        const below = y - chinY;
        const half = Math.min(faceW * 1.3, faceW * 0.3 + Math.max(0, below - faceH * 0.25) * 1.4);
        body = Math.abs(x - cx) <= half ? 1 : 0;
      }
      data[gy * gw + gx] = Math.max(head, body);
    }
  }
  // Feather: about 3% of the face width on each side of the edge.
  const feathered = boxBlur(data, gw, gh, 1, Math.max(1, Math.round((faceW * 0.05) / MASK_CELL)));
  return { data: feathered, width: gw, height: gh, cell: MASK_CELL };
}

/** The background source for a treatment: blurred when asked (downscaled 4x, blurred, upscaled: cheap). */
export async function blurredBackground(image: RgbImage, treatment: BackgroundTreatment): Promise<RgbImage> {
  const sigma = treatment.blur * Math.max(image.width, image.height);
  if (sigma < 0.6) return image;
  const small = 4;
  const w = Math.max(8, Math.round(image.width / small));
  const h = Math.max(8, Math.round(image.height / small));
  const s = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).resize(w, h, {
    kernel: 'linear',
  });
  const down = await s.raw().toBuffer();
  const blurred = await sharp(down, { raw: { width: w, height: h, channels: 3 } })
    .blur(Math.max(0.3, sigma / small))
    .resize(image.width, image.height, { kernel: 'linear' })
    .raw()
    .toBuffer();
  return {
    data: new Uint8Array(blurred.buffer, blurred.byteOffset, blurred.length),
    width: image.width,
    height: image.height,
    channels: 3,
  };
}

export interface ComposeOptions {
  treatment: BackgroundTreatment;
  /** The lighting rig's overall colour (unit luminance), for toning. */
  rigColour: Rgb;
  /** Extra background brightness factor (variation jitter). @defaultValue 1 */
  backgroundGain?: number;
}

/**
 * subject * m + treated(background) * (1 - m), per pixel, m the upsampled soft mask. `subject` is the relit image,
 * `background` the (blurred) unrelit one; both the same size.
 */
export function composeSubject(
  subject: RgbImage,
  background: RgbImage,
  mask: SoftMask,
  options: ComposeOptions,
): RgbImage {
  const { width, height } = subject;
  const out = new Uint8Array(subject.data.length);
  const t = options.treatment;
  const gain = t.brightness * (options.backgroundGain ?? 1);
  const tone: Rgb = [
    1 + (options.rigColour[0] - 1) * t.tone,
    1 + (options.rigColour[1] - 1) * t.tone,
    1 + (options.rigColour[2] - 1) * t.tone,
  ];
  const sat = t.saturation;
  // Background byte -> treated byte, per channel: a lookup when saturation is untouched; else per pixel.
  const lut: Uint8Array[] = [0, 1, 2].map((c) => {
    const l = new Uint8Array(256);
    for (let v = 0; v < 256; v++) l[v] = linearToSrgbByte((SRGB_TO_LINEAR[v] ?? 0) * gain * (tone[c] ?? 1));
    return l;
  });
  const [l0, l1, l2] = lut as [Uint8Array, Uint8Array, Uint8Array];
  const mw = mask.width;
  const mh = mask.height;
  const inv = 1 / mask.cell;
  const cx0 = new Int32Array(width);
  const cx1 = new Int32Array(width);
  const cfx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = Math.min(mw - 1, Math.max(0, (x + 0.5) * inv - 0.5));
    cx0[x] = Math.floor(g);
    cx1[x] = Math.min(mw - 1, Math.floor(g) + 1);
    cfx[x] = g - Math.floor(g);
  }
  const row = new Float32Array(mw);
  const sd = subject.data;
  const bd = background.data;
  for (let y = 0; y < height; y++) {
    const gyf = Math.min(mh - 1, Math.max(0, (y + 0.5) * inv - 0.5));
    const y0 = Math.floor(gyf);
    const y1 = Math.min(mh - 1, y0 + 1);
    const fy = gyf - y0;
    for (let k = 0; k < mw; k++) row[k] = mask.data[y0 * mw + k]! * (1 - fy) + mask.data[y1 * mw + k]! * fy;
    let i = y * width * 3;
    for (let x = 0; x < width; x++, i += 3) {
      const a = row[cx0[x]!]!;
      const m = a + (row[cx1[x]!]! - a) * cfx[x]!;
      if (m >= 0.999) {
        out[i] = sd[i]!;
        out[i + 1] = sd[i + 1]!;
        out[i + 2] = sd[i + 2]!;
        continue;
      }
      let r = l0[bd[i]!]!;
      let g = l1[bd[i + 1]!]!;
      let b = l2[bd[i + 2]!]!;
      if (sat !== 1) {
        const yl = luminance(r, g, b);
        r = Math.min(255, Math.max(0, yl + (r - yl) * sat));
        g = Math.min(255, Math.max(0, yl + (g - yl) * sat));
        b = Math.min(255, Math.max(0, yl + (b - yl) * sat));
      }
      if (m <= 0.001) {
        out[i] = r;
        out[i + 1] = g;
        out[i + 2] = b;
        continue;
      }
      out[i] = Math.round(m * sd[i]! + (1 - m) * r);
      out[i + 1] = Math.round(m * sd[i + 1]! + (1 - m) * g);
      out[i + 2] = Math.round(m * sd[i + 2]! + (1 - m) * b);
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** The mask as a grey picture at grid resolution, for the debug sheet. */
export function softMaskImage(mask: SoftMask): RgbImage {
  const data = new Uint8Array(mask.width * mask.height * 3);
  for (let i = 0; i < mask.width * mask.height; i++) {
    const v = Math.round(Math.min(1, Math.max(0, mask.data[i] ?? 0)) * 255);
    data[3 * i] = v;
    data[3 * i + 1] = v;
    data[3 * i + 2] = v;
  }
  return { data, width: mask.width, height: mask.height, channels: 3 };
}
