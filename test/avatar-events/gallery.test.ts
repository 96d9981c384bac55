import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { AvatarEvent } from '../../src/avatar-events/definition.js';
import {
  buildEventExport,
  createZip,
  csvField,
  exportParts,
  type GalleryItem,
  galleryPageCount,
  renderContactSheet,
  renderContactSheets,
  renderEventGallery,
} from '../../src/avatar-events/gallery.js';
import type { EventEntry } from '../../src/avatar-events/store.js';
import { readZip } from './helpers.js';

const colours = [
  { r: 220, g: 40, b: 40 },
  { r: 40, g: 200, b: 60 },
  { r: 40, g: 80, b: 220 },
  { r: 230, g: 200, b: 40 },
  { r: 200, g: 40, b: 200 },
  { r: 40, g: 200, b: 200 },
  { r: 250, g: 140, b: 20 },
  { r: 120, g: 60, b: 20 },
  { r: 250, g: 250, b: 250 },
];

async function avatar(c: { r: number; g: number; b: number }, format: 'png' | 'webp' = 'webp'): Promise<Uint8Array> {
  const img = sharp({ create: { width: 64, height: 64, channels: 3, background: c } });
  return new Uint8Array(await (format === 'png' ? img.png() : img.webp({ lossless: true })).toBuffer());
}

async function pixels(image: Uint8Array) {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const i = (y * info.width + x) * 3;
    return { r: data[i] ?? 0, g: data[i + 1] ?? 0, b: data[i + 2] ?? 0 };
  };
  return { info, at, data };
}

const near = (a: { r: number; g: number; b: number }, b: { r: number; g: number; b: number }, tol = 12) =>
  Math.abs(a.r - b.r) <= tol && Math.abs(a.g - b.g) <= tol && Math.abs(a.b - b.b) <= tol;

const NOW = Date.parse('2026-11-24T12:00:00Z');
const event: AvatarEvent = {
  id: 'evgallery1',
  platform: 'slack',
  scopeId: 'T1',
  name: 'Launch & "Friends"',
  theme: { pose: 'front', lighting: 'golden hour', style: '', frameColour: '#d4af37' },
  startsAt: NOW,
  endsAt: NOW + 1e9,
  entriesPerMember: 1,
  managers: [],
  createdBy: 'U0',
  destination: { channelId: 'C1' },
  status: 'open',
  retentionDays: 30,
  createdAt: NOW,
  updatedAt: NOW,
};
const entry = (i: number, name: string, withResult = true): EventEntry => ({
  eventId: event.id,
  member: { platform: 'slack', userId: `U${i}`, scopeId: 'T1' },
  displayName: name,
  slot: 1,
  rev: 1,
  state: withResult ? 'done' : 'failed',
  submittedAt: NOW + i,
  updatedAt: NOW + i,
  dm: false,
  route: {},
  ...(withResult
    ? {
        resultKey: `k${i}`,
        result: { format: 'webp' as const, width: 64, height: 64, engine: 'compositor' as const, at: NOW + 1000 + i },
      }
    : {}),
});

