import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHeadModel } from '../../src/pipeline/geometry/head-model.js';
import { cleanTurn, headSqueeze, SQUEEZE_LIMIT } from '../../src/pipeline/geometry/head-warp.js';
import { analyse, loadPhoto } from './photos.js';

describe('cleanTurn with the head model', () => {
  it('holds back a turn whose field folds, to where nothing of the head is squeezed hard', async () => {
    // obama2.jpg faces 15 degrees to his right. Turned 20 more that way, the face slides across a head side that
    // hardly moves, and the field folds: the far temple is pulled back over itself.
    const { image, mesh, pose } = await analyse(await loadPhoto('obama2.jpg'));
    const head = buildHeadModel(mesh.points, pose, image.width, image.height);
    const to = { yaw: pose.yaw - 20, pitch: pose.pitch, roll: pose.roll };
    const faceOnly = cleanTurn(mesh.points, pose, to).rendered;
    assert.ok(headSqueeze(head, faceOnly) < 0, `the face alone allows a fold (${headSqueeze(head, faceOnly)})`);
    const held = cleanTurn(mesh.points, pose, to, 1, head).rendered;
    const squeeze = headSqueeze(head, held);
    assert.ok(squeeze >= SQUEEZE_LIMIT, `held to where nothing is squeezed under the limit (${squeeze})`);
    assert.ok(squeeze < SQUEEZE_LIMIT + 0.05, `and no further back (${squeeze})`);
    const turned = pose.yaw - held.yaw;
    assert.ok(turned > 5 && turned < pose.yaw - faceOnly.yaw - 3, `still a turn, a shorter one (${turned})`);
  });

  it('leaves a turn that squeezes without folding as the face allows it', async () => {
    // Held back wherever the head was squeezed under the limit, 54 such turns lost a blind paired panel 37 to 97:
    // raters took the fuller turn where nothing folded.
    const { image, mesh, pose } = await analyse(await loadPhoto('biden.jpg'));
    const head = buildHeadModel(mesh.points, pose, image.width, image.height);
    const to = { yaw: pose.yaw + 20, pitch: pose.pitch, roll: pose.roll };
    const faceOnly = cleanTurn(mesh.points, pose, to);
    const squeeze = headSqueeze(head, faceOnly.rendered);
    assert.ok(squeeze > 0 && squeeze < SQUEEZE_LIMIT, `squeezed, not folded (${squeeze})`);
    assert.deepEqual(cleanTurn(mesh.points, pose, to, 1, head), faceOnly);
  });
});
