import { LIGHTING_PRESETS, parseLighting } from '../core/lighting.js';
import { checkPoseForEngine, POSE_PRESETS, parsePose } from '../core/pose.js';
import { DEFAULT_VOCABULARY, type PromptVocabulary } from '../core/prompt.js';
import type { EngineName } from '../core/request.js';
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
  /** How free-text prompts (Slack mentions) recognise poses and lightings. */
  readonly vocabulary: PromptVocabulary;
  /** undefined when the text parses and the engine can draw it; otherwise the error to answer with. */
  checkPose(text: string): PortraitError | undefined;
  checkLighting(text: string): PortraitError | undefined;
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
  };
}

/** The first problem with a request's pose and lighting under `catalogue`, or undefined. */
export function checkOptions(
  catalogue: Pick<Catalogue, 'checkPose' | 'checkLighting'>,
  o: { pose?: string | undefined; lighting?: string | undefined },
): PortraitError | undefined {
  return (
    (o.pose !== undefined ? catalogue.checkPose(o.pose) : undefined) ??
    (o.lighting !== undefined ? catalogue.checkLighting(o.lighting) : undefined)
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
 * Autocomplete for a pose or lighting field: the presets matching what was typed, and free text the parser accepts
 * ("yaw=20", "key from left, warm") offered first as typed. Never offers what the engine would refuse.
 */
export function suggest(catalogue: Catalogue, field: 'pose' | 'lighting', typed: string, limit = 25): Suggestion[] {
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