describe('gallery contact sheet', () => {
  it('lays nine avatars out in a 3 x 3 grid, each where it belongs, with names under them', async () => {
    const items: GalleryItem[] = await Promise.all(
      colours.map(async (c, i) => ({ name: `Member ${i}`, image: await avatar(c) })),
    );
    const page = await renderContactSheet(items, 1, { tileSize: 100, format: 'png', title: 'Nine' });
    assert.equal(page.pages, 1);
    assert.equal(page.count, 9);
    const { info, at } = await pixels(page.image);
    assert.equal(info.width, page.width);
    assert.equal(info.height, page.height);
    assert.equal(page.width, 12 + 3 * (100 + 12));
    // Tile centres, left to right, top to bottom (header: title line + gap).
    const top = 12 + 34 + 12;
    for (let i = 0; i < 9; i++) {
      const x = 12 + (i % 3) * 112 + 50;
      const y = top + Math.floor(i / 3) * (100 + 26 + 12) + 50;
      assert.ok(
        near(at(x, y), colours[i] ?? { r: 0, g: 0, b: 0 }),
        `tile ${i} shows its avatar: ${JSON.stringify(at(x, y))}`,
      );
    }
    // Light text pixels in the label band under the first tile.
    let bright = 0;
    for (let y = top + 100; y < top + 126; y++) for (let x = 12; x < 112; x++) if (at(x, y).r > 180) bright++;
    assert.ok(bright > 20, `name text drawn (${bright} bright pixels)`);
    assert.match(page.alt, /Nine: contact sheet of 9 avatars: Member 0, Member 1/);
  });

  it('pages large galleries, draws the frame colour, and keeps a place for an avatar it cannot read', async () => {
    const img = await avatar(colours[0] ?? { r: 0, g: 0, b: 0 });
    const items: GalleryItem[] = Array.from({ length: 100 }, (_, i) => ({
      name: `m${i}`,
      image: i === 96 ? null : img,
    }));
    assert.equal(galleryPageCount(100, 48), 3);
    const pages = await renderContactSheets(items, {
      perPage: 48,
      tileSize: 64,
      frameColour: '#00ff00',
      format: 'png',
    });
    assert.deepEqual(
      pages.map((p) => [p.page, p.pages, p.count]),
      [
        [1, 3, 48],
        [2, 3, 48],
        [3, 3, 4],
      ],
    );
    assert.equal((await renderContactSheet(items, 99, { perPage: 48 })).page, 3, 'a page past the end is the last');
    const last = await pixels(pages[2]?.image ?? new Uint8Array());
    const border = Math.max(3, Math.round(64 / 40));
    // Tile 0 of the last page is items[96] (unreadable): a grey placeholder inside a green frame.
    const x0 = 12;
    const y0 = 12;
    assert.ok(near(last.at(x0 + 1, y0 + 1), { r: 0, g: 255, b: 0 }), 'frame colour around the tile');
    assert.ok(
      near(last.at(x0 + border + 32, y0 + border + 32), { r: 60, g: 62, b: 68 }),
      'placeholder for a missing avatar',
    );
    assert.ok(
      near(last.at(x0 + 70 + 12 + border + 32, y0 + border + 32), colours[0] ?? { r: 0, g: 0, b: 0 }),
      'next tile shows its avatar',
    );
    assert.match(pages[2]?.alt ?? '', /page 3 of 3/);
  });

  it("renders an event's gallery with its name (escaped for Pango) and theme, reading only the page's images", async () => {
    const entries = [entry(1, 'Ada <3'), entry(2, 'Bo'), entry(3, 'No avatar', false)];
    const read: string[] = [];
    const page = await renderEventGallery(event, entries, async (e) => {
      read.push(e.displayName);
      return avatar(colours[1] ?? { r: 0, g: 0, b: 0 });
    });
    assert.equal(page.count, 2);
    assert.deepEqual(read, ['Ada <3', 'Bo']);
    assert.equal(page.format, 'jpeg');
    assert.match(page.alt, /^Launch & "Friends": contact sheet of 2 avatars: Ada <3, Bo$/);
    const meta = await sharp(page.image).metadata();
    assert.equal(meta.format, 'jpeg');
  });
});

