import type { Config } from '../../config.js';
import { LIGHTING_PRESETS } from '../../core/lighting.js';
import { POSE_PRESETS } from '../../core/pose.js';
import { MAX_SELFIES, MAX_VARIATIONS } from '../../core/request.js';
import { STYLE_PRESETS } from '../../core/style.js';
import type { Stage } from '../../pipeline/types.js';
import type { JobState } from '../../queue/service.js';
import { formatBytes } from './download.js';

/**
 * Platform-neutral texts shared by the chat adapters (Discord, Slack): captions, progress and queue lines, help.
 * Everything here is PLAIN text without markup; each adapter escapes it and adds its own formatting (Discord
 * markdown, Slack mrkdwn), so the wording stays identical across platforms and lives in one place.
 */

/** How a job's state reads in status lists ("queued", "in progress" ...). */
export const JOB_STATE_WORDS: Readonly<Record<JobState, string>> = {
  queued: 'queued',
  running: 'in progress',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** What the user sees for each pipeline stage while a job runs. */
export const STAGE_LABELS: Readonly<Record<Stage, string>> = {
  download: 'Fetching your selfies',
  ingest: 'Reading your selfies',
  detect: 'Finding your face',
  mesh: 'Mapping your face in 3D',
  warp: 'Turning your head into the new pose',
  relight: 'Relighting',
  stitch: 'Preparing the portrait canvas',
  generate: 'Painting the portrait',
  encode: 'Finishing up',
};

/** "Queued - position 3" (1 = next to run), or "Starting now" for 0 (already running, see SubmitReceipt). */
export function queuedText(position: number): string {
  if (!Number.isFinite(position) || position < 1) return 'Starting now';
  return `Queued - position ${Math.floor(position)}`;
}

export interface ProgressInfo {
  stage: Stage;
  step?: number | undefined;
  steps?: number | undefined;
}

/** One status line: "Painting the portrait (step 12 of 30)". */
export function progressText(p: ProgressInfo): string {
  const label = STAGE_LABELS[p.stage];
  if (p.step !== undefined && p.steps !== undefined && p.steps > 0) {
    return `${label} (step ${Math.min(p.step, p.steps)} of ${p.steps})`;
  }
  return `${label}...`;
}

/** 850 ms -> "0.9 s", 73_000 -> "1 min 13 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 10_000) return `${(Math.round(ms / 100) / 10).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
}

export interface CaptionInfo {
  pose: string;
  lighting: string;
  engine: string;
  seed: number;
  /** Submit to result, in milliseconds. */
  elapsedMs: number;
  style?: string | undefined;
  /** 1-based index and count when a job made several variations. */
  variation?: { index: number; count: number } | undefined;
  /** What the engine did differently from the request, in words (the compositor's partial turn), if anything. */
  note?: string | undefined;
}

/** The engine's note from a result's report (a string under `note`), if any. */
export function reportNote(report: Readonly<Record<string, unknown>>): string | undefined {
  const note = report['note'];
  return typeof note === 'string' && note !== '' ? note : undefined;
}

/** The caption under a portrait: "Pose: front · Lighting: golden hour · Engine: compositor · Seed: 42 · 3.2 s". */
export function captionText(c: CaptionInfo): string {
  const parts = [
    `Pose: ${c.pose}`,
    `Lighting: ${c.lighting}`,
    ...(c.style ? [`Style: ${truncate(c.style, 80)}`] : []),
    `Engine: ${c.engine}`,
    `Seed: ${c.seed}`,
    formatDuration(c.elapsedMs),
  ];
  const head = c.variation && c.variation.count > 1 ? `Variation ${c.variation.index} of ${c.variation.count} · ` : '';
  const note = c.note ? `\n${c.note.charAt(0).toUpperCase()}${c.note.slice(1)}` : '';
  return head + parts.join(' · ') + note;
}

/** Alt text for an uploaded portrait (screen readers; Slack `alt_text`, Discord `description`). At most 1000 chars. */
export function altText(c: Pick<CaptionInfo, 'pose' | 'lighting' | 'style'>): string {
  const style = c.style ? `, style: ${c.style}` : '';
  return truncate(`Generated portrait of the requester, pose ${c.pose}, ${c.lighting} lighting${style}`, 1000);
}

/** Labels of the buttons under a result, identical on both platforms. */
export const ACTION_LABELS = {
  reroll: 'Reroll',
  variations: 'Variations',
  relight: 'Relight',
  delete: 'Delete',
} as const;

export const DELETED_TEXT = 'Portrait deleted by the requester.';
export const NOT_REQUESTER_TEXT = 'Only the person who asked for this portrait can do that.';

/** A preset as the help lists it. The pose and lighting catalogues in src/core both fit this shape. */
export interface PresetInfo {
  readonly name: string;
  readonly description: string;
  readonly aliases?: readonly string[];
}

/** The limits users are told about. */
export interface Limits {
  maxSelfies: number;
  maxVariations: number;
  maxInputBytes: number;
  userInFlight: number;
  scopeQueueCap: number;
  /** How long selfies and results are kept before automatic deletion. */
  retentionSeconds: number;
}

