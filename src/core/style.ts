import { PortraitError } from '../errors.js';
import type { EngineName } from './request.js';
import { closest } from './typos.js';

/**
 * Style presets and the style parser, as data beside the pose and lighting presets (src/core/pose.ts,
 * src/core/lighting.ts): the bots list them (`STYLE_PRESETS`, `describeStylePresets()`), the compositor renders
 * them (src/pipeline/style) and the diffusion engine turns them into prompt words (`prompt`).
 *
 * A style is up to three parts, at most one of each role, rendered in this order:
 * - a `medium` (vintage film, oil paint, pencil sketch, comic): how the picture is made;
 * - a `colour` treatment (black and white, sepia, warm grade, cool grade), applied after the medium so
 *   "black and white oil painting" is a grey oil painting;
 * - a `backdrop` (studio grey, white high-key ...): a plain studio background instead of the photo's own, painted
 *   before the look so a painted portrait has a painted backdrop.
 * Empty text means no style: the photo's own look and background.
 *
 * Every parameter is the canonical one, what the first variation renders. Later variations pick from `variants`
 * (another shade, another film stock, another brush) and jitter within them, so two variations differ at a glance.
 */

/** An sRGB colour as bytes 0..255. */
export type Rgb8 = readonly [number, number, number];

/** A seamless studio backdrop: a lit paper or painted canvas behind the subject. */
export interface Backdrop {
  /** The colour where the backdrop light hits it (sRGB). */
  colour: Rgb8;
  /** How much darker the corners are (0..1): the falloff of a light aimed at the backdrop. */
  vignette: number;
  /** Where the backdrop light's hot spot sits, as a direction in degrees (0 = above the head, 90 = picture right). */
  angle: number;
  /** How far the hot spot sits from the centre, as a share of the half-diagonal (0 = right behind the head). */
  offset: number;
  /** Painted-canvas mottling (0 = smooth paper, 1 = an old master's cloud backdrop). */
  mottle: number;
}

/** Colour grade: white balance, contrast and saturation, luminance kept. */
export interface GradeLook {
  kind: 'grade';
  /** -1 (blue) .. +1 (amber): a white-balance shift. */
  temperature: number;
  /** -1 (green) .. +1 (magenta). */
  tint: number;
  /** Saturation gain (1 = unchanged). */
  saturation: number;
  /** S-curve strength (0 = linear, negative = flatter). */
  contrast: number;
}

/** Black and white from a channel mix (like a filter on the lens), optionally toned (sepia). */
export interface MonoLook {
  kind: 'mono';
  /** Weights of R, G, B in the grey (they sum to 1). Red-heavy mixes brighten skin, blue-heavy ones darken it. */
  mix: readonly [number, number, number];
  /** S-curve strength (0 = linear). */
  contrast: number;
  /** The colour mid-grey becomes (sRGB), or undefined for neutral grey. */
  tone?: Rgb8;
}

export type ColourLook = GradeLook | MonoLook;

/** Analogue film: faded blacks, tinted shadows and highlights, halation round highlights, grain, vignette. */
export interface FilmLook {
  kind: 'film';
  /** How far black is lifted (0..0.2 of full scale). */
  fade: number;
  /** The tint added in the shadows and in the highlights, as signed RGB offsets (0..255 scale). */
  shadows: readonly [number, number, number];
  highlights: readonly [number, number, number];
  saturation: number;
  /** Red-orange glow bleeding from bright areas (0..1). */
  halation: number;
  /** Grain strength (standard deviation on 0..255 in the background's mid-tones, about a third of it on the
   *  subject; a few levels is film, more reads as a noisy phone photo) and size (px at 1024 px). */
  grain: number;
  grainSize: number;
  vignette: number;
}

/** Oil paint: a Kuwahara-type filter (flat strokes with kept edges), paint relief and canvas weave. */
export interface OilLook {
  kind: 'oil';
  /** Brush radius on the background as a share of the image side; the face gets `faceBrush`. */
  brush: number;
  faceBrush: number;
  saturation: number;
  /** Relief of the paint (0..1): strokes catch the light from the upper left. */
  impasto: number;
  /** Canvas weave strength (0..1). */
  canvas: number;
  /** An old master's amber varnish (0 = fresh colours, 1 = deep amber, darker shadows). */
  varnish: number;
}

