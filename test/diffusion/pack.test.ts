import assert from 'node:assert/strict';
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isPortraitError } from '../../src/errors.js';
import { parseManifest } from '../../src/pipeline/diffusion/manifest.js';
import { type DiffusionPack, loadPack } from '../../src/pipeline/diffusion/pack.js';
import { openSession } from '../../src/pipeline/diffusion/session.js';
import { type FixturePackOptions, makePack } from './fixtures/make-pack.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const IC_MANIFEST = {
  version: 1,
  extraChannels: 'warped_view_latent:4, stitch_mask:1, masked_stitch_latent:4',
  layout: 'side-by-side',
  resolution: 64,
  predictionType: 'v_prediction',
  scheduler: 'dpmpp-2m',
  steps: 3,
  guidance: 4,
};

async function pack(options: FixturePackOptions): Promise<string> {
  const dir = await makePack(options);
  dirs.push(dir);
  return dir;
}

async function load(dir: string, resolution?: number): Promise<DiffusionPack> {
  return loadPack(dir, { provider: 'cpu', threads: 1, ...(resolution ? { resolution } : {}) });
}

/** The PortraitError a load throws, for asserting its code and details. */
async function refusal(
  dir: string,
  resolution = 64,
): Promise<{ code: string; details: Record<string, unknown>; message: string }> {
  try {
    const p = await load(dir, resolution);
    await p.dispose();
  } catch (err) {
    assert.ok(isPortraitError(err), `expected a PortraitError, got ${String(err)}`);
    return { code: err.code, details: { ...err.details }, message: err.message };
  }
  assert.fail('the pack loaded');
}

