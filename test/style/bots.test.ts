import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateEventDraft } from '../../src/avatar-events/definition.js';
import { helpMessages } from '../../src/bots/discord/texts.js';
import { MODAL_FIELDS, portraitModal } from '../../src/bots/slack/blocks.js';
import { type Catalogue, createCatalogue, suggest } from '../../src/conversation/catalogue.js';
import { describeError } from '../../src/core/messages.js';
import { STYLE_PRESETS } from '../../src/core/style.js';

/** What the tests read of a Block Kit input block. */
interface Block {
  block_id?: string;
  element?: {
    type?: string;
    options?: Array<{ value: string }>;
    initial_option?: { value: string };
    initial_value?: string;
  };
}

/** The style catalogue where members meet it: Discord autocomplete and checks, the Slack modal, help, events. */

const compositor = createCatalogue('compositor');
const diffusion = createCatalogue('diffusion');
/** Discord's style choices: the shared suggestions as autocomplete options. */
const styleChoices = (catalogue: Catalogue, typed: string) =>
  suggest(catalogue, 'style', typed).map((s) => ({ name: s.label, value: s.value }));

test('Discord style autocomplete offers the catalogue, best match first', () => {
  assert.deepEqual(
    styleChoices(compositor, '').map((c) => c.value),
    STYLE_PRESETS.map((p) => p.name),
  );
  assert.equal(styleChoices(compositor, 'oil')[0]?.value, 'oil paint');
  assert.equal(styleChoices(compositor, 'pop art')[0]?.value, 'comic');
  assert.equal(styleChoices(compositor, 'navy')[0]?.value, 'studio blue');
  for (const c of styleChoices(compositor, 'stu')) assert.ok(c.name.length <= 100 && c.value.length <= 100);
});

test('Discord style autocomplete completes the last part of a combination, only with parts that combine', () => {
  const values = styleChoices(compositor, 'black and white, stu').map((c) => c.value);
  assert.ok(values.includes('black and white, studio grey'), values.join(' | '));
  assert.ok(
    values.every((v) => v.startsWith('black and white, studio ')),
    values.join(' | '),
  );
  // Two backdrops never combine: the menu offers only what the compositor renders.
  const backdrops = styleChoices(compositor, 'studio grey, studio').map((c) => c.value);
  assert.deepEqual(backdrops, ['studio grey']);
  for (const v of styleChoices(compositor, 'oil paint, ').map((c) => c.value)) {
    assert.equal(compositor.checkStyle(v), undefined, v);
  }
});

test('the compositor refuses style words it cannot render at once; the diffusion engine takes any words', () => {
  const refused = compositor.checkStyle('watercolour');
  assert.equal(refused?.code, 'request.bad_style');
  assert.match(describeError(refused), /I don't know the style 'watercolour'.*oil paint/);
  assert.equal(compositor.checkStyle('black and white, studio grey'), undefined);
  assert.equal(diffusion.checkStyle('watercolour, soft light'), undefined);
  // Free text the engine takes is offered as typed.
  assert.equal(styleChoices(diffusion, 'watercolour')[0]?.value, 'watercolour');
  assert.equal(styleChoices(compositor, 'watercolour').length, 0);
});

test('the Discord help lists every style', () => {
  const help = helpMessages({
    poses: compositor.poses,
    lightings: compositor.lightings,
    styles: compositor.styles,
    limits: {
      maxSelfies: 4,
      maxInputBytes: 10_000_000,
      maxVariations: 4,
      userInFlight: 2,
      scopeQueueCap: 50,
      retentionSeconds: 86_400,
    },
  }).join('\n');
  for (const p of STYLE_PRESETS) assert.ok(help.includes(`**${p.name}**`), p.name);
  assert.match(help, /black and white, studio grey/);
});

test('the Slack modal offers the style catalogue as a menu, with a text field for combinations', () => {
  const catalogue = createCatalogue();
  const view = portraitModal({
    poses: catalogue.poses,
    lightings: catalogue.lightings,
    styles: catalogue.styles,
    privateMetadata: '{}',
    withFileInput: true,
    maxSelfies: 4,
    maxVariations: 4,
    initial: { style: 'oil painting' },
  });
  const blocks = view.blocks as unknown as Block[];
  const menu = blocks.find((b) => b.block_id === MODAL_FIELDS.style.block);
  assert.equal(menu?.element?.type, 'static_select');
  assert.deepEqual(
    menu?.element?.options?.map((o) => o.value),
    STYLE_PRESETS.map((p) => p.name),
  );
  assert.equal(menu?.element?.initial_option?.value, 'oil paint');
  const text = blocks.find((b) => b.block_id === MODAL_FIELDS.styleText.block);
  assert.equal(text?.element?.type, 'plain_text_input');
  assert.equal(text?.element?.initial_value, undefined);

  // A combination is not a menu entry: it pre-fills the text field.
  const combined = portraitModal({
    poses: catalogue.poses,
    lightings: catalogue.lightings,
    styles: catalogue.styles,
    privateMetadata: '{}',
    withFileInput: false,
    maxSelfies: 4,
    maxVariations: 4,
    initial: { style: 'warm film, studio beige' },
  });
  const field = (combined.blocks as unknown as Block[]).find((b) => b.block_id === MODAL_FIELDS.styleText.block);
  assert.equal(field?.element?.initial_value, 'warm film, studio beige');
});

test('an avatar event on the compositor refuses a style it cannot render; on diffusion any words go', () => {
  const base = { name: 'Winter', destination: { channelId: 'c1' } };
  const bad = validateEventDraft({ ...base, style: 'watercolour' }, { now: 0, defaultEngine: 'compositor' });
  assert.ok(!bad.ok);
  assert.equal(bad.error.code, 'request.bad_style');
  const good = validateEventDraft({ ...base, style: 'b&w, studio grey' }, { now: 0, defaultEngine: 'compositor' });
  assert.ok(good.ok, good.ok ? '' : good.error.message);
  const free = validateEventDraft({ ...base, style: 'watercolour' }, { now: 0, defaultEngine: 'diffusion' });
  assert.ok(free.ok);
});
