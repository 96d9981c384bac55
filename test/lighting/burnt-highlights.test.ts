import assert from 'node:assert/strict';
import { it } from 'node:test';
import { burntHighlights, composePortrait } from '../../src/pipeline/compose/compose.js';
import { paleSkin } from '../../src/pipeline/compose/pale-skin.js';
import type { HeadWarp } from '../../src/pipeline/geometry/head-warp.js';
import { REFERENCE_FACE } from '../../src/pipeline/geometry/reference.js';
import { luminance, SRGB_TO_LINEAR } from '../../src/pipeline/lighting/colour.js';
import type { PersonLight } from '../../src/pipeline/lighting/person-relight.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/** Standard deviation of the green channel over rows y0..y1, columns x0..x1. */
function spread(image: RgbImage, x0: number, x1: number, y0: number, y1: number): number {
  const values: number[] = [];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) values.push(image.data[(y * image.width + x) * 3 + 1]!);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

/** A seeded generator (Park and Miller's), for speckle that is the same on every run. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** The person layer of a square photo no turn moved, on a grid of `cell` pixels. */
function unmoved(image: RgbImage, cell: number): HeadWarp {
  const gw = image.width / cell;
  return {
    image,
    alpha: new Float32Array(image.width * image.height).fill(1),
    inverse: new Float32Array(gw * gw * 2),
    grid: { width: gw, height: gw, cell },
    maxShift: 0,
  };
}

it('darkens a burnt forehead as one patch, not into pale specks, and keeps white stripes off the skin crisp', () => {
  // A 300 px photo's burnt forehead: near-white speckled with white (min channel 215..255, seeded). Read pixel by
  // pixel under split's shadow, the near-white darkened and the white stayed: pale specks over a brown forehead.
  const size = 200;
  const cell = 5;
  const gw = size / cell;
  const data = new Uint8Array(size * size * 3);
  const random = seeded(7);
  const skin = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = y * size + x;
      if (y < 150) {
        // Skin: the burnt patch in the middle, ordinary skin round it.
        const burnt = x >= 50 && x < 150 && y >= 30 && y < 130;
        const v = burnt ? 215 + Math.floor(random() * 41) : 170;
        data.set([Math.min(255, v + 5), v, Math.max(0, v - 10)], o * 3);
        skin[o] = 1;
      } else {
        // A white-striped hat off the skin: white and dark rows of 2 px.
        const v = Math.floor(y / 2) % 2 === 0 ? 255 : 40;
        data.set([v, v, v], o * 3);
      }
    }
  }
  const image: RgbImage = { data, width: size, height: size, channels: 3 };
  const person = unmoved(image, cell);
  const light: PersonLight = {
    gain: new Float32Array(gw * gw * 3).fill(0.3),
    width: gw,
    height: gw,
    cell,
    meanGain: 0.3,
    flattenShadow: 0,
  };
  const background = { image, factor: 1 };
  const burnt = burntHighlights(person, skin);
  assert.ok(burnt, 'burnt skin is found');
  const alone = composePortrait(person, light, background, { knee: 0.6 });
  const together = composePortrait(person, light, background, { knee: 0.6, burnt });
  // The patch's speckle, well inside it: in the photo, read alone and read as one patch.
  const photo = spread(image, 60, 140, 40, 120);
  const specks = spread(alone, 60, 140, 40, 120);
  const patch = spread(together, 60, 140, 40, 120);
  assert.ok(specks > 1.5 * photo, `read alone the specks stand out (${specks.toFixed(1)} against ${photo.toFixed(1)})`);
  assert.ok(patch < photo, `read as one patch the speckle is no stronger than the photo's (${patch.toFixed(1)})`);
  // The patch keeps some of its brightness (not a flat grey disc): brighter than the skin round it.
  const at = (img: RgbImage, x: number, y: number) => img.data[(y * size + x) * 3 + 1]!;
  assert.ok(at(together, 100, 80) > at(together, 20, 80) + 20, 'the burnt patch stays brighter than the skin');
  // Off the skin every pixel is read alone: the hat's stripes come out the same either way.
  for (let y = 160; y < 200; y++) {
    for (let x = 0; x < size; x++) assert.equal(at(together, x, y), at(alone, x, y), `stripe pixel (${x}, ${y})`);
  }
  // Nothing burnt on the skin: no map.
  assert.equal(burntHighlights(person, new Float32Array(size * size)), undefined);
});

it("flattens the photo's highlights in a shadow only where the light says (the head), keeping a wall's texture", () => {
  // A textured surface (bright and dark specks) under a deep shadow, flattening asked for on the left half only:
  // there its bright specks go toward their surround, on the right (a wall beside the head) they stay as they were.
  const size = 160;
  const cell = 8;
  const gw = size / cell;
  const data = new Uint8Array(size * size * 3);
  const random = seeded(11);
  for (let o = 0; o < size * size; o++) {
    const v = random() < 0.3 ? 230 : 120;
    data.set([v, v, v], o * 3);
  }
  const image: RgbImage = { data, width: size, height: size, channels: 3 };
  const person = unmoved(image, cell);
  const where = new Float32Array(gw * gw);
  for (let gy = 0; gy < gw; gy++) for (let gx = 0; gx < gw / 2; gx++) where[gy * gw + gx] = 1;
  const light = (flattenWhere?: Float32Array): PersonLight => ({
    gain: new Float32Array(gw * gw * 3).fill(0.2),
    width: gw,
    height: gw,
    cell,
    meanGain: 0.2,
    flattenShadow: 0.8,
    ...(flattenWhere ? { flattenWhere } : {}),
  });
  const background = { image, factor: 1 };
  const none: PersonLight = { ...light(), flattenShadow: 0 };
  const plain = composePortrait(person, none, background, { knee: 0.6 });
  const everywhere = composePortrait(person, light(), background, { knee: 0.6 });
  const head = composePortrait(person, light(where), background, { knee: 0.6 });
  const left = (img: RgbImage) => spread(img, 10, 60, 10, 150);
  const right = (img: RgbImage) => spread(img, 100, 150, 10, 150);
  // Flattening works where it applies: the left's speckle well under the unflattened shadow's.
  assert.ok(left(head) < 0.9 * left(plain), `left: ${left(head).toFixed(1)} against ${left(plain).toFixed(1)}`);
  assert.ok(right(everywhere) < 0.9 * right(plain), 'flattened everywhere, the right loses its speckle too');
  // Where the light says no, the texture is the unflattened shadow's.
  assert.ok(
    Math.abs(right(head) - right(plain)) < 0.05 * right(plain),
    `right: ${right(head).toFixed(1)} against ${right(plain).toFixed(1)}`,
  );
});