describe('pack loader: layouts and variants', () => {
  it('accepts int64 token ids and an int32 [batch] timestep', async () => {
    const p = await load(
      await pack({ flavor: 'legacy', channels: 4, inputIds: 'int64', timestep: { type: 'int32', shape: ['batch'] } }),
      64,
    );
    assert.equal(p.info.io.textEncoder.inputIds.type, 'int64');
    assert.equal(p.info.io.unet.timestep.type, 'int32');
    await p.dispose();
  });

  it('legacy diffusers export: symbolic channels, variant from model_index.json', async () => {
    const p4 = await load(await pack({ flavor: 'legacy', channels: 4 }), 64);
    assert.equal(p4.info.variant, 'text-to-image');
    assert.equal(p4.info.variantSource, 'model-index');
    assert.equal(p4.info.layout, 'single');
    assert.deepEqual(p4.info.io.unet.sample.shape, ['batch', 'channels', 'height', 'width']);
    assert.equal(p4.info.io.unet.timestep.type, 'int64');
    assert.deepEqual(p4.info.io.unet.timestep.shape, ['batch']);
    assert.equal(p4.info.io.textEncoder.inputIds.type, 'int32');
    assert.equal(p4.info.scheduler, 'ddim'); // PNDM runs as DDIM
    await p4.dispose();

    const p9 = await load(await pack({ flavor: 'legacy', channels: 9 }), 64);
    assert.equal(p9.info.variant, 'inpainting');
    assert.equal(p9.info.layout, 'side-by-side');
    assert.deepEqual(
      p9.info.extraChannels.map((g) => `${g.source}:${g.channels}`),
      ['stitch_mask:1', 'masked_stitch_latent:4'],
    );
    await p9.dispose();

    // Without a size in the metadata or a unet/config.json, a legacy pack runs at SD's 512.
    const p512 = await load(await pack({ flavor: 'legacy', channels: 4 }));
    assert.equal(p512.info.resolution, 512);
    await p512.dispose();
  });

  it('legacy 8-channel UNet: variant from unet/config.json in_channels', async () => {
    const p = await load(await pack({ flavor: 'legacy', channels: 8 }), 64);
    assert.equal(p.info.variant, 'instruct-pix2pix');
    assert.equal(p.info.variantSource, 'unet-config');
    await p.dispose();
  });

  it('Optimum export: fixed channels from the ONNX metadata, float scalar timestep, latent_parameters', async () => {
    const p = await load(
      await pack({ flavor: 'optimum', channels: 9, schedulerClass: 'EulerAncestralDiscreteScheduler' }),
    );
    assert.equal(p.info.variant, 'inpainting');
    assert.equal(p.info.variantSource, 'onnx');
    assert.equal(p.info.resolution, 64); // unet/config.json sample_size 8
    assert.equal(p.info.io.unet.timestep.type, 'float32');
    assert.deepEqual(p.info.io.unet.timestep.shape, []);
    assert.equal(p.info.io.vaeEncoder.output.name, 'latent_parameters');
    assert.equal(p.info.io.vaeEncoder.parameters, true);
    assert.equal(p.info.scheduler, 'euler-ancestral');
    assert.equal(p.providers.unet, 'cpu');
    await p.dispose();
  });

  it('fp16 export: float16 inputs and outputs', async () => {
    const p = await load(await pack({ flavor: 'fp16', channels: 9 }), 64);
    assert.equal(p.info.io.unet.sample.type, 'float16');
    assert.equal(p.info.io.unet.timestep.type, 'float16');
    assert.equal(p.info.io.textEncoder.hidden.type, 'float16');
    assert.equal(p.info.io.vaeDecoder.latent.type, 'float16');
    await p.dispose();
  });

  it('IC-Portrait pack: portrait-pack.json declares the extra channels and defaults, no code change', async () => {
    const dir = await pack({ flavor: 'optimum', channels: 13, manifest: IC_MANIFEST });
    const p = await load(dir);
    assert.equal(p.info.format, 'ic-portrait');
    assert.equal(p.info.variant, 'ic-portrait');
    assert.equal(p.info.unetChannels, 13);
    assert.deepEqual(
      p.info.extraChannels.map((g) => `${g.source}:${g.channels}`),
      ['warped_view_latent:4', 'stitch_mask:1', 'masked_stitch_latent:4'],
    );
    assert.equal(p.info.predictionType, 'v_prediction');
    assert.equal(p.info.scheduler, 'dpmpp-2m');
    assert.deepEqual([p.info.defaults.steps, p.info.defaults.guidance], [3, 4]);
    await p.dispose();
    // The same layout with symbolic channels (legacy exporter) is checked against unet/config.json.
    const legacy = await load(await pack({ flavor: 'legacy', channels: 13, manifest: IC_MANIFEST, unetConfig: true }));
    assert.equal(legacy.info.variantSource, 'unet-config');
    await legacy.dispose();
  });

  it('parses portrait-pack.json channel lists in either form', () => {
    const a = parseManifest({
      ...IC_MANIFEST,
      extraChannels: ['mask:1', { name: 'masked_image_latents', channels: 4 }],
    });
    assert.ok(a.ok);
    assert.deepEqual(
      a.manifest.extraChannels.map((g) => g.source),
      ['stitch_mask', 'masked_stitch_latent'],
    );
    const b = parseManifest({ ...IC_MANIFEST, extraChannels: 'stitch_mask:4' });
    assert.equal(b.ok, false);
    assert.match(b.ok ? '' : b.error, /stitch_mask has 1 channel/);
    const c = parseManifest({ ...IC_MANIFEST, resolution: 100 });
    assert.equal(c.ok ? '' : c.field, 'resolution');
  });

  it('falls back to CPU when CUDA is asked for on a CPU-only onnxruntime build', async () => {
    const dir = await pack({ flavor: 'legacy', channels: 4 });
    const opened = await openSession(join(dir, 'vae_decoder', 'model.onnx'), { provider: 'cuda', threads: 1 });
    assert.equal(opened.provider, 'cpu');
    await opened.session.release();
  });
});

