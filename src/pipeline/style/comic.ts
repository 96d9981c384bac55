import type { ComicLook, Rgb8 } from '../../core/style.js';
import type { RgbImage } from '../types.js';
import {
  bilateral,
  boxBlur,
  gaussianBlur,
  image,
  isMonochrome,
  type Plane,
  resize,
  rgbPlanes,
  sideBlur,
  skinWeight,
  smallGaussian,
  smoothstep,
  upsample,
} from './filters.js';

/**
 * Comic / cartoon (cel) look. A blind panel called the first version a cheap filter (posterised blotches on faces,
 * a halftone rash on skin, a background of smeared blobs) and the second one broken: a glow ring round hair, hats
 * and hands, a dot grid over the background, black scribbles over knitwear and shirts, a brown line round the jaw.
 * This one is built the way a well-made cartoon filter is:
 * - everything is worked out at a working size of `WORK_SIDE` px (flat areas and lines lose nothing there) and
 *   drawn at full size in one pass, where the lines are thresholded, so strokes are sharp rather than an upscale's
 *   blur;
 * - the picture is drawn uncut, as one scene: outside the member (the mask says where) and away from the head the
 *   photo's own scene, gently flattened, keeping its detail and never banded or dotted; along the member's outline
 *   the photo's own edge, at full size. Cut out crisply against a calm blur of the background, hair came out with
 *   a sticker's jagged or lumpy edge and leaves the mask took for hair stuck to the head as blobs (a blind paired
 *   panel preferred the uncut drawing 21 to 4). Only a pop-art `ground` (one flat colour, with an even halftone
 *   screen as a screen print has) cuts the subject out, softly where the mask is unsure of its edge;
 * - the subject is flattened by an edge-keeping bilateral filter, harder away from the face, and then smoothed as
 *   a beauty filter would (skin, and texture on cloth and hair), so skin, cloth and hair become smooth areas while
 *   eyes, lips and collars stay sharp;
 * - the tone is quantised softly, on luminance only (the hue and the person's skin tone are kept; dark skin stays
 *   dark), most of the way on cloth and hair and only a little on skin: flat cel areas, and a cel-shaded hint on
 *   faces with no patches; darks off the skin are never lifted and their tint is muted, as an inker fills them;
 *   a pop-art `palette` maps the tone through its colours as a smooth gradient;
 * - ink: lines from a difference of Gaussians of the flattened luminance (the dark side of edges, where an inker
 *   draws) where an edge is strong against the texture around it, cleaned of specks, held back hard on cloth and
 *   thinner on skin; none along the outline alone;
 * - on the face, the photo's full-size detail beyond skin texture is laid back, so eyes, brows, teeth and lips
 *   stay crisp and the face recognisable; on textured hair and cloth only its larger steps (strands, a print).
 */
// 384 px: the whole look cost about 185 ms (CPU) at 1024 px on the 2-core machine at 448 px and 125 ms at 384,
// against a 150 ms budget; lines are drawn at full size and the features' and the outline's full-size detail is
// laid back, so the two look the same.
const WORK_SIDE = 384;

/**
 * The comic look `c` on `src`. `alpha` is the member's mask (undefined: no cut, the picture drawn as one scene),
 * `face` where the face is; `softGround`, for a pop-art look drawn uncut, is the mask its ground is laid behind
 * softly (see groundBehind).
 */
