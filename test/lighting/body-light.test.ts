import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLighting } from '../../src/core/lighting.js';
import { buildHeadModel, headRotation } from '../../src/pipeline/geometry/head-model.js';
import { TRIANGLES } from '../../src/pipeline/geometry/triangles.js';
import { luminance } from '../../src/pipeline/lighting/colour.js';
import { estimateLighting } from '../../src/pipeline/lighting/estimate.js';
import { personLight } from '../../src/pipeline/lighting/person-relight.js';
import { lightingToSh } from '../../src/pipeline/lighting/sh.js';
import { analyse, loadPhoto } from '../geometry/photos.js';

/** obama.jpg's head model and fitted light, and the relight gain's luminance on the shoulders for a rig. */
async function shoulders() {
  const { image, face, mesh, pose } = await analyse(await loadPhoto('obama.jpg'));
  const head = buildHeadModel(mesh.points, pose, image.width, image.height);
  const source = estimateLighting(image, mesh.points, TRIANGLES);
  const { delta } = headRotation(pose, pose);
  const cx = face.box.x + face.box.width / 2;
  const y = face.box.y + face.box.height * 2;
  // The key's side: the subject's left, the picture's right.
  const at = (x: number) => Math.floor(y / head.cell) * head.width + Math.floor(x / head.cell);
  const keySide = at(cx + face.box.width * 1.1);
  const otherSide = at(cx - face.box.width * 1.1);
  const chest = at(cx);
  const gains = (rig: string, from = source) => {
    const lighting = parseLighting(rig);
    assert.ok(lighting.ok);
    const light = personLight(head, delta, from, lighting.value);
    const lum = (o: number) =>
      luminance(light.gain[o * 3] ?? 1, light.gain[o * 3 + 1] ?? 1, light.gain[o * 3 + 2] ?? 1);
    return { key: lum(keySide), other: lum(otherSide), chest: lum(chest) };
  };
  return { source, gains };
}

test("split goes on down the body: the shoulder away from the key falls into the face's shadow", async () => {
  // Lit as a plane facing the camera, neck and shoulders took one flat tone: split's shadow half ended at the jaw
  // above a lit neck, a mask on a body the light never touched.
  const { gains } = await shoulders();
  const split = gains('split');
  assert.ok(split.key > 2 * split.other, `key side ${split.key.toFixed(3)}, other side ${split.other.toFixed(3)}`);
});

test("the body is never lit against the rig: the photo's own light is not divided out of its turned sides", async () => {
  // A photo lit from the subject's left as split lights it, relit with neon's gels from both sides (the brighter on
  // the subject's left). The photo's light is fitted on the face; read at the body's turned sides it said the lit
  // side was far brighter than a sweater there was, and dividing it out dimmed that side below the other (a blind
  // paired panel: "the chest lit oppositely").
  const { source, gains } = await shoulders();
  const sideLight = parseLighting('split');
  assert.ok(sideLight.ok);
  const litFromLeft = { ...source, shading: lightingToSh(sideLight.value) };
  const neon = gains('neon', litFromLeft);
  assert.ok(neon.key >= neon.other, `key side ${neon.key.toFixed(3)}, other ${neon.other.toFixed(3)}`);
});

test('a soft key or a key in front lights the body evenly, a smaller key from the side shapes it', async () => {
  // Shaped under studio's large soft key, a sweater's far side went a dull grey (a blind paired panel: 7 to 22);
  // under butterfly's key in front, the column's sides went darker than the face above them (2 to 9).
  const { gains } = await shoulders();
  for (const rig of ['studio', 'butterfly']) {
    const even = gains(rig);
    for (const side of [even.key, even.other]) {
      assert.ok(
        Math.abs(side / even.chest - 1) < 0.02,
        `${rig}: shoulder ${side.toFixed(3)}, chest ${even.chest.toFixed(3)}`,
      );
    }
  }
  const side = gains('key from left');
  assert.ok(side.key > 1.3 * side.other, `key from left: ${side.key.toFixed(3)}, ${side.other.toFixed(3)}`);
});
