import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { isPortraitError } from '../../src/errors.js';
import {
  cropImage,
  decodeImage,
  encodeImage,
  installLoaderAllowlist,
  resizeImage,
  sniffFormat,
} from '../../src/pipeline/image.js';
import { facePath } from '../helpers/env.js';

const LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

/** Asserts that ingest refuses `bytes` with `code` (and the selfie index), returning the error's details. */
async function refused(bytes: Uint8Array, code: string, limits = LIMITS) {
  const err = await decodeImage(bytes, { ...limits, selfie: 2 }).then(
    () => assert.fail(`expected ${code}, the image was accepted`),
    (e: unknown) => e,
  );
  assert.ok(isPortraitError(err), `expected a PortraitError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.details['selfie'], 2);
  return err.details;
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A ~70-byte PNG whose header declares width x height RGB pixels: a decompression bomb if it were decoded. */
function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const idat = Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array()),
  ]);
}

/** A 40-byte lossy WebP whose VP8 key-frame header declares width x height (at most 16383 a side). */
function webpBomb(width: number, height: number): Buffer {
  const vp8 = Buffer.alloc(20);
  // Frame tag: key frame, version 0, shown, first partition 1 byte; then the start code and the dimensions.
  vp8.set([0x30, 0x00, 0x00, 0x9d, 0x01, 0x2a]);
  vp8.writeUInt16LE(width, 6);
  vp8.writeUInt16LE(height, 8);
  const chunk = Buffer.concat([Buffer.from('VP8 '), u32le(vp8.length), vp8]);
  return Buffer.concat([Buffer.from('RIFF'), u32le(4 + chunk.length), Buffer.from('WEBP'), chunk]);
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** An ISO-BMFF `ftyp` box with the given brands, then a stub `meta` box: what an iPhone HEIC starts with. */
function ftyp(major: string, compatible: string[]): Buffer {
  const body = Buffer.concat([Buffer.from(major), Buffer.from([0, 0, 0, 0]), ...compatible.map((b) => Buffer.from(b))]);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(8 + body.length);
  const meta = Buffer.from([0, 0, 0, 12, 0x6d, 0x65, 0x74, 0x61, 0, 0, 0, 0]);
  return Buffer.concat([size, Buffer.from('ftyp'), body, meta]);
}

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
      assert.deepEqual(sniffFormat(bytes), { ok: true, format });
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

  it('applies the EXIF orientation (a phone selfie shot sideways)', async () => {
    const rotated = await sharp(photo).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const { image } = await decodeImage(rotated, LIMITS);
    assert.equal(image.width, height);
    assert.equal(image.height, width);
  });

  it('flattens transparency onto light grey and converts grey, 16-bit and CMYK to 8-bit RGB', async () => {
    const transparent = await sharp({
      create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const flat = await decodeImage(transparent, LIMITS);
    assert.deepEqual(Array.from(flat.image.data.subarray(0, 3)), [240, 240, 240]);

    for (const bytes of [
      await sharp(photo).greyscale().png().toBuffer(),
      await sharp(photo).toColourspace('rgb16').png().toBuffer(),
      await sharp(photo).toColourspace('cmyk').jpeg().toBuffer(),
    ]) {
      const { image } = await decodeImage(bytes, LIMITS);
      assert.equal(image.data.length, image.width * image.height * 3);
      assert.equal(image.width, width);
    }
  });
});

describe('ingest: refusals', () => {
  let photo: Buffer;
  before(async () => {
    photo = await sharp(await readFile(facePath('obama.jpg')))
      .resize(320)
      .jpeg()
      .toBuffer();
  });

  it('zero bytes -> input.empty', async () => {
    await refused(new Uint8Array(), 'input.empty');
  });

  it('over the byte cap -> input.too_large, naming size and limit', async () => {
    const d = await refused(photo, 'input.too_large', { ...LIMITS, maxBytes: 4096 });
    assert.equal(d['limit'], '4 KB');
    assert.match(String(d['got']), /KB$/);
  });

  it('text named .jpg -> input.not_image', async () => {
    const d = await refused(Buffer.from('these are my holiday notes, not a photo\n'), 'input.not_image');
    assert.equal(d['got'], 'text');
  });

  it('an HTML page (a saved error page) -> input.not_image', async () => {
    const html = Buffer.from('<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head><body></body></html>');
    const d = await refused(html, 'input.not_image');
    assert.match(String(d['got']), /HTML/);
  });

  it('a truncated JPEG -> input.corrupt', async () => {
    await refused(photo.subarray(0, Math.floor(photo.length / 2)), 'input.corrupt');
  });

  it('a JPEG with garbage after its header -> input.corrupt', async () => {
    const broken = Buffer.from(photo);
    broken.fill(0x55, 700, 2000);
    await refused(broken, 'input.corrupt');
  });

  it('a 70-byte PNG declaring 100000 x 100000 pixels -> input.too_many_pixels before any decode', async () => {
    const bomb = pngBomb(100_000, 100_000);
    assert.ok(bomb.length < 100);
    const d = await refused(bomb, 'input.too_many_pixels');
    assert.equal(d['limit'], '40 megapixels');
  });

  it('a 40-byte WebP declaring 16383 x 16383 pixels -> input.too_many_pixels', async () => {
    await refused(webpBomb(16_383, 16_383), 'input.too_many_pixels');
  });

  it('an image under 64 pixels a side -> input.too_small', async () => {
    const tiny = await sharp(photo).resize(40, 40).png().toBuffer();
    const d = await refused(tiny, 'input.too_small');
    assert.equal(d['got'], '40x40');
  });

  it('SVG -> input.unsupported_format, and the SVG loader cannot run even when asked directly', async () => {
    const svg = Buffer.from(
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200"/></svg>',
    );
    const d = await refused(svg, 'input.unsupported_format');
    assert.equal(d['got'], 'SVG');
    installLoaderAllowlist();
    await assert.rejects(sharp(svg).metadata());
  });

  it('an SVG behind a GIF signature (a polyglot) never reaches librsvg -> input.corrupt', async () => {
    const polyglot = Buffer.concat([
      Buffer.from('GIF89a'),
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9000" height="9000"><rect/></svg>'),
    ]);
    await refused(polyglot, 'input.corrupt');
  });

  it('TIFF and PDF -> input.unsupported_format with the format named', async () => {
    const tiff = await sharp(photo).tiff().toBuffer();
    assert.equal((await refused(tiff, 'input.unsupported_format'))['got'], 'TIFF');
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    assert.equal((await refused(pdf, 'input.unsupported_format'))['got'], 'PDF');
  });

  it('HEIC (HEVC brands, as iPhones write) -> input.heic_unsupported', async () => {
    await refused(ftyp('heic', ['mif1', 'heic']), 'input.heic_unsupported');
    await refused(ftyp('mif1', ['mif1', 'heic', 'miaf']), 'input.heic_unsupported');
  });

  it('unknown binary -> input.not_image', async () => {
    await refused(
      Buffer.from([0x00, 0x13, 0x37, 0x00, 0xfe, 0x01, 0x02, 0x03, 0x00, 0x00, 0x10, 0x20]),
      'input.not_image',
    );
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
