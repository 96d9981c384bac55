import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeError } from '../../src/core/messages.js';
import {
  COMPOSITOR_POSE_LIMITS,
  checkPoseForEngine,
  describePosePresets,
  POSE_PRESETS,
  parsePose,
  resolvePose,
} from '../../src/core/pose.js';

describe('parsePose', () => {
  // [typed, yaw, pitch, roll, label, axes kept as the selfie has them]
  type Row = [string, number, number, number, string, Array<'yaw' | 'pitch' | 'roll'>];
  const accepted: Row[] = [
    ['', 0, 0, 0, 'front', ['roll']],
    ['front', 0, 0, 0, 'front', ['roll']],
    ['  Frontal. ', 0, 0, 0, 'front', ['roll']],
    ['three-quarter left', 30, 0, 0, 'three-quarter left', ['pitch', 'roll']],
    ['Three_Quarter  LEFT', 30, 0, 0, 'three-quarter left', ['pitch', 'roll']],
    ['3/4 left', 30, 0, 0, 'three-quarter left', ['pitch', 'roll']],
    ['3/4 right', -30, 0, 0, 'three-quarter right', ['pitch', 'roll']],
    ['left', 30, 0, 0, 'three-quarter left', ['pitch', 'roll']],
    ['right', -30, 0, 0, 'three-quarter right', ['pitch', 'roll']],
    ['profile left', 90, 0, 0, 'profile left', ['pitch', 'roll']],
    ['profile-right', -90, 0, 0, 'profile right', ['pitch', 'roll']],
    ['look up', 0, 20, 0, 'look up', ['yaw', 'roll']],
    ['chin down', 0, -20, 0, 'look down', ['yaw', 'roll']],
    ['tilt left', 0, 0, 15, 'tilt left', ['yaw', 'pitch']],
    ['tilt right', 0, 0, -15, 'tilt right', ['yaw', 'pitch']],
    ['yaw=25 pitch=-10 roll=0', 25, -10, 0, 'yaw=25 pitch=-10 roll=0', []],
    ['yaw 25, pitch -10', 25, -10, 0, 'yaw=25 pitch=-10', ['roll']],
    ['pitch: 15°', 0, 15, 0, 'pitch=15', ['yaw', 'roll']],
    ['roll=-7.5', 0, 0, -7.5, 'roll=-7.5', ['yaw', 'pitch']],
    ['yaw=\u221212', -12, 0, 0, 'yaw=-12', ['pitch', 'roll']],
    ['yaw=-30', -30, 0, 0, 'three-quarter right', ['pitch', 'roll']],
    ['yaw=0 pitch=0 roll=0', 0, 0, 0, 'yaw=0 pitch=0 roll=0', []],
    ['left 20', 20, 0, 0, 'yaw=20', ['pitch', 'roll']],
    ['turn right 15 degrees', -15, 0, 0, 'yaw=-15', ['pitch', 'roll']],
    ['look down 10', 0, -10, 0, 'pitch=-10', ['yaw', 'roll']],
    ['tilt left 10', 0, 0, 10, 'roll=10', ['yaw', 'pitch']],
    ['three-quarter left, look up', 30, 20, 0, 'yaw=30 pitch=20', ['roll']],
    ['left and yaw=20', 20, 0, 0, 'yaw=20', ['pitch', 'roll']],
    ['right + tilt right', -30, 0, -15, 'yaw=-30 roll=-15', ['pitch']],
  ];
  for (const [text, yaw, pitch, roll, label, keep] of accepted) {
    it(`accepts ${JSON.stringify(text)}`, () => {
      const r = parsePose(text);
      assert.ok(r.ok, r.ok ? '' : r.error.message);
      assert.deepEqual(r.value, { yaw, pitch, roll, label, ...(keep.length > 0 ? { keep } : {}) });
    });
  }

  it("keeps the selfie's own angles on the axes a request leaves alone", () => {
    const selfie = { yaw: -18, pitch: 6, roll: 4 };
    const up = parsePose('look up');
    assert.ok(up.ok);
    assert.deepEqual(
      { ...resolvePose(up.value, selfie), keep: undefined },
      { yaw: -18, pitch: 20, roll: 4, label: 'look up', keep: undefined },
    );
    const tilt = parsePose('tilt right');
    assert.ok(tilt.ok);
    const t = resolvePose(tilt.value, selfie);
    assert.deepEqual([t.yaw, t.pitch, t.roll], [-18, 6, -15]);
    const front = parsePose('front');
    assert.ok(front.ok);
    const f = resolvePose(front.value, selfie);
    // Facing the camera keeps the selfie's tilt.
    assert.deepEqual([f.yaw, f.pitch, f.roll], [0, 0, 4]);
  });

  const refused: Array<[string, string | undefined]> = [
    ['lft', 'left'],
    ['rigth', 'right'],
    ['profle left', 'profile left'],
    ['thre quarter right', 'three quarter right'],
    ['yew=20', 'yaw=20'],
    ['yaw=20 pich=5', 'yaw=20 pitch=5'],
    ['tilt up 5', 'look up 5'],
    ['banana', undefined],
    ['yaw=120', 'profile left'],
    ['pitch=-60', 'pitch=-45'],
  ];
  for (const [text, suggestion] of refused) {
    it(`refuses ${JSON.stringify(text)}${suggestion ? ` suggesting '${suggestion}'` : ''}`, () => {
      const r = parsePose(text);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, 'request.bad_pose');
      assert.equal(r.error.details['got'], text);
      assert.equal(r.error.details['suggestion'], suggestion);
    });
  }

  it('tells the user what they typed and the suggestion', () => {
    const r = parsePose('lft');
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.message, "unknown pose 'lft'");
    assert.match(describeError(r.error), /'lft'.*Did you mean 'left'\?/);
  });

  it('parses every label it produces back to the same pose', () => {
    for (const text of ['three-quarter left, look up', 'yaw=-12.5 roll=3', 'tilt right', 'left 20']) {
      const first = parsePose(text);
      assert.ok(first.ok);
      const again = parsePose(first.value.label);
      assert.ok(again.ok);
      assert.deepEqual(again.value, first.value);
    }
  });

  it('parses every preset name and alias to that preset', () => {
    for (const p of POSE_PRESETS) {
      for (const name of [p.name, ...p.aliases]) {
        const r = parsePose(name);
        assert.ok(r.ok, name);
        assert.deepEqual([r.value.yaw, r.value.pitch, r.value.roll], [p.yaw, p.pitch, p.roll], name);
      }
    }
  });

  it('answers odd input with a pinned result, never a throw', () => {
    const front = { yaw: 0, pitch: 0, roll: 0, label: 'front', keep: ['roll'] };
    const table: Array<[string, { ok: true; value: unknown } | { ok: false; code: string }]> = [
      ['', { ok: true, value: front }],
      ['-', { ok: true, value: front }],
      // Only separators ask for nothing, like an empty pose.
      [',,,', { ok: true, value: front }],
      [
        'left, ',
        { ok: true, value: { yaw: 30, pitch: 0, roll: 0, label: 'three-quarter left', keep: ['pitch', 'roll'] } },
      ],
      ['=', { ok: false, code: 'request.bad_pose' }],
      ['yaw=', { ok: false, code: 'request.bad_pose' }],
      ['yaw==3', { ok: false, code: 'request.bad_pose' }],
      ['°', { ok: false, code: 'request.bad_pose' }],
      ['x'.repeat(500), { ok: false, code: 'request.bad_pose' }],
      ['1e9', { ok: false, code: 'request.bad_pose' }],
      ['yaw=NaN', { ok: false, code: 'request.bad_pose' }],
    ];
    for (const [text, expected] of table) {
      const r = parsePose(text);
      const got = r.ok ? { ok: true, value: r.value } : { ok: false, code: r.error.code };
      assert.deepEqual(got, expected, JSON.stringify(text.slice(0, 20)));
      // A refusal quotes what was typed (bounded), so the sentence says what it could not read.
      if (!r.ok) assert.equal(r.error.details['got'], text.slice(0, String(r.error.details['got']).length));
    }
  });
});

