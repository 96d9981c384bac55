import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorSentence, escapeUserText, jobLines, resultText } from '../../src/bots/discord/texts.js';
import { jobBlocks, resultBlocks, resultFallback } from '../../src/bots/slack/blocks.js';
import { bold, escapeMrkdwn, messageToPlainText } from '../../src/bots/slack/mrkdwn.js';
import { errorText } from '../../src/bots/slack/portraits.js';
import { altText, type CaptionInfo, captionText } from '../../src/conversation/present.js';
import { PortraitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { JobSummary } from '../../src/queue/service.js';

/**
 * Hostile user text through every place either adapter shows it: the escaping functions themselves, error sentences
 * quoting what the user typed, the shared caption (present.ts) as each adapter renders it, and job lists. Whatever
 * goes in, nothing that comes out may mention @everyone/@here/@channel or anyone else, link anywhere, or change the
 * formatting or reading direction of the bot's own text.
 */

const HOSTILE = [
  '@everyone',
  '@here',
  '@channel',
  'hi @everyone and @here!',
  '\n@everyone',
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<!subteam^S012AB3CD>',
  '<@U024BE7LH>',
  '<@123456789012345678>',
  '<@!123456789012345678>',
  '<@&987654321098765432>',
  '<#C024BE7LR|general>',
  '</portrait:123456789012345678>',
  '<:pepe:123456789012345678>',
  '[free nitro](https://evil.test/login)',
  '<https://evil.test/login|innocent>',
  'https://evil.test/login',
  'HTTPS://EVIL.TEST/x',
  '**bold** __under__ *it* _it_ ~~strike~~ ||spoiler||',
  '`code` ```block```',
  '> quote',
  '# Heading',
  '-# subtext',
  '&lt;!channel&gt; &amp;',
  'selfie\u202Egpj.exe', // right-to-left override: would make the rest of the bot's line read backwards
  '\u2066isolate\u2069 \u202Aembed\u202C',
  'x'.repeat(5000),
];

/** What no user-derived text may contain once rendered, whatever the platform. */
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
const LINK = /:\/\//;

function discordInert(out: string, input: string): void {
  const why = `${JSON.stringify(input)} -> ${JSON.stringify(out)}`;
  assert.doesNotMatch(out, /@(everyone|here)/i, why);
  // Mention, channel, command and emoji syntax all open with '<' followed by one of these.
  assert.doesNotMatch(out, /<[@#!&/:a]/, why);
  assert.doesNotMatch(out, LINK, why);
  // A masked link needs an unescaped '[' ... '](' .
  assert.doesNotMatch(out, /(^|[^\\])\[[^\]]*\]\(/, why);
  assert.doesNotMatch(out, /[\r\n\u2028\u2029]/, why);
  assert.doesNotMatch(out, BIDI, why);
  // Every formatting sequence is escaped (a single '|' or '~' formats nothing).
  assert.doesNotMatch(out, /(^|[^\\])([*_`]|~~|\|\|)/, why);
}

function slackInert(out: string, input: string): void {
  const why = `${JSON.stringify(input)} -> ${JSON.stringify(out)}`;
  // Slack's control syntax is <...>: mentions, links, special mentions, user groups.
  assert.doesNotMatch(out, /[<>]/, why);
  assert.doesNotMatch(out, /@(everyone|here|channel)/i, why);
  // '&' only as the start of an entity we wrote.
  assert.doesNotMatch(out, /&(?!amp;|lt;|gt;)/, why);
  assert.doesNotMatch(out, LINK, why);
  assert.doesNotMatch(out, BIDI, why);
}

const caption = (s: string): CaptionInfo => ({
  pose: s,
  lighting: s,
  style: s,
  engine: 'compositor',
  seed: 42,
  elapsedMs: 3200,
});

const job = (s: string): JobSummary => ({
  jobId: 'discord-abc',
  state: 'queued',
  position: 2,
  submittedAt: 1_700_000_000_000,
  pose: s,
  lighting: s,
});

describe('hostile user text is inert on Discord', () => {
  for (const input of HOSTILE) {
    it(JSON.stringify(input.slice(0, 60)), () => {
      discordInert(escapeUserText(input), input);
      discordInert(escapeUserText(input, 4000), input);
      // An error sentence quoting what the user typed ("I don't know the pose '...'").
      for (const code of ['request.bad_pose', 'request.bad_lighting', 'input.not_image'] as const) {
        const sentence = errorSentence({ code, details: { got: input, suggestion: input } });
        discordInert(sentence.replace(/'/g, ''), input);
      }
      // The caption under a portrait: the requester's own mention is the bot's, the rest comes from the user.
      const result = resultText('1100000000000000010', 1, caption(input));
      const [head, body = ''] = result.split('\n');
      assert.equal(head, 'Your portrait for <@1100000000000000010>');
      discordInert(body, input);
      for (const line of jobLines([job(input)])) discordInert(line.replace(/<t:\d+:R>/, ''), input);
    });
  }
});

describe('hostile user text is inert on Slack', () => {
  const ctx = { log: silentLogger };
  for (const input of HOSTILE) {
    it(JSON.stringify(input.slice(0, 60)), () => {
      slackInert(escapeMrkdwn(input), input);
      slackInert(bold(input), input);
      // What a user typed comes back from Slack as mrkdwn; turned into plain text for the parser, then shown again.
      slackInert(escapeMrkdwn(messageToPlainText(input)), input);
      for (const code of ['request.bad_pose', 'request.bad_lighting', 'input.not_image'] as const) {
        slackInert(errorText(ctx, new PortraitError(code, 'x', { got: input, suggestion: input }), 'test'), input);
      }
      const text = captionText(caption(input));
      slackInert(resultFallback(text), input);
      const redo = { v: 1, userId: 'U1', scopeId: 'T1', selfieKeys: ['k'], pose: input, lighting: input } as const;
      const state = { redo: { ...redo, selfieKeys: ['k'], style: input, variations: 1, seed: 42 }, files: [] };
      const [section] = resultBlocks(text, state, []);
      slackInert((section as { text: { text: string } }).text.text, input);
      const [line] = jobBlocks([job(input)]);
      const lineText = (line as { text: { text: string } }).text.text.replace(/<!date\^[^>]*>/, '');
      slackInert(lineText, input);
    });
  }
});

describe('the shared texts stay plain and bounded', () => {
  for (const input of HOSTILE) {
    it(JSON.stringify(input.slice(0, 60)), () => {
      // Alt text goes into plain-text fields on both platforms (no markup parsed there); it is bounded.
      assert.ok(altText(caption(input)).length <= 1000);
      // The caption truncates a long style.
      assert.ok(captionText(caption(input)).length < 2 * input.length + 200);
    });
  }
});
