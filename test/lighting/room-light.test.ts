import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLighting } from '../../src/core/lighting.js';
import { confineToMember, headRotation } from '../../src/pipeline/geometry/head-model.js';
import { TRIANGLES } from '../../src/pipeline/geometry/triangles.js';
import { luminance } from '../../src/pipeline/lighting/colour.js';
import { estimateLighting } from '../../src/pipeline/lighting/estimate.js';
import { personLight } from '../../src/pipeline/lighting/person-relight.js';
import { withMember } from '../geometry/photos.js';

test('a frame turned whole: the rig brightens the member, never the wall round them', async () => {
  // Lit as a front facing the camera, a wall the frame turns with the member took the key's light as a face does:
  // up to half again as bright, a blown-out wall behind a rembrandt turn (a blind panel's "blown walls").
  // The member: the head and shoulders, an ellipse round the face's box above its shoulders, all below them.
  const { image, face, mesh, pose, head, mask } = await withMember('obama.jpg', (x, y, f) => {
    const shoulders = f.cy + f.box.height;
    return y > shoulders || ((x - f.cx) / (f.box.width * 0.8)) ** 2 + ((y - f.cy) / (f.box.height * 0.9)) ** 2 <= 1;
  });
  const { width, height } = image;
  const cx = face.box.x + face.box.width / 2;
  const cy = face.box.y + face.box.height / 2;
  const source = estimateLighting(image, mesh.points, TRIANGLES);
  const lighting = parseLighting('rembrandt');
  assert.ok(lighting.ok);
  // A rembrandt turn: 15 degrees to the subject's right.
  const { delta } = headRotation(pose, { ...pose, yaw: pose.yaw - 15 });
  const whole = personLight(confineToMember(head, mask, width, height), delta, source, lighting.value);
  const unconfined = personLight(head, delta, source, lighting.value);
  const { width: gw, cell } = whole;
  const gain = (light: typeof whole, x: number, y: number) => {
    const o = Math.floor(y / cell) * gw + Math.floor(x / cell);
    return luminance(light.gain[o * 3] ?? 1, light.gain[o * 3 + 1] ?? 1, light.gain[o * 3 + 2] ?? 1);
  };
  // Wall beside the head on the key's side and on the other, level with the eyes.
  for (const x of [cx - face.box.width * 1.6, cx + face.box.width * 1.6]) {
    const y = cy - face.box.height * 0.1;
    assert.ok(gain(whole, x, y) <= 1 + 1e-6, `the wall at x ${x.toFixed(0)}: gain ${gain(whole, x, y).toFixed(3)}`);
  }
  // The face is still lit: its lit side brighter than the photo.
  assert.ok(gain(whole, cx, cy) > 1, `the face's gain ${gain(whole, cx, cy).toFixed(3)}`);
  // Without the member known (the cut-out case, where the backdrop's own treatment goes behind), the same wall
  // takes the key: what the limit prevents.
  const brightest = Math.max(
    gain(unconfined, cx - face.box.width * 1.6, cy - face.box.height * 0.1),
    gain(unconfined, cx + face.box.width * 1.6, cy - face.box.height * 0.1),
  );
  assert.ok(brightest > 1.05, `unconfined, the wall's gain ${brightest.toFixed(3)}`);
});
