/**
 * `npm run review`: renders the fixed review set (every photo of the review folder x a list of requests) through
 * the real pipeline, the way a worker runs it, into numbered contact sheets with the request and what the engine
 * did under each tile. Numbers pass while pictures break: these sheets are for looking at, after every change that
 * can alter an image. Nothing here is committed; the photos come from PORTRAIT_TEST_FACES (a larger set, in
 * development), the committed test/fixtures/faces otherwise.
 *
 *   npm run review                          every photo x every request into review-out/
 *   npm run review -- --photos obama,biden  photos whose file name contains one of the words
 *   npm run review -- --requests 1,4-6      some requests (numbers as listed in review-out/index.txt)
 *   npm run review -- --size 1024 --out DIR output size (default 1024, what members get) and folder
 * Beside the sheets: full/ (each portrait at full size) and notes.tsv (each portrait's request, the pose rendered
 * and what the member is told with it, or the refusal), and reports.jsonl (the engine's whole report per portrait).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

import { getConfig, PROJECT_ROOT } from '../src/config.js';
import { describeError } from '../src/core/messages.js';
import { isPortraitError, toErrorPayload } from '../src/errors.js';
import { createLogger } from '../src/log.js';
import { renderDebugSheet } from '../src/pipeline/debug-sheet.js';
import { createPipeline } from '../src/pipeline/run.js';
import type { RgbImage } from '../src/pipeline/types.js';

interface ReviewRequest {
  pose: string;
  lighting: string;
  style: string;
  /** Which variation of the request this tile shows (0 = the first). */
  variation?: number;
}

/** The requests every photo goes through: turns, axes, lighting presets, styles and variations. */
const REQUESTS: readonly ReviewRequest[] = [
  { pose: 'front', lighting: 'studio', style: '' },
  { pose: 'three-quarter left', lighting: 'key from right, warm', style: '' },
  { pose: 'three-quarter right', lighting: 'rembrandt', style: '' },
  { pose: 'look up', lighting: 'butterfly', style: '' },
  { pose: 'tilt left', lighting: 'window', style: '' },
  { pose: 'front', lighting: 'split', style: '' },
  { pose: 'front', lighting: 'neon', style: '' },
  { pose: 'look down', lighting: 'golden hour', style: '' },
  { pose: 'front', lighting: 'studio', style: 'studio grey' },
  { pose: 'three-quarter left', lighting: 'loop', style: 'black and white' },
  { pose: 'front', lighting: 'studio', style: 'oil paint' },
  { pose: 'front', lighting: 'window', style: 'pencil sketch' },
  { pose: 'front', lighting: 'studio', style: 'comic' },
  { pose: 'front', lighting: 'candle', style: 'vintage film' },
  { pose: 'front', lighting: 'studio', style: 'studio blue', variation: 0 },
  { pose: 'front', lighting: 'studio', style: 'studio blue', variation: 1 },
];

const PHOTO = /\.(jpe?g|png|webp)$/i;

function parseList(text: string | undefined, max: number): number[] {
  if (!text) return Array.from({ length: max }, (_, i) => i + 1);
  return text.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map((n) => Number.parseInt(n, 10));
    if (a === undefined || Number.isNaN(a)) return [];
    const end = b === undefined || Number.isNaN(b) ? a : b;
    return Array.from({ length: end - a + 1 }, (_, i) => a + i).filter((n) => n >= 1 && n <= max);
  });
}

