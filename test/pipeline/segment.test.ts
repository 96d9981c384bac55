import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { isPortraitError } from '../../src/errors.js';
import { chooseMainFace, detectFaces } from '../../src/pipeline/face/detect.js';
import { decodeImage, fromSharp, toSharp } from '../../src/pipeline/image.js';
import { configureModels, disposeSessions } from '../../src/pipeline/models/index.js';
import { components, dropSmallBlobs } from '../../src/pipeline/segment/components.js';
import { earsByDepth, lostSkinBesideFace } from '../../src/pipeline/segment/ears.js';
import { boxMean } from '../../src/pipeline/segment/guided-filter.js';
import {
  estimateDepth,
  openSegmentationModels,
  type PersonSegmentation,
  segmentPerson,
} from '../../src/pipeline/segment/index.js';
import { runSelfieSegmentation } from '../../src/pipeline/segment/models.js';
import { refinePerson, scaledCopy } from '../../src/pipeline/segment/person.js';
import { closeCreases, type Plane, resizePlane, timesUpsampled } from '../../src/pipeline/segment/plane.js';
import type { Box, Face, RgbImage } from '../../src/pipeline/types.js';
import { facePath, hasPhoto, MODELS_DIR } from '../helpers/env.js';

/**
 * A shared photo with its faces and the main one (largest and most central). Not findMainFace: that refuses
 * two_people.jpg (no face dominates), and segmentation must still work on such a photo.
 */
async function loadPhoto(name: string): Promise<{ image: RgbImage; faces: Face[]; face: Face }> {
  const { image } = await decodeImage(await readFile(facePath(name)), { maxBytes: 50 * 2 ** 20, maxPixels: 4e7 });
  const faces = await detectFaces(image);
  const face = faces[chooseMainFace(faces, image.width, image.height)];
  assert.ok(face, `no face in ${name}`);
  return { image, faces, face };
}

/** Mean of a mask over a box (clamped to the image). */
function meanIn(mask: Float32Array, width: number, height: number, box: Box): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.max(0, Math.floor(box.y)); y < Math.min(height, Math.ceil(box.y + box.height)); y++) {
    for (let x = Math.max(0, Math.floor(box.x)); x < Math.min(width, Math.ceil(box.x + box.width)); x++) {
      sum += mask[y * width + x] ?? 0;
      n++;
    }
  }
  return n ? sum / n : Number.NaN;
}

/** The middle of a face box: eyes, nose and mouth, surely skin and surely person. */
function faceCore(face: Box): Box {
  return {
    x: face.x + face.width * 0.3,
    y: face.y + face.height * 0.35,
    width: face.width * 0.4,
    height: face.height * 0.4,
  };
}

/**
 * How well a mask's edges sit on the photo's edges: the photo's luminance gradient averaged over the mask's
 * gradient. A mask edge smeared over flat background (the 256-px model upsampled) scores low.
 */
function edgeAlignment(mask: Float32Array, image: RgbImage): number {
  const { width: w, height: h, data } = image;
  const lum = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    lum[i] = (0.299 * (data[i * 3] ?? 0) + 0.587 * (data[i * 3 + 1] ?? 0) + 0.114 * (data[i * 3 + 2] ?? 0)) / 255;
  }
  let num = 0;
  let den = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const gm = Math.hypot((mask[i + 1] ?? 0) - (mask[i - 1] ?? 0), (mask[i + w] ?? 0) - (mask[i - w] ?? 0));
      if (gm < 1e-3) continue;
      num += gm * Math.hypot((lum[i + 1] ?? 0) - (lum[i - 1] ?? 0), (lum[i + w] ?? 0) - (lum[i - w] ?? 0));
      den += gm;
    }
  }
  return num / den;
}

/**
 * Mean width in pixels of a mask's soft edge: pixels strictly between 0.05 and 0.95 per unit of edge length
 * (the mask's total gradient, which is the edge's length for a clean 0-to-1 step). A halo is a wide edge.
 */
function edgeWidth(mask: Float32Array, width: number, height: number): number {
  let soft = 0;
  let length = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const m = mask[i] ?? 0;
      if (m > 0.05 && m < 0.95) soft++;
      length += Math.hypot(
        ((mask[i + 1] ?? 0) - (mask[i - 1] ?? 0)) / 2,
        ((mask[i + width] ?? 0) - (mask[i - width] ?? 0)) / 2,
      );
    }
  }
  return soft / length;
}

