import type { Rgb } from '../../core/lighting.js';
import { eyesAndMouthMask, faceOvalEllipse } from '../geometry/face-oval.js';
import type { HeadWarp } from '../geometry/head-warp.js';
import { luminance } from '../lighting/colour.js';
import { upsample } from '../style/filters.js';

/**
 * Skin a camera lit bright comes out pale: its tone curve's shoulder takes the colour out of the highlight before
 * the brightness (a lit cheek of tabn-14 is (231, 218, 201) beside a forehead of (203, 161, 141)). The relight
 * divides the photo's light out as brightness only, so a pale highlight it darkens stays as colourless as it was,
 * at a mid level: an ashen grey half face where the photo was lit from the side, grey smears on a rembrandt's
 * shadow side. Darkened, such skin takes back the colour of the face's own skin, in step with how far it was
 * darkened and how much paler than the face it was; pixels at or under the face's level are left alone (stubble,
 * a beard's shade, freckles keep their own colour).
 */
export interface PaleSkin {
  /** Per output pixel: the member's skin where the pixel came from (0..1). */
  skin: Float32Array;
  /** The face's skin colour in linear light, scaled to unit luminance. */
  tone: Rgb;
  /** The tone's red minus blue (per unit luminance): how coloured the face's skin is. */
  spread: number;
  /** The face's skin luminance (linear). */
  level: number;
}

/**
 * The pale-skin correction for a photo whose face skin is `albedo` (linear, the lighting fit's median face colour),
 * with `skin` the member's skin and `points` the face mesh over the photo; undefined where the face has no colour to
 * return to (a grey face: nothing would change). The whites of the eyes and the teeth are pale and bright like a
 * washed cheek, and the skin mask takes them in: they are left out by the mesh (given the skin's colour, the eyes'
 * whites came out peach).
 */
export function paleSkin(
  person: HeadWarp,
  skin: Float32Array,
  points: Float32Array,
  albedo: Rgb,
): PaleSkin | undefined {
  const level = luminance(albedo[0], albedo[1], albedo[2]);
  if (level <= 1e-4) return undefined;
  const tone: Rgb = [albedo[0] / level, albedo[1] / level, albedo[2] / level];
  const spread = tone[0] - tone[2];
  if (spread < 0.1) return undefined;
  const { width, height } = person.image;
  // Grown by a cell and a half of the warp's grid: the skin is carried to the output cell by cell, and a thin eye
  // read between cells took half the skin of the lids round it.
  const notSkin = eyesAndMouthMask(points, width, height, 1.25, person.grid.cell * 1.5);
  // The face only: hands, arms and a chest in a split's shadow took the face's tone as orange blotches.
  const { cx, cy, rx, ry } = faceOvalEllipse(points);
  const only = new Float32Array(width * height);
  // Only the ellipse's box is visited: the rest stays 0.
  const [x0, x1] = [Math.max(0, Math.floor(cx - HEAD_REACH * rx)), Math.min(width, Math.ceil(cx + HEAD_REACH * rx))];
  const [y0, y1] = [Math.max(0, Math.floor(cy - HEAD_REACH * ry)), Math.min(height, Math.ceil(cy + HEAD_REACH * ry))];
  for (let y = y0; y < y1; y++) {
    const dy = (y - cy) / (HEAD_REACH * ry);
    for (let x = x0; x < x1; x++) {
      const o = y * width + x;
      if (notSkin[o] || skin[o] === 0) continue;
      const d = Math.hypot((x - cx) / (HEAD_REACH * rx), dy);
      only[o] = d >= 1 ? 0 : skin[o]! * (d <= 0.8 ? 1 : (1 - d) / 0.2);
    }
  }
  return { skin: skinOnOutput(person, only), tone, spread, level };
}

/**
 * How far past the face oval's box the correction reaches, in its half axes (fading out over the last fifth): the
 * face, the forehead up to the hair, not the neck. Reaching down the neck, it left orange and pink blotches there
 * under a rembrandt's shadow (a blind paired panel).
 */
const HEAD_REACH = 1.2;

/**
 * The most of the way to the tone a pixel goes. All the way, a forehead's highlight on split's shadow edge became an
 * orange band along the line (a blind paired panel); at about two thirds tabn-14's ashen cheek is skin again.
 */
const MOST = 0.65;

/** Paleness (1 - the pixel's red minus blue over the tone's) from which a darkened pixel takes the tone fully. */
const PALENESS_FULL = 0.6;
/**
 * A washed highlight is brighter than the face's skin: from BRIGHT_FROM times its luminance the correction fades
 * in, fully at BRIGHT_FULL. From 0.8 and 1.2, a neck merely paler than the face, under a rembrandt's shadow, took
 * the face's tone and came out orange (a blind paired panel).
 */
const BRIGHT_FROM = 1.1;
const BRIGHT_FULL = 1.6;
/** The darkening (1 - the luminance gain) at which a washed pixel takes the tone fully. */
const DARKENING_FULL = 0.4;

/**
 * Multiplies the gain `g` (3 channels, luminance `gain` under 1) in place so that pixel `o`, of linear colour
 * (r, g, b), moves toward the skin's tone as it darkens. The luminance of the result is unchanged.
 */
export function resaturate(
  pale: PaleSkin,
  o: number,
  r: number,
  g: number,
  b: number,
  gain: number,
  out: Float32Array,
) {
  const s = pale.skin[o]!;
  if (s <= 0 || gain >= 1) return;
  const l = luminance(r, g, b);
  if (l <= pale.level * BRIGHT_FROM) return;
  const paleness = 1 - (r - b) / l / pale.spread;
  if (paleness <= 0) return;
  const bright = Math.min(1, (l / pale.level - BRIGHT_FROM) / (BRIGHT_FULL - BRIGHT_FROM));
  const dark = Math.min(1, (1 - gain) / DARKENING_FULL);
  // The blend moves each pixel by its own distance from the tone; paleness only fades it in (a pixel barely paler
  // than the face, or one as coloured, keeps its own colour).
  const w = MOST * s * Math.min(1, paleness / PALENESS_FULL) * bright * dark;
  // Unit-luminance colours blended: the blend has unit luminance too. A channel near zero is held to 4 times.
  out[0]! *= 1 - w + (w * pale.tone[0]) / Math.max(0.25, r / l);
  out[1]! *= 1 - w + (w * pale.tone[1]) / Math.max(0.25, g / l);
  out[2]! *= 1 - w + (w * pale.tone[2]) / Math.max(0.25, b / l);
}

/** The member's skin (0..1 over the photo) read where each output pixel came from, via the warp's grid. */
function skinOnOutput(person: HeadWarp, skin: Float32Array): Float32Array {
  const { width: gw, height: gh, cell } = person.grid;
  return upsample(skinCells(person, skin), gw, gh, cell, person.image.width, person.image.height);
}

/** The member's skin (0..1 over the photo) where each cell of the warp's grid came from (its inverse map). */
export function skinCells(person: HeadWarp, skin: Float32Array): Float32Array {
  const { width, height } = person.image;
  const { width: gw, height: gh, cell } = person.grid;
  const cells = new Float32Array(gw * gh);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const o = gy * gw + gx;
      const x = Math.round((gx + 0.5) * cell + person.inverse[o * 2]!);
      const y = Math.round((gy + 0.5) * cell + person.inverse[o * 2 + 1]!);
      cells[o] = x >= 0 && y >= 0 && x < width && y < height ? skin[y * width + x]! : 0;
    }
  }
  return cells;
}