export function applyComic(
  src: RgbImage,
  c: ComicLook,
  alpha: ArrayLike<number> | undefined,
  face?: ArrayLike<number>,
  softGround?: ArrayLike<number>,
): RgbImage {
  const { width, height } = src;
  const k = Math.min(1, WORK_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * k));
  const h = Math.max(1, Math.round(height * k));
  const n = w * h;
  const small = k < 1 ? resize(src, w, h) : src;
  const mask: Plane | undefined = alpha ? shrinkPlane(alpha, width, height, w, h) : undefined;
  // Only a pop-art ground (one flat colour behind the member) cuts the member out. Otherwise the picture is drawn
  // as one scene, the mask only saying where the scene is: cut out against a calm blur of the background, hair
  // edges came out jagged or lumpy as a sticker's, and leaves the mask took for hair stuck to the head as blobs (a
  // blind paired panel preferred the uncut drawing wherever the cut-out showed).
  const subject = c.ground ? mask : undefined;
  // Sizes below are in px at 512.
  const ws = Math.max(w, h) / 512;
  const planes = rgbPlanes(small);
  const [R, G, B] = planes;
  // Skin (on the subject): gentler flattening and quantisation, thinner lines.
  // A black-and-white photo has no chroma to find skin by: every face read as cloth, flattened hard and banded
  // into grey blotches. There the whole subject gets most of skin's gentler treatment.
  const skin = isMonochrome(small) ? new Float32Array(n).fill(0.7) : skinWeight(R, G, B);
  if (face) faceAsSkin(skin, planes, shrinkPlane(face, width, height, w, h), w, h, ws);
  if (mask) for (let p = 0; p < n; p++) skin[p] = skin[p]! * smoothstep(0.3, 0.8, mask[p]!);
  const skinSoft = gaussianBlur(skin, w, h, 2 * ws);
  // Near the face (skin, and the eyes and lips within it): cloth and hair are what is far from it.
  const near = gaussianBlur(skin, w, h, 6 * ws);
  const head = gaussianBlur(skin, w, h, 20 * ws);
  // Uncut (no mask: the whole picture is drawn as one scene), away from the head lies the photo's background as
  // much as the member's clothes, and flattened and banded as cloth it became blotches and halos, a smeared,
  // posterised background round a waxy face (a blind panel rated every such tile broken). There it is only
  // gently flattened and barely banded: the photo's own scene, softened, behind an inked face.
  // The mask, where there is one, says too that what lies just beyond the member's outline is scene: drawn as the
  // member (banded, flattened, from the working size) it made a pale or dark ring round the head and shoulders.
  const cutLine = mask && !subject ? crisp(mask) : undefined;
  const { scene, outside } = subject ? { scene: undefined, outside: undefined } : sceneWeight(head, cutLine, w, h, ws);

  // Behind the subject: a background of its own, from the photo's background pixels only, and the subject's
  // outline as a signed distance, which cuts the subject out at full size.
  const back = subject ? calmBackground(planes, subject, w, h, ws) : undefined;
  const edge = subject ? outline(subject, w, h, ws) : undefined;
  // Before the edge pixels take the sure subject's colour, which smooths away hair's texture where the mask is unsure.
  const inkTone = darkTextureTone(lumaOf(R, G, B), skinSoft, w, h, ws);
  if (subject) defringe(planes, subject, w, h, ws);
  flatten(planes, subject, near, scene, w, h, ws);
  // Lines from the flattened picture before the skin is softened, so eyes, brows and lips keep theirs.
  const ink = inkLines(lumaOf(R, G, B), mask, skinSoft, near, w, h, ws, c.ink);
  const feature = soften(planes, skinSoft, near, w, h, ws);
  deepen(planes, inkTone);
  // Textured hair and cloth keep their detail as the features do: flattened, short hair on top of the head read as
  // a felt cap beside the textured hair at the temples, and a printed shirt's pattern as melted blotches (blind
  // panels). Away from the head only a large step is laid back (a print, a seam), not a knit's sheen, which came
  // back as white specks over a black T-shirt. A pop-art palette is a screen print's flat inks, where only the hair
  // round the face keeps its strands: every small step of the photo's detail became a large step of the palette's
  // colour, creases as scribbles.
  const core = new Float32Array(n);
  const rim = cutLine ? outlineBand(cutLine, w, h, ws) : undefined;
  for (let p = 0; p < n; p++) {
    const onHead = smoothstep(0.05, 0.2, head[p]!);
    feature[p] = Math.max(feature[p]!, 0.8 * inkTone.texture[p]! * (c.palette ? onHead : 1));
    core[p] = CORE + (CLOTH_CORE - CORE) * (1 - onHead);
    // Uncut, the scene away from the head keeps the photo's own detail: drawn from the working size alone, hair,
    // hands and the background came out as one soft smear.
    if (scene && !c.palette) {
      const k = scene[p]!;
      feature[p] = Math.max(feature[p]!, 0.9 * k);
      core[p] = core[p]! + (SCENE_CORE - core[p]!) * k;
    }
    // Drawn uncut, the member's outline is the photo's own edge: from the working size alone it came out as a soft
    // grey fringe, a blurred halo round caps, hair and shoulders (a blind paired panel), where the cut-out's was crisp.
    // All of its detail comes back there, uncored: cored, a softer step of a few levels still read as a glow.
    // Nor is it banded, as what lies outside the member is not (see `sceneWeight`).
    if (rim) {
      const k = rim[p]!;
      feature[p] = Math.max(feature[p]!, k);
      core[p] = core[p]! * (1 - k);
      if (outside) outside[p] = Math.max(outside[p]!, k);
    }
  }
  const luma = lumaOf(R, G, B);

  // The bands are placed by a softened luminance: the flattened one still has small steps, and a band edge
  // steepens them into a jagged, stepped contour across a cheek.
  // Off the face they are placed by a wider one: the shading of a sweater or a shirt then breaks into a few large
  // cel-shadow shapes, where the narrow one traced every fold and crease into camouflage blotches (a blind panel).
  // Drawn uncut with a mask, each side of the member's outline is blurred on its own: a band placed by the dark
  // cap and the pale wall together stepped along the outline into a grey fringe and a white line round the head.
  const placed = sideBlur(luma, mask, w, h, 1.5 * ws);
  const broad = sideBlur(luma, mask, w, h, 5 * ws);
  for (let p = 0; p < n; p++) placed[p] = placed[p]! + (broad[p]! - placed[p]!) * (1 - smoothstep(0.2, 0.5, near[p]!));

  tone({ R, G, B, luma, placed, skinSoft, texture: inkTone.texture, scene, outside }, c);
  if (back) paintBackground(back, c);
  const drawn = compose(src, { colour: planes, back, edge, ink, feature, core, flatLuma: luma }, w, h, c);
  return softGround && c.ground ? groundBehind(drawn, softGround, c.ground, c.halftone) : drawn;
}

/**
 * Pop art drawn uncut (the cut-out was not clean) with its ground laid softly behind the member: the mask, blurred
 * a little (GROUND_FADE), leads from the drawing to the ground and its even screen.
 * Drawn through the palette alone, a busy background became blotches of the member's own colours round the head,
 * which raters called "a thermal camera".
 */
function groundBehind(drawn: RgbImage, alpha: ArrayLike<number>, ground: Rgb8, halftone: number): RgbImage {
  const { width, height } = drawn;
  const d = drawn.data;
  // The blur is worked out at a quarter of the size and scaled back up (bilinear: no steps at full size).
  const f = 4;
  const sw = Math.ceil(width / f);
  const sh = Math.ceil(height / f);
  const small = gaussianBlur(
    shrinkPlane(alpha, width, height, sw, sh),
    sw,
    sh,
    (GROUND_FADE * Math.max(width, height)) / f,
  );
  const soft = upsample(small, sw, sh, f, width, height);
  const period = halftone * (Math.max(width, height) / 1024);
  const out = new Uint8Array(d.length);
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const keep = smoothstep(0.25, 0.75, soft[p]!);
      const g = period >= 3 ? screen(x, y, period) : 1;
      for (let c = 0; c < 3; c++) {
        const i = p * 3 + c;
        out[i] = Math.round(d[i]! * keep + ground[c]! * g * (1 - keep));
      }
    }
  }
  return image(out, width, height);
}

/**
 * The mask's outline where it crosses one half, as a crisp mask: a soft mask (hair, a blurred shoulder) would
 * otherwise widen the outline's band, and the scene, into the member.
 */
