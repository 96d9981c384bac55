import { PortraitError } from '../errors.js';
import type { GradeLook } from './style.js';
import { closest } from './typos.js';

/**
 * Lighting presets and the lighting parser. Everything a user can ask for lives here as data, so the bots can list
 * it (`LIGHTING_PRESETS`, `describeLightingPresets()`) and the pipeline can render it (src/pipeline/lighting).
 *
 * Directions are the SUBJECT'S, exactly like poses: "key from left" lights the subject's left cheek, which is on the
 * right of the picture when they face the camera. Angles:
 * - `azimuth`: degrees around the head, 0 = from the camera, +90 = from the subject's left, -90 = from the
 *   subject's right, 180 = from behind;
 * - `elevation`: degrees above (+) or below (-) the eye line.
 * The pipeline turns each light into second-order spherical-harmonics irradiance (9 coefficients per colour
 * channel); `softness` damps the higher bands the way a large source does.
 */

/** An RGB colour as linear gains; luminance is normalised by the renderer, so only the hue and saturation count. */
export type Rgb = readonly [number, number, number];

export interface LightSource {
  azimuth: number;
  elevation: number;
  /** Relative strength; the renderer normalises the whole rig to the preset's exposure. */
  intensity: number;
  /** Colour temperature in kelvin (1000-15000) unless `colour` is given. */
  kelvin: number;
  /** An explicit colour (gels, neon) instead of a temperature. */
  colour?: Rgb;
  /** 0 = a hard small source (sharp shadows), 1 = a large soft source (window, softbox). */
  softness: number;
}

/** What happens to everything behind the head. */
export interface BackgroundTreatment {
  /**
   * Blur radius as a share of the output width (0 = keep sharp). Kept small (under 1%): without a matting model
   * the subject mask is a guess, and a strong blur would show where the guess is wrong.
   */
  blur: number;
  /** Brightness gain (1 = unchanged). */
  brightness: number;
  /** Saturation gain (1 = unchanged, 0 = grey). */
  saturation: number;
  /** How much of the rig's colour (0..1) tints the background. */
  tone: number;
  /**
   * Whether the rig lights the room too: where the member cannot be cut out and the whole frame turns and is lit as
   * one, the treatment still goes on what lies round them, the rig's tint kept. Only neon: blind raters called neon
   * over an untreated bright room "a colour filter, not neon on a dark background", and preferred the darker room 57
   * to 19 (a paired panel on 41 photos). Split and rembrandt darkened so drew even or lost (27 to 29, 32 to 39).
   */
  room?: boolean;
}

export interface LightingPreset {
  /** Canonical name, what users type and what results report. */
  readonly name: string;
  /** Other spellings users type (after lower-casing and collapsing spaces, '-' and '_'). */
  readonly aliases: readonly string[];
  /** One line for help texts and bot menus. */
  readonly description: string;
  readonly lights: readonly LightSource[];
  /** Light from everywhere (sky, walls): a flat irradiance term. */
  readonly ambient: { readonly intensity: number; readonly kelvin: number; readonly colour?: Rgb };
  /** Mean brightness of the face after relighting, relative to the reference (1 = same). */
  readonly exposure: number;
  readonly background: BackgroundTreatment;
  /** How far the relight departs from the photo's own light; left out, DEFAULT_CONTRAST. */
  readonly contrast?: RelightContrast;
  /** A colour grade over the whole picture, for light that colours everything it falls on (golden hour, candle). */
  readonly grade?: GradeLook;
  /** A near light's falloff over the whole picture (a candle): see src/pipeline/lighting/falloff.ts. */
  readonly falloff?: LightFalloff;
}

/** How a near light (a flame held by the face) falls off: its light drops with the square of the distance. */
export interface LightFalloff {
  /** Distance from the light, in face radii, at which its light is half. */
  readonly reach: number;
  /** The share of its light the farthest corner keeps. */
  readonly floor: number;
  /** How far below the face's centre the light sits, in face radii (a flame held low in front). */
  readonly below: number;
}

