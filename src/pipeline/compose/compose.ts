import { sampleGrid } from '../geometry/grid-sample.js';
import type { HeadWarp } from '../geometry/head-warp.js';
import type { BackgroundSource } from '../lighting/background.js';
import { linearToSrgbByte, SRGB_TO_LINEAR } from '../lighting/colour.js';
import type { PersonLight } from '../lighting/person-relight.js';
import { boxBlur, upsample } from '../style/filters.js';
import type { RgbImage } from '../types.js';
import { type PaleSkin, resaturate, skinCells } from './pale-skin.js';

/**
 * The portrait's last step: the turned person, relit, over the treated background plate.
 *
 *     out = alpha * relight(person) + (1 - alpha) * background
 *
 * The relight gain lives on the photo's surface, so it is first carried to where each grid cell of the output came
 * from (the warp's inverse map), then read per pixel and applied in linear light. The background plate holds no
 * person, so wherever the person layer is transparent the background shows and nothing else. A blurred background
 * comes small (`factor` photo pixels per pixel) and is upsampled here, in the same pass.
 */
export function composePortrait(
  person: HeadWarp,
  light: PersonLight,
  background: BackgroundSource,
  highlights: Highlights = { knee: DEFAULT_KNEE },
): RgbImage {
  const { width, height, data } = person.image;
  const { width: gw, height: gh, cell } = light;
  const gain = outputGain(person, light);
  const bg = background.image.data;
  const bf = background.factor;
  const bw = background.image.width;
  const bh = background.image.height;
  const out = new Uint8Array(data.length);
  const alpha = person.alpha;
  const lut = gainTable();
  const flat = light.flattenShadow > 0 ? photoLight(person.image) : undefined;
  // Where the flattening applies (the head, not a wall the frame turns along with it), per output cell and per row.
  const flatWhere = flat && light.flattenWhere ? outputGrid(person, light, light.flattenWhere, 1) : undefined;
  const flatRow = new Float32Array(gw);
  const pale = highlights.pale;
  const scratch = new Float32Array(3);
  // Per output row: the gain grid's two rows interpolated once (gw cells x 3), and likewise a small background's.
  const gainRow = new Float32Array(gw * 3);
  const bgRow = new Float32Array(bw * 3);
  // Per column: which grid cell and background pixel it falls between, and where.
  const gc0 = new Int32Array(width);
  const gc1 = new Int32Array(width);
  const gtx = new Float32Array(width);
  const bc0 = new Int32Array(width);
  const bc1 = new Int32Array(width);
  const btx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const fx = Math.min(gw - 1, Math.max(0, (x + 0.5) / cell - 0.5));
    gc0[x] = Math.floor(fx) * 3;
    gc1[x] = Math.min(gw - 1, Math.floor(fx) + 1) * 3;
    gtx[x] = fx - Math.floor(fx);
    const bx = Math.min(bw - 1, Math.max(0, (x + 0.5) / bf - 0.5));
    bc0[x] = Math.floor(bx) * 3;
    bc1[x] = Math.min(bw - 1, Math.floor(bx) + 1) * 3;
    btx[x] = bx - Math.floor(bx);
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.min(gh - 1, Math.max(0, (y + 0.5) / cell - 0.5));
    const r0 = Math.floor(fy) * gw * 3;
    const r1 = Math.min(gh - 1, Math.floor(fy) + 1) * gw * 3;
    const ty = fy - Math.floor(fy);
    for (let k = 0; k < gw * 3; k++) gainRow[k] = gain[r0 + k]! + (gain[r1 + k]! - gain[r0 + k]!) * ty;
    if (flatWhere) {
      const f0 = r0 / 3;
      const f1 = r1 / 3;
      for (let k = 0; k < gw; k++) flatRow[k] = flatWhere[f0 + k]! + (flatWhere[f1 + k]! - flatWhere[f0 + k]!) * ty;
    }
    if (bf !== 1) {
      const by = Math.min(bh - 1, Math.max(0, (y + 0.5) / bf - 0.5));
      const s0 = Math.floor(by) * bw * 3;
      const s1 = Math.min(bh - 1, Math.floor(by) + 1) * bw * 3;
      const sy = by - Math.floor(by);
      for (let k = 0; k < bw * 3; k++) bgRow[k] = bg[s0 + k]! + (bg[s1 + k]! - bg[s0 + k]!) * sy;
    }
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      const i = o * 3;
      const a = alpha[o]!;
      let b0: number;
      let b1: number;
      let b2: number;
      if (bf === 1) {
        b0 = bg[i]!;
        b1 = bg[i + 1]!;
        b2 = bg[i + 2]!;
      } else {
        const p = bc0[x]!;
        const q = bc1[x]!;
        const t = btx[x]!;
        b0 = bgRow[p]! + (bgRow[q]! - bgRow[p]!) * t;
        b1 = bgRow[p + 1]! + (bgRow[q + 1]! - bgRow[p + 1]!) * t;
        b2 = bgRow[p + 2]! + (bgRow[q + 2]! - bgRow[p + 2]!) * t;
      }
      if (a <= 0.002) {
        out[i] = b0 + 0.5;
        out[i + 1] = b1 + 0.5;
        out[i + 2] = b2 + 0.5;
        continue;
      }
      const p = gc0[x]!;
      const q = gc1[x]!;
      const t = gtx[x]!;
      let g0 = gainRow[p]! + (gainRow[q]! - gainRow[p]!) * t;
      let g1 = gainRow[p + 1]! + (gainRow[q + 1]! - gainRow[p + 1]!) * t;
      let g2 = gainRow[p + 2]! + (gainRow[q + 2]! - gainRow[p + 2]!) * t;
      if (flat) {
        const share = light.flattenShadow * (flatWhere ? flatRow[p / 3]! + (flatRow[q / 3]! - flatRow[p / 3]!) * t : 1);
        const f = flattenInShadow(flat, o, g0, g1, g2, share);
        g0 *= f;
        g1 *= f;
        g2 *= f;
      }
      // Most pixels are no washed skin of the face: the cheap test first.
      if (pale && pale.skin[o]! > 0) {
        scratch[0] = g0;
        scratch[1] = g1;
        scratch[2] = g2;
        const gl = 0.2126 * g0 + 0.7152 * g1 + 0.0722 * g2;
        resaturate(
          pale,
          o,
          SRGB_TO_LINEAR[data[i]!]!,
          SRGB_TO_LINEAR[data[i + 1]!]!,
          SRGB_TO_LINEAR[data[i + 2]!]!,
          gl,
          scratch,
        );
        g0 = scratch[0]!;
        g1 = scratch[1]!;
        g2 = scratch[2]!;
      }
      const k = highlightRollOff(data[i]!, data[i + 1]!, data[i + 2]!, g0, g1, g2, highlights, o);
      g0 *= k;
      g1 *= k;
      g2 *= k;
      const l0 = lut[Math.min(GAIN_STEPS, Math.round(g0 * GAIN_SCALE)) * 256 + data[i]!]!;
      const l1 = lut[Math.min(GAIN_STEPS, Math.round(g1 * GAIN_SCALE)) * 256 + data[i + 1]!]!;
      const l2 = lut[Math.min(GAIN_STEPS, Math.round(g2 * GAIN_SCALE)) * 256 + data[i + 2]!]!;
      out[i] = a * l0 + (1 - a) * b0 + 0.5;
      out[i + 1] = a * l1 + (1 - a) * b1 + 0.5;
      out[i + 2] = a * l2 + (1 - a) * b2 + 0.5;
    }
  }
  return { data: out, width, height, channels: 3 };
}

