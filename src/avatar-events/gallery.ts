import { type Zippable, zipSync } from 'fflate';
import sharp, { type OverlayOptions } from 'sharp';
import type { AvatarEvent } from './definition.js';
import type { EventEntry } from './store.js';

/**
 * The event gallery, shared by the chat adapters: contact sheets (a grid of avatars with names, one image per page)
 * rendered with sharp, and an export zip of every avatar with a CSV manifest. Text is Pango markup rendered by
 * sharp into raw pixels (no SVG or file loader involved); names are escaped.
 */

export interface GalleryItem {
  /** Shown under the avatar. */
  name: string;
  /** Encoded avatar (webp, png, jpeg); null draws an empty tile. */
  image: Uint8Array | null;
}

export type SheetFormat = 'jpeg' | 'png' | 'webp';

export interface SheetOptions {
  /** First header line (the event name). */
  title?: string;
  /** Second header line (the theme). */
  subtitle?: string;
  /** Avatar edge in pixels. Default 192. */
  tileSize?: number;
  /** Columns per page. Default: up to 8, fewer for small galleries. */
  columns?: number;
  /** Avatars per page. Default 48 (8 x 6): a page stays well under chat upload limits. */
  perPage?: number;
  /** Frame around each avatar, '#rrggbb' (the event's frame colour). */
  frameColour?: string;
  /** Default jpeg: every chat client previews it. */
  format?: SheetFormat;
}

export interface SheetPage {
  /** 1-based. */
  page: number;
  pages: number;
  image: Uint8Array;
  format: SheetFormat;
  width: number;
  height: number;
  /** Avatars on this page. */
  count: number;
  /** Alt text for the upload. */
  alt: string;
}

const BACKGROUND = { r: 30, g: 31, b: 34 };
const EMPTY_TILE = { r: 60, g: 62, b: 68 };
const GAP = 12;
const LABEL = 26;
const HEADER_TITLE = 34;
const HEADER_SUB = 22;
const FOOTER = 22;
const MAX_NAME = 28;
const MAX_INPUT_PIXELS = 4096 * 4096;

export const DEFAULT_PER_PAGE = 48;

export function galleryPageCount(count: number, perPage = DEFAULT_PER_PAGE): number {
  return Math.max(1, Math.ceil(count / Math.max(1, perPage)));
}