/**
 * How strongly a rig replaces the photo's own light. The relight multiplies the photo by the ratio of the new light
 * to the old; most presets lay it over the photo's own modelling (a share of it in log space, the gain clamped), as
 * a gentle change reads as light and a strong one as a painted gradient. A gel rig needs more: at the default neon's
 * gels showed as a faint pink (a blind panel posted 35% of neon portraits, "the light barely shows"). Not split: its
 * shadow half taken deeper this way read as a grey smudge on the cheek, not as shadow (a blind paired panel).
 */
export interface RelightContrast {
  /** The lowest luminance gain: how dark a shadow side may go (1 = no darkening). */
  readonly floor: number;
  /** Share of the log gain applied, for a photo whose own light is well explained. */
  readonly strength: number;
  /** Share of the rig's colour the gain carries (0 = white light whatever the gels, 1 = all of it). */
  readonly colour: number;
  /**
   * Each light's own shadow edge (a clamped cosine per light, softened by its softness) instead of the rig's
   * spherical-harmonic irradiance, which cannot hold a hard light's edge: a key from the side faded from cheek to
   * cheek, and split and rembrandt barely showed (blind raters posted 2% and 7% of them).
   */
  readonly direct?: boolean;
  /**
   * How much warmer skin grows where the light darkens it (0 = none): skin's shadows are warm and deep, as light
   * scatters under it, and darkened grey they read as a grey smudge, not as shadow (a blind paired panel). Skin only:
   * laid on a room or a black and white photo the same warmth read as a peach or sepia cast.
   */
  readonly warmth?: number;
  /**
   * A hard light's shadow edge (direct only): the light reaches full strength this far (in cosine) past the edge
   * instead of growing with the cosine. Left out, a Lambertian fall-off: from the side it lit only the cheek by the
   * ear fully, and the front of the face went a dim grey-brown rather than lit ("the whole picture dimmed").
   */
  readonly edge?: number;
  /**
   * The face's exposure set on its lit side, not its mean: the 90th percentile of the face's gain is this. With the
   * geometric mean, the lit half hit the gain ceiling and the shadow half was lifted to a mid grey.
   */
  readonly litSide?: number;
  /** Share of the face's own relief in the normals the light sees (default 1): less, a cleaner shadow edge. */
  readonly relief?: number;
  /** How far the gain is smoothed, as a share of the head model's grid (default 1/90): less, a crisper edge. */
  readonly smoothing?: number;
  /**
   * Share of the photo's own detail brighter than its surround that is flattened where the light darkens (0..1):
   * the photo's highlights, left in a shadow, read as bright blobs and dirty, blotchy skin.
   */
  readonly flattenShadow?: number;
}

export const DEFAULT_CONTRAST: RelightContrast = { floor: 0.45, strength: 0.8, colour: 0.4 };

/**
 * Split and rembrandt: the light's own shadow edge, deep and warm on skin. Against the gentle default, a blind
 * paired panel on the split and rembrandt portraits of 21 unseen photos preferred it 46 to 24 (14 the same):
 * rembrandt 25 to 14, split 21 to 10. Against it: an orange, muddy cast on a few darker faces; half the warmth
 * (0.15) drew 54 of 54 ratings the same.
 */
const SHAPED_SHADOW: RelightContrast = {
  floor: 0.15,
  strength: 1,
  colour: 0.4,
  direct: true,
  warmth: 0.3,
};

/**
 * Split: the shaped shadow with a hard edge, exposed on its lit side, and the photo's highlights flattened in the
 * shadow half. No rater of three absolute panels posted the shaped shadow's split ("the face stayed evenly lit"). A
 * blind paired panel on the split portraits of 36 photos (unseen and shared) preferred this one 44 to 25 (3 the same).
 * With a softer rise to full light (0.25), a lit side at 1.15 and a floor of 0.1 it drew even (33 to 34: "the whole
 * picture dimmed into muddy grey-brown skin"); without the flattening, deeper still, it lost (27 to 38). Smoothed over
 * 1/120 of the grid, not the panelled 1/180: at 1/180 the gain kinked by 18% at Biden's face outline (the no-step
 * test); the portraits differ by a mean of at most 0.94 levels.
 */