/** Pencil sketch: colour dodge of the inverted blur on grey, shading, hatching, paper. */
export interface SketchLook {
  kind: 'sketch';
  /** Line width: the dodge blur radius as a share of the image side. */
  line: number;
  /** How dark the lines are (gamma on the dodge, >= 1). */
  darkness: number;
  /** How much of the photo's tone is shaded in (0 = lines only). */
  shading: number;
  /** Diagonal pencil hatching in the shadows (0..1). */
  hatching: number;
  paper: Rgb8;
  /** The pencil's colour at full darkness: graphite, sepia, charcoal. */
  pencil: Rgb8;
  /** How much of the background is drawn (0 = only the subject, 1 = everything). */
  background: number;
}

/** Comic / pop art: edge-keeping flat colour, softly banded tones, thin ink outlines, halftone dots behind. */
export interface ComicLook {
  kind: 'comic';
  /** Luminance bands the flattened tones lean toward (3..6); the hue is kept, and skin leans only a little. */
  levels: number;
  /** Ink line weight (px at 1024 px, 0 = none). */
  ink: number;
  /**
   * Halftone dot spacing (px at 1024 px, 0 = none), on a flat pop-art ground only (with a palette): over a photo's
   * own background a dot grid read as a print defect, and never on the subject or skin.
   */
  halftone: number;
  saturation: number;
  /** Pop-art palette: dark to light colours that replace the tones, or undefined to keep the photo's hues. */
  palette?: readonly Rgb8[];
  /** With a palette: the flat colour behind the subject, one that none of the palette's tones blends into. */
  ground?: Rgb8;
}

export type MediumLook = FilmLook | OilLook | SketchLook | ComicLook;

interface PresetBase {
  /** Canonical name, what users type and what results report. */
  readonly name: string;
  /** Other spellings users type (after lower-casing, '-' and '_' as spaces). */
  readonly aliases: readonly string[];
  /** One line for help texts and bot menus. */
  readonly description: string;
  /** Words for the diffusion engine's prompt. */
  readonly prompt: string;
}

export interface BackdropPreset extends PresetBase {
  readonly role: 'backdrop';
  readonly backdrop: Backdrop;
  /** Other shades of the same family for later variations. */
  readonly variants: readonly Rgb8[];
}

export interface ColourPreset extends PresetBase {
  readonly role: 'colour';
  readonly look: ColourLook;
  readonly variants: readonly ColourLook[];
}

export interface MediumPreset extends PresetBase {
  readonly role: 'medium';
  readonly look: MediumLook;
  readonly variants: readonly MediumLook[];
}

export type StylePreset = BackdropPreset | ColourPreset | MediumPreset;
export type StyleRole = StylePreset['role'];

const studio = (colour: Rgb8, vignette = 0.35, mottle = 0.25): Backdrop => ({
  colour,
  vignette,
  angle: 0,
  offset: 0.12,
  mottle,
});

