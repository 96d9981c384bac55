/**
 * Component custom ids. They carry everything a button needs, so a button pressed after a bot restart (or on
 * another bot process) still works: no in-memory collectors. Format `pt1:<action>:<arg>`, at most 100 characters
 * (Discord's limit). The argument is a recipe blob key (what to redo), a job id or the owner's user id.
 */

export const CUSTOM_ID_MAX = 100;
const PREFIX = 'pt1';

export const COMPONENT_ACTIONS = ['reroll', 'vary', 'relight', 'delete', 'cancel', 'forget', 'keep'] as const;
export type ComponentAction = (typeof COMPONENT_ACTIONS)[number];

export interface ComponentId {
  action: ComponentAction;
  arg: string;
}

/** The custom id, or undefined when it would not fit in Discord's 100 characters. */
export function encodeComponentId(action: ComponentAction, arg: string): string | undefined {
  const id = `${PREFIX}:${action}:${arg}`;
  return id.length <= CUSTOM_ID_MAX && arg.length > 0 ? id : undefined;
}

/** Parses a custom id of ours; undefined for anything else (other bots' ids, old formats, garbage). */
export function decodeComponentId(customId: string): ComponentId | undefined {
  if (customId.length > CUSTOM_ID_MAX) return undefined;
  const first = customId.indexOf(':');
  const second = customId.indexOf(':', first + 1);
  if (first < 0 || second < 0 || customId.slice(0, first) !== PREFIX) return undefined;
  const action = customId.slice(first + 1, second);
  const arg = customId.slice(second + 1);
  if (!(COMPONENT_ACTIONS as readonly string[]).includes(action) || arg.length === 0) return undefined;
  return { action: action as ComponentAction, arg };
}
