import { readFile } from 'node:fs/promises';
import { findMainFace } from '../../src/pipeline/face/detect.js';
import { decodeImage } from '../../src/pipeline/image.js';
import type { Face, RgbImage } from '../../src/pipeline/types.js';
import { facePath } from '../helpers/env.js';

/** A shared test photo decoded like a selfie, with its main face (real YuNet from MODELS_DIR). */
export async function loadSelfie(name: string): Promise<{ image: RgbImage; face: Face; faces: Face[] }> {
  const bytes = new Uint8Array(await readFile(facePath(name)));
  const { image } = await decodeImage(bytes, { maxBytes: 50 * 2 ** 20, maxPixels: 40_000_000 });
  const { faces, mainFace } = await findMainFace(image, 1);
  return { image, face: mainFace, faces };
}
