import { LIGHTING_PRESETS, parseLighting } from '../../core/lighting.js';
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
  /** undefined when the text parses; otherwise the parser's error (code request.bad_pose / pose_out_of_range). */
  checkPose(text: string): PortraitError | undefined;
  checkLighting(text: string): PortraitError | undefined;
}

/**
 * Pose presets until src/core/pose.ts (issue 3) lands; the pipeline is what really parses poses, so a pose this
 * list does not know is passed through rather than refused.
 */
const INTERIM_POSES: readonly PresetInfo[] = [
  { name: 'front', description: 'Looking straight at the camera.', aliases: [] },
  { name: 'three-quarter left', description: 'Head turned to your left, about 30 degrees.', aliases: [] },
  { name: 'three-quarter right', description: 'Head turned to your right, about 30 degrees.', aliases: [] },
  { name: 'profile left', description: 'Side view facing your left.', aliases: [] },
  { name: 'profile right', description: 'Side view facing your right.', aliases: [] },
  { name: 'look up', description: 'Chin raised, looking slightly up.', aliases: [] },
  { name: 'look down', description: 'Chin lowered, looking slightly down.', aliases: [] },
  { name: 'tilt left', description: 'Head tilted towards your left shoulder.', aliases: [] },
  { name: 'tilt right', description: 'Head tilted towards your right shoulder.', aliases: [] },
];

export function coreCatalogue(): Catalogue {
  return {
    poses: INTERIM_POSES,
    lightings: LIGHTING_PRESETS.map((p) => ({ name: p.name, description: p.description, aliases: p.aliases })),
    checkPose: () => undefined,
    checkLighting: (text) => {
      const r = parseLighting(text);
      return r.ok ? undefined : r.error;
    },
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
