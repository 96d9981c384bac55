import type { Config } from '../../config.js';
import { type Lighting, parseLighting } from '../../core/lighting.js';
import { checkCompositorTurn, checkPoseForEngine, parsePose, type TargetPose } from '../../core/pose.js';
import { deriveSeed, mulberry32 } from '../../core/random.js';
import { PortraitError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { annotate, maskToImage } from '../debug-sheet.js';
import { detectFaces } from '../face/detect.js';
import { type IdentityEmbedder, identityEmbedderFor } from '../face/identity.js';
import { estimateMesh, type FaceMesh } from '../face/mesh.js';
import type { Euler } from '../geometry/linalg.js';
import { estimateHeadPose, type HeadPose, poseDistance } from '../geometry/pose.js';
import { TRIANGLES } from '../geometry/triangles.js';
import { type WarpResult, warpToPose } from '../geometry/warp.js';
import { toSharp } from '../image.js';
import { buildStitch, type StitchConditions, stitchDebugImages } from '../incontext/stitch.js';
import {
  backgroundSource,
  composeSubject,
  refineMask,
  type SoftMask,
  softMaskImage,
  subjectMask,
} from '../lighting/background.js';
import { estimateLighting, type LightingEstimate } from '../lighting/estimate.js';
import { gainToImage, relight } from '../lighting/relight.js';
import { lightingColour } from '../lighting/sh.js';
import type { Box, ProgressFn, RgbImage } from '../types.js';
import type { Engine, EngineRequest, EngineResult, PreparedSelfie } from './engine.js';

/**
 * The `compositor` engine: the CPU default, no diffusion model. A portrait is the reference selfie
 *   1. chosen among the selfies for the pose closest to the target (mesh + head pose of each),
 *   2. framed head-and-shoulders (an axis-aligned square around the face, cut at the output resolution),
 *   3. warped to the target pose (z-buffered mesh warp, src/pipeline/geometry),
 *   4. relit to the target lighting (SH shading ratio, src/pipeline/lighting/relight.ts),
 *   5. composed over its own background, kept, blurred, darkened or toned per the lighting preset.
 * What it cannot do, honestly: invent what the photo does not show (a turn beyond COMPOSITOR_POSE_LIMITS is
 * refused with 'request.pose_out_of_range'), separate the body from the background exactly (no matting model: the
 * subject mask is the mesh's head mask plus a soft shoulders guess), or change style (the style prompt is for the
 * diffusion engine and is ignored here). Variations are the same portrait with small seeded differences in
 * framing (zoom up to 6% and a shift within it) and background brightness (+-8%); the first is never jittered.
 */

/** The warp the engine calls: the geometry module's `warpToPose` unless a test injects another. */
export type WarpFn = (
  image: RgbImage,
  mesh: FaceMesh,
  from: HeadPose,
  to: Euler,
) => Pick<WarpResult, 'image' | 'mesh' | 'headMask'> | Promise<Pick<WarpResult, 'image' | 'mesh' | 'headMask'>>;

export interface CompositorOptions {
  /** ArcFace-style embedder for the identity score, when configured. */
  identity?: IdentityEmbedder;
  warp?: WarpFn;
}

/** Stage timings (ms) the engine reports: mesh, warp, relight, stitch (framing, background and composition). */
type Timings = Record<'mesh' | 'warp' | 'relight' | 'stitch', number>;

/** A selfie with its mesh and head pose. */
interface MeshedSelfie {
  selfie: PreparedSelfie;
  mesh: FaceMesh;
  pose: HeadPose;
}

/** Everything up to the relit target, shared by the compositor and the diffusion conditions. */
export interface PreparedTarget {
  lighting: Lighting;
  pose: TargetPose;
  reference: MeshedSelfie;
  /** The framed reference (working square) and its mesh in those pixels. */
  framed: RgbImage;
  framedPoints: Float32Array;
  frame: Box;
  warped: RgbImage;
  warpedPoints: Float32Array;
  headMask?: Float32Array;
  source: LightingEstimate;
  relit: RgbImage;
  relitGain: ReturnType<typeof gainToImage>;
  meanGain: number;
  timings: Timings;
}

export function parseRequestOptions(request: Pick<EngineRequest, 'pose' | 'lighting'>): {
  pose: TargetPose;
  lighting: Lighting;
} {
  const pose = parsePose(request.pose);
  if (!pose.ok) throw pose.error;
  const lighting = parseLighting(request.lighting);
  if (!lighting.ok) throw lighting.error;
  return { pose: pose.value, lighting: lighting.value };
}

/**
 * The head-and-shoulders square around a mesh: the face (forehead to chin) about 40% of the height, the face's
 * centre 46% from the top. The square shrinks to fit the photo and slides to stay inside it, so close-ups come
 * out tighter, never padded.
 */
export function headAndShouldersFrame(points: Float32Array, width: number, height: number): Box {
  let minX = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (let i = 0; i + 2 < points.length; i += 3) {
    const x = points[i] ?? 0;
    const y = points[i + 1] ?? 0;
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const faceH = Math.max(maxY - minY, (maxX - minX) * 1.1, 1);
  const side = Math.min(width, height, Math.round(faceH / 0.4));
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const x = Math.min(width - side, Math.max(0, Math.round(cx - side / 2)));
  const y = Math.min(height - side, Math.max(0, Math.round(cy - side * 0.46)));
  return { x, y, width: side, height: side };
}

/** Cuts `box` out of the image and scales it to `size` x `size`; the mesh follows. */
async function frameImage(
  image: RgbImage,
  points: Float32Array,
  box: Box,
  size: number,
): Promise<{ image: RgbImage; points: Float32Array }> {
  const buf = await toSharp(image)
    .extract({ left: box.x, top: box.y, width: box.width, height: box.height })
    // Lanczos where it matters (shrinking a big photo), bilinear for the usual near-1 scale (half the cost).
    .resize(size, size, { kernel: box.width > size * 1.3 ? 'lanczos3' : 'linear' })
    .raw()
    .toBuffer();
  const k = size / box.width;
  const out = new Float32Array(points.length);
  for (let i = 0; i + 2 < points.length; i += 3) {
    out[i] = ((points[i] ?? 0) - box.x) * k;
    out[i + 1] = ((points[i + 1] ?? 0) - box.y) * k;
    out[i + 2] = (points[i + 2] ?? 0) * k;
  }
  return {
    image: { data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length), width: size, height: size, channels: 3 },
    points: out,
  };
}

/** Mesh and pose of every selfie's main face; the one closest to the target pose is the reference. */
async function chooseReference(
  selfies: readonly PreparedSelfie[],
  target: Euler,
): Promise<{ chosen: MeshedSelfie; all: MeshedSelfie[] }> {
  const all: MeshedSelfie[] = [];
  for (const selfie of selfies) {
    const mesh = await estimateMesh(selfie.image, selfie.mainFace);
    all.push({ selfie, mesh, pose: estimateHeadPose(mesh) });
  }
  let chosen = all[0];
  if (!chosen) throw new PortraitError('request.no_selfie', 'no selfie to make a portrait from');
  for (const m of all) if (poseDistance(m.pose, target) < poseDistance(chosen.pose, target)) chosen = m;
  return { chosen, all };
}

/**
 * Steps 1-4 (reference, framing, warp, relight) at `size` pixels: what the compositor composes and what the
 * diffusion engine's stitch is built from.
 */
export async function prepareTarget(
  request: EngineRequest,
  size: number,
  onProgress: ProgressFn,
  warp: WarpFn = warpToPose,
  limitTurn = false,
): Promise<PreparedTarget> {
  const { pose, lighting } = parseRequestOptions(request);
  const timings: Timings = { mesh: 0, warp: 0, relight: 0, stitch: 0 };

  onProgress({ stage: 'mesh' });
  let t = performance.now();
  const { chosen } = await chooseReference(request.selfies, pose);
  if (limitTurn) {
    const refused = checkCompositorTurn(chosen.pose, pose, chosen.selfie.index);
    if (refused) throw refused;
  }
  const frame = headAndShouldersFrame(chosen.mesh.points, chosen.selfie.image.width, chosen.selfie.image.height);
  const framed = await frameImage(chosen.selfie.image, chosen.mesh.points, frame, size);
  timings.mesh = performance.now() - t;
  request.signal?.throwIfAborted();

  onProgress({ stage: 'warp' });
  t = performance.now();
  const framedMesh: FaceMesh = { ...chosen.mesh, points: framed.points };
  // The pose's scale and translation are in pixels: fit it again in the framed square.
  const warped = await warp(framed.image, framedMesh, estimateHeadPose(framedMesh), pose);
  timings.warp = performance.now() - t;
  request.signal?.throwIfAborted();

  onProgress({ stage: 'relight' });
  t = performance.now();
  const source = estimateLighting(framed.image, framed.points, TRIANGLES);
  const lit = relight({
    image: warped.image,
    points: warped.mesh.points,
    sourcePoints: framed.points,
    triangles: TRIANGLES,
    source,
    lighting,
  });
  timings.relight = performance.now() - t;

  return {
    lighting,
    pose,
    reference: chosen,
    framed: framed.image,
    framedPoints: framed.points,
    frame,
    warped: warped.image,
    warpedPoints: warped.mesh.points,
    ...(warped.headMask ? { headMask: warped.headMask } : {}),
    source,
    relit: lit.image,
    relitGain: gainToImage(lit),
    meanGain: lit.stats.meanGain,
    timings,
  };
}

/** Crops a jittered square (zoom and shift within the slack) and scales it back to the full size. */
async function jitterCrop(image: RgbImage, rng: ReturnType<typeof mulberry32>): Promise<RgbImage> {
  const zoom = rng.range(0.015, 0.06);
  const side = Math.round(image.width * (1 - zoom));
  const slack = image.width - side;
  const x = Math.round(rng.next() * slack);
  const y = Math.round(rng.next() * slack);
  const buf = await toSharp(image)
    .extract({ left: x, top: y, width: side, height: side })
    .resize(image.width, image.height, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  return {
    data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length),
    width: image.width,
    height: image.height,
    channels: 3,
  };
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

export class CompositorEngine implements Engine {
  readonly name = 'compositor' as const;
  readonly #identity: IdentityEmbedder | undefined;
  readonly #warp: WarpFn;

  constructor(options: CompositorOptions = {}) {
    this.#identity = options.identity;
    this.#warp = options.warp ?? warpToPose;
  }

  async generate(request: EngineRequest, onProgress: ProgressFn): Promise<EngineResult> {
    return (await this.run(request, onProgress)).result;
  }

  /** `generate`, plus the intermediate state (meshes, masks) for benchmarks and tools that measure the output. */
  async run(
    request: EngineRequest,
    onProgress: ProgressFn,
  ): Promise<{ result: EngineResult; prepared: PreparedTarget }> {
    const { pose } = parseRequestOptions(request);
    const refused = checkPoseForEngine(pose, 'compositor');
    if (refused) throw refused;

    const size = request.outputSize;
    const prepared = await prepareTarget(request, size, onProgress, this.#warp, true);
    const { lighting, timings } = prepared;
    request.signal?.throwIfAborted();

    onProgress({ stage: 'stitch' });
    let t = performance.now();
    const mask: SoftMask = refineMask(
      subjectMask(size, size, prepared.warpedPoints, prepared.headMask),
      prepared.warped,
    );
    const background = backgroundSource(prepared.warped, lighting.background);
    const rigColour = lightingColour(lighting);
    const images: RgbImage[] = [];
    for (let v = 0; v < request.variations; v++) {
      const rng = mulberry32(deriveSeed(request.seed, `compositor-variation-${v}`));
      const backgroundGain = v === 0 ? 1 : rng.range(0.92, 1.08);
      const composed = composeSubject(prepared.relit, background, mask, {
        treatment: lighting.background,
        rigColour,
        backgroundGain,
      });
      images.push(v === 0 ? composed : await jitterCrop(composed, rng));
    }
    timings.stitch = performance.now() - t;

    const ref = prepared.reference;
    const report: Record<string, string | number | boolean> = {
      reference: ref.selfie.index,
      referenceYaw: round1(ref.pose.yaw),
      referencePitch: round1(ref.pose.pitch),
      referenceRoll: round1(ref.pose.roll),
      targetPose: pose.label,
      turnDegrees: round1(poseDistance(ref.pose, pose)),
      lighting: lighting.label,
      sourceLightAzimuth: round1(prepared.source.dominant.azimuth),
      sourceLightElevation: round1(prepared.source.dominant.elevation),
      relightMeanGain: round3(prepared.meanGain),
    };

    if (this.#identity && images[0]) {
      t = performance.now();
      const score = await this.#identityScore(ref.selfie, images[0]);
      if (score !== undefined) report['identity'] = round3(score);
      report['identityMs'] = Math.round(performance.now() - t);
    }

    const result: EngineResult = { images, report, timings: { ...timings } };
    if (request.debug) result.debugImages = await debugImages(prepared, mask, images[0], request.seed);
    return { result, prepared };
  }

  /** Cosine similarity of the output's face and the reference's main face (undefined when no face is found). */
  async #identityScore(reference: PreparedSelfie, output: RgbImage): Promise<number | undefined> {
    if (!this.#identity) return undefined;
    const faces = await detectFaces(output);
    const face = faces[0];
    if (!face) return undefined;
    return this.#identity.similarity(
      { image: reference.image, landmarks: reference.mainFace.landmarks },
      { image: output, landmarks: face.landmarks },
    );
  }

  async dispose(): Promise<void> {
    await this.#identity?.dispose();
  }
}

/** The debug sheet's story: reference with mesh and pose, framed, warped, relit (and its gain), stitch, final. */
async function debugImages(
  p: PreparedTarget,
  mask: SoftMask,
  final: RgbImage | undefined,
  seed: number,
): Promise<Array<{ label: string; image: RgbImage }>> {
  const ref = p.reference;
  const pts = ref.mesh.points;
  const points = Array.from({ length: pts.length / 3 }, (_, i) => ({ x: pts[3 * i] ?? 0, y: pts[3 * i + 1] ?? 0 }));
  const edges: Array<[number, number]> = [];
  for (let i = 0; i + 2 < TRIANGLES.length; i += 3) {
    const a = TRIANGLES[i] ?? 0;
    const b = TRIANGLES[i + 1] ?? 0;
    const c = TRIANGLES[i + 2] ?? 0;
    edges.push([a, b], [b, c], [c, a]);
  }
  const pose = (e: Euler) => `yaw ${e.yaw.toFixed(1)}  pitch ${e.pitch.toFixed(1)}  roll ${e.roll.toFixed(1)}`;
  const reference = await annotate(ref.selfie.image, {
    points,
    edges,
    highlights: ref.selfie.mainFace.landmarks,
    boxes: [p.frame],
    text: [`reference pose: ${pose(ref.pose)}`, `target pose:    ${pose(p.pose)} (${p.pose.label})`],
  });
  const stitch = await buildStitch(p.framed, p.relit, { size: 512, seed });
  const { masked } = stitchDebugImages(stitch);
  const light = p.source.dominant;
  const images = [
    {
      label: `reference (selfie ${ref.selfie.index}) with mesh and landmarks\n${pose(ref.pose)}\nframe: the green square`,
      image: reference,
    },
    {
      label: `framed reference\nlight from azimuth ${light.azimuth.toFixed(0)}, elevation ${light.elevation.toFixed(0)} (fit residual ${(p.source.residual * 100).toFixed(0)}%)`,
      image: p.framed,
    },
    { label: `warped to ${p.pose.label}\n${pose(p.pose)}`, image: p.warped },
    { label: `relit: ${p.lighting.label}\nmean gain ${p.meanGain.toFixed(2)}`, image: p.relit },
    { label: 'relight gain (grey = 1, log scale 0.4..2.5)', image: p.relitGain },
    { label: 'subject mask (head + shoulders)', image: softMaskImage(mask) },
    {
      label: `stitch canvas 2x512: reference | target\nmask ${(stitch.maskRatio * 100).toFixed(0)}% of the target side (seed ${seed})`,
      image: masked,
    },
  ];
  if (p.headMask)
    images.push({ label: 'head mask from the warp', image: maskToImage(p.headMask, p.warped.width, p.warped.height) });
  if (final) images.push({ label: 'final', image: final });
  return images;
}

/** The in-context conditions for the diffusion engine: `(request, size) => StitchConditions`, same steps. */
export function compositorConditions(warp: WarpFn = warpToPose) {
  return async (request: EngineRequest, size: number): Promise<StitchConditions> => {
    const p = await prepareTarget(request, size, () => {}, warp);
    return buildStitch(p.framed, p.relit, { size, seed: request.seed });
  };
}

/**
 * The engine factory for src/pipeline/engines/index.ts. The identity scorer is optional: a configured model that
 * cannot be loaded is logged and skipped, never a reason to refuse portraits.
 */
export async function createCompositorEngine(
  config: Pick<Config, 'PORTRAIT_IDENTITY_MODEL'>,
  deps: { logger?: Logger } = {},
): Promise<Engine> {
  let identity: IdentityEmbedder | undefined;
  try {
    identity = await identityEmbedderFor(config.PORTRAIT_IDENTITY_MODEL);
  } catch (err) {
    deps.logger?.warn({ err }, 'identity model could not be loaded; results will carry no identity score');
  }
  return new CompositorEngine(identity ? { identity } : {});
}
