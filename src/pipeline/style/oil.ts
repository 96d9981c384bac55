import type { Random } from '../../core/random.js';
import type { OilLook } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import {
  alphaAt,
  boxBlur,
  downsample,
  gaussianBlur,
  image,
  lumaPlane,
  resize,
  resizePlane,
  smoothNoise,
  smoothstep,
  upsample,
  whiteNoise,
} from './filters.js';

/**
 * Oil paint. The strokes come from a smooth Kuwahara filter: each pixel takes a weighted mean of the four square
 * windows it is a corner of, the calmer windows (lower variance) weighing far more, so flat patches of colour form
 * and edges stay sharp instead of blurring. All window sums come from integral images, so the cost does not grow
 * with the brush and the brush can change per pixel: fine on the face (`faceBrush`, where the subject mask is 1),
 * broad behind it. It runs at most at `WORK_SIDE` px and is scaled back up; then the paint gets relief (an emboss
 * of its own luminance lit from the upper left) and a canvas weave. Behind the subject and across its contour the
 * paint is softened into fields of colour (`softenBehind`), and the brushwork there is texture, not smeared colour.
 *
 * Faces must stay readable (the review panel saw melted faces: teeth one white bar, smudged eyes), so on the
 * subject a detail weight from local contrast relative to the brightness (eyes, teeth, lips, brows, and the locks
 * and curls of dark hair, which an absolute measure missed so they melted into blobs; not skin) shrinks the
 * brush and the smear further, and at full size part of the photo's own fine luminance detail (what the reduced
 * working size lost) is laid back over the paint by that weight. Only part, and only on features: with more, a
 * later panel saw a face left a photo inside a painted background, which read as a glitch.
 */
// 384 px: the paint is flat and smooth at this size anyway, and the face's fine detail is laid back at full size;
// at 512 px the look cost about twice the ~100 ms a look may take in the compositor.
const WORK_SIDE = 384;

export function applyOil(src: RgbImage, o: OilLook, alpha: ArrayLike<number> | undefined, rng: Random): RgbImage {
  const { width, height } = src;
  const k = Math.min(1, WORK_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * k));
  const h = Math.max(1, Math.round(height * k));
  const small = k < 1 ? resize(src, w, h) : src;
  const smallAlpha = alpha && k < 1 ? resizePlane(alpha, width, height, w, h) : alpha;
  const ws = Math.max(w, h);
  const smallLuma = lumaPlane(small);
  const maps = smallAlpha ? contrastMaps(smallLuma, smallAlpha, w, h) : undefined;
  const detail = maps?.detail;
  const flat = kuwahara(small, smallAlpha, o.brush * ws, o.faceBrush * ws, detail);
  const soft = smallAlpha ? softenBehind(flat, smallAlpha, o.brush * ws) : flat;
  const painted = brushStrokes(soft, smallAlpha, o, rng, detail, maps?.busy);
  return canvas(painted, src, smallLuma, detail, o, rng);
}

/**
 * Two maps from the local contrast of the photo (the standard deviation of luminance over a few pixels of the
 * working size, relative to the brightness), 0..1 per pixel:
 * - `detail`: how much of a facial feature is here: contrast between that of skin and that of an eye or a lip
 *   line, on the subject only;
 * - `busy`: how much texture the brushwork may have behind the subject. Where the photo's background has no
 *   structure of its own (a plain wall, a blurred backdrop) the bristle streaks and the light and dark strokes
 *   were all there was to see, and on a light wall they read as wool or fur (a review panel saw it); a painter
 *   lays such a field in smoothly with a few broad strokes. So the texture follows the background's own
 *   structure, with a floor that is lowest where the field is light.
 */
