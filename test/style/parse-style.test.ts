import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeError } from '../../src/core/messages.js';
import { describeStylePresets, getStylePreset, parseStyle, STYLE_PRESETS, stylePrompt } from '../../src/core/style.js';

const accepted: Array<[input: string, label: string]> = [
  ['', ''],
  ['   ', ''],
  ['none', ''],
  ['black and white', 'black and white'],
  ['Black & White', 'black and white'],
  ['B&W', 'black and white'],
  ['b/w', 'black and white'],
  ['monochrome', 'black and white'],
  ['sepia', 'sepia'],
  ['warm', 'warm'],
  ['warm tones', 'warm'],
  ['cool grade', 'cool'],
  ['vintage film', 'vintage film'],
  ['retro', 'vintage film'],
  ['oil painting', 'oil paint'],
  ['Oil-Painting', 'oil paint'],
  ['pencil sketch', 'pencil sketch'],
  ['charcoal drawing', 'pencil sketch'],
  ['pop art', 'comic'],
  ['comic book style', 'comic'],
  ['studio', 'studio grey'],
  ['grey backdrop', 'studio grey'],
  ['studio gray', 'studio grey'],
  ['high-key', 'studio white'],
  ['low key', 'studio black'],
  ['navy', 'studio blue'],
  ['beige background', 'studio beige'],
  ['pastel', 'studio pastel'],
  // Combinations: one medium, one colour treatment, one backdrop, in any order, with filler words.
  ['black and white oil painting', 'oil paint, black and white'],
  ['warm film', 'vintage film, warm'],
  ['black and white, studio grey', 'black and white, studio grey'],
  ['studio grey, black and white', 'black and white, studio grey'],
  ['pencil sketch on a beige background', 'pencil sketch, studio beige'],
  ['a comic with a navy backdrop', 'comic, studio blue'],
  ['sepia film + studio black', 'vintage film, sepia, studio black'],
];

for (const [input, label] of accepted) {
  test(`parseStyle(${JSON.stringify(input)}) = ${JSON.stringify(label)}`, () => {
    const r = parseStyle(input);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.value.label, label);
    if (label === '') {
      assert.equal(r.value.medium ?? r.value.colour ?? r.value.backdrop, undefined);
      assert.equal(r.value.prompt, '');
    } else {
      assert.ok(r.value.prompt.length > 5, 'a prompt for the diffusion engine');
    }
  });
}

test('a combination carries every part to render', () => {
  const r = parseStyle('black and white oil painting on studio blue');
  assert.ok(r.ok);
  assert.equal(r.value.medium?.kind, 'oil');
  assert.equal(r.value.colour?.kind, 'mono');
  const blue = getStylePreset('studio blue');
  assert.ok(blue?.role === 'backdrop');
  assert.deepEqual(r.value.backdrop?.colour, blue.backdrop.colour);
});

const rejected: Array<[input: string, suggestion: string | undefined]> = [
  ['oil paitning', 'oil paint'],
  ['blak and white', 'black and white'],
  ['pencl sketch', 'pencil sketch'],
  ['vintge film, studio grey', 'vintage film, studio grey'],
  ['comic on studio bleu', 'comic, studio blue'],
  ['watercolour', undefined],
  ['disco ball', undefined],
  ['background', 'studio grey'],
];

for (const [input, suggestion] of rejected) {
  test(`parseStyle(${JSON.stringify(input)}) is refused${suggestion ? ` suggesting ${suggestion}` : ''}`, () => {
    const r = parseStyle(input);
    assert.ok(!r.ok, 'refused');
    assert.equal(r.error.code, 'request.bad_style');
    assert.equal(r.error.details['suggestion'], suggestion);
    const sentence = describeError(r.error);
    assert.match(sentence, new RegExp(`I don't know the style '${input.replace(/[+]/g, '\\+')}'`));
    if (suggestion) assert.match(sentence, new RegExp(`Did you mean '${suggestion}'\\?`));
    // The sentence lists what there is.
    for (const p of STYLE_PRESETS) assert.ok(sentence.includes(p.name), `${p.name} listed in: ${sentence}`);
  });
}

test('two parts of one role are refused naming both', () => {
  for (const [input, a, b] of [
    ['oil painting pencil sketch', 'oil paint', 'pencil sketch'],
    ['warm cool', 'warm', 'cool'],
    ['studio grey on navy', 'studio grey', 'studio blue'],
  ] as const) {
    const r = parseStyle(input);
    assert.ok(!r.ok, input);
    assert.equal(r.error.code, 'request.bad_style');
    const sentence = describeError(r.error);
    assert.ok(sentence.includes(`'${a}' and '${b}'`), sentence);
  }
});

test('every name and alias parses to its own preset (no alias shadowed by another)', () => {
  for (const p of STYLE_PRESETS) {
    for (const n of [p.name, ...p.aliases]) {
      const r = parseStyle(n);
      assert.ok(r.ok, `${n}: ${r.ok ? '' : r.error.message}`);
      assert.equal(r.value.label, p.name, n);
    }
  }
});

test('the catalogue has what the issue asks for, each with a description and a prompt', () => {
  const roles = { backdrop: 0, colour: 0, medium: 0 };
  for (const p of STYLE_PRESETS) {
    roles[p.role]++;
    assert.ok(p.description.length > 15 && p.description.length < 100, p.name);
    assert.ok(p.prompt.length > 5, p.name);
    assert.ok(p.variants.length >= 2, `${p.name} has variants for variations`);
  }
  assert.ok(roles.backdrop >= 6);
  for (const name of ['black and white', 'vintage film', 'warm', 'cool', 'oil paint', 'pencil sketch', 'comic']) {
    assert.ok(getStylePreset(name), name);
  }
  const help = describeStylePresets();
  for (const p of STYLE_PRESETS)
    assert.ok(
      help.some((l) => l.startsWith(`${p.name}: `)),
      p.name,
    );
});

test('stylePrompt gives the catalogue words for known styles and the free text otherwise', () => {
  assert.equal(stylePrompt('b&w'), 'black and white photograph, monochrome');
  assert.equal(stylePrompt(' watercolour, soft '), 'watercolour, soft');
  assert.equal(stylePrompt(''), '');
});
