import assert from 'node:assert/strict';
import { test } from 'node:test';
import Delaunator from 'delaunator';

import { estimateLighting } from '../../src/pipeline/lighting/estimate.js';
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
