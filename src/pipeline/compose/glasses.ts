import { components, floodFill } from '../segment/components.js';
import { boxMean } from '../segment/guided-filter.js';
import { maxFilter } from '../segment/plane.js';
import type { RgbImage } from '../types.js';

/**
 * The end of a pair of glasses beyond the face's outline is the member's too.
 *
 * On a face turned aside, the far lens reaches past the cheek over the background, and the selfie model stops at
 * the cheek: it cut the frame off through the lens. The cut-off end stayed on the plate and floated beside the
 * turned head as a ghost of the frame, and on a studio backdrop the lens ended in a jagged edge of old background
 * (a blind panel: broken on all seven portraits of one photo).
 *
 * Beside each eye's outer corner, within a band as high as a lens, what stands off its surroundings there (a
 * frame's dark or bright line) and touches the member is a frame's end when it closes a region against the member
 * (a lens's rim round what shows through it) and stays inside the band: a window frame or a strand that runs on
 * beyond it is the background or hair, and nothing changes. Returns FRAME where a frame's end and the lens it closes
 * lie outside `person` (the member's mask, width x height), and SEE_THROUGH where a lens inside it shows the wall
 * (see seeThrough). `oval` is the face's own oval, never touched.
 */
export function glassesBeyondFace(
  person: Float32Array,
  image: RgbImage,
  points: ArrayLike<number>,
  oval: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(person.length);
  const ax = points[RIGHT_EYE_OUTER * 3] ?? 0;
  const ay = points[RIGHT_EYE_OUTER * 3 + 1] ?? 0;
  const bx = points[LEFT_EYE_OUTER * 3] ?? 0;
  const by = points[LEFT_EYE_OUTER * 3 + 1] ?? 0;
  const d = Math.hypot(bx - ax, by - ay);
  if (!(d >= MIN_EYE_SPAN)) return out;
  const ux = (bx - ax) / d;
  const uy = (by - ay) / d;
  // Along the eyes' line (s: 0 at the image-left eye's outer corner, d at the other's) and across it (t, down).
  for (const side of [-1, 1] as const) endBeside(out, person, image, oval, { ax, ay, ux, uy, d }, side);
  return out;
}

/** Mesh indices of the eyes' outer corners (MediaPipe: the subject's right eye lies on the image's left). */
const RIGHT_EYE_OUTER = 33;
const LEFT_EYE_OUTER = 263;
/** Below this span between the eyes' corners (pixels) there is too little to tell a frame from noise. */
const MIN_EYE_SPAN = 24;
/** The band a lens lies in, across the eyes' line, as shares of the span: from above the brow to the cheekbone. */
const BAND_TOP = -0.34;
const BAND_BOTTOM = 0.4;
/** How far beyond an eye's outer corner a lens's end may reach (share of the span). */
const REACH = 0.45;
/** The window a pixel is compared with (share of the span) and by how much it must stand off it (levels). */
const DETAIL_RADIUS = 0.04;
const DETAIL = 16;
/** Gaps in a frame narrower than twice this share of the span are the frame's too. */
const CLOSE = 0.015;
/** The strip along the member's edge (px) whose pixels mix cheek and wall. */
const GAP = 2;
/** In `out`: a frame's end to put in, a lens's see-through inside to take out. */
export const FRAME = 1;
export const SEE_THROUGH = 2;
/** RGB distance to the wall's colour nearby under which a lens's inside shows the wall. */
const LENS_CLOSE = 20;
/** How far (share of the span) the wall's colour is looked for round a lens's inside. */
const LENS_REACH = 0.2;
/**
 * Most of the zone beside the eye that may stand off the wall for a frame's end to be told from it: a frame's line
 * over a wall is a small part of it; before graffiti 36-55% stood off, and flecks of it touching the temples were put
 * in as "frames" on a man with no glasses: white scraps beside his head (with a backdrop behind him, 3 blind raters
 * of 3 called it broken), and flecks carried along by a turned head.
 */
const BUSY_ZONE = 0.25;
/** A frame's end covers at least this share of the span squared; less is a speck of noise. */
const MIN_FRAME = 0.002;

interface EyeLine {
  ax: number;
  ay: number;
  ux: number;
  uy: number;
  d: number;
}

