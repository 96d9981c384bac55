import { LIGHTING_PRESETS, parseLighting } from '../../core/lighting.js';
import { checkPoseForEngine, POSE_PRESETS, parsePose } from '../../core/pose.js';
import type { EngineName } from '../../core/request.js';
import { checkStyleForEngine, parseStyle, STYLE_PRESETS } from '../../core/style.js';
import type { PortraitError } from '../../errors.js';

/**
 * What the adapter needs from the preset catalogues in src/core: names and one-line descriptions for autocomplete,
 * menus and help, and the parsers, so a typo is refused at once with the parser's own suggestion instead of
 * failing in the worker a minute later. Injected into the bot so tests can pin it.
 */
export interface PresetInfo {
  name: string;
  description: string;
  aliases: readonly string[];
}

export interface Catalogue {
  poses: readonly PresetInfo[];
  lightings: readonly PresetInfo[];
  styles: readonly PresetInfo[];
  /** undefined when the text parses; otherwise the parser's error (code request.bad_pose / pose_out_of_range). */
  checkPose(text: string): PortraitError | undefined;
  checkLighting(text: string): PortraitError | undefined;
  /** The compositor renders only the style catalogue; the diffusion engine takes free text. */
  checkStyle(text: string): PortraitError | undefined;
}

/**
 * The catalogues of src/core for the engine the workers run. Pose presets the engine cannot draw (profiles on the
 * compositor) are left out of menus, and typing one is refused at once with the engine's limit.
 */
export function coreCatalogue(engine: EngineName = 'compositor'): Catalogue {
  const info = (p: { name: string; description: string; aliases: readonly string[] }): PresetInfo => ({
    name: p.name,
    description: p.description,
    aliases: p.aliases,
  });
  return {
    poses: POSE_PRESETS.filter((p) => !checkPoseForEngine({ ...p, label: p.name }, engine)).map(info),
    lightings: LIGHTING_PRESETS.map(info),
    styles: STYLE_PRESETS.map(info),
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

/**
 * Autocomplete for a style, which may combine parts ("black and white, studio grey"): the presets matching the
 * part after the last comma, each offered as the whole text with that part completed, keeping only combinations
 * that `check` accepts (two backdrops do not combine).
 */
function matchStyleChoices(
  presets: readonly PresetInfo[],
  typed: string,
  check: (text: string) => PortraitError | undefined,
  limit = 25,
): Array<{ name: string; value: string }> {
  const cut = typed.lastIndexOf(',');
  const head = cut >= 0 ? typed.slice(0, cut).trim() : '';
  const tail = cut >= 0 ? typed.slice(cut + 1) : typed;
  const out: Array<{ name: string; value: string }> = [];
  const headStyle = head ? parseStyle(head) : undefined;
  const headLabel = headStyle?.ok ? headStyle.value.label : undefined;
  for (const p of matchPresets(presets, tail, presets.length)) {
    const value = head ? `${head}, ${p.name}` : p.name;
    if (value.length > 100 || (head && check(value))) continue;
    // "studio grey, studio grey" adds nothing.
    const whole = head ? parseStyle(value) : undefined;
    if (whole?.ok && whole.value.label === headLabel) continue;
    out.push({ name: `${value} - ${p.description}`.slice(0, 100), value });
    if (out.length === limit) break;
  }
  return out;
}

/**
 * Style autocomplete: catalogue entries (completing the last part of a combination), and text the engine takes as
 * typed, in its canonical spelling when it is a catalogue style ("b&w" is offered as "black and white").
 */
export function styleChoices(catalogue: Catalogue, typed: string): Array<{ name: string; value: string }> {
  const choices = matchStyleChoices(catalogue.styles, typed, catalogue.checkStyle);
  const text = typed.trim();
  if (text && text.length <= 100 && !catalogue.checkStyle(text)) {
    const parsed = parseStyle(text);
    const value = parsed.ok && parsed.value.label ? parsed.value.label : text;
    if (!choices.some((c) => c.value === value)) choices.unshift({ name: value, value });
  }
  return choices.slice(0, 25);
}
