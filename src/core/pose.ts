import { PortraitError } from '../errors.js';
import type { EngineName } from './request.js';
import { closest } from './typos.js';

/**
 * Target head poses: presets as data and a pure parser with typo suggestions, like src/core/lighting.ts.
 *
 * Angles are degrees, and every positive angle points to the SUBJECT'S left or up (the pipeline's geometry uses
 * the same convention, src/pipeline/geometry/linalg.ts):
 * - yaw > 0: the head turns to the subject's left, so the nose points to the right of the picture;
 * - pitch > 0: the chin comes up (looking up);
 * - roll > 0: the head tilts toward the subject's left shoulder (clockwise on screen).
 * "three-quarter left" therefore shows more of the subject's right cheek, exactly as a photographer saying
 * "turn to your left" would get.
 */

export interface TargetPose {
  yaw: number;
  pitch: number;
  roll: number;
  /** Canonical label: a preset name ('three-quarter left') or explicit degrees ('yaw=25 pitch=-10'). */
  label: string;
  /**
   * Axes the request leaves as the selfie has them ("look up" sets the pitch and keeps the selfie's yaw and roll);
   * their numbers above are 0 placeholders. `resolvePose` fills them in from the selfie. Absent = none kept.
   */
  keep?: readonly Axis[];
}

export interface PosePreset {
  readonly name: string;
  /** Other spellings users type (after lower-casing and collapsing spaces, '-' and '_'). */
  readonly aliases: readonly string[];
  /** One line for help texts and bot menus. */
  readonly description: string;
  readonly yaw: number;
  readonly pitch: number;
  readonly roll: number;
  /** Axes the preset leaves as the selfie has them (a turn keeps the selfie's nod and tilt). */
  readonly keep?: readonly Axis[];
}

/** The catalogue. Three-quarter is 30 degrees so the compositor can draw it (see COMPOSITOR_POSE_LIMITS). */
export const POSE_PRESETS: readonly PosePreset[] = [
  {
    name: 'front',
    aliases: ['frontal', 'straight', 'straight on', 'forward', 'face forward', 'centre', 'center', 'default'],
    description: "Facing the camera straight on; the head's tilt stays as in the selfie.",
    yaw: 0,
    pitch: 0,
    roll: 0,
    // A tilt is part of how someone holds their head, not a direction they face; straightening a strongly tilted
    // head also shears the neck under it (seen on a 44-degree tilt).
    keep: ['roll'],
  },
  {
    name: 'three-quarter left',
    aliases: ['3/4 left', '3 4 left', 'three quarter left', 'three quarters left', 'quarter left', 'left', 'turn left'],
    description: "Head turned 30 degrees to the subject's left (nose toward the right of the picture).",
    yaw: 30,
    pitch: 0,
    roll: 0,
    keep: ['pitch', 'roll'],
  },
  {
    name: 'three-quarter right',
    aliases: [
      '3/4 right',
      '3 4 right',
      'three quarter right',
      'three quarters right',
      'quarter right',
      'right',
      'turn right',
    ],
    description: "Head turned 30 degrees to the subject's right (nose toward the left of the picture).",
    yaw: -30,
    pitch: 0,
    roll: 0,
    keep: ['pitch', 'roll'],
  },
  {
    name: 'profile left',
    aliases: ['side left', 'full left', 'left profile', 'profile to the left'],
    description: "Head turned fully (90 degrees) to the subject's left; diffusion engine only.",
    yaw: 90,
    pitch: 0,
    roll: 0,
    keep: ['pitch', 'roll'],
  },
  {
    name: 'profile right',
    aliases: ['side right', 'full right', 'right profile', 'profile to the right'],
    description: "Head turned fully (90 degrees) to the subject's right; diffusion engine only.",
    yaw: -90,
    pitch: 0,
    roll: 0,
    keep: ['pitch', 'roll'],
  },
  {
    name: 'look up',
    aliases: ['up', 'looking up', 'chin up', 'head up'],
    description: 'Chin raised 20 degrees, looking slightly up.',
    yaw: 0,
    pitch: 20,
    roll: 0,
    keep: ['yaw', 'roll'],
  },
  {
    name: 'look down',
    aliases: ['down', 'looking down', 'chin down', 'head down'],
    description: 'Chin lowered 20 degrees, looking slightly down.',
    yaw: 0,
    pitch: -20,
    roll: 0,
    keep: ['yaw', 'roll'],
  },
  {
    name: 'tilt left',
    aliases: ['head tilt left', 'tilted left', 'lean left'],
    description: "Head tilted 15 degrees toward the subject's left shoulder.",
    yaw: 0,
    pitch: 0,
    roll: 15,
    keep: ['yaw', 'pitch'],
  },
  {
    name: 'tilt right',
    aliases: ['head tilt right', 'tilted right', 'lean right'],
    description: "Head tilted 15 degrees toward the subject's right shoulder.",
    yaw: 0,
    pitch: 0,
    roll: -15,
    keep: ['yaw', 'pitch'],
  },
];

