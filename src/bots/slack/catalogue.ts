import { LIGHTING_PRESETS } from '../../core/lighting.js';
import { distance, type LabelResult, type PromptVocabulary, vocabulary } from '../../core/prompt.js';
import { PortraitError } from '../../errors.js';
import type { PresetInfo } from '../common/present.js';

/**
 * The preset catalogues and parsers the Slack adapter shows and checks with. Injected (SlackBotDeps.catalogue)
 * so tests can pin it; the default takes lighting from src/core/lighting.ts and poses from src/core/pose.ts.
 */
export interface SlackCatalogue {
  poses: readonly PresetInfo[];
  lightings: readonly PresetInfo[];
  vocabulary: PromptVocabulary;
}

/**
 * Pose presets until src/core/pose.ts (issue 3) is wired in here. The worker parses poses again with the real
 * parser, so this list only decides what the menus offer and which unkeyed words read as a pose.
 */
const INTERIM_POSES: readonly PresetInfo[] = [
  { name: 'front', description: 'Looking straight at the camera.' },
  { name: 'three-quarter left', description: 'Head turned to your left, about 30 degrees.' },
  { name: 'three-quarter right', description: 'Head turned to your right, about 30 degrees.' },
  { name: 'profile left', description: 'Side view facing your left.' },
  { name: 'profile right', description: 'Side view facing your right.' },
  { name: 'look up', description: 'Chin raised, looking slightly up.' },
  { name: 'look down', description: 'Chin lowered, looking slightly down.' },
  { name: 'tilt left', description: 'Head tilted towards your left shoulder.' },
  { name: 'tilt right', description: 'Head tilted towards your right shoulder.' },
];

function interimPose(text: string): LabelResult {
  const t = text.toLowerCase().replace(/[-_]+/g, ' ').replace(/\s+/g, ' ').trim();
  const hit = INTERIM_POSES.find((p) => p.name.replace(/-/g, ' ') === t);
  if (hit) return { ok: true, label: hit.name };
  if (/^(?:(?:yaw|pitch|roll)\s*=?\s*-?\d+(?:\.\d+)?\s*,?\s*)+$/.test(t)) return { ok: true, label: t };
  const ranked = INTERIM_POSES.map((p) => [p.name, distance(t, p.name.replace(/-/g, ' '))] as const).sort(
    (a, b) => a[1] - b[1],
  );
  const near = ranked[0];
  const shown = text.trim().slice(0, 60);
  return {
    ok: false,
    error: new PortraitError('request.bad_pose', `unknown pose '${shown}'`, {
      got: shown,
      ...(near && near[1] <= 3 ? { suggestion: near[0] } : {}),
    }),
  };
}

export function defaultCatalogue(): SlackCatalogue {
  return {
    poses: INTERIM_POSES,
    lightings: LIGHTING_PRESETS.map((p) => ({ name: p.name, description: p.description, aliases: p.aliases })),
    vocabulary: vocabulary(interimPose),
  };
}
