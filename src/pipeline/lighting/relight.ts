import type { Lighting } from '../../core/lighting.js';
import type { RgbImage } from '../types.js';
import { linearToSrgbByte, luminance, SRGB_TO_LINEAR } from './colour.js';
import type { LightingEstimate } from './estimate.js';
import {
  boxBlur,
  gridFor,
  interpolateNormals,
  meshBounds,
  rasterizeMesh,
  vertexNormals,
  wideBlur,
} from './mesh-raster.js';
import { evalSh, lightingToSh } from './sh.js';

/**
 * 3D-aware relighting with a shading ratio. Each face pixel is multiplied, in linear light, by
 *
 *     gain_c = target_c(n_target) / source_c(n_source)
 *
 * where `source` is the reference's fitted SH lighting (albedo divided out) at the normal the pixel had in the
 * reference, and `target` the preset's SH irradiance at the normal it has now (after the warp to the target pose;
 * lights stay fixed in the camera frame while the head turns). Multiplying keeps the skin's texture and colour;
 * only the light changes. The gain is clamped (default 0.4..2.5), smoothed over a few grid cells, and outside the
 * mesh it blends into a smooth extrapolation (hair, ears, neck get the side-to-side falloff of the face), fading
 * to the average gain far from the face. Everything behind the head is the engine's business (background
 * treatment with the head mask).
 */
export interface RelightInput {
  /** The image to relight (the warped target, or the reference itself for a pure relight). */
  image: RgbImage;
  /** The mesh where it is in `image` (FaceMesh points: x, y image px, z away from the camera). */
  points: Float32Array;
  /** The same vertices in the reference, where `source` was estimated. Same as `points` for a pure relight. */
  sourcePoints: Float32Array;
  triangles: ArrayLike<number>;
  source: LightingEstimate;
  lighting: Lighting;
}

export interface RelightOptions {
  /** Gain clamp. @defaultValue [0.4, 2.5] */
  clamp?: readonly [number, number];
  /** 0 = leave the image alone, 1 = full relight. @defaultValue 1 */
  strength?: number;
  /** Grid cells across the face. @defaultValue 80 */
  cellsAcross?: number;
}

export interface RelightResult {
  image: RgbImage;
  /** The gain field (RGB, grid resolution) and its grid, for the debug sheet. */
  gain: Float32Array;
  gridWidth: number;
  gridHeight: number;
  /** Face coverage per grid cell (0..1, feathered). */
  faceMask: Float32Array;
  /** Mean gain over the face (luminance), and the lowest/highest before clamping. */
  stats: { meanGain: number; minGain: number; maxGain: number };
}

const DEFAULT_CLAMP: readonly [number, number] = [0.4, 2.5];

