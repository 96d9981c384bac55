/**
 * Pose accuracy and geometry timings (issue 3's "pose accuracy" figure).
 *
 * For every single-face photo of the shared set and every requested pose on a grid (yaw -30..30 by 15, pitch
 * -15..15 by 15, roll kept as the photo has it): detect, mesh, estimate the pose, warp to the requested pose,
 * then detect, mesh and estimate again on the output, and compare with what was asked. Reported: mean absolute
 * error of yaw and pitch over all requests, and over the requests within the compositor's turn (at most 30
 * degrees away from the photo's own pose, since a single selfie turned further is outside what it draws well).
 * Timings of the mesh, pose and warp stages on the 1080x1080 photos, median, this process on its own.
 */
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { COMPOSITOR_POSE_LIMITS } from '../src/core/pose.js';
import { findMainFace } from '../src/pipeline/face/detect.js';
import { estimateMesh } from '../src/pipeline/face/mesh.js';
import { estimateHeadPose } from '../src/pipeline/geometry/pose.js';
import { warpToPose } from '../src/pipeline/geometry/warp.js';
import { fromSharp } from '../src/pipeline/image.js';
import type { RgbImage } from '../src/pipeline/types.js';
import { facePath, SINGLE_FACE_PHOTOS } from '../test/helpers/env.js';

const YAWS = [-30, -15, 0, 15, 30];
const PITCHES = [-15, 0, 15];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

async function measurePose(image: RgbImage) {
  const { mainFace } = await findMainFace(image, 1);
  const t0 = performance.now();
  const mesh = await estimateMesh(image, mainFace);
  const t1 = performance.now();
  const pose = estimateHeadPose(mesh);
  const t2 = performance.now();
  return { mesh, pose, meshMs: t1 - t0, poseMs: t2 - t1 };
}

export async function run(): Promise<void> {
  console.log(`cores: ${availableParallelism()}; grid yaw ${YAWS.join('/')} x pitch ${PITCHES.join('/')}`);
  const rows: string[] = [];
  const all = { yaw: [] as number[], pitch: [] as number[] };
  const within = { yaw: [] as number[], pitch: [] as number[] };
  // Signed errors per requested turn direction, to tell a gain error (over/under-turning) from noise.
  const signed = { left: [] as number[], right: [] as number[], up: [] as number[], down: [] as number[] };
  const timings = { mesh: [] as number[], pose: [] as number[], warp: [] as number[] };
  for (const name of SINGLE_FACE_PHOTOS) {
    const image = await fromSharp(sharp(facePath(name)).rotate());
    const source = await measurePose(image);
    const big = image.width === 1080 && image.height === 1080;
    if (big) {
      timings.mesh.push(source.meshMs);
      timings.pose.push(source.poseMs);
    }
    const errs = { yaw: [] as number[], pitch: [] as number[] };
    for (const yaw of YAWS) {
      for (const pitch of PITCHES) {
        const target = { yaw, pitch, roll: source.pose.roll };
        const t0 = performance.now();
        const warped = warpToPose(image, source.mesh, source.pose, target);
        if (big) timings.warp.push(performance.now() - t0);
        const again = await measurePose(warped.image);
        const ey = Math.abs(again.pose.yaw - yaw);
        const ep = Math.abs(again.pose.pitch - pitch);
        const dYaw = yaw - source.pose.yaw;
        const dPitch = pitch - source.pose.pitch;
        if (Math.abs(dYaw) >= 10)
          (dYaw > 0 ? signed.left : signed.right).push((again.pose.yaw - yaw) * Math.sign(dYaw));
        if (Math.abs(dPitch) >= 10) {
          (dPitch > 0 ? signed.up : signed.down).push((again.pose.pitch - pitch) * Math.sign(dPitch));
        }
        errs.yaw.push(ey);
        errs.pitch.push(ep);
        all.yaw.push(ey);
        all.pitch.push(ep);
        const turn = Math.hypot(yaw - source.pose.yaw, pitch - source.pose.pitch);
        if (turn <= COMPOSITOR_POSE_LIMITS.yaw) {
          within.yaw.push(ey);
          within.pitch.push(ep);
        }
      }
    }
    rows.push(
      `${name.slice(0, 36).padEnd(36)} ${source.pose.yaw.toFixed(1).padStart(6)} ${source.pose.pitch.toFixed(1).padStart(6)}` +
        `   ${mean(errs.yaw).toFixed(1).padStart(5)} ${mean(errs.pitch).toFixed(1).padStart(6)}` +
        `   ${Math.max(...errs.yaw)
          .toFixed(1)
          .padStart(5)} ${Math.max(...errs.pitch)
          .toFixed(1)
          .padStart(6)}`,
    );
  }
  console.log(`${'photo'.padEnd(36)}  own pose:yaw pitch   MAE:yaw pitch   max:yaw pitch`);
  for (const r of rows) console.log(r);
  console.log(
    `all ${all.yaw.length} requests: MAE yaw ${mean(all.yaw).toFixed(2)}, pitch ${mean(all.pitch).toFixed(2)}, ` +
      `both ${mean([...all.yaw, ...all.pitch]).toFixed(2)} degrees (target <= 6)`,
  );
  console.log(
    `${within.yaw.length} requests within ${COMPOSITOR_POSE_LIMITS.yaw} degrees of the photo's pose: MAE yaw ` +
      `${mean(within.yaw).toFixed(2)}, pitch ${mean(within.pitch).toFixed(2)}, both ${mean([...within.yaw, ...within.pitch]).toFixed(2)}`,
  );
  console.log(
    `overshoot (+) / undershoot (-), mean signed error along the turn: yaw to the left ${mean(signed.left).toFixed(1)}, ` +
      `to the right ${mean(signed.right).toFixed(1)}, pitch up ${mean(signed.up).toFixed(1)}, down ${mean(signed.down).toFixed(1)}`,
  );
  console.log(
    `1080x1080 stage medians: mesh ${median(timings.mesh).toFixed(1)} ms (detector-box crop, refine, mirrored pass: ` +
      `4 inferences), pose ${median(timings.pose).toFixed(2)} ms, warp ${median(timings.warp).toFixed(1)} ms ` +
      `(${timings.warp.length} warps)`,
  );
}