/** The catalogue, in the order menus show it: looks first, then backdrops. */
export const STYLE_PRESETS: readonly StylePreset[] = [
  {
    name: 'black and white',
    role: 'colour',
    aliases: ['b and w', 'bw', 'b w', 'black white', 'monochrome', 'mono', 'greyscale', 'grayscale', 'noir'],
    description: 'Classic black and white, mixed like a red filter so skin glows.',
    prompt: 'black and white photograph, monochrome',
    look: { kind: 'mono', mix: [0.42, 0.46, 0.12], contrast: 0.35 },
    variants: [
      { kind: 'mono', mix: [0.62, 0.32, 0.06], contrast: 0.6 },
      { kind: 'mono', mix: [0.25, 0.6, 0.15], contrast: 0.15 },
      { kind: 'mono', mix: [0.33, 0.5, 0.17], contrast: 0.85 },
    ],
  },
  {
    name: 'sepia',
    role: 'colour',
    aliases: ['sepia tone', 'brown tone', 'antique', 'old photo'],
    description: 'Black and white toned warm brown, like an old print.',
    prompt: 'sepia toned vintage photograph',
    look: { kind: 'mono', mix: [0.45, 0.43, 0.12], contrast: 0.3, tone: [160, 124, 88] },
    variants: [
      // Deep chocolate, contrasty.
      { kind: 'mono', mix: [0.5, 0.4, 0.1], contrast: 0.65, tone: [128, 98, 78] },
      // Pale golden, soft.
      { kind: 'mono', mix: [0.4, 0.45, 0.15], contrast: 0.05, tone: [190, 160, 110] },
    ],
  },
  {
    name: 'warm',
    role: 'colour',
    aliases: ['warm grade', 'warm tone', 'warm tones', 'warmer', 'warm colours', 'warm colors', 'sunny'],
    description: 'A warm colour grade: golden skin, amber highlights.',
    prompt: 'warm color grading, golden tones',
    look: { kind: 'grade', temperature: 0.55, tint: 0.05, saturation: 1.08, contrast: 0.15 },
    variants: [
      // Deep golden, punchy.
      { kind: 'grade', temperature: 0.85, tint: 0.12, saturation: 1.12, contrast: 0.5 },
      // Soft peach, low contrast.
      { kind: 'grade', temperature: 0.5, tint: 0.35, saturation: 0.9, contrast: -0.15 },
    ],
  },
  {
    name: 'cool',
    role: 'colour',
    aliases: ['cool grade', 'cool tone', 'cool tones', 'cooler', 'cold', 'cold tones', 'cool colours', 'cool colors'],
    description: 'A cool colour grade: crisp blue-teal shadows, clean skin.',
    prompt: 'cool color grading, blue tones',
    look: { kind: 'grade', temperature: -0.6, tint: -0.05, saturation: 0.95, contrast: 0.2 },
    variants: [
      // Icy teal, contrasty.
      { kind: 'grade', temperature: -0.95, tint: -0.3, saturation: 0.85, contrast: 0.4 },
      // Soft lavender-blue, low contrast.
      { kind: 'grade', temperature: -0.5, tint: 0.3, saturation: 1.0, contrast: -0.15 },
    ],
  },
  {
    name: 'vintage film',
    role: 'medium',
    aliases: ['film', 'vintage', 'retro', 'analog', 'analogue', 'analog film', 'film photo', 'kodak', 'portra', '35mm'],
    description: 'Faded analogue film: lifted blacks, warm highlights, halation and fine grain.',
    prompt: 'vintage 35mm film photo, film grain, faded colors',
    look: {
      kind: 'film',
      fade: 0.09,
      shadows: [-4, 6, 14],
      highlights: [9, 6, -6],
      saturation: 0.82,
      halation: 0.4,
      grain: 3,
      grainSize: 1.1,
      vignette: 0.25,
    },
    variants: [
      // A green-shadowed, cooler stock.
      {
        kind: 'film',
        fade: 0.05,
        shadows: [-4, 6, 3],
        highlights: [6, 5, -4],
        saturation: 0.95,
        halation: 0.2,
        grain: 2.5,
        grainSize: 1,
        vignette: 0.2,
      },
      // A seventies print: strongly faded, yellow-orange.
      {
        kind: 'film',
        fade: 0.13,
        shadows: [10, 4, -6],
        highlights: [12, 8, -12],
        saturation: 0.75,
        halation: 0.5,
        grain: 3.5,
        grainSize: 1.4,
        vignette: 0.35,
      },
    ],
  },
  {
    name: 'oil paint',
    role: 'medium',
    aliases: ['oil painting', 'oil', 'oils', 'painting', 'painted', 'impasto', 'classical painting', 'old master'],
    description: 'An oil painting: soft brush strokes, fine on the face and broad behind it, on canvas.',
    prompt: 'oil painting, visible brush strokes, canvas texture',
    // Impasto and canvas kept low: stronger, the relief of the strokes read as an embossed ripple laid over the
    // photo (a blind panel), not as paint.
    look: { kind: 'oil', brush: 0.012, faceBrush: 0.008, saturation: 1.12, impasto: 0.25, canvas: 0.2, varnish: 0.15 },
    variants: [
      // Impressionist: broad strokes, fresh saturated colour.
      { kind: 'oil', brush: 0.022, faceBrush: 0.01, saturation: 1.2, impasto: 0.6, canvas: 0.35, varnish: 0 },
      // Old master: fine strokes under an amber varnish.
      { kind: 'oil', brush: 0.009, faceBrush: 0.006, saturation: 0.95, impasto: 0.3, canvas: 0.4, varnish: 0.7 },
    ],
  },
  {
    name: 'pencil sketch',
    role: 'medium',
    aliases: ['sketch', 'pencil', 'pencil drawing', 'drawing', 'graphite', 'charcoal', 'line drawing', 'sketched'],
    description: 'A graphite pencil drawing with soft shading and hatching on paper.',
    prompt: 'pencil sketch, graphite drawing on paper, hatching',
    look: {
      kind: 'sketch',
      line: 0.009,
      darkness: 1.7,
      shading: 0.6,
      hatching: 0.35,
      paper: [246, 243, 236],
      pencil: [48, 48, 54],
      background: 0.15,
    },
    variants: [
      // Charcoal on warm paper: heavier lines, more tone.
      {
        kind: 'sketch',
        line: 0.013,
        darkness: 2.2,
        shading: 0.75,
        hatching: 0.5,
        paper: [240, 232, 214],
        pencil: [30, 26, 24],
        background: 0.3,
      },
      // Sepia ink on cream: fine lines, little shading.
      {
        kind: 'sketch',
        line: 0.006,
        darkness: 2.3,
        shading: 0.55,
        hatching: 0.25,
        paper: [248, 240, 222],
        pencil: [92, 58, 36],
        background: 0.1,
      },
    ],
  },
  {
    name: 'comic',
    role: 'medium',
    aliases: ['comic book', 'comics', 'pop art', 'popart', 'cartoon', 'graphic novel', 'halftone', 'lichtenstein'],
    description: 'Pop art: you in flat poster colours on a bright halftone ground.',
    prompt: 'comic book illustration, bold ink outlines, halftone dots, pop art',
    // Pop art first: blind paired panels on 20 unseen photos preferred it to the photo-like cel look 56 to 4 (14
    // POST, 42 MEH, 4 BROKEN against 60 BROKEN for "the comic style was not delivered"); with clean ink lines
    // added, the cel look fared no better (55 of 60 BROKEN: lines jittery, doubled, only on the face). The cel
    // look stays as the third variation, a softer alternative.
    look: {
      kind: 'comic',
      levels: 4,
      ink: 2.5,
      halftone: 9,
      saturation: 1,
      // Warhol-style pop art palette.
      palette: [
        [28, 20, 60],
        [214, 40, 110],
        [250, 140, 60],
        [255, 226, 90],
      ],
      ground: [64, 196, 204],
    },
    variants: [
      {
        kind: 'comic',
        levels: 4,
        ink: 3,
        halftone: 0,
        saturation: 1,
        palette: [
          [16, 38, 64],
          [24, 140, 160],
          [236, 120, 120],
          [250, 236, 200],
        ],
        ground: [250, 210, 64],
      },
      { kind: 'comic', levels: 5, ink: 2, halftone: 0, saturation: 1.12 },
    ],
  },
  {
    name: 'studio grey',
    role: 'backdrop',
    aliases: ['studio gray', 'grey backdrop', 'gray backdrop', 'grey', 'gray', 'studio', 'plain', 'neutral'],
    description: 'A mid-grey studio backdrop, lit a little brighter behind the head.',
    prompt: 'plain grey studio backdrop',
    backdrop: studio([128, 128, 130]),
    variants: [
      [176, 176, 178],
      [78, 80, 84],
      [140, 134, 126],
    ],
  },
  {
    name: 'studio white',
    role: 'backdrop',
    aliases: ['white', 'high key', 'highkey', 'white backdrop', 'bright', 'clean white'],
    description: 'High-key: a bright white backdrop, barely shaded.',
    prompt: 'high-key white studio backdrop',
    backdrop: studio([246, 246, 246], 0.12, 0.05),
    variants: [
      [246, 236, 220],
      [222, 230, 240],
    ],
  },
  {
    name: 'studio black',
    role: 'backdrop',
    aliases: ['black', 'low key', 'lowkey', 'black backdrop', 'dark', 'dark backdrop'],
    description: 'Low-key: a near-black backdrop with a faint glow behind the head.',
    prompt: 'low-key dark studio backdrop',
    backdrop: studio([38, 38, 40], 0.6, 0.2),
    variants: [
      [72, 50, 36],
      [30, 48, 76],
    ],
  },
  {
    name: 'studio blue',
    role: 'backdrop',
    aliases: ['navy', 'blue', 'studio navy', 'navy blue', 'blue backdrop', 'navy backdrop'],
    description: 'A deep navy-blue studio backdrop.',
    prompt: 'navy blue studio backdrop',
    backdrop: studio([40, 62, 104], 0.45),
    variants: [
      [58, 96, 150],
      [58, 78, 96],
      [30, 86, 104],
    ],
  },
  {
    name: 'studio beige',
    role: 'backdrop',
    aliases: ['beige', 'warm beige', 'cream', 'sand', 'tan', 'beige backdrop', 'warm backdrop'],
    description: 'A warm beige backdrop, like painted canvas.',
    prompt: 'warm beige studio backdrop',
    backdrop: studio([196, 176, 150], 0.35, 0.35),
    variants: [
      [222, 208, 184],
      [168, 136, 104],
      [200, 184, 160],
    ],
  },
  {
    name: 'studio pastel',
    role: 'backdrop',
    aliases: ['pastel', 'pink', 'pastel pink', 'mint', 'lavender', 'pastel backdrop', 'colourful', 'colorful'],
    description: 'A soft pastel backdrop: pink, and mint, lavender or sky blue in other variations.',
    prompt: 'pastel colored studio backdrop',
    backdrop: studio([236, 196, 200], 0.22, 0.1),
    variants: [
      [186, 226, 206],
      [206, 196, 232],
      [186, 214, 238],
      [246, 214, 180],
    ],
  },
];

