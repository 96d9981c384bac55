/**
 * `npm run bench -- segment`: cost of the compositor's segmentation (issue 11, item 1) on a 1024x1024
 * head-and-shoulders working square, median of 15 after a warm-up, per step:
 * - scaled copies: the photo at 512 px for the models and at the refinement's 256 px;
 * - selfie model, skin/clothes/hair model, depth model: input preparation, inference and output;
 * - refine: the guided-filter refinement of the person mask (fit at 256 px, applied at 1024 px in the edge band);
 * - hair/skin: the head rules at 256 px and both masks brought to 1024 px inside the person;
 * - segmentPerson and estimateDepth as the compositor calls them (the two models run concurrently there).
 * Budget: the whole compositor under 600 ms at 1080 px in, 1024 px out on 2 cores; segmentation is meant to stay
 * well under 120 ms of it.
 *
 * Then what depth is worth, on the working square of every single-face test photo: the median normalised depth
 * (1 = nearest) of the face's middle, of the background (person mask < 0.05) and of the shoulders (person
 * pixels below the chin, beside the face), and how often a person pixel is nearer than a background pixel (AUC).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import sharp from 'sharp';
import { parseConfig } from '../src/config.js';
import { findMainFace } from '../src/pipeline/face/detect.js';
import { decodeImage, fromSharp, toSharp } from '../src/pipeline/image.js';
import { configureModels } from '../src/pipeline/models/index.js';
import { hairAndSkin } from '../src/pipeline/segment/hair-skin.js';
import { estimateDepth, segmentPerson } from '../src/pipeline/segment/index.js';
import { runDepth, runSelfieSegmentation, runSkinClothesHair } from '../src/pipeline/segment/models.js';
import { GUIDE_SIDE, insidePerson, refinePerson, scaledCopy } from '../src/pipeline/segment/person.js';
import { resizePlane } from '../src/pipeline/segment/plane.js';
import { facePath, MODELS_DIR, photoOrCommitted, SINGLE_FACE_PHOTOS } from '../test/helpers/env.js';

const RUNS = 15;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/**
 * Median wall time and median CPU time of the process (all threads, ORT's included). On a shared machine the
 * wall time grows with the load while the CPU time stays close to what the step costs on idle cores.
 */
async function time(label: string, fn: () => unknown): Promise<number> {
  await fn(); // warm-up: sessions, JIT
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await fn();
    wall.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  const m = median(wall);
  console.log(`${label.padEnd(36)} ${m.toFixed(1).padStart(7)} ms ${median(cpu).toFixed(1).padStart(9)} ms`);
  return m;
}

export async function run(): Promise<void> {
  const config = parseConfig({ ...process.env, PORTRAIT_MODELS_DIR: MODELS_DIR });
  await configureModels(config);
  console.log(
    `cores: ${availableParallelism()}; load average ${loadavg()[0]?.toFixed(1)}; ORT threads: ${config.PORTRAIT_ORT_THREADS}; input 1024x1024; median of ${RUNS}`,
  );
  // A head-and-shoulders square like the compositor's working square.
  const image = await fromSharp(sharp(facePath(photoOrCommitted('pexels-tim-douglas-6567248.jpg'))).resize(1024, 1024));
  const face = (await findMainFace(image, 1)).mainFace.box;
  const forModels = await scaledCopy(image, 512);
  const small = await scaledCopy(forModels, GUIDE_SIDE);
  const coarse = await runSelfieSegmentation(forModels);
  const parts = await runSkinClothesHair(forModels);
  const { person, reach } = refinePerson(image, small, coarse);
  const k = small.width / image.width;
  const faceLow = { x: face.x * k, y: face.y * k, width: face.width * k, height: face.height * k };

  console.log(`\n${'step'.padEnd(36)} ${'wall'.padStart(10)} ${'cpu'.padStart(12)}`);
  await time('scaled copies (1024 -> 512 -> 256)', async () => scaledCopy(await scaledCopy(image, 512), GUIDE_SIDE));
  await time('selfie segmentation model (256)', () => runSelfieSegmentation(forModels));
  await time('skin/clothes/hair model (512)', () => runSkinClothesHair(forModels));
  await time('depth model (320x192)', () => runDepth(image));
  await time('refine person (guided filter)', () => refinePerson(image, small, coarse));
  await time('hair and skin', () => {
    const low = hairAndSkin({
      image: small,
      reach,
      skin: resizePlane(parts.skin, small.width, small.height),
      clothes: resizePlane(parts.clothes, small.width, small.height),
      hair: resizePlane(parts.hair, small.width, small.height),
      face: faceLow,
    });
    return insidePerson(person, low.hair, low.skin);
  });
  const seg = await time('segmentPerson (total)', () => segmentPerson(image, { face }));
  const depth = await time('estimateDepth (total)', () => estimateDepth(image));
  console.log(
    `${'segmentation + depth'.padEnd(36)} ${(seg + depth).toFixed(1).padStart(7)} ms (target well under 120)`,
  );
  await depthOrdering();
}

