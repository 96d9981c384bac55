import type { Lighting, LightSource, Rgb } from '../../core/lighting.js';

/**
 * Second-order real spherical harmonics for irradiance (Ramamoorthi & Hanrahan 2001, "An efficient representation
 * for irradiance environment maps"): 9 coefficients per colour channel describe any distant lighting of a
 * Lambertian surface to within a few percent.
 *
 * Frame: the CAMERA's. X points to the right of the picture (the subject's left when they face the camera), Y up,
 * Z from the face towards the camera. A light "from the subject's left" has +X.
 *
 * `ShRgb` layout: 27 numbers, channel-major: `sh[c * 9 + k]` for channel c in R,G,B and basis k in the order
 * Y00, Y1-1 (y), Y10 (z), Y11 (x), Y2-2 (xy), Y2-1 (yz), Y20 (3z^2-1), Y21 (xz), Y22 (x^2-y^2).
 * Coefficients are already convolved with the clamped cosine, so `evalSh` returns irradiance directly.
 */
export type ShRgb = Float64Array;
export const SH_COUNT = 9;

const C0 = 0.282095;
const C1 = 0.488603;
const C2 = 1.092548;
const C3 = 0.315392;
const C4 = 0.546274;
/** Clamped-cosine convolution per band (A0 = pi, A1 = 2pi/3, A2 = pi/4). */
const BAND_GAIN = [Math.PI, (2 * Math.PI) / 3, Math.PI / 4] as const;
const BAND_OF = [0, 1, 1, 1, 2, 2, 2, 2, 2] as const;

/** Writes the 9 basis values of unit normal (x, y, z) into `out` at `offset`. */
export function shBasis(x: number, y: number, z: number, out: Float64Array | Float32Array, offset = 0): void {
  out[offset] = C0;
  out[offset + 1] = C1 * y;
  out[offset + 2] = C1 * z;
  out[offset + 3] = C1 * x;
  out[offset + 4] = C2 * x * y;
  out[offset + 5] = C2 * y * z;
  out[offset + 6] = C3 * (3 * z * z - 1);
  out[offset + 7] = C2 * x * z;
  out[offset + 8] = C4 * (x * x - y * y);
}

/** Irradiance of channel `c` for unit normal (x, y, z). */
export function evalSh(sh: ShRgb, c: number, x: number, y: number, z: number): number {
  const o = c * SH_COUNT;
  return (
    (sh[o] ?? 0) * C0 +
    (sh[o + 1] ?? 0) * C1 * y +
    (sh[o + 2] ?? 0) * C1 * z +
    (sh[o + 3] ?? 0) * C1 * x +
    (sh[o + 4] ?? 0) * C2 * x * y +
    (sh[o + 5] ?? 0) * C2 * y * z +
    (sh[o + 6] ?? 0) * C3 * (3 * z * z - 1) +
    (sh[o + 7] ?? 0) * C2 * x * z +
    (sh[o + 8] ?? 0) * C4 * (x * x - y * y)
  );
}

/** Rec. 709 luminance of an SH triple at a normal. */
export function evalShLuminance(sh: ShRgb, x: number, y: number, z: number): number {
  return 0.2126 * evalSh(sh, 0, x, y, z) + 0.7152 * evalSh(sh, 1, x, y, z) + 0.0722 * evalSh(sh, 2, x, y, z);
}

/** Unit vector (camera frame) for a light at `azimuth` (+ = subject's left) and `elevation` degrees. */
export function lightDirection(azimuth: number, elevation: number): [number, number, number] {
  const a = (azimuth * Math.PI) / 180;
  const e = (elevation * Math.PI) / 180;
  return [Math.sin(a) * Math.cos(e), Math.sin(e), Math.cos(a) * Math.cos(e)];
}

/**
 * RGB of a black body at `kelvin`, normalised to unit luminance and to white at 6500 K (Tanner Helland's fit of
 * the CIE data, good to a few percent between 1000 K and 15000 K, which is all a preset needs).
 */
export function kelvinToRgb(kelvin: number): Rgb {
  const raw = (k: number): [number, number, number] => {
    const t = Math.min(40000, Math.max(1000, k)) / 100;
    const r = t <= 66 ? 255 : 329.698727446 * (t - 60) ** -0.1332047592;
    const g = t <= 66 ? 99.4708025861 * Math.log(t) - 161.1195681661 : 288.1221695283 * (t - 60) ** -0.0755148492;
    const b = t >= 66 ? 255 : t <= 19 ? 0 : 138.5177312231 * Math.log(t - 10) - 305.0447927307;
    const clamp = (v: number) => Math.min(255, Math.max(0, v)) / 255;
    return [clamp(r), clamp(g), clamp(b)];
  };
  const white = raw(6500);
  const c = raw(kelvin);
  return unitLuminance([c[0] / white[0], c[1] / white[1], c[2] / white[2]]);
}

export function unitLuminance(c: Rgb): Rgb {
  const y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  return y > 0 ? [c[0] / y, c[1] / y, c[2] / y] : [1, 1, 1];
}

