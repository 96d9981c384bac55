import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type * as ort from 'onnxruntime-node';
import { isPortraitError } from '../../src/errors.js';
import { type DiffusionConditions, sideBySide } from '../../src/pipeline/diffusion/conditions.js';
import { type GenerateOptions, generate } from '../../src/pipeline/diffusion/generate.js';
import { type DiffusionPack, loadPack } from '../../src/pipeline/diffusion/pack.js';
import type { StepEvent } from '../../src/pipeline/diffusion/sampler.js';
import { SCHEDULER_NAMES } from '../../src/pipeline/diffusion/scheduler-config.js';
import { type ModelSession, openSession } from '../../src/pipeline/diffusion/session.js';
import { type FixturePackOptions, makePack } from './fixtures/make-pack.js';

const S = 64;
const dirs: string[] = [];
const packs: DiffusionPack[] = [];
after(async () => {
  await Promise.all(packs.map((p) => p.dispose()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface UnetCallRecord {
  sample: readonly number[];
  sampleType: string;
  timestep: readonly number[];
  timestepType: string;
  timestepValue: number;
}

/** Loads a fixture pack with the UNet session wrapped, recording every call's feeds. */
async function spiedPack(options: FixturePackOptions): Promise<{ pack: DiffusionPack; calls: UnetCallRecord[] }> {
  const dir = await makePack(options);
  dirs.push(dir);
  const calls: UnetCallRecord[] = [];
  const pack = await loadPack(dir, {
    provider: 'cpu',
    threads: 1,
    resolution: S,
    open: async (file, settings) => {
      const opened = await openSession(file, settings);
      if (!file.endsWith('unet/model.onnx')) return opened;
      const inner = opened.session;
      const session: ModelSession = {
        inputNames: inner.inputNames,
        outputNames: inner.outputNames,
        inputMetadata: inner.inputMetadata,
        outputMetadata: inner.outputMetadata,
        release: () => inner.release(),
        run: (feeds: Record<string, ort.Tensor>) => {
          const t = feeds['timestep']!;
          const raw = t.data[0]!;
          calls.push({
            sample: feeds['sample']!.dims,
            sampleType: feeds['sample']!.type,
            timestep: t.dims,
            timestepType: t.type,
            timestepValue: typeof raw === 'bigint' ? Number(raw) : Number(raw),
          });
          return inner.run(feeds);
        },
      };
      return { ...opened, session };
    },
  });
  packs.push(pack);
  return { pack, calls };
}

/** Synthetic conditions: two different smooth views, target side masked. */
function conditions(): DiffusionConditions {
  const view = (f: number) => Float32Array.from({ length: 3 * S * S }, (_, i) => Math.sin(i * f) * 0.6);
  const reference = view(0.013);
  const warpedTarget = view(0.029);
  const mask = new Float32Array(S * 2 * S);
  for (let y = 0; y < S; y++) mask.fill(1, y * 2 * S + S, (y + 1) * 2 * S);
  return { size: S, reference, warpedTarget, canvas: sideBySide(reference, warpedTarget, S), mask };
}

const base: Omit<GenerateOptions, 'seeds'> = { prompt: 'a portrait photo of a person, studio lighting', steps: 3 };

function hash(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of data) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

describe('generate on fixture packs (every variant and exporter flavour)', () => {
  const cases: Array<[string, FixturePackOptions]> = [
    ['legacy 4ch text-to-image (img2img)', { flavor: 'legacy', channels: 4 }],
    ['legacy 9ch inpainting (in-context)', { flavor: 'legacy', channels: 9 }],
    ['legacy 8ch instruct-pix2pix', { flavor: 'legacy', channels: 8 }],
    ['optimum 9ch', { flavor: 'optimum', channels: 9 }],
    ['fp16 9ch', { flavor: 'fp16', channels: 9 }],
    [
      'IC-Portrait 13ch',
      {
        flavor: 'optimum',
        channels: 13,
        manifest: {
          version: 1,
          extraChannels: 'warped_view_latent:4, stitch_mask:1, masked_stitch_latent:4',
          resolution: S,
          steps: 3,
        },
      },
    ],
  ];
  for (const [label, options] of cases) {
    it(`${label}: right size, same seed same image, other seed other image`, async () => {
      const { pack, calls } = await spiedPack(options);
      const c = conditions();
      const a = await generate(pack, c, { ...base, seeds: [7, 8] });
      const b = await generate(pack, c, { ...base, seeds: [7] });
      assert.equal(a.images.length, 2);
      for (const img of a.images) assert.deepEqual([img.width, img.height, img.data.length], [S, S, S * S * 3]);
      assert.equal(hash(a.images[0]!.data), hash(b.images[0]!.data), 'same seed, same image');
      assert.notEqual(hash(a.images[0]!.data), hash(a.images[1]!.data), 'different seed, different image');
      // Every UNet call carries the pack's full channel count and the canvas or single-view latent size.
      const width = pack.info.layout === 'side-by-side' ? 2 * (S / 8) : S / 8;
      assert.ok(calls.length > 0);
      for (const call of calls) assert.deepEqual(call.sample.slice(1), [pack.info.unetChannels, S / 8, width]);
      if (options.flavor === 'fp16') assert.ok(calls.every((c) => c.sampleType === 'float16'));
    });
  }

  it('text-to-image runs img2img from the warped target: fewer steps at strength < 1, and the init matters', async () => {
    const { pack, calls } = await spiedPack({ flavor: 'legacy', channels: 4 });
    const c = conditions();
    const r = await generate(pack, c, { ...base, steps: 10, strength: 0.5, seeds: [1] });
    assert.equal(r.steps, 5);
    assert.equal(calls.length, 5);
    const other = { ...c, warpedTarget: c.reference };
    const r2 = await generate(pack, other, { ...base, steps: 10, strength: 0.5, seeds: [1] });
    assert.notEqual(hash(r.images[0]!.data), hash(r2.images[0]!.data));
  });
});

describe('sampler behaviour', () => {
  it('classifier-free guidance doubles the UNet batch; guidance 1 does not', async () => {
    const { pack, calls } = await spiedPack({ flavor: 'legacy', channels: 9 });
    const guided = await generate(pack, conditions(), { ...base, guidance: 7.5, seeds: [1] });
    assert.equal(guided.batch, 2);
    assert.equal(calls.length, 3);
    assert.ok(
      calls.every((c) => c.sample[0] === 2 && c.timestep[0] === 2),
      'legacy [batch] timestep matches the batch',
    );
    calls.length = 0;
    const plain = await generate(pack, conditions(), { ...base, guidance: 1, seeds: [1] });
    assert.equal(plain.batch, 1);
    assert.ok(calls.every((c) => c.sample[0] === 1));
    assert.notEqual(hash(guided.images[0]!.data), hash(plain.images[0]!.data));
  });

  it('a UNet with a fixed batch of 1 gets two calls per guided step, with the same result as batch 2', async () => {
    const fixed = await spiedPack({ flavor: 'legacy', channels: 9, fixedBatch: true });
    const free = await spiedPack({ flavor: 'legacy', channels: 9 });
    const a = await generate(fixed.pack, conditions(), { ...base, guidance: 5, seeds: [3] });
    const b = await generate(free.pack, conditions(), { ...base, guidance: 5, seeds: [3] });
    assert.equal(fixed.calls.length, 6);
    assert.ok(fixed.calls.every((c) => c.sample[0] === 1 && c.timestep[0] === 1));
    assert.equal(free.calls.length, 3);
    assert.equal(hash(a.images[0]!.data), hash(b.images[0]!.data));
  });

  it('timesteps as the exporter declares them: int64 [B], float scalar, int32 [1], float16 [B]', async () => {
    const variants: Array<[FixturePackOptions, string, number[]]> = [
      [{ flavor: 'legacy', channels: 4 }, 'int64', [2]],
      [{ flavor: 'optimum', channels: 4 }, 'float32', []],
      [{ flavor: 'legacy', channels: 4, timestep: { type: 'int32', shape: [1] }, inputIds: 'int64' }, 'int32', [1]],
      [{ flavor: 'fp16', channels: 4 }, 'float16', [2]],
    ];
    for (const [options, type, dims] of variants) {
      const { pack, calls } = await spiedPack(options);
      const r = await generate(pack, conditions(), { ...base, strength: 1, guidance: 3, seeds: [1] });
      assert.equal(r.images.length, 1);
      assert.ok(calls.length === 3 && calls.every((c) => c.timestepType === type), `${type}`);
      assert.deepEqual(calls[0]!.timestep, dims, `${type} shape`);
    }
  });

  it('every scheduler runs end to end with the right timesteps fed to the UNet', async () => {
    const { pack, calls } = await spiedPack({ flavor: 'optimum', channels: 9 });
    for (const scheduler of SCHEDULER_NAMES) {
      calls.length = 0;
      const steps = scheduler === 'lcm' ? 4 : 5;
      const r = await generate(pack, conditions(), { ...base, scheduler, steps, seeds: [11] });
      const again = await generate(pack, conditions(), { ...base, scheduler, steps, seeds: [11] });
      assert.equal(hash(r.images[0]!.data), hash(again.images[0]!.data), `${scheduler} reproducible`);
      assert.equal(calls.length, 2 * steps, scheduler);
      const ts = calls.slice(0, steps).map((c) => c.timestepValue);
      assert.ok(
        ts.every((t, i) => i === 0 || t < ts[i - 1]!),
        `${scheduler} timesteps decrease: ${ts}`,
      );
      if (scheduler === 'lcm') assert.deepEqual(ts, [999, 759, 499, 259]);
    }
    const karras = await generate(pack, conditions(), { ...base, scheduler: 'dpmpp-2m', karras: true, seeds: [11] });
    const plain = await generate(pack, conditions(), { ...base, scheduler: 'dpmpp-2m', seeds: [11] });
    assert.notEqual(hash(karras.images[0]!.data), hash(plain.images[0]!.data));
  });

  it('reports progress per step in order, with previews when asked', async () => {
    const { pack } = await spiedPack({ flavor: 'legacy', channels: 9 });
    const events: Array<StepEvent & { variation: number }> = [];
    await generate(pack, conditions(), {
      ...base,
      steps: 4,
      seeds: [1, 2],
      preview: true,
      onStep: (e) => events.push(e),
    });
    assert.deepEqual(
      events.map((e) => `${e.variation}:${e.step}/${e.steps}`),
      ['0:1/4', '0:2/4', '0:3/4', '0:4/4', '1:1/4', '1:2/4', '1:3/4', '1:4/4'],
    );
    const preview = events[0]!.preview!;
    assert.deepEqual([preview.width, preview.height, preview.data.length], [16, 8, 16 * 8 * 3]);
  });

  it('cancellation stops between steps with job.cancelled and runs no further UNet call', async () => {
    const { pack, calls } = await spiedPack({ flavor: 'legacy', channels: 9 });
    const controller = new AbortController();
    await assert.rejects(
      generate(pack, conditions(), {
        ...base,
        steps: 20,
        seeds: [1],
        signal: controller.signal,
        onStep: (e) => {
          if (e.step === 2) controller.abort();
        },
      }),
      (err: unknown) => isPortraitError(err) && err.code === 'job.cancelled',
    );
    assert.equal(calls.length, 2);
  });

  it('refuses conditions at the wrong size and invalid step counts before running a model', async () => {
    const { pack, calls } = await spiedPack({ flavor: 'legacy', channels: 9 });
    const c = conditions();
    await assert.rejects(generate(pack, { ...c, size: 128 }, { ...base, seeds: [1] }), /reference has/);
    await assert.rejects(
      generate(pack, c, { ...base, steps: 0, seeds: [1] }),
      (err: unknown) => isPortraitError(err) && err.code === 'request.bad_option',
    );
    assert.equal(calls.length, 0);
  });
});
