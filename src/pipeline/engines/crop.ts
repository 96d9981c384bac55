import { alignedFaceCrop } from '../face/align.js';
import type { Box, RgbImage } from '../types.js';
import type { Engine, EngineRequest, EngineResult } from './engine.js';

/**
 * The walking skeleton's engine: the portrait is the aligned square crop around the first selfie's main face,
 * resized to the output size. No model beyond detection; every variation is the same crop.
 */
export function createCropEngine(): Engine {
  return {
    name: 'crop',
    async generate(request: EngineRequest, onProgress): Promise<EngineResult> {
      const selfie = request.selfies[0];
      if (!selfie) throw new Error('crop engine called without a selfie');
      request.signal?.throwIfAborted();
      onProgress({ stage: 'warp' });
      const started = performance.now();
      const crop = await alignedFaceCrop(selfie.image, selfie.mainFace, request.outputSize);
      const warp = performance.now() - started;
      const images = Array.from({ length: request.variations }, () => crop.image);
      const result: EngineResult = {
        images,
        report: {
          cropAngleDeg: Math.round(((crop.frame.angle * 180) / Math.PI) * 10) / 10,
          cropSidePx: Math.round(crop.frame.side),
        },
        timings: { warp },
      };
      if (request.debug) {
        result.debugImages = [
          {
            label: `selfie ${selfie.index}\n${selfie.faces.length} face(s), main face green`,
            image: drawBoxes(
              selfie.image,
              selfie.faces.map((f) => f.box),
              selfie.faces.indexOf(selfie.mainFace),
            ),
          },
          { label: 'aligned crop', image: crop.image },
        ];
      }
      return result;
    },
    async dispose() {},
  };
}

/** A copy of `image` with box outlines drawn in place (the `highlight` one green, others yellow). */
export function drawBoxes(image: RgbImage, boxes: readonly Box[], highlight = -1): RgbImage {
  const data = new Uint8Array(image.data);
  const { width, height } = image;
  const thick = Math.max(2, Math.round(Math.max(width, height) / 400));
  const paint = (x: number, y: number, c: readonly [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    data[i] = c[0];
    data[i + 1] = c[1];
    data[i + 2] = c[2];
  };
  boxes.forEach((b, n) => {
    const c = n === highlight ? ([60, 255, 60] as const) : ([255, 225, 60] as const);
    const x0 = Math.round(b.x);
    const y0 = Math.round(b.y);
    const x1 = Math.round(b.x + b.width);
    const y1 = Math.round(b.y + b.height);
    for (let t = 0; t < thick; t++) {
      for (let x = x0; x <= x1; x++) {
        paint(x, y0 + t, c);
        paint(x, y1 - t, c);
      }
      for (let y = y0; y <= y1; y++) {
        paint(x0 + t, y, c);
        paint(x1 - t, y, c);
      }
    }
  });
  return { data, width, height, channels: 3 };
}
