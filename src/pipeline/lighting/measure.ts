import { REFERENCE_FACE } from '../geometry/reference.js';
import type { RgbImage } from '../types.js';
import { luminance, SRGB_TO_LINEAR } from './colour.js';
import { gridFor, meshBounds, rasterizeMesh } from './mesh-raster.js';

/**
 * How the light falls across a face: the mean linear luminance of the subject's left and right halves inside the
 * mesh (the nose ridge, within 8% of the face width of the midline, is left out). Which half a pixel belongs to is
 * read off the frontal reference face through the mesh, so it stays right when the head is turned.
 * Used by tests and the benchmark ("key from left" must make the subject's left clearly brighter).
 */
export interface FaceSides {
  subjectLeft: number;
  subjectRight: number;
  /** subjectLeft / subjectRight. */
  ratio: number;
}

export function faceSideLuminance(image: RgbImage, points: Float32Array, triangles: ArrayLike<number>): FaceSides {
  const [minX, minY, maxX, maxY] = meshBounds(points);
  const grid = gridFor(image.width, image.height, Math.max(maxX - minX, maxY - minY, 1) / 64);
  const raster = rasterizeMesh(points, triangles, grid);
  let left = 0;
  let right = 0;
  let nl = 0;
  let nr = 0;
  for (let gy = 0; gy < grid.height; gy++) {
    for (let gx = 0; gx < grid.width; gx++) {
      const o = gy * grid.width + gx;
      const t = raster.tri[o] ?? -1;
      if (t < 0) continue;
      const a = raster.w0[o] ?? 0;
      const b = raster.w1[o] ?? 0;
      const refX =
        a * (REFERENCE_FACE[(triangles[3 * t] ?? 0) * 3] ?? 0) +
        b * (REFERENCE_FACE[(triangles[3 * t + 1] ?? 0) * 3] ?? 0) +
        (1 - a - b) * (REFERENCE_FACE[(triangles[3 * t + 2] ?? 0) * 3] ?? 0);
      // Reference units: the face is 100 wide, x > 0 is the subject's left.
      if (Math.abs(refX) < 8) continue;
      const x = Math.min(image.width - 1, Math.floor((gx + 0.5) * grid.cell));
      const y = Math.min(image.height - 1, Math.floor((gy + 0.5) * grid.cell));
      const i = (y * image.width + x) * 3;
      const lum = luminance(
        SRGB_TO_LINEAR[image.data[i] ?? 0] ?? 0,
        SRGB_TO_LINEAR[image.data[i + 1] ?? 0] ?? 0,
        SRGB_TO_LINEAR[image.data[i + 2] ?? 0] ?? 0,
      );
      if (refX > 0) {
        left += lum;
        nl++;
      } else {
        right += lum;
        nr++;
      }
    }
  }
  const subjectLeft = nl > 0 ? left / nl : 0;
  const subjectRight = nr > 0 ? right / nr : 0;
  return { subjectLeft, subjectRight, ratio: subjectRight > 0 ? subjectLeft / subjectRight : 0 };
}
