/**
 * Triangle rasterisation on typed arrays, shared by the warp and the masks: pixel centres at (x + 0.5, y + 0.5),
 * a pixel belongs to a triangle when its centre is inside or on an edge (no top-left rule: a pixel on a shared
 * edge is drawn twice, harmless for a z-buffer and for masks). Nothing here allocates per pixel.
 */

/** A rectangle of pixels [x0, x1) x [y0, y1) inside an image. */
export interface PixelRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Calls `visit(x, y, b0, b1, b2)` for every pixel centre inside triangle (a, b, c), with barycentric weights of
 * a, b and c, clipped to `clip`. Either winding works. Degenerate triangles draw nothing.
 */
export function rasterTriangle(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
  clip: PixelRect,
  visit: (x: number, y: number, b0: number, b1: number, b2: number) => void,
): void {
  const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
  if (Math.abs(area) < 1e-9) return;
  const inv = 1 / area;
  const minX = Math.max(clip.x0, Math.floor(Math.min(ax, bx, cx) - 0.5));
  const maxX = Math.min(clip.x1 - 1, Math.ceil(Math.max(ax, bx, cx) - 0.5));
  const minY = Math.max(clip.y0, Math.floor(Math.min(ay, by, cy) - 0.5));
  const maxY = Math.min(clip.y1 - 1, Math.ceil(Math.max(ay, by, cy) - 0.5));
  if (minX > maxX || minY > maxY) return;
  // Barycentric weights are affine in (x, y): step them along the row instead of recomputing.
  const d0x = (by - cy) * inv;
  const d1x = (cy - ay) * inv;
  const eps = -1e-7;
  for (let y = minY; y <= maxY; y++) {
    const py = y + 0.5;
    const px0 = minX + 0.5;
    let b0 = ((bx - px0) * (cy - py) - (cx - px0) * (by - py)) * inv;
    let b1 = ((cx - px0) * (ay - py) - (ax - px0) * (cy - py)) * inv;
    for (let x = minX; x <= maxX; x++) {
      const b2 = 1 - b0 - b1;
      if (b0 >= eps && b1 >= eps && b2 >= eps) visit(x, y, b0, b1, b2);
      b0 += d0x;
      b1 += d1x;
    }
  }
}

/** Signed screen area of a triangle (positive = clockwise on a y-down screen = facing the camera here). */
export function signedArea(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
}

/** Separable box blur of a single-channel float image, `passes` times (3 passes approximate a Gaussian). */
export function boxBlur(src: Float32Array, width: number, height: number, radius: number, passes = 2): Float32Array {
  const r = Math.max(0, Math.round(radius));
  if (r === 0) return src.slice();
  const a = src.slice();
  const b = new Float32Array(src.length);
  const norm = 1 / (2 * r + 1);
  for (let pass = 0; pass < passes; pass++) {
    // Horizontal, clamped at the borders.
    for (let y = 0; y < height; y++) {
      const row = y * width;
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += a[row + Math.min(width - 1, Math.max(0, k))] ?? 0;
      for (let x = 0; x < width; x++) {
        b[row + x] = acc * norm;
        acc += (a[row + Math.min(width - 1, x + r + 1)] ?? 0) - (a[row + Math.max(0, x - r)] ?? 0);
      }
    }
    // Vertical, back into `a`.
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += b[Math.min(height - 1, Math.max(0, k)) * width + x] ?? 0;
      for (let y = 0; y < height; y++) {
        a[y * width + x] = acc * norm;
        acc += (b[Math.min(height - 1, y + r + 1) * width + x] ?? 0) - (b[Math.max(0, y - r) * width + x] ?? 0);
      }
    }
  }
  return a;
}
