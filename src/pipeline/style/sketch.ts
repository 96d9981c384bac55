import type { Random } from '../../core/random.js';
import type { SketchLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import {
  boxBlur,
  downsample,
  gaussianBlur,
  image,
  lumaPlane,
  lut,
  type Plane,
  resize,
  resizePlane,
  rgbPlanes,
  sideBlur,
  skinWeight,
  upsample,
  whiteNoise,
} from './filters.js';

/**
 * Pencil sketch, drawn as an artist would draw a portrait on white paper:
 * - The subject is drawn on bare paper. The grey everything is made from is the subject as photographed, with the
 *   background faded to `background` of its contrast, and to nothing near the subject: a background drawn up to the
 *   silhouette (or the subject's tone blurred out past it) read as a grey halo around the head.
 * - Lines: the colour dodge of the grey by its blur (a ratio, so a dark face's eyes are drawn as clearly as a pale
 *   face's), kept only where the step is large relative to the surround; skin is smoothed of blemishes first and its
 *   lines need a larger step, so pores and fine wrinkles are not drawn. The subject's blur is made apart from the
 *   background's, so dark hair is not rimmed in black where it meets the paper; the silhouette gets a light contour
 *   from the mask instead, strongest where the subject is pale and the dodge finds no edge (a cheek, a white shirt).
 * - Flow: the grey is averaged along the local structure's direction (a line integral convolution), so hair is drawn
 *   as strokes along its strands instead of broken dashes, and cloth along its folds.
 * - Tone: the photo's light, compressed (a black suit is dark grey, pale skin nearly paper), laid down as strokes
 *   that follow the same directions: along hair and folds, the classic 45-degree hatching on skin and flat areas.
 *   Darker skin gets more tone, and lines under tone are darkened to read as strongly as on pale skin.
 * - A face photographed bright is drawn from a darker grey (a gamma bringing the skin's median, or on a black and
 *   white photo the face oval's, to FACE_GREY), so its features are drawn rather than left as paper.
 * - The face is the centre of the drawing: tone and lines fade by half toward the frame's edges, as a sketch left
 *   unfinished away from the face.
 * - Paper: the preset's colour with a fine, even tooth that the graphite catches on; no low-frequency mottling.
 */

/** Side of the paper-tooth tile (laid at a random offset: noise shows no repeat at that distance). */
const TOOTH = 512;
/** Stroke directions the flow can take, over 180 degrees. */
const ANGLES = 32;
/** Side of the stroke-texture tiles, and their directions: 22.5 degrees apart, a texture need not be exact. */
const STROKE = 256;
const STROKE_ANGLES = 8;
/** The darkest a line gets: graphite, not ink. */
const LINE_MAX = 0.8;
/** The darkest the light fill of a feature gets. */
const FILL = 0.35;
/**
 * The skin's median grey a face is drawn from, at most: a face photographed bright (median 140 to 166 on the review
 * photos) came out as bare paper with faint eyes ("washed out, the features fade into the paper"). Darker faces are
 * left as they are: lifted toward this grey, mid-dark faces lost their tone (5 of 6 photos in a blind paired panel).
 * Brought down to 105 instead, the faces lost 10 to 27 (17 the same): a grey wash over the skin, "muddy".
 */
const FACE_GREY = 125;
/**
 * The strongest darkening gamma: a guard for faces burnt nearly white, set above what any panelled face took (the
 * brightest, median 166, took 1.66), not measured beyond it.
 */
const MAX_FACE_GAMMA = 2;
/** Fewer skin cells than this (at quarter size), and the median says nothing about a face: a black and white photo. */
const MIN_SKIN_CELLS = 200;

export function applySketch(
  src: RgbImage,
  s: SketchLook,
  alpha: ArrayLike<number> | undefined,
  rng: Random,
  faceOval?: ArrayLike<number>,
): RgbImage {
  const { width, height } = src;
  const scale = Math.max(width, height) / 1024;
  const w2 = Math.ceil(width / 2);
  const h2 = Math.ceil(height / 2);
  // The soft fields (skin, face, stroke direction, focus) are found at a quarter size and read at half size: they
  // change over tens of pixels, and full-size planes of them cost more than the rest of the look's set-up.
  const w4 = Math.max(1, Math.round(width / 4));
  const h4 = Math.max(1, Math.round(height / 4));
  const toHalf = (q: Plane) => upsample(q, w4, h4, w2 / w4, w2, h2);
  const [qr, qg, qb] = rgbPlanes(resize(src, w4, h4));
  const aQ = alpha ? resizePlane(alpha, width, height, w4, h4) : undefined;
  // Skin on the subject: a soft chroma weight.
  const skinQ = skinWeight(qr, qg, qb);
  if (aQ) for (let p = 0; p < skinQ.length; p++) skinQ[p] = skinQ[p]! * Math.min(1, Math.max(0, aQ[p]!));
  const skin = toHalf(boxBlur(skinQ, w4, h4, 1, 2));
  // The face and what is inside it (eyes, brows, lips are not skin-coloured): skin widened by about 12 px.
  const faceQ = boxBlur(skinQ, w4, h4, Math.max(1, Math.round(3 * scale)), 2);
  for (let p = 0; p < faceQ.length; p++) faceQ[p] = Math.min(1, 2.5 * faceQ[p]!);
  const face = toHalf(faceQ);
  const lumaQ = new Float32Array(w4 * h4);
  for (let p = 0; p < lumaQ.length; p++) lumaQ[p] = 0.2126 * qr[p]! + 0.7152 * qg[p]! + 0.0722 * qb[p]!;
  const dir = directionsPerPixel(strokeDirections(lumaQ, skinQ, w4, h4, scale), w4, h4, width, height, rng);
  const focus = toHalf(faceFocus(skinQ, w4, h4));
  const split = toHalf(hueEdges(qr, qg, qb, lumaQ, w4, h4));
  // The mask blurred over about 10 px: strictly between 0 and 1 only near the silhouette, where a contour can be.
  const edge = aQ ? toHalf(boxBlur(aQ, w4, h4, Math.max(1, Math.round(2 * scale)), 2)) : undefined;

  const grey = lumaPlane(src);
  darkenFace(grey, faceGamma(lumaQ, skinQ, faceOval && resizePlane(faceOval, width, height, w4, h4)));
  if (alpha && aQ) fadeBackground(grey, alpha, aQ, w4, h4, width, height, s.background, scale);
  const half = downsample(grey, width, height, 2);
  smoothSkin(grey, skin, half.plane, half.w, half.h, width, height, scale);
  const quarter = downsample(half.plane, half.w, half.h, 2);
  const blur = dodgeBlur(quarter.plane, quarter.w, quarter.h, alpha, width, height, (s.line * 1024 * scale) / 4);
  // The lines' blur, about 3 px: made from the half-size grey before the skin was smoothed (the skin's lines need
  // a larger step anyway) and scaled up.
  const fine = upsample(
    boxBlur(half.plane, half.w, half.h, Math.max(1, Math.round(scale)), 2),
    half.w,
    half.h,
    2,
    width,
    height,
  );
  const flow = flowSmooth(grey, width, height, dir, face, w2, alpha, scale);

  const strokes = strokeTiles(28 * scale, rng);
  const sx = rng.int(STROKE);
  const sy = rng.int(STROKE);
  // Paper tooth: white noise blurred to grains of about 2 px; the blur leaves a third of the deviation, restored.
  const tooth = boxBlur(whiteNoise(TOOTH * TOOTH, rng), TOOTH, TOOTH, 1, 1);
  for (let p = 0; p < tooth.length; p++) tooth[p] = tooth[p]! * 3;
  const ox = rng.int(TOOTH);
  const oy = rng.int(TOOTH);

  const fields: Fields = { flow, blur, fine, split, skin, face, focus, edge, dir, strokes, sx, sy, tooth, ox, oy, w2 };
  return image(draw(fields, s, alpha, width, height), width, height);
}

/** What `draw` reads per pixel: full-size planes, half-size fields (`w2` cells wide) and the tiles' offsets. */
interface Fields {
  flow: Plane;
  blur: Plane;
  fine: Plane;
  split: Plane;
  skin: Plane;
  face: Plane;
  focus: Plane;
  edge: Plane | undefined;
  dir: Uint8Array;
  strokes: Float32Array;
  sx: number;
  sy: number;
  tooth: Plane;
  ox: number;
  oy: number;
  w2: number;
}

/** Lines, tone and paper per pixel, as RGB bytes: the hot loop, in a function of its own so V8 optimises it alone. */
function draw(
  fields: Fields,
  s: SketchLook,
  alpha: ArrayLike<number> | undefined,
  width: number,
  height: number,
): Uint8Array {
  const { flow, blur, fine, split, skin, face, focus, edge, dir, strokes, sx, sy, tooth, ox, oy, w2 } = fields;
  // 1 - dodge^darkness, and the tone curve, as tables: a pow per pixel costs more than the rest of the loop.
  const darken = new Float32Array(1024);
  for (let k = 0; k < 1024; k++) darken[k] = 1 - (k / 1023) ** s.darkness;
  // Tone from darkness t (0 = white): the brightest 8% stay paper, as highlights are left in a drawing.
  const tone = new Float32Array(1024);
  for (let k = 0; k < 1024; k++) tone[k] = smoothstep01((k / 1023 - 0.08) / 0.92) ** 1.2;
  const [pr, pg, pb] = s.paper;
  const [kr, kg, kb] = s.pencil;
  const out = new Uint8ClampedArray(width * height * 3);
  for (let y = 0, p = 0; y < height; y++) {
    const toothRow = ((y + oy) & (TOOTH - 1)) * TOOTH;
    const strokeRow = ((y + sy) & (STROKE - 1)) * STROKE;
    const halfRow = (y >> 1) * w2;
    for (let x = 0; x < width; x++, p++) {
      const g = flow[p]!;
      const b = blur[p]!;
      const bf = fine[p]!;
      const cell = halfRow + (x >> 1);
      const tt = tooth[toothRow + ((x + ox) & (TOOTH - 1))]!;
      const e = edge ? edge[cell]! : 0;
      const i = p * 3;
      const a = alpha ? Math.min(1, alpha[p] ?? 0) : 1;
      // Tone: the surround's light (the wide blur), compressed, with the pixel's light relative to it on top (a
      // ratio, so strands in dark hair and folds in dark cloth keep their structure instead of one flat mass).
      const base = tone[((1 - b / 255) * 1023 + 0.5) | 0]! * a;
      const ratio = g / Math.max(8, b);
      const c = base * Math.min(1.3, Math.max(0.15, 1 + 1.6 * (1 - ratio)));
      // Lines: the pixel against a fine blur (about 3 px), so a line is as thin as the pencil's, not a bar the
      // width of the feature.
      const step = (bf - g) / Math.max(32, bf);
      if (c === 0 && step <= 0.03 && (e <= 0.02 || e >= 0.99)) {
        const paper = 1 + 0.02 * tt;
        out[i] = pr * paper;
        out[i + 1] = pg * paper;
        out[i + 2] = pb * paper;
        continue;
      }
      const sk = skin[cell]!;
      const fc = face[cell]!;
      let line = LINE_MAX * darken[(Math.min(1, g / Math.max(1, bf)) * 1023 + 0.5) | 0]!;
      line *= smoothstep01((step - 0.03 - 0.04 * sk) / (0.06 + 0.03 * sk));
      // In the face, features darker than their surround (lips, irises, brows) also get a light fill from the wide
      // blur under their fine outline: the shape of the mouth and the eyes, never a heavy bar.
      const wide = (b - g) / Math.max(32, b);
      line = Math.max(
        line,
        FILL * fc * darken[(Math.min(1, g / Math.max(1, b)) * 1023 + 0.5) | 0]! * smoothstep01((wide - 0.06) / 0.1),
      );
      const direction = ((dir[p]! + 2) >> 2) & (STROKE_ANGLES - 1);
      const stroke = strokes[direction * STROKE * STROKE + strokeRow + ((x + sx) & (STROKE - 1))]!;
      if (alpha && e > 0.02 && e < 0.99 && x >= 2 && x < width - 2 && y >= 2 && y < height - 2) {
        line = Math.max(line, contour(alpha, p, width, c));
      }
      // Hatching: strokes with paper between them, firmly off the face, lightly on it.
      let shade = c * s.shading * Math.max(0, 1 + s.hatching * (4 - 3.2 * fc) * stroke) * (1 + (0.4 - 0.3 * fc) * tt);
      // A light gap where two dark regions of different colour meet (dark hair over a dark coat).
      shade *= 1 - 0.7 * split[cell]!;
      const f = focus[cell]!;
      shade *= 0.55 + 0.45 * f;
      line *= 0.7 + 0.3 * f;
      // Graphite on paper, never ink: the darkest marks roll off to 0.8 of the pencil, so a line over dark tone is
      // still a line and a dark coat is hatched grey, not a black mass.
      const k0 = Math.min(1, Math.max(0, 1 - (1 - line) * (1 - shade)));
      const k = k0 / (1 + 0.25 * k0 * k0);
      const paper = 1 + 0.02 * tt;
      out[i] = pr * paper * (1 - k) + kr * k;
      out[i + 1] = pg * paper * (1 - k) + kg * k;
      out[i + 2] = pb * paper * (1 - k) + kb * k;
    }
  }
  return new Uint8Array(out.buffer);
}

/**
 * The gamma that brings the median grey of the skin (`skin` above 0.5, a quarter-size chroma weight) down to
 * FACE_GREY; 1 where the skin is no brighter than that. A black and white photo has no skin colour to find: there the
 * face's oval (`oval`, quarter size, when known) is read instead; without either, 1.
 */
export function faceGamma(luma: Plane, skin: Plane, oval?: Plane): number {
  // Eyes, brows and lips inside the oval pull its median down a little: the darkening errs light.
  const median = medianWhere(luma, skin) ?? (oval && medianWhere(luma, oval));
  if (median === undefined || median <= FACE_GREY) return 1;
  return Math.min(MAX_FACE_GAMMA, Math.log(FACE_GREY / 255) / Math.log(median / 255));
}

/** The median of `luma` (0..255, whole levels) where `mask` is over 0.5; undefined under MIN_SKIN_CELLS such cells. */
function medianWhere(luma: Plane, mask: Plane): number | undefined {
  const histogram = new Uint32Array(256);
  let n = 0;
  for (let p = 0; p < luma.length; p++) {
    if (mask[p]! <= 0.5) continue;
    histogram[Math.min(255, Math.max(0, Math.round(luma[p]!)))]!++;
    n++;
  }
  if (n < MIN_SKIN_CELLS) return undefined;
  let median = 0;
  for (let seen = 0; median < 255; median++) {
    seen += histogram[median]!;
    if (seen * 2 >= n) break;
  }
  return median;
}

/** The grey (0..255) through a gamma, in place: dark stays dark and paper white stays white. */
function darkenFace(grey: Plane, gamma: number): void {
  if (gamma === 1) return;
  const curve = lut((x) => x ** gamma);
  for (let p = 0; p < grey.length; p++) {
    const v = grey[p]!;
    const k = Math.min(254, Math.floor(v));
    grey[p] = curve[k]! + (curve[k + 1]! - curve[k]!) * (v - k);
  }
}

/**
 * The background faded toward white paper in place: to `background` of its contrast, and to nothing within about
 * 40 px of the subject (`near`: the quarter-size mask `aQ` blurred, read at half size), so what the dodge and the tone
 * find beside the silhouette is the subject against paper. The mask's soft edge counts as background below 0.35:
 * edge pixels carry the old background's colour, which drew a dark rim around pale hair.
 */
function fadeBackground(
  grey: Plane,
  alpha: ArrayLike<number>,
  aQ: Plane,
  w4: number,
  h4: number,
  width: number,
  height: number,
  background: number,
  scale: number,
): void {
  const w2 = Math.ceil(width / 2);
  const near = upsample(
    boxBlur(aQ, w4, h4, Math.max(1, Math.round(8 * scale)), 2),
    w4,
    h4,
    w2 / w4,
    w2,
    Math.ceil(height / 2),
  );
  const opaque = new Float32Array(257);
  for (let k = 0; k <= 256; k++) opaque[k] = smoothstep01((k / 256 - 0.35) / 0.65);
  for (let y = 0, p = 0; y < height; y++) {
    const halfRow = (y >> 1) * w2;
    for (let x = 0; x < width; x++, p++) {
      const a = opaque[(Math.min(1, Math.max(0, alpha[p] ?? 0)) * 256) | 0]!;
      if (a >= 1) continue;
      const keep = a + (1 - a) * background * Math.max(0, 1 - 3 * near[halfRow + (x >> 1)]!);
      grey[p] = 255 - (255 - grey[p]!) * keep;
    }
  }
}

/**
 * A light pencil line along the mask's edge: the mask's change across 4 px, drawn on its inner side so it meets the
 * subject's own edge. The dodge finds no edge where pale skin, a white shirt or grey hair meets the paper, and an
 * artist draws that contour anyway; a dark subject (`tone` c near 1) is outlined by its own tone and gets little.
 */
function contour(alpha: ArrayLike<number>, p: number, width: number, c: number): number {
  const ex = (alpha[p + 2] ?? 0) - (alpha[p - 2] ?? 0);
  const ey = (alpha[p + 2 * width] ?? 0) - (alpha[p - 2 * width] ?? 0);
  const m = Math.sqrt(ex * ex + ey * ey);
  if (m <= 0.1) return 0;
  const inner = smoothstep01(((alpha[p] ?? 0) - 0.5) / 0.3);
  return 0.45 * (1 - 0.7 * c) * inner * smoothstep01((m - 0.1) / 0.4);
}

/**
 * The dodge's blur, made at a quarter size (`q`, `w` x `h`; it is wide, about 9 px at 1024 px) and scaled up. With
 * a mask, the subject's and the background's are blurred apart (each divided by the blur of its own mask) and
 * joined by the mask: blurred together, dark hair beside white paper looked darker than its surround for a blur's
 * width, and was drawn with a heavy black outline.
 */
function dodgeBlur(
  q: Plane,
  w: number,
  h: number,
  alpha: ArrayLike<number> | undefined,
  width: number,
  height: number,
  sigma: number,
): Plane {
  if (!alpha) return upsample(gaussianBlur(q, w, h, sigma), w, h, 4, width, height);
  const a = resizePlane(alpha, width, height, w, h);
  for (let p = 0; p < a.length; p++) a[p] = Math.min(1, Math.max(0, a[p]!));
  return upsample(sideBlur(q, a, w, h, sigma), w, h, 4, width, height);
}

/**
 * Where two dark regions of different colour meet (brown hair over a black or navy coat, a beard over a dark
 * collar), 0..1 at quarter size: the gradient of chroma relative to the light, counted only where both sides are
 * dark. Their light alone differs too little there to draw a line, and hair and clothing read as one hatched mass.
 */
function hueEdges(r: Plane, g: Plane, b: Plane, l: Plane, w: number, h: number): Plane {
  const n = w * h;
  const u = new Float32Array(n);
  const v = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const k = 1 / (l[p]! + 24);
    u[p] = (r[p]! - g[p]!) * k;
    v[p] = (b[p]! - g[p]!) * k;
  }
  const us = boxBlur(u, w, h, 1, 2);
  const vs = boxBlur(v, w, h, 1, 2);
  const ls = boxBlur(l, w, h, 2, 2);
  const out = new Float32Array(n);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const p = y * w + x;
      const ux = us[p + 1]! - us[p - 1]!;
      const uy = us[p + w]! - us[p - w]!;
      const vx = vs[p + 1]! - vs[p - 1]!;
      const vy = vs[p + w]! - vs[p - w]!;
      const m = Math.sqrt(ux * ux + uy * uy + vx * vx + vy * vy);
      const dark = 1 - smoothstep01((ls[p]! - 50) / 50);
      out[p] = dark * smoothstep01((m - 0.12) / 0.25);
    }
  }
  return boxBlur(out, w, h, 1, 1);
}

