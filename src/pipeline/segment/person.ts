import { chooseMainFace, detectFaces } from '../face/detect.js';
import { resizeImage } from '../image.js';
import { getSession } from '../models/index.js';
import type { Box, RgbImage } from '../types.js';
import { solidBody } from './body.js';
import { dropSmallBlobs } from './components.js';
import { earsByDepth, lostSkinBesideFace } from './ears.js';
import { applyCoefficients, type Bounds, boxMean, guidedCoefficients, prepareGuide } from './guided-filter.js';
import { hairAndSkin } from './hair-skin.js';
import { putBackLostHair } from './lost-hair.js';
import { runDepth, runSelfieSegmentation, runSkinClothesHair } from './models.js';
import { maxFilter, type Plane, resizePlane } from './plane.js';

/** Masks of one photo, each width x height in 0..1 at the photo's own resolution; hair and skin lie inside person. */
export interface PersonSegmentation {
  width: number;
  height: number;
  /** Person (or people) against background, edges refined against the photo. */
  person: Float32Array;
  /** Hair of the head, including short and grey hair the hair model misses. */
  hair: Float32Array;
  /** Visible skin of the person (face, ears, neck, hands). */
  skin: Float32Array;
}

export interface SegmentOptions {
  /**
   * The main face's box in the image's pixels (the detector's box), which places the head for the hair and skin
   * masks. Without it the face detector runs on the image (tens of milliseconds); when it finds no face, hair and
   * skin are the model's own.
   */
  face?: Box;
  /**
   * The head's yaw in degrees (negative: facing the viewer's left), where known: a turned face shows an ear only on
   * the side behind it, so skin on the side it faces is never taken for one.
   */
  yaw?: number;
}

/**
 * The refinement works at most at this many pixels per side; only its coefficients are upsampled from there
 * (a quarter of the working square's side, as in the fast guided filter paper: the edge itself is placed by the
 * full-resolution colours). The hair and skin rules run here too.
 */
export const GUIDE_SIDE = 256;
/** The models' copy of the photo: the skin/clothes/hair model reads 512x512. */
const MODEL_SIDE = 512;
/**
 * Guided-filter window radius and regulariser at GUIDE_SIDE (colours in 0..1). The radius covers the model's
 * blurred edge; a small eps lets the edge snap to colour changes.
 */
const GUIDE_RADIUS = 4;
const GUIDE_EPS = 1e-3;
/**
 * How far (in guide pixels at GUIDE_SIDE) the refined edge may move from the model's own 0.5 line. A wider band
 * lets the filter eat into the person where the background has the same colour (an ear against a red curtain).
 */
const BAND = 3;
/**
 * The guided filter leaves a soft haze where person and background share a colour, which reads as a halo of
 * background around the head; values are steepened from [EDGE_LOW, EDGE_HIGH] to [0, 1].
 */
const EDGE_LOW = 0.2;
const EDGE_HIGH = 0.8;

/**
 * Person, hair and skin masks of a photo (any size; the compositor passes its head-and-shoulders working square).
 * Cost at 1024x1024 on 2 cores: see `npm run bench -- segment`.
 */
export async function segmentPerson(image: RgbImage, options: SegmentOptions = {}): Promise<PersonSegmentation> {
  const forModels = await scaledCopy(image, MODEL_SIDE);
  const [small, coarse, parts, face] = await Promise.all([
    scaledCopy(forModels, GUIDE_SIDE),
    runSelfieSegmentation(forModels),
    runSkinClothesHair(forModels),
    options.face ?? mainFaceBox(image),
  ]);
  const { width, height } = image;
  if (face && face.width >= 1 && face.height >= 1) {
    const box = scaleBox(face, coarse.width / width, coarse.height / height);
    const yaw = options.yaw ?? 0;
    if (lostSkinBesideFace(coarse, parts.skin, box, yaw)) {
      earsByDepth(coarse, await runDepth(forModels), parts.skin, box, yaw);
    }
    putBackLostHair(coarse, parts.hair, box, small);
    solidBody(coarse, parts.skin, box);
  }
  const { person, reach } = refinePerson(image, small, coarse);
  distrustPlateaus(person, coarse, face);
  const low = hairAndSkin({
    image: small,
    reach,
    skin: resizePlane(parts.skin, small.width, small.height),
    clothes: resizePlane(parts.clothes, small.width, small.height),
    hair: resizePlane(parts.hair, small.width, small.height),
    ...(face && face.width >= 1 && face.height >= 1
      ? { face: scaleBox(face, small.width / width, small.height / height) }
      : {}),
  });
  return { width, height, person: person.data, ...insidePerson(person, low.hair, low.skin) };
}

