import type { Plane } from './plane.js';

/** 4-connected components of `values >= threshold`; labels are 1-based, 0 is below threshold. */
export interface Components {
  labels: Int32Array;
  /** Pixel count per label (index 0 unused). */
  areas: number[];
  /** Bounding box per label as [minX, minY, maxX, maxY] (index 0 unused). */
  boxes: [number, number, number, number][];
}

export function components(p: Plane, threshold: number): Components {
  const { width, height, data } = p;
  const labels = new Int32Array(width * height);
  const areas: number[] = [0];
  const boxes: [number, number, number, number][] = [[0, 0, 0, 0]];
  const stack = new Int32Array(width * height);
  for (let start = 0; start < labels.length; start++) {
    if (labels[start] !== 0 || (data[start] ?? 0) < threshold) continue;
    const label = areas.length;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    let area = 0;
    const box: [number, number, number, number] = [width, height, -1, -1];
    while (top > 0) {
      const i = stack[--top] ?? 0;
      area++;
      const x = i % width;
      const y = (i - x) / width;
      if (x < box[0]) box[0] = x;
      if (y < box[1]) box[1] = y;
      if (x > box[2]) box[2] = x;
      if (y > box[3]) box[3] = y;
      // Neighbours inline: a closure per pixel costs more than the search itself.
      if (x > 0 && labels[i - 1] === 0 && data[i - 1]! >= threshold) {
        labels[i - 1] = label;
        stack[top++] = i - 1;
      }
      if (x < width - 1 && labels[i + 1] === 0 && data[i + 1]! >= threshold) {
        labels[i + 1] = label;
        stack[top++] = i + 1;
      }
      if (y > 0 && labels[i - width] === 0 && data[i - width]! >= threshold) {
        labels[i - width] = label;
        stack[top++] = i - width;
      }
      if (y < height - 1 && labels[i + width] === 0 && data[i + width]! >= threshold) {
        labels[i + width] = label;
        stack[top++] = i + width;
      }
    }
    areas.push(area);
    boxes.push(box);
  }
  return { labels, areas, boxes };
}

/**
 * Removes blobs smaller than `minFraction` of the largest one (a chair back or a poster the model half-believed
 * was a person), in place. Pixels below `threshold` that are not part of any blob are left as they are.
 */
export function dropSmallBlobs(p: Plane, threshold: number, minFraction: number): void {
  const { labels, areas } = components(p, threshold);
  const largest = Math.max(0, ...areas);
  const keep = areas.map((a) => a >= largest * minFraction);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] ?? 0;
    if (l !== 0 && !keep[l]) p.data[i] = 0;
  }
}

/**
 * 1 where `inside` holds and the pixel is joined through such pixels (4-connected) to a `seed` pixel where it holds
 * too: what of a region touches where it must start (skin joined to the face, skin joined to the sure body). `seed`
 * is a test for every pixel, or the seed pixels' indices where they are few (one row).
 */
export function floodFill(
  width: number,
  height: number,
  seed: ((o: number) => boolean) | readonly number[],
  inside: (o: number) => boolean,
): Uint8Array {
  const out = new Uint8Array(width * height);
  const stack: number[] = [];
  const visit = (o: number) => {
    if (!out[o] && inside(o)) {
      out[o] = 1;
      stack.push(o);
    }
  };
  if (typeof seed === 'function') {
    for (let o = 0; o < out.length; o++) if (seed(o)) visit(o);
  } else {
    for (const o of seed) visit(o);
  }
  while (stack.length > 0) {
    const o = stack.pop()!;
    const x = o % width;
    const y = (o - x) / width;
    if (x > 0) visit(o - 1);
    if (x < width - 1) visit(o + 1);
    if (y > 0) visit(o - width);
    if (y < height - 1) visit(o + width);
  }
  return out;
}