function crisp(mask: Plane): Plane {
  const out = new Float32Array(mask.length);
  for (let p = 0; p < mask.length; p++) out[p] = mask[p]! >= 0.5 ? 1 : 0;
  return out;
}

/** Along the mask's outline (1 on it, 0 a few working px either side). */
function outlineBand(cutLine: Plane, w: number, h: number, ws: number): Plane {
  const band = gaussianBlur(cutLine, w, h, 4 * ws);
  for (let p = 0; p < band.length; p++) {
    const v = band[p]!;
    band[p] = smoothstep(0.02, 0.15, v) * (1 - smoothstep(0.85, 0.98, v));
  }
  return band;
}

/**
 * How much of each pixel is scene rather than the member (0..1): far from the head, or, with a mask, outside it
 * (`outside`, softened over a few pixels so the two treatments meet without a step along the outline). Outside
 * the member nothing is banded: a band's shift follows each pixel's own tone, so where the photo blends the member
 * into the wall along a soft outline, the wall beside the member was shifted a few levels apart from the wall
 * beyond, a faint ring.
 */
function sceneWeight(
  head: Plane,
  cutLine: Plane | undefined,
  w: number,
  h: number,
  ws: number,
): { scene: Plane; outside: Plane | undefined } {
  const scene = new Float32Array(head.length);
  for (let p = 0; p < head.length; p++) scene[p] = 1 - smoothstep(0.05, 0.2, head[p]!);
  if (!cutLine) return { scene, outside: undefined };
  const outside = gaussianBlur(cutLine, w, h, 2 * ws);
  for (let p = 0; p < scene.length; p++) {
    outside[p] = 1 - smoothstep(0.15, 0.6, outside[p]!);
    scene[p] = Math.max(scene[p]!, outside[p]!);
  }
  return { scene, outside };
}

/**
 * Skin within the face's oval, in place: a face under a warm or coloured light, or in the shade of a close-up,
 * falls outside skin's colours and was drawn as cloth, banded hard into flat orange patches across the cheeks (a
 * blind panel). Within the oval anything of a skin's hue, however saturated or dark, is skin; eyes, brows and lips
 * keep their edges as they do on any skin, through the smoothing's step test.
 */
function faceAsSkin(skin: Plane, planes: [Plane, Plane, Plane], oval: Plane, w: number, h: number, ws: number): void {
  const [R, G, B] = planes;
  const inside = gaussianBlur(oval, w, h, 2 * ws);
  for (let p = 0; p < skin.length; p++) {
    const o = inside[p]!;
    if (o < 0.01) continue;
    const cb = 128 - 0.168736 * R[p]! - 0.331264 * G[p]! + 0.5 * B[p]!;
    const cr = 128 + 0.5 * R[p]! - 0.418688 * G[p]! - 0.081312 * B[p]!;
    // Skin's hues, wider than skinWeight's: red-orange to pink, a saturated one too.
    const hue = smoothstep(124, 132, cr) * (1 - smoothstep(130, 138, cb));
    skin[p] = Math.max(skin[p]!, smoothstep(0.3, 0.9, o) * hue);
  }
}

/**
 * The subject flattened in place by the bilateral passes. They skip the background where it is replaced, and the
 * scene where it is all scene, whose detail is laid back over it anyway (each half their cost on a typical
 * portrait: drawn uncut, the comic had cost about 150 ms more at 1024 px). Away from the face they merge a wider
 * range of colour: knitwear, weave and hair texture become flat areas (clothing read as noisy scribbles), while the
 * steps between garments stay.
 * Separate functions per pass, here and below: V8 optimises a small function once, while each loop of one large
 * function is compiled on its own, which made the first renders of a worker several times slower.
 */
function flatten(
  planes: [Plane, Plane, Plane],
  subject: Plane | undefined,
  near: Plane,
  scene: Plane | undefined,
  w: number,
  h: number,
  ws: number,
): void {
  const n = w * h;
  const skip = new Uint8Array(n);
  const strength = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    skip[p] = (subject && subject[p]! < 0.02) || (scene && scene[p]! > SCENE_SKIP) ? 1 : 0;
    strength[p] = (0.5 + 0.8 * (1 - smoothstep(0.2, 0.5, near[p]!))) * (scene ? 1 - SCENE_CALM * scene[p]! : 1);
  }
  // A bilateral filter leaves a lone pixel far from its neighbours' colour as it is (none of them is in range):
  // knitwear and weave kept dark and light specks all over. A 3x3 mean first brings such outliers into range.
  for (const plane of planes) plane.set(boxBlur(plane, w, h, 1, 1));
  bilateral(planes, w, h, 3 * ws, 20, 2, strength, skip);
}

/**
 * After the bilateral passes, in place: they leave skin as patches of nearly one colour with stepped borders (more
 * on lined, older skin), which read as blotches, so skin is softened further, as a beauty filter would, into
 * smooth gradients, except where the luminance steps by more than a wrinkle does (an eye, a nostril, lips), which
 * keep their edges. Away from the face the same goes for cloth and hair, with a larger step kept: a knit or a
 * weave left as mottled texture becomes one smooth area, while a collar or a garment's edge stays.
 * Returns how much of the face is here (0..1): there the full-size pass lays back the photo's detail that the
 * working size and the smoothing took, where it is larger than skin texture, so eyes, lashes, brows, teeth and lips
 * stay crisp instead of a soft upscale (a blind panel called them smeared). Less toward the face's border: there a
 * photo's sharp edge against the soft upscale drew a brown outline round the jaw.
 */