const SPLIT_SHADOW: RelightContrast = {
  ...SHAPED_SHADOW,
  warmth: 0.15,
  edge: 0.1,
  litSide: 1.35,
  relief: 0.5,
  smoothing: 1 / 120,
  flattenShadow: 0.8,
};

const soft = 0.85;
const medium = 0.45;
const hard = 0.1;

/** The catalogue. Keys point to the subject's left by default; "<preset> from right" mirrors them. */
export const LIGHTING_PRESETS: readonly LightingPreset[] = [
  {
    name: 'studio',
    aliases: ['default', 'soft', 'softbox', 'portrait'],
    description: 'Soft, even key from the front-left with a gentle fill: clean and flattering.',
    lights: [
      { azimuth: 35, elevation: 30, intensity: 1, kelvin: 5600, softness: soft },
      { azimuth: -45, elevation: 10, intensity: 0.45, kelvin: 5600, softness: soft },
    ],
    ambient: { intensity: 0.35, kelvin: 5600 },
    exposure: 1.05,
    background: { blur: 0.0048, brightness: 1, saturation: 0.85, tone: 0 },
  },
  {
    name: 'rembrandt',
    aliases: ['chiaroscuro', 'dramatic'],
    description: 'Key high at 45 degrees, little fill: a small triangle of light on the shadow cheek.',
    lights: [{ azimuth: 50, elevation: 40, intensity: 1, kelvin: 4800, softness: medium }],
    ambient: { intensity: 0.1, kelvin: 5000 },
    exposure: 0.9,
    background: { blur: 0.004, brightness: 0.55, saturation: 0.7, tone: 0.3 },
    contrast: SHAPED_SHADOW,
  },
  {
    name: 'loop',
    aliases: ['loop lighting'],
    description: 'Key slightly to one side and above: a small nose shadow that loops toward the cheek.',
    lights: [
      { azimuth: 35, elevation: 35, intensity: 1, kelvin: 5200, softness: medium },
      { azimuth: -40, elevation: 5, intensity: 0.3, kelvin: 5200, softness: soft },
    ],
    ambient: { intensity: 0.2, kelvin: 5200 },
    exposure: 1,
    background: { blur: 0.004, brightness: 0.8, saturation: 0.9, tone: 0 },
  },
  {
    name: 'split',
    aliases: ['side', 'side light', 'half'],
    description: 'Key straight from the side: one half of the face lit, the other in shadow.',
    lights: [{ azimuth: 90, elevation: 5, intensity: 1, kelvin: 5000, softness: hard }],
    // Enough fill that the shadow side keeps its features: on a dark photo less read as murky.
    ambient: { intensity: 0.12, kelvin: 5000 },
    exposure: 0.92,
    background: { blur: 0.004, brightness: 0.5, saturation: 0.7, tone: 0.2 },
    contrast: SPLIT_SHADOW,
  },
  {
    name: 'butterfly',
    aliases: ['paramount', 'glamour', 'beauty'],
    description: 'Key high in front of the face: a small shadow under the nose, glamour style.',
    lights: [
      { azimuth: 0, elevation: 50, intensity: 1, kelvin: 5600, softness: medium },
      { azimuth: 0, elevation: -35, intensity: 0.3, kelvin: 5600, softness: soft },
    ],
    ambient: { intensity: 0.2, kelvin: 5600 },
    exposure: 1.05,
    background: { blur: 0.0048, brightness: 0.9, saturation: 0.9, tone: 0 },
  },
  {
    name: 'rim',
    aliases: ['backlight', 'back light', 'rim light', 'edge'],
    description: 'Lights behind the head outline the face and hair against a dark background.',
    lights: [
      { azimuth: 130, elevation: 25, intensity: 1.2, kelvin: 6000, softness: hard },
      { azimuth: -130, elevation: 25, intensity: 1.2, kelvin: 6000, softness: hard },
      { azimuth: 0, elevation: 10, intensity: 0.25, kelvin: 5600, softness: soft },
    ],
    ambient: { intensity: 0.12, kelvin: 6000 },
    exposure: 0.8,
    background: { blur: 0.006, brightness: 0.4, saturation: 0.6, tone: 0.2 },
  },
  {
    name: 'golden hour',
    aliases: ['golden', 'sunset', 'sunrise', 'warm sun'],
    description: 'Low warm sun from the side and a warm glow everywhere, like the hour before sunset.',
    lights: [{ azimuth: 60, elevation: 10, intensity: 1.1, kelvin: 2900, softness: medium }],
    ambient: { intensity: 0.4, kelvin: 3800 },
    exposure: 1.05,
    background: { blur: 0.008, brightness: 1.05, saturation: 1.1, tone: 0.45 },
    // The sun's warmth over the whole picture: through the relight alone it reached the skin at a share of a share
    // and the wall stayed white, "barely visible". Blind paired panels on 26 portraits: a grade of temperature 0.6
    // against none 74 to 1; this one against that 70 to 5 (against it, a few faces "very orange").
    grade: { kind: 'grade', temperature: 0.9, tint: 0.1, saturation: 1.1, contrast: 0.1 },
  },
  {
    name: 'blue hour',
    aliases: ['blue', 'twilight', 'dusk'],
    description: 'Cool, soft twilight from the sky with a faint key: calm and moody.',
    lights: [{ azimuth: -30, elevation: 45, intensity: 0.6, kelvin: 8000, softness: soft }],
    ambient: { intensity: 0.6, kelvin: 11000 },
    exposure: 0.85,
    background: { blur: 0.008, brightness: 0.7, saturation: 0.9, tone: 0.5 },
  },
  {
    name: 'window',
    aliases: ['window light', 'daylight', 'natural'],
    description: 'A big soft daylight source from one side, falling off gently across the face.',
    lights: [{ azimuth: 70, elevation: 15, intensity: 1, kelvin: 6200, softness: soft }],
    ambient: { intensity: 0.22, kelvin: 6500 },
    exposure: 1,
    background: { blur: 0.006, brightness: 0.9, saturation: 0.95, tone: 0.1 },
  },
  {
    name: 'neon',
    aliases: ['cyberpunk', 'synthwave', 'club'],
    description: 'Magenta from one side, blue from the other, on a dark tinted background.',
    lights: [
      // Saturated gels a little behind the cheeks, so each side of the face takes its own colour and the middle
      // stays darker. Softer gels on a frontal rig, with a fifth of ambient and the default contrast, showed as a
      // faint pink ("the light barely shows", 35% posted); flat primaries over the whole face read as paint.
      { azimuth: 100, elevation: 5, intensity: 1, kelvin: 6500, colour: [1, 0.2, 0.7], softness: medium },
      // The cool gel a deep blue, not cyan: on skin (little blue in it) a cyan gel's green came out a sickly
      // yellow-green cheek, and a paler blue a lavender wash beside the magenta (blind paired panels on 21 unseen
      // photos: this blue against the cyan 40 to 0; the paler blue against it 22 to 18).
      { azimuth: -100, elevation: 5, intensity: 0.9, kelvin: 6500, colour: [0.05, 0.35, 1], softness: medium },
    ],
    ambient: { intensity: 0.08, kelvin: 6500 },
    exposure: 1,
    background: { blur: 0.008, brightness: 0.55, saturation: 1, tone: 0.3, room: true },
    contrast: { floor: 0.2, strength: 1, colour: 1 },
  },
  {
    name: 'candle',
    aliases: ['candlelight', 'candle light', 'firelight', 'fire'],
    description: 'A small, very warm flame low in front: deep shadows and an amber glow.',
    lights: [{ azimuth: 20, elevation: -20, intensity: 1, kelvin: 1900, softness: hard }],
    ambient: { intensity: 0.06, kelvin: 2200 },
    exposure: 0.8,
    background: { blur: 0.006, brightness: 0.35, saturation: 0.9, tone: 0.6 },
    // A flame lights the face and little else, and colours all it lights: without the falloff and the grade a
    // candle portrait was the photo, flat and neutral (a blind paired panel on 36 portraits: 96 to 12; the losses a
    // blue-lit photo turned teal, dark hair lost in the dark, black and white photos).
    falloff: { reach: 1.5, floor: 0.05, below: 0.5 },
    grade: { kind: 'grade', temperature: 0.7, tint: 0.1, saturation: 1.05, contrast: 0.15 },
  },
];