/** The compositor's head-and-shoulders working square: the face about 40% of the side, kept inside the photo. */
async function workingSquare(image: RgbImage, face: Box, maxSide = 1024): Promise<{ square: RgbImage; face: Box }> {
  const side = Math.round(Math.min(image.width, image.height, Math.max(face.width, face.height) / 0.4));
  const x = Math.round(Math.min(image.width - side, Math.max(0, face.x + face.width / 2 - side / 2)));
  const y = Math.round(Math.min(image.height - side, Math.max(0, face.y + face.height / 2 - side * 0.46)));
  const size = Math.min(maxSide, side);
  const square = await fromSharp(
    toSharp(image).extract({ left: x, top: y, width: side, height: side }).resize(size, size),
  );
  const k = size / side;
  return {
    square,
    face: { x: (face.x - x) * k, y: (face.y - y) * k, width: face.width * k, height: face.height * k },
  };
}

function assertInsidePerson(seg: PersonSegmentation): void {
  let worst = 0;
  for (let i = 0; i < seg.person.length; i++) {
    worst = Math.max(worst, (seg.hair[i] ?? 0) - (seg.person[i] ?? 0), (seg.skin[i] ?? 0) - (seg.person[i] ?? 0));
  }
  assert.ok(worst < 1e-6, `hair or skin exceeds person by ${worst}`);
}

