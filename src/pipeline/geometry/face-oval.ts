/**
 * The face's own outline from the face mesh: the ring of MediaPipe's 468-point mesh that runs over the forehead,
 * down the cheeks and round the chin (the face oval of MediaPipe's face-mesh connections), as a filled mask. It
 * follows the cheek and jaw where the detector's box is only a rectangle around them.
 */
const FACE_OVAL = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
  172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
] as const;

/**
 * 1 inside the face oval of `points` (mesh x, y, z triplets in the image's pixels), scaled about its centre by
 * `scale` (below 1 keeps a band inside the outline free), for a width x height image. Scanline fill: each row's
 * crossings with the polygon's edges, filled in pairs.
 */
export function faceOvalMask(points: Float32Array, width: number, height: number, scale = 1): Uint8Array {
  const xs = FACE_OVAL.map((i) => points[i * 3] ?? 0);
  const ys = FACE_OVAL.map((i) => points[i * 3 + 1] ?? 0);
  const cx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const cy = ys.reduce((a, b) => a + b, 0) / ys.length;
  const px = xs.map((x) => cx + (x - cx) * scale);
  const py = ys.map((y) => cy + (y - cy) * scale);
  const mask = new Uint8Array(width * height);
  const y0 = Math.max(0, Math.floor(Math.min(...py)));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...py)));
  const crossings: number[] = [];
  for (let y = y0; y <= y1; y++) {
    const sy = y + 0.5;
    crossings.length = 0;
    for (let k = 0; k < px.length; k++) {
      const j = (k + 1) % px.length;
      const ay = py[k] ?? 0;
      const by = py[j] ?? 0;
      if (ay <= sy === by <= sy) continue;
      const ax = px[k] ?? 0;
      const bx = px[j] ?? 0;
      crossings.push(ax + ((sy - ay) / (by - ay)) * (bx - ax));
    }
    crossings.sort((a, b) => a - b);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const from = Math.max(0, Math.ceil((crossings[k] ?? 0) - 0.5));
      const to = Math.min(width - 1, Math.floor((crossings[k + 1] ?? 0) - 0.5));
      mask.fill(1, y * width + from, y * width + to + 1);
    }
  }
  return mask;
}
