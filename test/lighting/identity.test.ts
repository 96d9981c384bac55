import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { alignFace, estimateSimilarity, identityEmbedderFor } from '../../src/pipeline/face/identity.js';
import { disposeSessions } from '../../src/pipeline/models/index.js';
import { loadSelfie } from './photos.js';

after(() => disposeSessions());

test('similarity transform: recovers a known rotation, scale and shift from five points', () => {
  const src = [
    { x: 10, y: 20 },
    { x: 50, y: 22 },
    { x: 30, y: 40 },
    { x: 15, y: 60 },
    { x: 45, y: 61 },
  ];
  const a = 1.7 * Math.cos(0.3);
  const b = 1.7 * Math.sin(0.3);
  const dst = src.map((p) => ({ x: a * p.x - b * p.y + 5, y: b * p.x + a * p.y - 7 }));
  const t = estimateSimilarity(src, dst);
  assert.ok(Math.abs(t.a - a) < 1e-9 && Math.abs(t.b - b) < 1e-9);
  assert.ok(Math.abs(t.tx - 5) < 1e-9 && Math.abs(t.ty + 7) < 1e-9);
});

test('identity (model id from the registry): same person high, different people low', async () => {
  const embedder = await identityEmbedderFor('identity');
  assert.ok(embedder);
  const [obama, obama2, biden] = await Promise.all(['obama.jpg', 'obama2.jpg', 'biden.jpg'].map((n) => loadSelfie(n)));
  assert.ok(obama && obama2 && biden);
  const face = (s: typeof obama) => ({ image: s.image, landmarks: s.face.landmarks });
  const same = await embedder.similarity(face(obama), face(obama2));
  const other1 = await embedder.similarity(face(obama), face(biden));
  const other2 = await embedder.similarity(face(obama2), face(biden));
  assert.ok(same > 0.5, `obama vs obama2 ${same}`);
  assert.ok(other1 < 0.3 && other2 < 0.3, `obama vs biden ${other1}, obama2 vs biden ${other2}`);
  // The aligned crop puts the eyes where the template says: the crop is not empty and not the whole photo.
  const aligned = alignFace(obama.image, obama.face.landmarks);
  assert.equal(aligned.width, 112);
  assert.ok(aligned.data.some((v) => v > 0));
});

test('no identity model configured: no embedder, nothing fails', async () => {
  assert.equal(await identityEmbedderFor(undefined), undefined);
  assert.equal(await identityEmbedderFor(''), undefined);
});