function contrastMaps(
  luma: Float32Array,
  alpha: ArrayLike<number>,
  w: number,
  h: number,
): { detail: Float32Array; busy: Float32Array } {
  const sq = new Float32Array(luma.length);
  for (let p = 0; p < sq.length; p++) sq[p] = luma[p]! * luma[p]!;
  const r = Math.max(1, Math.round(Math.max(w, h) / 256));
  const m = boxBlur(luma, w, h, r, 2);
  const m2 = boxBlur(sq, w, h, r, 2);
  const detail = new Float32Array(luma.length);
  const busy = new Float32Array(luma.length);
  for (let p = 0; p < detail.length; p++) {
    const mean = m[p]!;
    // Relative to the brightness: on skin (about 150) this is the old 8..22 levels, on dark hair a few levels.
    const contrast = Math.sqrt(Math.max(0, m2[p]! - mean * mean)) / (mean + 24);
    detail[p] = smoothstep(0.05, 0.13, contrast) * Math.min(1, Math.max(0, alpha[p] ?? 0));
    // A plain wall is under 0.01, a wall's texture or a soft shadow a few hundredths, shelves and leaves more.
    const floor = 0.4 - 0.32 * smoothstep(100, 190, mean);
    busy[p] = floor + (1 - floor) * smoothstep(0.02, 0.09, contrast);
  }
  // Spread: the detail a little, so the brush is fine around a feature as well as on its edge; the texture over
  // a brush's length, so it fades in and out with the background's structure, not with each edge.
  return {
    detail: boxBlur(detail, w, h, r, 1),
    busy: boxBlur(busy, w, h, Math.max(2, Math.round(Math.max(w, h) / 48)), 1),
  };
}

/**
 * Smooth Kuwahara with a per-pixel radius between `background` and `face` (by the subject mask), shrunk further
 * where `detail` marks a facial feature.
 */
function kuwahara(
  src: RgbImage,
  alpha: ArrayLike<number> | undefined,
  background: number,
  face: number,
  detail: Float32Array | undefined,
): RgbImage {
  const { width, height, data } = src;
  const W = width + 1;
  // One interleaved integral image of R, G, B and luma squared, so each window corner is one cache line (the luma
  // sum is the same weights on the R, G, B sums). Float64: the squared sums exceed float32's exact range.
  const S = new Float64Array(W * (height + 1) * 4);
  const rowSum = new Float64Array(4);
  for (let y = 0; y < height; y++) {
    rowSum.fill(0);
    const row = (y + 1) * W;
    const prev = y * W;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      const l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      rowSum[0]! += r;
      rowSum[1]! += g;
      rowSum[2]! += b;
      rowSum[3]! += l * l;
      const o = (row + x + 1) * 4;
      const u = (prev + x + 1) * 4;
      S[o] = S[u]! + rowSum[0]!;
      S[o + 1] = S[u + 1]! + rowSum[1]!;
      S[o + 2] = S[u + 2]! + rowSum[2]!;
      S[o + 3] = S[u + 3]! + rowSum[3]!;
    }
  }
  const out = new Uint8ClampedArray(data.length);
  // The four windows that have (x, y) as a corner: columns [xl, x + 1) or [x, xr), rows [yt, y + 1) or [y, yb).
  const cols = new Int32Array(8);
  const rows = new Int32Array(8);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const fineness = detail ? 1 - 0.6 * detail[p]! : 1;
      const r = Math.max(1, Math.round((background + (face - background) * alphaAt(alpha, p)) * fineness));
      const xl = Math.max(x - r, 0);
      const xr = Math.min(x + r + 1, width);
      const yt = Math.max(y - r, 0);
      const yb = Math.min(y + r + 1, height);
      cols[0] = xl;
      cols[1] = x + 1;
      cols[2] = x;
      cols[3] = xr;
      cols[4] = xl;
      cols[5] = x + 1;
      cols[6] = x;
      cols[7] = xr;
      rows[0] = yt;
      rows[1] = y + 1;
      rows[2] = yt;
      rows[3] = y + 1;
      rows[4] = y;
      rows[5] = yb;
      rows[6] = y;
      rows[7] = yb;
      let wsum = 0;
      let mr = 0;
      let mg = 0;
      let mb = 0;
      for (let q = 0; q < 8; q += 2) {
        const x0 = cols[q]!;
        const x1 = cols[q + 1]!;
        const y0 = rows[q]! * W;
        const y1 = rows[q + 1]! * W;
        const a00 = (y0 + x0) * 4;
        const a01 = (y0 + x1) * 4;
        const a10 = (y1 + x0) * 4;
        const a11 = (y1 + x1) * 4;
        const inv = 1 / ((x1 - x0) * (rows[q + 1]! - rows[q]!));
        const sr = S[a11]! - S[a01]! - S[a10]! + S[a00]!;
        const sg = S[a11 + 1]! - S[a01 + 1]! - S[a10 + 1]! + S[a00 + 1]!;
        const sb = S[a11 + 2]! - S[a01 + 2]! - S[a10 + 2]! + S[a00 + 2]!;
        const ml = (0.2126 * sr + 0.7152 * sg + 0.0722 * sb) * inv;
        const variance = (S[a11 + 3]! - S[a01 + 3]! - S[a10 + 3]! + S[a00 + 3]!) * inv - ml * ml;
        // Weight ~ 1 / sigma^4 (Papari's q = 4), softened so flat windows do not divide by zero.
        const v = Math.max(variance, 0) + 4;
        const wq = inv / (v * v);
        wsum += wq / inv;
        mr += wq * sr;
        mg += wq * sg;
        mb += wq * sb;
      }
      const i = p * 3;
      out[i] = mr / wsum;
      out[i + 1] = mg / wsum;
      out[i + 2] = mb / wsum;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}