/**
 * 1 around the face, falling to 0 toward the frame's edges. The face is the centroid of skin in the part of the
 * frame where the compositor puts it (its centre about half-way down, the middle across), so hands and an open
 * collar do not pull it far; without skin, where the face would be.
 */
function faceFocus(skin: Plane, w: number, h: number): Plane {
  let sx = 0;
  let sy = 0;
  let sw = 0;
  for (let y = Math.round(h * 0.15); y < Math.round(h * 0.7); y++) {
    for (let x = Math.round(w * 0.2); x < Math.round(w * 0.8); x++) {
      const k = skin[y * w + x]!;
      sx += k * x;
      sy += k * y;
      sw += k;
    }
  }
  const cx = sw > 0 ? sx / sw : w / 2;
  const cy = sw > 0 ? sy / sw : h * 0.45;
  const side = Math.max(w, h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // A head is taller than wide: distance counts a little less up and down.
      const d = Math.sqrt((x - cx) ** 2 + ((y - cy) * 0.8) ** 2) / side;
      out[y * w + x] = 1 - smoothstep01((d - 0.25) / 0.4);
    }
  }
  return out;
}

/**
 * The direction strokes take at each quarter-size cell, as an index into ANGLES directions over 180 degrees: along
 * the local structure (hair strands, cloth folds), from the smoothed structure tensor. A bias toward one gradient
 * direction wins where there is little structure, giving the classic hatching, up and to the right; it is much
 * larger on skin, where strokes that swirl with every shade of a cheek read as smudges.
 */
