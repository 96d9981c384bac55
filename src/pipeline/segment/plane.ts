/** A single-channel float image, row-major: masks, probabilities, depth, filter coefficients. */
export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export function plane(width: number, height: number, data = new Float32Array(width * height)): Plane {
  if (data.length !== width * height) throw new Error(`plane data has ${data.length} values, not ${width}x${height}`);
  return { width, height, data };
}

/**
 * Bilinear resampling with pixel centres aligned (the convention of sharp and of the models' own resizes), so a
 * mask computed on a stretched copy of an image lands on the same pixels when scaled back.
 */
export function resizePlane(src: Plane, width: number, height: number): Plane {
  if (src.width === width && src.height === height) return plane(width, height, src.data.slice());
  const out = new Float32Array(width * height);
  const sx = src.width / width;
  const sy = src.height / height;
  const xs0 = new Int32Array(width);
  const xs1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = Math.min(src.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
    const x0 = Math.floor(u);
    xs0[x] = x0;
    xs1[x] = Math.min(src.width - 1, x0 + 1);
    fx[x] = u - x0;
  }
  const d = src.data;
  for (let y = 0; y < height; y++) {
    const v = Math.min(src.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(v);
    const y1 = Math.min(src.height - 1, y0 + 1);
    const fy = v - y0;
    const r0 = y0 * src.width;
    const r1 = y1 * src.width;
    let o = y * width;
    for (let x = 0; x < width; x++, o++) {
      const a = xs0[x] ?? 0;
      const b = xs1[x] ?? 0;
      const f = fx[x] ?? 0;
      const top = (d[r0 + a] ?? 0) + ((d[r0 + b] ?? 0) - (d[r0 + a] ?? 0)) * f;
      const bottom = (d[r1 + a] ?? 0) + ((d[r1 + b] ?? 0) - (d[r1 + a] ?? 0)) * f;
      out[o] = top + (bottom - top) * fy;
    }
  }
  return { width, height, data: out };
}