/** Named directions for "key from <direction>" (subject's left/right). */
export const LIGHT_DIRECTIONS: Readonly<Record<string, { azimuth: number; elevation: number }>> = {
  front: { azimuth: 0, elevation: 15 },
  left: { azimuth: 75, elevation: 20 },
  right: { azimuth: -75, elevation: 20 },
  above: { azimuth: 0, elevation: 65 },
  below: { azimuth: 0, elevation: -45 },
  behind: { azimuth: 180, elevation: 20 },
  'upper left': { azimuth: 55, elevation: 45 },
  'upper right': { azimuth: -55, elevation: 45 },
  'lower left': { azimuth: 55, elevation: -35 },
  'lower right': { azimuth: -55, elevation: -35 },
  'front left': { azimuth: 40, elevation: 20 },
  'front right': { azimuth: -40, elevation: 20 },
  'behind left': { azimuth: 135, elevation: 20 },
  'behind right': { azimuth: -135, elevation: 20 },
};

const DIRECTION_ALIASES: Readonly<Record<string, string>> = {
  top: 'above',
  up: 'above',
  overhead: 'above',
  bottom: 'below',
  under: 'below',
  underneath: 'below',
  back: 'behind',
  'top left': 'upper left',
  'top right': 'upper right',
  'above left': 'upper left',
  'above right': 'upper right',
  'bottom left': 'lower left',
  'bottom right': 'lower right',
  'below left': 'lower left',
  'below right': 'lower right',
  'left front': 'front left',
  'right front': 'front right',
  'back left': 'behind left',
  'back right': 'behind right',
  'left behind': 'behind left',
  'right behind': 'behind right',
};