function strokeDirections(l: Plane, skin: Plane, w: number, h: number, scale: number): Uint8Array {
  const n = w * h;
  const jxx = new Float32Array(n);
  const jxy = new Float32Array(n);
  const jyy = new Float32Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const gx = l[y * w + Math.min(w - 1, x + 1)]! - l[y * w + Math.max(0, x - 1)]!;
      const gy = l[Math.min(h - 1, y + 1) * w + x]! - l[Math.max(0, y - 1) * w + x]!;
      jxx[p] = gx * gx;
      jxy[p] = gx * gy;
      jyy[p] = gy * gy;
    }
  }
  const r = Math.max(1, Math.round(2 * scale));
  const bxx = boxBlur(jxx, w, h, r, 2);
  const bxy = boxBlur(jxy, w, h, r, 2);
  const byy = boxBlur(jyy, w, h, r, 2);
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const bias = 40 + 300 * skin[p]!;
    // The gradient's orientation, from the tensor plus the bias's (a gradient at 45 degrees down-right); strokes
    // run across it.
    const theta = 0.5 * Math.atan2(2 * (bxy[p]! + bias), bxx[p]! - byy[p]!) + Math.PI / 2;
    const k = Math.round((theta / Math.PI) * ANGLES);
    out[p] = ((k % ANGLES) + ANGLES) % ANGLES;
  }
  return out;
}

