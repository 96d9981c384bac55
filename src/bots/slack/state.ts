import { z } from 'zod';
import { redoRecordSchema } from '../../conversation/redo.js';
import { MAX_VARIATIONS } from '../../core/request.js';

/**
 * What a button under a finished portrait carries in its own `value` (Slack allows 2000 characters): the shared
 * redo record (src/conversation/redo.ts) and the Slack file ids of the uploaded portraits, for Delete. Nothing lives
 * in process memory, so Reroll, Variations, Relight and Delete keep working after the bot restarts or when another
 * bot process receives the click.
 */
const stateSchema = z.object({
  redo: redoRecordSchema,
  files: z.array(z.string().max(40)).max(MAX_VARIATIONS),
});
export type SlackButtonState = z.infer<typeof stateSchema>;

const MAX_VALUE = 2000;

/** The button value. The style is shortened when the whole would not fit (it is the only long free text). */
export function encodeState(state: SlackButtonState): string {
  let value = JSON.stringify(state);
  if (value.length <= MAX_VALUE) return value;
  const over = value.length - MAX_VALUE;
  const style = state.redo.style.slice(0, Math.max(0, state.redo.style.length - over - 8));
  value = JSON.stringify({ ...state, redo: { ...state.redo, style } });
  return value.length <= MAX_VALUE ? value : JSON.stringify({ ...state, redo: { ...state.redo, style: '' } });
}

export function decodeState(value: string | undefined): SlackButtonState | undefined {
  if (!value) return undefined;
  try {
    const parsed = stateSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the adapter stores in a job's opaque `route` (string values only) so the delivery consumer can answer in
 * the right thread and build the buttons without any local memory of the request.
 */
export interface SlackRoute {
  channel: string;
  /** Thread the answer goes to. */
  thread: string;
  /** The status message that shows progress ("Queued - position 2", stage lines, the final word). */
  status: string;
  /** The user's own message (mentions, shortcuts), for the finishing reaction. */
  message?: string;
  /** Submit time in ms, for the "time" in the caption. */
  at: string;
  keys: string;
  pose: string;
  lighting: string;
  style: string;
  variations: string;
}

export function toRoute(r: SlackRoute): Record<string, string> {
  return Object.fromEntries(Object.entries(r).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function fromRoute(route: Readonly<Record<string, string>>): SlackRoute | undefined {
  const { channel, thread, status, at } = route;
  if (!channel || !thread || !status || !at) return undefined;
  return {
    channel,
    thread,
    status,
    ...(route['message'] ? { message: route['message'] } : {}),
    at,
    keys: route['keys'] ?? '',
    pose: route['pose'] ?? '',
    lighting: route['lighting'] ?? '',
    style: route['style'] ?? '',
    variations: route['variations'] ?? '1',
  };
}
