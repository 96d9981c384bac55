import sharp from 'sharp';
import { detectFaces, findMainFace } from '../../src/pipeline/face/detect.js';
import { estimateMesh, type FaceMesh } from '../../src/pipeline/face/mesh.js';
import { buildHeadModel, type HeadModel } from '../../src/pipeline/geometry/head-model.js';
import { estimateHeadPose, type HeadPose } from '../../src/pipeline/geometry/pose.js';
import { fromSharp } from '../../src/pipeline/image.js';
import type { Face, RgbImage } from '../../src/pipeline/types.js';
import { facePath } from '../helpers/env.js';

/** A shared photo, optionally mirrored or rotated in-plane (degrees, clockwise on screen) by sharp. */
export async function loadPhoto(name: string, edit: { mirror?: boolean; rotate?: number } = {}): Promise<RgbImage> {
  let s = sharp(facePath(name)).rotate();
  if (edit.mirror) s = s.flop();
  const photo = await fromSharp(s);
  if (edit.rotate === undefined) return photo;
  // A second pipeline: sharp applies one rotation per pipeline (the EXIF one above).
  return fromSharp(
    sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } }).rotate(edit.rotate, {
      background: '#808080',
    }),
  );
}

export interface Analysed {
  image: RgbImage;
  face: Face;
  mesh: FaceMesh;
  pose: HeadPose;
}

/** Main face, mesh and head pose of an image, the way the compositor finds them. */
export async function analyse(image: RgbImage): Promise<Analysed> {
  const { mainFace } = await findMainFace(image, 1);
  const mesh = await estimateMesh(image, mainFace);
  return { image, face: mainFace, mesh, pose: estimateHeadPose(mesh) };
}

/**
 * A photo analysed, its head model, and a member's mask drawn by `inside` (x, y and the face's box centre cx, cy):
 * for what depends on where the member is (confineToMember and what follows from it).
 */
export async function withMember(
  name: string,
  inside: (x: number, y: number, face: Face & { cx: number; cy: number }) => boolean,
): Promise<Analysed & { head: HeadModel; mask: Float32Array }> {
  const analysed = await analyse(await loadPhoto(name));
  const { image, face, mesh, pose } = analysed;
  const { width, height } = image;
  const centred = { ...face, cx: face.box.x + face.box.width / 2, cy: face.box.y + face.box.height / 2 };
  const mask = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) mask[y * width + x] = inside(x, y, centred) ? 1 : 0;
  return { ...analysed, head: buildHeadModel(mesh.points, pose, width, height), mask };
}

/** Every face of an image, largest first. */
export async function facesBySize(image: RgbImage): Promise<Face[]> {
  return (await detectFaces(image)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
}
