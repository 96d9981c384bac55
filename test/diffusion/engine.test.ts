import assert from 'node:assert/strict';
import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isPortraitError } from '../../src/errors.js';
import { createDiffusionEngine, DiffusionEngine, faceCropConditions } from '../../src/pipeline/engines/diffusion.js';
import type { EngineRequest } from '../../src/pipeline/engines/engine.js';
import type { Progress, RgbImage } from '../../src/pipeline/types.js';
import { makePack } from './fixtures/make-pack.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function selfie(): RgbImage {
  const width = 200;
  const height = 160;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[i * 3] = (i % width) & 255;
    data[i * 3 + 1] = Math.floor(i / width) & 255;
    data[i * 3 + 2] = 128;
  }
  return { data, width, height, channels: 3 };
}

function request(overrides: Partial<EngineRequest> = {}): EngineRequest {
  const image = selfie();
  const face = {
    box: { x: 80, y: 50, width: 50, height: 60 },
    score: 0.9,
    landmarks: [
      { x: 95, y: 70 },
      { x: 115, y: 70 },
      { x: 105, y: 85 },
      { x: 97, y: 97 },
      { x: 113, y: 97 },
    ] as EngineRequest['selfies'][number]['mainFace']['landmarks'],
  };
  return {
    selfies: [{ image, faces: [face], mainFace: face, index: 1 }],
    pose: 'three-quarter left',
    lighting: 'rembrandt',
    style: 'oil painting',
    seed: 5,
    variations: 2,
    outputSize: 96,
    outputFormat: 'png',
    debug: true,
    ...overrides,
  };
}

