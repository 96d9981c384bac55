import sharp, { type OverlayOptions } from 'sharp';
import type { Box, Point, RgbImage } from './types.js';

/**
 * The debug contact sheet (`portrait generate --debug DIR`): every intermediate image of a run, labelled, on one
 * PNG, so a user can see where a result went wrong (a bad mesh, a wrong pose estimate, a harsh relight).
 * No SVG: the worker blocks every libvips loader but the photo formats (src/pipeline/image.ts), so labels are
 * Pango text (not a loader) and marks are drawn into the pixels here. Text is escaped for Pango markup.
 */

export interface LabelledImage {
  /** One or more lines ('\n'); the first is the title, the rest are details (pose numbers, timings). */
  label: string;
  image: RgbImage;
}

export interface DebugSheetOptions {
  /** Longest side of each tile in pixels. @defaultValue 384 */
  tile?: number;
  /** Tiles per row. @defaultValue min(3, images) */
  columns?: number;
}

const GAP = 12;
const LINE = 18;
const BACKGROUND = { r: 24, g: 24, b: 28 };

/** Escapes text for Pango markup (the same entities as XML). */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}

function rawInput(img: RgbImage) {
  return { raw: { width: img.width, height: img.height, channels: 3 as const } };
}

interface RawRgba {
  data: Buffer;
  width: number;
  height: number;
}

/** Renders Pango markup to raw RGBA pixels (never through a file loader). */
async function renderText(markup: string, font: string): Promise<RawRgba> {
  const { data, info } = await sharp({ text: { text: markup, font, rgba: true, dpi: 72 } })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function overlayRaw(img: RawRgba, left: number, top: number): OverlayOptions {
  return { input: img.data, raw: { width: img.width, height: img.height, channels: 4 }, left, top };
}

/** Renders labelled images into one PNG contact sheet, left to right, top to bottom. */
export async function renderDebugSheet(
  images: ReadonlyArray<LabelledImage>,
  options: DebugSheetOptions = {},
): Promise<Uint8Array> {
  const tile = options.tile ?? 384;
  const columns = Math.max(1, Math.min(options.columns ?? 3, images.length || 1));
  const tiles = await Promise.all(
    images.map(async ({ label, image }) => {
      const scale = tile / Math.max(image.width, image.height);
      const width = Math.max(1, Math.round(image.width * scale));
      const height = Math.max(1, Math.round(image.height * scale));
      const data = await sharp(image.data, rawInput(image)).resize(width, height, { fit: 'fill' }).raw().toBuffer();
      const lines = label.split('\n').slice(0, 6);
      const markup = lines
        .map((l, i) =>
          i === 0
            ? `<span foreground="#f0f0f0" weight="bold">${escapeXml(l)}</span>`
            : `<span foreground="#b8c4d0">${escapeXml(l)}</span>`,
        )
        .join('\n');
      const text = lines.some((l) => l.trim() !== '') ? await renderText(markup, 'sans 13') : undefined;
      return { lines, width, height, data, text };
    }),
  );
  const rows: Array<typeof tiles> = [];
  for (let i = 0; i < tiles.length; i += columns) rows.push(tiles.slice(i, i + columns));
  const rowLabel = rows.map((r) => Math.max(1, ...r.map((t) => t.lines.length)) * LINE + 6);
  const rowImage = rows.map((r) => Math.max(1, ...r.map((t) => t.height)));
  const width = columns * (tile + GAP) + GAP;
  const height = GAP + rows.reduce((s, _, i) => s + (rowLabel[i] ?? 0) + (rowImage[i] ?? 0) + GAP, 0);

  const composites: OverlayOptions[] = [];
  let y = GAP;
  rows.forEach((row, r) => {
    row.forEach((t, c) => {
      const x = GAP + c * (tile + GAP);
      if (t.text) composites.push(overlayRaw(cropRgba(t.text, tile, rowLabel[r] ?? LINE), x, y));
      composites.push({
        input: t.data,
        raw: { width: t.width, height: t.height, channels: 3 },
        left: x,
        top: y + (rowLabel[r] ?? 0),
      });
    });
    y += (rowLabel[r] ?? 0) + (rowImage[r] ?? 0) + GAP;
  });
  const png = await sharp({ create: { width, height, channels: 3, background: BACKGROUND } })
    .composite(composites)
    .removeAlpha()
    .png({ compressionLevel: 6 })
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

/** The top-left `width` x `height` of an RGBA image (labels longer than their tile are cut, not overflowing). */
function cropRgba(img: RawRgba, width: number, height: number): RawRgba {
  if (img.width <= width && img.height <= height) return img;
  const w = Math.min(width, img.width);
  const h = Math.min(height, img.height);
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) img.data.copy(data, y * w * 4, y * img.width * 4, y * img.width * 4 + w * 4);
  return { data, width: w, height: h };
}

export interface Annotations {
  /** Dots (e.g. mesh vertices or the five detector landmarks). */
  points?: ReadonlyArray<Point>;
  pointColour?: Colour;
  /** Segments between points (e.g. mesh triangle edges), as index pairs into `points`. */
  edges?: ReadonlyArray<readonly [number, number]>;
  edgeColour?: Colour;
  /** Rectangles (face boxes, crops). */
  boxes?: ReadonlyArray<Box>;
  boxColour?: Colour;
  /** Larger dots drawn on top (the five landmarks). */
  highlights?: ReadonlyArray<Point>;
  /** Lines of text in the top-left corner, on a dark band (pose numbers). */
  text?: ReadonlyArray<string>;
}

export type Colour = readonly [number, number, number];

/** A canvas to draw marks into: alpha-blended single pixels, lines, discs, rectangles. */
class Painter {
  constructor(
    readonly data: Uint8Array,
    readonly width: number,
    readonly height: number,
  ) {}

  blend(x: number, y: number, c: Colour, alpha: number): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const i = (yi * this.width + xi) * 3;
    for (let k = 0; k < 3; k++)
      this.data[i + k] = Math.round((this.data[i + k] ?? 0) * (1 - alpha) + (c[k] ?? 0) * alpha);
  }

  line(ax: number, ay: number, bx: number, by: number, c: Colour, alpha: number, thick: number): void {
    const steps = Math.ceil(Math.max(Math.abs(bx - ax), Math.abs(by - ay)));
    const r = Math.max(0, Math.floor((thick - 1) / 2));
    for (let s = 0; s <= steps; s++) {
      const t = steps === 0 ? 0 : s / steps;
      const x = ax + (bx - ax) * t;
      const y = ay + (by - ay) * t;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) this.blend(x + dx, y + dy, c, alpha);
    }
  }

  disc(cx: number, cy: number, radius: number, c: Colour, alpha = 1): void {
    const r = Math.max(0.5, radius);
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) this.blend(x, y, c, alpha);
      }
    }
  }

  rect(b: Box, c: Colour, thick: number): void {
    const x1 = b.x + b.width;
    const y1 = b.y + b.height;
    this.line(b.x, b.y, x1, b.y, c, 1, thick);
    this.line(x1, b.y, x1, y1, c, 1, thick);
    this.line(x1, y1, b.x, y1, c, 1, thick);
    this.line(b.x, y1, b.x, b.y, c, 1, thick);
  }
}

