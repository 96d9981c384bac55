// Dev review: every look and backdrop on three photos, contact sheets in /tmp/style-review.
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { mulberry32, deriveSeed } from '/work/wt-style/src/core/random.ts';
import { parseStyle } from '/work/wt-style/src/core/style.ts';
import { applyLook, renderBackdrop, varyStyle } from '/work/wt-style/src/pipeline/style/index.ts';
import { detectFaces } from '/work/wt-style/src/pipeline/face/detect.ts';

const SIZE = Number(process.env.SIZE ?? 1024);
const photos = (process.env.PHOTOS ?? 'obama.jpg,biden.jpg,pexels-tim-douglas-6567248.jpg').split(',');
const styles = (process.env.STYLES ?? 'none|black and white|sepia|warm|cool|vintage film|oil paint|pencil sketch|comic|studio grey|studio white|studio black|studio blue|studio beige|studio pastel|black and white oil painting|warm film, studio beige|pencil sketch, studio white').split('|');
const variations = Number(process.env.VARS ?? 1);
const seg = await ort.InferenceSession.create('/work/shared/models/mediapipe-selfie_segmentation.onnx');

async function load(name: string) {
  const { data, info } = await sharp(`/work/shared/testdata/faces/${name}`).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const img = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 as const };
  const faces = await detectFaces(img);
  const f = faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0]!;
  const side = Math.min(info.width, info.height, Math.round(f.box.height / 0.4));
  const cx = f.box.x + f.box.width / 2, cy = f.box.y + f.box.height / 2;
  const x = Math.max(0, Math.min(info.width - side, Math.round(cx - side / 2)));
  const y = Math.max(0, Math.min(info.height - side, Math.round(cy - side * 0.46)));
  const buf = await sharp(Buffer.from(data), { raw: { width: info.width, height: info.height, channels: 3 } })
    .extract({ left: x, top: y, width: side, height: side }).resize(SIZE, SIZE).raw().toBuffer();
  const image = { data: new Uint8Array(buf), width: SIZE, height: SIZE, channels: 3 as const };
  // Segmentation at 256, upsampled bilinear.
  const small = await sharp(buf, { raw: { width: SIZE, height: SIZE, channels: 3 } }).resize(256, 256).raw().toBuffer();
  const input = new Float32Array(256 * 256 * 3);
  for (let i = 0; i < input.length; i++) input[i] = small[i]! / 255;
  const out = await seg.run({ 'input_1:0': new ort.Tensor('float32', input, [1, 256, 256, 3]) });
  const m = out['activation_10']!.data as Float32Array;
  let mn=1e9,mx=-1e9,sum=0; for (const v of m) {mn=Math.min(mn,v);mx=Math.max(mx,v);sum+=v;} 
  const mb = Buffer.alloc(256 * 256);
  for (let i = 0; i < mb.length; i++) mb[i] = Math.round(m[i]! * 255);
  const big = await sharp(mb, { raw: { width: 256, height: 256, channels: 1 } }).resize(SIZE, SIZE).blur(1.5).extractChannel(0).raw().toBuffer();
  const alpha = new Float32Array(SIZE * SIZE);
  for (let i = 0; i < alpha.length; i++) alpha[i] = Math.min(1, Math.max(0, (big[i]! / 255 - 0.3) / 0.4));
  return { image, alpha };
}

function compose(img: any, alpha: Float32Array, bg: any) {
  const out = new Uint8Array(img.data.length);
  for (let p = 0; p < alpha.length; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(img.data[p * 3 + c] * alpha[p]! + bg.data[p * 3 + c] * (1 - alpha[p]!));
  return { ...img, data: out };
}

const times: Record<string, number[]> = {};
for (const photo of photos) {
  const { image, alpha } = await load(photo);
  const tiles: Buffer[] = [];
  const labels: string[] = [];
  for (const text of styles) {
    const r = parseStyle(text === 'none' ? '' : text);
    if (!r.ok) throw r.error;
    for (let v = 0; v < variations; v++) {
      const rng = mulberry32(deriveSeed(42, `style-${v}`));
      const style = varyStyle(r.value, v, rng);
      const t0 = performance.now();
      const bd = renderBackdrop(style, SIZE, SIZE, rng);
      const composed = bd ? compose(image, alpha, bd) : image;
      const out = applyLook(composed, alpha, style, rng);
      (times[text] ??= []).push(performance.now() - t0);
      const png = await sharp(Buffer.from(out.data), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer();
      const slug = `${photo.split('.')[0]}-${text.replace(/[^a-z]+/g, '_')}-v${v}`;
      await sharp(png).toFile(`/tmp/style-review/full/${slug}.png`);
      tiles.push(png);
      labels.push(`${text} v${v}`);
    }
  }
  // Contact sheet: 6 columns of 340px tiles with labels.
  const T = 340, cols = 6, rows = Math.ceil(tiles.length / cols);
  const comps = [];
  for (let k = 0; k < tiles.length; k++) {
    const tile = await sharp(tiles[k]).resize(T, T).toBuffer();
    const svg = Buffer.from(`<svg width="${T}" height="24"><rect width="100%" height="100%" fill="white"/><text x="4" y="17" font-size="15" font-family="sans-serif">${labels[k]}</text></svg>`);
    comps.push({ input: tile, left: (k % cols) * T, top: Math.floor(k / cols) * (T + 24) });
    comps.push({ input: svg, left: (k % cols) * T, top: Math.floor(k / cols) * (T + 24) + T });
  }
  await sharp({ create: { width: cols * T, height: rows * (T + 24), channels: 3, background: '#ffffff' } }).composite(comps).jpeg({ quality: 88 }).toFile(`/tmp/style-review/sheet-${photo.split('.')[0]}-v${variations}.jpg`);
}
for (const [k, v] of Object.entries(times)) console.log(k.padEnd(40), v.map((x) => x.toFixed(0)).join(' '));