describe('gallery export zip', () => {
  it("writes a store-only zip that Python's zipfile and unzip accept, with UTF-8 names and correct CRCs", () => {
    const files = [
      { name: 'avatars/001-ada.webp', data: new Uint8Array(randomBytes(5000)) },
      { name: 'avatars/002-zoë.png', data: new Uint8Array(randomBytes(10)) },
      { name: 'manifest.csv', data: new TextEncoder().encode('a,b\r\n') },
    ];
    const back = readZip(createZip(files));
    assert.deepEqual(
      back.map((f) => f.name),
      files.map((f) => f.name),
    );
    for (const [i, f] of back.entries()) {
      assert.deepEqual(f.data, files[i]?.data);
      assert.equal(f.crc, zlib.crc32(f.data));
    }
    assert.equal(readZip(createZip([])).length, 0);
    // A second independent reader: Info-ZIP's own integrity test.
    const dir = mkdtempSync(join(tmpdir(), 'portrait-zip-'));
    try {
      const path = join(dir, 'export.zip');
      writeFileSync(path, createZip(files));
      assert.match(execFileSync('unzip', ['-t', path]).toString(), /No errors detected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('escapes CSV fields and defuses spreadsheet formulas', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('-1'), "'-1");
    assert.equal(csvField(-1), '-1');
  });

  it('exports every avatar of an event with a manifest row each, naming missing files', async () => {
    const entries = [entry(1, 'Ada Lovelace'), entry(2, 'Ada Lovelace'), entry(3, 'Failed', false), entry(4, '=cmd|x')];
    const images = new Map([
      ['U1', new Uint8Array([1, 1])],
      ['U4', new Uint8Array([4, 4, 4])],
    ]);
    const out = await buildEventExport(event, entries, async (e) => images.get(e.member.userId) ?? null);
    assert.equal(out.files, 2);
    assert.equal(out.missing, 1);
    assert.equal(out.fileName, 'Launch-Friends-avatars.zip');
    const files = readZip(out.zip);
    assert.deepEqual(
      files.map((f) => f.name),
      ['avatars/001-Ada-Lovelace.webp', 'avatars/003-cmd-x.webp', 'manifest.csv'],
    );
    const csv = new TextDecoder().decode(files[2]?.data).replace(/^\ufeff/, '');
    const lines = csv.trim().split('\r\n');
    assert.equal(lines[0], 'file,name,platform,user_id,slot,format,width,height,engine,joined_at,made_at');
    assert.equal(lines.length, 4, 'header and one row per avatar entry');
    assert.match(
      lines[1] ?? '',
      /^avatars\/001-Ada-Lovelace\.webp,Ada Lovelace,slack,U1,1,webp,64,64,compositor,2026-11-24T12:00:00\.001Z,/,
    );
    assert.match(lines[2] ?? '', /^,Ada Lovelace,slack,U2,/, 'the unreadable avatar has a row without a file');
    assert.match(lines[3] ?? '', /^avatars\/003-cmd-x\.webp,'=cmd\|x,/);
  });

  it('splits a large export into parts under an upload limit, each with the manifest rows of its avatars', async () => {
    const entries = Array.from({ length: 7 }, (_, i) => entry(i + 1, `Member ${i + 1}`));
    const image = new Uint8Array(randomBytes(1000));
    const parts = [];
    for await (const part of exportParts(event, entries, async () => image, 2600)) parts.push(part);
    assert.ok(parts.length >= 3, `${parts.length} parts`);
    const names: string[] = [];
    for (const [i, part] of parts.entries()) {
      assert.ok(part.zip.length <= 2600, `part ${i + 1} is ${part.zip.length} bytes`);
      assert.equal(part.fileName, `Launch-Friends-avatars-part-${i + 1}.zip`);
      const files = readZip(part.zip);
      const avatars = files.filter((f) => f.name.startsWith('avatars/'));
      const csv = new TextDecoder().decode(files.at(-1)?.data).trim().split('\r\n');
      assert.equal(csv.length - 1, avatars.length, 'one manifest row per avatar of the part');
      names.push(...avatars.map((f) => f.name));
    }
    assert.deepEqual(
      names,
      entries.map((_, i) => `avatars/${String(i + 1).padStart(3, '0')}-Member-${i + 1}.webp`),
    );
    const whole = [];
    for await (const part of exportParts(event, entries, async () => image, 10 * 1024 * 1024)) whole.push(part);
    assert.equal(whole.length, 1);
    assert.equal(whole[0]?.fileName, 'Launch-Friends-avatars.zip');
  });
});