function soften(planes: [Plane, Plane, Plane], skinSoft: Plane, near: Plane, w: number, h: number, ws: number): Plane {
  const n = w * h;
  const [R, G, B] = planes;
  const luma = lumaOf(R, G, B);
  // Two box passes of radius 2 (sigma 2 px): a third cheaper than three, and smooth enough for skin.
  const rs = Math.max(1, Math.round(2 * ws));
  const lumaSoft = boxBlur(luma, w, h, rs, 2);
  const keep = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    // Steps are weighed against the tone around them: on dark skin an eyelid or a lip line is a smaller step in
    // levels than on pale skin, and at fixed thresholds dark faces lost their eyes' shape.
    const step = Math.abs(luma[p]! - lumaSoft[p]!) / Math.min(1, Math.max(0.4, lumaSoft[p]! / 140));
    const cloth = (1 - smoothstep(0.2, 0.5, near[p]!)) * (1 - smoothstep(10, 26, step));
    keep[p] = Math.max(skinSoft[p]! * (1 - smoothstep(6, 16, step)), cloth);
  }
  const keepSoft = gaussianBlur(keep, w, h, 1 * ws);
  const feature = new Float32Array(n);
  for (let p = 0; p < n; p++) feature[p] = smoothstep(0.4, 0.7, near[p]!);
  for (const plane of planes) blend(plane, boxBlur(plane, w, h, rs, 2), keepSoft);
  return feature;
}

/**
 * Where dark hair (or a dark knit) has texture, the luminance a cartoonist would fill it with: the dark part of
 * the texture, not its mean. Short curly or salt-and-pepper hair is dark strands with a sheen between them; the
 * eye reads the whole as black hair, but flattened to its mean it became a flat grey felt cap with a black band
 * along the hairline (the band edge), which a member would never post. Returns per pixel the luminance to pull
 * toward (the local mean less most of the local spread) and how far to pull (0 on skin, on
 * flat areas and on pale ones), at the working size, measured before the flattening removes the texture.
 */
function darkTextureTone(
  luma: Plane,
  skinSoft: Plane,
  w: number,
  h: number,
  ws: number,
): { tone: Plane; pull: Plane; texture: Plane } {
  const n = w * h;
  const r = Math.max(1, Math.round(3 * ws));
  const mean = boxBlur(luma, w, h, r, 2);
  const sq = new Float32Array(n);
  for (let p = 0; p < n; p++) sq[p] = luma[p]! * luma[p]!;
  const meanSq = boxBlur(sq, w, h, r, 2);
  const tone = new Float32Array(n);
  const pull = new Float32Array(n);
  const texture = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const m = mean[p]!;
    const sd = Math.sqrt(Math.max(0, meanSq[p]! - m * m));
    tone[p] = Math.max(0, m - 0.9 * sd);
    // Texture: a spread of at least a fifth of the mean (a flat navy suit or a plain dark wall has far less).
    const textured = smoothstep(0.12, 0.3, sd / Math.max(12, m));
    texture[p] = textured * (1 - smoothstep(0.15, 0.4, skinSoft[p]!));
    pull[p] = texture[p]! * (1 - smoothstep(110, 170, m));
  }
  const soft = (a: Plane) => gaussianBlur(a, w, h, 1.5 * ws);
  return { tone: soft(tone), pull: soft(pull), texture: soft(texture) };
}

/** The flattened planes darkened toward the dark texture's tone where it applies, keeping the hue (a gain). */
function deepen(planes: [Plane, Plane, Plane], t: { tone: Plane; pull: Plane }): void {
  const [R, G, B] = planes;
  for (let p = 0; p < R.length; p++) {
    const k = t.pull[p]!;
    if (k < 0.01) continue;
    const l = 0.2126 * R[p]! + 0.7152 * G[p]! + 0.0722 * B[p]!;
    const target = Math.min(l, t.tone[p]!);
    const gain = 1 + (target / Math.max(4, l) - 1) * k;
    R[p] = R[p]! * gain;
    G[p] = G[p]! * gain;
    B[p] = B[p]! * gain;
  }
}

/** The working-size planes after the flattening, and what the tone pass reads besides them. */
interface Flat {
  R: Plane;
  G: Plane;
  B: Plane;
  luma: Plane;
  /** The luminance the bands are placed by (softened). */
  placed: Plane;
  skinSoft: Plane;
  /** Textured hair or cloth (0..1): bands there cut the texture's light and dark parts into blobs. */
  texture: Plane;
  /** Uncut, how far from the head (0..1): the scene there is barely banded. */
  scene: Plane | undefined;
  /** Drawn uncut with a mask, how far outside the member (0..1): not banded there. */
  outside: Plane | undefined;
}

