import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crispOutline } from '../../src/pipeline/compose/crisp-outline.js';

/**
 * A shoulder's outline as an enlarged web photo leaves it: the edge at row EDGE + a wobble (the rim check's bites
 * and bumps), soft over RAMP px on each side. Hair, where given, covers the left half.
 */
const W = 256;
const H = 128;
const EDGE = 64;
const RAMP = 8;

function softShoulder(): Float32Array {
  const alpha = new Float32Array(W * H);
  for (let x = 0; x < W; x++) {
    const edge = EDGE + 3 * Math.sin(x / 2.5);
    for (let y = 0; y < H; y++) alpha[y * W + x] = Math.min(1, Math.max(0, (y - edge + RAMP) / (2 * RAMP)));
  }
  return alpha;
}

/** Rows in column x with alpha strictly between 0.05 and 0.95: how wide the soft edge is there. */
function rampWidth(alpha: Float32Array, x: number): number {
  let n = 0;
  for (let y = 0; y < H; y++) {
    const a = alpha[y * W + x] ?? 0;
    if (a > 0.05 && a < 0.95) n++;
  }
  return n;
}

/** The row where the alpha first reaches a half in column x. */
function halfRow(alpha: Float32Array, x: number): number {
  for (let y = 0; y < H; y++) if ((alpha[y * W + x] ?? 0) >= 0.5) return y;
  return H;
}

describe('crispOutline', () => {
  it('makes a soft, wobbly outline away from hair crisp and smooth, a little inside its middle', () => {
    const soft = softShoulder();
    const crisp = crispOutline(soft, new Float32Array(W * H), W, H, 2);
    const xs = Array.from({ length: 40 }, (_, i) => 100 + i);
    const before = Math.max(...xs.map((x) => rampWidth(soft, x)));
    const after = Math.max(...xs.map((x) => rampWidth(crisp, x)));
    assert.ok(before >= 14, `the soft edge is ${before} px`);
    assert.ok(after <= 6, `the crisp edge is ${after} px (soft: ${before})`);
    // The wobble is ironed out to half or less.
    const wobble = (rows: number[]) => Math.max(...rows) - Math.min(...rows);
    const rows = xs.map((x) => halfRow(crisp, x));
    const softRows = xs.map((x) => halfRow(soft, x));
    assert.ok(wobble(softRows) >= 5, `the soft outline wobbles by ${wobble(softRows)}`);
    assert.ok(wobble(rows) <= 3, `the outline still wobbles: rows ${rows.join(',')}`);
    // Choked, never grown: the outline lies at or inside the soft one's middle.
    const mid = xs.reduce((s, x) => s + halfRow(soft, x), 0) / xs.length;
    const now = rows.reduce((s, r) => s + r, 0) / rows.length;
    assert.ok(now >= mid && now <= mid + 4, `outline at row ${now}, the soft one's middle at ${mid}`);
  });

  it('leaves hair soft', () => {
    const soft = softShoulder();
    const hair = new Float32Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W / 2; x++) hair[y * W + x] = 1;
    const crisp = crispOutline(soft, hair, W, H, 2);
    for (const x of [20, 50, 80]) {
      for (let y = 0; y < H; y++) assert.equal(crisp[y * W + x], soft[y * W + x], `changed at ${x},${y}`);
    }
    assert.ok(rampWidth(crisp, 200) <= 6);
  });

  it('does not take a thin band of "hair" along the outline for hair (the parts model draws one round an ear)', () => {
    const soft = softShoulder();
    const band = new Float32Array(W * H);
    for (let y = EDGE - 3; y < EDGE + 3; y++) for (let x = 0; x < W; x++) band[y * W + x] = 1;
    const crisp = crispOutline(soft, band, W, H, 2);
    for (const x of [60, 120, 200])
      assert.ok(rampWidth(crisp, x) <= 6, `soft edge at x=${x}: ${rampWidth(crisp, x)} px`);
  });

  it('keeps a thin part of the member whole (a glasses frame past the cheek), sure or softened', () => {
    for (const sure of [1, 0.7]) {
      const alpha = new Float32Array(W * H);
      for (let y = 60; y < 63; y++) for (let x = 40; x < 200; x++) alpha[y * W + x] = sure;
      const crisp = crispOutline(alpha, new Float32Array(W * H), W, H, 2);
      for (let x = 40; x < 200; x += 10) {
        assert.ok((crisp[61 * W + x] ?? 0) >= 0.97 * sure, `the ${sure} frame thinned away at x=${x}`);
      }
    }
  });
});
