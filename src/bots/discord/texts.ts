import { escapeMarkdown } from 'discord.js';
import { describeError } from '../../core/messages.js';
import type { ErrorDetails, ErrorPayload } from '../../errors.js';
import type { Stage } from '../../pipeline/types.js';
import type { JobSummary } from '../../queue/service.js';

/**
 * Everything the Discord adapter says, formatted for Discord. Sentences for errors come from src/core/messages.ts;
 * this file only escapes and arranges. Any text a user typed goes through `escapeUserText` before it is shown, and
 * every message is also sent with `allowedMentions: { parse: [] }`, so nothing the bot posts can ping anyone.
 */

/** Discord's own limits. */
export const CONTENT_LIMIT = 2000;

/**
 * Makes user text inert: one line, bounded, markdown escaped (headings, lists and masked links included), mention
 * and link syntax broken with a zero-width space so `<@id>`, `@everyone` and `https://` render as plain text.
 */
export function escapeUserText(text: string, max = 100): string {
  const oneLine = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const short = oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
  return escapeMarkdown(short, { heading: true, bulletedList: true, numberedList: true, maskedLink: true })
    .replace(/@/g, '@\u200b')
    .replace(/</g, '<\u200b')
    .replace(/:\/\//g, ':\u200b//');
}

/** The error's sentence with every user-supplied detail escaped first. */
export function errorSentence(err: Pick<ErrorPayload, 'code' | 'details' | 'refId'>): string {
  const details: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(err.details as ErrorDetails)) {
    details[k] = typeof v === 'string' ? escapeUserText(v, 80) : v;
  }
  return describeError({ code: err.code, details, ...(err.refId ? { refId: err.refId } : {}) });
}

const STAGE_LABELS: Record<Stage, string> = {
  download: 'fetching your selfies',
  ingest: 'reading your selfies',
  detect: 'finding your face',
  mesh: 'mapping your face in 3D',
  warp: 'turning your head into the pose',
  relight: 'setting the lighting',
  stitch: 'composing the portrait',
  generate: 'painting the portrait',
  encode: 'finishing the image',
};

export function stageLabel(stage: Stage): string {
  return STAGE_LABELS[stage];
}

export function queuedText(position: number): string {
  if (position <= 0) return 'Working on your portrait...';
  return position === 1 ? 'Queued - position 1 (next up)' : `Queued - position ${position}`;
}

export function progressText(p: { stage: Stage; step?: number | undefined; steps?: number | undefined }): string {
  const steps = p.step !== undefined && p.steps ? ` (step ${p.step} of ${p.steps})` : '';
  return `Working on your portrait: ${stageLabel(p.stage)}${steps}...`;
}

export const FETCHING_TEXT = 'Got it - fetching your selfies...';

export interface CaptionFacts {
  userId: string;
  pose: string;
  lighting: string;
  engine: string;
  seed: number;
  seconds: number;
  count: number;
}

/** The line posted with a finished portrait: pose, lighting, engine, seed, time. */
export function captionText(f: CaptionFacts): string {
  const what = f.count > 1 ? `${f.count} portraits` : 'Your portrait';
  return [
    `${what} for <@${f.userId}>`,
    `pose **${escapeUserText(f.pose, 60)}** · lighting **${escapeUserText(f.lighting, 60)}** · engine ${f.engine} · seed ${f.seed} · ${formatSeconds(f.seconds)}`,
  ].join('\n');
}

export function doneText(inThread: boolean): string {
  return inThread ? 'Done - your portrait is in the thread below.' : 'Done - your portrait is below.';
}

export function formatSeconds(s: number): string {
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

const STATE_WORDS: Record<JobSummary['state'], string> = {
  queued: 'queued',
  running: 'in progress',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** One line per job for /portrait-status and quota refusals. */
export function jobLines(jobs: readonly JobSummary[]): string[] {
  return jobs.map((j, i) => {
    const where = j.state === 'queued' && j.position > 0 ? `, position ${j.position}` : '';
    const when = `<t:${Math.floor(j.submittedAt / 1000)}:R>`;
    return `${i + 1}. ${escapeUserText(j.pose, 40)}, ${escapeUserText(j.lighting, 40)} - ${STATE_WORDS[j.state]}${where} (asked ${when})`;
  });
}

export function statusText(jobs: readonly JobSummary[]): string {
  if (jobs.length === 0) return 'You have no portraits queued or in progress. Start one with /portrait.';
  return clip(['Your portraits:', ...jobLines(jobs)].join('\n'));
}

/** A quota refusal followed by the user's own jobs, so they can see what is holding their slots. */
export function quotaText(sentence: string, jobs: readonly JobSummary[]): string {
  const open = jobs.filter((j) => j.state === 'queued' || j.state === 'running');
  if (open.length === 0) return sentence;
  return clip([sentence, '', 'Your portraits in the queue:', ...jobLines(open)].join('\n'));
}

export const NOT_YOURS_TEXT = 'Only the person who asked for this portrait can use its buttons.';
export const NOT_YOUR_MESSAGE_TEXT =
  'You can only make portraits from photos you posted yourself. Post your selfie, then use Make portrait on it.';
export const NO_IMAGES_TEXT = 'That message has no photos I can use. Run Make portrait on a message with a selfie.';
export const FORGET_CONFIRM_TEXT =
  'This deletes every selfie, portrait and job record I keep about you on this server. Portraits already posted in channels stay until you delete them. Continue?';
export const FORGET_KEPT_TEXT = 'Nothing was deleted.';
export const forgetDoneText = (n: number): string =>
  n === 0 ? 'I had nothing stored about you.' : `Done - I deleted ${n} stored item${n === 1 ? '' : 's'} about you.`;
export const CANCELLED_TEXT = 'Cancelled.';
export const CANCEL_FAILED_TEXT = 'That portrait has already finished or was not yours to cancel.';

export function helpText(o: {
  poses: readonly string[];
  lightings: readonly string[];
  maxMb: number;
  inFlight: number;
}): string {
  return clip(
    [
      '**Make a portrait:** `/portrait selfie:<photo>` and optionally a pose, a lighting, a style, up to 4 variations and a seed. Add up to three more selfies of the same person for a better likeness.',
      '**Good selfies:** your face well lit and filling at least a fifth of the frame, looking roughly at the camera, no sunglasses. JPEG, PNG, WebP, AVIF or GIF.',
      `**Poses:** ${o.poses.join(', ')}, or degrees like \`yaw=20 pitch=-10\`. Left and right are yours, as if you were looking out of the picture.`,
      `**Lighting:** ${o.lightings.join(', ')}, or \`key from left, warm\`.`,
      '**Buttons** under a portrait: Reroll (new seed), Variations, Relight, Delete. Only you can use them.',
      `**Limits:** photos up to ${o.maxMb} MB, ${o.inFlight} portraits in progress per person. \`/portrait-status\` shows and cancels yours.`,
      '**Privacy:** your selfies are kept only as long as needed to make and redo portraits (they expire by themselves), never shared, and `/portrait-forget` deletes everything about you at once. Use `private:True` to get the result only for you.',
    ].join('\n'),
  );
}

export function clip(text: string, max = CONTENT_LIMIT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