/** Tone and colour of the subject at the working size, in place on R, G, B. */
function tone(f: Flat, c: ComicLook): void {
  const { R, G, B, luma, placed, skinSoft, texture, scene, outside } = f;
  const n = luma.length;
  const levels = Math.max(2, c.levels);
  const palette = c.palette;
  // A palette maps every small step of luminance to a large step of colour, so cloth's mottling showed through
  // in magenta and navy: with one, the tones go nearly all the way to their bands, as a screen print's flat inks.
  const pull = palette && palette.length > 0 ? 1 : 0.75;
  for (let p = 0; p < n; p++) {
    const l = luma[p]!;
    const s = skinSoft[p]!;
    // Soft quantisation: the band edge is a smoothstep over 30% (skin 60%) of a band, and the result is pulled
    // three quarters of the way to the band's tone, on skin only a third: flat cel areas on cloth and hair, a hint
    // of cel shading on the face (hard bands there read as blotches). Pulled further, over a narrower edge, a
    // sweater's shading became camouflage patches (a blind panel).
    const lb = placed[p]!;
    const band = (lb / 255) * (levels - 1);
    const base = Math.floor(band);
    const half = 0.15 + 0.15 * s;
    const q = Math.min(levels - 1, base + smoothstep(0.5 - half, 0.5 + half, band - base));
    const lq = (255 * q) / (levels - 1);
    let shift =
      (lq - lb) *
      (pull + (0.3 - pull) * s) *
      (1 - 0.7 * texture[p]!) *
      (scene ? 1 - SCENE_CALM * scene[p]! : 1) *
      (outside ? 1 - outside[p]! : 1);
    // Darks off the skin are never lifted by a band: an inker fills dark hair, a beard or a black coat dark. Lifted
    // to the first band's grey they read as washed felt, and the gain that lifts them multiplied a graded photo's
    // tint in its blacks into a teal slab of beard (a blind panel).
    // Dark by the brightest channel, not luminance: a saturated red has a low luminance and is a colour, not a dark.
    const v = Math.max(R[p]!, G[p]!, B[p]!);
    if (shift > 0) shift *= 1 - (1 - s) * (1 - smoothstep(40, 90, v));
    const lt = l + shift;
    if (palette && palette.length > 0) {
      paletteMap(palette, lt, R, G, B, p);
      continue;
    }
    // Half a gain (which keeps the hue) and half an offset (which keeps the chroma): a gain alone lifts dark
    // skin into orange-peach, an offset alone greys it.
    const gain = lt / Math.max(8, l);
    const off = lt - l;
    const r = 0.5 * (R[p]! * gain + R[p]! + off);
    const g = 0.5 * (G[p]! * gain + G[p]! + off);
    const b = 0.5 * (B[p]! * gain + B[p]! + off);
    // Saturation up for cloth and hair; skin barely (a saturated face looks sunburnt).
    let sat = c.saturation + (Math.min(c.saturation, 1.04) - c.saturation) * s;
    // The chroma of darks off the skin is a photo's tint (a graded film look's teal or a sensor's cast), not a
    // colour: it is muted toward neutral, less as the tone lightens into real colour.
    sat *= 1 - 0.35 * (1 - s) * (1 - smoothstep(40, 90, Math.max(r, g, b)));
    const yy = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    R[p] = yy + (r - yy) * sat;
    G[p] = yy + (g - yy) * sat;
    B[p] = yy + (b - yy) * sat;
  }
}

/** A smooth gradient map of luminance `l` through the palette (no hard steps between its colours), into pixel p. */
function paletteMap(palette: readonly Rgb8[], l: number, R: Plane, G: Plane, B: Plane, p: number): void {
  const f = (Math.min(255, Math.max(0, l)) / 255) * (palette.length - 1);
  const i0 = Math.max(0, Math.min(palette.length - 2, Math.floor(f)));
  const t = smoothstep(0, 1, f - i0);
  const c0 = palette[i0]!;
  const c1 = palette[Math.min(palette.length - 1, i0 + 1)]!;
  R[p] = c0[0] + (c1[0] - c0[0]) * t;
  G[p] = c0[1] + (c1[1] - c0[1]) * t;
  B[p] = c0[2] + (c1[2] - c0[2]) * t;
}

/**
 * The background's colour, in place: a pop-art `ground` is one flat colour, as a screen print's; with a palette
 * only, the background goes through the palette too; otherwise it keeps its own colours, a little more saturated
 * and a third of the way to a pale wash of them, so it recedes behind the subject.
 */
function paintBackground(back: [Plane, Plane, Plane], c: ComicLook): void {
  const [R, G, B] = back;
  const ground = c.ground;
  const palette = c.palette;
  for (let p = 0; p < R.length; p++) {
    if (ground) {
      R[p] = ground[0];
      G[p] = ground[1];
      B[p] = ground[2];
      continue;
    }
    const l = 0.2126 * R[p]! + 0.7152 * G[p]! + 0.0722 * B[p]!;
    if (palette && palette.length > 0) {
      paletteMap(palette, l, R, G, B, p);
      continue;
    }
    const sat = c.saturation;
    R[p] = wash(l + (R[p]! - l) * sat);
    G[p] = wash(l + (G[p]! - l) * sat);
    B[p] = wash(l + (B[p]! - l) * sat);
  }
}

/** A third of the way from `v` to a pale version of it. */
const wash = (v: number) => v + (235 - 0.3 * (235 - v) - v) * 0.3;

/**
 * Back to full size in one pass. The subject's and the background's colour are scaled up bilinearly and cut
 * apart along the outline (`edge`: crisply where the mask is sure of it, softly where not); the feature lines
 * are drawn there too, each a soft working-size field thresholded at full size, so lines have crisp, smooth,
 * antialiased edges instead of an upscale's blur; halftone dots go on a flat ground only, drawn at full size so
 * they stay round; on the face the photo's full-size detail beyond skin texture is laid back (`feature` weight,
 * measured against `flatLuma`, the flattened working-size luminance, so what the smoothing took comes back too).
 */
