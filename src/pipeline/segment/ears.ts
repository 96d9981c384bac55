import { smoothstep } from '../style/filters.js';
import type { Box } from '../types.js';
import { floodFill } from './components.js';
import { type Plane, resizePlane } from './plane.js';

/**
 * Ears the selfie model lost, put back by depth. Against bright bokeh the selfie model often loses an ear (the turned
 * head showed it as a translucent smear, a blind panel rated it down): skin the parts model finds beside the face,
 * as near as the head by the depth model (TCMonoDepth) and joined to the face, is the member's.
 *
 * The other way round was tried and dropped: taking out what the depth model puts far behind the face beside the
 * head (a pale wall the selfie model took in beside a close-up's cheek). It removed the glassy band that wall made
 * beside a turned head, but where the depth's blurred edge left half of the wall in, that half stood sharp against
 * the blurred background; a blind paired panel preferred the render without it on 12 of 16 tiles of that photo. It
 * also cut a grey hood's top and a black hat before a black wall, which are far by depth too.
 *
 * Only where ears are: beside the face from the brows to the nose (a beige garment on a rack beside a turned chin
 * is skin to the parts model and near by depth, and came in as a floating piece). The depth is relative, so the
 * level is relative too: between the background's depth and the face's.
 */

/** Below this share of the depth scale between background and face nothing changes: depth cannot tell them. */
const MIN_SEPARATION = 0.3;
/** Depth (same scale) from which skin joined to the face (an ear) is the member's. */
const SKIN_NEAR = 0.5;
/** Where ears are, as shares of the face's box: rows from the brows to the nose, columns this far beside the box. */
const EAR_TOP = 0.15;
const EAR_BOTTOM = 0.75;
const EAR_BESIDE = 0.4;
/** Past this yaw (degrees) only the side behind the face can show an ear. */
const EAR_YAW = 15;

/** Least share of the coarse plane that skin beside the face the selfie model left out must cover to ask depth. */
const LOST_SKIN = 0.0005;

/**
 * Whether skin the parts model finds beside the face, joined to it where ears are, is missing from `coarse` (an
 * ear the selfie model lost): only then is the depth model run (it costs about 40 ms on 2 cores).
 */
export function lostSkinBesideFace(coarse: Plane, skinPlane: Plane, face: Box, yaw = 0): boolean {
  const { width, height, data } = coarse;
  const skin = resizePlane(skinPlane, width, height).data;
  const inFace = faceEllipse(face);
  const band = earBand(face, width, yaw);
  const joined = joinedToFace(width, height, inFace, (o) => band(o) && skin[o]! > 0.4);
  let lost = 0;
  for (let o = 0; o < data.length; o++) if (joined[o] && data[o]! < 0.5) lost++;
  return lost >= LOST_SKIN * data.length;
}

/**
 * `coarse` (the selfie model's person probability) with near skin joined to the face beside the head put in, in
 * place. `depth` is relative inverse depth (larger = nearer) over the same photo at any resolution, `skinPlane` the
 * parts model's skin, `face` the main face's box in the coarse plane's pixels.
 */
export function earsByDepth(coarse: Plane, depth: Plane, skinPlane: Plane, face: Box, yaw = 0): void {
  const { width, height, data } = coarse;
  const d = resizePlane(depth, width, height).data;
  const skin = resizePlane(skinPlane, width, height).data;
  const inner: number[] = [];
  for (let y = Math.floor(face.y + face.height * 0.2); y < face.y + face.height * 0.8; y++) {
    for (let x = Math.floor(face.x + face.width * 0.2); x < face.x + face.width * 0.8; x++) {
      if (x >= 0 && y >= 0 && x < width && y < height) inner.push(d[y * width + x]!);
    }
  }
  const back: number[] = [];
  for (let i = 0; i < data.length; i++) if (data[i]! < 0.3) back.push(d[i]!);
  if (inner.length === 0 || back.length < data.length * 0.05) return;
  const near = median(inner);
  back.sort((a, b) => a - b);
  const far = back[Math.floor(back.length * 0.1)]!;
  const span = near - far;
  if (span < MIN_SEPARATION * Math.max(near, 1e-6)) return;
  const inFace = faceEllipse(face);
  const band = earBand(face, width, yaw);
  const level = far + SKIN_NEAR * span;
  const ears = joinedToFace(width, height, inFace, (o) => band(o) && skin[o]! > 0.4 && d[o]! >= level);
  for (let o = 0; o < data.length; o++) if (ears[o]) data[o] = Math.max(data[o]!, smoothstep(0.4, 0.7, skin[o]!));
}

/** 1 where `inside` holds and the pixel is joined through such pixels to a pixel of the face (`inFace`). */
function joinedToFace(
  width: number,
  height: number,
  inFace: (x: number, y: number) => boolean,
  inside: (o: number) => boolean,
): Uint8Array {
  return floodFill(width, height, (o) => inFace(o % width, Math.floor(o / width)), inside);
}

/**
 * Whether pixel o of a plane `width` wide lies where ears are beside `face` (EAR_TOP to EAR_BOTTOM, EAR_BESIDE): on
 * both sides of a face within EAR_YAW of frontal, else only on the side behind it (yaw in degrees, negative: facing
 * the viewer's left, so the ear shows on the right). Beside a turned face's nose and mouth lies its profile, never
 * an ear (a garment on a rack there came in as a floating piece).
 */
function earBand(face: Box, width: number, yaw: number): (o: number) => boolean {
  const top = face.y + EAR_TOP * face.height;
  const bottom = face.y + EAR_BOTTOM * face.height;
  const cx = face.x + face.width / 2;
  const left = yaw < -EAR_YAW ? cx : face.x - EAR_BESIDE * face.width;
  const right = yaw > EAR_YAW ? cx : face.x + (1 + EAR_BESIDE) * face.width;
  return (o) => {
    const x = (o % width) + 0.5;
    const y = Math.floor(o / width) + 0.5;
    return y >= top && y < bottom && x >= left && x < right;
  };
}

/** Whether a pixel (its centre) lies in the face's own ellipse inside the detector's box. */
function faceEllipse(face: Box): (x: number, y: number) => boolean {
  const cx = face.x + face.width / 2;
  const cy = face.y + face.height / 2;
  return (x, y) => Math.hypot((x + 0.5 - cx) / (face.width * 0.45), (y + 0.5 - cy) / (face.height * 0.6)) < 1;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] ?? 0;
}