/** Colours for "key from <direction>, <colour>": a temperature or a gel colour. */
export const LIGHT_COLOURS: Readonly<Record<string, { kelvin: number; colour?: Rgb }>> = {
  neutral: { kelvin: 5600 },
  white: { kelvin: 6000 },
  daylight: { kelvin: 6000 },
  warm: { kelvin: 3200 },
  cool: { kelvin: 8000 },
  cold: { kelvin: 9500 },
  red: { kelvin: 6500, colour: [1, 0.12, 0.1] },
  orange: { kelvin: 6500, colour: [1, 0.5, 0.12] },
  amber: { kelvin: 6500, colour: [1, 0.65, 0.2] },
  yellow: { kelvin: 6500, colour: [1, 0.9, 0.25] },
  green: { kelvin: 6500, colour: [0.2, 1, 0.3] },
  teal: { kelvin: 6500, colour: [0.1, 0.85, 0.75] },
  cyan: { kelvin: 6500, colour: [0.1, 0.85, 1] },
  blue: { kelvin: 6500, colour: [0.15, 0.35, 1] },
  purple: { kelvin: 6500, colour: [0.6, 0.2, 1] },
  violet: { kelvin: 6500, colour: [0.55, 0.25, 1] },
  magenta: { kelvin: 6500, colour: [1, 0.2, 0.85] },
  pink: { kelvin: 6500, colour: [1, 0.45, 0.7] },
};