function compose(
  src: RgbImage,
  f: {
    colour: [Plane, Plane, Plane];
    back: [Plane, Plane, Plane] | undefined;
    edge: Outline | undefined;
    ink: Plane;
    feature: Plane;
    core: Plane;
    flatLuma: Plane;
  },
  w: number,
  h: number,
  c: ComicLook,
): RgbImage {
  const { width, height } = src;
  const [R, G, B] = f.colour;
  const { back, edge, ink, feature, core, flatLuma } = f;
  const detail = w < width || h < height;
  const scale = Math.max(width, height) / 1024;
  // Full-size px per working-size px: the outline's distances are in working px.
  const up = Math.max(width, height) / Math.max(w, h);
  const period = c.ground ? c.halftone * scale : 0;
  // Beyond this distance from the outline a pixel is all subject or all background.
  const reach = SOFT_CUT * scale + 0.7;
  // Without a mask there is no background: the subject's planes stand in, never read (the cut is always 1).
  const [BR, BG, BB] = back ?? f.colour;
  const out = new Uint8ClampedArray(width * height * 3);
  const sd = src.data;
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / width - 0.5));
    x0[x] = Math.floor(g);
    x1[x] = Math.min(w - 1, Math.floor(g) + 1);
    fx[x] = g - Math.floor(g);
  }
  for (let y = 0, p = 0; y < height; y++) {
    const gy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / height - 0.5));
    const r0 = Math.floor(gy) * w;
    const r1 = Math.min(h - 1, Math.floor(gy) + 1) * w;
    const ty = gy - Math.floor(gy);
    for (let x = 0; x < width; x++, p++) {
      const t = fx[x]!;
      const a00 = r0 + x0[x]!;
      const a01 = r0 + x1[x]!;
      const a10 = r1 + x0[x]!;
      const a11 = r1 + x1[x]!;
      const w00 = (1 - t) * (1 - ty);
      const w01 = t * (1 - ty);
      const w10 = (1 - t) * ty;
      const w11 = t * ty;
      // How much of this pixel is subject, from the outline's distance in full px. Most pixels are well inside or
      // well outside, where that needs no working out. No line is drawn along the outline: even at a third of the
      // feature lines' ink, a line round the cut-out alone (nothing inside the face outlined) made it a sticker; a
      // blind paired panel preferred every portrait without it where it could tell (8 to 0, 11 alike).
      let cut = 1;
      let line = 0;
      if (edge) {
        const { dist, sure } = edge;
        const d = (dist[a00]! * w00 + dist[a01]! * w01 + dist[a10]! * w10 + dist[a11]! * w11) * up;
        if (d < reach) {
          if (d <= -reach) cut = 0;
          else {
            // Crisp (antialiased over a pixel and a half) where the mask is sure of its edge, soft where not.
            const s = sure[a00]! * w00 + sure[a01]! * w01 + sure[a10]! * w10 + sure[a11]! * w11;
            const soft = 0.7 + SOFT_CUT * scale * (1 - s);
            cut = smoothstep(-soft, soft, d);
          }
        }
      }
      let r = 0;
      let g = 0;
      let b = 0;
      const i = p * 3;
      if (cut > 0) {
        r = (R[a00]! * w00 + R[a01]! * w01 + R[a10]! * w10 + R[a11]! * w11) * cut;
        g = (G[a00]! * w00 + G[a01]! * w01 + G[a10]! * w10 + G[a11]! * w11) * cut;
        b = (B[a00]! * w00 + B[a01]! * w01 + B[a10]! * w10 + B[a11]! * w11) * cut;
        if (detail) {
          const fw = feature[a00]! * w00 + feature[a01]! * w01 + feature[a10]! * w10 + feature[a11]! * w11;
          if (fw > 0.01) {
            const base = flatLuma[a00]! * w00 + flatLuma[a01]! * w01 + flatLuma[a10]! * w10 + flatLuma[a11]! * w11;
            const dd = 0.2126 * sd[i]! + 0.7152 * sd[i + 1]! + 0.0722 * sd[i + 2]! - base;
            const k = core[a00]! * w00 + core[a01]! * w01 + core[a10]! * w10 + core[a11]! * w11;
            const cored = dd > k ? dd - k : dd < -k ? dd + k : 0;
            const add = cored * fw * 0.9 * cut;
            r += add;
            g += add;
            b += add;
          }
        }
        const lines = ink[a00]! * w00 + ink[a01]! * w01 + ink[a10]! * w10 + ink[a11]! * w11;
        if (lines > 0.08) line = Math.max(line, smoothstep(0.08, 0.4, lines) * cut);
      }
      if (cut < 1) {
        let shade = 1 - cut;
        if (period >= 3) shade *= screen(x, y, period);
        r += (BR[a00]! * w00 + BR[a01]! * w01 + BR[a10]! * w10 + BR[a11]! * w11) * shade;
        g += (BG[a00]! * w00 + BG[a01]! * w01 + BG[a10]! * w10 + BG[a11]! * w11) * shade;
        b += (BB[a00]! * w00 + BB[a01]! * w01 + BB[a10]! * w10 + BB[a11]! * w11) * shade;
      }
      const e = INK * line;
      out[i] = r + (22 - r) * e;
      out[i + 1] = g + (18 - g) * e;
      out[i + 2] = b + (24 - b) * e;
    }
  }
  return image(new Uint8Array(out.buffer), width, height);
}

/**
 * Pop art laid softly on its ground: the blur of the mask that leads from the drawing to the ground (a share of the
 * side: 5 px at 1024 px). Twelve px hid more of the mask's guess, but blind paired raters preferred the crisper
 * outline 35 to 7 on 14 unseen photos (31 of 42 ratings postable, against none: a wide fade read as a soft, cheap
 * glow round the member). The ground is flat: shaded even a little by the photo's scene, it showed blinds and
 * bokeh through it as stripes and blotches (blind raters).
 */
const GROUND_FADE = 0.005;

/** How much wider the cut-out's edge is where the mask is unsure of it, in full-size px at 1024 px. */
const SOFT_CUT = 5;

/** Uncut, away from the head: how much less the scene is flattened and banded than cloth is. */
const SCENE_CALM = 0.7;
/** ...and where it is all scene, not flattened at all (its detail is laid back over it anyway). */
const SCENE_SKIP = 0.97;
/** ...and the detail it keeps: all but the finest grain. */
const SCENE_CORE = 4;

/** Detail within this many levels is skin texture (pores, fine lines), not a feature, and is not laid back. */
const CORE = 8;

/** Away from the head, detail within this many levels is cloth's sheen and weave, not a print or a seam. */
const CLOTH_CORE = 24;

/** How dark the lines are drawn: nearly black, as an inker's, but not pure black, which looked cut out. */
const INK = 0.88;

/** The halftone dots' radius, in periods: a quarter of the screen covered. */
const DOT = Math.sqrt(0.25 / Math.PI);

/**
 * A 45-degree screen of even dots at pixel (x, y), `period` px apart, as a factor on the ground (the dots 12% darker,
 * antialiased over a pixel): a screen print's tint, not a photo's shading.
 */
function screen(x: number, y: number, period: number): number {
  const u = ((x + y) * Math.SQRT1_2) / period;
  const v = ((x - y) * Math.SQRT1_2) / period;
  const du = u - Math.round(u);
  const dv = v - Math.round(v);
  const aa = 0.7 / period;
  return 1 - 0.12 * smoothstep(DOT + aa, DOT - aa, Math.sqrt(du * du + dv * dv));
}

