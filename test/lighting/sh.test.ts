import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLighting } from '../../src/core/lighting.js';
import {
  addDirectionalLight,
  dominantLight,
  evalSh,
  fitSh,
  kelvinToRgb,
  lightDirection,
  lightingAmbientColour,
  lightingToSh,
  rigIrradiance,
  SH_COUNT,
} from '../../src/pipeline/lighting/sh.js';

/** Normals and pixel values of a rendered sphere seen from the camera (front hemisphere only, like a face). */
function renderSphere(
  size: number,
  shade: (x: number, y: number, z: number) => [number, number, number],
): { normals: Float32Array; values: Float32Array } {
  const normals: number[] = [];
  const values: number[] = [];
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x = ((px + 0.5) / size) * 2 - 1;
      const y = 1 - ((py + 0.5) / size) * 2;
      const r2 = x * x + y * y;
      if (r2 >= 0.98) continue;
      const z = Math.sqrt(1 - r2);
      normals.push(x, y, z);
      values.push(...shade(x, y, z));
    }
  }
  return { normals: Float32Array.from(normals), values: Float32Array.from(values) };
}

test('SH fit recovers a known SH light from a sphere lit by it (front hemisphere only)', () => {
  const truth = new Float64Array(3 * SH_COUNT);
  addDirectionalLight(truth, { azimuth: 60, elevation: 25, intensity: 1, kelvin: 3500, softness: 0.3 });
  for (let c = 0; c < 3; c++) truth[c * SH_COUNT] = (truth[c * SH_COUNT] ?? 0) + 0.4;
  const albedo = [0.8, 0.6, 0.5];
  const { normals, values } = renderSphere(96, (x, y, z) => [
    (albedo[0] ?? 0) * evalSh(truth, 0, x, y, z),
    (albedo[1] ?? 0) * evalSh(truth, 1, x, y, z),
    (albedo[2] ?? 0) * evalSh(truth, 2, x, y, z),
  ]);
  const fit = fitSh(normals, values, undefined, 1e-6);
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < SH_COUNT; k++) {
      const want = (albedo[c] ?? 0) * (truth[c * SH_COUNT + k] ?? 0);
      assert.ok(
        Math.abs((fit[c * SH_COUNT + k] ?? 0) - want) < 0.01,
        `c${c} k${k}: ${fit[c * SH_COUNT + k]} vs ${want}`,
      );
    }
  }
  const d = dominantLight(fit);
  assert.ok(Math.abs(d.azimuth - 60) < 3, `azimuth ${d.azimuth}`);
  assert.ok(Math.abs(d.elevation - 25) < 3, `elevation ${d.elevation}`);
});

test('SH fit of a real Lambertian sphere (clamped cosine, not SH) finds the light direction and shades within 5%', () => {
  const [lx, ly, lz] = lightDirection(-40, 30);
  const shade = (x: number, y: number, z: number): number => 0.25 + Math.max(0, x * lx + y * ly + z * lz);
  const { normals, values } = renderSphere(96, (x, y, z) => {
    const v = shade(x, y, z);
    return [v, v, v];
  });
  const fit = fitSh(normals, values);
  const d = dominantLight(fit);
  assert.ok(Math.abs(d.azimuth + 40) < 4, `azimuth ${d.azimuth}`);
  assert.ok(Math.abs(d.elevation - 30) < 4, `elevation ${d.elevation}`);
  let err = 0;
  let total = 0;
  for (let i = 0; i < normals.length / 3; i++) {
    const [x, y, z] = [normals[3 * i] ?? 0, normals[3 * i + 1] ?? 0, normals[3 * i + 2] ?? 0];
    err += Math.abs(evalSh(fit, 1, x, y, z) - shade(x, y, z));
    total += shade(x, y, z);
  }
  assert.ok(err / total < 0.05, `relative error ${err / total}`);
});

test('a preset renders brighter on the side its key comes from, in the camera frame', () => {
  const left = parseLighting('key from left');
  const right = parseLighting('key from right');
  assert.ok(left.ok && right.ok);
  const l = lightingToSh(left.value);
  const r = lightingToSh(right.value);
  // The subject's left cheek faces +X in the camera frame.
  const cheekLeft: [number, number, number] = [0.7, 0, 0.7];
  const cheekRight: [number, number, number] = [-0.7, 0, 0.7];
  assert.ok(evalSh(l, 1, ...cheekLeft) > 1.5 * evalSh(l, 1, ...cheekRight));
  assert.ok(evalSh(r, 1, ...cheekRight) > 1.5 * evalSh(r, 1, ...cheekLeft));
});

test('colour temperature: warm is red-heavy, cool is blue-heavy, 6500 K is white, all unit luminance', () => {
  const warm = kelvinToRgb(3000);
  const cool = kelvinToRgb(9000);
  const white = kelvinToRgb(6500);
  assert.ok(warm[0] > warm[2] * 1.5);
  assert.ok(cool[2] > cool[0] * 1.1);
  for (const v of white) assert.ok(Math.abs(v - 1) < 1e-6);
  for (const c of [warm, cool, white]) assert.ok(Math.abs(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2] - 1) < 1e-9);
});

test("a rig's direct irradiance keeps a hard key's shadow edge, which the spherical harmonics smear", () => {
  const parsed = parseLighting('split');
  assert.ok(parsed.ok);
  const split = parsed.value;
  const direct = rigIrradiance(split);
  const sh = lightingToSh(split);
  // The key is on the subject's left (+x in the camera frame); the face's middle faces the camera (+z).
  const [kx, ky, kz] = lightDirection(split.lights[0]?.azimuth ?? 0, split.lights[0]?.elevation ?? 0);
  const lit = direct(1, kx, ky, kz);
  const away = direct(1, -kx, -ky, -kz);
  // Facing away from the key only the ambient is left, exactly.
  const ambient = split.ambient.intensity * (lightingAmbientColour(split.ambient)[1] ?? 1);
  assert.ok(Math.abs(away - ambient) < 1e-9, `away ${away} against the ambient ${ambient}`);
  assert.ok(away < 0.2 * lit, `away ${away.toFixed(3)} against lit ${lit.toFixed(3)}`);
  // On the terminator (a face's middle, facing the camera, under a key from the side) the harmonics spill light past
  // the edge: 0.23 against the direct 0.15, a fade from cheek to cheek instead of a shadow down the nose.
  const d = direct(1, 0, 0, 1);
  const h = evalSh(sh, 1, 0, 0, 1);
  assert.ok(d < 0.75 * h, `on the terminator: direct ${d.toFixed(3)}, harmonics ${h.toFixed(3)}`);
  // No step at the knee: the rounded clamp is continuous through the terminator.
  let last = direct(1, -0.3, 0, Math.sqrt(1 - 0.09));
  for (let x = -0.29; x <= 0.3; x += 0.01) {
    const v = direct(1, x, 0, Math.sqrt(1 - x * x));
    assert.ok(Math.abs(v - last) < 0.05, `a step of ${(v - last).toFixed(3)} at x = ${x.toFixed(2)}`);
    last = v;
  }
});