/** Renders one page (1-based) of the contact sheet. A page past the end is the last page. */
export async function renderContactSheet(
  items: readonly GalleryItem[],
  page = 1,
  options: SheetOptions = {},
): Promise<SheetPage> {
  const perPage = Math.max(1, Math.min(options.perPage ?? DEFAULT_PER_PAGE, 100));
  const pages = galleryPageCount(items.length, perPage);
  const p = Math.min(Math.max(1, Math.floor(page)), pages);
  const slice = items.slice((p - 1) * perPage, p * perPage);
  const tile = Math.max(64, Math.min(options.tileSize ?? 192, 512));
  const columns = Math.max(
    1,
    options.columns ?? Math.min(8, Math.max(3, Math.ceil(Math.sqrt(Math.min(perPage, items.length))))),
  );
  const rows = Math.max(1, Math.ceil(slice.length / columns));
  const frame = options.frameColour ? hexToRgb(options.frameColour) : undefined;
  const border = frame ? Math.max(3, Math.round(tile / 40)) : 0;
  const cell = tile + 2 * border;
  const width = GAP + columns * (cell + GAP);
  const headerHeight =
    (options.title ? HEADER_TITLE : 0) +
    (options.subtitle ? HEADER_SUB : 0) +
    (options.title || options.subtitle ? GAP : 0);
  const top = GAP + headerHeight;
  const height = top + rows * (cell + LABEL + GAP) + (pages > 1 ? FOOTER : 0) + GAP;

  const composites: OverlayOptions[] = [];
  let y = GAP;
  if (options.title) {
    composites.push(await textOverlay(options.title, 'sans 22', width - 2 * GAP, GAP, y, 'left', true));
    y += HEADER_TITLE;
  }
  if (options.subtitle) {
    composites.push(await textOverlay(options.subtitle, 'sans 13', width - 2 * GAP, GAP, y, 'left'));
  }
  const tiles = await Promise.all(slice.map((item) => renderTile(item.image, tile, frame, border)));
  for (let i = 0; i < slice.length; i++) {
    const col = i % columns;
    const row = Math.floor(i / columns);
    const left = GAP + col * (cell + GAP);
    const tileTop = top + row * (cell + LABEL + GAP);
    const raw = tiles[i];
    if (raw) composites.push({ input: raw, raw: { width: cell, height: cell, channels: 3 }, left, top: tileTop });
    const name = shorten(slice[i]?.name ?? '');
    if (name) composites.push(await textOverlay(name, 'sans 13', cell, left, tileTop + cell + 4, 'centre'));
  }
  if (pages > 1) {
    composites.push(
      await textOverlay(`page ${p} of ${pages}`, 'sans 11', width - 2 * GAP, GAP, height - GAP - FOOTER + 4, 'right'),
    );
  }
  const format = options.format ?? 'jpeg';
  let canvas = sharp({ create: { width, height, channels: 3, background: BACKGROUND } }).composite(
    composites.filter((c): c is OverlayOptions => c !== undefined),
  );
  canvas =
    format === 'png'
      ? canvas.png({ compressionLevel: 8 })
      : format === 'webp'
        ? canvas.webp({ quality: 85 })
        : canvas.jpeg({ quality: 88, mozjpeg: true });
  const image = new Uint8Array(await canvas.toBuffer());
  const title = options.title ? `${options.title}: ` : '';
  const alt = `${title}contact sheet of ${slice.length} avatar${slice.length === 1 ? '' : 's'}${
    pages > 1 ? ` (page ${p} of ${pages})` : ''
  }: ${slice
    .map((s) => shorten(s.name))
    .filter(Boolean)
    .join(', ')}`.slice(0, 1000);
  return { page: p, pages, image, format, width, height, count: slice.length, alt };
}

/** Every page of the contact sheet, in order. */
export async function renderContactSheets(
  items: readonly GalleryItem[],
  options: SheetOptions = {},
): Promise<SheetPage[]> {
  const pages = galleryPageCount(items.length, options.perPage ?? DEFAULT_PER_PAGE);
  const out: SheetPage[] = [];
  // One page at a time: a large gallery never holds every decoded avatar at once.
  for (let p = 1; p <= pages; p++) out.push(await renderContactSheet(items, p, options));
  return out;
}

/** The gallery of an event: header from its name and theme, frame from its frame colour, one tile per avatar. */
export async function renderEventGallery(
  event: AvatarEvent,
  entries: readonly EventEntry[],
  readImage: (entry: EventEntry) => Promise<Uint8Array | null>,
  page = 1,
  options: Omit<SheetOptions, 'title' | 'subtitle' | 'frameColour'> = {},
): Promise<SheetPage> {
  const perPage = options.perPage ?? DEFAULT_PER_PAGE;
  const shown = entries.filter((e) => e.resultKey);
  const pages = galleryPageCount(shown.length, perPage);
  const p = Math.min(Math.max(1, Math.floor(page)), pages);
  // Read only this page's images; the other pages' tiles stay empty placeholders that are never drawn.
  const items: GalleryItem[] = await Promise.all(
    shown.map(async (e, i) => ({
      name: entryLabel(e, event),
      image: i >= (p - 1) * perPage && i < p * perPage ? await readImage(e) : null,
    })),
  );
  return renderContactSheet(items, p, {
    ...options,
    title: event.name,
    subtitle: `${shown.length} avatar${shown.length === 1 ? '' : 's'} · ${themeLine(event)}`,
    ...(event.theme.frameColour ? { frameColour: event.theme.frameColour } : {}),
  });
}

function themeLine(event: AvatarEvent): string {
  const t = event.theme;
  return [t.pose, t.lighting, t.style ? `“${t.style}”` : ''].filter(Boolean).join(' · ');
}