describe('diffusion engine', () => {
  it('progress previews: the target view at latent resolution, spaced by the interval, none without one', async () => {
    const dir = await makePack({ flavor: 'optimum', channels: 9 });
    dirs.push(dir);
    const every = await createDiffusionEngine({
      packDir: dir,
      provider: 'cpu',
      threads: 1,
      sampling: { steps: 3 },
      previewIntervalMs: 0,
    });
    // Same pack, other settings: a preview interval no fixture run reaches, and previews off.
    const spaced = new DiffusionEngine(every.pack, faceCropConditions, { steps: 3 }, 3_600_000);
    const none = new DiffusionEngine(every.pack, faceCropConditions, { steps: 3 });
    try {
      const seen: Progress[] = [];
      await every.generate(request({ variations: 1, debug: false }), (p) => seen.push(p));
      const previews = seen.filter((p) => p.preview);
      assert.equal(previews.length, 3, 'one per step at interval 0');
      // 64 px per view, side by side: a 16x8 latent canvas whose right (target) half is 8x8.
      for (const p of previews) {
        assert.equal(p.stage, 'generate');
        assert.deepEqual([p.preview!.width, p.preview!.height, p.preview!.data.length], [8, 8, 8 * 8 * 3]);
      }
      const spacedSeen: Progress[] = [];
      await spaced.generate(request({ variations: 1, debug: false }), (p) => spacedSeen.push(p));
      assert.equal(spacedSeen.filter((p) => p.preview).length, 0, 'none within an interval of the start');
      const noneSeen: Progress[] = [];
      await none.generate(request({ variations: 1, debug: false }), (p) => noneSeen.push(p));
      assert.ok(noneSeen.every((p) => !p.preview));
    } finally {
      await every.dispose();
    }
  });

  it('generates one portrait per variation at the output size, with progress and a report', async () => {
    const dir = await makePack({ flavor: 'optimum', channels: 9 });
    dirs.push(dir);
    const engine = await createDiffusionEngine({ packDir: dir, provider: 'cpu', threads: 1, sampling: { steps: 3 } });
    try {
      const progress: Progress[] = [];
      const result = await engine.generate(request(), (p) => progress.push(p));
      assert.equal(engine.name, 'diffusion');
      assert.equal(result.images.length, 2);
      for (const img of result.images)
        assert.deepEqual([img.width, img.height, img.data.length], [96, 96, 96 * 96 * 3]);
      assert.notDeepEqual(result.images[0]!.data, result.images[1]!.data);
      assert.deepEqual(
        progress.map((p) => (p.stage === 'generate' ? `${p.step}/${p.steps}` : p.stage)),
        ['stitch', '1/6', '2/6', '3/6', '4/6', '5/6', '6/6'],
      );
      assert.equal(result.report['variant'], 'inpainting');
      assert.equal(result.report['steps'], 3);
      assert.equal(result.report['guidanceBatch'], 2);
      assert.ok(typeof result.timings['generate'] === 'number');
      assert.deepEqual(
        result.debugImages?.map((d) => d.label),
        ['reference', 'warped target', 'diffusion seed 5', 'diffusion seed 6'],
      );
      const again = await engine.generate(request({ variations: 1, debug: false }), () => {});
      assert.deepEqual(again.images[0]!.data, result.images[0]!.data, 'same seed, same portrait');
    } finally {
      await engine.dispose();
    }
  });

  it('uses an injected conditions builder at the pack resolution', async () => {
    const dir = await makePack({ flavor: 'legacy', channels: 9 });
    dirs.push(dir);
    const sizes: number[] = [];
    const engine = await createDiffusionEngine({
      packDir: dir,
      provider: 'cpu',
      threads: 1,
      resolution: 64,
      sampling: { steps: 2, guidance: 1 },
      conditions: async (req, size) => {
        sizes.push(size);
        return faceCropConditions(req, size);
      },
    });
    try {
      const result = await engine.generate(request({ variations: 1, outputSize: 64, debug: false }), () => {});
      assert.deepEqual(sizes, [64]);
      assert.equal(result.report['guidanceBatch'], 1);
      assert.equal(result.images[0]!.width, 64);
    } finally {
      await engine.dispose();
    }
  });

  it('stand-in conditions: face crop as reference and target, most of the target side masked', async () => {
    const c = await faceCropConditions(request(), 64);
    assert.equal(c.size, 64);
    assert.equal(c.canvas.length, 3 * 64 * 128);
    let left = 0;
    let right = 0;
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) left += c.mask[y * 128 + x]!;
      for (let x = 64; x < 128; x++) right += c.mask[y * 128 + x]!;
    }
    assert.equal(left, 0, 'reference side kept');
    assert.ok(right / (64 * 64) > 0.6, `target side mostly generated (${right / 4096})`);
    assert.ok(c.reference.every((v) => v >= -1 && v <= 1));
  });

  it('refuses a broken pack when the engine is created, not during a job', async () => {
    const dir = await makePack({ flavor: 'legacy', channels: 4 });
    dirs.push(dir);
    unlinkSync(join(dir, 'vae_decoder', 'model.onnx'));
    await assert.rejects(
      createDiffusionEngine({ packDir: dir, provider: 'cpu', threads: 1 }),
      (err: unknown) =>
        isPortraitError(err) && err.code === 'model.missing' && err.details['file'] === 'vae_decoder/model.onnx',
    );
  });

  it('stops on cancellation with job.cancelled', async () => {
    const dir = await makePack({ flavor: 'legacy', channels: 9 });
    dirs.push(dir);
    const engine = await createDiffusionEngine({
      packDir: dir,
      provider: 'cpu',
      threads: 1,
      resolution: 64,
      sampling: { steps: 10 },
    });
    try {
      const controller = new AbortController();
      const steps: number[] = [];
      await assert.rejects(
        engine.generate(request({ signal: controller.signal }), (p) => {
          if (p.step !== undefined) steps.push(p.step);
          if (p.step === 1) controller.abort();
        }),
        (err: unknown) => isPortraitError(err) && err.code === 'job.cancelled',
      );
      assert.deepEqual(steps, [1]);
    } finally {
      await engine.dispose();
    }
  });
});