async function decodeTile(bytes: Uint8Array, side: number): Promise<RgbImage> {
  const { data, info } = await sharp(bytes)
    .resize(side, side, { fit: 'contain', background: '#18181c' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: 3,
  };
}

const blank = (side: number): RgbImage => ({
  data: new Uint8Array(side * side * 3).fill(40),
  width: side,
  height: side,
  channels: 3,
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      photos: { type: 'string' },
      requests: { type: 'string' },
      size: { type: 'string', default: '1024' },
      out: { type: 'string', default: 'review-out' },
      tile: { type: 'string', default: '360' },
    },
  });
  const faces = process.env['PORTRAIT_TEST_FACES'] ?? resolve(PROJECT_ROOT, 'test/fixtures/faces');
  const words = values.photos?.split(',').filter(Boolean) ?? [];
  const photos = readdirSync(faces)
    .filter((f) => PHOTO.test(f))
    .filter((f) => words.length === 0 || words.some((w) => f.includes(w)))
    .sort();
  const picked = parseList(values.requests, REQUESTS.length);
  const size = Number.parseInt(values.size ?? '1024', 10);
  const tile = Number.parseInt(values.tile ?? '360', 10);
  const out = resolve(values.out ?? 'review-out');
  // Sheets of an earlier run would mix with this one's: start from an empty folder.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'full'), { recursive: true });

  const config = getConfig({ PORTRAIT_ENGINE: 'compositor', LOG_LEVEL: 'warn' });
  const pipeline = await createPipeline(config, { logger: createLogger(config, 'review') });
  const index: string[] = picked.map((n) => {
    const r = REQUESTS[n - 1];
    return `${n}. pose "${r?.pose}", light "${r?.lighting}"${r?.style ? `, style "${r.style}"` : ''}${r?.variation ? `, variation ${r.variation + 1}` : ''}`;
  });
  writeFileSync(join(out, 'index.txt'), `${index.join('\n')}\n`);

  // What the member is told with each portrait (or instead of it), by file: blind panels read it beside the tile,
  // as a member reads the caption beside the portrait (a turn the photo allows only in part is said there).
  const notes: string[] = ['file\trequest\trendered\tnote'];
  // The engine's whole report per portrait (turn, invented share, outline measures): where a threshold is tuned,
  // what each tile measured beside what it looks like.
  const reports: string[] = [];
  let delivered = 0;
  let refused = 0;
  let failed = 0;
  const times: number[] = [];
  for (const [p, photo] of photos.entries()) {
    const bytes = new Uint8Array(readFileSync(join(faces, photo)));
    const tiles: Array<{ label: string; image: RgbImage }> = [];
    for (const n of picked) {
      const r = REQUESTS[n - 1];
      if (!r) continue;
      const head = `#${n} ${r.pose} · ${r.lighting}${r.style ? ` · ${r.style}` : ''}${r.variation ? ` · var ${r.variation + 1}` : ''}`;
      const started = performance.now();
      try {
        const result = await pipeline.run({
          selfies: [bytes],
          pose: r.pose,
          lighting: r.lighting,
          style: r.style,
          seed: 1234,
          variations: (r.variation ?? 0) + 1,
          outputSize: size,
          outputFormat: 'png',
          engine: 'compositor',
          engineDefaulted: false,
          debug: false,
        });
        times.push(performance.now() - started);
        const image = result.images[r.variation ?? 0] ?? result.images[0];
        if (!image) throw new Error('no image');
        const name = `${String(p + 1).padStart(2, '0')}-${basename(photo).replace(/\.[^.]+$/, '')}-${n}.png`;
        writeFileSync(join(out, 'full', name), image);
        const note = typeof result.report['note'] === 'string' ? String(result.report['note']) : '';
        const pose = result.report['renderedPose'] ?? result.report['targetPose'] ?? '';
        const wrapped = note.match(/.{1,52}(\s|$)/g) ?? [];
        notes.push([name, head, String(pose), note].join('\t'));
        reports.push(JSON.stringify({ file: name, request: head, report: result.report }));
        tiles.push({
          label: [head, `rendered: ${pose}`, ...wrapped.slice(0, 3)].filter(Boolean).join('\n'),
          image: await decodeTile(image, tile),
        });
        delivered++;
      } catch (err) {
        const payload = toErrorPayload(err);
        if (isPortraitError(err)) refused++;
        else failed++;
        const sentence = describeError(payload);
        notes.push(['', head, `REFUSED ${payload.code}`, sentence].join('\t'));
        const lines = sentence.match(/.{1,52}(\s|$)/g) ?? [sentence];
        tiles.push({ label: [head, `REFUSED ${payload.code}`, ...lines.slice(0, 3)].join('\n'), image: blank(tile) });
      }
    }
    const sheet = await renderDebugSheet(tiles, { tile, columns: 4 });
    const file = join(out, `${String(p + 1).padStart(2, '0')}-${basename(photo).replace(/\.[^.]+$/, '')}.png`);
    writeFileSync(file, sheet);
    console.log(file);
  }
  writeFileSync(join(out, 'notes.tsv'), `${notes.join('\n')}\n`);
  writeFileSync(join(out, 'reports.jsonl'), `${reports.join('\n')}\n`);
  await pipeline.dispose();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  console.log(
    `${delivered} delivered, ${refused} refused with a sentence, ${failed} failed; median ${median.toFixed(0)} ms per request (whole pipeline)`,
  );
  process.exit(failed > 0 ? 1 : 0);
}

await main();
