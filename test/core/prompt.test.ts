import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeError } from '../../src/core/messages.js';
import {
  DEFAULT_VOCABULARY,
  type LabelResult,
  type PromptFields,
  type PromptVocabulary,
  parsePrompt,
  vocabulary,
} from '../../src/core/prompt.js';
import { editDistance as distance } from '../../src/core/typos.js';
import { PortraitError } from '../../src/errors.js';

/**
 * The grammar is tested with the real lighting parser and a small stand-in pose parser with the same contract
 * (canonical label, or request.bad_pose with a suggestion), so these tables test the grammar, not the presets.
 */
const POSES = ['front', 'three-quarter left', 'three-quarter right', 'profile left', 'profile right', 'look up'];
function testPose(text: string): LabelResult {
  const t = text.toLowerCase().trim().replace(/\s+/g, ' ');
  if (POSES.includes(t)) return { ok: true, label: t };
  const deg = /^yaw\s*=\s*(-?\d+)(?:\s+pitch\s*=\s*(-?\d+))?$/.exec(t);
  if (deg) return { ok: true, label: `yaw ${deg[1]}, pitch ${deg[2] ?? 0}` };
  const near = POSES.map((p) => [p, distance(t, p)] as const).sort((a, b) => a[1] - b[1])[0];
  return {
    ok: false,
    error: new PortraitError('request.bad_pose', 'unknown pose', {
      got: text,
      ...(near && near[1] <= 3 ? { suggestion: near[0] } : {}),
    }),
  };
}
const vocab: PromptVocabulary = vocabulary(testPose);

describe('parsePrompt: accepted requests', () => {
  const table: Array<[string, PromptFields]> = [
    ['', {}],
    ['   ', {}],
    [
      'pose: three-quarter left, light: golden hour, style: oil painting, 2 variations, seed 42',
      { pose: 'three-quarter left', lighting: 'golden hour', style: 'oil painting', variations: 2, seed: 42 },
    ],
    [
      'seed 42, 2 variations, style: oil painting, lighting: golden hour, pose: three-quarter left',
      { pose: 'three-quarter left', lighting: 'golden hour', style: 'oil painting', variations: 2, seed: 42 },
    ],
    ['Pose = Profile Right; Lighting = Rembrandt', { pose: 'profile right', lighting: 'rembrandt' }],
    ['light: golden-hour', { lighting: 'golden hour' }],
    ['lighting: key from left, warm', { lighting: 'key from left, warm' }],
    ['light: key from left, warm, pose: front', { pose: 'front', lighting: 'key from left, warm' }],
    ['variants: 3', { variations: 3 }],
    ['variations 4 seed: 7', { variations: 4, seed: 7 }],
    ['3 versions', { variations: 3 }],
    ['seed #123', { seed: 123 }],
    ['seed: 4294967295', { seed: 4294967295 }],
    // unkeyed presets, matched by their own parsers
    ['profile left', { pose: 'profile left' }],
    ['rembrandt', { lighting: 'rembrandt' }],
    ['profile right in golden hour light', { pose: 'profile right', lighting: 'golden hour' }],
    ['please make me a portrait, look up, rim lighting', { pose: 'look up', lighting: 'rim' }],
    // unkeyed text that is no preset becomes the style
    ['front, watercolour on rough paper', { pose: 'front', style: 'watercolour on rough paper' }],
    // a keyed value that swallowed the next phrase is split back
    ['light: golden hour, oil painting', { lighting: 'golden hour', style: 'oil painting' }],
    // the style keeps commas and colons
    ['style: 1920s photo: sepia, grain', { style: '1920s photo: sepia, grain' }],
    // keyed values win over unkeyed ones, whatever the order
    ['rembrandt, light: neon', { lighting: 'neon' }],
    // explicit degrees contain '=' but are no keys
    ['pose: yaw=20 pitch=-10', { pose: 'yaw 20, pitch -10' }],
    ['yaw=15', { pose: 'yaw 15, pitch 0' }],
    ['“pose: front”', { pose: 'front' }],
  ];
  for (const [text, expected] of table) {
    it(JSON.stringify(text), () => {
      const r = parsePrompt(text, vocab);
      assert.ok(r.ok, r.ok ? '' : describeError(r.error));
      assert.deepEqual(r.value, expected);
    });
  }
});

