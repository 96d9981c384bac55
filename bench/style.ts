/**
 * Style looks and backdrops on the CPU (issue 11, item 7): median milliseconds of each catalogue entry on a
 * 1024x1024 head-and-shoulders crop of a shared photo, with an elliptical subject mask, this process on its own.
 * Target: each well under 150 ms on the 2-core CI machine.
 */
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { mulberry32 } from '../src/core/random.js';
import { parseStyle, STYLE_PRESETS } from '../src/core/style.js';
import { fromSharp } from '../src/pipeline/image.js';
import { applyLook, renderBackdrop, varyStyle } from '../src/pipeline/style/index.js';
import { facePath } from '../test/helpers/env.js';

const SIZE = 1024;
const RUNS = 5;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** A soft ellipse where a head-and-shoulders subject would be: enough for the looks that read the mask. */
export function ellipseAlpha(width: number, height: number): Float32Array {
  const a = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = (x - width / 2) / (width * 0.3);
      const dy = (y - height * 0.5) / (height * 0.45);
      a[y * width + x] = Math.min(1, Math.max(0, (1.15 - Math.sqrt(dx * dx + dy * dy)) / 0.3));
    }
  }
  return a;
}

export async function run(): Promise<void> {
  const image = await fromSharp(sharp(facePath('obama.jpg')).resize(SIZE, SIZE, { fit: 'cover' }));
  const alpha = ellipseAlpha(SIZE, SIZE);
  const rows: string[] = [];
  for (const preset of STYLE_PRESETS) {
    const r = parseStyle(preset.name);
    if (!r.ok) throw r.error;
    for (const v of [0, 1]) {
      const style = varyStyle(r.value, v, mulberry32(v));
      const wall: number[] = [];
      const cpu: number[] = [];
      // Two warm-up runs, so the numbers are the JIT-compiled code's.
      for (let k = 0; k < RUNS + 2; k++) {
        const rng = mulberry32(k);
        const t = performance.now();
        const c = process.cpuUsage();
        if (preset.role === 'backdrop') renderBackdrop(style, SIZE, SIZE, rng);
        else applyLook(image, { alpha }, style, rng);
        const used = process.cpuUsage(c);
        if (k >= 2) {
          wall.push(performance.now() - t);
          cpu.push((used.user + used.system) / 1000);
        }
      }
      const ms = (values: number[]) => median(values).toFixed(0).padStart(5);
      rows.push(`${`${preset.name} v${v}`.padEnd(24)} ${ms(wall)} ms wall ${ms(cpu)} ms CPU`);
    }
  }
  // CPU time is this thread's own work: on a shared machine the wall time also counts the waits for a core.
  console.log(`${SIZE}x${SIZE}, median of ${RUNS}; load average ${loadavg()[0]?.toFixed(1)}`);
  for (const row of rows) console.log(row);
}
