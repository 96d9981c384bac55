import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildHeadModel,
  confineToMember,
  headDisplacement,
  headRotation,
  lightAsHeadOnly,
} from '../../src/pipeline/geometry/head-model.js';
import { warpHead, warpPlane } from '../../src/pipeline/geometry/head-warp.js';
import { apply3, rotationFromEuler } from '../../src/pipeline/geometry/linalg.js';
import type { HeadPose } from '../../src/pipeline/geometry/pose.js';
import { analyse, loadPhoto, withMember } from './photos.js';

describe('lightAsHeadOnly', () => {
  it("lights the head's side as a side only where it is hair or skin, and leaves the face's relief alone", async () => {
    const { image, face, mesh, pose } = await analyse(await loadPhoto('obama.jpg'));
    const { width, height } = image;
    const head = buildHeadModel(mesh.points, pose, width, height);
    // Hair above the face's box, skin on it; beside the jaw neither (a wall or a collar the mask took in).
    const hair = new Float32Array(width * height);
    const skin = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inBox = x >= face.box.x && x < face.box.x + face.box.width;
        if (y < face.box.y) hair[y * width + x] = 1;
        else if (inBox && y < face.box.y + face.box.height) skin[y * width + x] = 1;
      }
    }
    const lit = lightAsHeadOnly(head, hair, skin, width, height);
    const { width: gw, cell } = head;
    const at = (x: number, y: number) => Math.floor(y / cell) * gw + Math.floor(x / cell);
    const nz = (m: typeof head, o: number) => m.normals[o * 3 + 2] ?? 0;
    // Beside the jaw, past the face's box and the fade round the mesh: the ellipsoid faces aside there, and nothing
    // of the head is.
    const jaw = at(face.box.x + face.box.width * 1.6, face.box.y + face.box.height * 0.85);
    assert.ok(nz(head, jaw) < 0.9, `the ellipsoid faces aside beside the jaw (${nz(head, jaw)})`);
    assert.ok(nz(lit, jaw) > 0.999, `lit as the body there, facing the camera (${nz(lit, jaw)})`);
    // The crown's hair keeps the head's shape: it faces up as the ellipsoid does.
    const crown = at(face.box.x + face.box.width * 0.5, face.box.y - face.box.height * 0.25);
    assert.ok(nz(head, crown) < 0.9, `the crown faces up (${nz(head, crown)})`);
    assert.ok(Math.abs(nz(lit, crown) - nz(head, crown)) < 1e-6, 'the hair keeps its normal');
    // The face keeps its relief whatever the masks say: the nose tip's normal is the same.
    const nose = at(mesh.points[1 * 3] ?? 0, mesh.points[1 * 3 + 1] ?? 0);
    for (let c = 0; c < 3; c++) assert.equal(lit.normals[nose * 3 + c], head.normals[nose * 3 + c]);
  });
});

