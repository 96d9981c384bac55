import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backgroundPlate, mirrorIntoHole } from '../../src/pipeline/compose/plate.js';
import type { RgbImage } from '../../src/pipeline/types.js';

it('what a turn uncovers before window slats continues the slats, not a smooth pale ghost of the head', () => {
  // Horizontal slats (6 px dark, 6 px light) behind an elliptical person. A blind panel saw the smooth fill where a
  // turned head had been as a pale ghost of its outline breaking the slats.
  const w = 512;
  const h = 512;
  const data = new Uint8Array(w * h * 3);
  const alpha = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const inside = ((x - 256) / 110) ** 2 + ((y - 280) / 170) ** 2 < 1;
      alpha[p] = inside ? 1 : 0;
      data.fill(inside ? 200 : Math.floor(y / 6) % 2 ? 210 : 70, p * 3, p * 3 + 1);
      data[p * 3 + 1] = inside ? 150 : data[p * 3]!;
      data[p * 3 + 2] = inside ? 120 : data[p * 3]!;
    }
  }
  const image: RgbImage = { data, width: w, height: h, channels: 3 };
  const plate = backgroundPlate(image, alpha);
  const scenery = mirrorIntoHole(plate, alpha);
  /** Mean step between rows half a slat apart, over the hole's side bands (10 to 30 px inside its edge). */
  const slats = (img: RgbImage) => {
    let s = 0;
    let n = 0;
    for (let y = 200; y < 360; y++) {
      for (const x of [146 + 10, 146 + 20, 146 + 30, 366 - 10, 366 - 20, 366 - 30]) {
        s += Math.abs(img.data[(y * w + x) * 3]! - img.data[((y + 6) * w + x) * 3]!);
        n++;
      }
    }
    return s / n;
  };
  const photo = 140;
  assert.ok(slats(plate) < 0.2 * photo, `the smooth fill keeps ${slats(plate).toFixed(1)} of ${photo}`);
  assert.ok(slats(scenery) > 0.6 * photo, `the mirrored fill keeps ${slats(scenery).toFixed(1)} of ${photo}`);
  // Away from the hole the plate is the photo.
  for (const p of [0, 10 * w + 10, 500 * w + 20]) assert.equal(scenery.data[p * 3], data[p * 3]);
});

/** A 512 px grey wall with an elliptical person, and what `draw` adds outside them. */
function wallWithPerson(draw: (x: number, y: number) => number | undefined): { image: RgbImage; alpha: Float32Array } {
  const w = 512;
  const data = new Uint8Array(w * w * 3);
  const alpha = new Float32Array(w * w);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const inside = ((x - 256) / 110) ** 2 + ((y - 280) / 170) ** 2 < 1;
      alpha[p] = inside ? 1 : 0;
      data.fill(inside ? 120 : (draw(x, y) ?? 200), p * 3, p * 3 + 3);
    }
  }
  return { image: { data, width: w, height: w, channels: 3 }, alpha };
}

it('loose strands of hair beside the person on a plain wall go with the person, not stay as a ghost', () => {
  // Flyaway curls the person mask leaves out: a thin dark arc 9 to 24 px beyond its edge. Left in the plate, they
  // floated beside a turned head as a grey smudge of hair (a blind panel's ghost).
  const strand = (x: number, y: number) => {
    const r = Math.hypot(x - 145, y - 200);
    return Math.abs(r - 10) < 0.7 && x < 150 ? 50 : undefined;
  };
  const { image, alpha } = wallWithPerson(strand);
  const plate = backgroundPlate(image, alpha);
  let worst = 0;
  for (let y = 0; y < 512; y++) {
    for (let x = 0; x < 512; x++) {
      if (strand(x, y) === undefined || alpha[y * 512 + x]! > 0) continue;
      worst = Math.max(worst, Math.abs(plate.data[(y * 512 + x) * 3]! - 200));
    }
  }
  assert.ok(worst < 25, `a strand's pixel is ${worst} levels off the wall in the plate`);
});

it('a textured background beside the person stays the photo: no smooth band round the head', () => {
  // A stucco wall: 3 px grains of random shade everywhere. A grain stands off the wall beside it as a strand does,
  // but everywhere.
  const grain = (x: number, y: number) => {
    const k = Math.imul(Math.floor(x / 3) * 7919 + Math.floor(y / 3) * 104729, 2654435761) >>> 0;
    return 150 + (k % 100);
  };
  const { image, alpha } = wallWithPerson(grain);
  const plate = backgroundPlate(image, alpha);
  let changed = 0;
  let n = 0;
  // A band 12 to 40 px left of the person's side.
  for (let y = 240; y < 320; y++) {
    for (let x = 106; x < 134; x++) {
      const i = (y * 512 + x) * 3;
      changed += Math.abs(plate.data[i]! - image.data[i]!) > 10 ? 1 : 0;
      n++;
    }
  }
  assert.ok(changed / n < 0.05, `${((100 * changed) / n).toFixed(1)}% of the band beside the person was filled`);
});

it('on a plain wall, a piece of the person the mask left out goes with the person, not stays as a ghost', () => {
  // A lens of glasses beyond a turned cheek: the mask stopped at the cheek, and the lens's glint stayed on the plate,
  // floating beside the turned head as a blurred white ghost (a blind panel rated every such tile broken). Here a
  // bright piece 27 px wide against the person's side: too wide for a strand.
  const glint = (x: number, y: number) => (x >= 120 && y >= 250 && y < 290 ? 250 : undefined);
  const { image, alpha } = wallWithPerson(glint);
  const plate = backgroundPlate(image, alpha);
  let worst = 0;
  for (let y = 255; y < 285; y++) {
    for (let x = 124; x < 140; x++) worst = Math.max(worst, Math.abs(plate.data[(y * 512 + x) * 3]! - 200));
  }
  assert.ok(worst < 25, `the piece is ${worst} levels off the wall in the plate`);
});

it('below the crown the hole continues what is above the head, not what lies beside it along the row', () => {
  // A dark building straight behind the head, as wide as its crown, before a pale sky. Mirrored along the rows only,
  // the crown's part of the hole took the sky from the row's ends: a light halo round the head wherever the cut-out
  // was narrower than the hole (a blind panel, every portrait of the photo).
  const w = 512;
  const { image, alpha } = wallWithPerson((x, y) => (x >= 215 && x < 297 && y < 200 ? 50 : 220));
  const scenery = mirrorIntoHole(backgroundPlate(image, alpha), alpha);
  let sum = 0;
  let n = 0;
  for (let y = 118; y < 128; y++) {
    for (let x = 230; x < 282; x++) {
      sum += scenery.data[(y * w + x) * 3]!;
      n++;
    }
  }
  assert.ok(sum / n < 100, `just below the crown the hole is ${(sum / n).toFixed(0)} (building 50, sky 220)`);
});
