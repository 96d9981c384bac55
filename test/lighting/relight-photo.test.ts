import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { parseLighting } from '../../src/core/lighting.js';
import { estimateMesh } from '../../src/pipeline/face/mesh.js';
import { TRIANGLES } from '../../src/pipeline/geometry/triangles.js';
import { resizeImage } from '../../src/pipeline/image.js';
import { estimateLighting } from '../../src/pipeline/lighting/estimate.js';
import { faceSideLuminance } from '../../src/pipeline/lighting/measure.js';
import { relight } from '../../src/pipeline/lighting/relight.js';
import { disposeSessions } from '../../src/pipeline/models/index.js';
import { needsPhotos } from '../helpers/env.js';
import { loadSelfie } from './photos.js';

after(() => disposeSessions());

for (const name of ['obama.jpg', 'pexels-dinielle-de-veyra-4195444.jpg']) {
  test(`relight ${name}: "key from left" and "key from right" swap which side of the face is bright`, {
    skip: needsPhotos(name),
  }, async () => {
    const selfie = await loadSelfie(name);
    // Work at about a megapixel like the engine does; the face's proportions are what matter.
    const k = Math.min(1, 1080 / Math.max(selfie.image.width, selfie.image.height));
    const image = await resizeImage(
      selfie.image,
      Math.round(selfie.image.width * k),
      Math.round(selfie.image.height * k),
    );
    const face = {
      ...selfie.face,
      box: {
        x: selfie.face.box.x * k,
        y: selfie.face.box.y * k,
        width: selfie.face.box.width * k,
        height: selfie.face.box.height * k,
      },
      landmarks: selfie.face.landmarks.map((p) => ({ x: p.x * k, y: p.y * k })) as typeof selfie.face.landmarks,
    };
    const mesh = await estimateMesh(image, face);
    const source = estimateLighting(image, mesh.points, TRIANGLES);
    assert.ok(source.samples > 300, `samples ${source.samples}`);
    const ratios: number[] = [];
    for (const text of ['key from left', 'key from right']) {
      const lighting = parseLighting(text);
      assert.ok(lighting.ok);
      const out = relight({
        image,
        points: mesh.points,
        sourcePoints: mesh.points,
        triangles: TRIANGLES,
        source,
        lighting: lighting.value,
      });
      assert.equal(out.image.width, image.width);
      ratios.push(faceSideLuminance(out.image, mesh.points, TRIANGLES).ratio);
    }
    const [fromLeft = 0, fromRight = 0] = ratios;
    const before = faceSideLuminance(image, mesh.points, TRIANGLES).ratio;
    // Subject's left / right: above 1.3 when the key is on their left, below 1/1.3 when it is on their right.
    assert.ok(fromLeft > 1.3, `key from left: left/right ${fromLeft} (photo ${before})`);
    assert.ok(1 / fromRight > 1.3, `key from right: right/left ${1 / fromRight} (photo ${before})`);
  });
}