describe('buildHeadModel', () => {
  it('lights the body below the head as an upright column: its sides face aside, its middle the camera', async () => {
    // Lit as a plane facing the camera, neck and shoulders took one flat tone under a side light: split's shadow
    // half ended at the jaw above a lit neck.
    const { image, face, mesh, pose } = await analyse(await loadPhoto('obama.jpg'));
    const { width, height } = image;
    const head = buildHeadModel(mesh.points, pose, width, height);
    const { width: gw, cell } = head;
    const at = (x: number, y: number) => Math.floor(y / cell) * gw + Math.floor(x / cell);
    const nx = (normals: Float32Array, o: number) => normals[o * 3] ?? 0;
    const cx = face.box.x + face.box.width / 2;
    // A face's height below the face's box: the shoulders, wider than the face.
    const y = face.box.y + face.box.height * 2;
    const middle = at(cx, y);
    const picturesLeft = at(cx - face.box.width * 1.1, y);
    const picturesRight = at(cx + face.box.width * 1.1, y);
    assert.ok(Math.abs(nx(head.normals, middle)) < 0.15, `the chest faces the camera (${nx(head.normals, middle)})`);
    assert.ok(
      nx(head.normals, picturesRight) > 0.5,
      `the right shoulder faces right (${nx(head.normals, picturesRight)})`,
    );
    assert.ok(
      nx(head.normals, picturesLeft) < -0.5,
      `the left shoulder faces left (${nx(head.normals, picturesLeft)})`,
    );
    // The body is upright: the same height on either side of the axis, the same turn.
    assert.ok(Math.abs(nx(head.body, picturesLeft) + nx(head.body, picturesRight)) < 0.2);
    // Beside the face, above the chin, what is not head (a collar, a hand) faces the camera.
    const beside = at(cx + face.box.width * 1.1, face.box.y + face.box.height * 0.5);
    assert.ok((head.body[beside * 3 + 2] ?? 0) > 0.999, `beside the face the body faces the camera`);
    // Not hair, not skin: a shirt keeps the body's column, not the camera's plane.
    const none = new Float32Array(width * height);
    const lit = lightAsHeadOnly(head, none, none, width, height);
    assert.ok(
      nx(lit.normals, picturesRight) > 0.5,
      `the shirt's shoulder still faces right (${nx(lit.normals, picturesRight)})`,
    );
  });
});

describe('confineToMember', () => {
  it('keeps the turn on the member and leaves the wall well beside them where it is', async () => {
    // The member: an ellipse in the face, a mask that lost the head round it (the margin, 7% of the side with its
    // fade, covers what a mask of the whole head misses and more).
    const ellipse = { rx: 0.3, ry: 0.35 };
    const { image, face, mesh, pose, head, mask } = await withMember(
      'obama.jpg',
      (x, y, f) =>
        ((x - f.cx) / (f.box.width * ellipse.rx)) ** 2 + ((y - f.cy) / (f.box.height * ellipse.ry)) ** 2 <= 1,
    );
    const { width, height } = image;
    const cx = face.box.x + face.box.width / 2;
    const cy = face.box.y + face.box.height / 2;
    const rx = face.box.width * ellipse.rx;
    const ry = face.box.height * ellipse.ry;
    const confined = confineToMember(head, mask, width, height);
    const turn = { yaw: pose.yaw + 20, pitch: pose.pitch, roll: pose.roll };
    const before = headDisplacement(head, turn);
    const after = headDisplacement(confined, turn);
    const { width: gw, height: gh, cell } = head;
    const shift = (d: Float32Array, o: number) => Math.hypot(d[o * 2] ?? 0, d[o * 2 + 1] ?? 0);
    // Beside the member, beyond the margin and its fade (7% + 14% of the side): the largest shift the unconfined
    // model gives there, and what the confined one gives at the same cell.
    const far = 0.22 * Math.max(width, height);
    const rim: [number, number][] = Array.from({ length: 360 }, (_, i) => [
      cx + rx * Math.cos((i * Math.PI) / 180),
      cy + ry * Math.sin((i * Math.PI) / 180),
    ]);
    let worst = -1;
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        const x = (gx + 0.5) * cell;
        const y = (gy + 0.5) * cell;
        let near = Number.POSITIVE_INFINITY;
        for (const [ex, ey] of rim) near = Math.min(near, Math.hypot(x - ex, y - ey));
        const o = gy * gw + gx;
        const outside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 > 1;
        if (outside && near > far && (worst < 0 || shift(before, o) > shift(before, worst))) worst = o;
      }
    }
    assert.ok(
      shift(before, worst) > 2,
      `the unconfined turn moves the wall beside the head (${shift(before, worst)} px)`,
    );
    assert.ok(shift(after, worst) < 0.05, `the confined turn leaves it (${shift(after, worst)} px)`);
    // And the wall is lit as a wall: the head's sideways normals beside it face the camera off the member.
    const nz = (m: typeof head, o: number) => m.normals[o * 3 + 2] ?? 0;
    assert.ok(nz(head, worst) < 0.9, `the head's normal beside it faces the camera already (${nz(head, worst)})`);
    assert.ok(nz(confined, worst) > 0.999, `the confined normal there faces aside (${nz(confined, worst)})`);
    // The face turns as before.
    const nose = Math.floor((mesh.points[1 * 3 + 1] ?? 0) / cell) * gw + Math.floor((mesh.points[1 * 3] ?? 0) / cell);
    assert.ok(shift(before, nose) > 5);
    assert.ok(Math.abs(shift(after, nose) - shift(before, nose)) < 0.05 * shift(before, nose));
  });
});

