import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateMesh, MESH_INDEX, MESH_POINTS, meshPoint } from '../../src/pipeline/face/mesh.js';
import type { Face } from '../../src/pipeline/types.js';
import { SINGLE_FACE_PHOTOS } from '../helpers/env.js';
import { analyse, facesBySize, loadPhoto } from './photos.js';

/** The mesh's eye centres (between the corners), the subject's right eye first. */
function meshEyes(points: Float32Array): [number, number, number, number] {
  const p = (i: number): [number, number] => [points[i * 3] ?? 0, points[i * 3 + 1] ?? 0];
  const [r1, r2, l1, l2] = [p(33), p(133), p(263), p(362)];
  return [(r1[0] + r2[0]) / 2, (r1[1] + r2[1]) / 2, (l1[0] + l2[0]) / 2, (l1[1] + l2[1]) / 2];
}

function checkAgainstFace(points: Float32Array, face: Face, label: string): void {
  const { x, y, width, height } = face.box;
  // The mesh reaches the hairline, which detector boxes often cut: allow a margin of a third of the box.
  const mx = width / 3;
  const my = height / 3;
  for (let i = 0; i < MESH_POINTS; i++) {
    const px = points[i * 3] ?? Number.NaN;
    const py = points[i * 3 + 1] ?? Number.NaN;
    assert.ok(px >= x - mx && px <= x + width + mx && py >= y - my && py <= y + height + my, `${label}: point ${i}`);
  }
  // Mapped back through the crop's rotation and scale, the eyes land on the detector's eyes.
  const [rx, ry, lx, ly] = meshEyes(points);
  const [re, le] = face.landmarks;
  const tolerance = 0.12 * width;
  assert.ok(Math.hypot(rx - re.x, ry - re.y) < tolerance, `${label}: right eye off`);
  assert.ok(Math.hypot(lx - le.x, ly - le.y) < tolerance, `${label}: left eye off`);
}

describe('estimateMesh', () => {
  for (const name of SINGLE_FACE_PHOTOS) {
    it(`finds 468 points on the face of ${name}`, async () => {
      const { face, mesh } = await analyse(await loadPhoto(name));
      assert.equal(mesh.points.length, MESH_POINTS * 3);
      assert.ok(mesh.presence > 0.9, `presence ${mesh.presence}`);
      checkAgainstFace(mesh.points, face, name);
      // z grows away from the camera: the nose tip is nearer than the sides of the face.
      const nose = meshPoint(mesh, MESH_INDEX.noseTip)[2];
      assert.ok(nose < meshPoint(mesh, MESH_INDEX.rightCheek)[2] || nose < meshPoint(mesh, MESH_INDEX.leftCheek)[2]);
      const chin = meshPoint(mesh, MESH_INDEX.chin);
      const forehead = meshPoint(mesh, MESH_INDEX.forehead);
      assert.ok(chin[1] > forehead[1], 'chin below forehead');
    });
  }

  it('meshes both faces of a group photo', async () => {
    const image = await loadPhoto('two_people.jpg');
    const faces = await facesBySize(image);
    assert.ok(faces.length >= 2);
    for (const [k, face] of faces.slice(0, 2).entries()) {
      const mesh = await estimateMesh(image, face);
      assert.ok(mesh.presence > 0.9, `face ${k} presence ${mesh.presence}`);
      checkAgainstFace(mesh.points, face, `two_people face ${k}`);
    }
  });

  it('follows a tilted head: the mesh of a rotated photo is the rotated mesh', async () => {
    const angle = 35;
    const upright = await analyse(await loadPhoto('astronaut.png'));
    const tilted = await analyse(await loadPhoto('astronaut.png', { rotate: angle }));
    const t = (angle * Math.PI) / 180;
    const [c, s] = [Math.cos(t), Math.sin(t)];
    let sum = 0;
    for (let i = 0; i < MESH_POINTS; i++) {
      const [x, y] = meshPoint(upright.mesh, i);
      const u = x - upright.image.width / 2;
      const v = y - upright.image.height / 2;
      const ex = c * u - s * v + tilted.image.width / 2;
      const ey = s * u + c * v + tilted.image.height / 2;
      const [gx, gy] = meshPoint(tilted.mesh, i);
      sum += Math.hypot(gx - ex, gy - ey);
    }
    const faceWidth = upright.pose.scale * 100;
    assert.ok(sum / MESH_POINTS < 0.03 * faceWidth, `mean point error ${(sum / MESH_POINTS).toFixed(1)} px`);
  });
});