function entryLabel(e: EventEntry, event: AvatarEvent): string {
  return event.entriesPerMember > 1 ? `${e.displayName} (${e.slot})` : e.displayName;
}

async function renderTile(
  image: Uint8Array | null,
  tile: number,
  frame: { r: number; g: number; b: number } | undefined,
  border: number,
): Promise<Buffer> {
  const background = frame ?? EMPTY_TILE;
  try {
    if (!image) throw new Error('no image');
    return await sharp(image, { limitInputPixels: MAX_INPUT_PIXELS })
      .resize(tile, tile, { fit: 'cover' })
      .toColourspace('srgb')
      .removeAlpha()
      .extend({ top: border, bottom: border, left: border, right: border, background })
      .raw()
      .toBuffer();
  } catch {
    // A missing or unreadable avatar still gets its place (and its name) on the sheet.
    return sharp({ create: { width: tile, height: tile, channels: 3, background: EMPTY_TILE } })
      .extend({ top: border, bottom: border, left: border, right: border, background })
      .raw()
      .toBuffer();
  }
}

/**
 * Renders a line of text to raw RGBA and places it in a box of `width`, aligned. Text too wide for the box is
 * shortened with an ellipsis (measured, so it never ends mid-glyph).
 */
async function textOverlay(
  text: string,
  font: string,
  width: number,
  left: number,
  top: number,
  align: 'left' | 'centre' | 'right',
  bold = false,
): Promise<OverlayOptions> {
  let line = text;
  let rendered = await renderLine(line, font, bold);
  for (let tries = 0; rendered.width > width && line.length > 1 && tries < 6; tries++) {
    const keep = Math.max(1, Math.floor((line.length * width) / rendered.width) - 1);
    line = `${line.slice(0, keep).trimEnd()}…`;
    rendered = await renderLine(line, font, bold);
  }
  let { data, width: w } = rendered;
  if (w > width) {
    data = await sharp(data, { raw: { width: w, height: rendered.height, channels: 4 } })
      .extract({ left: 0, top: 0, width, height: rendered.height })
      .raw()
      .toBuffer();
    w = width;
  }
  const offset = align === 'left' ? 0 : align === 'centre' ? Math.floor((width - w) / 2) : width - w;
  return { input: data, raw: { width: w, height: rendered.height, channels: 4 }, left: left + offset, top };
}

