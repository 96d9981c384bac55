import type { Box, RgbImage } from '../types.js';
import { components } from './components.js';
import { boxMean } from './guided-filter.js';
import type { Plane } from './plane.js';

/**
 * Hair and skin from the PAN model's rough channels, corrected with what the photo itself says about the head.
 * The model misses short and grey hair and calls some of it skin (it was trained on 452 images), and it sees
 * hair in dark helmets and jackets. So, at the guide's resolution:
 * - skin outside the face's inner oval must also have the face's own skin colour (a grey crew cut, a tie and a
 *   jacket lining are not skin however the model votes); inside the oval the model is trusted;
 * - hair is the model's hair, plus anything of the person around the head (above the chin, within about a face
 *   width of the face) that is neither skin, nor skin-coloured, nor clothes, outside the face's inner oval (eyes
 *   and brows are not hair);
 * - hair blobs that never reach the head are dropped, so long hair over the shoulders stays and a helmet goes.
 */

export interface HairSkinInput {
  /** The photo at the guide's resolution. */
  image: RgbImage;
  /** Non-zero where the refined person can be: hair and skin are decided only there. */
  reach: Plane;
  skin: Plane;
  clothes: Plane;
  hair: Plane;
  /** The main face's box at this resolution; without one only the model's own hair and skin are used. */
  face?: Box;
}

export function hairAndSkin(input: HairSkinInput): { hair: Plane; skin: Plane } {
  const { width, height } = input.image;
  const n = width * height;
  const face = input.face;
  const hair = new Float32Array(n);
  const skin = new Float32Array(n);
  const colour = face ? skinColourModel(input.image, input.skin, face) : undefined;
  const src = input.image.data;
  const reach = input.reach.data;
  const modelSkin = input.skin.data;
  const modelHair = input.hair.data;
  const clothes = input.clothes.data;
  // The zones are separable (a column factor times a row factor), so they are tabulated once.
  const zoneX = new Float32Array(width);
  const zoneY = new Float32Array(height);
  if (face) {
    for (let x = 0; x < width; x++) zoneX[x] = headZoneX(face, x + 0.5);
    for (let y = 0; y < height; y++) zoneY[y] = hairlineZoneY(face, y + 0.5);
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      // Both masks end up multiplied by the person: outside its reach there is nothing to decide.
      if (reach[i] === 0) continue;
      const core = face ? faceCore(face, x + 0.5, y + 0.5) : 0;
      const zone = zoneX[x]! * zoneY[y]! * (1 - core);
      let s = modelSkin[i]!;
      // Skin-coloured pixels the model missed (a highlight on the forehead) are not hair either.
      let skinLike = 0;
      if (colour && core < 1 && (s > 1e-3 || zone > 0)) {
        skinLike = colour(src[i * 3]! / 255, src[i * 3 + 1]! / 255, src[i * 3 + 2]! / 255);
        s *= core + (1 - core) * skinLike;
      }
      skin[i] = s;
      const other = zone > 0 ? (1 - Math.max(s, skinLike)) * (1 - clothes[i]!) : 0;
      hair[i] = Math.max(modelHair[i]!, zone * other);
    }
  }
  const hairPlane = { width, height, data: hair };
  if (face) keepHeadHair(hairPlane, face);
  return { hair: hairPlane, skin: { width, height, data: skin } };
}

/** 0 at v <= 0, 1 at v >= width, smooth in between. */
function ramp(v: number, width: number): number {
  const t = Math.min(1, Math.max(0, v / width));
  return t * t * (3 - 2 * t);
}

/**
 * Where hair can be: above the chin and within about a face width of the face's centre line, fading out over a
 * quarter face so the zone leaves no edge of its own in the mask. The product of a column and a row factor.
 */
function headZone(face: Box, x: number, y: number): number {
  return headZoneX(face, x) * headZoneY(face, y);
}

function headZoneX(face: Box, x: number): number {
  const dx = Math.abs(x - (face.x + face.width / 2)) / face.width; // 0 at the centre line, 0.5 at the box side
  return ramp(1.1 - dx, 0.25);
}

function headZoneY(face: Box, y: number): number {
  const below = (y - (face.y + face.height)) / face.height; // > 0 below the chin
  const above = (face.y - y) / face.height; // > 0 above the box top
  return ramp(-below, 0.15) * ramp(1.0 - above, 0.25);
}

/**
 * Rows where hair the model missed can be: the head zone's rows down to about the ear lobes. Beside the jaw and
 * neck the non-skin pixels are shadow and collar, not hair (long hair there is the model's, which it finds well).
 */