export function relight(input: RelightInput, options: RelightOptions = {}): RelightResult {
  const { image, points, sourcePoints, triangles, source, lighting } = input;
  const [lo, hi] = options.clamp ?? DEFAULT_CLAMP;
  const strength = options.strength ?? 1;
  const [minX, minY, maxX, maxY] = meshBounds(points);
  const faceSize = Math.max(maxX - minX, maxY - minY, 1);
  const cellsAcross = options.cellsAcross ?? 80;
  const grid = gridFor(image.width, image.height, faceSize / cellsAcross);
  const { width: gw, height: gh } = grid;
  const cells = gw * gh;

  const raster = rasterizeMesh(points, triangles, grid);
  const targetNormals = interpolateNormals(raster, triangles, vertexNormals(points, triangles, source.orientation));
  const sourceNormals = interpolateNormals(
    raster,
    triangles,
    vertexNormals(sourcePoints, triangles, source.orientation),
  );

  // Target irradiance, scaled so its mean luminance over the face equals the preset's exposure.
  const target = lightingToSh(lighting);
  const tgt = new Float32Array(cells * 3);
  let tgtLum = 0;
  let covered = 0;
  for (let o = 0; o < cells; o++) {
    if ((raster.tri[o] ?? -1) < 0) continue;
    const x = targetNormals[3 * o] ?? 0;
    const y = targetNormals[3 * o + 1] ?? 0;
    const z = targetNormals[3 * o + 2] ?? 0;
    for (let c = 0; c < 3; c++) tgt[3 * o + c] = evalSh(target, c, x, y, z);
    tgtLum += luminance(tgt[3 * o] ?? 0, tgt[3 * o + 1] ?? 0, tgt[3 * o + 2] ?? 0);
    covered++;
  }
  const scale = covered > 0 && tgtLum > 0 ? (lighting.exposure * covered) / tgtLum : 1;
  // SH of a hard light rings slightly negative behind the terminator; keep a floor of shadow, not black.
  const floor = 0.04 * lighting.exposure;

  const gain = new Float32Array(cells * 3);
  const face = new Float32Array(cells);
  let minGain = Number.POSITIVE_INFINITY;
  let maxGain = Number.NEGATIVE_INFINITY;
  let logSum = 0;
  for (let o = 0; o < cells; o++) {
    if ((raster.tri[o] ?? -1) < 0) continue;
    face[o] = 1;
    const x = sourceNormals[3 * o] ?? 0;
    const y = sourceNormals[3 * o + 1] ?? 0;
    const z = sourceNormals[3 * o + 2] ?? 0;
    for (let c = 0; c < 3; c++) {
      const t = Math.max(floor, (tgt[3 * o + c] ?? 0) * scale);
      // The reference's own shading: a face half in deep shadow cannot be lifted past the clamp anyway.
      const s = Math.max(0.15, evalSh(source.shading, c, x, y, z));
      gain[3 * o + c] = t / s;
    }
    logSum += Math.log(Math.max(1e-3, luminance(gain[3 * o]!, gain[3 * o + 1]!, gain[3 * o + 2]!)));
  }
  // Exposure: the face's geometric-mean gain is the preset's exposure. (The arithmetic means of target and
  // source shading do not fix it: the mean of a ratio is not the ratio of means, and a face half in shadow in the
  // reference would otherwise brighten the whole portrait.)
  const k = covered > 0 ? lighting.exposure / Math.exp(logSum / covered) : 1;
  for (let o = 0; o < cells; o++) {
    if (!face[o]) continue;
    for (let c = 0; c < 3; c++) {
      const g = gain[3 * o + c]! * k;
      if (g < minGain) minGain = g;
      if (g > maxGain) maxGain = g;
      gain[3 * o + c] = Math.min(hi, Math.max(lo, g));
    }
  }

  // Smooth inside the face (normalised convolution: no bleeding of the outside into the edge cells) ...
  const faceRadius = Math.max(1, Math.round(cellsAcross / 60));
  const weighted = new Float32Array(cells * 3);
  for (let o = 0; o < cells; o++)
    for (let c = 0; c < 3; c++) weighted[3 * o + c] = (gain[3 * o + c] ?? 0) * (face[o] ?? 0);
  const nearNum = boxBlur(weighted, gw, gh, 3, faceRadius);
  const nearDen = boxBlur(face, gw, gh, 1, faceRadius);
  // ... and extrapolate outward with a wide kernel for hair, ears and neck.
  const wideRadius = Math.max(2, Math.round(cellsAcross * 0.3));
  const farNum = wideBlur(weighted, gw, gh, 3, wideRadius);
  const farDen = wideBlur(face, gw, gh, 1, wideRadius);
  // A middle scale carries the gain just past the mesh edge (hairline, jaw) so the face edge shows no step.
  const midRadius = Math.max(2, Math.round(cellsAcross * 0.08));
  const midNum = wideBlur(weighted, gw, gh, 3, midRadius);
  const midDen = wideBlur(face, gw, gh, 1, midRadius);
  const mean = [0, 0, 0];
  let faceCells = 0;
  for (let o = 0; o < cells; o++) {
    if (!face[o]) continue;
    faceCells++;
    for (let c = 0; c < 3; c++) mean[c] = (mean[c] ?? 0) + (gain[3 * o + c] ?? 0);
  }
  for (let c = 0; c < 3; c++) mean[c] = faceCells > 0 ? (mean[c] ?? 0) / faceCells : 1;
  // The face edge feathers over a few cells.
  const feather = boxBlur(face, gw, gh, 1, Math.max(1, Math.round(cellsAcross / 24)));

  const field = new Float32Array(cells * 3);
  for (let o = 0; o < cells; o++) {
    const f = Math.min(1, Math.max(0, ((feather[o] ?? 0) - 0.5) * 2 + 0.5));
    const fd = farDen[o] ?? 0;
    const nd = nearDen[o] ?? 0;
    const reach = Math.min(1, fd * 2.5);
    const md = midDen[o] ?? 0;
    const midReach = Math.min(1, md * 3);
    for (let c = 0; c < 3; c++) {
      const m = mean[c] ?? 1;
      const far = fd > 1e-4 ? (farNum[3 * o + c] ?? 0) / fd : m;
      const mid = md > 1e-4 ? (midNum[3 * o + c] ?? 0) / md : m;
      const outside = midReach * mid + (1 - midReach) * (m + (far - m) * reach);
      const inside = nd > 1e-4 ? (nearNum[3 * o + c] ?? 0) / nd : outside;
      const g = f * inside + (1 - f) * outside;
      field[3 * o + c] = 1 + (g - 1) * strength;
    }
  }

  const out = applyGain(image, field, grid);
  const meanLum = luminance(mean[0] ?? 1, mean[1] ?? 1, mean[2] ?? 1);
  return {
    image: out,
    gain: field,
    gridWidth: gw,
    gridHeight: gh,
    faceMask: feather,
    stats: {
      meanGain: meanLum,
      minGain: Number.isFinite(minGain) ? minGain : 1,
      maxGain: Number.isFinite(maxGain) ? maxGain : 1,
    },
  };
}