function endBeside(
  out: Uint8Array,
  person: Float32Array,
  image: RgbImage,
  oval: Uint8Array,
  line: EyeLine,
  side: -1 | 1,
): void {
  const { ax, ay, ux, uy, d } = line;
  const { width, height, data } = image;
  // The zone beyond this side's corner, in eye-line coordinates.
  const s0 = side < 0 ? -REACH * d : d;
  const s1 = side < 0 ? 0 : d + REACH * d;
  const t0 = BAND_TOP * d;
  const t1 = BAND_BOTTOM * d;
  const corners = [
    [s0, t0],
    [s1, t0],
    [s0, t1],
    [s1, t1],
  ].map(([s, t]) => [ax + s! * ux - t! * uy, ay + s! * uy + t! * ux] as const);
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0]))) - 1);
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...corners.map((c) => c[0]))) + 1);
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1]))) - 1);
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...corners.map((c) => c[1]))) + 1);
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  if (w < 3 || h < 3) return;
  const n = w * h;
  const luma = new Float32Array(n);
  const inZone = new Uint8Array(n);
  const member = new Float32Array(n);
  const onBorder = new Uint8Array(n);
  const margin = Math.max(1, 0.02 * d);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const q = y * w + x;
      const gx = x + x0;
      const gy = y + y0;
      const i = gy * width + gx;
      luma[q] = 0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!;
      member[q] = (person[i] ?? 0) >= 0.5 ? 1 : 0;
      const s = (gx - ax) * ux + (gy - ay) * uy;
      const t = -(gx - ax) * uy + (gy - ay) * ux;
      if (s < s0 || s > s1 || t < t0 || t > t1) continue;
      inZone[q] = 1;
      // The zone's edge away from the face (its far end, top, bottom and the photo's border): what reaches it runs
      // on beyond the lens.
      const outer = side < 0 ? s - s0 : s1 - s;
      if (outer < margin || t - t0 < margin || t1 - t < margin || gx === 0 || gy === 0) onBorder[q] = 1;
      if (gx === width - 1 || gy === height - 1) onBorder[q] = 1;
    }
  }
  // A strip along the member's edge is neither frame nor background: its pixels mix the cheek with the wall, and
  // as "standing off" the wall they would join any frame to the band's ends along the whole outline.
  const near = maxFilter(member, w, h, GAP);
  const open = new Float32Array(n);
  for (let q = 0; q < n; q++) open[q] = near[q] ? 0 : 1;
  // The wall's brightness nearby, from the wall alone: not the bright cheek beside it (the wall would stand off it),
  // and on a second look not what stood off the first (the frame's own darkness made a halo of wall round it).
  const radius = Math.max(2, Math.round(DETAIL_RADIUS * d));
  const free = (q: number) => inZone[q] === 1 && open[q] === 1;
  let wall = open;
  let standing = new Float32Array(n);
  for (let look = 0; look < 2; look++) {
    // Wider on the second look, to reach past the halo the first left out.
    const r = radius * (1 + 2 * look);
    const weight = boxMean(wall, w, h, r);
    const weighted = boxMean(
      luma.map((v, q) => v * wall[q]!),
      w,
      h,
      r,
    );
    standing = new Float32Array(n);
    for (let q = 0; q < n; q++) {
      if (free(q) && weight[q]! >= 0.1 && Math.abs(luma[q]! - weighted[q]! / weight[q]!) >= DETAIL) standing[q] = 1;
    }
    wall = open.map((v, q) => (standing[q] ? 0 : v));
  }
  seeThrough(out, image, oval, { x0, y0, w, h }, { inZone, member, onBorder, wall }, d);
  // Grown a pixel so a thin frame's line holds together.
  const grown = maxFilter(standing, w, h, 1);
  for (let q = 0; q < n; q++) standing[q] = free(q) ? grown[q]! : 0;
  const { labels, areas } = components({ width: w, height: h, data: standing }, 0.5);
  const touchesMember = new Uint8Array(areas.length);
  const runsOn = new Uint8Array(areas.length);
  // Joined to the member across the strip: within GAP + 1 of it.
  const reached = maxFilter(near, w, h, 1);
  for (let q = 0; q < n; q++) {
    const l = labels[q]!;
    if (l === 0) continue;
    if (onBorder[q]) runsOn[l] = 1;
    if (reached[q]) touchesMember[l] = 1;
  }
  const frame = new Uint8Array(n);
  let any = false;
  for (let q = 0; q < n; q++) {
    const l = labels[q]!;
    if (l !== 0 && touchesMember[l] && !runsOn[l] && areas[l]! >= MIN_FRAME * d * d) {
      frame[q] = 1;
      any = true;
    }
  }
  if (!any || busyZone(standing, free, n)) return;
  // Closed over gaps narrower than CLOSE: a hinge's block showed as a dark loop with the backdrop inside it.
  const c = Math.max(1, Math.round(CLOSE * d));
  const grownFrame = maxFilter(Float32Array.from(frame), w, h, c);
  const shrunkBack = maxFilter(
    grownFrame.map((v) => 1 - v),
    w,
    h,
    c,
  );
  for (let q = 0; q < n; q++) if (shrunkBack[q] === 0 && free(q)) frame[q] = 1;
  // What the frame closes against the member (and the strip along it): the zone's rest not joined to its outer
  // edge. Then the strip itself where it borders what was added, so no notch of wall stays between frame and cheek.
  const outside = floodFill(
    w,
    h,
    (q) => onBorder[q] === 1 || inZone[q] === 0,
    (q) => open[q] === 1 && !frame[q],
  );
  const added = new Float32Array(n);
  for (let q = 0; q < n; q++) if (inZone[q] && open[q] && !outside[q]) added[q] = 1;
  const beside = maxFilter(added, w, h, GAP + 1);
  for (let q = 0; q < n; q++) {
    if (member[q] || !inZone[q] || !(added[q] || (near[q] && beside[q]))) continue;
    const x = q % w;
    const y = (q - x) / w;
    out[(y + y0) * width + x + x0] = FRAME;
  }
}