async function renderLine(text: string, font: string, bold: boolean) {
  const body = bold ? `<b>${escapeMarkup(text)}</b>` : escapeMarkup(text);
  const { data, info } = await sharp({
    text: { text: `<span foreground="#f2f3f5">${body}</span>`, font, rgba: true, dpi: 72, wrap: 'none' },
  })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function shorten(name: string): string {
  const clean = name.replace(/\s+/g, ' ').trim();
  return clean.length > MAX_NAME ? `${clean.slice(0, MAX_NAME - 1)}…` : clean;
}

/** Escapes text for Pango markup (XML entities). */
export function escapeMarkup(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}

function hexToRgb(hex: string): { r: number; g: number; b: number } | undefined {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return undefined;
  return {
    r: Number.parseInt(m[1] ?? '0', 16),
    g: Number.parseInt(m[2] ?? '0', 16),
    b: Number.parseInt(m[3] ?? '0', 16),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Export: a zip of every avatar plus manifest.csv, written by fflate. Store-only: avatars are already compressed.

export interface ZipFile {
  /** Path inside the zip ('/' separated, UTF-8). */
  name: string;
  data: Uint8Array;
  modified?: Date;
}

/** A store-only zip of `files` (fflate: UTF-8 names flagged, CRC-32 in every header). */
export function createZip(files: readonly ZipFile[]): Uint8Array {
  const entries: Zippable = {};
  for (const file of files) entries[file.name] = [file.data, { level: 0, mtime: file.modified ?? new Date() }];
  return zipSync(entries);
}

/** One CSV field: quoted when needed, and spreadsheet formulas defused (a name starting with '=' stays text). */
export function csvField(value: string | number): string {
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const MANIFEST_COLUMNS = [
  'file',
  'name',
  'platform',
  'user_id',
  'slot',
  'format',
  'width',
  'height',
  'engine',
  'joined_at',
  'made_at',
] as const;

export interface EventExport {
  zip: Uint8Array;
  /** Avatars in the zip. */
  files: number;
  /** Entries whose avatar could not be read (expired meanwhile): listed in the manifest without a file. */
  missing: number;
  fileName: string;
}

/**
 * The export of an event: `avatars/<nnn>-<name>.<ext>` for every entry with an avatar, and `manifest.csv` (one row
 * per entry, in joining order). Reads one image at a time.
 */
export async function buildEventExport(
  event: AvatarEvent,
  entries: readonly EventEntry[],
  readImage: (entry: EventEntry) => Promise<Uint8Array | null>,
): Promise<EventExport> {
  let only: EventExport | undefined;
  for await (const part of exportParts(event, entries, readImage, Number.POSITIVE_INFINITY)) only = part;
  return only ?? finishPart(event, [], [], 0, 0);
}

/**
 * The export split into zips of at most `maxBytes` each (a chat upload limit), every part with the manifest rows of
 * its own avatars; one avatar larger than the limit gets a part of its own. Yields parts as they fill, so a large
 * event is never held in memory at once. Part names say `part-<n>` when there is more than one.
 */
export async function* exportParts(
  event: AvatarEvent,
  entries: readonly EventEntry[],
  readImage: (entry: EventEntry) => Promise<Uint8Array | null>,
  maxBytes: number,
): AsyncGenerator<EventExport> {
  const used = new Set<string>();
  let files: ZipFile[] = [];
  let rows: string[] = [];
  let missing = 0;
  let size = 0;
  let part = 0;
  let n = 0;
  const shown = entries.filter((e) => e.resultKey && e.result);
  for (const e of shown) {
    const result = e.result;
    if (!result) continue;
    n++;
    const image = await readImage(e);
    const base = `${String(n).padStart(3, '0')}-${safeFileName(e.displayName) || 'member'}${event.entriesPerMember > 1 ? `-${e.slot}` : ''}`;
    let name = `avatars/${base}.${result.format}`;
    for (let i = 2; used.has(name); i++) name = `avatars/${base}-${i}.${result.format}`;
    used.add(name);
    const row = [
      image ? name : '',
      e.displayName,
      e.member.platform,
      e.member.userId,
      e.slot,
      result.format,
      result.width,
      result.height,
      result.engine,
      new Date(e.submittedAt).toISOString(),
      new Date(result.at).toISOString(),
    ]
      .map(csvField)
      .join(',');
    // Zip headers (two per file), the file and its manifest row; plus the manifest's own headers and column line.
    const cost = (image?.length ?? 0) + 2 * (46 + name.length * 3) + row.length * 3 + 2;
    if (files.length + rows.length > 0 && size + cost + 1024 > maxBytes) {
      yield finishPart(event, files, rows, missing, ++part);
      files = [];
      rows = [];
      missing = 0;
      size = 0;
    }
    if (image) files.push({ name, data: image, modified: new Date(result.at) });
    else missing++;
    rows.push(row);
    size += cost;
  }
  if (part === 0 || files.length + rows.length > 0) {
    const last = finishPart(event, files, rows, missing, part > 0 ? part + 1 : 0);
    yield last;
  }
}

function finishPart(event: AvatarEvent, files: ZipFile[], rows: string[], missing: number, part: number): EventExport {
  const manifest = new TextEncoder().encode(`\ufeff${[MANIFEST_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`);
  const stem = safeFileName(event.name) || 'event';
  return {
    zip: createZip([...files, { name: 'manifest.csv', data: manifest }]),
    files: files.length,
    missing,
    fileName: part > 0 ? `${stem}-avatars-part-${part}.zip` : `${stem}-avatars.zip`,
  };
}

function safeFileName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}