/**
 * The quarter-size directions read per pixel, each pixel from a cell up to 2 px off its own (seeded): where the
 * direction changes from one cell to the next, the strokes and the flow's smoothing changed along 4 px squares,
 * which showed as a staircase along dark edges; scattered, the change reads as the pencil's grain.
 */
function directionsPerPixel(
  dirQ: Uint8Array,
  w4: number,
  h4: number,
  width: number,
  height: number,
  rng: Random,
): Uint8Array {
  const jitter = new Int8Array(4096);
  for (let k = 0; k < jitter.length; k++) jitter[k] = rng.int(5) - 2;
  const out = new Uint8Array(width * height);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const j = Math.imul(p, 0x9e3779b1) >>> 20;
      const qx = Math.min(w4 - 1, Math.max(0, (x + jitter[j]!) >> 2));
      const qy = Math.min(h4 - 1, Math.max(0, (y + jitter[j ^ 1]!) >> 2));
      out[p] = dirQ[qy * w4 + qx]!;
    }
  }
  return out;
}

/**
 * Stroke textures, one STROKE x STROKE tile per direction (STROKE_ANGLES of them): blurred white noise averaged
 * along straight lines `length` px long, normalised to a deviation of about 0.22 around 0. The tile wraps, and each
 * direction's slope is a whole number of pixels per tile, so a line leaving one edge comes back at the other on its
 * own continuation: no seam. Running sums along the lines cost two reads a pixel whatever the length; averaging taps
 * for every pixel of the picture instead cost a fifth of the look.
 */