/** Gain steps of the lookup table: 0..GAIN_MAX in GAIN_STEPS (0.5% steps, below what banding would show). */
const GAIN_MAX = 4;
const GAIN_STEPS = 800;

/**
 * out = srgb(linear(byte) * gain) for every byte and every quantised gain: one lookup per channel per pixel
 * instead of two conversions. 200 KB, built once.
 */
let gainTable: Uint8Array | undefined;
function table(): Uint8Array {
  if (!gainTable) {
    gainTable = new Uint8Array((GAIN_STEPS + 1) * 256);
    for (let q = 0; q <= GAIN_STEPS; q++) {
      const g = (q / GAIN_STEPS) * GAIN_MAX;
      for (let v = 0; v < 256; v++) gainTable[q * 256 + v] = linearToSrgbByte(SRGB_TO_LINEAR[v]! * g);
    }
  }
  return gainTable;
}

/**
 * Multiplies every pixel, in linear light, by the bilinearly upsampled gain field. Each image row first
 * interpolates its two grid rows (per grid column), then each pixel interpolates along x and looks its value up.
 */
export function applyGain(
  image: RgbImage,
  field: Float32Array,
  grid: { width: number; height: number; cell: number },
): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  const lut = table();
  const gw = grid.width;
  const gh = grid.height;
  const inv = 1 / grid.cell;
  const q = GAIN_STEPS / GAIN_MAX;
  // Column weights are the same on every row.
  const cx0 = new Int32Array(width);
  const cx1 = new Int32Array(width);
  const cfx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = Math.min(gw - 1, Math.max(0, (x + 0.5) * inv - 0.5));
    const x0 = Math.floor(g);
    cx0[x] = x0 * 3;
    cx1[x] = Math.min(gw - 1, x0 + 1) * 3;
    cfx[x] = g - x0;
  }
  const row = new Float32Array(gw * 3);
  for (let y = 0; y < height; y++) {
    const gyf = Math.min(gh - 1, Math.max(0, (y + 0.5) * inv - 0.5));
    const y0 = Math.floor(gyf);
    const fy = gyf - y0;
    const r0 = y0 * gw * 3;
    const r1 = Math.min(gh - 1, y0 + 1) * gw * 3;
    for (let k = 0; k < gw * 3; k++) row[k] = (field[r0 + k]! * (1 - fy) + field[r1 + k]! * fy) * q;
    let i = y * width * 3;
    for (let x = 0; x < width; x++, i += 3) {
      const fx = cfx[x]!;
      const a = cx0[x]!;
      const b = cx1[x]!;
      for (let k = 0; k < 3; k++) {
        let gq = (row[a + k]! + (row[b + k]! - row[a + k]!) * fx + 0.5) | 0;
        if (gq > GAIN_STEPS) gq = GAIN_STEPS;
        else if (gq < 0) gq = 0;
        out[i + k] = lut[(gq << 8) | data[i + k]!]!;
      }
    }
  }
  return { data: out, width, height, channels: 3 };
}