/**
 * Light added to skin that is already bright must not burn it to flat white (a blind panel saw white patches on
 * foreheads where the photo's own light was misjudged and the gain stayed high). Above `knee` (linear luminance:
 * the engine passes a little over the brightest of the photo's own face, facePeak) the brightened luminance rolls
 * off, gaining at most HEADROOM more, as film's shoulder does; a pixel never ends darker than it was.
 */
export interface Highlights {
  knee: number;
  /**
   * Per output pixel, the share of a burnt highlight's brightness a darkening light keeps (burntHighlights); left
   * out, read from each pixel alone.
   */
  burnt?: Float32Array | undefined;
  /** Skin the photo washed pale, given back its colour where the light darkens it (PaleSkin); left out, none. */
  pale?: PaleSkin | undefined;
}

const DEFAULT_KNEE = 0.6;
/** Where a pixel counts as burnt: its darkest channel from BURNT_FROM, fully at BURNT_AT (sRGB bytes). */
const BURNT_FROM = 225;
const BURNT_AT = 250;
const HEADROOM = 0.12;

function highlightRollOff(
  r: number,
  g: number,
  b: number,
  g0: number,
  g1: number,
  g2: number,
  highlights: Highlights,
  o: number,
): number {
  const { knee } = highlights;
  const lr = SRGB_TO_LINEAR[r] ?? 0;
  const lg = SRGB_TO_LINEAR[g] ?? 0;
  const lb = SRGB_TO_LINEAR[b] ?? 0;
  let k = 1;
  // A highlight the photo burnt to white has no detail left: darkened, it turns into a flat grey patch (a blind
  // panel saw grey discs on foreheads). Near-white pixels keep most of their brightness.
  const gm = (g0 + g1 + g2) / 3;
  if (gm < 1) {
    const w = highlights.burnt ? (highlights.burnt[o] ?? 0) : burntShare(Math.min(r, g, b));
    if (w > 0) k = (gm + (1 - gm) * w) / gm;
  }
  const lit = (0.2126 * lr * g0 + 0.7152 * lg * g1 + 0.0722 * lb * g2) * k;
  if (lit > knee) {
    const before = 0.2126 * lr + 0.7152 * lg + 0.0722 * lb;
    const rolled = knee + HEADROOM * (1 - Math.exp(-(lit - knee) / HEADROOM));
    k *= Math.max(Math.min(1, before / lit), rolled / lit);
  }
  // No channel past white: a channel already at the top (a warm highlight's red) cannot rise, and raising the other
  // two alone turns the highlight into a flat bluish white. All three are held back together, keeping the hue.
  const top = Math.max(lr * g0, lg * g1, lb * g2) * k;
  return top > 1 ? k / top : k;
}