describe('segmentation building blocks', () => {
  it('an ear the selfie model lost is put back by depth; skin-coloured wall far away and below the chin is not', () => {
    // 64x64 planes: face box 24..40 x 16..36 (chin at row 36). The selfie model says person over the head (22..42)
    // and the body below row 40; depth: head and body near (1), the wall far (0.1). Skin over the head, an ear left
    // of it at eye height (near, joined to the face) that the selfie model lost, a skin-coloured patch of far wall,
    // and a near skin patch well below the chin (a hand at the chest: not this rule's business).
    const n = 64;
    const face: Box = { x: 24, y: 16, width: 16, height: 20 };
    const coarse = { width: n, height: n, data: new Float32Array(n * n) };
    const depth = { width: n, height: n, data: new Float32Array(n * n).fill(0.1) };
    const skin = { width: n, height: n, data: new Float32Array(n * n) };
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const o = y * n + x;
        const head = x >= 22 && x < 42 && y >= 10 && y < 40;
        if (head || (y >= 40 && x >= 12 && x < 52)) {
          coarse.data[o] = 1;
          depth.data[o] = 1;
        }
        if (head) skin.data[o] = 0.9;
        if (x >= 17 && x < 22 && y >= 26 && y < 32) {
          skin.data[o] = 0.9;
          depth.data[o] = 0.95;
        }
        if (x >= 4 && x < 10 && y >= 26 && y < 32) skin.data[o] = 0.9;
        // A beige garment beside the chin: skin to the parts model, near, joined to the face, but not where ears are.
        if (x >= 42 && x < 46 && y >= 32 && y < 37) {
          skin.data[o] = 0.9;
          depth.data[o] = 1;
        }
        if (x >= 52 && x < 58 && y >= 50 && y < 56) {
          skin.data[o] = 0.9;
          depth.data[o] = 1;
        }
      }
    }
    const before = coarse.data.slice();
    assert.ok(lostSkinBesideFace(coarse, skin, face), 'the lost ear asks for depth');
    earsByDepth(coarse, depth, skin, face);
    assert.ok(!lostSkinBesideFace(coarse, skin, face), 'with the ear put back nothing is lost');
    const at = (x: number, y: number) => coarse.data[y * n + x]!;
    assert.ok(at(19, 29) > 0.95, `the ear is the member's (${at(19, 29).toFixed(2)})`);
    assert.equal(at(6, 29), 0, 'skin-coloured wall far away is not');
    assert.equal(at(54, 52), 0, 'below the chin nothing is put in');
    assert.equal(at(44, 34), 0, 'beside the chin nothing is put in either');
    assert.equal(at(32, 26), 1, 'the face stays');
    // Facing the viewer's right (yaw 30), the left side is behind the face: its ear still comes. Facing the
    // viewer's left, the left side is the profile: nothing there is an ear.
    const behind = { width: n, height: n, data: before.slice() };
    earsByDepth(behind, depth, skin, face, 30);
    assert.ok(behind.data[29 * n + 19]! > 0.95, 'the ear behind a face turned away from it comes');
    const profile = { width: n, height: n, data: before.slice() };
    earsByDepth(profile, depth, skin, face, -30);
    assert.equal(profile.data[29 * n + 19], 0, "beside a turned face's profile nothing is taken for an ear");
    const flat = { width: n, height: n, data: new Float32Array(n * n).fill(0.5) };
    const untouched = { width: n, height: n, data: before.slice() };
    earsByDepth(untouched, flat, skin, face);
    assert.deepEqual(untouched.data, before, 'where depth cannot tell head from wall nothing changes');
  });

  it('boxMean averages each clipped window, edges included', () => {
    for (const [w, h, r] of [
      [7, 5, 2],
      [31, 17, 4],
      [3, 3, 5],
      [1, 9, 1],
    ] as const) {
      const src = Float32Array.from({ length: w * h }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
      const got = boxMean(src, w, h, r);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let sum = 0;
          let n = 0;
          for (let j = Math.max(0, y - r); j <= Math.min(h - 1, y + r); j++) {
            for (let i = Math.max(0, x - r); i <= Math.min(w - 1, x + r); i++) {
              sum += src[j * w + i] ?? 0;
              n++;
            }
          }
          assert.ok(Math.abs((got[y * w + x] ?? 0) - sum / n) < 1e-5, `${w}x${h} r${r} at ${x},${y}`);
        }
      }
    }
  });

  it('resizePlane keeps pixel centres aligned and constants constant', () => {
    const two: Plane = { width: 2, height: 1, data: Float32Array.from([0, 1]) };
    const four = resizePlane(two, 4, 1).data;
    assert.deepEqual([...four], [0, 0.25, 0.75, 1]);
    const flat = resizePlane({ width: 3, height: 5, data: new Float32Array(15).fill(0.4) }, 17, 11).data;
    assert.ok(flat.every((v) => Math.abs(v - 0.4) < 1e-6));
    assert.equal(resizePlane(two, 7, 3).data.length, 21);
  });

  it('timesUpsampled is alpha times the f-times upsampled plane, to the bit, where alpha is smaller than it', () => {
    const coarse: Plane = { width: 5, height: 4, data: Float32Array.from({ length: 20 }, (_, i) => ((i * 7) % 3) / 2) };
    const f = 7;
    const [width, height] = [33, 26];
    const alpha = Float32Array.from({ length: width * height }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
    const up = resizePlane(coarse, coarse.width * f, coarse.height * f).data;
    const expected = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) expected[y * width + x] = alpha[y * width + x]! * up[y * coarse.width * f + x]!;
    }
    assert.deepEqual(timesUpsampled(alpha, width, height, coarse, f), expected);
  });

  it('fills a thin crease across the person and leaves a wide gap and the outline where they were', () => {
    // A person (rows 100..900 of a 1024 square, columns 200..800) crossed by a crease 6 px high where the mask dips
    // to 0.3 (a beard's lower edge against a pale neck), with a gap 60 px wide cut into its side from the left.
    const size = 1024;
    const data = new Float32Array(size * size);
    for (let y = 100; y < 900; y++) for (let x = 200; x < 800; x++) data[y * size + x] = 1;
    for (let y = 500; y < 506; y++) for (let x = 300; x < 700; x++) data[y * size + x] = 0.3;
    for (let y = 300; y < 360; y++) for (let x = 200; x < 500; x++) data[y * size + x] = 0;
    const before = data.slice();
    closeCreases({ width: size, height: size, data });
    let creaseLeft = 1;
    for (let y = 500; y < 506; y++)
      for (let x = 320; x < 680; x++) creaseLeft = Math.min(creaseLeft, data[y * size + x]!);
    assert.ok(creaseLeft > 0.9, `the crease is filled (least alpha ${creaseLeft.toFixed(2)})`);
    let gapFilled = 0;
    for (let y = 310; y < 350; y++)
      for (let x = 210; x < 490; x++) gapFilled = Math.max(gapFilled, data[y * size + x]!);
    assert.equal(gapFilled, 0, 'the wide gap stays background');
    let grown = 0;
    for (let i = 0; i < data.length; i++) if (before[i] === 0 && data[i]! > 0.02) grown++;
    // Only the gap's two inner corners may round off a little; the outline elsewhere does not move.
    assert.ok(grown < 60, `${grown} background px became person`);
  });

  it('drops blobs much smaller than the largest and keeps the rest', () => {
    const w = 20;
    const p: Plane = { width: w, height: w, data: new Float32Array(w * w) };
    for (let y = 2; y < 12; y++) for (let x = 2; x < 12; x++) p.data[y * w + x] = 0.5; // 100 px
    for (let y = 15; y < 19; y++) for (let x = 14; x < 18; x++) p.data[y * w + x] = 0.75; // 16 px: kept at 10%
    p.data[0 * w + 18] = 0.5; // 1 px: dropped
    assert.equal(components(p, 0.5).areas.length - 1, 3);
    dropSmallBlobs(p, 0.5, 0.1);
    assert.equal(p.data[0 * w + 18], 0);
    assert.equal(p.data[16 * w + 15], 0.75);
    assert.equal(p.data[5 * w + 5], 0.5);
  });

  it('refinement moves a blocky, blurred model edge onto the photo edge', async () => {
    // A warm figure with a wavy outline on a cool background; the "model" only saw a smooth disc at 64 px.
    const size = 512;
    const data = new Uint8Array(size * size * 3);
    const truth = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const a = Math.atan2(y - 256, x - 256);
        const inside = Math.hypot(x - 256, y - 256) < 150 + 5 * Math.sin(9 * a);
        truth[y * size + x] = inside ? 1 : 0;
        data.set(inside ? [200, 150, 120] : [60, 90, 140], (y * size + x) * 3);
      }
    }
    const image: RgbImage = { data, width: size, height: size, channels: 3 };
    const coarse: Plane = { width: 64, height: 64, data: new Float32Array(64 * 64) };
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        const d = Math.hypot((x + 0.5) * 8 - 256, (y + 0.5) * 8 - 256) - 150;
        coarse.data[y * 64 + x] = 1 / (1 + Math.exp(d / 6));
      }
    }
    const { person } = refinePerson(image, await scaledCopy(image, 256), coarse);
    const raw = resizePlane(coarse, size, size).data;
    const wrong = (mask: Float32Array) => mask.reduce((n, v, i) => n + (v >= 0.5 !== (truth[i] === 1) ? 1 : 0), 0);
    const before = wrong(raw);
    const after = wrong(person.data);
    assert.ok(after < before * 0.35, `misclassified pixels ${before} -> ${after}`);
    assert.ok(edgeWidth(person.data, size, size) < edgeWidth(raw, size, size) * 0.5);
  });
});