/**
 * The background melted into soft fields of colour and the silhouette's edge lost into it. Kuwahara keeps every
 * edge, so blinds, shelves and leaves stayed crisp bands behind the head (and the flow dragged them into streaks),
 * and the mask's edge stayed a cut-out line around the hair. A painter lays the background in loosely and lets the
 * figure's contour melt into it, so here the paint is mixed with a wide blur of itself behind the subject and
 * with a narrow one in a band across the mask's edge.
 */
function softenBehind(src: RgbImage, alpha: ArrayLike<number>, brush: number): RgbImage {
  const { width, height, data } = src;
  const n = width * height;
  const edge = Math.max(1, brush * 0.4);
  const a = quickBlur(Float32Array.from(alpha), width, height, edge);
  const out = new Uint8Array(data.length);
  // The wide blur is of the background only (weighted by 1 - alpha and normalised): blurred with the subject, a
  // dark jacket or dark hair spread into the field round the figure as a dark glow (a blind panel's "halo").
  const weight = new Float32Array(n);
  for (let p = 0; p < n; p++) weight[p] = 1 - Math.min(1, Math.max(0, alpha[p] ?? 0));
  const weightField = smoothField(weight, width, height, Math.max(1, brush));
  for (let c = 0; c < 3; c++) {
    const plane = new Float32Array(n);
    const weighted = new Float32Array(n);
    for (let p = 0; p < n; p++) {
      plane[p] = data[p * 3 + c]!;
      weighted[p] = plane[p]! * weight[p]!;
    }
    // A blur of a brush's width turns blinds and shelves (a few px apart at the working size) into a field; the
    // contour gets a narrower one, so the hair's edge melts without a halo of background over it.
    const wide = smoothField(weighted, width, height, Math.max(1, brush));
    const narrow = quickBlur(plane, width, height, edge);
    for (let p = 0; p < n; p++) {
      const ap = Math.min(1, Math.max(0, a[p]!));
      // Mostly subject is subject: a hand or a sleeve the mask holds at 0.7 took a sixth of the field behind and
      // turned see-through, with the blinds' bands across it (a blind panel).
      const behind = 0.85 * (1 - smoothstep(0.25, 0.75, ap));
      const band = Math.min(1, 4 * ap * (1 - ap)) * 0.8;
      const v = plane[p]!;
      const wf = weightField[p]!;
      const field = wf > 0.02 ? wide[p]! / wf : v;
      out[p * 3 + c] = Math.round(v + (field - v) * behind + (narrow[p]! - v) * band * (1 - behind));
    }
  }
  return image(out, width, height);
}

/**
 * Brush strokes on the flattened paint: the flow of the picture (the smoothed structure tensor's edge tangent)
 * drags each pixel's colour a short way along the edges, as a loaded brush does, and drags noise a brush length
 * the same way into bristle streaks and broken colour; the streaks plus the paint's luminance give the relief, lit
 * from the upper left.
 */