const COLOUR_ALIASES: Readonly<Record<string, string>> = {
  warmer: 'warm',
  cooler: 'cool',
  tungsten: 'warm',
  gold: 'amber',
  golden: 'amber',
  grey: 'neutral',
  gray: 'neutral',
  colour: 'neutral',
  color: 'neutral',
};

/** A parsed lighting request: what the renderer needs, plus the label results show. */
export interface Lighting {
  /** Canonical label: 'rembrandt', 'rembrandt from right', 'key from left, warm'. */
  readonly label: string;
  readonly description: string;
  readonly lights: readonly LightSource[];
  readonly ambient: LightingPreset['ambient'];
  readonly exposure: number;
  readonly background: BackgroundTreatment;
  readonly contrast?: RelightContrast;
  readonly grade?: GradeLook;
  readonly falloff?: LightFalloff;
}

export type LightingResult = { ok: true; value: Lighting } | { ok: false; error: PortraitError };

/** Lower-case, '-' and '_' as spaces, single spaces, no surrounding punctuation. */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[-_]+/g, ' ')
    .replace(/\s*,\s*/g, ', ')
    .replace(/\s+/g, ' ')
    .replace(/^[\s"'.]+|[\s"'.!]+$/g, '');
}

const presetByName = new Map<string, LightingPreset>();
for (const p of LIGHTING_PRESETS) {
  presetByName.set(p.name, p);
  presetByName.set(p.name.replace(/ /g, ''), p);
  for (const a of p.aliases) {
    presetByName.set(a, p);
    presetByName.set(a.replace(/ /g, ''), p);
  }
}

function lookupDirection(word: string): { name: string; azimuth: number; elevation: number } | undefined {
  const name = DIRECTION_ALIASES[word] ?? word;
  const d = LIGHT_DIRECTIONS[name];
  return d ? { name, ...d } : undefined;
}

function lookupColour(word: string): { name: string; kelvin: number; colour?: Rgb } | undefined {
  const name = COLOUR_ALIASES[word] ?? word;
  const c = LIGHT_COLOURS[name];
  return c ? { name, ...c } : undefined;
}

/** A preset mirrored left/right (its keys move to the other side of the face). */
function mirror(preset: LightingPreset): Pick<Lighting, 'lights'> {
  return { lights: preset.lights.map((l) => ({ ...l, azimuth: -l.azimuth })) };
}

function fromPreset(preset: LightingPreset, side?: 'left' | 'right'): Lighting {
  // Presets are authored with the key on the subject's left; "from right" mirrors them.
  const mirrored = side === 'right';
  return {
    label: side ? `${preset.name} from ${side}` : preset.name,
    description: preset.description,
    lights: mirrored ? mirror(preset).lights : preset.lights,
    ambient: preset.ambient,
    exposure: preset.exposure,
    background: preset.background,
    ...(preset.contrast ? { contrast: preset.contrast } : {}),
    ...(preset.grade ? { grade: preset.grade } : {}),
    ...(preset.falloff ? { falloff: preset.falloff } : {}),
  };
}

function keyLight(
  direction: { name: string; azimuth: number; elevation: number },
  colour: { name: string; kelvin: number; colour?: Rgb } | undefined,
): Lighting {
  const c = colour ?? { name: 'neutral', kelvin: 5600 };
  const gel = c.colour;
  const light: LightSource = {
    azimuth: direction.azimuth,
    elevation: direction.elevation,
    intensity: 1,
    kelvin: c.kelvin,
    softness: 0.4,
    ...(gel ? { colour: gel } : {}),
  };
  return {
    label: colour ? `key from ${direction.name}, ${c.name}` : `key from ${direction.name}`,
    description: `A single key light from the subject's ${direction.name}${colour ? `, ${c.name}` : ''}, with a little fill.`,
    lights: [light],
    // A neutral fill keeps the shadow side readable; gels stay on the key only.
    ambient: { intensity: 0.2, kelvin: gel ? 6000 : c.kelvin },
    exposure: 0.95,
    background: { blur: 0.0048, brightness: 0.8, saturation: 0.9, tone: gel ? 0.35 : 0.15 },
  };
}

/**
 * Parses what a user typed for lighting. Accepts a preset name or alias ('golden hour', 'golden-hour',
 * 'candlelight'), a preset with a side ('rembrandt from right', 'window left'), and a key direction with an
 * optional colour ('key from left, warm', 'light from upper right, cool', 'warm key from left', 'key from below,
 * red'). Empty text means 'studio'. Never throws; unknown text gives 'request.bad_lighting' with a suggestion.
 */
export function parseLighting(text: string): LightingResult {
  const input = normalise(text);
  if (input === '') return ok(fromPreset(presetOrThrow('studio')));

  const direct = presetByName.get(input);
  if (direct) return ok(fromPreset(direct));

  // "<preset> [from] left|right"
  const sided = /^(?<name>.+?) (?:from (?:the )?|on the )?(?<side>left|right)$/.exec(input);
  if (sided?.groups) {
    const preset = presetByName.get(sided.groups['name'] ?? '');
    if (preset) return ok(fromPreset(preset, sided.groups['side'] as 'left' | 'right'));
  }

  // "key from <direction>[, <colour>]" with the colour before or after.
  const key = parseKeyPhrase(input);
  if (key) {
    const { directionWords, colourWord } = key;
    const direction = lookupDirection(directionWords);
    if (direction) {
      if (colourWord === undefined) return ok(keyLight(direction, undefined));
      const colour = lookupColour(colourWord);
      if (colour) return ok(keyLight(direction, colour));
      const near = closest(colourWord, [...Object.keys(LIGHT_COLOURS), ...Object.keys(COLOUR_ALIASES)]);
      return bad(text, near ? `key from ${direction.name}, ${COLOUR_ALIASES[near] ?? near}` : undefined);
    }
    const nearDir = closest(directionWords, [...Object.keys(LIGHT_DIRECTIONS), ...Object.keys(DIRECTION_ALIASES)]);
    if (nearDir) {
      const d = DIRECTION_ALIASES[nearDir] ?? nearDir;
      const c = colourWord ? lookupColour(colourWord) : undefined;
      return bad(text, c ? `key from ${d}, ${c.name}` : `key from ${d}`);
    }
    return bad(text, undefined);
  }

  // "rembrant from left": a misspelt preset with a side.
  if (sided?.groups) {
    const n = closest(sided.groups['name'] ?? '', [...presetByName.keys()]);
    const p = n ? presetByName.get(n) : undefined;
    if (p) return bad(text, `${p.name} from ${sided.groups['side']}`);
  }
  const near = closest(input, [...presetByName.keys()]);
  return bad(text, near ? (presetByName.get(near)?.name ?? near) : undefined);
}

/**
 * Splits "warm key light from the upper left", "key from left, warm", "light from left with a cool gel" or
 * "key left warm" into direction words and an optional colour word. Undefined when the text is not a key phrase.
 */
function parseKeyPhrase(input: string): { directionWords: string; colourWord?: string } | undefined {
  let rest = input;
  let colourWord: string | undefined;
  const after =
    /^(?<head>.+?)(?:, | and | with | in )(?:an? )?(?<colour>[a-z]+)(?: light| gel| tone| colour| color)?$/.exec(rest);
  if (after?.groups) {
    rest = after.groups['head'] ?? rest;
    colourWord = after.groups['colour'];
  }
  const before = /^(?<colour>[a-z]+) (?=key|light|lit|lamp)/.exec(rest);
  const leadWords = new Set(['key', 'light', 'lit', 'lamp', 'lighting']);
  if (before?.groups && colourWord === undefined && !leadWords.has(before.groups['colour'] ?? '')) {
    colourWord = before.groups['colour'];
    rest = rest.slice(before[0].length);
  }
  const lead = /^(?:key light|key|light|lit|lighting|lamp)(?: (?:from|on)(?: the)?)?(?: |$)|^from(?: the)? /.exec(rest);
  if (!lead) return undefined;
  let directionWords = rest.slice(lead[0].length).trim();
  if (directionWords === '') return { directionWords: '', ...(colourWord ? { colourWord } : {}) };
  // "key from left warm": a trailing colour without a comma.
  const words = directionWords.split(' ');
  const last = words[words.length - 1] ?? '';
  if (colourWord === undefined && words.length > 1 && !lookupDirection(directionWords) && lookupColour(last)) {
    colourWord = last;
    directionWords = words.slice(0, -1).join(' ');
  }
  return { directionWords, ...(colourWord ? { colourWord } : {}) };
}

function presetOrThrow(name: string): LightingPreset {
  const p = presetByName.get(name);
  if (!p) throw new Error(`lighting preset ${name} missing from the catalogue`);
  return p;
}

/**
 * Whether a rig colours its light: a gel, or a temperature well away from daylight (golden hour, candle, a "warm"
 * or "cool" key). A black and white photo leaves that colour out (withoutColour), and the caption says so.
 */
export function colouredLight(lighting: Lighting): boolean {
  const coloured = (s: { kelvin: number; colour?: Rgb }) =>
    s.colour ? Math.max(...s.colour) - Math.min(...s.colour) > 0.1 : s.kelvin < 4500 || s.kelvin > 7500;
  return lighting.lights.some(coloured) || coloured(lighting.ambient);
}

/**
 * The rig with its colour taken out (white lights, white ambient, no tint on the background), for a black and white
 * photo: neon or golden-hour colour laid on one read as a lavender or orange cast, not as light (a blind panel).
 * The light's direction, softness and strength stay; the contrast and the lit room a gel rig asks for go with its
 * colour, a shaped shadow's contrast stays.
 */
export function withoutColour(lighting: Lighting): Lighting {
  const white: Rgb = [1, 1, 1];
  // A gel rig's contrast and its lit room are for its colours: laid on a grey photo in white, deep shadows read as
  // dark blotches on a forehead, its darkened room as a blotchy smudge (blind paired panels). A shaped shadow
  // (split, rembrandt) is light and shade, not colour, and stays: on 11 black and white photos a blind paired panel
  // preferred it to the gentle default 24 to 15 (5 the same; against it, a blown forehead kept bright in the shadow).
  const { contrast, grade: _grade, ...rest } = lighting;
  const shaped = contrast?.direct ? { contrast } : {};
  return {
    ...rest,
    ...shaped,
    lights: lighting.lights.map((l) => ({ ...l, colour: white })),
    ambient: { ...lighting.ambient, colour: white },
    background: { ...lighting.background, tone: 0, room: false },
  };
}

/** One line per preset, for `/portrait help` and bot menus. */
export function describeLightingPresets(): string[] {
  return [
    ...LIGHTING_PRESETS.map((p) => `${p.name}: ${p.description}`),
    `key from <direction>[, <colour>]: one key light from the subject's ${Object.keys(LIGHT_DIRECTIONS).join(', ')}; colour ${Object.keys(LIGHT_COLOURS).join(', ')}.`,
    'Left and right are the subject\'s own (their left is on the right of the picture). Add "from right" to a preset to flip it.',
  ];
}

function ok(value: Lighting): LightingResult {
  return { ok: true, value };
}

function bad(got: string, suggestion: string | undefined): LightingResult {
  const shown = got.trim().slice(0, 60);
  return {
    ok: false,
    error: new PortraitError('request.bad_lighting', `unknown lighting '${shown}'`, {
      got: shown,
      ...(suggestion ? { suggestion } : {}),
    }),
  };
}