/**
 * How much of a colour temperature survives into the picture. A camera (or an eye) partly white-balances to the
 * light it is in: a candle-lit face looks amber, not the deep orange of 1900 K. Gels (`colour`) are deliberate
 * and keep their full colour.
 */
const TEMPERATURE_STRENGTH = 0.6;

function lightColour(l: Pick<LightSource, 'kelvin' | 'colour'>): Rgb {
  if (l.colour) return unitLuminance(l.colour);
  const k = kelvinToRgb(l.kelvin);
  return unitLuminance([
    1 + (k[0] - 1) * TEMPERATURE_STRENGTH,
    1 + (k[1] - 1) * TEMPERATURE_STRENGTH,
    1 + (k[2] - 1) * TEMPERATURE_STRENGTH,
  ]);
}

/**
 * Adds a distant light to `sh`. A soft source (a softbox, a window) is a wide lobe rather than a point: convolving
 * with a wider lobe damps the higher bands, modelled as exp(-softness * l(l+1) / 4) per band l.
 */
export function addDirectionalLight(sh: ShRgb, light: LightSource): void {
  const [dx, dy, dz] = lightDirection(light.azimuth, light.elevation);
  const colour = lightColour(light);
  const y = new Float64Array(SH_COUNT);
  shBasis(dx, dy, dz, y);
  for (let k = 0; k < SH_COUNT; k++) {
    const band = BAND_OF[k] ?? 0;
    const damp = Math.exp((-light.softness * band * (band + 1)) / 4);
    const g = (BAND_GAIN[band] ?? 0) * damp * (y[k] ?? 0) * light.intensity;
    for (let c = 0; c < 3; c++) sh[c * SH_COUNT + k] = (sh[c * SH_COUNT + k] ?? 0) + g * (colour[c] ?? 1);
  }
}

/** The irradiance of a lighting rig (lights plus ambient), unnormalised. */
export function lightingToSh(lighting: Pick<Lighting, 'lights' | 'ambient'>): ShRgb {
  const sh = new Float64Array(3 * SH_COUNT);
  for (const l of lighting.lights) addDirectionalLight(sh, l);
  const ambient = lightingAmbientColour(lighting.ambient);
  // A constant irradiance a is the Y00 coefficient a / C0.
  for (let c = 0; c < 3; c++)
    sh[c * SH_COUNT] = (sh[c * SH_COUNT] ?? 0) + (lighting.ambient.intensity * (ambient[c] ?? 1)) / C0;
  return sh;
}

export function lightingAmbientColour(ambient: Lighting['ambient']): Rgb {
  return lightColour({ kelvin: ambient.kelvin, ...(ambient.colour ? { colour: ambient.colour } : {}) });
}

/** The rig's overall colour (luminance-weighted mean of its lights and ambient), for toning the background. */
export function lightingColour(lighting: Pick<Lighting, 'lights' | 'ambient'>): Rgb {
  const sum = [0, 0, 0];
  const add = (rgb: Rgb, w: number) => {
    for (let c = 0; c < 3; c++) sum[c] = (sum[c] ?? 0) + (rgb[c] ?? 1) * w;
  };
  for (const l of lighting.lights) add(lightColour(l), l.intensity);
  add(lightingAmbientColour(lighting.ambient), lighting.ambient.intensity * 2);
  return unitLuminance([sum[0] ?? 1, sum[1] ?? 1, sum[2] ?? 1]);
}

/**
 * Least-squares fit of per-channel SH to samples: `normals` (N x 3, unit, camera frame) and `values` (N x 3, e.g.
 * linear RGB of the face). With the albedo assumed constant it folds into the coefficients, so the fit is the
 * shading times the skin colour. A face shows only the front hemisphere of normals; a small ridge term keeps the
 * components it barely sees (light from behind) at zero instead of letting them blow up.
 */
export function fitSh(normals: Float32Array, values: Float32Array, weights?: Float32Array, ridge = 1e-3): ShRgb {
  const n = Math.floor(normals.length / 3);
  const ata = new Float64Array(SH_COUNT * SH_COUNT);
  const atb = new Float64Array(SH_COUNT * 3);
  const y = new Float64Array(SH_COUNT);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? (weights[i] ?? 0) : 1;
    if (w <= 0) continue;
    shBasis(normals[3 * i] ?? 0, normals[3 * i + 1] ?? 0, normals[3 * i + 2] ?? 0, y);
    for (let a = 0; a < SH_COUNT; a++) {
      const ya = (y[a] ?? 0) * w;
      for (let b = a; b < SH_COUNT; b++) ata[a * SH_COUNT + b] = (ata[a * SH_COUNT + b] ?? 0) + ya * (y[b] ?? 0);
      for (let c = 0; c < 3; c++) atb[a * 3 + c] = (atb[a * 3 + c] ?? 0) + ya * (values[3 * i + c] ?? 0);
    }
    wsum += w;
  }
  for (let a = 0; a < SH_COUNT; a++) for (let b = 0; b < a; b++) ata[a * SH_COUNT + b] = ata[b * SH_COUNT + a] ?? 0;
  let trace = 0;
  for (let a = 0; a < SH_COUNT; a++) trace += ata[a * SH_COUNT + a] ?? 0;
  const lambda = ridge * (trace / SH_COUNT || 1);
  for (let a = 0; a < SH_COUNT; a++) ata[a * SH_COUNT + a] = (ata[a * SH_COUNT + a] ?? 0) + lambda;
  const out = new Float64Array(3 * SH_COUNT);
  if (wsum === 0) return out;
  const solved = solveSymmetric(ata, atb, SH_COUNT, 3);
  for (let k = 0; k < SH_COUNT; k++) for (let c = 0; c < 3; c++) out[c * SH_COUNT + k] = solved[k * 3 + c] ?? 0;
  return out;
}