describe('parsePrompt: refused requests say why', () => {
  const table: Array<[string, string, RegExp]> = [
    ['pose: profle left', 'request.bad_pose', /Did you mean 'profile left'\?/],
    ['profle left', 'request.bad_pose', /Did you mean 'profile left'\?/],
    ['light: rembrant', 'request.bad_lighting', /Did you mean 'rembrandt'\?/],
    ['golden hur', 'request.bad_lighting', /Did you mean 'golden hour'\?/],
    ['light: golden hur, oil painting', 'request.bad_lighting', /Did you mean 'golden hour'\?/],
    ['lightning: golden hour', 'request.bad_option', /'lightning' is not valid: .*did you mean 'lighting'/],
    ['syle: oil', 'request.bad_option', /did you mean 'style'/],
    ['9 variations', 'request.bad_option', /Variations is not valid: use a number from 1 to 4/],
    ['variations: 0', 'request.bad_option', /from 1 to 4/],
    ['variations: many', 'request.bad_option', /from 1 to 4/],
    ['seed: -1', 'request.bad_option', /seed is not valid: use a whole number/],
    ['seed: 4294967296', 'request.bad_option', /seed is not valid/],
  ];
  for (const [text, code, sentence] of table) {
    it(JSON.stringify(text), () => {
      const r = parsePrompt(text, vocab);
      assert.ok(!r.ok, `expected a refusal, got ${JSON.stringify(r.ok && r.value)}`);
      assert.equal(r.error.code, code);
      assert.match(describeError(r.error), sentence);
    });
  }

  it('never throws on odd input', () => {
    for (const text of [
      ':',
      '=',
      ':::',
      'pose:',
      'light:',
      'seed',
      '\u0000',
      'x'.repeat(5000),
      '<!channel> pose: front',
    ]) {
      assert.doesNotThrow(() => parsePrompt(text, vocab));
    }
    const r = parsePrompt('pose:', vocab);
    assert.ok(r.ok);
  });
});

describe('parsePrompt with the real pose and lighting parsers of src/core', () => {
  const table: Array<[string, PromptFields]> = [
    [
      'pose: three-quarter left, light: golden hour, style: oil painting, 2 variations, seed 42',
      { pose: 'three-quarter left', lighting: 'golden hour', style: 'oil painting', variations: 2, seed: 42 },
    ],
    ['3/4 right in rembrandt light', { pose: 'three-quarter right', lighting: 'rembrandt' }],
    ['pose: three-quarter left, look up', { pose: parseLabel('three-quarter left, look up') }],
    ['three-quarter left, look up, neon', { pose: parseLabel('three-quarter left, look up'), lighting: 'neon' }],
    ['yaw=20 pitch=-10, window from right', { pose: parseLabel('yaw=20 pitch=-10'), lighting: 'window from right' }],
  ];
  for (const [text, expected] of table) {
    it(JSON.stringify(text), () => {
      const r = parsePrompt(text);
      assert.ok(r.ok, r.ok ? '' : describeError(r.error));
      assert.deepEqual(r.value, expected);
    });
  }

  it('typos get the parsers own suggestions', () => {
    const r = parsePrompt('profle left');
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'request.bad_pose');
    assert.match(describeError(r.error), /Did you mean/);
  });
});

function parseLabel(text: string): string {
  const r = DEFAULT_VOCABULARY.pose(text);
  if (!r.ok) throw new Error(`pose parser refused ${text}`);
  return r.label;
}
