import sharp from 'sharp';
import { detectFaces, findMainFace } from '../../src/pipeline/face/detect.js';
import { estimateMesh, type FaceMesh } from '../../src/pipeline/face/mesh.js';
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

/** Every face of an image, largest first. */
export async function facesBySize(image: RgbImage): Promise<Face[]> {
  return (await detectFaces(image)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
}