export function limitsFromConfig(
  config: Pick<
    Config,
    'PORTRAIT_MAX_INPUT_BYTES' | 'PORTRAIT_USER_IN_FLIGHT' | 'PORTRAIT_SCOPE_QUEUE_CAP' | 'PORTRAIT_BLOB_TTL_SECONDS'
  >,
): Limits {
  return {
    maxSelfies: MAX_SELFIES,
    maxVariations: MAX_VARIATIONS,
    maxInputBytes: config.PORTRAIT_MAX_INPUT_BYTES,
    userInFlight: config.PORTRAIT_USER_IN_FLIGHT,
    scopeQueueCap: config.PORTRAIT_SCOPE_QUEUE_CAP,
    retentionSeconds: config.PORTRAIT_BLOB_TTL_SECONDS,
  };
}

export interface HelpSection {
  heading: string;
  /** Plain lines; `term` lines render as "term: text" with the term emphasised by the adapter. */
  lines: ReadonlyArray<string | { term: string; text: string }>;
}

export interface HelpOptions {
  /** Defaults to the pose catalogue of src/core/pose.ts. */
  poses?: readonly PresetInfo[];
  /** Defaults to the lighting catalogue of src/core/lighting.ts. */
  lightings?: readonly PresetInfo[];
  /** Defaults to the style catalogue of src/core/style.ts. */
  styles?: readonly PresetInfo[];
  limits: Limits;
  /** How this platform asks for a portrait (the adapter knows its commands), shown first. */
  usage: readonly string[];
  /** How to delete everything now on this platform, e.g. "Run /portrait-forget". */
  forgetHint: string;
}

/** The help, as sections the adapter renders: usage, good results, poses, lighting, options, limits, privacy. */
export function helpSections(o: HelpOptions): HelpSection[] {
  const lightings = o.lightings ?? LIGHTING_PRESETS;
  const poses = o.poses ?? POSE_PRESETS;
  const styles = o.styles ?? STYLE_PRESETS;
  return [
    { heading: 'How to ask', lines: o.usage },
    {
      heading: 'For a good result',
      lines: [
        'Use a sharp, well-lit photo where your face fills at least a fifth of the frame.',
        `Send up to ${o.limits.maxSelfies} selfies of the same person from different angles: more photos keep your likeness better.`,
        'Left and right are your own: your left is on the right of the picture when you face the camera.',
      ],
    },
    {
      heading: 'Poses',
      lines: [
        ...poses.map((p) => ({ term: p.name, text: p.description })),
        { term: 'yaw=<degrees> pitch=<degrees> roll=<degrees>', text: 'exact angles, e.g. "yaw=20 pitch=-10".' },
      ],
    },
    {
      heading: 'Lighting',
      lines: [
        ...lightings.map((p) => ({ term: p.name, text: p.description })),
        { term: 'key from <direction>, <colour>', text: 'one key light, e.g. "key from upper left, warm".' },
      ],
    },
    {
      heading: 'Styles',
      lines: [
        ...styles.map((p) => ({ term: p.name, text: p.description })),
        {
          term: '<look>, <backdrop>',
          text: 'combine a look with a backdrop, e.g. "black and white, studio grey" or "warm film".',
        },
      ],
    },
    {
      heading: 'Options',
      lines: [
        { term: 'variations', text: `1 to ${o.limits.maxVariations} different takes in one go.` },
        { term: 'seed', text: 'a number that makes a result repeatable; Reroll picks a new one.' },
      ],
    },
    { heading: 'Limits', lines: limitLines(o.limits) },
    { heading: 'Privacy', lines: privacyLines(o.limits, o.forgetHint) },
  ];
}

export function limitLines(l: Limits): string[] {
  return [
    `Up to ${l.maxSelfies} selfies per request, each under ${formatBytes(l.maxInputBytes)} (JPEG, PNG, WebP, AVIF or GIF).`,
    `Up to ${l.maxVariations} variations per request.`,
    `At most ${l.userInFlight} of your portraits in progress at a time, and ${l.scopeQueueCap} queued for the whole community.`,
  ];
}

export function privacyLines(l: Limits, forgetHint: string): string[] {
  return [
    `Your selfies and portraits are kept only to make and deliver your portrait, and are deleted automatically after ${formatRetention(l.retentionSeconds)}.`,
    'They are never used to train models and never shared outside this chat.',
    `${forgetHint} to delete everything stored about you now.`,
  ];
}

/** Plain-text rendering (CLI, logs, tests): headings on their own line, "term: text" bullets. */
export function renderHelpPlain(sections: readonly HelpSection[]): string {
  return sections
    .map((s) =>
      [s.heading, ...s.lines.map((l) => `- ${typeof l === 'string' ? l : `${l.term}: ${l.text}`}`)].join('\n'),
    )
    .join('\n\n');
}

function formatRetention(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? '24 hours' : `${seconds / 86_400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  return seconds < 3600 ? `${Math.round(seconds / 60)} minutes` : `${Math.round(seconds / 3600)} hours`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