describe('pack loader: every malformed pack is refused at load, naming file and tensor', () => {
  it('missing files', async () => {
    for (const file of [
      'unet/model.onnx',
      'tokenizer/merges.txt',
      'scheduler/scheduler_config.json',
      'model_index.json',
    ]) {
      const dir = await pack({ flavor: 'legacy', channels: 4 });
      unlinkSync(join(dir, file));
      const r = await refusal(dir);
      assert.equal(r.code, 'model.missing', file);
      assert.equal(r.details['file'], file);
    }
    const gone = await refusal('/nonexistent/pack');
    assert.equal(gone.code, 'model.missing');
  });

  it('missing external weights', async () => {
    const dir = await pack({ flavor: 'legacy', channels: 4 });
    unlinkSync(join(dir, 'unet', 'weights.pb'));
    const r = await refusal(dir);
    assert.equal(r.code, 'model.invalid');
    assert.equal(r.details['file'], 'unet/model.onnx');
  });

  it('a wrong tensor name', async () => {
    const r = await refusal(await pack({ flavor: 'optimum', channels: 9, unetSampleName: 'latent_model_input' }));
    assert.equal(r.code, 'model.invalid');
    assert.equal(r.details['file'], 'unet/model.onnx');
    // The renamed input is the first one the engine cannot feed.
    assert.equal(r.details['tensor'], 'sample');
    assert.match(r.message, /required input is missing/);
  });

  it('an input the engine does not feed (an LCM-distilled UNet with timestep_cond)', async () => {
    const r = await refusal(await pack({ flavor: 'optimum', channels: 4, unetExtraInput: 'timestep_cond' }));
    assert.equal(r.details['tensor'], 'timestep_cond');
    assert.match(r.message, /unsupported input/);
  });

  it('a channel count no layout explains, and one that contradicts portrait-pack.json', async () => {
    const odd = await refusal(await pack({ flavor: 'optimum', channels: 6 }));
    assert.equal(odd.code, 'model.invalid');
    assert.deepEqual(
      [odd.details['file'], odd.details['tensor'], odd.details['got']],
      ['unet/model.onnx', 'sample', 6],
    );
    const contradicts = await refusal(await pack({ flavor: 'optimum', channels: 9, manifest: IC_MANIFEST }));
    assert.deepEqual(
      [contradicts.details['tensor'], contradicts.details['expected'], contradicts.details['got']],
      ['sample', 13, 9],
    );
  });

  it('token ids of the wrong type, mismatched text embedding width, a bad manifest field, broken JSON', async () => {
    const ids = await refusal(await pack({ flavor: 'legacy', channels: 4, inputIds: 'float32' }));
    assert.deepEqual(
      [ids.details['file'], ids.details['tensor'], ids.details['got']],
      ['text_encoder/model.onnx', 'input_ids', 'float32'],
    );

    const dir = await pack({ flavor: 'optimum', channels: 4 });
    writeFileSync(
      join(dir, 'unet', 'config.json'),
      JSON.stringify({ in_channels: 4, sample_size: 8, cross_attention_dim: 768 }),
    );
    const width = await refusal(dir);
    assert.deepEqual([width.details['file'], width.details['tensor']], ['unet/model.onnx', 'encoder_hidden_states']);

    const manifest = await pack({
      flavor: 'optimum',
      channels: 13,
      manifest: { ...IC_MANIFEST, extraChannels: 'depth_latent:4' },
    });
    const m = await refusal(manifest);
    assert.deepEqual([m.details['file'], m.details['field']], ['portrait-pack.json', 'extraChannels']);
    assert.match(m.message, /unknown channel source "depth_latent"/);

    const json = await pack({ flavor: 'legacy', channels: 4 });
    writeFileSync(join(json, 'scheduler', 'scheduler_config.json'), '{ not json');
    assert.equal((await refusal(json)).details['file'], 'scheduler/scheduler_config.json');
  });

  it('a resolution that is not a multiple of 64', async () => {
    const r = await refusal(await pack({ flavor: 'optimum', channels: 4 }), 96);
    assert.equal(r.code, 'model.invalid');
    assert.equal(r.details['field'], 'resolution');
  });
});
