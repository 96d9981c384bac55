import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import { PortraitError } from '../../src/errors.js';
import { createPipeline, type Pipeline } from '../../src/pipeline/run.js';
import type { PipelineInput } from '../../src/pipeline/types.js';
import { facePath, MODELS_DIR } from '../helpers/env.js';

// An operator whose default engine is diffusion but who configured no pack: the worker starts on the compositor
// with one warning; a job naming diffusion is still refused with the engine_unavailable sentence.
const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
let pipeline: Pipeline;

before(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const config = parseConfig({
    PORTRAIT_MODELS_DIR: MODELS_DIR,
    PORTRAIT_ENGINE: 'diffusion',
    PORTRAIT_ORT_THREADS: '1',
    LOG_LEVEL: 'silent',
  });
  pipeline = await createPipeline(config, { logger });
});
after(async () => {
  await pipeline?.dispose();
});

function input(over: Partial<PipelineInput> = {}): PipelineInput {
  return {
    selfies: [new Uint8Array(readFileSync(facePath('astronaut.png')))],
    pose: 'front',
    lighting: 'studio',
    style: '',
    seed: 1,
    variations: 1,
    engine: 'diffusion',
    outputSize: 128,
    outputFormat: 'png',
    debug: false,
    ...over,
  };
}

test('diffusion as the default without a pack: the compositor, with one warning at start', async () => {
  assert.equal(pipeline.defaultEngine, 'compositor');
  const warnings = lines.filter((l) => l.level === 40 && /PORTRAIT_DIFFUSION_PACK/.test(l.msg));
  assert.equal(warnings.length, 1, JSON.stringify(lines));
  assert.equal(warnings[0]?.['fallback'], 'compositor');
  const out = await pipeline.run(input({ engineDefaulted: true }));
  assert.equal(out.engine, 'compositor');
});

test('a job that names diffusion is refused with engine_unavailable', async () => {
  await assert.rejects(pipeline.run(input()), (err: unknown) => {
    assert.ok(err instanceof PortraitError);
    assert.equal(err.code, 'request.engine_unavailable');
    assert.equal(err.details['engine'], 'diffusion');
    return true;
  });
});

test('every model opened says which execution provider runs it and why', () => {
  const opened = lines.filter((l) => /^execution provider cpu runs /.test(l.msg));
  assert.ok(opened.length >= 1, JSON.stringify(lines.map((l) => l.msg)));
  assert.ok(opened.every((l) => l['provider'] === 'cpu' && typeof l['model'] === 'string'));
  assert.match(opened[0]!.msg, /PORTRAIT_EXECUTION_PROVIDER=cpu/);
});
