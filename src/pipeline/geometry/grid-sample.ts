/**
 * Bilinear sample of an interleaved `channels`-plane grid (gw x gh cells) at fractional cell position (fx, fy),
 * clamped at the edges, into `out`. Shared by the head warp (its displacement field) and the composition (the
 * relight gain carried to output positions) and the frame's roll (image bytes); the per-pixel loops of the warp
 * and the composition inline their own row-wise version for speed.
 */
export function sampleGrid(
  grid: ArrayLike<number>,
  channels: number,
  gw: number,
  gh: number,
  fx: number,
  fy: number,
  out: Float32Array,
  outOffset = 0,
): void {
  const x = Math.min(gw - 1, Math.max(0, fx));
  const y = Math.min(gh - 1, Math.max(0, fy));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(gw - 1, x0 + 1);
  const y1 = Math.min(gh - 1, y0 + 1);
  const tx = x - x0;
  const ty = y - y0;
  for (let c = 0; c < channels; c++) {
    const a = grid[(y0 * gw + x0) * channels + c] ?? 0;
    const b = grid[(y0 * gw + x1) * channels + c] ?? 0;
    const e = grid[(y1 * gw + x0) * channels + c] ?? 0;
    const f = grid[(y1 * gw + x1) * channels + c] ?? 0;
    out[outOffset + c] = (a + (b - a) * tx) * (1 - ty) + (e + (f - e) * tx) * ty;
  }
}