/** Words that carry no style of their own: "in a black and white style", "oil painting with a grey backdrop". */
const FILLER = new Set([
  'a',
  'an',
  'the',
  'in',
  'with',
  'on',
  'and',
  'of',
  'as',
  'like',
  'plus',
  'style',
  'styled',
  'look',
  'effect',
  'filter',
  'photo',
  'photograph',
  'portrait',
  'picture',
  'image',
  'background',
  'backdrop',
  'colour',
  'color',
  'tone',
  'grade',
]);

/** Text that asks for no style at all. */
const NONE = new Set(['none', 'no style', 'original', 'natural', 'normal', 'default', 'photo', 'as is', 'realistic']);

/** A parsed style: the parts to render, the label results show and the diffusion engine's words. */
export interface Style {
  /** Canonical label: '' for none, else the preset names in order medium, colour, backdrop. */
  readonly label: string;
  readonly description: string;
  /** Prompt words for the diffusion engine ('' for none). */
  readonly prompt: string;
  readonly medium?: MediumLook;
  readonly colour?: ColourLook;
  readonly backdrop?: Backdrop;
  /** The presets behind the parts, for variations (`variants`). */
  readonly presets: readonly StylePreset[];
}

const NO_STYLE: Style = { label: '', description: "The photo's own look.", prompt: '', presets: [] };

