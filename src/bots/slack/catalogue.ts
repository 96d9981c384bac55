import { LIGHTING_PRESETS } from '../../core/lighting.js';
import { POSE_PRESETS } from '../../core/pose.js';
import { DEFAULT_VOCABULARY, type PromptVocabulary } from '../../core/prompt.js';
import { STYLE_PRESETS } from '../../core/style.js';
import type { PresetInfo } from '../common/present.js';

/**
 * The preset catalogues and parsers the Slack adapter shows and checks with: src/core/pose.ts and
 * src/core/lighting.ts. Injected (SlackBotDeps.catalogue) so tests can pin it.
 */
export interface SlackCatalogue {
  poses: readonly PresetInfo[];
  lightings: readonly PresetInfo[];
  styles: readonly PresetInfo[];
  vocabulary: PromptVocabulary;
}

export function defaultCatalogue(): SlackCatalogue {
  return {
    poses: POSE_PRESETS.map((p) => ({ name: p.name, description: p.description, aliases: p.aliases })),
    lightings: LIGHTING_PRESETS.map((p) => ({ name: p.name, description: p.description, aliases: p.aliases })),
    styles: STYLE_PRESETS.map((p) => ({ name: p.name, description: p.description, aliases: p.aliases })),
    vocabulary: DEFAULT_VOCABULARY,
  };
}
