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
 * mask computed on a stretched copy of an image lands on the same pixels when scaled back. Each output row is
 * first interpolated vertically at the source's width, then horizontally (the masks are upsampled to a million
 * pixels several times per photo).
 */
export function resizePlane(src: Plane, width: number, height: number): Plane {
  if (src.width === width && src.height === height) return plane(width, height, src.data.slice());
  const out = new Float32Array(width * height);
  const { xs0, xs1, fx } = columnTaps(src.width, width, src.width / width);
  verticalRows(src, height, src.height / height, (y, row) => {
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const a = row[xs0[x]!]!;
      out[o + x] = a + (row[xs1[x]!]! - a) * fx[x]!;
    }
  });
  return { width, height, data: out };
}

/**
 * `alpha` (width x height) times `coarse` upsampled f times, bilinearly as resizePlane to (coarse.width * f,
 * coarse.height * f), read at alpha's pixels: the same numbers without the full-size upsampled plane, which is
 * written and read once only to be multiplied in.
 */
export function timesUpsampled(
  alpha: Float32Array,
  width: number,
  height: number,
  coarse: Plane,
  f: number,
): Float32Array {
  const out = new Float32Array(width * height);
  const { xs0, xs1, fx } = columnTaps(coarse.width, width, coarse.width / (coarse.width * f));
  verticalRows(coarse, height, coarse.height / (coarse.height * f), (y, row) => {
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const a = row[xs0[x]!]!;
      // Rounded as resizePlane's Float32Array stores it, so the product is the same to the bit.
      out[o + x] = alpha[o + x]! * Math.fround(a + (row[xs1[x]!]! - a) * fx[x]!);
    }
  });
  return out;
}

/**
 * Per output column (`width` of them, `sx` source columns apart, pixel centres aligned): the two source columns it
 * lies between and the weight of the second.
 */
function columnTaps(sw: number, width: number, sx: number): { xs0: Int32Array; xs1: Int32Array; fx: Float32Array } {
  const xs0 = new Int32Array(width);
  const xs1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = Math.min(sw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
    const x0 = Math.floor(u);
    xs0[x] = x0;
    xs1[x] = Math.min(sw - 1, x0 + 1);
    fx[x] = u - x0;
  }
  return { xs0, xs1, fx };
}

/**
 * Each of `height` output rows (`sy` source rows apart, pixel centres aligned) interpolated vertically at the
 * source's width, handed to `emit` (the same buffer each time: the caller interpolates it across at once).
 */
function verticalRows(src: Plane, height: number, sy: number, emit: (y: number, row: Float32Array) => void): void {
  const { width: sw, height: sh, data: d } = src;
  const row = new Float32Array(sw);
  for (let y = 0; y < height; y++) {
    const v = Math.min(sh - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(v);
    const r0 = y0 * sw;
    const r1 = Math.min(sh - 1, y0 + 1) * sw;
    const fy = v - y0;
    for (let x = 0; x < sw; x++) {
      const top = d[r0 + x]!;
      row[x] = top + (d[r1 + x]! - top) * fy;
    }
    emit(y, row);
  }
}

/** Max filter (a square of `r` cells each side), separable. */
export function maxFilter(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r); k++) m = Math.max(m, src[y * w + k] ?? 0);
      tmp[y * w + x] = m;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r); k++) m = Math.max(m, tmp[k * w + x] ?? 0);
      out[y * w + x] = m;
    }
  }
  return out;
}

/** Creases up to twice this wide (px at 1024) are filled: see `closeCreases`. */
const CREASE = 6;

/**
 * Thin creases within a mask filled, in place (the hair matte's use: a beard's fringe over a pale neck keyed into a
 * line across the neck). A closing finds them (the mask grown by CREASE px and shrunk back: higher than the mask
 * only in gaps narrower than twice CREASE), at half size, where it costs a quarter; a gap between the person and
 * something else is many times wider and stays. Only where the closing lifts the mask clearly is it taken:
 * elsewhere the half-size mask is a blurred copy of the full-size one, and taking the larger would have widened
 * the outline. `side` is the longer side of the picture the mask is a part of (CREASE is in px at 1024 of it).
 * Returns which pixels it lifted (undefined: none).
 */
export function closeCreases(mask: Plane, side = Math.max(mask.width, mask.height)): Uint8Array | undefined {
  const { width, height, data } = mask;
  const half = resizePlane(mask, Math.max(1, Math.round(width / 2)), Math.max(1, Math.round(height / 2)));
  const { width: hw, height: hh } = half;
  const r = Math.max(1, Math.round((CREASE * side) / 2048));
  const grown = maxFilter(half.data, hw, hh, r);
  for (let i = 0; i < grown.length; i++) grown[i] = 1 - grown[i]!;
  const closed = maxFilter(grown, hw, hh, r);
  const lift = new Float32Array(hw * hh);
  let any = false;
  for (let i = 0; i < lift.length; i++) {
    const l = 1 - closed[i]! - half.data[i]!;
    if (l > 0.04) {
      lift[i] = 1 - closed[i]!;
      any = true;
    }
  }
  if (!any) return undefined;
  // Grown by a cell first: upsampled as it is, the lift fell off across the crease's own edge cells.
  const up = resizePlane({ width: hw, height: hh, data: maxFilter(lift, hw, hh, 1) }, width, height).data;
  const lifted = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (up[i]! <= data[i]!) continue;
    if (up[i]! > data[i]! + 0.05) lifted[i] = 1;
    data[i] = up[i]!;
  }
  return lifted;
}