/** How much of a pixel's brightness counts as burnt to white, by its darkest channel: 0 to BURNT_FROM, 0.8 from BURNT_AT. */
function burntShare(low: number): number {
  return low > BURNT_FROM ? Math.min(1, (low - BURNT_FROM) / (BURNT_AT - BURNT_FROM)) * 0.8 : 0;
}

/**
 * The burnt share of each pixel of the turned person (output pixels), averaged over its neighbours where the
 * member's skin is (`skin`: 0..1 over the photo, width x height as the person). A forehead the photo burnt is white
 * speckled with near-white: read pixel by pixel, a shadow laid over it darkened the near-white and left the white,
 * pale specks scattered over a brown forehead (every split and rembrandt of a 300 px photo, rated broken).
 * Averaged, the burnt patch keeps its brightness as one. Off the skin each pixel keeps its own share: averaged
 * there, a hat's white stripes lost their contrast. Undefined where no skin is burnt (each pixel is then read
 * alone, as the same share).
 *
 * The average and the skin are taken on the warp's grid (cells of a few pixels, softened over a cell round them)
 * and read bilinearly per pixel: both are soft, and turning the skin mask or blurring the shares pixel by pixel
 * cost more than the rest of the light.
 */
export function burntHighlights(person: HeadWarp, skin: Float32Array): Float32Array | undefined {
  const { width, height, data } = person.image;
  const { width: gw, height: gh, cell } = person.grid;
  const own = new Float32Array(width * height);
  const sum = new Float32Array(gw * gh);
  const count = new Float32Array(gw * gh);
  const cellX = new Int32Array(width);
  for (let x = 0; x < width; x++) cellX[x] = Math.min(gw - 1, Math.floor(x / cell));
  let any = false;
  for (let y = 0; y < height; y++) {
    const row = Math.min(gh - 1, Math.floor(y / cell)) * gw;
    for (let x = 0; x < width; x++) {
      const o = y * width + x;
      const c = row + cellX[x]!;
      count[c]!++;
      const low = Math.min(data[o * 3]!, data[o * 3 + 1]!, data[o * 3 + 2]!);
      if (low <= BURNT_FROM) continue;
      const w = burntShare(low);
      own[o] = w;
      sum[c]! += w;
      any = true;
    }
  }
  if (!any) return undefined;
  // The skin where each cell of the grid came from (the warp's inverse map), and whether any burnt cell is skin.
  const cells = skinCells(person, skin);
  let burntSkin = false;
  for (let o = 0; o < gw * gh; o++) {
    sum[o] = sum[o]! / Math.max(1, count[o]!);
    if (sum[o]! > 0 && cells[o]! > 0.5) burntSkin = true;
  }
  if (!burntSkin) return undefined;
  const mean = boxBlur(sum, gw, gh, 1, 2);
  // Both grids read bilinearly per pixel.
  const skinAt = upsample(cells, gw, gh, cell, width, height);
  const meanAt = upsample(mean, gw, gh, cell, width, height);
  for (let o = 0; o < own.length; o++) {
    const t = Math.min(1, Math.max(0, skinAt[o]!));
    if (t > 0) own[o] = t * meanAt[o]! + (1 - t) * own[o]!;
  }
  return own;
}

/**
 * The knee for a photo: its face's bright skin (the 90th percentile of linear luminance over the middle of the
 * face box) plus a fifth, kept within 0.35..0.85, so the new light may brighten a face up to a little over its own
 * highlights, not beyond.
 */
