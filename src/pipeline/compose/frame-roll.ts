import { sampleGrid } from '../geometry/grid-sample.js';
import type { RgbImage } from '../types.js';

/**
 * A tilt as the camera makes it: the whole frame turned about its centre and enlarged just enough that no corner is
 * left empty. Rolling the head alone against a body and a frame that stay put bends whatever lies between (the
 * neck smears, and a close-up's hair, held still at the photo's edge, folds into an S); a turned frame bends
 * nothing. Positive degrees turn clockwise on screen, as a positive roll does (src/core/pose.ts).
 */

/** The enlargement that keeps a turned square's corners filled. */
function zoomFor(degrees: number): number {
  const t = (Math.abs(degrees) * Math.PI) / 180;
  return Math.cos(t) + Math.sin(t);
}

/** Where a point of the image (pixels) lands once the frame is rolled by `degrees`. */
export function rollPoint(x: number, y: number, width: number, height: number, degrees: number): [number, number] {
  const t = (degrees * Math.PI) / 180;
  const s = zoomFor(degrees);
  const cx = width / 2;
  const cy = height / 2;
  const dx = x - cx;
  const dy = y - cy;
  return [cx + s * (Math.cos(t) * dx - Math.sin(t) * dy), cy + s * (Math.sin(t) * dx + Math.cos(t) * dy)];
}

/** The image rolled by `degrees` (bilinear); the image itself when the roll is under a tenth of a degree. */
export function rollFrame(image: RgbImage, degrees: number): RgbImage {
  if (Math.abs(degrees) < 0.1) return image;
  const { width, height, data } = image;
  const t = (degrees * Math.PI) / 180;
  const s = zoomFor(degrees);
  const cos = Math.cos(t) / s;
  const sin = Math.sin(t) / s;
  const cx = width / 2;
  const cy = height / 2;
  const out = new Uint8Array(data.length);
  const pixel = new Float32Array(3);
  for (let y = 0; y < height; y++) {
    const dy = y + 0.5 - cy;
    for (let x = 0; x < width; x++) {
      const dx = x + 0.5 - cx;
      // The inverse of the forward map: turn back by -t and shrink by 1/s (sampleGrid clamps at the borders).
      sampleGrid(data, 3, width, height, cx + cos * dx + sin * dy - 0.5, cy - sin * dx + cos * dy - 0.5, pixel);
      const o = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) out[o + k] = (pixel[k] ?? 0) + 0.5;
    }
  }
  return { data: out, width, height, channels: 3 };
}