it('gives skin the camera washed pale its colour back where the light darkens it, and leaves the rest alone', () => {
  // tabn-14's lit cheek (231, 218, 201) beside its forehead (203, 161, 141): darkened as brightness only, the pale
  // cheek came out a colourless mid grey, an ashen half face. A face (the reference mesh, about 280 px tall) over
  // skin whose left half has the face's tone and right half is washed; off the skin below, a shirt as pale.
  const size = 400;
  const cell = 4;
  const gw = size / cell;
  const points = new Float32Array(REFERENCE_FACE.length);
  for (let i = 0; i < REFERENCE_FACE.length; i += 3) {
    points[i] = 200 + (REFERENCE_FACE[i] ?? 0) * 1.4;
    points[i + 1] = 170 + (REFERENCE_FACE[i + 1] ?? 0) * 1.4;
    points[i + 2] = (REFERENCE_FACE[i + 2] ?? 0) * 1.4;
  }
  const data = new Uint8Array(size * size * 3);
  const skin = new Float32Array(size * size);
  const tone: [number, number, number] = [203, 161, 141];
  const washed: [number, number, number] = [231, 218, 201];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = y * size + x;
      data.set(x < size / 2 && y < 340 ? tone : washed, o * 3);
      skin[o] = y < 340 ? 1 : 0;
    }
  }
  const image: RgbImage = { data, width: size, height: size, channels: 3 };
  const person = unmoved(image, cell);
  const light = (gain: number): PersonLight => ({
    gain: new Float32Array(gw * gw * 3).fill(gain),
    width: gw,
    height: gw,
    cell,
    meanGain: gain,
    flattenShadow: 0,
  });
  const background = { image, factor: 1 };
  const albedo = tone.map((v) => SRGB_TO_LINEAR[v]!) as [number, number, number];
  const pale = paleSkin(person, skin, points, albedo);
  assert.ok(pale, 'a coloured face gives a tone to return to');
  const linear = (img: RgbImage, x: number, y: number) =>
    [0, 1, 2].map((c) => SRGB_TO_LINEAR[img.data[(y * size + x) * 3 + c]!]!) as [number, number, number];
  // How coloured a pixel is: red minus blue per unit of luminance (0.83 for the tone, 0.30 for the washed cheek).
  const colour = ([r, g, b]: [number, number, number]) => (r - b) / luminance(r, g, b);
  const darker = light(0.5);
  const grey = composePortrait(person, darker, background, { knee: 0.6 });
  const given = composePortrait(person, darker, background, { knee: 0.6, pale });
  // The washed cheek: whichever cheekbone of the mesh lies on the washed half.
  const [cx, cy] = [50, 280]
    .map((i) => [Math.round(points[i * 3]!), Math.round(points[i * 3 + 1]!)])
    .find(([x]) => x! > 220)!;
  const cheek = (img: RgbImage) => linear(img, cx!, cy!);
  assert.ok(
    colour(cheek(grey)) < 0.4,
    `brightness only, the cheek stays colourless (${colour(cheek(grey)).toFixed(2)})`,
  );
  assert.ok(
    colour(cheek(given)) > 0.7 * colour(albedo),
    `the darkened cheek takes back the skin's colour (${colour(cheek(given)).toFixed(2)} of ${colour(albedo).toFixed(2)})`,
  );
  const lum = (p: [number, number, number]) => luminance(...p);
  assert.ok(Math.abs(lum(cheek(given)) / lum(cheek(grey)) - 1) < 0.03, 'as bright as the brightness-only shadow');
  const same = (a: RgbImage, b: RgbImage, x: number, y: number, what: string) =>
    assert.deepEqual(
      Array.from(a.data.subarray((y * size + x) * 3, (y * size + x) * 3 + 3)),
      Array.from(b.data.subarray((y * size + x) * 3, (y * size + x) * 3 + 3)),
      what,
    );
  // As without it: the face's own tone, the white of the washed side's eye, a hand of washed skin beside the face,
  // the shirt off the skin, and the cheek under a light that brightens.
  // The subject's left eye (the washed half): between its corners.
  const eyeX = Math.round((points[263 * 3]! + points[362 * 3]!) / 2);
  const eyeY = Math.round((points[263 * 3 + 1]! + points[362 * 3 + 1]!) / 2);
  assert.ok(eyeX > 210, 'the eye lies on the washed half');
  same(grey, given, 80, 120, "the face's tone");
  same(grey, given, eyeX, eyeY, 'the white of the eye');
  same(grey, given, 390, 250, 'a hand beside the face');
  same(grey, given, 300, 380, 'the shirt');
  const brighter = light(1.2);
  same(
    composePortrait(person, brighter, background, { knee: 0.6 }),
    composePortrait(person, brighter, background, { knee: 0.6, pale }),
    cx!,
    cy!,
    'the cheek under a brighter light',
  );
});
