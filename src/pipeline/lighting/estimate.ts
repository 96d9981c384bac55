import type { Rgb } from '../../core/lighting.js';
import type { RgbImage } from '../types.js';
import { luminance, SRGB_TO_LINEAR } from './colour.js';
import {
  gridFor,
  interpolateNormals,
  meshBounds,
  rasterizeMesh,
  triangleOrientation,
  vertexNormals,
} from './mesh-raster.js';
import { dominantLight, evalSh, fitSh, SH_COUNT, type ShRgb } from './sh.js';

/**
 * The reference photo's lighting: second-order SH per colour channel fitted by least squares to the face's linear
 * pixel values against the mesh normals (camera frame). The skin albedo is assumed constant and taken as the
 * median face colour, so `shading = sh / albedo` is the light alone (about 1 on average over the face).
 *
 * Eyes, brows, lips, beards and specular spots break the constant-albedo assumption, so the fit is repeated twice
 * with the samples it explains worst (more than 35% off) left out.
 */
export interface LightingEstimate {
  /** Fit of the face's linear RGB (albedo folded in). */
  sh: ShRgb;
  /** Median linear face colour, the assumed albedo. */
  albedo: Rgb;
  /** `sh` divided by the albedo per channel: the lighting alone. */
  shading: ShRgb;
  /** Where the light comes from (subject's frame: + azimuth = subject's left) and its contrast. */
  dominant: { azimuth: number; elevation: number; contrast: number };
  /** Samples (grid cells) used in the final fit. */
  samples: number;
  /** Mean relative residual of the final fit (0.05 = the model explains the face to 5%). */
  residual: number;
  /** The orientation the normals were computed with; reuse it for the warped mesh. */
  orientation: Int8Array;
}

export interface EstimateOptions {
  /** Grid cells across the face's bounding box. @defaultValue 64 */
  cellsAcross?: number;
}

export function estimateLighting(
  image: RgbImage,
  points: Float32Array,
  triangles: ArrayLike<number>,
  options: EstimateOptions = {},
): LightingEstimate {
  const orientation = triangleOrientation(points, triangles);
  const normals = vertexNormals(points, triangles, orientation);
  const [minX, minY, maxX, maxY] = meshBounds(points);
  const faceSize = Math.max(maxX - minX, maxY - minY, 1);
  const grid = gridFor(image.width, image.height, faceSize / (options.cellsAcross ?? 64));
  const raster = rasterizeMesh(points, triangles, grid);
  const cellNormals = interpolateNormals(raster, triangles, normals);

  // One sample per covered cell: the mean linear colour of the pixels in the cell.
  const sampleNormals: number[] = [];
  const sampleValues: number[] = [];
  const cell = grid.cell;
  for (let gy = 0; gy < grid.height; gy++) {
    for (let gx = 0; gx < grid.width; gx++) {
      const o = gy * grid.width + gx;
      if ((raster.tri[o] ?? -1) < 0) continue;
      const nz = cellNormals[3 * o + 2] ?? 0;
      // Silhouette cells mix face and background and their normals are the least certain.
      if (nz < 0.15) continue;
      const x0 = Math.floor(gx * cell);
      const y0 = Math.floor(gy * cell);
      const x1 = Math.min(image.width, Math.max(x0 + 1, Math.floor((gx + 1) * cell)));
      const y1 = Math.min(image.height, Math.max(y0 + 1, Math.floor((gy + 1) * cell)));
      let r = 0;
      let g = 0;
      let b = 0;
      let count = 0;
      let clipped = false;
      // At most about 4 x 4 taps per cell: the mean of a cell does not need every pixel.
      const step = Math.max(1, Math.floor((x1 - x0) / 4));
      for (let y = y0; y < y1; y += step) {
        for (let x = x0; x < x1; x += step) {
          const i = (y * image.width + x) * 3;
          const R = image.data[i] ?? 0;
          const G = image.data[i + 1] ?? 0;
          const B = image.data[i + 2] ?? 0;
          if (R >= 250 || G >= 250 || B >= 250) clipped = true;
          r += SRGB_TO_LINEAR[R] ?? 0;
          g += SRGB_TO_LINEAR[G] ?? 0;
          b += SRGB_TO_LINEAR[B] ?? 0;
          count++;
        }
      }
      if (count === 0 || clipped) continue;
      sampleNormals.push(cellNormals[3 * o] ?? 0, cellNormals[3 * o + 1] ?? 0, nz);
      sampleValues.push(r / count, g / count, b / count);
    }
  }
  const n = sampleValues.length / 3;
  const N = Float32Array.from(sampleNormals);
  const V = Float32Array.from(sampleValues);
  const weights = new Float32Array(n).fill(1);
  // Very dark cells (pupils, nostrils, hair over the forehead) are not skin.
  const lum = new Float32Array(n);
  for (let i = 0; i < n; i++) lum[i] = luminance(V[3 * i] ?? 0, V[3 * i + 1] ?? 0, V[3 * i + 2] ?? 0);
  const medianLum = median(lum);
  for (let i = 0; i < n; i++) if ((lum[i] ?? 0) < 0.15 * medianLum) weights[i] = 0;

  let sh = fitSh(N, V, weights);
  let residual = 0;
  for (let round = 0; round < 3; round++) {
    let err = 0;
    let used = 0;
    for (let i = 0; i < n; i++) {
      const x = N[3 * i] ?? 0;
      const y = N[3 * i + 1] ?? 0;
      const z = N[3 * i + 2] ?? 0;
      const pred = luminance(evalSh(sh, 0, x, y, z), evalSh(sh, 1, x, y, z), evalSh(sh, 2, x, y, z));
      const rel = pred > 1e-4 ? (lum[i] ?? 0) / pred : 0;
      const off = Math.abs(rel - 1);
      if (round < 2) weights[i] = (lum[i] ?? 0) >= 0.15 * medianLum && off < 0.35 ? 1 : 0;
      if ((weights[i] ?? 0) > 0) {
        err += off;
        used++;
      }
    }
    residual = used > 0 ? err / used : 1;
    if (round < 2) sh = fitSh(N, V, weights);
  }

  // Albedo: the median colour of the samples the fit kept.
  const kept: number[][] = [[], [], []];
  for (let i = 0; i < n; i++) {
    if ((weights[i] ?? 0) <= 0) continue;
    for (let c = 0; c < 3; c++) kept[c]?.push(V[3 * i + c] ?? 0);
  }
  const albedo: Rgb = [
    median(Float32Array.from(kept[0] ?? [])) || 0.5,
    median(Float32Array.from(kept[1] ?? [])) || 0.5,
    median(Float32Array.from(kept[2] ?? [])) || 0.5,
  ];
  const shading = new Float64Array(sh);
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < SH_COUNT; k++) shading[c * SH_COUNT + k] = (sh[c * SH_COUNT + k] ?? 0) / (albedo[c] || 1);
  }
  return {
    sh,
    albedo,
    shading,
    dominant: dominantLight(shading),
    samples: (kept[0] ?? []).length,
    residual,
    orientation,
  };
}

function median(values: Float32Array): number {
  if (values.length === 0) return 0;
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