/** Rec. 709 luminance of three planes. */
function lumaOf(R: Plane, G: Plane, B: Plane): Plane {
  const out = new Float32Array(R.length);
  for (let p = 0; p < out.length; p++) out[p] = 0.2126 * R[p]! + 0.7152 * G[p]! + 0.0722 * B[p]!;
  return out;
}

/** `plane` moved toward `other` by `weight` per pixel, in place. */
function blend(plane: Plane, other: Plane, weight: Plane): void {
  for (let p = 0; p < plane.length; p++) plane[p] = plane[p]! + (other[p]! - plane[p]!) * weight[p]!;
}

/**
 * A plane of sw x sh scaled to w x h bilinearly: the mask shrinks by about 2, where bilinear sampling of a soft
 * mask does not alias, and (unlike nearest sampling) it leaves no steps for the outline to follow.
 */
function shrinkPlane(src: ArrayLike<number>, sw: number, sh: number, w: number, h: number): Plane {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const gy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / h - 0.5));
    const y0 = Math.floor(gy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const ty = gy - y0;
    for (let x = 0; x < w; x++) {
      const gx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / w - 0.5));
      const x0 = Math.floor(gx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const tx = gx - x0;
      const top = (src[y0 * sw + x0] ?? 0) * (1 - tx) + (src[y0 * sw + x1] ?? 0) * tx;
      const bottom = (src[y1 * sw + x0] ?? 0) * (1 - tx) + (src[y1 * sw + x1] ?? 0) * tx;
      out[y * w + x] = top + (bottom - top) * ty;
    }
  }
  return out;
}

/**
 * Cells of `f` x `f` px: the mean of `weight` and of each plane times `weight` in each, in one pass, which is what
 * a normalised blur needs (a weighted copy and a box average per plane cost several times more).
 */
function weightedCells(
  planes: [Plane, Plane, Plane],
  weight: Plane,
  w: number,
  h: number,
  f: number,
): { sums: [Plane, Plane, Plane]; weights: Plane; cw: number; ch: number } {
  const cw = Math.ceil(w / f);
  const ch = Math.ceil(h / f);
  const [R, G, B] = planes;
  const sr = new Float32Array(cw * ch);
  const sg = new Float32Array(cw * ch);
  const sb = new Float32Array(cw * ch);
  const weights = new Float32Array(cw * ch);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / f) * cw;
    for (let x = 0, p = y * w; x < w; x++, p++) {
      const a = weight[p]!;
      if (a === 0) continue;
      const q = row + Math.floor(x / f);
      weights[q]! += a;
      sr[q]! += R[p]! * a;
      sg[q]! += G[p]! * a;
      sb[q]! += B[p]! * a;
    }
  }
  // Per px of a cell, so the weights stay 0..1 as the pixels' are.
  const norm = 1 / (f * f);
  for (const cells of [sr, sg, sb, weights]) for (let q = 0; q < cells.length; q++) cells[q] = cells[q]! * norm;
  return { sums: [sr, sg, sb], weights, cw, ch };
}

/**
 * The background behind the subject, at the working size: the photo's background blurred wide (at a quarter of
 * the working size, which a blur this wide loses nothing to), so its clutter becomes calm soft shapes. It is a
 * normalised blur of the background pixels alone (weighted by how surely they are background): a plain blur
 * spread the subject's colours past its edge, a dark or bright glow ring round hair, hats and hands (a blind
 * panel). Under the subject it continues the background nearby, which is what shows where the cut-out leaves it.
 */
function calmBackground(
  planes: [Plane, Plane, Plane],
  subject: Plane,
  w: number,
  h: number,
  ws: number,
): [Plane, Plane, Plane] {
  const n = w * h;
  const f = 4;
  const weight = new Float32Array(n);
  for (let p = 0; p < n; p++) weight[p] = smoothstep(0.1, 0.01, subject[p]!);
  const { sums, weights, cw, ch } = weightedCells(planes, weight, w, h, f);
  const sigma = 2.5 * ws;
  const wb = gaussianBlur(weights, cw, ch, sigma);
  // Where no background is within reach of the blur (a face filling the frame), the background's mean colour.
  let total = 0;
  for (let q = 0; q < weights.length; q++) total += weights[q]!;
  const out: Plane[] = [];
  for (const sum of sums) {
    let mean = 0;
    for (let q = 0; q < sum.length; q++) mean += sum[q]!;
    mean = total > 0 ? mean / total : 128;
    const blurred = gaussianBlur(sum, cw, ch, sigma);
    // A soft fallback: a cell with a little background nearby leans on it, one with none takes the mean.
    for (let q = 0; q < blurred.length; q++) blurred[q] = (blurred[q]! + mean * 0.01) / (wb[q]! + 0.01);
    out.push(upsample(blurred, cw, ch, f, w, h));
  }
  return [out[0]!, out[1]!, out[2]!];
}

/**
 * The subject's edge pixels, in place: where the mask is unsure, the photo's pixel is part background, and
 * flattened and cut out it left a pale or coloured rim just inside the outline (round a black hat, a light
 * one). There the colour becomes that of the sure subject nearby: a normalised blur weighted by the mask, at half
 * the working size (a blur this wide loses nothing there) and read only at those pixels.
 */