async function depthOrdering(): Promise<void> {
  console.log('\ndepth ordering (median depth, 1 = nearest)');
  console.log(
    'photo                                        |  face |    bg | shoulders | face-bg | face-shoulders | AUC',
  );
  for (const name of SINGLE_FACE_PHOTOS) {
    const { image } = await decodeImage(await readFile(facePath(name)), { maxBytes: 50 * 2 ** 20, maxPixels: 4e7 });
    const found = (await findMainFace(image, 1)).mainFace.box;
    // The compositor's working square: the face about 40% of the side, inside the photo, at most 1024 px.
    const side = Math.round(Math.min(image.width, image.height, Math.max(found.width, found.height) / 0.4));
    const x0 = Math.round(Math.min(image.width - side, Math.max(0, found.x + found.width / 2 - side / 2)));
    const y0 = Math.round(Math.min(image.height - side, Math.max(0, found.y + found.height / 2 - side * 0.46)));
    const size = Math.min(1024, side);
    const square = await fromSharp(
      toSharp(image).extract({ left: x0, top: y0, width: side, height: side }).resize(size, size),
    );
    const k = size / side;
    const face = { x: (found.x - x0) * k, y: (found.y - y0) * k, width: found.width * k, height: found.height * k };
    const seg = await segmentPerson(square, { face });
    const depth = await estimateDepth(square);
    const inFace: number[] = [];
    const background: number[] = [];
    const shoulders: number[] = [];
    const person: number[] = [];
    const cx = face.x + face.width / 2;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const d = depth[i] ?? 0;
        const p = seg.person[i] ?? 0;
        const middle = Math.abs(x - cx) < face.width * 0.25;
        if (middle && y > face.y + face.height * 0.3 && y < face.y + face.height * 0.8) inFace.push(d);
        if (p < 0.05) background.push(d);
        else if (p > 0.95) person.push(d);
        if (p > 0.95 && y > face.y + face.height * 1.5 && Math.abs(x - cx) > face.width * 0.8) shoulders.push(d);
      }
    }
    // AUC over a fixed sample of pairs (deterministic strides, no randomness).
    let nearer = 0;
    let pairs = 0;
    for (let s = 0; s < 20_000 && person.length && background.length; s++) {
      const a = person[(s * 7919) % person.length] ?? 0;
      const b = background[(s * 104_729) % background.length] ?? 0;
      nearer += a > b ? 1 : a === b ? 0.5 : 0;
      pairs++;
    }
    const [f, b, sh] = [median(inFace), median(background), median(shoulders)];
    const cell = (v: number, w: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a').padStart(w);
    console.log(
      `${name.padEnd(45)}| ${cell(f, 5)} | ${cell(b, 5)} | ${cell(sh, 9)} | ${cell(f - b, 7)} | ${cell(f - sh, 14)} | ${cell(pairs ? nearer / pairs : Number.NaN, 4)}`,
    );
  }
}