/** Whether so much of the zone's free part stands off the wall that a frame's end cannot be told from it. */
function busyZone(standing: Float32Array, free: (q: number) => boolean, n: number): boolean {
  let zone = 0;
  let off = 0;
  for (let q = 0; q < n; q++) {
    if (!free(q)) continue;
    zone++;
    if (standing[q]) off++;
  }
  return off > BUSY_ZONE * zone;
}

/**
 * A far lens inside the member's mask that shows the wall through it: the member's pixels in the zone, outside the
 * face's oval, of the wall's own colour nearby, in pieces the member encloses (not touching the wall outside or the
 * zone's edge, where grey hair by a grey wall would lie). On a studio backdrop the lens showed the old white wall
 * (a blind panel: broken); marked SEE_THROUGH in `out`.
 */
function seeThrough(
  out: Uint8Array,
  image: RgbImage,
  oval: Uint8Array,
  rect: { x0: number; y0: number; w: number; h: number },
  zone: { inZone: Uint8Array; member: Float32Array; onBorder: Uint8Array; wall: Float32Array },
  d: number,
): void {
  // The wall's colour from as far as across a lens.
  const r = Math.max(2, Math.round(LENS_REACH * d));
  const { x0, y0, w, h } = rect;
  const { inZone, member, onBorder, wall } = zone;
  const { width, data } = image;
  const n = w * h;
  const at = (q: number) => ((y0 + Math.floor(q / w)) * width + x0 + (q % w)) * 3;
  const weight = boxMean(wall, w, h, r);
  const means = [0, 1, 2].map((c) =>
    boxMean(
      wall.map((v, q) => v * data[at(q) + c]!),
      w,
      h,
      r,
    ),
  );
  const like = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    if (!inZone[q] || !member[q] || oval[at(q) / 3] || weight[q]! < 0.05) continue;
    const k = weight[q]!;
    const i = at(q);
    const dist = Math.hypot(
      data[i]! - means[0]![q]! / k,
      data[i + 1]! - means[1]![q]! / k,
      data[i + 2]! - means[2]![q]! / k,
    );
    if (dist < LENS_CLOSE) like[q] = 1;
  }
  const { labels, areas } = components({ width: w, height: h, data: like }, 0.5);
  // The wall outside: what is not the member, joined to the zone's edge (a hole in the mask inside the lens is not).
  const wallOutside = floodFill(
    w,
    h,
    (q) => onBorder[q] === 1 || inZone[q] === 0,
    (q) => !member[q],
  );
  const open = new Uint8Array(areas.length);
  for (let q = 0; q < n; q++) {
    const l = labels[q]!;
    if (l === 0) continue;
    const x = q % w;
    const y = (q - x) / w;
    const outsideMember = (p: number) => wallOutside[p] === 1;
    if (
      onBorder[q] ||
      x === 0 ||
      y === 0 ||
      x === w - 1 ||
      y === h - 1 ||
      outsideMember(q - 1) ||
      outsideMember(q + 1) ||
      outsideMember(q - w) ||
      outsideMember(q + w)
    )
      open[l] = 1;
  }
  for (let q = 0; q < n; q++) {
    const l = labels[q]!;
    if (l !== 0 && !open[l] && areas[l]! >= MIN_FRAME * d * d) out[at(q) / 3] = SEE_THROUGH;
  }
}