function brushStrokes(
  src: RgbImage,
  alpha: ArrayLike<number> | undefined,
  o: OilLook,
  rng: Random,
  detail: Float32Array | undefined,
  busy: Float32Array | undefined,
): RgbImage {
  const { width, height, data } = src;
  const n = width * height;
  const side = Math.max(width, height);
  const lum = new Float32Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) lum[p] = 0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!;
  const jxx = new Float32Array(n);
  const jxy = new Float32Array(n);
  const jyy = new Float32Array(n);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      const gx = lum[p + 1]! - lum[p - 1]!;
      const gy = lum[p + width]! - lum[p - width]!;
      jxx[p] = gx * gx;
      jxy[p] = gx * gy;
      jyy[p] = gy * gy;
    }
  }
  // The smoothed tensor is kept at half size and looked up at the nearest cell: the direction changes slowly, and
  // scaling three planes back up cost more than the blurs.
  const sigma = Math.max(1.5, side * 0.006);
  const f = width >= 64 && height >= 64 ? 2 : 1;
  const tw = Math.ceil(width / f);
  const th = Math.ceil(height / f);
  const tensor = (j: Float32Array) =>
    f === 1
      ? gaussianBlur(j, width, height, sigma)
      : gaussianBlur(downsample(j, width, height, f).plane, tw, th, sigma / f);
  const sxx = tensor(jxx);
  const sxy = tensor(jxy);
  const syy = tensor(jyy);
  // Where the picture has no structure (a blurred backdrop, smooth skin) its flow is noise, and dragging paint
  // along it drew liquid swirls, which read as a glitch. A painter lays such areas in with strokes of one
  // direction per patch: a weak tensor of a diagonal stroke, its angle wandering slowly (low-frequency noise), is
  // added to the picture's own, so real edges still steer the brush. The wander is wide enough that patches differ
  // (one direction everywhere read as a streaky brushed background) and slow enough not to swirl.
  const wander = smoothNoise(tw, th, Math.max(16, Math.round(side / 5)) / f, 2, rng);
  const bias = 120;
  // The stroke runs at 60 degrees (lower left to upper right); the tensor is of its normal. From a table of 1024
  // angles (a tenth of a degree apart): a sine and a cosine per pixel cost as much as a blur.
  const biasXX = new Float32Array(1025);
  const biasXY = new Float32Array(1025);
  const biasYY = new Float32Array(1025);
  for (let k = 0; k <= 1024; k++) {
    const angle = (60 + 100 * (k / 1024 - 0.5)) * (Math.PI / 180);
    const nx = Math.sin(angle);
    const ny = Math.cos(angle);
    biasXX[k] = bias * nx * nx;
    biasXY[k] = bias * nx * ny;
    biasYY[k] = bias * ny * ny;
  }
  for (let p = 0; p < tw * th; p++) {
    const k = Math.min(1024, Math.max(0, Math.round(wander[p]! * 1024)));
    sxx[p] = sxx[p]! + biasXX[k]!;
    sxy[p] = sxy[p]! + biasXY[k]!;
    syy[p] = syy[p]! + biasYY[k]!;
  }
  const bristles = quickBlur(whiteNoise(n, rng), width, height, 1);
  const out = new Uint8ClampedArray(data.length);
  const streak = new Float32Array(n);
  const smear = o.brush * side * 0.35;
  const faceSmear = o.faceBrush * side * 0.3;
  const texture = o.brush * side * 1.2;
  const faceTexture = o.faceBrush * side * 0.9;
  // White noise under two box passes of radius 1 (sigma 1.15) has a deviation of 0.29 * 19 / 81 = 0.068: scaled
  // to 1. Narrow, so that dragged along a stroke it makes a long thin mark, not a blotch (rounder marks mottled
  // the background like cotton wool).
  const dabs = quickBlur(whiteNoise(n, rng), width, height, 1.2);
  for (let p = 0; p < n; p++) dabs[p] = dabs[p]! * 14.7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const cell = f === 1 ? p : (y >> 1) * tw + (x >> 1);
      // The eigenvector of the smaller eigenvalue: the direction along which the picture changes least.
      const a = sxx[cell]!;
      const b = sxy[cell]!;
      const c = syy[cell]!;
      const lmin = (a + c) / 2 - Math.sqrt(((a - c) / 2) ** 2 + b * b);
      let tx = b;
      let ty = lmin - a;
      if (Math.abs(a - lmin) < Math.abs(c - lmin)) {
        tx = lmin - c;
        ty = b;
      }
      const norm = Math.hypot(tx, ty);
      if (norm > 1e-6) {
        tx /= norm;
        ty /= norm;
      } else {
        tx = 1;
        ty = 0;
      }
      // Features are not dragged: a smear across an eye or the teeth is what melts a face. The colour moves only
      // a short way (dragged a brush length, blinds, locks and a neck smeared into streaks); the stroke's texture
      // runs the whole brush length.
      const fine = detail ? 1 - 0.85 * detail[p]! : 1;
      const on = alphaAt(alpha, p);
      const len = (smear + (faceSmear - smear) * on) * fine;
      const steps = Math.max(1, Math.round(len / 2));
      let r = 0;
      let g = 0;
      let bl = 0;
      let count = 0;
      for (let s = -steps; s <= steps; s++) {
        const d = (s * len) / steps;
        const sx = Math.round(x + tx * d);
        const sy = Math.round(y + ty * d);
        if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
        const q = sy * width + sx;
        r += data[q * 3]!;
        g += data[q * 3 + 1]!;
        bl += data[q * 3 + 2]!;
        count++;
      }
      const stroke = (texture + (faceTexture - texture) * on) * fine;
      // A sample every 2 px: the noise is blurred over about that, and each sample is a fifth of the pass's time.
      const ts = Math.max(1, Math.round(stroke / 2));
      let t = 0;
      let u = 0;
      let tc = 0;
      for (let s = -ts; s <= ts; s++) {
        const d = (s * stroke) / ts;
        const sx = Math.round(x + tx * d);
        const sy = Math.round(y + ty * d);
        if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
        const q = sy * width + sx;
        t += bristles[q]!;
        u += dabs[q]!;
        tc++;
      }
      // Broken colour: each stroke a little lighter or darker than its neighbours, as paint never mixes evenly;
      // this, not a smooth gradient, is what keeps skin from reading as wax.
      // Behind the subject both follow the background's own structure (`busy`): a plain light wall gets only
      // faint, broad strokes of light and dark and almost no bristle marks.
      const calm = busy ? on + (1 - on) * busy[p]! : 1;
      const shade = 1 + (u / tc) * Math.sqrt(tc) * 0.02 * (1 - 0.6 * on) * (0.1 + 0.9 * calm);
      const i = p * 3;
      out[i] = (r / count) * shade;
      out[i + 1] = (g / count) * shade;
      out[i + 2] = (bl / count) * shade;
      // Fine bristle marks stay light on the subject: on a face they read as wrinkles.
      streak[p] = (t / tc) * Math.sqrt(tc) * (0.45 - 0.1 * on) * calm;
    }
  }
  // Relief: height = luminance + streaks; light from the upper left.
  const heightMap = new Float32Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3)
    heightMap[p] = 0.2126 * out[i]! + 0.7152 * out[i + 1]! + 0.0722 * out[i + 2]! + streak[p]! * 160;
  const soft = gaussianBlur(heightMap, width, height, 0.8);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const p = y * width + x;
      const relief = (soft[p - width - 1]! - soft[p + width + 1]!) * o.impasto * 0.5;
      const i = p * 3;
      out[i] = out[i]! + relief;
      out[i + 1] = out[i + 1]! + relief;
      out[i + 2] = out[i + 2]! + relief;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}

