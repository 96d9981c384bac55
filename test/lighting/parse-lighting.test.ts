import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLightingPresets, LIGHTING_PRESETS, parseLighting } from '../../src/core/lighting.js';
import { describeError } from '../../src/core/messages.js';

const accepted: Array<[input: string, label: string]> = [
  ['', 'studio'],
  ['studio', 'studio'],
  ['  Studio ', 'studio'],
  ['rembrandt', 'rembrandt'],
  ['loop', 'loop'],
  ['split', 'split'],
  ['butterfly', 'butterfly'],
  ['rim', 'rim'],
  ['golden hour', 'golden hour'],
  ['Golden-Hour', 'golden hour'],
  ['golden_hour', 'golden hour'],
  ['goldenhour', 'golden hour'],
  ['sunset', 'golden hour'],
  ['blue hour', 'blue hour'],
  ['window', 'window'],
  ['window light', 'window'],
  ['neon', 'neon'],
  ['candle', 'candle'],
  ['candlelight', 'candle'],
  ['rembrandt from right', 'rembrandt from right'],
  ['window left', 'window from left'],
  ['key from left', 'key from left'],
  ['key from right', 'key from right'],
  ['Key from the left, warm', 'key from left, warm'],
  ['key from right, cool', 'key from right, cool'],
  ['key from left warm', 'key from left, warm'],
  ['warm key from left', 'key from left, warm'],
  ['key light from upper right, cool', 'key from upper right, cool'],
  ['light from above', 'key from above'],
  ['key from top left', 'key from upper left'],
  ['key from below, red', 'key from below, red'],
  ['light from behind with a blue gel', 'key from behind, blue'],
  ['from the left', 'key from left'],
  ['key from left, magenta', 'key from left, magenta'],
];

for (const [input, label] of accepted) {
  test(`parseLighting(${JSON.stringify(input)}) = ${label}`, () => {
    const r = parseLighting(input);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.value.label, label);
    assert.ok(r.value.lights.length > 0);
    assert.ok(r.value.description.length > 10);
  });
}

const rejected: Array<[input: string, suggestion: string | undefined]> = [
  ['rembrant', 'rembrandt'],
  ['studoi', 'studio'],
  ['goldn hour', 'golden hour'],
  ['neonn', 'neon'],
  ['key from lft', 'key from left'],
  ['key from rihgt, warm', 'key from right, warm'],
  ['key from left, wram', 'key from left, warm'],
  ['rembrant from right', 'rembrandt from right'],
  ['disco ball', undefined],
  ['key from nowhere', undefined],
  ['<script>', undefined],
];

for (const [input, suggestion] of rejected) {
  test(`parseLighting(${JSON.stringify(input)}) is refused${suggestion ? ` suggesting ${suggestion}` : ''}`, () => {
    const r = parseLighting(input);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'request.bad_lighting');
    assert.equal(r.error.details['suggestion'], suggestion);
    assert.equal(r.error.details['got'], input);
    const sentence = describeError(r.error);
    assert.match(sentence, /I don't know the lighting/);
    if (suggestion) assert.ok(sentence.includes(`Did you mean '${suggestion}'?`), sentence);
  });
}

test('left and right are the subject\'s: "from left" puts the key at positive azimuth, "from right" mirrors it', () => {
  const left = parseLighting('key from left');
  const right = parseLighting('key from right');
  assert.ok(left.ok && right.ok);
  assert.ok((left.value.lights[0]?.azimuth ?? 0) > 0);
  assert.equal(right.value.lights[0]?.azimuth, -(left.value.lights[0]?.azimuth ?? 0));
  const r = parseLighting('rembrandt from right');
  const l = parseLighting('rembrandt');
  assert.ok(r.ok && l.ok);
  assert.deepEqual(
    r.value.lights.map((x) => x.azimuth),
    l.value.lights.map((x) => -x.azimuth),
  );
});

test('the catalogue is data: every issue preset present, each with one line of description', () => {
  const names = LIGHTING_PRESETS.map((p) => p.name);
  for (const n of [
    'studio',
    'rembrandt',
    'loop',
    'split',
    'butterfly',
    'rim',
    'golden hour',
    'blue hour',
    'window',
    'neon',
    'candle',
  ]) {
    assert.ok(names.includes(n), n);
  }
  for (const p of LIGHTING_PRESETS) {
    assert.ok(!p.description.includes('\n'));
    assert.ok(p.description.length < 120, p.name);
    for (const l of p.lights) assert.ok(l.softness >= 0 && l.softness <= 1 && l.kelvin >= 1000 && l.intensity > 0);
  }
  const help = describeLightingPresets();
  assert.ok(help.some((line) => line.includes("subject's own")));
  assert.equal(help.length, LIGHTING_PRESETS.length + 2);
});