describe('segmentation models', () => {
  after(async () => {
    await disposeSessions();
  });

  it('opens both required models from PORTRAIT_MODELS_DIR', async () => {
    await configureModels(parseConfig({ PORTRAIT_MODELS_DIR: MODELS_DIR }));
    await openSegmentationModels();
  });

  it('says which file is missing and what to set when a model can be neither found nor downloaded', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'seg-models-'));
    try {
      // Nothing listens on the discard port: the download fails at once.
      await configureModels(
        parseConfig({ PORTRAIT_MODELS_CACHE: cache, PORTRAIT_MODEL_MIRROR: 'http://127.0.0.1:9/' }),
      );
      await assert.rejects(openSegmentationModels(), (err: unknown) => {
        assert.ok(isPortraitError(err) && err.code === 'model.missing', String(err));
        assert.match(err.message, /mediapipe-selfie_segmentation\.onnx|skin-clothes-hair-pan\.onnx/);
        assert.match(err.message, /PORTRAIT_MODELS_DIR/);
        return true;
      });
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});

describe('segmentation on real photos', () => {
  before(async () => {
    await configureModels(parseConfig({ PORTRAIT_MODELS_DIR: MODELS_DIR }));
  });
  after(async () => {
    await disposeSessions();
  });

  for (const name of ['obama.jpg', 'biden.jpg', 'astronaut.png', 'two_people.jpg']) {
    it(`${name}: the face is person, the top corners are background, the edge follows the photo`, async () => {
      const selfie = await loadPhoto(name);
      const { square, face } = await workingSquare(selfie.image, selfie.face.box);
      const seg = await segmentPerson(square, { face });
      const { width, height } = square;
      assert.equal(seg.width, width);
      assert.equal(seg.height, height);
      for (const m of [seg.person, seg.hair, seg.skin]) {
        assert.equal(m.length, width * height);
        assert.ok(m.every((v) => v >= 0 && v <= 1));
      }
      assertInsidePerson(seg);
      assert.ok(meanIn(seg.person, width, height, faceCore(face)) > 0.98, 'face inside the person');
      assert.ok(meanIn(seg.skin, width, height, faceCore(face)) > 0.7, 'the middle of the face is skin');
      assert.ok(meanIn(seg.hair, width, height, faceCore(face)) < 0.1, 'eyes and nose are not hair');
      const corner = Math.round(width * 0.08);
      for (const x of [0, width - corner]) {
        const m = meanIn(seg.person, width, height, { x, y: 0, width: corner, height: corner });
        assert.ok(m < 0.02, `top corner at x=${x} is ${m.toFixed(3)} person`);
      }
      // The refined edge sits on the photo's edges and is narrower than the model's upsampled blur.
      const raw = resizePlane(await runSelfieSegmentation(await scaledCopy(square, 512)), width, height).data;
      const [alignRaw, alignRefined] = [edgeAlignment(raw, square), edgeAlignment(seg.person, square)];
      assert.ok(alignRefined > alignRaw * 1.15, `edge alignment ${alignRaw.toFixed(3)} -> ${alignRefined.toFixed(3)}`);
      const [wideRaw, wideRefined] = [edgeWidth(raw, width, height), edgeWidth(seg.person, width, height)];
      assert.ok(wideRefined < wideRaw * 0.7, `edge width ${wideRaw.toFixed(1)} -> ${wideRefined.toFixed(1)} px`);
    });
  }

  it('marks short dark hair (obama.jpg) and grey hair (biden.jpg) above the face as hair, not skin', async () => {
    for (const name of ['obama.jpg', 'biden.jpg']) {
      const selfie = await loadPhoto(name);
      const { square, face } = await workingSquare(selfie.image, selfie.face.box);
      // Without the face box too: the face is then found from the skin mask.
      for (const options of [{ face }, {}]) {
        const seg = await segmentPerson(square, options);
        // A strip between the top of the detector box and the top of the head, across the middle of the face.
        const crown = {
          x: face.x + face.width * 0.3,
          y: face.y - face.height * 0.12,
          width: face.width * 0.4,
          height: face.height * 0.1,
        };
        const hair = meanIn(seg.hair, square.width, square.height, crown);
        const skin = meanIn(seg.skin, square.width, square.height, crown);
        assert.ok(hair > 0.6, `${name} ${JSON.stringify(Object.keys(options))}: hair ${hair.toFixed(2)} on the crown`);
        assert.ok(skin < 0.3, `${name}: skin ${skin.toFixed(2)} on the crown`);
      }
    }
  });

  it('keeps the shape of non-square photos (a tall full-length shot, a wide two-person shot)', async () => {
    for (const name of ['biden.jpg', 'two_people.jpg']) {
      const selfie = await loadPhoto(name);
      const { image } = selfie;
      const seg = await segmentPerson(image, { face: selfie.face.box });
      assert.equal(seg.person.length, image.width * image.height);
      for (const f of selfie.faces) {
        const m = meanIn(seg.person, image.width, image.height, faceCore(f.box));
        assert.ok(m > 0.95, `${name}: face at ${Math.round(f.box.x)},${Math.round(f.box.y)} is ${m.toFixed(2)} person`);
      }
      const corner = Math.round(Math.min(image.width, image.height) * 0.06);
      const m = meanIn(seg.person, image.width, image.height, { x: 0, y: 0, width: corner, height: corner });
      assert.ok(m < 0.02, `${name}: top-left corner ${m.toFixed(3)} person`);
      assertInsidePerson(seg);
    }
  });

  it('handles a small working square', async () => {
    const selfie = await loadPhoto('obama.jpg');
    const { square, face } = await workingSquare(selfie.image, selfie.face.box, 300);
    assert.equal(square.width, 300);
    const seg = await segmentPerson(square, { face });
    assert.equal(seg.person.length, 300 * 300);
    assert.ok(meanIn(seg.person, 300, 300, faceCore(face)) > 0.98);
  });

  it('depth puts the person nearer than the background, normalised to 0..1 at the image size', async () => {
    for (const name of ['obama.jpg', 'astronaut.png', 'pexels-dinielle-de-veyra-4195444.jpg'].filter(hasPhoto)) {
      const selfie = await loadPhoto(name);
      const { square, face } = await workingSquare(selfie.image, selfie.face.box, 512);
      const depth = await estimateDepth(square);
      assert.equal(depth.length, square.width * square.height);
      assert.ok(depth.every((v) => v >= 0 && v <= 1));
      const corner = Math.round(square.width * 0.1);
      const near = meanIn(depth, square.width, square.height, faceCore(face));
      const far = meanIn(depth, square.width, square.height, { x: 0, y: 0, width: corner, height: corner });
      assert.ok(near > far + 0.4, `${name}: face ${near.toFixed(2)} vs corner ${far.toFixed(2)}`);
    }
  });
});