function defringe(planes: [Plane, Plane, Plane], subject: Plane, w: number, h: number, ws: number): void {
  const n = w * h;
  const weight = new Float32Array(n);
  for (let p = 0; p < n; p++) weight[p] = smoothstep(0.75, 0.97, subject[p]!);
  const { sums, weights, cw, ch } = weightedCells(planes, weight, w, h, 2);
  const sigma = 1.25 * ws;
  const wb = gaussianBlur(weights, cw, ch, sigma);
  const blurred = sums.map((sum) => gaussianBlur(sum, cw, ch, sigma));
  for (let y = 0; y < h; y++) {
    const gy = Math.min(ch - 1, Math.max(0, (y + 0.5) / 2 - 0.5));
    const r0 = Math.floor(gy) * cw;
    const r1 = Math.min(ch - 1, Math.floor(gy) + 1) * cw;
    const ty = gy - Math.floor(gy);
    for (let x = 0, p = y * w; x < w; x++, p++) {
      const a = subject[p]!;
      if (a < 0.02 || a > 0.97) continue;
      const gx = Math.min(cw - 1, Math.max(0, (x + 0.5) / 2 - 0.5));
      const c0 = Math.floor(gx);
      const c1 = Math.min(cw - 1, c0 + 1);
      const tx = gx - c0;
      const k00 = (1 - tx) * (1 - ty);
      const k01 = tx * (1 - ty);
      const k10 = (1 - tx) * ty;
      const k11 = tx * ty;
      const sw = wb[r0 + c0]! * k00 + wb[r0 + c1]! * k01 + wb[r1 + c0]! * k10 + wb[r1 + c1]! * k11;
      if (sw < 1e-3) continue;
      const keep = smoothstep(0.75, 0.97, a);
      for (let i = 0; i < 3; i++) {
        const b = blurred[i]!;
        const sure = (b[r0 + c0]! * k00 + b[r0 + c1]! * k01 + b[r1 + c0]! * k10 + b[r1 + c1]! * k11) / sw;
        const plane = planes[i]!;
        plane[p] = plane[p]! * keep + sure * (1 - keep);
      }
    }
  }
}

/** The subject's outline at the working size, for the full-size cut-out. */
interface Outline {
  /** Signed distance to the outline in working-size px, positive inside, capped at `REACH` either side. */
  dist: Plane;
  /** 0..1: how sharp the mask's edge is here. A sharp edge is where the matte is sure of the outline. */
  sure: Plane;
}

/** How far from the outline its distance is measured, in working-size px: beyond the widest cut. */
const REACH = 8;

/**
 * The outline, from the mask softened a little (a smooth silhouette, not every wisp of the matte): the distance is
 * (mask - 0.5) over the mask's gradient. Where the mask fades out over many pixels (flyaway hair, a half-found
 * strand or shoulder) the matte is unsure where the edge is; a crisp cut there drew its guesses as hard-edged blobs
 * of background colour, so there the cut stays soft.
 */
function outline(subject: Plane, w: number, h: number, ws: number): Outline {
  const m = gaussianBlur(subject, w, h, 2 * ws);
  const dist = new Float32Array(w * h);
  const sure = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const gx = (m[x < w - 1 ? p + 1 : p]! - m[x > 0 ? p - 1 : p]!) * 0.5;
      const gy = (m[y < h - 1 ? p + w : p]! - m[y > 0 ? p - w : p]!) * 0.5;
      const g = Math.sqrt(gx * gx + gy * gy);
      dist[p] = Math.max(-REACH, Math.min(REACH, (m[p]! - 0.5) / Math.max(0.02, g)));
      // Per px at 512: a clean step in the mask, softened as above, rises by about a fifth per px there; a fade
      // over 15 px or more by a fifteenth.
      sure[p] = smoothstep(0.07, 0.15, g * ws);
    }
  }
  return { dist, sure };
}

/**
 * Ink, 0..1 per pixel at the working size, a soft field that the full-size pass thresholds into crisp lines: the
 * dark side of a difference of Gaussians of the flattened luminance, only where it is strong enough to be an
 * edge an inker would draw (the minimum keeps texture and leftover noise from drawing specks), then cleaned:
 * softened and re-thresholded, which drops isolated dots and joins broken strokes. On skin lines are thinner and
 * need a stronger edge (a face drawn with heavy lines looks old and wrinkled). Away from the face (clothes, hair)
 * texture is held back hard: knitwear and cloth drew black scribbles. Nothing is drawn behind the subject; its
 * silhouette is drawn from the mask instead (`outline`).
 */
function inkLines(
  luma: Plane,
  subject: Plane | undefined,
  skin: Plane,
  face: Plane,
  w: number,
  h: number,
  ws: number,
  weight: number,
): Plane {
  const n = w * h;
  const out = new Float32Array(n);
  if (weight <= 0) return out;
  // `weight` is px at 1024 px; the narrow Gaussian is about a third of it at the working size.
  const sigma = Math.max(0.6, 0.32 * weight * ws);
  const g1 = smallGaussian(luma, w, h, sigma);
  const g2 = smallGaussian(luma, w, h, sigma * 1.6);
  // Texture (blond hair, a patterned shirt, knitwear) passes a fixed threshold as a field of short dashes, which
  // reads as dirt. The threshold rises with the mean |DoG| around the pixel: where everything is an edge, only
  // the strongest is drawn; an eye or a jaw on calm skin still is.
  const dog = new Float32Array(n);
  for (let p = 0; p < n; p++) dog[p] = Math.abs(g2[p]! - g1[p]!);
  const busy = gaussianBlur(dog, w, h, 4 * ws);
  for (let p = 0; p < n; p++) {
    const a = subject ? subject[p]! : 1;
    const s = skin[p]!;
    const off = 1 - smoothstep(0.2, 0.5, face[p]!);
    const dark = g2[p]! - g1[p]!;
    const lo = 2.2 + 1.3 * s + (1.5 + 2.5 * off) * busy[p]! + 2 * off;
    out[p] = smoothstep(lo, lo + 4, dark) * smoothstep(0.4, 0.8, a) * (1 - 0.3 * s);
  }
  const soft = smallGaussian(out, w, h, 1 * ws);
  // Specks: a dot of ink has little mass in a wider blur, a stroke of the same width has several times more.
  const spread = gaussianBlur(out, w, h, 2.5 * ws);
  for (let p = 0; p < n; p++)
    out[p] = smoothstep(0.12, 0.5, soft[p]!) * Math.min(1, soft[p]! * 2.2) * smoothstep(0.08, 0.16, spread[p]!);
  return out;
}
