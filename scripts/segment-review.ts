/**
 * `node --import tsx scripts/segment-review.ts [photo ...]`: contact sheets of the segmentation for every shared
 * test photo (or the ones named), written to /tmp/seg-review/ (or SEG_REVIEW_DIR): photo | person composited on
 * green (halos of background colour show up against it) | the unrefined model mask on green | hair | skin | depth.
 * For looking at, not for committing.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { chooseMainFace, detectFaces } from '../src/pipeline/face/detect.js';
import { cropImage, decodeImage, fromSharp, resizeImage, toSharp } from '../src/pipeline/image.js';
import { estimateDepth, segmentPerson } from '../src/pipeline/segment/index.js';
import { runSelfieSegmentation } from '../src/pipeline/segment/models.js';
import { resizePlane } from '../src/pipeline/segment/plane.js';
import type { Box, RgbImage } from '../src/pipeline/types.js';
import { FACES_DIR, MODELS_DIR } from '../test/helpers/env.js';

process.env['PORTRAIT_MODELS_DIR'] ??= MODELS_DIR;
const out = process.env['SEG_REVIEW_DIR'] ?? '/tmp/seg-review';
const TILE = 400;

function over(image: RgbImage, mask: Float32Array, colour: [number, number, number], alpha: number): RgbImage {
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < mask.length; i++) {
    const m = (mask[i] ?? 0) * alpha;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = (image.data[i * 3 + c] ?? 0) * (1 - m) + colour[c]! * m;
  }
  return { ...image, data };
}

function onGreen(image: RgbImage, mask: Float32Array): RgbImage {
  const data = new Uint8Array(image.data.length);
  const green = [0, 200, 0];
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i] ?? 0;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = (image.data[i * 3 + c] ?? 0) * m + green[c]! * (1 - m);
  }
  return { ...image, data };
}

function grey(image: RgbImage, values: Float32Array): RgbImage {
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < values.length; i++) data.fill(Math.round((values[i] ?? 0) * 255), i * 3, i * 3 + 3);
  return { ...image, data };
}

async function tile(image: RgbImage): Promise<Buffer> {
  const h = TILE;
  const w = Math.round((image.width * h) / image.height);
  const small = await resizeImage(image, w, h);
  return sharp(small.data, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

/** The compositor's head-and-shoulders working square: face box ~40% of the side, clamped to the photo. */
function workingSquare(image: RgbImage, face: Box): Box {
  const side = Math.round(Math.min(image.width, image.height, Math.max(face.width, face.height) / 0.4));
  const cx = face.x + face.width / 2;
  const cy = face.y + face.height / 2;
  const x = Math.round(Math.min(image.width - side, Math.max(0, cx - side / 2)));
  const y = Math.round(Math.min(image.height - side, Math.max(0, cy - side * 0.46)));
  return { x, y, width: side, height: side };
}

async function row(image: RgbImage, face: Box | undefined, zoom?: Box): Promise<{ tiles: Buffer[]; width: number }[]> {
  const seg = await segmentPerson(image, face ? { face } : {});
  const depth = await estimateDepth(image);
  const raw = resizePlane(await runSelfieSegmentation(image), image.width, image.height).data;
  const tiles = await Promise.all([
    tile(image),
    tile(onGreen(image, seg.person)),
    tile(onGreen(image, raw)),
    tile(over(image, seg.hair, [255, 0, 0], 0.7)),
    tile(over(image, seg.skin, [0, 0, 255], 0.6)),
    tile(grey(image, depth)),
  ]);
  const rows: { tiles: Buffer[]; width: number }[] = [
    { tiles, width: Math.round((image.width * TILE) / image.height) },
  ];
  if (zoom) {
    // 1:1 pixels around the top of the head, where hair meets background.
    const crops = [image, onGreen(image, seg.person), onGreen(image, raw), over(image, seg.hair, [255, 0, 0], 0.5)];
    rows.push({ tiles: await Promise.all(crops.map((c) => tile(cropImage(c, zoom)))), width: TILE });
  }
  return rows;
}

await mkdir(out, { recursive: true });
const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : (await readdir(FACES_DIR)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
for (const name of names) {
  const { image } = await decodeImage(await readFile(join(FACES_DIR, name)), { maxBytes: 5e7, maxPixels: 5e7 });
  // The largest, most central face, even where the pipeline would ask for a solo selfie (groups).
  const faces = await detectFaces(image);
  const face = faces[chooseMainFace(faces, image.width, image.height)]?.box;
  const rows = await row(image, face);
  if (face) {
    const box = workingSquare(image, face);
    const size = Math.min(1024, box.width);
    const square = await fromSharp(
      toSharp(image).extract({ left: box.x, top: box.y, width: box.width, height: box.height }).resize(size, size),
    );
    const k = size / box.width;
    const f = { x: (face.x - box.x) * k, y: (face.y - box.y) * k, width: face.width * k, height: face.height * k };
    const zoomSide = Math.min(size, TILE);
    const zoom = {
      x: Math.round(Math.min(size - zoomSide, Math.max(0, f.x + f.width - zoomSide / 2))),
      y: Math.round(Math.min(size - zoomSide, Math.max(0, f.y - zoomSide / 2))),
      width: zoomSide,
      height: zoomSide,
    };
    rows.push(...(await row(square, f, zoom)));
  }
  const width = Math.max(...rows.map((r) => r.width * r.tiles.length));
  await sharp({ create: { width, height: TILE * rows.length, channels: 3, background: 'black' } })
    .composite(rows.flatMap((r, j) => r.tiles.map((t, i) => ({ input: t, left: i * r.width, top: j * TILE }))))
    .png()
    .toFile(join(out, `${name.replace(/\.[^.]+$/, '')}.png`));
  console.log(`${name}: ${face ? 'face found' : 'no face'}`);
}
