import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parseConfig } from '../../src/config.js';
import { isPortraitError } from '../../src/errors.js';
import {
  chooseMainFace,
  detectFaces,
  detectorGeometry,
  findMainFace,
  iou,
  nms,
} from '../../src/pipeline/face/detect.js';
import { decodeImage } from '../../src/pipeline/image.js';
import { configureModels, disposeSessions } from '../../src/pipeline/models/index.js';
import type { Face, RgbImage } from '../../src/pipeline/types.js';
import { facePath, MODELS_DIR } from '../helpers/env.js';

const LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

async function load(name: string): Promise<RgbImage> {
  return (await decodeImage(await readFile(facePath(name)), LIMITS)).image;
}

function face(x: number, y: number, size: number, score = 0.9): Face {
  const p = { x: x + size / 2, y: y + size / 2 };
  return { box: { x, y, width: size, height: size }, score, landmarks: [p, p, p, p, p] };
}

describe('detection geometry', () => {
  it('keeps a square selfie at 640 and gives a wide group photo more width, in multiples of 32', () => {
    const square = detectorGeometry(1080, 1080);
    assert.equal(square.width, 640);
    assert.equal(square.paddedWidth, 640);
    const wide = detectorGeometry(2048, 922);
    assert.ok(wide.width > 900, `wide input ${wide.width}`);
    assert.equal(wide.paddedWidth % 32, 0);
    assert.equal(wide.paddedHeight % 32, 0);
    const small = detectorGeometry(300, 200);
    assert.equal(small.scale, 1);
    assert.deepEqual([small.paddedWidth, small.paddedHeight], [320, 224]);
  });

  it('suppresses overlapping boxes, keeping the best score', () => {
    const kept = nms([face(0, 0, 100, 0.7), face(10, 10, 100, 0.9), face(300, 300, 50, 0.8)], 0.3);
    assert.deepEqual(
      kept.map((f) => f.score),
      [0.9, 0.8],
    );
    assert.equal(iou(face(0, 0, 10).box, face(20, 20, 10).box), 0);
    assert.equal(iou(face(0, 0, 10).box, face(0, 0, 10).box), 1);
  });

  it('chooses the largest and most central face as the main one', () => {
    // A big face in a corner against a slightly smaller one in the centre: centrality wins.
    const corner = face(0, 0, 200);
    const centre = face(400, 400, 180);
    assert.equal(chooseMainFace([corner, centre], 1000, 1000), 1);
    // A tiny face in the centre does not beat a large one off-centre.
    assert.equal(chooseMainFace([face(450, 450, 40), face(100, 300, 300)], 1000, 1000), 1);
    assert.equal(chooseMainFace([], 100, 100), -1);
  });
});

describe('YuNet on real photos', () => {
  before(async () => {
    await configureModels(parseConfig({ PORTRAIT_MODELS_DIR: MODELS_DIR }));
  });
  after(async () => {
    await disposeSessions();
  });

  it('astronaut.png has one face, with landmarks inside its box in the right order', async () => {
    const image = await load('astronaut.png');
    const faces = await detectFaces(image);
    assert.equal(faces.length, 1);
    const [f] = faces as [Face];
    assert.ok(f.score > 0.8);
    const [rightEye, leftEye, nose, rightMouth, leftMouth] = f.landmarks;
    for (const p of f.landmarks) {
      assert.ok(p.x > f.box.x && p.x < f.box.x + f.box.width && p.y > f.box.y && p.y < f.box.y + f.box.height);
    }
    // The subject's right eye is on the image's left; eyes above the nose, nose above the mouth.
    assert.ok(rightEye.x < leftEye.x && rightMouth.x < leftMouth.x);
    assert.ok(Math.max(rightEye.y, leftEye.y) < nose.y && nose.y < Math.min(rightMouth.y, leftMouth.y));
  });

  it('two_people.jpg has two faces', async () => {
    const faces = await detectFaces(await load('two_people.jpg'));
    assert.equal(faces.length, 2);
  });

  it('solvay1927.jpg (a wide group photo with small faces) has at least 25', async () => {
    const image = await load('solvay1927.jpg');
    const faces = await detectFaces(image);
    assert.ok(faces.length >= 25, `found ${faces.length}`);
    for (const f of faces) {
      assert.ok(f.box.x >= 0 && f.box.x + f.box.width <= image.width, 'boxes are in original pixels');
    }
  });

  it('finds the same face in original coordinates after the image is scaled', async () => {
    const image = await load('obama.jpg');
    const [big] = await detectFaces(image);
    const half = (
      await decodeImage(
        await sharp(await readFile(facePath('obama.jpg')))
          .resize(455)
          .png()
          .toBuffer(),
        LIMITS,
      )
    ).image;
    const [small] = await detectFaces(half);
    assert.ok(big && small);
    assert.ok(Math.abs(big.box.x / 2 - small.box.x) < 8, `${big.box.x / 2} vs ${small.box.x}`);
    assert.ok(Math.abs(big.box.width / 2 - small.box.width) < 8);
  });

  it('a photo with no face -> face.none with the selfie number', async () => {
    const sky = await decodeImage(
      await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 90, g: 150, b: 220 } } })
        .png()
        .toBuffer(),
      LIMITS,
    );
    const err = await findMainFace(sky.image, 3).catch((e: unknown) => e);
    assert.ok(isPortraitError(err));
    assert.equal(err.code, 'face.none');
    assert.equal(err.details['selfie'], 3);
  });

  it('a face too small for a portrait -> face.too_small', async () => {
    // The astronaut's face is ~90 px; shrunk 4x in a larger canvas it is ~23 px, still detectable.
    const small = await sharp(await readFile(facePath('astronaut.png')))
      .resize(128)
      .extend({ top: 96, bottom: 96, left: 96, right: 96, background: { r: 128, g: 128, b: 128 } })
      .png()
      .toBuffer();
    const { image } = await decodeImage(small, LIMITS);
    const err = await findMainFace(image, 1).catch((e: unknown) => e);
    assert.ok(isPortraitError(err), String(err));
    assert.equal(err.code, 'face.too_small');
    assert.equal(err.details['selfie'], 1);
  });
});