function hairlineZoneY(face: Box, y: number): number {
  return headZoneY(face, y) * ramp(face.y + face.height * 0.7 - y, face.height * 0.15);
}

/** 1 inside the oval of eyes, nose and mouth (the detector box shrunk a little), fading to 0 just outside it. */
function faceCore(face: Box, x: number, y: number): number {
  const dx = (x - (face.x + face.width / 2)) / (face.width * 0.42);
  const dy = (y - (face.y + face.height * 0.55)) / (face.height * 0.45);
  const d2 = dx * dx + dy * dy;
  return d2 >= 1.3225 ? 0 : ramp(1.15 - Math.sqrt(d2), 0.3);
}

/**
 * The face's skin colour, from the pixels of the face's middle (cheeks, nose) that the model calls skin, as a
 * Gaussian over chromaticity (r and g over r+g+b, which shading leaves alone) and a loose brightness range (a
 * shadowed neck is half as bright as a lit cheek). Answers how skin-like a colour is: 1 within 3 sigma of the
 * chromaticity and within a factor 2 of the brightness, 0 beyond 5 sigma or a factor 3. In RGB the shading axis
 * is so long that a navy tie or grey hair passes for skin in shadow.
 */
function median(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[sorted.length >> 1] ?? 0;
}

function skinColourModel(
  image: RgbImage,
  skin: Plane,
  face: Box,
): ((r: number, g: number, b: number) => number) | undefined {
  const { width, height, data } = image;
  const x0 = Math.max(0, Math.floor(face.x + face.width * 0.25));
  const x1 = Math.min(width, Math.ceil(face.x + face.width * 0.75));
  const y0 = Math.max(0, Math.floor(face.y + face.height * 0.35));
  const y1 = Math.min(height, Math.ceil(face.y + face.height * 0.8));
  const us: number[] = [];
  const vs: number[] = [];
  let sl = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * width + x;
      if ((skin.data[i] ?? 0) < 0.5) continue;
      const r = (data[i * 3] ?? 0) / 255;
      const g = (data[i * 3 + 1] ?? 0) / 255;
      const b = (data[i * 3 + 2] ?? 0) / 255;
      const l = r + g + b;
      if (l < 0.15) continue;
      us.push(r / l);
      vs.push(g / l);
      sl += Math.log(l);
    }
  }
  if (us.length < 20) return undefined;
  const ml = sl / us.length;
  // Median and median absolute deviation: lips, brows and specular highlights in the sample must not widen it.
  // The spread is kept between 0.01 (a flat-lit face still accepts its own skin in shadow) and 0.025 (beyond
  // that grey hair and beige clothes pass for skin).
  const mu = median(us);
  const mv = median(vs);
  const su = Math.min(0.025, Math.max(0.01, 1.4826 * median(us.map((u) => Math.abs(u - mu)))));
  const sv = Math.min(0.025, Math.max(0.01, 1.4826 * median(vs.map((v) => Math.abs(v - mv)))));
  const fullRatio = Math.log(2);
  const fadeRatio = Math.log(1.5);
  return (r, g, bl) => {
    const l = r + g + bl;
    if (l < 0.02) return 0;
    const du = (r / l - mu) / su;
    const dv = (g / l - mv) / sv;
    const sigma = Math.sqrt(du * du + dv * dv);
    const chroma = 1 - ramp(sigma - 3, 2);
    const bright = 1 - ramp(Math.abs(Math.log(l) - ml) - fullRatio, fadeRatio);
    return chroma * bright;
  };
}

/**
 * Keeps only hair that reaches the head: long hair falling over the shoulders stays because it is connected to
 * the hair above the chin, while dark things the hair model likes elsewhere (a helmet, a collar, a dark jacket)
 * are dropped. In place.
 */
function keepHeadHair(hair: Plane, face: Box): void {
  const { width, height } = hair;
  const { labels, areas } = components(hair, 0.5);
  const keep = new Uint8Array(areas.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] ?? 0;
    if (l === 0 || keep[l]) continue;
    const x = i % width;
    if (headZone(face, x + 0.5, (i - x) / width + 0.5) > 0.5) keep[l] = 1;
  }
  // Soft pixels around a kept blob stay, those around a dropped one go: dilate the kept blobs a little.
  const kept = new Float32Array(labels.length);
  for (let i = 0; i < labels.length; i++) kept[i] = keep[labels[i] ?? 0] ? 1 : 0;
  const near = boxMean(kept, width, height, 2);
  for (let i = 0; i < labels.length; i++) if ((near[i] ?? 0) === 0) hair.data[i] = 0;
}
