import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parseConfig } from '../../src/config.js';
import type { EngineName } from '../../src/core/request.js';
import { isPortraitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createPipeline, type Pipeline } from '../../src/pipeline/run.js';
import type { PipelineInput, Stage } from '../../src/pipeline/types.js';
import { facePath, MODELS_DIR } from '../helpers/env.js';

function input(selfies: Uint8Array[], overrides: Partial<PipelineInput> = {}): PipelineInput {
  return {
    selfies,
    pose: 'front',
    lighting: 'studio',
    style: '',
    seed: 1,
    variations: 1,
    engine: 'crop',
    outputSize: 320,
    outputFormat: 'webp',
    debug: false,
    ...overrides,
  };
}

describe('pipeline run (crop engine, end to end)', () => {
  let pipeline: Pipeline;
  before(async () => {
    pipeline = await createPipeline(parseConfig({ PORTRAIT_MODELS_DIR: MODELS_DIR, PORTRAIT_ENGINE: 'crop' }), {
      logger: silentLogger,
    });
  });
  after(async () => {
    await pipeline.dispose();
  });

  it('turns a real photo into an encoded portrait with faces counted and stages timed', async () => {
    const stages: Stage[] = [];
    const out = await pipeline.run(input([await readFile(facePath('obama2.jpg'))], { variations: 2 }), (p) =>
      stages.push(p.stage),
    );
    assert.equal(out.engine, 'crop');
    assert.deepEqual(out.facesPerSelfie, [1]);
    assert.equal(out.images.length, 2);
    for (const bytes of out.images) {
      const meta = await sharp(bytes).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 320, 320]);
    }
    assert.deepEqual(stages, ['ingest', 'detect', 'warp', 'encode']);
    for (const s of ['ingest', 'detect', 'warp', 'encode'] as const) assert.ok((out.timings[s] ?? -1) >= 0, s);
    assert.equal(out.report['engine'], 'crop');
    assert.equal(out.debugSheet, undefined);
  });

  it('asks for a solo selfie when no face stands out: two people side by side -> face.several', async () => {
    await assert.rejects(pipeline.run(input([await readFile(facePath('two_people.jpg'))])), (err: unknown) => {
      const e = err as { code?: string; details?: Record<string, unknown> };
      assert.equal(e.code, 'face.several');
      assert.deepEqual(e.details, { selfie: 1, count: 2 });
      return true;
    });
  });

  it('names the failing selfie: a corrupt second selfie -> input.corrupt for selfie 2', async () => {
    const good = await readFile(facePath('astronaut.png'));
    const jpeg = await readFile(facePath('obama.jpg'));
    const err = await pipeline.run(input([good, jpeg.subarray(0, 4000)])).catch((e: unknown) => e);
    assert.ok(isPortraitError(err), String(err));
    assert.equal(err.code, 'input.corrupt');
    assert.equal(err.details['selfie'], 2);
  });

  it('falls back to the default engine for an unknown name and writes PNG when asked', async () => {
    const out = await pipeline.run(
      input([await readFile(facePath('astronaut.png'))], {
        engine: 'no-such-engine' as EngineName,
        outputFormat: 'png',
      }),
    );
    assert.equal(out.engine, pipeline.defaultEngine);
    assert.equal((await sharp(out.images[0] ?? new Uint8Array()).metadata()).format, 'png');
  });

  it('still delivers the portrait when a debug sheet is asked for', async () => {
    const out = await pipeline.run(input([await readFile(facePath('astronaut.png'))], { debug: true }));
    assert.equal(out.images.length, 1);
    if (out.debugSheet) assert.equal((await sharp(out.debugSheet).metadata()).format, 'png');
  });

  it('stops before work when the job is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(pipeline.run(input([await readFile(facePath('astronaut.png'))]), () => {}, controller.signal));
  });
});