/**
 * Opens the models segmentPerson needs (downloading them if the registry must), so an engine that segments can
 * fail at its start, with the registry's sentence, instead of on its first job.
 */
export async function openSegmentationModels(): Promise<void> {
  await Promise.all([getSession('selfie-segmentation'), getSession('skin-clothes-hair'), getSession('depth')]);
}

/** The photo scaled to at most `side` pixels per side, keeping its shape, never enlarged. */
export function scaledCopy(image: RgbImage, side: number): Promise<RgbImage> {
  const scale = Math.min(1, side / Math.max(image.width, image.height));
  return resizeImage(
    image,
    Math.max(1, Math.round(image.width * scale)),
    Math.max(1, Math.round(image.height * scale)),
  );
}

/**
 * The selfie model's mask refined against the photo: stray blobs dropped, a colour guided filter fitted at the
 * guide's resolution and applied at the photo's, kept within BAND of the model's edge and steepened.
 * `reach` (at the guide's resolution) is non-zero wherever the refined mask may be.
 */
export function refinePerson(image: RgbImage, small: RgbImage, coarse: Plane): { person: Plane; reach: Plane } {
  const cleaned: Plane = { width: coarse.width, height: coarse.height, data: coarse.data.slice() };
  dropSmallBlobs(cleaned, 0.5, 0.1);
  const k = Math.max(small.width, small.height) / GUIDE_SIDE;
  const personLow = resizePlane(cleaned, small.width, small.height);
  const guide = prepareGuide(small, Math.max(2, Math.round(GUIDE_RADIUS * k)), GUIDE_EPS);
  const bounds = bandBounds(personLow, Math.max(1, Math.round(BAND * k)));
  const person = applyCoefficients(guidedCoefficients(guide, personLow), image, bounds, steepen);
  return { person, reach: bounds.upper };
}

/**
 * Hair and skin at the photo's resolution, inside the refined person (their outer edges are the person's):
 * bilinear upsampling fused with the product, skipping the background, where both are 0.
 */
export function insidePerson(
  person: Plane,
  hairLow: Plane,
  skinLow: Plane,
): { hair: Float32Array; skin: Float32Array } {
  const { width, height } = person;
  const sw = hairLow.width;
  const sh = hairLow.height;
  if (skinLow.width !== sw || skinLow.height !== sh) throw new Error('hair and skin planes differ in size');
  const hair = new Float32Array(width * height);
  const skin = new Float32Array(width * height);
  const xs0 = new Int32Array(width);
  const xs1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = Math.min(sw - 1, Math.max(0, (x + 0.5) * (sw / width) - 0.5));
    xs0[x] = Math.floor(u);
    xs1[x] = Math.min(sw - 1, Math.floor(u) + 1);
    fx[x] = u - Math.floor(u);
  }
  const hairRow = new Float32Array(sw);
  const skinRow = new Float32Array(sw);
  const p = person.data;
  for (let y = 0; y < height; y++) {
    const v = Math.min(sh - 1, Math.max(0, (y + 0.5) * (sh / height) - 0.5));
    const r0 = Math.floor(v) * sw;
    const r1 = Math.min(sh - 1, Math.floor(v) + 1) * sw;
    const fy = v - Math.floor(v);
    for (let x = 0; x < sw; x++) {
      const h = hairLow.data[r0 + x]!;
      hairRow[x] = h + (hairLow.data[r1 + x]! - h) * fy;
      const s = skinLow.data[r0 + x]!;
      skinRow[x] = s + (skinLow.data[r1 + x]! - s) * fy;
    }
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const pv = p[o + x]!;
      if (pv === 0) continue;
      const a = xs0[x]!;
      const c = xs1[x]!;
      const f = fx[x]!;
      const h = hairRow[a]! + (hairRow[c]! - hairRow[a]!) * f;
      const s = skinRow[a]! + (skinRow[c]! - skinRow[a]!) * f;
      hair[o + x] = pv * Math.min(1, Math.max(0, h));
      skin[o + x] = pv * Math.min(1, Math.max(0, s));
    }
  }
  return { hair, skin };
}

