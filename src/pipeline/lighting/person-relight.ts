import { DEFAULT_CONTRAST, type Lighting } from '../../core/lighting.js';
import type { HeadModel } from '../geometry/head-model.js';
import type { Mat3 } from '../geometry/linalg.js';
import type { Plane } from '../segment/plane.js';
import { luminance } from './colour.js';
import type { LightingEstimate } from './estimate.js';
import { boxBlur } from './mesh-raster.js';
import { evalSh, evalShLuminance, lightingToSh, rigIrradiance } from './sh.js';

/**
 * Relighting the whole person, not a face-shaped patch: a shading ratio in linear light,
 *
 *     gain_c(p) = target_c(D n(p)) / source_c(n(p)),
 *
 * on the head model's grid, where n is the surface normal of the head model (face mesh relief, head ellipsoid,
 * flat body), D the head's turn for the part that follows it, `source` the photo's lighting fitted on the face and
 * `target` the preset's rig. Because the normals cover hair, ears, neck and shoulders smoothly, the light falls
 * across the whole figure and no boundary of the face can show as a step.
 *
 * Light that looks like light, not paint: the gain's colour is kept to a share of the rig's colour (coloured gels
 * still read, skin stays skin), luminance gains are clamped, and the exposure is set so the face's geometric-mean
 * gain is the preset's exposure (or, for a rig with `litSide`, so its lit side's gain is that).
 */
/**
 * The share of the log gain the rig asks for (its contrast.strength, 0.8 by default) is applied where the fit of the
 * photo's light explains the face well; a poor fit (a relative residual from RESIDUAL_GOOD to RESIDUAL_POOR) gets
 * down to half of it, since dividing out a misjudged light puts bright patches where the photo was bright already.
 * Residuals seen: 10-16% on most photos, 20-24% on faces lit by a strong spot or a flash.
 */
const RESIDUAL_GOOD = 0.12;
const RESIDUAL_POOR = 0.22;
/** The highest luminance gain, whatever the rig: brighter, the skin's highlights burn. */
const GAIN_CEILING = 1.9;

function strengthFor(residual: number, strength: number): number {
  const t = Math.min(1, Math.max(0, (residual - RESIDUAL_GOOD) / (RESIDUAL_POOR - RESIDUAL_GOOD)));
  return strength * (1 - 0.5 * t);
}

export interface PersonLight {
  /** RGB gain per grid cell, in the photo's coordinates (sample it where each output pixel came from). */
  gain: Float32Array;
  width: number;
  height: number;
  cell: number;
  meanGain: number;
  /** Share of the photo's detail brighter than its surround flattened where the gain darkens (RelightContrast). */
  flattenShadow: number;
  /**
   * Where on the grid the flattening applies (0..1 per cell): the head (face, hair, skin). Flattened too, a wall
   * the frame turns along with the member lost its texture to a milky haze, brightest round the hair (a blind paired
   * panel on split portraits: flattening the head only 44 to 1, 30 the same). Left out, everywhere.
   */
  flattenWhere?: Float32Array;
}

/**
 * How far the rig's key models the body's column (HeadModel.normals) rather than lighting it as a plane facing the
 * camera (0..1): by the key's softness, and by how far it comes from the side. A large soft source wraps round a
 * torso and lights it nearly evenly: shaped under the soft studio key, a sweater's far side went a dull grey and a
 * blind paired panel preferred the even body (7 to 22). A key in front lights the chest and leaves the column's
 * sides darker than the face above them, which then read as pasted on (butterfly 2 to 9). From the side it shapes
 * the body as it does the face: split 76 to 45, a key from the side 68 to 32, neon's gels 15 to 6.
 */
const SOFT_KEY = 0.85;
const SHAPING_KEY = 0.45;
function bodyShaping(lighting: Lighting): number {
  let key = lighting.lights[0];
  for (const l of lighting.lights) if (key === undefined || l.intensity > key.intensity) key = l;
  if (!key) return 0;
  const hard = Math.min(1, Math.max(0, (SOFT_KEY - key.softness) / (SOFT_KEY - SHAPING_KEY)));
  return hard * Math.abs(Math.sin((key.azimuth * Math.PI) / 180));
}

/** The 90th percentile of the face's luminance gain (cells where `face` is over 0.5): the face's lit side. */
function litSideGain(lum: Float32Array, face: Float32Array): number {
  const onFace: number[] = [];
  for (let o = 0; o < lum.length; o++) if ((face[o] ?? 0) > 0.5) onFace.push(lum[o] ?? 1);
  onFace.sort((a, b) => a - b);
  return onFace[Math.floor(onFace.length * 0.9)] ?? 1;
}

