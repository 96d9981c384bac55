import { escapeMarkdown } from 'discord.js';
import { describeError } from '../../core/messages.js';
import type { ErrorDetails, ErrorPayload } from '../../errors.js';
import type { JobSummary } from '../../queue/service.js';
import {
  type CaptionInfo,
  captionText,
  helpSections,
  JOB_STATE_WORDS,
  type Limits,
  type PresetInfo,
} from '../common/present.js';

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
    // Bidirectional overrides and isolates would make the rest of the bot's own line read backwards.
    .replace(/[\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const short = oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
  return (
    escapeMarkdown(short, { heading: true, bulletedList: true, numberedList: true })
      // Every bracket: escapeMarkdown's maskedLink option escapes only the first of several links on a line.
      .replace(/\[/g, '\\[')
      .replace(/@/g, '@\u200b')
      .replace(/</g, '<\u200b')
      .replace(/:\/\//g, ':\u200b//')
  );
}

/** The error's sentence with every user-supplied detail escaped first. */
export function errorSentence(err: Pick<ErrorPayload, 'code' | 'details' | 'refId'>): string {
  const details: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(err.details as ErrorDetails)) {
    details[k] = typeof v === 'string' ? escapeUserText(v, 80) : v;
  }
  return describeError({ code: err.code, details, ...(err.refId ? { refId: err.refId } : {}) });
}

export { progressText, queuedText } from '../common/present.js';

/** The message under finished portraits: who it is for (a mention that pings nobody), then the shared caption. */
export function resultText(userId: string, count: number, caption: CaptionInfo): string {
  const what = count > 1 ? `${count} portraits` : 'Your portrait';
  return clip(`${what} for <@${userId}>\n${escapeUserText(captionText(caption), 1800)}`);
}

export function doneText(inThread: boolean): string {
  return inThread ? 'Done - your portrait is in the thread.' : 'Done - your portrait is below.';
}

/** One line per job for /portrait-status and quota refusals. */
export function jobLines(jobs: readonly JobSummary[]): string[] {
  return jobs.map((j, i) => {
    const where = j.state === 'queued' && j.position > 0 ? `, position ${j.position}` : '';
    const when = `<t:${Math.floor(j.submittedAt / 1000)}:R>`;
    return `${i + 1}. ${escapeUserText(j.pose, 40)}, ${escapeUserText(j.lighting, 40)} - ${JOB_STATE_WORDS[j.state]}${where} (asked ${when})`;
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

export { NOT_REQUESTER_TEXT as NOT_YOURS_TEXT } from '../common/present.js';
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

/**
 * The help from the shared sections, in Discord markdown, split into messages of at most 2000 characters at
 * section boundaries (the preset lists make it longer than one message).
 */
export function helpMessages(o: {
  poses: readonly PresetInfo[];
  lightings: readonly PresetInfo[];
  styles?: readonly PresetInfo[];
  limits: Limits;
}): string[] {
  const sections = helpSections({
    poses: o.poses,
    lightings: o.lightings,
    ...(o.styles ? { styles: o.styles } : {}),
    limits: o.limits,
    usage: [
      '/portrait with your selfie, and optionally a pose, a lighting, a style, variations and a seed. Add up to three more selfies of the same person as selfie2 to selfie4.',
      'Or on one of your own messages with a photo: Apps > Make portrait.',
      'Under a portrait: Reroll (new seed), Variations, Relight and Delete; only you can use them. /portrait-status shows and cancels your requests.',
      'Add private:True to get the result only for you.',
    ],
    forgetHint: 'Run /portrait-forget',
  });
  const rendered = sections.map((sec) =>
    [
      `**${escapeUserText(sec.heading)}**`,
      ...sec.lines.map((l) =>
        typeof l === 'string'
          ? `- ${escapeUserText(l, 400)}`
          : `- **${escapeUserText(l.term, 100)}**: ${escapeUserText(l.text, 300)}`,
      ),
    ].join('\n'),
  );
  const out: string[] = [];
  for (const block of rendered) {
    const last = out.at(-1);
    if (last !== undefined && last.length + 2 + block.length <= CONTENT_LIMIT)
      out[out.length - 1] = `${last}\n\n${block}`;
    else out.push(clip(block));
  }
  return out;
}

export function clip(text: string, max = CONTENT_LIMIT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
