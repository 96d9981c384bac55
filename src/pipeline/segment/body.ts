import { smoothstep } from '../style/filters.js';
import type { Box } from '../types.js';
import { floodFill } from './components.js';
import { type Plane, resizePlane } from './plane.js';

/**
 * Bare skin below the shoulders the selfie model was unsure of, made solid where the parts model is sure of it. The
 * selfie model often gives a shoulder or a hand against a wall of its colour (pale skin on a white wall) a
 * probability near a half. Refined and cut, that half showed on a studio backdrop as a torn, see-through shoulder
 * or a hand with the backdrop through it at the frame's edge, which blind panels rated broken. Skin is opaque:
 * where the skin/clothes/hair model is sure of skin, joined below the shoulders to what the selfie model is sure is the
 * person, it is the person. Only where the selfie model saw something at all.
 *
 * Not clothes: the parts model called a magenta wall between a braid and a shoulder clothes, and it came in as a
 * solid pink slab beside the neck.
 */

/**
 * Where the shoulders start, in face heights below the box's top (a quarter face below the chin): higher, beside the
 * neck, a blurred neighbour's face the selfie model half took in came in whole, a second face on the backdrop.
 */
const SHOULDERS = 1.25;
/** Selfie-model probability from which a pixel counts as sure person, and below which it is left alone. */
const SURE = 0.8;
const SEEN = 0.1;
/** Parts-model probability of skin from which a pixel is body (fully at BODY_SURE). */
const BODY = 0.5;
const BODY_SURE = 0.8;

/**
 * `coarse` (the selfie model's person probability) with skin below the shoulders made solid, in place. `face` is the
 * main face's box in the coarse plane's pixels. Returns how many pixels rose.
 */
export function solidBody(coarse: Plane, skinPlane: Plane, face: Box): number {
  const { width, height, data } = coarse;
  const skin = resizePlane(skinPlane, width, height).data;
  const shoulders = Math.max(0, Math.ceil(face.y + face.height * SHOULDERS));
  const below = (o: number) => o >= shoulders * width;
  const joined = floodFill(
    width,
    height,
    (o) => below(o) && data[o]! >= SURE,
    (o) => below(o) && (data[o]! >= SURE || (data[o]! >= SEEN && skin[o]! >= BODY)),
  );
  let rose = 0;
  for (let o = shoulders * width; o < data.length; o++) {
    if (!joined[o] || data[o]! >= SURE) continue;
    const solid = smoothstep(BODY, BODY_SURE, skin[o]!);
    if (solid > data[o]!) {
      data[o] = solid;
      rose++;
    }
  }
  return rose;
}
