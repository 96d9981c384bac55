import assert from 'node:assert/strict';
import { test } from 'node:test';
import Delaunator from 'delaunator';
import { parseLighting } from '../../src/core/lighting.js';
import { SRGB_TO_LINEAR } from '../../src/pipeline/lighting/colour.js';
import { estimateLighting } from '../../src/pipeline/lighting/estimate.js';
import { relight } from '../../src/pipeline/lighting/relight.js';
import { lightDirection } from '../../src/pipeline/lighting/sh.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/**
 * A synthetic "face": a sphere of radius R seen from the front, as a mesh in FaceMesh coordinates (x right, y down,
 * z away from the camera) with a Delaunay triangulation, and its Lambertian image under a known light.
 */
const SIZE = 256;
const R = 100;
const C = 128;
const ALBEDO = [0.7, 0.5, 0.4];

function sphereMesh(): { points: Float32Array; triangles: Uint32Array } {
  const pts: number[] = [];
  for (let v = -1; v <= 1.0001; v += 0.08) {
    for (let u = -1; u <= 1.0001; u += 0.08) {
      if (u * u + v * v > 0.97) continue;
      pts.push(C + u * R, C + v * R, -Math.sqrt(1 - u * u - v * v) * R);
    }
  }
  const points = Float32Array.from(pts);
  const flat = new Float64Array((points.length / 3) * 2);
  for (let i = 0; i < points.length / 3; i++) {
    flat[2 * i] = points[3 * i] ?? 0;
    flat[2 * i + 1] = points[3 * i + 1] ?? 0;
  }
  return { points, triangles: Uint32Array.from(new Delaunator(flat).triangles) };
}

/** Lambertian sphere under a light from (azimuth, elevation) plus ambient, on a mid-grey background. */
function renderSphere(azimuth: number, elevation: number, ambient: number): RgbImage {
  const [lx, ly, lz] = lightDirection(azimuth, elevation);
  const data = new Uint8Array(SIZE * SIZE * 3).fill(120);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const u = (x + 0.5 - C) / R;
      const v = (y + 0.5 - C) / R;
      if (u * u + v * v >= 1) continue;
      // Camera frame normal: X right, Y up, Z to the camera.
      const n = [u, -v, Math.sqrt(1 - u * u - v * v)];
      const shade = ambient + Math.max(0, (n[0] ?? 0) * lx + (n[1] ?? 0) * ly + (n[2] ?? 0) * lz);
      for (let c = 0; c < 3; c++) {
        const lin = Math.min(1, (ALBEDO[c] ?? 0) * shade * 0.8);
        data[(y * SIZE + x) * 3 + c] = Math.round(
          255 * (lin <= 0.0031308 ? lin * 12.92 : 1.055 * lin ** (1 / 2.4) - 0.055),
        );
      }
    }
  }
  return { data, width: SIZE, height: SIZE, channels: 3 };
}

/** Mean linear luminance of the sphere's left and right halves of the picture (inside radius 0.8). */
function halves(img: RgbImage): { imageLeft: number; imageRight: number } {
  let l = 0;
  let r = 0;
  let nl = 0;
  let nr = 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const u = (x + 0.5 - C) / R;
      const v = (y + 0.5 - C) / R;
      if (u * u + v * v > 0.64 || Math.abs(u) < 0.1) continue;
      const i = (y * SIZE + x) * 3;
      const lum =
        0.2126 * (SRGB_TO_LINEAR[img.data[i] ?? 0] ?? 0) +
        0.7152 * (SRGB_TO_LINEAR[img.data[i + 1] ?? 0] ?? 0) +
        0.0722 * (SRGB_TO_LINEAR[img.data[i + 2] ?? 0] ?? 0);
      if (u < 0) {
        l += lum;
        nl++;
      } else {
        r += lum;
        nr++;
      }
    }
  }
  return { imageLeft: l / nl, imageRight: r / nr };
}

