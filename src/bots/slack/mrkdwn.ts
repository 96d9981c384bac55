import type { HelpSection } from '../../conversation/present.js';

/**
 * Slack mrkdwn for text the bot posts. Slack only treats `&`, `<` and `>` as control characters: escaping them
 * turns `<!channel>`, `<!here>`, `<@U123>` and `<https://evil|innocent>` typed by a user into harmless text.
 * Literal "@channel" words are not mentions for chat.postMessage (the bot never sets link_names), but a zero-width
 * joiner after the "@" keeps them inert even if a client or a later API change were to link them. The same joiner
 * after "://" stops Slack from auto-linking a URL the user typed into the bot's own message (as the Discord adapter
 * does), and bidirectional overrides are dropped so user text cannot make the rest of the line read backwards.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/[\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)\b/gi, '@\u2060$1')
    .replace(/:\/\//g, ':\u2060//');
}

/** Bold of escaped text; `*` inside user text is harmless but would end the bold early, so it is dropped. */
export function bold(text: string): string {
  const t = escapeMrkdwn(text).replace(/\*/g, '');
  return t ? `*${t}*` : '';
}

/**
 * Turns the text of a Slack message back into what the user typed for the prompt grammar: mentions removed,
 * links reduced to their label (or URL), entities decoded. The result is plain text and must be escaped again
 * before it is ever posted.
 */
export function messageToPlainText(text: string): string {
  return text
    .replace(/<[@#!][^>]*>/g, ' ') // <@U123>, <#C123|general>, <!here>: never part of a prompt
    .replace(/<([^>|]*)\|([^>]*)>/g, '$2') // <https://x|label> -> label
    .replace(/<([^>]*)>/g, '$1') // <https://x> -> https://x
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Help sections (src/conversation/present.ts) as mrkdwn, escaped. */
export function helpToMrkdwn(sections: readonly HelpSection[]): string[] {
  return sections.map((s) =>
    [
      bold(s.heading),
      ...s.lines.map(
        (l) => `• ${typeof l === 'string' ? escapeMrkdwn(l) : `${bold(l.term)}: ${escapeMrkdwn(l.text)}`}`,
      ),
    ].join('\n'),
  );
}