function strokeTiles(length: number, rng: Random): Float32Array {
  const T = STROKE;
  const area = T * T;
  const noise = boxBlur(whiteNoise(area, rng), T, T, 1, 1);
  const out = new Float32Array(STROKE_ANGLES * area);
  for (let a = 0; a < STROKE_ANGLES; a++) {
    const th = (a / STROKE_ANGLES) * Math.PI;
    const cos = Math.cos(th);
    const sin = Math.sin(th);
    // Lines are walked along x where they are closer to horizontal, along y otherwise; `k` is the other
    // coordinate's change over one tile, and `half` the taps to either side, fewer on a diagonal where a step is
    // longer.
    const alongX = Math.abs(cos) >= Math.abs(sin);
    const k = Math.round((alongX ? sin / cos : cos / sin) * T);
    const half = Math.max(1, Math.round((length / 2) * Math.max(Math.abs(cos), Math.abs(sin))));
    const taps = 2 * half + 1;
    // Position i along a line (u = i - half, from -half to T + half): where it is across the tile (`along`), and
    // how far the line has moved sideways there (`shift`).
    const span = T + taps;
    const along = new Int32Array(span);
    const shift = new Int32Array(span);
    for (let i = 0; i < span; i++) {
      const u = i - half;
      along[i] = alongX ? u & (T - 1) : (u & (T - 1)) * T;
      shift[i] = Math.floor((u * k) / T + 0.5);
    }
    const side = alongX ? T : 1;
    const tile = out.subarray(a * area, (a + 1) * area);
    const mask = T - 1;
    for (let v = 0; v < T; v++) {
      let sum = 0;
      for (let i = 0; i < taps; i++) sum += noise[along[i]! + ((v + shift[i]!) & mask) * side]!;
      // The window of position u (index u + half) is indices u .. u + 2 half.
      for (let u = 0; u < T; u++) {
        const c = u + half;
        const e = u + taps;
        tile[along[c]! + ((v + shift[c]!) & mask) * side] = sum;
        sum +=
          noise[along[e]! + ((v + shift[e]!) & mask) * side]! - noise[along[u]! + ((v + shift[u]!) & mask) * side]!;
      }
    }
    let ss = 0;
    for (let p = 0; p < area; p++) ss += tile[p]! * tile[p]!;
    const stretch = 0.22 / Math.sqrt(ss / area);
    for (let p = 0; p < area; p++) tile[p] = tile[p]! * stretch;
  }
  return out;
}