/** What the parser accepts for explicit degrees. Beyond these a head no longer reads as a portrait. */
export const POSE_RANGES = {
  yaw: { min: -90, max: 90 },
  pitch: { min: -45, max: 45 },
  roll: { min: -45, max: 45 },
} as const;

export type Axis = keyof typeof POSE_RANGES;
const AXES: readonly Axis[] = ['yaw', 'pitch', 'roll'];

const AXIS_ALIASES: Readonly<Record<string, Axis>> = {
  yaw: 'yaw',
  turn: 'yaw',
  pan: 'yaw',
  pitch: 'pitch',
  nod: 'pitch',
  roll: 'roll',
  tilt: 'roll',
};

/**
 * Rotation the compositor (mesh warp, no diffusion) still draws convincingly; the diffusion engine takes the
 * full POSE_RANGES. Beyond these the mirrored fill and the stretched far cheek show.
 */
export const COMPOSITOR_POSE_LIMITS = { yaw: 30, pitch: 20, roll: 30 } as const;

export type PoseResult = { ok: true; value: TargetPose } | { ok: false; error: PortraitError };

const presetByName = new Map<string, PosePreset>();
/** Every name and alias as users write them, the candidates for typo suggestions. */
const spellings: string[] = [];
for (const p of POSE_PRESETS) {
  for (const n of [p.name, ...p.aliases]) {
    const key = normalise(n);
    spellings.push(key);
    presetByName.set(key, p);
    presetByName.set(key.replace(/ /g, ''), p);
  }
}

/** Lower-case, '-' and '_' as spaces, single spaces, no surrounding quotes or full stops. */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019"']/g, '')
    .replace(/\u2212/g, '-')
    .replace(/_+|-+(?![\d.])/g, ' ')
    .replace(/\s*([=:,])\s*/g, '$1 ')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+|[\s.!]+$/g, '')
    .trim();
}

/**
 * Parses what a user typed for the pose. Accepts:
 * - a preset or alias: 'front', 'three-quarter left', '3/4 right', 'left', 'look up', 'tilt right';
 * - explicit degrees, any subset in any order: 'yaw=25 pitch=-10 roll=0', 'yaw 25, pitch -10', 'pitch: 15°';
 * - a direction with degrees: 'left 20', 'turn right 15', 'up 10', 'tilt left 10';
 * - combinations joined by ',', '+' or 'and': 'three-quarter left, look up', 'left and yaw=20' (a later part
 *   replaces an axis an earlier part set).
 * Empty text means 'front'. Never throws: unknown words give 'request.bad_pose' with a suggestion when one is
 * within a typo's reach, and degrees outside POSE_RANGES give 'request.bad_pose' naming the range.
 */
