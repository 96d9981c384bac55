import { boxMean } from '../segment/guided-filter.js';
import { maxFilter, resizePlane } from '../segment/plane.js';
import { smoothstep } from '../style/filters.js';

/**
 * A cut-out's outline where it is not hair, as a studio photo has it: smooth and crisp. The person's alpha is soft
 * there for two reasons that both read as a haze on a backdrop: the enlargement blurs it on purpose (for hair, see
 * softenForEnlargement), and an enlarged web photo's own edge is a band several pixels wide that is neither the
 * wall nor the shirt. Over the photo's own background the haze is the photo's; on studio blue a dark shirt came out
 * with a grey glow along the shoulders and a shirt's edge as a lumpy white fringe (blind panels: broken).
 * The outline is smoothed (two box passes over about 1.5 times the enlargement, which irons out the rim check's
 * bites and bumps) and cut again a little inside its middle (CHOKE), over a ramp of a few pixels. What the mask is
 * sure of stays whole. Hair keeps its soft alpha: within about HAIR_REACH of the side from the hair mask the two
 * are blended.
 */
const CHOKE = 0.6;
const RAMP = 0.12;
const HAIR_REACH = 0.012;
/**
 * Hair narrower than about twice this many quarter-size cells (16 px at 1024) does not count: the parts model
 * draws a thin band of "hair" along the rim of an ear, and the ear's edge stayed soft, a lilac fringe on studio blue.
 */
const HAIR_THIN = 2;
/** How far above its smoothed outline a pixel's alpha stands where it is a thin part of the member (kept as is). */
const THIN_LOW = 0.1;
const THIN_HIGH = 0.25;
/** Alpha from which the mask is sure of the member (kept as is), fully from SURE_HIGH. */
const SURE_LOW = 0.9;
const SURE_HIGH = 0.98;
/**
 * The smoothing runs at half size and the hair's nearness at a quarter (both are smooth fields, read back
 * bilinearly): at full size the four box passes cost about 110 ms a portrait at 1024 px.
 */
const SMOOTH_SCALE = 2;
const HAIR_SCALE = 4;

export function crispOutline(
  alpha: Float32Array,
  hair: Float32Array,
  width: number,
  height: number,
  enlargement: number,
): Float32Array {
  const n = width * height;
  const smooth = blurredAt(alpha, width, height, SMOOTH_SCALE, Math.max(2, Math.round(1.5 * enlargement)));
  const hairy = new Float32Array(n);
  for (let o = 0; o < n; o++) hairy[o] = (hair[o] ?? 0) > 0.3 ? 1 : 0;
  const reach = Math.max(HAIR_SCALE, Math.round(Math.max(width, height) * HAIR_REACH));
  const nearHair = blurredAt(hairy, width, height, HAIR_SCALE, reach, HAIR_THIN);
  const out = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    const a = alpha[o] ?? 0;
    const h = Math.min(1, 2.5 * (nearHair[o] ?? 0));
    // What the mask is sure of stays, and so does what stands well above its smoothed outline (a thin part: a glasses
    // frame's end, a finger): smoothed, it would thin away (the far rim of glasses past a turned cheek faded).
    const s = smooth[o] ?? 0;
    const crisp = Math.max(
      smoothstep(CHOKE - RAMP, CHOKE + RAMP, s),
      a * smoothstep(SURE_LOW, SURE_HIGH, a),
      a * smoothstep(THIN_LOW, THIN_HIGH, a - s),
    );
    out[o] = h * a + (1 - h) * crisp;
  }
  return out;
}

/** `values` blurred by two box passes of radius `r` (full-size pixels), computed on a copy `scale` times smaller. */
function blurredAt(
  values: Float32Array,
  width: number,
  height: number,
  scale: number,
  r: number,
  open = 0,
): Float32Array {
  const sw = Math.max(1, Math.round(width / scale));
  const sh = Math.max(1, Math.round(height / scale));
  let small = resizePlane({ width, height, data: values }, sw, sh).data;
  if (open > 0) small = opened(small, sw, sh, open);
  const rs = Math.max(1, Math.round(r / scale));
  const blurred = boxMean(boxMean(small, sw, sh, rs), sw, sh, rs);
  return resizePlane({ width: sw, height: sh, data: blurred }, width, height).data;
}

/** `mask` (0..1, halved at 0.5) with what is narrower than twice `r` cells taken away: shrunk by r and grown back. */
function opened(mask: Float32Array, w: number, h: number, r: number): Float32Array {
  const outside = new Float32Array(mask.length);
  for (let o = 0; o < mask.length; o++) outside[o] = (mask[o] ?? 0) > 0.5 ? 0 : 1;
  const grownOutside = maxFilter(outside, w, h, r);
  for (let o = 0; o < mask.length; o++) grownOutside[o] = 1 - (grownOutside[o] ?? 0);
  return maxFilter(grownOutside, w, h, r);
}
