import { resizeImage } from '../image.js';
import type { Box, RgbImage } from '../types.js';
import { components, dropSmallBlobs } from './components.js';
import { applyCoefficients, guidedCoefficients, prepareGuide } from './guided-filter.js';
import { runSelfieSegmentation, runSkinClothesHair } from './models.js';
import { type Plane, resizePlane } from './plane.js';

/** Masks of one photo, each width x height in 0..1 at the photo's own resolution; hair and skin lie inside person. */
export interface PersonSegmentation {
  width: number;
  height: number;
  /** Person (or people) against background, edges refined against the photo. */
  person: Float32Array;
  /** Hair of the head, including short hair the hair model misses. */
  hair: Float32Array;
  /** Visible skin (face, ears, neck, hands). */
  skin: Float32Array;
}

export interface SegmentOptions {
  /**
   * The main face's box in the image's pixels (the detector's box), which places the head for the hair mask.
   * Without it the largest skin region high in the frame is taken for the face.
   */
  face?: Box;
}

/** The refinement works at most at this many pixels per side; coefficients are upsampled from there. */
const GUIDE_SIDE = 512;
/** Guided-filter window radius and regulariser at GUIDE_SIDE (colours in 0..1). */
const GUIDE_RADIUS = 8;
const GUIDE_EPS = 1e-3;

export async function segmentPerson(image: RgbImage, options: SegmentOptions = {}): Promise<PersonSegmentation> {
  const { width, height } = image;
  const scale = Math.min(1, GUIDE_SIDE / Math.max(width, height));
  const gw = Math.max(1, Math.round(width * scale));
  const gh = Math.max(1, Math.round(height * scale));
  const [coarse, parts, small] = await Promise.all([
    runSelfieSegmentation(image),
    runSkinClothesHair(image),
    resizeImage(image, gw, gh),
  ]);

  dropSmallBlobs(coarse, 0.5, 0.1);
  const guide = prepareGuide(small, Math.max(2, Math.round(GUIDE_RADIUS * (Math.max(gw, gh) / GUIDE_SIDE))), GUIDE_EPS);
  const personLow = resizePlane(coarse, gw, gh);
  const person = applyCoefficients(guidedCoefficients(guide, personLow), image);

  const skinLow = resizePlane(parts.skin, gw, gh);
  const clothesLow = resizePlane(parts.clothes, gw, gh);
  const hairLow = resizePlane(parts.hair, gw, gh);
  const face = options.face ? scaleBox(options.face, gw / width, gh / height) : faceFromSkin(skinLow, personLow);
  const hairGuess = new Float32Array(gw * gh);
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++) {
      const i = y * gw + x;
      const other = (1 - (skinLow.data[i] ?? 0)) * (1 - (clothesLow.data[i] ?? 0));
      const zone = face ? headZone(face, x + 0.5, y + 0.5) : 0;
      hairGuess[i] = Math.max(hairLow.data[i] ?? 0, zone * other);
    }
  }
  const hairFull = resizePlane({ width: gw, height: gh, data: hairGuess }, width, height);
  const skinFull = resizePlane(skinLow, width, height);
  const n = width * height;
  const hair = new Float32Array(n);
  const skin = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = person.data[i] ?? 0;
    hair[i] = p * Math.min(1, Math.max(0, hairFull.data[i] ?? 0));
    skin[i] = p * Math.min(1, Math.max(0, skinFull.data[i] ?? 0));
  }
  return { width, height, person: person.data, hair, skin };
}

function scaleBox(b: Box, sx: number, sy: number): Box {
  return { x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy };
}

/**
 * Where hair can be: above the chin and within about a face width of the face's centre line, fading out over a
 * quarter face so the zone leaves no edge of its own in the mask.
 */
function headZone(face: Box, x: number, y: number): number {
  const cx = face.x + face.width / 2;
  const dx = Math.abs(x - cx) / face.width; // 0 at the centre line, 0.5 at the box side
  const below = (y - (face.y + face.height)) / face.height; // > 0 below the chin
  const above = (face.y - y) / face.height; // > 0 above the box top
  const side = ramp(1.1 - dx, 0.25);
  const vertical = ramp(-below, 0.15) * ramp(1.0 - above, 0.25);
  return side * vertical;
}

/** 0 at v <= 0, 1 at v >= width, smooth in between. */
function ramp(v: number, width: number): number {
  const t = Math.min(1, Math.max(0, v / width));
  return t * t * (3 - 2 * t);
}

/**
 * A face box guessed from the skin mask when the caller has none: the skin blob inside the person that is
 * largest, favouring blobs high in the frame (hands and arms are skin too). The blob includes the neck, so its
 * box is cut to a face's proportions from the top.
 */
function faceFromSkin(skin: Plane, person: Plane): Box | undefined {
  const masked: Plane = {
    width: skin.width,
    height: skin.height,
    data: skin.data.map((v, i) => (Math.min(v, person.data[i] ?? 0) >= 0.5 ? 1 : 0)),
  };
  const { areas, boxes } = components(masked, 0.5);
  let best = 0;
  let bestScore = 0;
  for (let l = 1; l < areas.length; l++) {
    const box = boxes[l];
    if (!box) continue;
    const cy = (box[1] + box[3]) / 2 / skin.height;
    const score = (areas[l] ?? 0) * (1.5 - cy);
    if (score > bestScore) {
      bestScore = score;
      best = l;
    }
  }
  const box = boxes[best];
  if (!best || !box) return undefined;
  const w = box[2] - box[0] + 1;
  const h = Math.min(box[3] - box[1] + 1, w * 1.3);
  return { x: box[0], y: box[1], width: w, height: h };
}