describe('pose presets', () => {
  it('describe every preset in one line and say whose left it is', () => {
    const lines = describePosePresets();
    for (const p of POSE_PRESETS) assert.ok(lines.some((l) => l.startsWith(`${p.name}: `) && !l.includes('\n')));
    assert.ok(lines.some((l) => /subject's own/.test(l)));
    for (const p of POSE_PRESETS) assert.ok(p.description.length > 10 && p.description.length < 120, p.name);
  });

  it('mirror each other: left presets are the negated right ones', () => {
    for (const [l, r] of [
      ['three-quarter left', 'three-quarter right'],
      ['profile left', 'profile right'],
      ['tilt left', 'tilt right'],
    ] as const) {
      const a = POSE_PRESETS.find((p) => p.name === l);
      const b = POSE_PRESETS.find((p) => p.name === r);
      assert.ok(a && b);
      // `0 - x` rather than `-x`: strict equality tells -0 from 0.
      assert.deepEqual([a.yaw, a.pitch, a.roll], [0 - b.yaw, 0 - b.pitch, 0 - b.roll]);
    }
  });
});

describe('checkPoseForEngine', () => {
  const pose = (text: string) => {
    const r = parsePose(text);
    assert.ok(r.ok);
    return r.value;
  };
  it('lets the compositor draw the presets within its limits', () => {
    for (const text of ['front', 'three-quarter left', 'three-quarter right', 'look up', 'look down', 'tilt left']) {
      assert.equal(checkPoseForEngine(pose(text), 'compositor'), undefined, text);
    }
  });
  it('refuses beyond the compositor limits with the limit and the engine', () => {
    const err = checkPoseForEngine(pose('profile left'), 'compositor');
    assert.equal(err?.code, 'request.pose_out_of_range');
    assert.equal(err?.details['limit'], COMPOSITOR_POSE_LIMITS.yaw);
    assert.equal(err?.details['engine'], 'compositor');
    const pitch = checkPoseForEngine(pose('pitch=25'), 'compositor');
    assert.ok(pitch);
    assert.equal(pitch.details['limit'], COMPOSITOR_POSE_LIMITS.pitch);
    assert.match(describeError(pitch), /compositor/);
  });
  it('lets the diffusion engine take the full range', () => {
    assert.equal(checkPoseForEngine(pose('profile right'), 'diffusion'), undefined);
  });
});