describe('warpPlane', () => {
  it('moves a mask as the head warp moves the person', async () => {
    const { image, face, mesh, pose } = await analyse(await loadPhoto('obama.jpg'));
    const { width, height } = image;
    const cx = face.box.x + face.box.width / 2;
    const cy = face.box.y + face.box.height / 2;
    const mask = new Float32Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        mask[y * width + x] = ((x - cx) / face.box.width) ** 2 + ((y - cy) / face.box.height) ** 2 <= 0.5 ? 1 : 0;
    const model = buildHeadModel(mesh.points, pose, width, height);
    const warp = warpHead(image, mask, model, { yaw: pose.yaw + 20, pitch: pose.pitch, roll: pose.roll });
    assert.ok(warp.maxShift > 5, `the head moved ${warp.maxShift.toFixed(1)} px`);
    const moved = warpPlane(mask, width, height, warp);
    let differ = 0;
    let changed = 0;
    for (let p = 0; p < mask.length; p++) {
      if (Math.abs((moved[p] ?? 0) - (warp.alpha[p] ?? 0)) > 0.5) differ++;
      if (Math.abs((moved[p] ?? 0) - (mask[p] ?? 0)) > 0.5) changed++;
    }
    assert.ok(changed > 500, `the mask moved (${changed} px changed)`);
    assert.ok(differ < changed * 0.05, `${differ} px differ from the warp's own alpha (of ${changed} that moved)`);
  });
});

describe('headRotation', () => {
  // A selfie taken from above: the head reads as bowed 18 degrees and rolled 6.
  const from = { yaw: 4, pitch: -18, roll: 6 };
  const pose: HeadPose = {
    ...from,
    rotation: rotationFromEuler(from),
    scale: 4,
    translation: [500, 500, 0],
    residual: 2,
  };

  it("turns the head about the photo's vertical, so nothing of the face rises or sinks", () => {
    const { delta } = headRotation(pose, { ...from, yaw: 19 });
    // Points beside the face, in front of and behind the pivot: a turn about a leaning axis moved the near cheek
    // down and the far one up (eyes and mouth tilted against the selfie).
    for (const p of [
      [-200, 40, -150],
      [200, 40, -150],
      [-200, -80, 150],
      [0, 120, -250],
    ] as const) {
      const q = apply3(delta, p[0], p[1], p[2]);
      assert.ok(Math.abs(q[1] - p[1]) < 1e-6, `height ${p[1]} became ${q[1]}`);
    }
    // It is the 15 degrees asked, about the vertical.
    const q = apply3(delta, 100, 0, 0);
    assert.ok(Math.abs((Math.atan2(q[2], q[0]) * 180) / Math.PI - 15) < 1e-6, `turned ${Math.atan2(q[2], q[0])}`);
  });

  it("nods in the head's own frame, as before", () => {
    const to = { ...from, pitch: 0 };
    const { delta } = headRotation(pose, to);
    // The rotation equals R(to) R(from)^T: it takes the selfie's face direction to the asked one.
    const faceNow = apply3(pose.rotation, 0, 0, -1);
    const faceAfter = apply3(delta, faceNow[0], faceNow[1], faceNow[2]);
    const wanted = apply3(rotationFromEuler(to), 0, 0, -1);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs((faceAfter[i] ?? 0) - (wanted[i] ?? 0)) < 1e-9);
  });
});
