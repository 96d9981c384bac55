import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parseConfig } from '../../src/config.js';
import { isPortraitError } from '../../src/errors.js';
import { createEngine, registeredEngines } from '../../src/pipeline/engines/index.js';
import { alignedFaceCrop, cropFrame, cropMapping, fitFrame, frameFits } from '../../src/pipeline/face/align.js';
import { findMainFace } from '../../src/pipeline/face/detect.js';
import { decodeImage } from '../../src/pipeline/image.js';
import { configureModels, disposeSessions } from '../../src/pipeline/models/index.js';
import type { RgbImage } from '../../src/pipeline/types.js';
import { facePath, MODELS_DIR, needsPhotos } from '../helpers/env.js';

const LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };
const config = parseConfig({ PORTRAIT_MODELS_DIR: MODELS_DIR });

async function decode(bytes: Uint8Array): Promise<RgbImage> {
  return (await decodeImage(bytes, LIMITS)).image;
}

const degrees = (rad: number) => (rad * 180) / Math.PI;

describe('aligned face crop', () => {
  before(async () => {
    await configureModels(config);
  });
  after(async () => {
    await disposeSessions();
  });

  it('levels a tilted head: the eye line is horizontal in the crop and the tilt is measured', async () => {
    const source = await readFile(facePath('astronaut.png'));
    const upright = await decode(source);
    const base = cropFrame((await findMainFace(upright, 1)).mainFace).angle;
    // The same photo turned 20 degrees clockwise: her eye line slopes 20 degrees more.
    const tilted = await decode(
      await sharp(source)
        .rotate(20, { background: { r: 128, g: 128, b: 128 } })
        .png()
        .toBuffer(),
    );
    const { mainFace } = await findMainFace(tilted, 1);
    const crop = await alignedFaceCrop(tilted, mainFace, 384);
    const turned = degrees(crop.frame.angle - base);
    assert.ok(Math.abs(turned - 20) < 4, `measured a turn of ${turned.toFixed(1)} degrees`);
    assert.equal(crop.image.width, 384);
    assert.equal(crop.image.height, 384);

    const again = await findMainFace(crop.image, 1);
    const [right, left] = again.mainFace.landmarks;
    const slope = degrees(Math.atan2(left.y - right.y, left.x - right.x));
    assert.ok(Math.abs(slope) < 4, `eye line in the crop slopes ${slope.toFixed(1)} degrees`);
    // The face sits in the middle: centred across, eyes a little above the middle.
    const eyesX = (left.x + right.x) / 2;
    const eyesY = (left.y + right.y) / 2;
    assert.ok(Math.abs(eyesX - 192) < 40, `eyes at x=${eyesX}`);
    assert.ok(eyesY > 0.3 * 384 && eyesY < 0.5 * 384, `eyes at y=${eyesY}`);
    // The mapping takes the detected eyes of the original onto the crop's eyes.
    const mapped = crop.mapping.toCrop(mainFace.landmarks[0]);
    assert.ok(Math.hypot(mapped.x - right.x, mapped.y - right.y) < 12);
  });

  it('maps points into the crop and back exactly', () => {
    const frame = { center: { x: 300, y: 200 }, angle: 0.3, side: 250 };
    const m = cropMapping(frame, 512);
    const p = { x: 123.4, y: 321.5 };
    const back = m.toImage(m.toCrop(p));
    assert.ok(Math.abs(back.x - p.x) < 1e-9 && Math.abs(back.y - p.y) < 1e-9);
    assert.deepEqual(m.toCrop(frame.center), { x: 256, y: 256 });
  });

  it('keeps a close-up crop inside the photo instead of inventing pixels', {
    skip: needsPhotos('pexels-closeup-smile_facelandmark-Test1.jpg'),
  }, async () => {
    const image = await decode(await readFile(facePath('pexels-closeup-smile_facelandmark-Test1.jpg')));
    const { mainFace } = await findMainFace(image, 1);
    assert.equal(frameFits(cropFrame(mainFace), image.width, image.height), false);
    const frame = fitFrame(mainFace, image.width, image.height);
    assert.ok(frameFits(frame, image.width, image.height));
    assert.ok(frame.side > Math.max(mainFace.box.width, mainFace.box.height));
  });
});

describe('crop engine and engine factory', () => {
  before(async () => {
    await configureModels(config);
  });
  after(async () => {
    await disposeSessions();
  });

  it('returns the aligned crop at the output size, once per variation, with debug images when asked', async () => {
    const image = await decode(await readFile(facePath('obama.jpg')));
    const { faces, mainFace } = await findMainFace(image, 1);
    const engine = await createEngine('crop', config);
    assert.equal(engine.name, 'crop');
    const stages: string[] = [];
    const result = await engine.generate(
      {
        selfies: [{ image, faces, mainFace, index: 1 }],
        pose: 'front',
        lighting: 'studio',
        style: '',
        seed: 7,
        variations: 2,
        outputSize: 300,
        outputFormat: 'png',
        debug: true,
      },
      (p) => stages.push(p.stage),
    );
    assert.equal(result.images.length, 2);
    for (const img of result.images) {
      assert.deepEqual([img.width, img.height, img.data.length], [300, 300, 300 * 300 * 3]);
    }
    assert.deepEqual(stages, ['warp']);
    assert.equal(typeof result.timings['warp'], 'number');
    assert.equal(result.debugImages?.length, 2);
    await engine.dispose();
  });

  it('refuses an engine this build or config cannot run with request.engine_unavailable', async () => {
    assert.ok(registeredEngines().includes('crop'));
    // No PORTRAIT_DIFFUSION_PACK: the diffusion engine cannot run whether or not this build registers it.
    const err = await createEngine('diffusion', config).catch((e: unknown) => e);
    assert.ok(isPortraitError(err), String(err));
    assert.equal(err.code, 'request.engine_unavailable');
    assert.equal(err.details['engine'], 'diffusion');
  });
});
