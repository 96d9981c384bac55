import { LIGHTING_PRESETS, parseLighting } from '../core/lighting.js';
import { checkPoseForEngine, POSE_PRESETS, parsePose } from '../core/pose.js';
import { DEFAULT_VOCABULARY, type PromptVocabulary } from '../core/prompt.js';
import type { EngineName } from '../core/request.js';
import { checkStyleForEngine, parseStyle, STYLE_PRESETS } from '../core/style.js';
import type { PortraitError } from '../errors.js';

/**
 * What every chat surface offers and checks, for the engine the workers run: the pose and lighting presets of
 * src/core for menus, autocomplete and help, and the parsers, so a typo or a pose the engine cannot draw is refused
 * the moment it is asked for (with the parser's own suggestion or the engine's limit), on every platform alike,
 * instead of failing in the worker a minute later. Injected into the adapters so tests can pin it.
 */
export interface PresetInfo {
  readonly name: string;
  readonly description: string;
  readonly aliases: readonly string[];
}

export interface Catalogue {
  /** The engine the workers run (PORTRAIT_ENGINE): what the lists and checks are for. */
  readonly engine: EngineName;
  /** Pose presets the engine can draw (profiles are left out on the compositor). */
  readonly poses: readonly PresetInfo[];
  readonly lightings: readonly PresetInfo[];
  /** The style catalogue (src/core/style.ts): what the compositor renders; the diffusion engine also takes free text. */
  readonly styles: readonly PresetInfo[];
  /** How free-text prompts (Slack mentions) recognise poses and lightings. */
  readonly vocabulary: PromptVocabulary;
  /** undefined when the text parses and the engine can draw it; otherwise the error to answer with. */
  checkPose(text: string): PortraitError | undefined;
  checkLighting(text: string): PortraitError | undefined;
  /** undefined for an empty style, a catalogue style, or free text on an engine that takes it. */
  checkStyle(text: string): PortraitError | undefined;
}

/**
 * The catalogues of src/core for `engine`. Pose presets the engine cannot draw are not offered, and typing one is
 * refused at once with the engine's limit (request.pose_out_of_range).
 */
export function createCatalogue(engine: EngineName = 'compositor'): Catalogue {
  const info = (p: PresetInfo): PresetInfo => ({ name: p.name, description: p.description, aliases: p.aliases });
  return {
    engine,
    poses: POSE_PRESETS.filter((p) => !checkPoseForEngine({ ...p, label: p.name }, engine)).map(info),
    lightings: LIGHTING_PRESETS.map(info),
    styles: STYLE_PRESETS.map(info),
    // Prompts are parsed with the full vocabulary so "profile left" is read as a pose (not as style words) and then
    // refused by checkPose with the engine's sentence.
    vocabulary: DEFAULT_VOCABULARY,
    checkPose: (text) => {
      const r = parsePose(text);
      return r.ok ? checkPoseForEngine(r.value, engine) : r.error;
    },
    checkLighting: (text) => {
      const r = parseLighting(text);
      return r.ok ? undefined : r.error;
    },
    checkStyle: (text) => checkStyleForEngine(text, engine),
  };
}

/** The first problem with a request's pose, lighting and style under `catalogue`, or undefined. */
export function checkOptions(
  catalogue: Pick<Catalogue, 'checkPose' | 'checkLighting' | 'checkStyle'>,
  o: { pose?: string | undefined; lighting?: string | undefined; style?: string | undefined },
): PortraitError | undefined {
  return (
    (o.pose !== undefined ? catalogue.checkPose(o.pose) : undefined) ??
    (o.lighting !== undefined ? catalogue.checkLighting(o.lighting) : undefined) ??
    (o.style ? catalogue.checkStyle(o.style) : undefined)
  );
}

/** Up to `limit` presets matching what the user has typed so far, best first (name prefix, then anywhere). */
export function matchPresets(presets: readonly PresetInfo[], typed: string, limit = 25): PresetInfo[] {
  const q = typed.trim().toLowerCase().replace(/[-_]+/g, ' ');
  if (!q) return presets.slice(0, limit);
  const norm = (s: string) => s.toLowerCase().replace(/[-_]+/g, ' ');
  const score = (p: PresetInfo): number => {
    const names = [p.name, ...p.aliases].map(norm);
    if (names.some((n) => n.startsWith(q))) return 0;
    if (names.some((n) => n.includes(q))) return 1;
    if (norm(p.description).includes(q)) return 2;
    return 3;
  };
  return presets
    .map((p, i) => ({ p, i, s: score(p) }))
    .filter((x) => x.s < 3)
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .slice(0, limit)
    .map((x) => x.p);
}

export interface Suggestion {
  /** What the menu shows: "name - description" (at most 100 characters, Discord's and Slack's limit). */
  label: string;
  /** What is filled in. */
  value: string;
}

/**
 * Autocomplete for a pose, lighting or style field: the presets matching what was typed, and free text the parser
 * accepts ("yaw=20", "key from left, warm") offered first as typed. Never offers what the engine would refuse.
 */
export function suggest(
  catalogue: Catalogue,
  field: 'pose' | 'lighting' | 'style',
  typed: string,
  limit = 25,
): Suggestion[] {
  if (field === 'style') return styleSuggestions(catalogue, typed).slice(0, limit);
  const presets = field === 'pose' ? catalogue.poses : catalogue.lightings;
  const matches = matchPresets(presets, typed);
  const out = matches.map((p) => ({
    label: `${p.name} - ${p.description}`.slice(0, 100),
    value: p.name.slice(0, 100),
  }));
  const text = typed.trim();
  const check = field === 'pose' ? catalogue.checkPose : catalogue.checkLighting;
  const exact = matches.some((p) => p.name.toLowerCase() === text.toLowerCase());
  if (text && !exact && !check(text) && text.length <= 100) out.unshift({ label: text, value: text });
  return out.slice(0, limit);
}

/**
 * Styles may combine parts ("black and white, studio grey"): the presets matching the part after the last comma,
 * each offered as the whole text with that part completed, keeping only combinations the engine accepts (two
 * backdrops do not combine); and the text as typed when the engine takes it, in its canonical spelling when it is a
 * catalogue style ("b&w" is offered as "black and white").
 */
function styleSuggestions(catalogue: Catalogue, typed: string): Suggestion[] {
  const cut = typed.lastIndexOf(',');
  const head = cut >= 0 ? typed.slice(0, cut).trim() : '';
  const tail = cut >= 0 ? typed.slice(cut + 1) : typed;
  const out: Suggestion[] = [];
  const headStyle = head ? parseStyle(head) : undefined;
  const headLabel = headStyle?.ok ? headStyle.value.label : undefined;
  for (const p of matchPresets(catalogue.styles, tail, catalogue.styles.length)) {
    const value = head ? `${head}, ${p.name}` : p.name;
    if (value.length > 100 || (head && catalogue.checkStyle(value))) continue;
    // "studio grey, studio grey" adds nothing.
    const whole = head ? parseStyle(value) : undefined;
    if (whole?.ok && whole.value.label === headLabel) continue;
    out.push({ label: `${value} - ${p.description}`.slice(0, 100), value });
    if (out.length === 25) break;
  }
  const text = typed.trim();
  if (text && text.length <= 100 && !catalogue.checkStyle(text)) {
    const parsed = parseStyle(text);
    const value = parsed.ok && parsed.value.label ? parsed.value.label : text;
    if (!out.some((c) => c.value === value)) out.unshift({ label: value, value });
  }
  return out;
}