test('lighting estimate on a sphere mesh finds the light the image was rendered with', () => {
  const { points, triangles } = sphereMesh();
  const est = estimateLighting(renderSphere(-50, 20, 0.3), points, triangles);
  assert.ok(Math.abs(est.dominant.azimuth + 50) < 8, `azimuth ${est.dominant.azimuth}`);
  assert.ok(Math.abs(est.dominant.elevation - 20) < 8, `elevation ${est.dominant.elevation}`);
  assert.ok(est.residual < 0.08, `residual ${est.residual}`);
  assert.ok(est.samples > 1000, `samples ${est.samples}`);
  // Albedo ratios survive (R:G:B = 0.7:0.5:0.4).
  assert.ok(Math.abs(est.albedo[0] / est.albedo[1] - 1.4) < 0.1, `${est.albedo}`);
});

test('relight: a sphere lit from its front-right, relit "key from left", becomes brighter on the subject\'s left', () => {
  const { points, triangles } = sphereMesh();
  // Lit from the subject's right (-azimuth) = the left of the picture, like a selfie by a window.
  const img = renderSphere(-35, 15, 0.3);
  const before = halves(img);
  assert.ok(before.imageLeft > 1.2 * before.imageRight);
  const est = estimateLighting(img, points, triangles);
  const lighting = parseLighting('key from left');
  assert.ok(lighting.ok);
  const out = relight({ image: img, points, sourcePoints: points, triangles, source: est, lighting: lighting.value });
  const after = halves(out.image);
  // The subject's left is the picture's right.
  assert.ok(after.imageRight > 1.3 * after.imageLeft, JSON.stringify({ before, after }));
  // Outside the mesh the side-to-side falloff continues (hair, ears, neck) but weakens with distance.
  const gw = out.gridWidth;
  const mid = Math.floor(out.gridHeight / 2);
  const g = (x: number) => out.gain[(mid * gw + x) * 3 + 1] ?? 1;
  const cheek = Math.round((0.8 * R) / ((2 * R) / 80));
  const centre = Math.round(gw / 2);
  const nearContrast = g(centre + cheek) / g(centre - cheek);
  const farContrast = g(gw - 1) / g(0);
  assert.ok(nearContrast > 1.3, `near ${nearContrast}`);
  assert.ok(farContrast > 1 && farContrast < nearContrast, `far ${farContrast} near ${nearContrast}`);
  assert.ok(out.stats.meanGain > 0.4 && out.stats.meanGain < 2.5);
});

test('relight: hard side light the other way is turned around as far as the gain clamp allows', () => {
  const { points, triangles } = sphereMesh();
  const img = renderSphere(-70, 10, 0.15);
  const before = halves(img);
  const est = estimateLighting(img, points, triangles);
  const lighting = parseLighting('key from left');
  assert.ok(lighting.ok);
  const out = relight({ image: img, points, sourcePoints: points, triangles, source: est, lighting: lighting.value });
  const after = halves(out.image);
  // Gains stop at 0.4 and 2.5: the sides swap (ratio right/left from ~0.25 to > 1), no more.
  assert.ok(after.imageRight > after.imageLeft, JSON.stringify({ before, after }));
  assert.ok(out.stats.maxGain > 2.5 && out.stats.minGain < 0.4);
  for (const g of out.gain) assert.ok(g >= 0.4 - 1e-6 && g <= 2.5 + 1e-6);
});

test('relight to the lighting the image already has changes it little (the ratio cancels)', () => {
  const { points, triangles } = sphereMesh();
  const img = renderSphere(60, 20, 0.3);
  const est = estimateLighting(img, points, triangles);
  const same = {
    label: 'same',
    description: 'the rendering light',
    lights: [{ azimuth: 60, elevation: 20, intensity: 1, kelvin: 6500, softness: 0 }],
    ambient: { intensity: 0.3, kelvin: 6500 },
    exposure: 1,
    background: { blur: 0, brightness: 1, saturation: 1, tone: 0 },
  };
  const out = relight({ image: img, points, sourcePoints: points, triangles, source: est, lighting: same });
  const a = halves(img);
  const b = halves(out.image);
  const ratioBefore = a.imageRight / a.imageLeft;
  const ratioAfter = b.imageRight / b.imageLeft;
  assert.ok(Math.abs(ratioAfter / ratioBefore - 1) < 0.15, `${ratioBefore} -> ${ratioAfter}`);
});