/**
 * A Gaussian-like blur of a small sigma (a few px) in two box passes instead of three: a triangle kernel is close
 * enough for noise and a soft contour, and the blurs are a third of the look's time. Two passes of radius r have
 * a variance of 2 r (r + 1) / 3.
 */
function quickBlur(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.round((Math.sqrt(1 + 6 * sigma * sigma) - 1) / 2));
  return boxBlur(src, width, height, r, 2);
}

/**
 * A Gaussian blur of a field that is smooth afterwards (the stroke direction, the softened background): at half
 * size, scaled back up.
 */
function smoothField(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (width < 64 || height < 64) return gaussianBlur(src, width, height, sigma);
  const { plane, w, h } = downsample(src, width, height, 2);
  return upsample(gaussianBlur(plane, w, h, sigma / 2), w, h, 2, width, height);
}

/**
 * The paint at full size in one pass: scaled up bilinearly from the working size, with the face's fine detail
 * (the photo's full-size luminance less its working-size luminance scaled up, by the detail weight: what the
 * working size lost on eyes, teeth and lips), saturation, varnish and the canvas weave. One fused pass because at
 * 1024 px each separate full-size pass costs as much as the painting at the working size.
 */
function canvas(
  paint: RgbImage,
  src: RgbImage,
  smallLuma: Float32Array,
  detail: Float32Array | undefined,
  o: OilLook,
  rng: Random,
): RgbImage {
  const { width, height } = src;
  const sd = src.data;
  const pd = paint.data;
  const w = paint.width;
  const h = paint.height;
  const scale = Math.max(width, height) / 1024;
  // The weave: a product of sines (threads across and along), roughened by white noise from a 512 px tile (a
  // quarter of the cost of full-size noise; a repeat that far apart does not show under the weave).
  const rough = whiteNoise(512 * 512, rng);
  const period = Math.max(3, 4 * scale);
  const across = new Float32Array(width);
  for (let x = 0; x < width; x++) across[x] = Math.sin((2 * Math.PI * x) / period);
  // Bilinear taps per column, as in resize().
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / width - 0.5));
    x0[x] = Math.floor(g);
    x1[x] = Math.min(w - 1, Math.floor(g) + 1);
    fx[x] = g - Math.floor(g);
  }
  // Each output row first mixes its two rows of the paint (and of the detail weight and luma) vertically into a
  // row buffer, so each pixel is two taps instead of four; the detail is laid back only where its weight shows.
  const rowPaint = new Float32Array(w * 3);
  const rowDetail = new Float32Array(w);
  const rowLuma = new Float32Array(w);
  const kr = (1 + 0.04 * o.varnish) / 255;
  const kg = (1 - 0.04 * o.varnish) / 255;
  const kb = (1 - 0.3 * o.varnish) / 255;
  const sat = o.saturation;
  const deepen = o.varnish * 0.3;
  const weave = o.canvas * 22;
  const out = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++) {
    const cy = Math.sin((2 * Math.PI * y) / period) * 0.5 * weave;
    const gy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / height - 0.5));
    const r0 = Math.floor(gy) * w;
    const r1 = Math.min(h - 1, Math.floor(gy) + 1) * w;
    const ty = gy - Math.floor(gy);
    let any = false;
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const top = pd[(r0 + x) * 3 + c]!;
        rowPaint[x * 3 + c] = top + (pd[(r1 + x) * 3 + c]! - top) * ty;
      }
      if (detail) {
        const d = detail[r0 + x]! + (detail[r1 + x]! - detail[r0 + x]!) * ty;
        rowDetail[x] = d;
        if (d > 0.01) any = true;
        rowLuma[x] = smallLuma[r0 + x]! + (smallLuma[r1 + x]! - smallLuma[r0 + x]!) * ty;
      }
    }
    const noiseRow = (y & 511) << 9;
    for (let x = 0; x < width; x++) {
      const t = fx[x]!;
      const a = x0[x]!;
      const b = x1[x]!;
      const i = (y * width + x) * 3;
      let add = 0;
      if (any) {
        const wt = rowDetail[a]! + (rowDetail[b]! - rowDetail[a]!) * t;
        if (wt > 0.01) {
          const base = rowLuma[a]! + (rowLuma[b]! - rowLuma[a]!) * t;
          const full = 0.2126 * sd[i]! + 0.7152 * sd[i + 1]! + 0.0722 * sd[i + 2]!;
          add = (full - base) * wt * 0.6;
        }
      }
      const cloth = across[x]! * cy + rough[noiseRow | (x & 511)]! * 0.6 * weave;
      const r = rowPaint[a * 3]! + (rowPaint[b * 3]! - rowPaint[a * 3]!) * t + add;
      const g = rowPaint[a * 3 + 1]! + (rowPaint[b * 3 + 1]! - rowPaint[a * 3 + 1]!) * t + add;
      const bl = rowPaint[a * 3 + 2]! + (rowPaint[b * 3 + 2]! - rowPaint[a * 3 + 2]!) * t + add;
      const l = 0.2126 * r + 0.7152 * g + 0.0722 * bl;
      // Varnish: an amber glaze that deepens the shadows more than the lights.
      const glaze = 255 - deepen * (255 - l);
      out[i] = (l + (r - l) * sat) * glaze * kr + cloth;
      out[i + 1] = (l + (g - l) * sat) * glaze * kg + cloth;
      out[i + 2] = (l + (bl - l) * sat) * glaze * kb + cloth;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}