/**
 * The grey averaged along the stroke direction (a line integral convolution, 15 taps 2 px apart at 1024 px): hair
 * strands and cloth folds become long continuous strokes instead of broken dashes, and edges are smoothed along
 * their length, not across. In and around the face only 5 taps: features curve tightly.
 */
function flowSmooth(
  grey: Plane,
  width: number,
  height: number,
  dir: Uint8Array,
  face: Plane,
  w2: number,
  alpha: ArrayLike<number> | undefined,
  scale: number,
): Plane {
  const half = 7;
  const taps = 2 * half + 1;
  const step = Math.max(1, Math.round(2 * scale));
  const dx = new Int32Array(ANGLES * taps);
  const dy = new Int32Array(ANGLES * taps);
  const off = new Int32Array(ANGLES * taps);
  for (let a = 0; a < ANGLES; a++) {
    const th = (a / ANGLES) * Math.PI;
    for (let k = -half; k <= half; k++) {
      const i = a * taps + k + half;
      dx[i] = Math.round(k * step * Math.cos(th));
      dy[i] = Math.round(k * step * Math.sin(th));
      off[i] = dy[i]! * width + dx[i]!;
    }
  }
  const reach = half * step;
  const out = new Float32Array(grey.length);
  for (let y = 0, p = 0; y < height; y++) {
    const halfRow = (y >> 1) * w2;
    const inside = y >= reach && y < height - reach;
    for (let x = 0; x < width; x++, p++) {
      // Outside the subject nothing is smoothed: averaging across the silhouette would smear it onto the paper.
      if (alpha && (alpha[p] ?? 0) < 0.02) {
        out[p] = grey[p]!;
        continue;
      }
      const mid = dir[p]! * taps + half;
      const len = face[halfRow + (x >> 1)]! > 0.5 ? 2 : half;
      let acc = 0;
      if (inside && x >= reach && x < width - reach) {
        for (let k = mid - len; k <= mid + len; k++) acc += grey[p + off[k]!]!;
      } else {
        for (let k = mid - len; k <= mid + len; k++) {
          const xx = Math.min(width - 1, Math.max(0, x + dx[k]!));
          const yy = Math.min(height - 1, Math.max(0, y + dy[k]!));
          acc += grey[yy * width + xx]!;
        }
      }
      out[p] = acc / (2 * len + 1);
    }
  }
  return out;
}