export function facePeak(image: RgbImage, face: { x: number; y: number; width: number; height: number }): Highlights {
  const { width, height, data } = image;
  const x0 = Math.max(0, Math.floor(face.x + face.width * 0.2));
  const x1 = Math.min(width, Math.ceil(face.x + face.width * 0.8));
  const y0 = Math.max(0, Math.floor(face.y + face.height * 0.2));
  const y1 = Math.min(height, Math.ceil(face.y + face.height * 0.85));
  const values: number[] = [];
  for (let y = y0; y < y1; y += 2) {
    for (let x = x0; x < x1; x += 2) {
      const i = (y * width + x) * 3;
      values.push(
        0.2126 * (SRGB_TO_LINEAR[data[i] ?? 0] ?? 0) +
          0.7152 * (SRGB_TO_LINEAR[data[i + 1] ?? 0] ?? 0) +
          0.0722 * (SRGB_TO_LINEAR[data[i + 2] ?? 0] ?? 0),
      );
    }
  }
  if (values.length === 0) return { knee: DEFAULT_KNEE };
  values.sort((a, b) => a - b);
  const p90 = values[Math.floor(values.length * 0.9)] ?? DEFAULT_KNEE;
  return { knee: Math.min(0.85, Math.max(0.35, p90 * 1.2)) };
}

/** Gains up to GAIN_MAX in steps of 1/GAIN_SCALE (0.5%, under what banding would show). */
const GAIN_MAX = 4;
const GAIN_SCALE = 200;
const GAIN_STEPS = GAIN_MAX * GAIN_SCALE;
let table: Uint8Array | undefined;

/** sRGB byte -> sRGB byte after a linear-light gain, for every quantised gain: one lookup per channel. 200 KB, once. */
function gainTable(): Uint8Array {
  if (!table) {
    table = new Uint8Array((GAIN_STEPS + 1) * 256);
    for (let q = 0; q <= GAIN_STEPS; q++) {
      for (let v = 0; v < 256; v++) table[q * 256 + v] = linearToSrgbByte((SRGB_TO_LINEAR[v] ?? 0) * (q / GAIN_SCALE));
    }
  }
  return table;
}

/** The gain grid carried to output positions: cell q reads the photo's gain at q + inverse(q). */
function outputGain(person: HeadWarp, light: PersonLight): Float32Array {
  return outputGrid(person, light, light.gain, 3);
}

/** A grid over the photo (the light's cells, `channels` values each) read where each output cell came from. */
function outputGrid(person: HeadWarp, light: PersonLight, grid: Float32Array, channels: number): Float32Array {
  const { width: gw, height: gh, cell } = light;
  const inv = person.inverse;
  const out = new Float32Array(grid.length);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const o = gy * gw + gx;
      sampleGrid(
        grid,
        channels,
        gw,
        gh,
        gx + (inv[o * 2] ?? 0) / cell,
        gy + (inv[o * 2 + 1] ?? 0) / cell,
        out,
        o * channels,
      );
    }
  }
  return out;
}

/** The relight's luminance gain where each output cell came from, as grey (0.4..2.5 on a log scale), for the debug sheet. */
export function gainImage(person: HeadWarp, light: PersonLight): RgbImage {
  const gain = outputGain(person, light);
  const n = light.width * light.height;
  const data = new Uint8Array(n * 3);
  const lo = Math.log(0.4);
  const hi = Math.log(2.5);
  for (let o = 0; o < n; o++) {
    for (let c = 0; c < 3; c++) {
      const v = (Math.log(Math.max(0.4, Math.min(2.5, gain[o * 3 + c] ?? 1))) - lo) / (hi - lo);
      data[o * 3 + c] = Math.round(v * 255);
    }
  }
  return { data, width: light.width, height: light.height, channels: 3 };
}

/** The person's linear luminance per pixel and its blur over about 1/80 of the side: the photo's own light. */
interface PhotoLight {
  luminance: Float32Array;
  surround: Float32Array;
}

function photoLight(image: RgbImage): PhotoLight {
  const { width, height, data } = image;
  const luminance = new Float32Array(width * height);
  for (let o = 0; o < luminance.length; o++) {
    luminance[o] =
      0.2126 * SRGB_TO_LINEAR[data[o * 3]!]! +
      0.7152 * SRGB_TO_LINEAR[data[o * 3 + 1]!]! +
      0.0722 * SRGB_TO_LINEAR[data[o * 3 + 2]!]!;
  }
  return { luminance, surround: boxBlur(luminance, width, height, Math.max(1, Math.round(width / 80)), 3) };
}

/**
 * The factor that flattens a pixel brighter than its surround toward it where the gain darkens (a shadow), by
 * `share` at full shadow (a gain of 0.3 or less): in a real shadow the photo's own highlights are gone, and left in
 * they read as bright blobs on a dirty cheek. Darker detail (eyes, brows, pores' shade) is kept.
 */
function flattenInShadow(flat: PhotoLight, o: number, g0: number, g1: number, g2: number, share: number): number {
  const gain = 0.2126 * g0 + 0.7152 * g1 + 0.0722 * g2;
  if (gain >= 1) return 1;
  const l = flat.luminance[o]!;
  const b = flat.surround[o]!;
  if (l <= b || l <= 1e-4) return 1;
  const shadow = Math.min(1, (1 - gain) / 0.7);
  return (b + (l - b) * (1 - share * shadow)) / l;
}
