/**
 * Ingest + face detection per photo (decode, orient, sRGB; YuNet, main-face choice, landmark refinement), the
 * fixed cost every portrait pays before an engine runs. Median of several runs per photo after a warm-up, then
 * the median over the single-face test photos. Target: <= 150 ms for a 1080x1080 selfie on 2 cores.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseConfig } from '../src/config.js';
import { findMainFace } from '../src/pipeline/face/detect.js';
import { decodeImage } from '../src/pipeline/image.js';
import { configureModels, disposeSessions, getSession } from '../src/pipeline/models/index.js';
import { facePath, MODELS_DIR, SINGLE_FACE_PHOTOS } from '../test/helpers/env.js';

const RUNS = 7;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export async function run(): Promise<void> {
  const config = parseConfig({ PORTRAIT_MODELS_DIR: MODELS_DIR });
  await configureModels(config);
  await getSession('yunet');
  const limits = { maxBytes: config.PORTRAIT_MAX_INPUT_BYTES, maxPixels: config.PORTRAIT_MAX_INPUT_PIXELS };
  console.log(
    `cores: ${availableParallelism()}, ORT intra-op threads: ${config.PORTRAIT_ORT_THREADS}, median of ${RUNS} runs`,
  );
  console.log('photo                                        size        ingest  detect   total');
  const totals: number[] = [];
  const squares: number[] = [];
  for (const name of SINGLE_FACE_PHOTOS) {
    const bytes = await readFile(facePath(name));
    const ingest: number[] = [];
    const detect: number[] = [];
    let size = '';
    for (let i = 0; i <= RUNS; i++) {
      const t0 = performance.now();
      const { image } = await decodeImage(bytes, limits);
      const t1 = performance.now();
      await findMainFace(image, 1);
      const t2 = performance.now();
      size = `${image.width}x${image.height}`;
      if (i === 0) continue; // warm-up
      ingest.push(t1 - t0);
      detect.push(t2 - t1);
    }
    const total = median(ingest.map((v, i) => v + (detect[i] ?? 0)));
    totals.push(total);
    if (size === '1080x1080') squares.push(total);
    console.log(
      `${name.padEnd(44)} ${size.padEnd(10)} ${median(ingest).toFixed(1).padStart(7)} ${median(detect).toFixed(1).padStart(7)} ${total.toFixed(1).padStart(7)} ms`,
    );
  }
  console.log(`median over ${totals.length} single-face photos: ${median(totals).toFixed(1)} ms`);
  if (squares.length > 0) {
    console.log(`1080x1080 selfies (${squares.length}): median ${median(squares).toFixed(1)} ms (target <= 150 ms)`);
  }
  await disposeSessions();
}
