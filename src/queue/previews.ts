/**
 * Progress previews: the diffusion engine's small raw preview of the image forming (latent resolution, RGB) becomes
 * a WebP blob the chat adapters can show in their status message. Short-lived and owned by the requester, like every
 * image of theirs, so `forget` removes it; one key per job, each preview overwriting the last.
 */
import sharp from 'sharp';
import type { Requester } from '../core/request.js';
import type { RgbImage } from '../pipeline/types.js';
import type { BlobStore } from './blobs.js';

/** Longest side of a stored preview in pixels: a thumbnail in a chat status message. */
export const PREVIEW_SIZE = 128;
/** Previews are stale within seconds; minutes of life covers an adapter that is slow to fetch one. */
export const PREVIEW_TTL_SECONDS = 300;

/** Encodes a raw preview as a WebP at most `size` pixels on its longest side. */
export async function encodePreview(image: RgbImage, size = PREVIEW_SIZE): Promise<Uint8Array> {
  const buf = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size, size, { fit: 'inside' })
    .webp({ quality: 70 })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Encodes and stores a job's newest preview; returns its blob key. */
export async function storePreview(
  store: Pick<BlobStore, 'put'>,
  jobId: string,
  owner: Requester,
  image: RgbImage,
): Promise<string> {
  return store.put(await encodePreview(image), owner, `preview:${jobId}`, PREVIEW_TTL_SECONDS);
}
