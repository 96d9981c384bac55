import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  altText,
  captionText,
  formatDuration,
  helpSections,
  type Limits,
  progressText,
  queuedText,
  renderHelpPlain,
  reportNote,
  STAGE_LABELS,
} from '../../../src/bots/common/present.js';
import { STAGES } from '../../../src/pipeline/types.js';

const limits: Limits = {
  maxSelfies: 4,
  maxVariations: 4,
  maxInputBytes: 20 * 1024 * 1024,
  userInFlight: 2,
  scopeQueueCap: 50,
  retentionSeconds: 86_400,
};

describe('present: shared chat texts', () => {
  it('queue position text', () => {
    for (const [pos, text] of [
      [0, 'Starting now'],
      [1, 'Queued - position 1'],
      [7, 'Queued - position 7'],
      [Number.NaN, 'Starting now'],
    ] as const) {
      assert.equal(queuedText(pos), text);
    }
  });

  it('labels every stage and shows steps', () => {
    for (const s of STAGES) assert.ok(STAGE_LABELS[s].length > 3, s);
    assert.equal(progressText({ stage: 'generate', step: 12, steps: 30 }), 'Painting the portrait (step 12 of 30)');
    assert.equal(progressText({ stage: 'detect' }), 'Finding your face...');
  });

  it('durations', () => {
    for (const [ms, text] of [
      [850, '0.9 s'],
      [3_240, '3.2 s'],
      [42_000, '42 s'],
      [73_000, '1 min 13 s'],
      [120_000, '2 min'],
    ] as const) {
      assert.equal(formatDuration(ms), text);
    }
  });

  it('caption names pose, lighting, engine, seed and time', () => {
    const c = captionText({ pose: 'front', lighting: 'golden hour', engine: 'compositor', seed: 42, elapsedMs: 3200 });
    assert.equal(c, 'Pose: front · Lighting: golden hour · Engine: compositor · Seed: 42 · 3.2 s');
    const v = captionText({
      pose: 'front',
      lighting: 'studio',
      engine: 'diffusion',
      seed: 1,
      elapsedMs: 1000,
      style: 'oil painting',
      variation: { index: 2, count: 3 },
    });
    assert.match(v, /^Variation 2 of 3 · Pose: front · Lighting: studio · Style: oil painting · Engine: diffusion/);
    assert.match(altText({ pose: 'profile left', lighting: 'rim' }), /pose profile left, rim lighting/);
    const turned = captionText({
      pose: 'three-quarter left',
      lighting: 'studio',
      engine: 'compositor',
      seed: 3,
      elapsedMs: 900,
      note: reportNote({
        note: 'turned 18 of the 30 degrees you asked; for a fuller turn, send a selfie facing more to your left.',
      }),
    });
    assert.equal(
      turned,
      'Pose: three-quarter left · Lighting: studio · Engine: compositor · Seed: 3 · 0.9 s\n' +
        'Turned 18 of the 30 degrees you asked; for a fuller turn, send a selfie facing more to your left.',
    );
    assert.equal(reportNote({ engine: 'compositor' }), undefined);
  });

  it('help lists usage, presets with descriptions, limits and privacy', () => {
    const text = renderHelpPlain(
      helpSections({
        poses: [{ name: 'front', description: 'Facing the camera.' }],
        limits,
        usage: ['Mention me with a selfie.'],
        forgetHint: 'Run /portrait-forget',
      }),
    );
    assert.match(text, /How to ask\n- Mention me with a selfie\./);
    assert.match(text, /- front: Facing the camera\./);
    assert.match(text, /- golden hour: /);
    assert.match(text, /Up to 4 selfies per request, each under 20 MB/);
    assert.match(text, /deleted automatically after 24 hours/);
    assert.match(text, /Run \/portrait-forget to delete everything stored about you now\./);
  });
});
