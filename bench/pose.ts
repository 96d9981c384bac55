/**
 * Pose accuracy of the compositor (issue 3's "pose accuracy" figure, kept honest by issue 11's partial turns).
 *
 * For every single-face photo of the shared set and every requested pose on a grid (yaw -30..30 by 15, pitch
 * -15..15 by 15, roll kept as the photo has it), the compositor renders the largest clean turn toward the request
 * and reports the pose it rendered. The output's head pose is then measured again (detect, mesh, fit) and compared
 * with the pose the engine says it rendered: that error is what a member sees as "it says it turned 18 degrees,
 * did it?". Also reported: how much of the asked turn was delivered, overall and per photo.
 */
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { CompositorEngine } from '../src/pipeline/engines/compositor.js';
import { findMainFace } from '../src/pipeline/face/detect.js';
import { estimateMesh } from '../src/pipeline/face/mesh.js';
import { estimateHeadPose } from '../src/pipeline/geometry/pose.js';
import { fromSharp } from '../src/pipeline/image.js';
import type { RgbImage } from '../src/pipeline/types.js';
import { facePath, SINGLE_FACE_PHOTOS } from '../test/helpers/env.js';

const YAWS = [-30, -15, 0, 15, 30];
const PITCHES = [-15, 0, 15];

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

async function measurePose(image: RgbImage) {
  const { mainFace } = await findMainFace(image, 1);
  return estimateHeadPose(await estimateMesh(image, mainFace));
}

export async function run(): Promise<void> {
  console.log(`cores: ${availableParallelism()}; grid yaw ${YAWS.join('/')} x pitch ${PITCHES.join('/')}; 512 px`);
  const engine = new CompositorEngine();
  const all = { yaw: [] as number[], pitch: [] as number[], delivered: [] as number[] };
  console.log(`${'photo'.padEnd(36)}  own yaw pitch   MAE yaw pitch   turn delivered`);
  for (const name of SINGLE_FACE_PHOTOS) {
    const image = await fromSharp(sharp(facePath(name)).rotate());
    const { faces, mainFace } = await findMainFace(image, 1);
    const own = await measurePose(image);
    const errs = { yaw: [] as number[], pitch: [] as number[], delivered: [] as number[] };
    for (const yaw of YAWS) {
      for (const pitch of PITCHES) {
        const { result, prepared } = await engine.run(
          {
            selfies: [{ image, faces, mainFace, index: 1 }],
            pose: `yaw=${yaw} pitch=${pitch}`,
            lighting: 'studio',
            style: '',
            seed: 1,
            variations: 1,
            outputSize: 512,
            outputFormat: 'png',
            debug: false,
          },
          () => {},
        );
        const out = result.images[0];
        if (!out) throw new Error('no image');
        const again = await measurePose(out);
        errs.yaw.push(Math.abs(again.yaw - prepared.rendered.yaw));
        errs.pitch.push(Math.abs(again.pitch - prepared.rendered.pitch));
        if (prepared.turn.asked >= 5) errs.delivered.push(prepared.turn.rendered / prepared.turn.asked);
      }
    }
    all.yaw.push(...errs.yaw);
    all.pitch.push(...errs.pitch);
    all.delivered.push(...errs.delivered);
    console.log(
      `${name.slice(0, 36).padEnd(36)} ${own.yaw.toFixed(1).padStart(6)} ${own.pitch.toFixed(1).padStart(6)}` +
        `   ${mean(errs.yaw).toFixed(1).padStart(5)} ${mean(errs.pitch).toFixed(1).padStart(6)}` +
        `   ${(100 * mean(errs.delivered)).toFixed(0).padStart(5)}%`,
    );
  }
  console.log(
    `all ${all.yaw.length} requests: output pose vs the pose the engine reports, MAE yaw ${mean(all.yaw).toFixed(2)}, ` +
      `pitch ${mean(all.pitch).toFixed(2)} degrees (target <= 6); mean share of the asked turn delivered ` +
      `${(100 * mean(all.delivered)).toFixed(0)}%`,
  );
}
