import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { annotate, escapeXml, renderDebugSheet } from '../../src/pipeline/debug-sheet.js';
import { installLoaderAllowlist } from '../../src/pipeline/image.js';
import type { RgbImage } from '../../src/pipeline/types.js';

function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([(x * 255) / width, (y * 255) / height, 90], (y * width + x) * 3);
  }
  return { data, width, height, channels: 3 };
}

// The worker blocks every loader but the photo formats: the sheet must not need SVG.
installLoaderAllowlist();

test('debug sheet: one PNG, tiles in a grid of three, labels with details, hostile label text escaped', async () => {
  const images = [
    { label: 'reference\nyaw 12.0 pitch -3.1 roll 1.0', image: gradient(300, 200) },
    { label: 'warped', image: gradient(200, 300) },
    { label: 'relit <b>&"</b>', image: gradient(256, 256) },
    { label: 'stitch', image: gradient(512, 256) },
  ];
  const png = await renderDebugSheet(images, { tile: 200 });
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 3 * (200 + 12) + 12);
  assert.ok((meta.height ?? 0) > 2 * 200, `height ${meta.height}`);
  // The first tile's pixels land where the layout says (below the two-line label of row one).
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) =>
    Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
  const top = 12 + 2 * 18 + 6;
  assert.ok((px(12 + 190, top + 60)[0] ?? 0) > 180, 'right edge of the gradient tile is red');
  assert.deepEqual(px(5, 5), [24, 24, 28]);
  assert.equal(escapeXml('<a href="x">&</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
});

test('annotate draws points, edges, boxes and text without changing the size', async () => {
  const img = gradient(160, 120);
  const out = await annotate(img, {
    points: [
      { x: 20, y: 20 },
      { x: 140, y: 100 },
    ],
    edges: [[0, 1]],
    boxes: [{ x: 10, y: 10, width: 50, height: 40 }],
    highlights: [{ x: 80, y: 60 }],
    text: ['yaw 10.0', 'pitch 0.0'],
  });
  assert.equal(out.width, 160);
  assert.equal(out.height, 120);
  assert.equal(out.data.length, 160 * 120 * 3);
  let changed = 0;
  for (let i = 0; i < out.data.length; i++) if (out.data[i] !== img.data[i]) changed++;
  assert.ok(changed > 500, `changed ${changed}`);
});