export type StyleResult = { ok: true; value: Style } | { ok: false; error: PortraitError };

/** Lower-case, '-', '_', '/' and '&' spelled out, single spaces, no surrounding punctuation. */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019"'`]/g, '')
    .replace(/\bb\s*[&/+]\s*w\b/g, 'black and white')
    .replace(/&/g, ' and ')
    .replace(/[-_/]+/g, ' ')
    .replace(/[,;+.!]+/g, ' , ')
    .replace(/\s+/g, ' ')
    .replace(/^[\s,]+|[\s,]+$/g, '')
    .trim();
}

/** Every spelling as a list of words, longest first so "black and white" wins over "black". */
const phrases: Array<{ words: string[]; preset: StylePreset }> = [];
for (const p of STYLE_PRESETS) {
  for (const n of [p.name, ...p.aliases]) phrases.push({ words: normalise(n).split(' '), preset: p });
}
phrases.sort((a, b) => b.words.length - a.words.length);
const spellings = [...new Set(phrases.map((p) => p.words.join(' ')))];
const byName = new Map<string, StylePreset>(phrases.map((p) => [p.words.join(' '), p.preset]));

/**
 * Parses what a user typed for the style. Accepts a preset name or alias ('oil painting', 'b&w', 'pop art',
 * 'high key'), and combinations of one medium, one colour treatment and one backdrop in any order, with or
 * without commas and filler words ('black and white oil painting', 'warm film', 'pencil sketch on a beige
 * background', 'black and white, studio grey'). Empty text (or 'none') means no style. Never throws: anything
 * else gives 'request.bad_style' naming the word it did not know, a suggestion when one is within a typo's reach,
 * and the list of styles; two parts of one role ('oil paint pencil sketch') give it naming both.
 */
export function parseStyle(text: string): StyleResult {
  const input = normalise(text);
  if (input === '' || NONE.has(input.replace(/ , /g, ' '))) return { ok: true, value: NO_STYLE };
  const whole = byName.get(input) ?? byName.get(input.replace(/ /g, ''));
  if (whole) return { ok: true, value: combine([whole]) };

  const words = input.split(' ');
  const found: StylePreset[] = [];
  let i = 0;
  while (i < words.length) {
    const word = words[i] ?? '';
    const match = phrases.find((p) => p.words.every((w, k) => words[i + k] === w));
    if (match) {
      const same = found.find((f) => f.role === match.preset.role);
      if (same && same !== match.preset) return conflict(text, same, match.preset);
      if (!same) found.push(match.preset);
      i += match.words.length;
      continue;
    }
    if (word === ',' || FILLER.has(word)) {
      i++;
      continue;
    }
    return unknown(text, suggestFor(words, i, found));
  }
  if (found.length === 0) {
    // Only filler ("a background", "with style"): nothing to render, and silently ignoring it would look broken.
    return unknown(text, 'studio grey');
  }
  return { ok: true, value: combine(found) };
}

