import { z } from 'zod';
import { MAX_SELFIES, MAX_VARIATIONS } from '../../core/request.js';

/**
 * Everything a button under a finished portrait needs, carried in the button's own `value` (Slack allows 2000
 * characters). Nothing lives in process memory, so Reroll, Variations, Relight and Delete keep working after the
 * bot restarts or when another bot process receives the click. Short keys keep the value small.
 */
const stateSchema = z.object({
  v: z.literal(1),
  /** Requester (Slack user id) and workspace (team id). */
  u: z.string().min(1).max(64),
  t: z.string().min(1).max(64),
  /** Selfie blob keys; they expire with the blob TTL, after which a rerun fails with job.expired. */
  k: z.array(z.string().min(1).max(200)).min(1).max(MAX_SELFIES),
  p: z.string().max(200),
  l: z.string().max(200),
  s: z.string().max(500),
  n: z.number().int().min(1).max(MAX_VARIATIONS),
  d: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  /** Slack file ids of the uploaded portraits, for Delete. */
  f: z.array(z.string().max(40)).max(MAX_VARIATIONS),
});
export type PortraitState = z.infer<typeof stateSchema>;

const MAX_VALUE = 2000;

/** The button value. The style is shortened when the whole would not fit (it is the only long free text). */
export function encodeState(state: PortraitState): string {
  let value = JSON.stringify(state);
  if (value.length <= MAX_VALUE) return value;
  const over = value.length - MAX_VALUE;
  const style = state.s.slice(0, Math.max(0, state.s.length - over - 8));
  value = JSON.stringify({ ...state, s: style });
  return value.length <= MAX_VALUE ? value : JSON.stringify({ ...state, s: '' });
}

export function decodeState(value: string | undefined): PortraitState | undefined {
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
