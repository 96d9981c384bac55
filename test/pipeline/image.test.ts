import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parseConfig } from '../../src/config.js';
import { cropImage, decodeImage, encodeImage, resizeImage, sniffFormat } from '../../src/pipeline/image.js';
import { facePath } from '../helpers/env.js';

const LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

// Refusals, bombs, polyglots, orientation, colour spaces and alpha are cases of the bad-input table
// (test/hardening/corpus.ts, run by test/hardening/bad-input.test.ts); this file keeps the supported formats and helpers.

describe('ingest: supported formats', () => {
  let photo: Buffer;
  let width: number;
  let height: number;
  before(async () => {
    // A real photo, shrunk so each encode is quick; every format below is generated from it.
    const source = await readFile(facePath('obama.jpg'));
    photo = await sharp(source).resize(320).jpeg().toBuffer();
    const meta = await sharp(photo).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  });

  for (const format of ['jpeg', 'png', 'webp', 'avif', 'gif'] as const) {
    it(`decodes ${format} to sRGB RGB of the same size`, async () => {
      const bytes = await sharp(photo).toFormat(format).toBuffer();
      assert.deepEqual(await sniffFormat(bytes), { ok: true, format });
      const { image, format: found } = await decodeImage(bytes, LIMITS);
      assert.equal(found, format);
      assert.equal(image.width, width);
      assert.equal(image.height, height);
      assert.equal(image.channels, 3);
      assert.equal(image.data.length, width * height * 3);
      // Not a blank frame: the photo's pixels vary.
      const sample = Array.from(image.data.subarray(0, 3000));
      assert.ok(Math.max(...sample) - Math.min(...sample) > 40);
    });
  }

  it('reads only the first frame of an animated GIF', async () => {
    const w = 80;
    const h = 80;
    const frames = Buffer.alloc(w * h * 3 * 3);
    const colours = [
      [200, 30, 30],
      [30, 200, 30],
      [30, 30, 200],
    ];
    colours.forEach((c, f) => {
      for (let i = 0; i < w * h; i++) frames.set(c, (f * w * h + i) * 3);
    });
    const gif = await sharp(frames, { raw: { width: w, height: h * 3, channels: 3, pageHeight: h } })
      .gif({ loop: 0, delay: [100, 100, 100] })
      .toBuffer();
    assert.equal((await sharp(gif, { animated: true }).metadata()).pages, 3);
    const { image } = await decodeImage(gif, LIMITS);
    assert.equal(image.height, h);
    const [r, g, b] = image.data;
    assert.ok((r ?? 0) > 150 && (g ?? 0) < 80 && (b ?? 0) < 80, `first frame is red, got ${r},${g},${b}`);
  });
});

describe('RgbImage helpers', () => {
  it('crop, resize and encode round trip', async () => {
    const { image } = await decodeImage(await readFile(facePath('astronaut.png')), LIMITS);
    const crop = cropImage(image, { x: 100, y: 50, width: 200, height: 150 });
    assert.equal(crop.width, 200);
    assert.equal(crop.height, 150);
    assert.deepEqual(
      Array.from(crop.data.subarray(0, 3)),
      Array.from(image.data.subarray((50 * image.width + 100) * 3, (50 * image.width + 100) * 3 + 3)),
    );
    const small = await resizeImage(crop, 64, 48);
    assert.equal(small.data.length, 64 * 48 * 3);
    for (const format of ['webp', 'png'] as const) {
      const bytes = await encodeImage(small, format);
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.format, format);
      assert.equal(meta.width, 64);
      assert.equal(meta.exif, undefined);
    }
  });
});

describe('ingest: the default limits', () => {
  const config = parseConfig({});
  const limits = { maxBytes: config.PORTRAIT_MAX_INPUT_BYTES, maxPixels: config.PORTRAIT_MAX_INPUT_PIXELS };

  it('take a 50-megapixel phone photo (it was refused at 40 MP) and shrink it to the working size', async () => {
    const source = await readFile(facePath('obama.jpg'));
    const bytes = await sharp(source).resize(8160, 6144, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();
    assert.ok(bytes.byteLength < limits.maxBytes, 'within the byte limit');
    const { image } = await decodeImage(bytes, limits);
    assert.ok(image.width * image.height <= 4096 * 4096, `${image.width}x${image.height}`);
    assert.equal(Math.round((image.width / image.height) * 100), Math.round((8160 / 6144) * 100));
  });
});