/**
 * Skin pulled toward a blur of itself, in place, except where it steps by as much as an eye, a nostril or a lip
 * line does: blemishes, age spots and fine wrinkles came out as scattered marks. The blur is made at half size
 * (`plane`, `w` x `h`) and each cell serves its 2x2 pixels: it is smooth, and skin is hatched over.
 */
function smoothSkin(
  grey: Plane,
  skin: Plane,
  plane: Plane,
  w: number,
  h: number,
  width: number,
  height: number,
  scale: number,
): void {
  const smooth = boxBlur(plane, w, h, Math.max(1, Math.round(1.5 * scale)), 2);
  for (let cy = 0; cy < h; cy++) {
    for (let cx = 0; cx < w; cx++) {
      const c = cy * w + cx;
      const sk = skin[c]!;
      if (sk < 0.01) continue;
      const m = smooth[c]!;
      for (let y = 2 * cy; y < Math.min(height, 2 * cy + 2); y++) {
        for (let x = 2 * cx; x < Math.min(width, 2 * cx + 2); x++) {
          const p = y * width + x;
          const d = m - grey[p]!;
          grey[p] = grey[p]! + d * sk * 0.9 * (1 - smoothstep01((Math.abs(d) - 8) / 14));
        }
      }
    }
  }
}

function smoothstep01(x: number): number {
  const t = Math.min(1, Math.max(0, x));
  return t * t * (3 - 2 * t);
}