/** Solves A X = B for symmetric positive definite A (n x n) and B (n x m) by Cholesky. */
function solveSymmetric(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] ?? 0;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] ?? 0) * (l[j * n + k] ?? 0);
      l[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / (l[j * n + j] ?? 1);
    }
  }
  const x = new Float64Array(n * m);
  for (let c = 0; c < m; c++) {
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = b[i * m + c] ?? 0;
      for (let k = 0; k < i; k++) s -= (l[i * n + k] ?? 0) * (z[k] ?? 0);
      z[i] = s / (l[i * n + i] ?? 1);
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = z[i] ?? 0;
      for (let k = i + 1; k < n; k++) s -= (l[k * n + i] ?? 0) * (x[k * m + c] ?? 0);
      x[i * m + c] = s / (l[i * n + i] ?? 1);
    }
  }
  return x;
}

/**
 * Where the light mostly comes from: the normal the luminance irradiance is brightest for (azimuth + = subject's
 * left, elevation, degrees) and its contrast over the front hemisphere ((max - min) / (max + min), 0 = flat).
 * Searched on a grid rather than read off band 1, because a fit seen only from the front hemisphere shares the
 * light's direction between bands 1 and 2. For reports and debug text.
 */
export function dominantLight(sh: ShRgb): { azimuth: number; elevation: number; contrast: number } {
  let best = { azimuth: 0, elevation: 0, value: Number.NEGATIVE_INFINITY };
  let min = Number.POSITIVE_INFINITY;
  const probe = (az: number, el: number) => {
    const [x, y, z] = lightDirection(az, el);
    const v = evalShLuminance(sh, x, y, z);
    if (v > best.value) best = { azimuth: az, elevation: el, value: v };
    return v;
  };
  // A face shows the front hemisphere only; light from behind cannot be told apart, so it is not searched.
  for (let el = -90; el <= 90; el += 5) {
    for (let az = -90; az <= 90; az += 5) {
      min = Math.min(min, probe(az, el));
    }
  }
  // Refine around the coarse maximum to about half a degree.
  for (let step = 2; step >= 0.5; step /= 2) {
    const { azimuth, elevation } = best;
    for (let da = -2; da <= 2; da++)
      for (let de = -2; de <= 2; de++)
        probe(Math.max(-90, Math.min(90, azimuth + da * step)), Math.max(-90, Math.min(90, elevation + de * step)));
  }
  const max = best.value;
  return {
    azimuth: best.azimuth,
    elevation: best.elevation,
    contrast: max + min > 0 ? (max - Math.max(0, min)) / (max + Math.max(0, min)) : 0,
  };
}

/**
 * The rig's irradiance light by light, for a rig that wants its shadow edge (RelightContrast.direct): each light a
 * clamped cosine whose knee is rounded over a band that widens with its softness (a hard key's edge runs down the
 * nose), plus the ambient. Band-limited to the second order, the same key fades from cheek to cheek. With `edge`
 * (RelightContrast.edge) each light rises from its shadow edge to full strength within that cosine instead.
 */
export function rigIrradiance(
  lighting: Pick<Lighting, 'lights' | 'ambient'>,
  edge?: number,
): (c: number, x: number, y: number, z: number) => number {
  const ambient = lightingAmbientColour(lighting.ambient);
  const lights = lighting.lights.map((l) => ({
    d: lightDirection(l.azimuth, l.elevation),
    colour: lightColour(l),
    i: l.intensity,
    w: 0.1 + 0.4 * l.softness,
  }));
  return (c, x, y, z) => {
    let e = lighting.ambient.intensity * (ambient[c] ?? 1);
    for (const l of lights) {
      const t = x * l.d[0] + y * l.d[1] + z * l.d[2];
      e += l.i * (l.colour[c] ?? 1) * (edge === undefined ? clampedCosine(t, l.w) : hardEdge(t, l.w, edge));
    }
    return e;
  };
}

/** A clamped cosine whose edge is softened over +-w (a quadratic blend). */
function clampedCosine(t: number, w: number): number {
  return t >= w ? t : t <= -w ? 0 : ((t + w) * (t + w)) / (4 * w);
}

/** From nothing at -w to full strength at w + edge, smoothly: a hard light that lights what faces it fully. */
function hardEdge(t: number, w: number, edge: number): number {
  const r = Math.min(1, Math.max(0, (t + w) / (2 * w + edge)));
  return r * r * (3 - 2 * r);
}