export function parsePose(text: string): PoseResult {
  const input = normalise(text);
  if (input === '') return ok(fromAngles({ yaw: 0, pitch: 0 }));
  const whole = presetByName.get(input) ?? presetByName.get(input.replace(/ /g, ''));
  if (whole) return ok(fromAngles(setAxes(whole)));

  const angles: Partial<Record<Axis, number>> = {};
  const parts = input
    .split(/,|\+| and /)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  // Only separators (",,,") ask for nothing, like an empty pose: not a pose with an empty label.
  if (parts.length === 0) return ok(fromAngles({ yaw: 0, pitch: 0 }));
  for (const part of parts) {
    const r = parsePart(part);
    if (!r.ok) return bad(text, r.suggestion, r.range);
    Object.assign(angles, r.angles);
  }
  for (const axis of AXES) {
    const { min, max } = POSE_RANGES[axis];
    const v = angles[axis];
    if (v !== undefined && (v < min || v > max)) {
      const clamped = Math.max(min, Math.min(max, v));
      return bad(text, labelFor({ ...angles, [axis]: clamped }), `${axis} from ${min} to ${max}`);
    }
  }
  return ok(fromAngles(angles));
}

/**
 * The pose a request means for one selfie: the axes it sets as asked, the axes it keeps as the selfie has them
 * ("look up" from a selfie turned 20 degrees to the left looks up and stays turned).
 */
export function resolvePose(target: TargetPose, selfie: { yaw: number; pitch: number; roll: number }): TargetPose {
  const keep = target.keep ?? [];
  if (keep.length === 0) return target;
  const out: TargetPose = { ...target, keep: [] };
  for (const axis of keep) out[axis] = selfie[axis];
  return out;
}

type PartResult =
  | { ok: true; angles: Partial<Record<Axis, number>> }
  | { ok: false; suggestion: string | undefined; range?: string };

const NUMBER = String.raw`([+-]?\d+(?:\.\d+)?)\s*(?:°|deg|degs|degrees?)?`;

function parsePart(part: string): PartResult {
  const preset = presetByName.get(part) ?? presetByName.get(part.replace(/ /g, ''));
  if (preset) return { ok: true, angles: setAxes(preset) };

  // Explicit axes: "yaw=25 pitch=-10", "yaw 25 roll: 5". A misspelt axis name ("yew=20") is fixed in the
  // suggestion when every other token parses.
  const axisRe = new RegExp(String.raw`^([a-z]+)(?:=|:)?\s*${NUMBER}$`);
  const tokens = part.split(/\s+(?=[a-z])/).map((t) => axisRe.exec(t.trim()));
  if (tokens.every((m) => m !== null)) {
    const explicit: Partial<Record<Axis, number>> = {};
    const fixed: string[] = [];
    let misspelt = false;
    for (const m of tokens) {
      const word = m?.[1] ?? '';
      const value = Number(m?.[2]);
      const axis = AXIS_ALIASES[word];
      if (axis) {
        explicit[axis] = value;
        fixed.push(`${axis}=${value}`);
        continue;
      }
      misspelt = true;
      const near = closest(word, Object.keys(AXIS_ALIASES));
      fixed.push(near ? `${AXIS_ALIASES[near]}=${value}` : '');
    }
    if (!misspelt) return { ok: true, angles: explicit };
    // "left 20" is a direction, not a misspelt axis: let the next rule have it.
    if (!/^(?:(?:turn|look|tilt|head|face)\s+)?(?:left|right|up|down)\s/.test(part)) {
      return { ok: false, suggestion: fixed.every((f) => f !== '') ? fixed.join(' ') : undefined };
    }
  }

  // A direction with degrees: "left 20", "turn right 15", "look up 10", "tilt left 5".
  const dir = new RegExp(String.raw`^(?:(turn|look|tilt|head|face)\s+)?(left|right|up|down)\s+${NUMBER}$`).exec(part);
  if (dir) {
    const verb = dir[1];
    const side = dir[2] ?? '';
    const amount = Math.abs(Number(dir[3]));
    const sign = side === 'left' || side === 'up' ? 1 : -1;
    if (verb === 'tilt') {
      if (side === 'up' || side === 'down') return { ok: false, suggestion: `look ${side} ${amount}` };
      return { ok: true, angles: { roll: sign * amount } };
    }
    if (side === 'up' || side === 'down') return { ok: true, angles: { pitch: sign * amount } };
    return { ok: true, angles: { yaw: sign * amount } };
  }

  // Nothing matched: suggest the nearest preset.
  // Suggest the spelling nearest to what was typed ('lft' -> 'left'): it parses to the same preset.
  return { ok: false, suggestion: closest(part, spellings) };
}

