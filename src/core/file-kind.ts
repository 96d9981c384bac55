import { fileTypeFromBuffer } from 'file-type';

/**
 * What a file really is, from its bytes: the one sniffer of the project. The chat adapters' downloads (a Slack login
 * page served as `200 text/html`, a PDF renamed `.jpg`) and the pipeline's ingest (which then lets only the allowed
 * libvips loaders see the bytes, src/pipeline/image.ts) both ask it, so they can never disagree about a file.
 * Binary formats are recognised by `file-type`; text (HTML, SVG, XML, JSON) and the few signatures it lacks here.
 */

/** The formats a portrait can be made from. `heif`: a HEIF whose brands do not say its codec (checked at decode). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heif';

export type FileKind =
  | { kind: 'image'; format: ImageFormat }
  /** HEVC-coded HEIF (iPhone photos): refused with its own sentence about exporting as JPEG. */
  | { kind: 'heic'; name: 'a HEIC photo' }
  /** An image format the bot does not read (BMP, TIFF, SVG, PSD ...). */
  | { kind: 'unsupported_image'; name: string }
  /** An HTML page: on a file host, usually a login page instead of the file. */
  | { kind: 'web_page'; name: string }
  | { kind: 'empty'; name: string }
  /** Anything else: documents, archives, videos, text. */
  | { kind: 'other'; name: string };

const HEVC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** file-type's extension -> the name a sentence shows, for the image formats the bot refuses. */
const UNSUPPORTED_IMAGES: Readonly<Record<string, string>> = {
  tif: 'a TIFF image',
  bmp: 'a BMP image',
  psd: 'a PSD image',
  ico: 'an icon file',
  cur: 'an icon file',
  jxl: 'a JPEG XL image',
  jp2: 'a JPEG 2000 image',
  jpx: 'a JPEG 2000 image',
  j2c: 'a JPEG 2000 image',
  jpm: 'a JPEG 2000 image',
  mj2: 'a JPEG 2000 image',
  exr: 'an OpenEXR image',
  fits: 'a FITS image',
  dng: 'a RAW photo',
  cr2: 'a RAW photo',
  cr3: 'a RAW photo',
  nef: 'a RAW photo',
  arw: 'a RAW photo',
  orf: 'a RAW photo',
  rw2: 'a RAW photo',
  raf: 'a RAW photo',
  jxr: 'a JPEG XR image',
  ktx: 'a KTX texture',
  dcm: 'a DICOM image',
};

/** file-type's extension -> name, for files that are no image at all. */
const OTHERS: Readonly<Record<string, string>> = {
  pdf: 'a PDF',
  zip: 'a ZIP file',
  gz: 'a gzip file',
  mp4: 'a video',
  m4v: 'a video',
  mov: 'a video',
  '3gp': 'a video',
  '3g2': 'a video',
  xml: 'an XML file',
};

/** Signatures file-type does not know, of image formats libvips would otherwise try. */
const EXTRA_UNSUPPORTED: ReadonlyArray<{ name: string; test: (b: Uint8Array) => boolean }> = [
  { name: 'a Radiance HDR image', test: (b) => ascii(b, 0, 10) === '#?RADIANCE' || ascii(b, 0, 6) === '#?RGBE' },
  { name: 'a PNM image', test: (b) => /^P[1-7]\s/.test(ascii(b, 0, 3)) },
  { name: 'a vips image', test: (b) => starts(b, [0x08, 0xf2, 0xa6, 0xb6]) || starts(b, [0xb6, 0xa6, 0xf2, 0x08]) },
  { name: 'a FITS image', test: (b) => ascii(b, 0, 9) === 'SIMPLE  =' },
  { name: 'a BMP image', test: (b) => ascii(b, 0, 2) === 'BM' && b.length > 14 },
  { name: 'a JPEG 2000 image', test: (b) => starts(b, [0xff, 0x4f, 0xff, 0x51]) },
];