/** The skin mask read at each grid cell's centre, softened over a few cells so the warmth has no edge. */
function skinGrid(skin: Plane, gw: number, gh: number, cell: number): Float32Array {
  const raw = new Float32Array(gw * gh);
  for (let gy = 0; gy < gh; gy++) {
    const y = Math.min(skin.height - 1, Math.floor((gy + 0.5) * cell));
    for (let gx = 0; gx < gw; gx++) {
      const x = Math.min(skin.width - 1, Math.floor((gx + 0.5) * cell));
      raw[gy * gw + gx] = skin.data[y * skin.width + x] ?? 0;
    }
  }
  return boxBlur(raw, gw, gh, 1, Math.max(1, Math.round(gw / 60)), 2);
}

/**
 * `skin`: the member's skin over the framed photo (segmentation), where the rig's warmth (contrast.warmth) may warm
 * the shadows; left out (a black and white photo), none.
 */
export function personLight(
  model: HeadModel,
  delta: Mat3,
  source: LightingEstimate,
  lighting: Lighting,
  skin?: Plane,
): PersonLight {
  const { width: gw, height: gh, cell, depth, follow, face } = model;
  const n = gw * gh;
  const contrast = lighting.contrast ?? DEFAULT_CONTRAST;
  const [lo, hi] = [contrast.floor, GAIN_CEILING];
  const colourShare = contrast.colour;
  const target = lightingToSh(lighting);
  const direct = contrast.direct ? rigIrradiance(lighting, contrast.edge) : undefined;
  const ev = (c: number, x: number, y: number, z: number) => (direct ? direct(c, x, y, z) : evalSh(target, c, x, y, z));
  const gain = new Float32Array(n * 3);
  const lum = new Float32Array(n);
  let logSum = 0;
  let faceWeight = 0;
  // The surface the light sees: the head's broad shape (the head model's ellipsoid normals, which go on past the
  // outline into the hair and turn to face the camera down the neck) with the face's own relief on top: the slope
  // of the face depth minus its smooth version (nose, brows, cheekbones). The relief has no mean slope, so where
  // it fades out at the face's edge nothing tilts and the light shows no outline of the face.
  const smooth = boxBlur(depth, gw, gh, 1, Math.max(1, Math.round(gw / 24)), 2);
  // Only well inside the mesh: along its outline the mesh's depth runs back toward the ears, which is the head's
  // broad shape again, not relief.
  const inner = boxBlur(face, gw, gh, 1, Math.max(1, Math.round(gw / 24)), 2);
  const relief = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    const t = Math.min(1, Math.max(0, ((inner[o] ?? 0) - 0.7) / 0.28));
    relief[o] = t * t * (3 - 2 * t);
  }
  const broad = model.normals;
  const photo = model.photoNormals;
  const shaped = bodyShaping(lighting);
  const reliefShare = contrast.relief ?? 1;
  const detail = (o: number) => ((depth[o] ?? 0) - (smooth[o] ?? 0)) * (relief[o] ?? 0) * reliefShare;
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const o = gy * gw + gx;
      const span = 2 * cell;
      // Only the head's own light turns with it: wall or collar the turn drags along keeps the body's light. Turned
      // with the head, a wall facing the camera (on split's shadow edge) tipped into shadow in a ring round the head.
      const f = (follow[o] ?? 0) * (model.headLight?.[o] ?? 1);
      // Camera frame: the slope of an image-depth bump adds (dZ/dx, -dZ/dy) to the normal.
      const dx = (detail(gy * gw + Math.min(gw - 1, gx + 1)) - detail(gy * gw + Math.max(0, gx - 1))) / span;
      const dy = -(detail(Math.min(gh - 1, gy + 1) * gw + gx) - detail(Math.max(0, gy - 1) * gw + gx)) / span;
      // The body's column as far as the rig shapes it (bodyShaping); the head's normals are the same in both.
      let nx = (photo[o * 3] ?? 0) + ((broad[o * 3] ?? 0) - (photo[o * 3] ?? 0)) * shaped + dx;
      let ny = (photo[o * 3 + 1] ?? 0) + ((broad[o * 3 + 1] ?? 0) - (photo[o * 3 + 1] ?? 0)) * shaped + dy;
      let nz = (photo[o * 3 + 2] ?? 1) + ((broad[o * 3 + 2] ?? 1) - (photo[o * 3 + 2] ?? 1)) * shaped;
      const len = Math.hypot(nx, ny, nz) || 1;
      nx /= len;
      ny /= len;
      nz /= len;
      // Where the photo's light is read: the same surface, but the body facing the camera (HeadModel.photoNormals).
      let px = (photo[o * 3] ?? 0) + dx;
      let py = (photo[o * 3 + 1] ?? 0) + dy;
      let pz = photo[o * 3 + 2] ?? 1;
      const plen = Math.hypot(px, py, pz) || 1;
      px /= plen;
      py /= plen;
      pz /= plen;
      // Turned normal: the head's turn acts in the image frame (y down, z away).
      // (delta applied to (nx, -ny, -nz), inlined: this runs for every cell.)
      const t0 = delta[0]! * nx - delta[1]! * ny - delta[2]! * nz;
      const t1 = delta[3]! * nx - delta[4]! * ny - delta[5]! * nz;
      const t2 = delta[6]! * nx - delta[7]! * ny - delta[8]! * nz;
      let tx = f * t0 + (1 - f) * nx;
      let ty = f * -t1 + (1 - f) * ny;
      let tz = f * -t2 + (1 - f) * nz;
      const tl = Math.hypot(tx, ty, tz) || 1;
      tx /= tl;
      ty /= tl;
      tz /= tl;
      // The photo's light is divided out as brightness only: its colour is part of how the member looks (and the
      // face-only fit says little about the colour on hair and shoulders); the rig's colour is added as a tint.
      // The photo's light is known only where the face faces the camera (the fit's samples): at grazing normals
      // (the face's rim, the sides of the head) it is read toward the front, where the fit is reliable.
      const sx = px * 0.85;
      const sy = py * 0.85;
      const sl = Math.hypot(sx, sy, pz + 0.15) || 1;
      const s = Math.max(0.35, evalShLuminance(source.shading, sx / sl, sy / sl, (pz + 0.15) / sl));
      const g0 = Math.max(0.02, ev(0, tx, ty, tz)) / s;
      const g1 = Math.max(0.02, ev(1, tx, ty, tz)) / s;
      const g2 = Math.max(0.02, ev(2, tx, ty, tz)) / s;
      const gl = Math.max(1e-3, luminance(g0, g1, g2));
      lum[o] = gl;
      gain[o * 3] = 1 + (g0 / gl - 1) * colourShare;
      gain[o * 3 + 1] = 1 + (g1 / gl - 1) * colourShare;
      gain[o * 3 + 2] = 1 + (g2 / gl - 1) * colourShare;
      const fw = face[o] ?? 0;
      if (fw > 0.5) {
        logSum += Math.log(gl);
        faceWeight++;
      }
    }
  }
  const k =
    faceWeight === 0
      ? 1
      : contrast.litSide === undefined
        ? lighting.exposure / Math.exp(logSum / faceWeight)
        : contrast.litSide / litSideGain(lum, face);
  const strength = strengthFor(source.residual, contrast.strength);
  for (let o = 0; o < n; o++) {
    // A photo already has its own light: the new one is laid over it at the rig's strength (in log space), which
    // keeps the skin's own modelling and reads as light rather than as a painted gradient.
    const gl = Math.min(hi, Math.max(lo, (lum[o] ?? 1) * k));
    const g = Math.exp(Math.log(gl) * strength);
    // A frame turned whole is lit as one, and the wall round the member, facing the camera, took the key as a face
    // does: up to half again as bright behind a rembrandt turn, a blown-out wall. The rig lights the member; the
    // room keeps at most its own light (it still darkens where the rig does). A blind paired panel on 55 side-lit
    // portraits that changed (3 raters): 74 to 0 for the limit, 91 the same.
    lum[o] = g > 1 && model.member ? 1 + (g - 1) * (model.member[o] ?? 0) : g;
  }
  // Soft light: the gain varies over the scale of the head's forms, not of single cells.
  const smoothLum = boxBlur(lum, gw, gh, 1, Math.max(1, Math.round(gw * (contrast.smoothing ?? 1 / 90))), 3);
  const smoothCol = boxBlur(gain, gw, gh, 3, Math.max(1, Math.round(gw / 40)), 2);
  const warmth = contrast.warmth ?? 0;
  const skinCells = skin && warmth > 0 ? skinGrid(skin, gw, gh, cell) : undefined;
  for (let o = 0; o < n; o++) {
    const gl = smoothLum[o] ?? 1;
    if (skinCells && gl < 1) {
      // Warm shadow: red held up and blue taken down as the light falls (the tint keeps unit luminance below).
      const w = warmth * (skinCells[o] ?? 0);
      smoothCol[o * 3] = (smoothCol[o * 3] ?? 1) * gl ** -w;
      smoothCol[o * 3 + 2] = (smoothCol[o * 3 + 2] ?? 1) * gl ** (0.8 * w);
    }
    // Keep the colour's luminance at 1 so it only tints.
    const cr = smoothCol[o * 3] ?? 1;
    const cg = smoothCol[o * 3 + 1] ?? 1;
    const cb = smoothCol[o * 3 + 2] ?? 1;
    const cl = luminance(cr, cg, cb) || 1;
    gain[o * 3] = (gl * cr) / cl;
    gain[o * 3 + 1] = (gl * cg) / cl;
    gain[o * 3 + 2] = (gl * cb) / cl;
  }
  return {
    gain,
    width: gw,
    height: gh,
    cell,
    meanGain: lighting.exposure,
    flattenShadow: contrast.flattenShadow ?? 0,
    ...(model.headLight && contrast.flattenShadow ? { flattenWhere: model.headLight } : {}),
  };
}
