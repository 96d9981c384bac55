/**
 * `portrait-pack.json`: what turns a diffusers-layout ONNX export of a fine-tuned UNet into an IC-Portrait pack.
 * It declares the UNet's extra input channels in order, the canvas layout, resolution, latent scale, prediction
 * type and the sampling defaults, so a new checkpoint runs by writing this file, with no code change.
 *
 * {
 *   "version": 1,
 *   "extraChannels": "warped_view_latent:4, stitch_mask:1, masked_stitch_latent:4",
 *   "layout": "side-by-side", "resolution": 512, "latentScale": 0.18215, "predictionType": "epsilon",
 *   "scheduler": "ddim", "steps": 30, "guidance": 5, "strength": 1,
 *   "prompt": "a portrait photo of a person, {style}, {pose}, {lighting} lighting", "negativePrompt": "blurry"
 * }
 */
import { z } from 'zod';
import { PREDICTION_TYPES, SCHEDULER_NAMES } from './scheduler-config.js';

/**
 * Conditioning sources a UNet channel group can be filled from. Latents are VAE encodings of the named image
 * at the canvas size; the mask is the stitch mask at latent resolution (1 = generate).
 * - `stitch_latent`: the stitch canvas (side by side: reference | target)
 * - `masked_stitch_latent`: the canvas with the masked area blanked (inpainting's masked-image latents)
 * - `warped_view_latent`: the canvas with the warped, relit target view on the target side
 * - `reference_latent`: the reference face on both sides (single layout: the reference alone)
 * - `stitch_mask`: the stitch mask
 */
export const CHANNEL_SOURCES = [
  'stitch_latent',
  'masked_stitch_latent',
  'warped_view_latent',
  'reference_latent',
  'stitch_mask',
] as const;
export type ChannelSource = (typeof CHANNEL_SOURCES)[number];

/** Names from diffusers' pipelines, accepted as aliases. */
const ALIASES: Readonly<Record<string, ChannelSource>> = {
  mask: 'stitch_mask',
  masked_image_latent: 'masked_stitch_latent',
  masked_image_latents: 'masked_stitch_latent',
  image_latent: 'stitch_latent',
  image_latents: 'stitch_latent',
};

export interface ChannelGroup {
  source: ChannelSource;
  channels: number;
}

export const LAYOUTS = ['side-by-side', 'single'] as const;
export type CanvasLayout = (typeof LAYOUTS)[number];

const channelEntry = z.union([z.string(), z.object({ name: z.string(), channels: z.number().int().min(1).max(64) })]);

const schema = z
  .object({
    version: z.literal(1),
    extraChannels: z.union([z.string(), z.array(channelEntry)]),
    layout: z.enum(LAYOUTS).default('side-by-side'),
    resolution: z.number().int().min(64).max(2048).multipleOf(64, 'must be a multiple of 64'),
    latentScale: z.number().positive().max(10).optional(),
    predictionType: z.enum(PREDICTION_TYPES).optional(),
    scheduler: z.enum(SCHEDULER_NAMES).optional(),
    karras: z.boolean().optional(),
    steps: z.number().int().min(1).max(1000).default(30),
    guidance: z.number().min(0).max(30).default(5),
    strength: z.number().gt(0).max(1).default(1),
    prompt: z.string().max(1000).default('a portrait photo of a person, {style}, {pose}, {lighting} lighting'),
    negativePrompt: z.string().max(1000).default(''),
  })
  .strict();

export type PortraitPackManifest = Omit<z.infer<typeof schema>, 'extraChannels'> & { extraChannels: ChannelGroup[] };

export type ManifestResult = { ok: true; manifest: PortraitPackManifest } | { ok: false; field: string; error: string };

/** The channel size each source has: latents have the VAE's latent channels, the mask one. */
export function sourceChannels(source: ChannelSource, latentChannels: number): number {
  return source === 'stitch_mask' ? 1 : latentChannels;
}

export function parseChannelGroups(
  spec: string | Array<string | { name: string; channels: number }>,
  latentChannels: number,
): { ok: true; groups: ChannelGroup[] } | { ok: false; error: string } {
  const entries = typeof spec === 'string' ? spec.split(',').filter((s) => s.trim() !== '') : spec;
  const groups: ChannelGroup[] = [];
  for (const entry of entries) {
    let name: string;
    let channels: number;
    if (typeof entry === 'string') {
      const m = /^\s*([a-z_]+)\s*:\s*(\d+)\s*$/i.exec(entry);
      if (!m) return { ok: false, error: `"${entry.trim()}" is not NAME:CHANNELS` };
      name = m[1]!.toLowerCase();
      channels = Number(m[2]);
    } else {
      name = entry.name;
      channels = entry.channels;
    }
    const source = ALIASES[name] ?? (CHANNEL_SOURCES as readonly string[]).find((s) => s === name);
    if (!source) return { ok: false, error: `unknown channel source "${name}" (known: ${CHANNEL_SOURCES.join(', ')})` };
    const expected = sourceChannels(source as ChannelSource, latentChannels);
    if (channels !== expected) {
      return {
        ok: false,
        error: `${name} has ${expected} channel${expected === 1 ? '' : 's'}, the file says ${channels}`,
      };
    }
    groups.push({ source: source as ChannelSource, channels });
  }
  if (groups.length === 0) return { ok: false, error: 'declares no extra channels' };
  return { ok: true, groups };
}

export function parseManifest(json: unknown, latentChannels = 4): ManifestResult {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, field: issue?.path.join('.') || '(root)', error: issue?.message ?? 'invalid' };
  }
  const groups = parseChannelGroups(parsed.data.extraChannels, latentChannels);
  if (!groups.ok) return { ok: false, field: 'extraChannels', error: groups.error };
  return { ok: true, manifest: { ...parsed.data, extraChannels: groups.groups } };
}