/** Identifies `bytes`. Pure apart from being async (file-type reads through a tokenizer). */
export async function sniffFile(bytes: Uint8Array): Promise<FileKind> {
  if (bytes.length === 0) return { kind: 'empty', name: 'an empty file' };
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const isobmff = isoMedia(bytes);
    if (isobmff) return isobmff;
  }
  const type = await fileTypeFromBuffer(bytes).catch(() => undefined);
  if (type) {
    switch (type.ext) {
      case 'jpg':
        return { kind: 'image', format: 'jpeg' };
      case 'png':
      case 'apng':
        return { kind: 'image', format: 'png' };
      case 'gif':
        return { kind: 'image', format: 'gif' };
      case 'webp':
        return { kind: 'image', format: 'webp' };
      case 'avif':
        return { kind: 'image', format: 'avif' };
      case 'heic':
        return { kind: 'heic', name: 'a HEIC photo' };
    }
    const unsupported = UNSUPPORTED_IMAGES[type.ext];
    if (unsupported) return { kind: 'unsupported_image', name: unsupported };
    const other = OTHERS[type.ext];
    if (other === 'an XML file') return text(bytes);
    if (other) return { kind: 'other', name: other };
    if (type.mime.startsWith('video/')) return { kind: 'other', name: 'a video' };
    if (type.mime.startsWith('audio/')) return { kind: 'other', name: 'an audio file' };
    if (type.mime.startsWith('image/')) return { kind: 'unsupported_image', name: `a ${type.ext.toUpperCase()} image` };
    return { kind: 'other', name: `a ${type.ext.toUpperCase()} file` };
  }
  // file-type wants a whole first chunk; a photo cut off inside it is still that format, and the decoder answers it
  // as damaged (input.corrupt), which tells the user more than "not an image".
  const cut = truncatedImage(bytes);
  if (cut) return { kind: 'image', format: cut };
  for (const sig of EXTRA_UNSUPPORTED) if (sig.test(bytes)) return { kind: 'unsupported_image', name: sig.name };
  if (looksLikeText(bytes)) return text(bytes);
  return { kind: 'other', name: 'a file of unknown type' };
}

/**
 * ISO base media files: the major brand and the compatible brands together tell AVIF from HEVC-coded HEIC (a
 * `mif1` file with an `avif` brand is AVIF; file-type reads only the major brand). A HEIF whose brands say neither
 * is an image whose codec the decoder checks. Videos fall through to file-type.
 */
function isoMedia(bytes: Uint8Array): FileKind | undefined {
  const size = ((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  const end = Math.min(bytes.length, Math.max(16, Math.min(size >>> 0, 256)));
  const brands = [ascii(bytes, 8, 12)];
  for (let i = 16; i + 4 <= end; i += 4) brands.push(ascii(bytes, i, i + 4));
  const major = brands[0] ?? '';
  if (AVIF_BRANDS.has(major)) return { kind: 'image', format: 'avif' };
  if (HEVC_BRANDS.has(major)) return { kind: 'heic', name: 'a HEIC photo' };
  if (major === 'mif1' || major === 'msf1' || major === 'miaf') {
    if (brands.some((b) => AVIF_BRANDS.has(b))) return { kind: 'image', format: 'avif' };
    if (brands.some((b) => HEVC_BRANDS.has(b))) return { kind: 'heic', name: 'a HEIC photo' };
    return { kind: 'image', format: 'heif' };
  }
  return undefined;
}

function truncatedImage(b: Uint8Array): ImageFormat | undefined {
  if (starts(b, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** Text files: what kind of text, for the sentence (an SVG is an image format the bot refuses). */
function text(bytes: Uint8Array): FileKind {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 1024)).toLowerCase();
  if (/<svg[\s>]/.test(head)) return { kind: 'unsupported_image', name: 'an SVG drawing' };
  if (/<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]/.test(head)) {
    return { kind: 'web_page', name: 'a web page' };
  }
  if (
    head
      .replace(/^\uFEFF/, '')
      .trimStart()
      .startsWith('<?xml')
  )
    return { kind: 'other', name: 'an XML file' };
  if (/^\uFEFF?\s*[[{]/.test(head)) return { kind: 'other', name: 'a JSON file' };
  return { kind: 'other', name: 'a text file' };
}

/** True when the first bytes read as text (UTF-8/ASCII with no control bytes besides whitespace). */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  let start = 0;
  if (starts(bytes, [0xef, 0xbb, 0xbf])) start = 3;
  else if (starts(bytes, [0xff, 0xfe]) || starts(bytes, [0xfe, 0xff])) return true;
  for (let i = start; i < n; i++) {
    const c = bytes[i] ?? 0;
    if (c < 0x09 || (c > 0x0d && c < 0x20) || c === 0x7f) return false;
  }
  return n > start;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));
}

function starts(bytes: Uint8Array, sig: readonly number[]): boolean {
  return bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
}