/** The axes a preset sets, with their angles (the ones it keeps are left out). */
function setAxes(p: PosePreset): Partial<Record<Axis, number>> {
  const out: Partial<Record<Axis, number>> = {};
  for (const axis of AXES) if (!p.keep?.includes(axis)) out[axis] = p[axis];
  return out;
}

function fromAngles(p: Partial<Record<Axis, number>>): TargetPose {
  const pose = { yaw: clean(p.yaw ?? 0), pitch: clean(p.pitch ?? 0), roll: clean(p.roll ?? 0) };
  const keep = AXES.filter((a) => p[a] === undefined);
  return { ...pose, label: labelFor(p), ...(keep.length > 0 ? { keep } : {}) };
}

/** -0 and float noise out: degrees are shown and compared as typed. */
function clean(v: number): number {
  const r = Math.round(v * 10) / 10;
  return Object.is(r, -0) ? 0 : r;
}

/** A preset's name when the set axes and angles are exactly a preset's, else 'yaw=.. pitch=..' with the set axes. */
function labelFor(p: Partial<Record<Axis, number>>): string {
  const preset = POSE_PRESETS.find((q) => {
    const set = setAxes(q);
    return AXES.every((a) =>
      set[a] === undefined ? p[a] === undefined : p[a] !== undefined && clean(p[a]) === set[a],
    );
  });
  if (preset) return preset.name;
  return AXES.filter((a) => p[a] !== undefined)
    .map((a) => `${a}=${clean(p[a] ?? 0)}`)
    .join(' ');
}

/**
 * Whether an engine can draw a pose. Returns the 'request.pose_out_of_range' error (details: limit, engine, got)
 * for the compositor beyond COMPOSITOR_POSE_LIMITS, undefined when the pose is fine. The diffusion engine takes
 * every pose the parser accepts; the crop engine ignores the pose.
 */
export function checkPoseForEngine(pose: TargetPose, engine: EngineName): PortraitError | undefined {
  if (engine !== 'compositor') return undefined;
  for (const axis of AXES) {
    const limit = COMPOSITOR_POSE_LIMITS[axis];
    if (Math.abs(pose[axis]) > limit) {
      return new PortraitError(
        'request.pose_out_of_range',
        `${axis} ${pose[axis]} is beyond the compositor's ${limit}`,
        {
          limit,
          engine,
          axis,
          got: pose.label,
        },
      );
    }
  }
  return undefined;
}

/** One line per preset, for `/portrait help` and bot menus. */
export function describePosePresets(): string[] {
  return [
    ...POSE_PRESETS.map((p) => `${p.name}: ${p.description}`),
    'yaw=<deg> pitch=<deg> roll=<deg>: explicit angles (any subset), e.g. yaw=25 pitch=-10; also "left 20", "up 10".',
    "Left and right are the subject's own: 'left' turns the head to their left, which is the right of the picture.",
  ];
}

function ok(value: TargetPose): PoseResult {
  return { ok: true, value };
}

function bad(got: string, suggestion: string | undefined, range?: string): PoseResult {
  const shown = got.trim().slice(0, 60);
  return {
    ok: false,
    error: new PortraitError(
      'request.bad_pose',
      range ? `pose '${shown}' is out of range` : `unknown pose '${shown}'`,
      {
        got: shown,
        ...(suggestion ? { suggestion } : {}),
        ...(range ? { range } : {}),
      },
    ),
  };
}
