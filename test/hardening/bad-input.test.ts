import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parseConfig } from '../../src/config.js';
import { isPortraitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { findMainFace } from '../../src/pipeline/face/detect.js';
import { decodeImage } from '../../src/pipeline/image.js';
import { createPipeline, type Pipeline } from '../../src/pipeline/run.js';
import { MODELS_DIR, needsPhotos } from '../helpers/env.js';
import {
  type CaseOutcome,
  CORPUS,
  type CorpusCase,
  INGEST_LIMITS,
  loadSources,
  materialise,
  type Sources,
} from './corpus.js';

/**
 * Bad input, table-driven: every file of the generated corpus (corpus.ts) goes through the real pipeline (ingest,
 * YuNet detection, the crop engine, encode) and must end in its expected outcome: a portrait, or a refusal with its
 * own code, naming what arrived where the code says so. Each case is also bounded: wall time and peak RSS growth
 * are measured around the run and must stay under generous limits (bounds against bombs, not speed targets).
 */

/** Per-case bounds: a decompression bomb that got through would blow these by orders of magnitude. */
const MAX_MS = 5000;
const MAX_RSS_GROWTH_MB = 300;
const MAX_HEAP_GROWTH_MB = 300;

interface Measured {
  outcome: CaseOutcome;
  ms: number;
  rssGrowthMb: number;
  heapGrowthMb: number;
}

/** Runs `work` while sampling RSS every few milliseconds (decoders run on libuv threads, so the loop stays free). */
async function measure(work: () => Promise<CaseOutcome>): Promise<Measured> {
  const before = process.memoryUsage();
  let peak = before.rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  const started = performance.now();
  try {
    const outcome = await work();
    const ms = performance.now() - started;
    const afterUsage = process.memoryUsage();
    peak = Math.max(peak, afterUsage.rss);
    return {
      outcome,
      ms,
      rssGrowthMb: (peak - before.rss) / 2 ** 20,
      heapGrowthMb: Math.max(0, afterUsage.heapUsed - before.heapUsed) / 2 ** 20,
    };
  } finally {
    clearInterval(sampler);
  }
}

function refusal(err: unknown): CaseOutcome {
  if (!isPortraitError(err)) throw err;
  return { code: err.code, details: err.details };
}

describe('bad input: the generated corpus through the real pipeline', () => {
  let canary: Server;
  let canaryHits = 0;
  let dir: string;
  let src: Sources;
  let files: Map<string, string>;
  let pipeline: Pipeline;
  const rows: string[] = [];

  before(async () => {
    canary = createServer((_req, res) => {
      canaryHits++;
      res.writeHead(404).end();
    });
    await new Promise<void>((ok) => canary.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
    src = await loadSources({ url, hits: () => canaryHits });
    dir = await mkdtemp(join(tmpdir(), 'portrait-corpus-'));
    files = await materialise(CORPUS, dir, src);
    pipeline = await createPipeline(parseConfig({ PORTRAIT_MODELS_DIR: MODELS_DIR, PORTRAIT_ENGINE: 'crop' }), {
      logger: silentLogger,
    });
  });

  after(async () => {
    await pipeline?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
    canary?.closeAllConnections();
    await new Promise((ok) => canary?.close(ok));
    if (process.env['PRINT_CORPUS']) console.log(rows.join('\n'));
  });

  /** The real path a job takes; a case with its own limits goes through ingest and detection directly. */
  async function run(c: CorpusCase, bytes: Uint8Array): Promise<CaseOutcome> {
    if (c.limits) {
      try {
        const { image } = await decodeImage(bytes, { ...INGEST_LIMITS, ...c.limits, selfie: 1 });
        const { faces } = await findMainFace(image, 1);
        return { code: 'accepted', details: {}, faces: faces.length };
      } catch (err) {
        return refusal(err);
      }
    }
    try {
      const out = await pipeline.run({
        selfies: [bytes],
        pose: 'front',
        lighting: 'studio',
        style: '',
        seed: 1,
        variations: 1,
        engine: 'crop',
        outputSize: 256,
        outputFormat: 'webp',
        debug: false,
      });
      return {
        code: 'accepted',
        details: {},
        faces: out.facesPerSelfie[0] ?? 0,
        portrait: out.images[0] ?? new Uint8Array(),
      };
    } catch (err) {
      return refusal(err);
    }
  }

  it('has one case per id, and every case of the brief', () => {
    const ids = CORPUS.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(CORPUS.length >= 50, `${CORPUS.length} cases`);
  });

  it('four selfies at the pixel cap in one request stay bounded too', async () => {
    // 5600 x 7000 (39.2 MP) with a face: each is scaled to 16.8 MP as it decodes.
    const big = await sharp(await src.read('obama.jpg'))
      .resize(5600, 7000, { fit: 'fill' })
      .jpeg({ quality: 70 })
      .toBuffer();
    const m = await measure(async () => {
      const out = await pipeline.run({
        selfies: [big, big, big, big],
        pose: 'front',
        lighting: 'studio',
        style: '',
        seed: 1,
        variations: 1,
        engine: 'crop',
        outputSize: 256,
        outputFormat: 'webp',
        debug: false,
      });
      return { code: 'accepted', details: {}, faces: out.facesPerSelfie.length };
    });
    rows.push(
      `| four-selfies-at-cap | ${4 * big.byteLength} | ${m.outcome.code} | ${m.ms.toFixed(0)} ms | ${m.rssGrowthMb.toFixed(0)} MB |`,
    );
    assert.equal(m.outcome.faces, 4);
    assert.ok(m.ms < 4 * MAX_MS, `${m.ms.toFixed(0)} ms`);
    // Four decodes: a bound of 1.5 single-case bounds (at full resolution they took about 550 MB).
    assert.ok(m.rssGrowthMb < 1.5 * MAX_RSS_GROWTH_MB, `grew RSS by ${m.rssGrowthMb.toFixed(0)} MB`);
  });

  for (const c of CORPUS) {
    it(`${c.id}: ${c.what} -> ${c.expect}`, { skip: needsPhotos(...(c.photos ?? [])) }, async () => {
      const bytes = new Uint8Array(await readFile(files.get(c.id) ?? ''));
      const m = await measure(() => run(c, bytes));
      rows.push(
        `| ${c.id} | ${bytes.byteLength} | ${m.outcome.code}${m.outcome.faces !== undefined ? ` (${m.outcome.faces} faces)` : ''} | ${m.ms.toFixed(0)} ms | ${m.rssGrowthMb.toFixed(0)} MB |`,
      );
      assert.equal(m.outcome.code, c.expect, `${c.id}: got ${m.outcome.code} ${JSON.stringify(m.outcome.details)}`);
      if (c.expect !== 'accepted') {
        // Every refusal names the selfie it is about, so the sentence can say which one.
        assert.equal(m.outcome.details['selfie'], 1, JSON.stringify(m.outcome.details));
      }
      if (c.got instanceof RegExp) assert.match(String(m.outcome.details['got']), c.got);
      else if (c.got !== undefined) assert.equal(m.outcome.details['got'], c.got);
      assert.ok(m.ms < MAX_MS, `${c.id} took ${m.ms.toFixed(0)} ms`);
      assert.ok(m.rssGrowthMb < MAX_RSS_GROWTH_MB, `${c.id} grew RSS by ${m.rssGrowthMb.toFixed(0)} MB`);
      assert.ok(m.heapGrowthMb < MAX_HEAP_GROWTH_MB, `${c.id} grew the heap by ${m.heapGrowthMb.toFixed(0)} MB`);
      await c.check?.(m.outcome, bytes, src);
    });
  }
});