/** The suggestion for an unknown word at `i`: the nearest spelling of one or two words, with the parts found kept. */
function suggestFor(words: string[], i: number, found: readonly StylePreset[]): string | undefined {
  // The longest run of words that is one typo from a spelling: "blak and white" is 'black and white', not 'black'.
  let near: string | undefined;
  let used = 0;
  for (let n = 3; n >= 1 && !near; n--) {
    if (i + n > words.length) continue;
    near = closest(words.slice(i, i + n).join(' '), spellings);
    used = n;
  }
  const preset = near ? byName.get(near) : undefined;
  if (!preset) return undefined;
  const parts = [...found.filter((f) => f.role !== preset.role), preset];
  // Parts after the unknown word still parse: keep them in the suggestion.
  const rest = parseStyle(words.slice(i + used).join(' '));
  if (rest.ok) for (const p of rest.value.presets) if (!parts.some((q) => q.role === p.role)) parts.push(p);
  return combine(parts).label;
}

function combine(parts: readonly StylePreset[]): Style {
  const order: Record<StyleRole, number> = { medium: 0, colour: 1, backdrop: 2 };
  const sorted = [...parts].sort((a, b) => order[a.role] - order[b.role]);
  let medium: MediumLook | undefined;
  let colour: ColourLook | undefined;
  let backdrop: Backdrop | undefined;
  for (const p of sorted) {
    if (p.role === 'medium') medium = p.look;
    else if (p.role === 'colour') colour = p.look;
    else backdrop = p.backdrop;
  }
  return {
    label: sorted.map((p) => p.name).join(', '),
    description: sorted.map((p) => p.description).join(' '),
    prompt: sorted.map((p) => p.prompt).join(', '),
    ...(medium ? { medium } : {}),
    ...(colour ? { colour } : {}),
    ...(backdrop ? { backdrop } : {}),
    presets: sorted,
  };
}

/**
 * Whether an engine can render a style: the compositor renders only the catalogue (anything else gets
 * 'request.bad_style' with the list, never a silently ignored style); the diffusion engine takes any words; the
 * crop engine has no style. Undefined when the text is fine.
 */
export function checkStyleForEngine(text: string, engine: EngineName): PortraitError | undefined {
  if (engine !== 'compositor') return undefined;
  const r = parseStyle(text);
  return r.ok ? undefined : r.error;
}

/** The preset by canonical name or alias, for code that wants the data itself. */
export function getStylePreset(name: string): StylePreset | undefined {
  return byName.get(normalise(name));
}

/** The words for the diffusion engine: the catalogue's prompt for a known style, else the text as typed. */
export function stylePrompt(text: string): string {
  const r = parseStyle(text);
  return r.ok ? r.value.prompt : text.trim();
}

/** One line per preset, for `/portrait help` and bot menus. */
export function describeStylePresets(): string[] {
  return [
    ...STYLE_PRESETS.map((p) => `${p.name}: ${p.description}`),
    'Combine a look with a backdrop, e.g. "black and white, studio grey", "warm film" or "oil paint on studio blue".',
  ];
}

/** The names, for sentences that list them. */
export function styleNames(): string[] {
  return STYLE_PRESETS.map((p) => p.name);
}

function unknown(got: string, suggestion: string | undefined): StyleResult {
  const shown = got.trim().slice(0, 60);
  return {
    ok: false,
    error: new PortraitError('request.bad_style', `unknown style '${shown}'`, {
      got: shown,
      styles: styleNames().join(', '),
      ...(suggestion ? { suggestion } : {}),
    }),
  };
}

function conflict(got: string, a: StylePreset, b: StylePreset): StyleResult {
  const shown = got.trim().slice(0, 60);
  return {
    ok: false,
    error: new PortraitError('request.bad_style', `style '${shown}' names two ${a.role}s`, {
      got: shown,
      first: a.name,
      second: b.name,
      role: a.role === 'colour' ? 'colour treatment' : a.role,
      styles: styleNames().join(', '),
    }),
  };
}