/** Draws points, mesh edges, boxes and text over a copy of an image (for the debug sheet). */
export async function annotate(image: RgbImage, a: Annotations): Promise<RgbImage> {
  const { width, height } = image;
  // Marks scale with the image so they stay visible once the sheet shrinks the tile.
  const u = Math.max(1, Math.max(width, height) / 400);
  const p = new Painter(new Uint8Array(image.data), width, height);
  const pts = a.points ?? [];
  for (const [i, j] of a.edges ?? []) {
    const s = pts[i];
    const e = pts[j];
    if (s && e) p.line(s.x, s.y, e.x, e.y, a.edgeColour ?? [53, 208, 255], 0.45, Math.max(1, Math.round(0.6 * u)));
  }
  for (const q of pts) p.disc(q.x, q.y, 1.1 * u, a.pointColour ?? [255, 225, 77]);
  for (const b of a.boxes ?? []) p.rect(b, a.boxColour ?? [109, 255, 109], Math.max(1, Math.round(1.5 * u)));
  for (const q of a.highlights ?? []) {
    p.disc(q.x, q.y, 3.8 * u, [255, 255, 255]);
    p.disc(q.x, q.y, 3 * u, [255, 59, 107]);
  }
  const out: RgbImage = { data: p.data, width, height, channels: 3 };
  const lines = a.text ?? [];
  if (lines.length === 0) return out;
  const size = Math.round(12 * u);
  const text = await renderText(
    `<span foreground="#ffffff">${lines.map(escapeXml).join('\n')}</span>`,
    `monospace ${size}`,
  );
  const pad = Math.round(6 * u);
  const clipped = cropRgba(text, width - pad, height - pad);
  // A dark band under the text so it reads on any photo.
  const bandW = Math.min(width, clipped.width + 2 * pad);
  const bandH = Math.min(height, clipped.height + 2 * pad);
  for (let y = 0; y < bandH; y++) for (let x = 0; x < bandW; x++) p.blend(x, y, [0, 0, 0], 0.6);
  const buf = await sharp(p.data, rawInput(out))
    .composite([overlayRaw(clipped, pad, pad)])
    .removeAlpha()
    .raw()
    .toBuffer();
  return { data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length), width, height, channels: 3 };
}

/** A grey mask (0..1 or 0..255 per pixel) as an RGB image, for showing face/head masks on the sheet. */
export function maskToImage(mask: ArrayLike<number>, width: number, height: number, max = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const v = Math.round((Math.min(max, Math.max(0, mask[i] ?? 0)) / max) * 255);
    data[3 * i] = v;
    data[3 * i + 1] = v;
    data[3 * i + 2] = v;
  }
  return { data, width, height, channels: 3 };
}
