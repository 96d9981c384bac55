import { describeError } from '../../src/core/messages.js';
import { type ErrorCode, type ErrorDetails, INTERNAL_ERROR_CODES, USER_ERROR_CODES } from '../../src/errors.js';

/**
 * The error code behind a sentence a user was shown (the fakes see sentences, not codes). Each code's sentence is
 * rendered with several sets of details; the text all renderings begin with (up to a placeholder or a number) is that
 * code's fixed opening, and the longest opening found in the text wins. Platform escaping (backslashes, &amp;
 * and friends) is undone first, and "selfie 2" reads as "your selfie" on both sides.
 */
const SENTINEL = '§';
/** Detail sets that take every optional branch of a sentence one way or the other. */
const RENDERINGS: Array<Record<string, unknown>> = [
  new Proxy({}, { get: () => SENTINEL }),
  new Proxy({}, { get: () => 7 }),
  new Proxy({}, { get: () => '' }),
  {},
];
const OPENINGS: Array<[ErrorCode, string]> = [...USER_ERROR_CODES, ...INTERNAL_ERROR_CODES]
  .map((code): [ErrorCode, string] => {
    const texts = RENDERINGS.map((d) => normalise(describeError({ code, details: d as ErrorDetails })));
    let common = texts[0] ?? '';
    for (const t of texts) while (!t.startsWith(common)) common = common.slice(0, -1);
    const cut = common.search(/[§\d]/);
    return [code, (cut < 0 ? common : common.slice(0, cut)).trim()];
  })
  .filter(([, opening]) => opening.length >= 12)
  .sort((a, b) => b[1].length - a[1].length);

export function codeOfSentence(text: string): ErrorCode | undefined {
  const plain = normalise(text.replace(/\\/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
  return OPENINGS.find(([, opening]) => plain.includes(opening))?.[0];
}

function normalise(text: string): string {
  return text.replace(/\b(?:your selfie|selfie \d+)/gi, 'SELFIE');
}
