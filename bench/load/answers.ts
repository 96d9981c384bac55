import { describeError } from '../../src/core/messages.js';
import { type ErrorCode, INTERNAL_ERROR_CODES, USER_ERROR_CODES } from '../../src/errors.js';

/**
 * The error code behind a sentence a user was shown (the fakes see sentences, not codes). Each code's sentence is
 * rendered with a placeholder for every detail; the text before the first placeholder is that code's fixed opening,
 * and the longest opening found in the text wins. Platform escaping (backslashes, &amp; and friends) is undone first.
 */
const SENTINEL = '\u0000';
const details = new Proxy({}, { get: () => SENTINEL }) as Record<string, string>;
const OPENINGS: Array<[ErrorCode, string]> = [...USER_ERROR_CODES, ...INTERNAL_ERROR_CODES]
  .map((code): [ErrorCode, string] => {
    const sentence = describeError({ code, details });
    const cut = sentence.indexOf(SENTINEL);
    return [code, (cut < 0 ? sentence : sentence.slice(0, cut)).trim()];
  })
  .filter(([, opening]) => opening.length >= 12)
  .sort((a, b) => b[1].length - a[1].length);

export function codeOfSentence(text: string): ErrorCode | undefined {
  const plain = text.replace(/\\/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return OPENINGS.find(([, opening]) => plain.includes(opening))?.[0];
}
