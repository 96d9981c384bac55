import type { RgbImage } from '../types.js';
import { runDepth } from './models.js';
import { resizePlane } from './plane.js';

/**
 * Relative inverse depth of a photo (TCMonoDepth), width x height in 0..1 with 1 = nearest. The model's scale
 * differs from photo to photo, so it is normalised per image between its 2nd and 98th percentiles (a few
 * saturated pixels must not flatten the rest).
 */
export async function estimateDepth(image: RgbImage): Promise<Float32Array> {
  const raw = await runDepth(image);
  const sorted = Float32Array.from(raw.data).sort();
  const lo = sorted[Math.floor(sorted.length * 0.02)] ?? 0;
  const hi = sorted[Math.floor(sorted.length * 0.98)] ?? 1;
  const span = hi - lo > 1e-6 ? hi - lo : 1;
  const norm = raw.data.map((v) => Math.min(1, Math.max(0, (v - lo) / span)));
  return resizePlane({ width: raw.width, height: raw.height, data: norm }, image.width, image.height).data;
}
