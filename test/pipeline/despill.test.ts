import assert from 'node:assert/strict';
import { it } from 'node:test';
import { despill } from '../../src/pipeline/compose/despill.js';
import type { RgbImage } from '../../src/pipeline/types.js';

it("takes a strongly coloured wall's spill out of dark hair at the edge, not out of skin or a stripe of its colour", () => {
  // A person filling the frame's left half before a cyan wall; just inside the edge, three bands: dark curls tinted
  // cyan by the wall (a blind panel saw them as cyan patches on a grey backdrop), skin, and a bright stripe of the
  // wall's own colour on a shirt (which must stay that colour).
  const w = 200;
  const h = 90;
  const wall: [number, number, number] = [90, 190, 230];
  const tinted: [number, number, number] = [30, 80, 100];
  const skin: [number, number, number] = [200, 140, 110];
  const data = new Uint8Array(w * h * 3);
  const alpha = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const inside = x < 100;
      alpha[p] = inside ? 1 : 0;
      const c = !inside ? wall : y < 30 ? tinted : y < 60 ? skin : wall;
      data.set(c, p * 3);
    }
  }
  const image: RgbImage = { data, width: w, height: h, channels: 3 };
  const wallImage: RgbImage = { data: new Uint8Array(w * h * 3), width: w, height: h, channels: 3 };
  for (let p = 0; p < w * h; p++) wallImage.data.set(wall, p * 3);
  const out = despill(image, alpha, { image: wallImage, factor: 1 });
  const at = (x: number, y: number) => Array.from(out.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));
  const chroma = (c: number[]) => Math.max(...c) - Math.min(...c);
  // Hair beside the edge loses most of the wall's tint: greyer, and no longer bluer than it is red by much.
  const hair = at(95, 15);
  assert.ok(chroma(hair) < 0.4 * chroma(tinted), `hair ${hair} from ${tinted}`);
  // Skin and the wall-coloured stripe are as they were.
  assert.deepEqual(at(95, 45), skin);
  assert.deepEqual(at(95, 75), wall);
  // Away from the edge nothing changes.
  assert.deepEqual(at(5, 15), tinted);
});
