import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { parseConfig } from '../../src/config.js';
import { createPipeline, type Pipeline } from '../../src/pipeline/run.js';
import type { PipelineInput, Stage } from '../../src/pipeline/types.js';
import { facePath, MODELS_DIR } from '../helpers/env.js';
import { makePack } from './fixtures/make-pack.js';

// The diffusion engine as a worker builds it (engine factory from config), on a real photo: the conditions are
// the real warp + relight + stitch, so a pose beyond the compositor's range is accepted.
let packDir: string;
let pipeline: Pipeline;

before(async () => {
  packDir = await makePack({ flavor: 'optimum', channels: 9 });
  const config = parseConfig({
    PORTRAIT_MODELS_DIR: MODELS_DIR,
    PORTRAIT_DIFFUSION_PACK: packDir,
    PORTRAIT_ENGINE: 'diffusion',
    PORTRAIT_ORT_THREADS: '1',
    LOG_LEVEL: 'silent',
  });
  pipeline = await createPipeline(config);
});
after(async () => {
  await pipeline?.dispose();
  rmSync(packDir, { recursive: true, force: true });
});

function input(over: Partial<PipelineInput> = {}): PipelineInput {
  return {
    selfies: [new Uint8Array(readFileSync(facePath('astronaut.png')))],
    pose: 'profile left',
    lighting: 'rembrandt',
    style: 'oil painting',
    seed: 3,
    variations: 1,
    engine: 'diffusion',
    outputSize: 128,
    outputFormat: 'png',
    debug: false,
    ...over,
  };
}

test('diffusion engine from config runs on the real IC-Portrait conditions, full pose range', async () => {
  const stages: Stage[] = [];
  const out = await pipeline.run(input(), (p) => stages.push(p.stage));
  assert.equal(out.engine, 'diffusion');
  assert.deepEqual(out.facesPerSelfie, [1]);
  assert.ok(stages.includes('stitch') && stages.includes('generate'), stages.join(','));
  const meta = await sharp(out.images[0]!).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 128, 128]);
  const again = await pipeline.run(input(), () => {});
  assert.deepEqual(again.images[0], out.images[0], 'same seed, same portrait');
});