/**
 * Where the edge may be: `lower` is 1 where the model's mask averages above 0.98 over the `band`-radius window
 * (surely person), `upper` is 0 where it averages below 0.02 (surely background); both ramp smoothly in between.
 * They come from the soft mask, not a thresholded one: a binary mask's 256-px cells would show as a staircase
 * wherever the photo cannot place the edge (a navy sleeve against a navy flag) and the bound decides it.
 */
function bandBounds(p: Plane, band: number): Bounds {
  const { width, height } = p;
  const n = width * height;
  const mean = boxMean(p.data, width, height, band);
  const lower = new Float32Array(n);
  const upper = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = mean[i]!;
    lower[i] = m >= 0.98 ? 1 : m <= 0.85 ? 0 : (m - 0.85) / 0.13;
    upper[i] = m <= 0.02 ? 0 : m >= 0.1 ? 1 : (m - 0.02) / 0.08;
  }
  return { lower: { width, height, data: lower }, upper: { width, height, data: upper } };
}

function steepen(q: number): number {
  const t = Math.min(1, Math.max(0, (q - EDGE_LOW) / (EDGE_HIGH - EDGE_LOW)));
  return t * t * (3 - 2 * t);
}

async function mainFaceBox(image: RgbImage): Promise<Box | undefined> {
  const faces = await detectFaces(image);
  return faces[chooseMainFace(faces, image.width, image.height)]?.box;
}

function scaleBox(b: Box, sx: number, sy: number): Box {
  return { x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy };
}

/**
 * Where the selfie model is unsure over a wide area away from the head, the refined mask must not make it person.
 * Its doubt there is a grey plateau (a red cushion beside an arm, a neighbour's hair at the frame's side, a sofa's
 * corner), not an edge: the colour refinement would snap such an area to whatever colours it finds, and over a
 * studio backdrop it floats as a torn flap (seen on crops of group photos). So away from the head the mask is
 * scaled by how sure the model is, read on its mask grown by PLATEAU_GROW cells (a true edge, a ramp a few cells
 * wide, is then sure right up to where it ends and loses nothing). Around the head (hair!) the refinement is
 * trusted. In place.
 */
const PLATEAU_GROW = 2;
const SURE_LOW = 0.4;
const SURE_HIGH = 0.8;

export function distrustPlateaus(person: Plane, coarse: Plane, face: Box | undefined): void {
  const { width: cw, height: ch } = coarse;
  const grown = maxFilter(coarse.data, cw, ch, PLATEAU_GROW);
  const trust = new Float32Array(cw * ch);
  const sx = cw / person.width;
  const sy = ch / person.height;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const o = y * cw + x;
      const t = Math.min(1, Math.max(0, ((grown[o] ?? 0) - SURE_LOW) / (SURE_HIGH - SURE_LOW)));
      let head = 0;
      if (face) {
        // An ellipse 1.4 faces wide each side and from well above the brows to below the chin, soft at its rim.
        const dx = ((x + 0.5) / sx - (face.x + face.width / 2)) / (face.width * 1.4);
        const dy = ((y + 0.5) / sy - (face.y + face.height * 0.4)) / (face.height * 1.5);
        head = Math.min(1, Math.max(0, (1.2 - Math.hypot(dx, dy)) / 0.4));
      }
      trust[o] = Math.max(head, t * t * (3 - 2 * t));
    }
  }
  const up = resizePlane({ width: cw, height: ch, data: trust }, person.width, person.height).data;
  for (let i = 0; i < person.data.length; i++) person.data[i] = (person.data[i] ?? 0) * (up[i] ?? 1);
}
