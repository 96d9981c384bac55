import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matteEdges } from '../../src/pipeline/compose/edge-matte.js';
import {
  besideTheHead,
  handBesideFace,
  leavesBesideHead,
  withFaceOval,
  withoutOthers,
} from '../../src/pipeline/compose/main-person.js';
import { distrustPlateaus } from '../../src/pipeline/segment/person.js';
import type { RgbImage } from '../../src/pipeline/types.js';

/**
 * A "person" (a warm disc on a blue-grey wall) whose mask also covers a patch beside it. When the patch has the
 * wall's colour the check must give it back to the background; when it has the person's colour (an ear, a hand)
 * it must stay, and the disc's own rim must survive either way.
 */
const SIZE = 512;
const WALL = [90, 105, 130] as const;
const SKIN = [205, 150, 120] as const;

function scene(patchColour: readonly [number, number, number]): { image: RgbImage; alpha: Float32Array } {
  const data = new Uint8Array(SIZE * SIZE * 3);
  const alpha = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const o = y * SIZE + x;
      const inDisc = Math.hypot(x - 256, y - 280) < 140;
      // The patch: a 6 x 60 px sliver glued to the disc's right side, inside the mask.
      const inPatch = x >= 394 && x < 400 && y >= 220 && y < 280;
      const c = inDisc ? SKIN : inPatch ? patchColour : WALL;
      // A little texture, so colours are never exactly equal.
      const n = ((x * 7 + y * 13) % 9) - 4;
      data[o * 3] = c[0] + n;
      data[o * 3 + 1] = c[1] + n;
      data[o * 3 + 2] = c[2] + n;
      alpha[o] = inDisc || inPatch ? 1 : 0;
    }
  }
  return { image: { data, width: SIZE, height: SIZE, channels: 3 }, alpha };
}

function meanOver(a: Float32Array, x0: number, x1: number, y0: number, y1: number): number {
  let s = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      s += a[y * SIZE + x] ?? 0;
      n++;
    }
  }
  return s / n;
}

describe('the rim checked against the photo (matteEdges)', () => {
  it('gives a wall-coloured patch inside the mask back to the background', () => {
    const { image, alpha } = scene(WALL);
    const out = matteEdges(image, alpha);
    assert.ok(meanOver(out, 396, 400, 226, 274) < 0.3, `patch kept at ${meanOver(out, 396, 400, 226, 274)}`);
  });

  it('keeps a patch with the person colours, and the person rim', () => {
    const { image, alpha } = scene(SKIN);
    const out = matteEdges(image, alpha);
    assert.ok(meanOver(out, 396, 400, 226, 274) > 0.95);
    // Just inside the disc's left and bottom rim.
    assert.ok(meanOver(out, 120, 126, 260, 300) > 0.95);
    assert.ok(meanOver(out, 240, 270, 412, 418) > 0.95);
  });

  it('never adds alpha', () => {
    const { image, alpha } = scene(WALL);
    const out = matteEdges(image, alpha);
    for (let i = 0; i < out.length; i++) assert.ok((out[i] ?? 0) <= (alpha[i] ?? 0) + 1e-6);
  });
});

describe("other people's share of the mask (withoutOthers)", () => {
  it('gives the columns under a neighbour face to the neighbour and keeps the member whole', () => {
    const w = 300;
    const h = 200;
    const alpha = new Float32Array(w * h).fill(1);
    const member = { x: 80, y: 40, width: 60, height: 70 };
    const neighbour = { x: 230, y: 50, width: 50, height: 60 };
    const out = withoutOthers(alpha, w, h, member, [neighbour]);
    const at = (x: number, y: number) => out[y * w + x] ?? 0;
    // Under and beside the member's face (out to one face width), and under the neighbour's.
    assert.equal(at(110, 150), 1);
    assert.equal(at(170, 150), 1);
    assert.equal(at(255, 150), 0);
    // Half-way between the faces in face widths the keep is about a half, smoothly.
    assert.ok(at(189, 150) > 0 && at(189, 150) < 1);
    assert.deepEqual(withoutOthers(alpha, w, h, member, []), alpha);
  });

  it("never cuts the member's head for a neighbour lower in the frame, and leaves what is above the neighbour", () => {
    const w = 300;
    const h = 260;
    const alpha = new Float32Array(w * h).fill(1);
    const member = { x: 110, y: 40, width: 60, height: 70 };
    // A neighbour's face low on the left, nearer than the member's face to the member's left cheek's columns.
    const neighbour = { x: 40, y: 170, width: 50, height: 60 };
    const out = withoutOthers(alpha, w, h, member, [neighbour]);
    const at = (x: number, y: number) => out[y * w + x] ?? 0;
    assert.equal(at(100, 80), 1, "the member's cheek");
    assert.equal(at(70, 60), 1, "above the neighbour's head (the member's hair or background)");
    assert.equal(at(65, 230), 0, "the neighbour's body");
  });
});

describe("the selfie model's doubt away from the head (distrustPlateaus)", () => {
  it('scales a grey plateau down, keeps a sure edge and everything around the head', () => {
    const side = 256;
    // The model: sure person in the middle columns (a soft 4-cell edge), a 0.5 plateau in the bottom-left corner.
    const coarse = new Float32Array(side * side);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const edge = Math.min(1, Math.max(0, (x - 90) / 4)) * Math.min(1, Math.max(0, (170 - x) / 4));
        coarse[y * side + x] = x < 60 && y > 180 ? 0.5 : edge;
      }
    }
    // The refined mask said person everywhere the model saw anything.
    const person = { width: side, height: side, data: Float32Array.from(coarse, (v) => (v > 0.05 ? 1 : 0)) };
    distrustPlateaus(person, { width: side, height: side, data: coarse }, { x: 110, y: 40, width: 40, height: 50 });
    const at = (x: number, y: number) => person.data[y * side + x] ?? 0;
    assert.ok(at(30, 220) < 0.2, `plateau kept at ${at(30, 220)}`);
    // The sure body's soft edge loses nothing (read on the mask grown by two cells).
    assert.ok(at(92, 220) > 0.99, `edge at ${at(92, 220)}`);
    assert.equal(at(130, 220), 1);
  });
});

/** Sets the rectangle [x0, x1) x [y0, y1) of a `w`-wide plane to 1. */
function filler(plane: Float32Array, w: number): (x0: number, x1: number, y0: number, y1: number) => void {
  return (x0, x1, y0, y1) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) plane[y * w + x] = 1;
  };
}

describe('the mask beside the head (besideTheHead)', () => {
  it('counts what lies beside the head above the shoulders, not the shoulders or the head', () => {
    const w = 400;
    const h = 400;
    const face = { x: 170, y: 100, width: 60, height: 80 };
    const alpha = new Float32Array(w * h);
    const fill = filler(alpha, w);
    // Head and hair (a little wider than the face), and shoulders spanning the frame below the chin.
    fill(150, 250, 60, 200);
    fill(0, 400, 220, 400);
    assert.equal(besideTheHead(alpha, w, h, face), 0);
    // A neighbour's face at the member's face height, at the frame's right edge.
    fill(330, 400, 90, 200);
    assert.ok(besideTheHead(alpha, w, h, face) > 0.04);
    // The same region as the member's own curls (hair) is theirs; as anything else (a sleeve, a hand, a
    // stranger's shirt) it still counts.
    const hair = new Float32Array(w * h);
    for (let y = 90; y < 200; y++) for (let x = 330; x < 400; x++) hair[y * w + x] = 1;
    assert.equal(besideTheHead(alpha, w, h, face, { hair }), 0);
    assert.ok(besideTheHead(alpha, w, h, face, { hair: new Float32Array(w * h) }) > 0.04);
  });
});

describe('a hand held by the face (handBesideFace)', () => {
  /** A 400 x 400 skin plane with a face (its box 100 x 120) and the neck below its chin. */
  function faceAndNeck() {
    const w = 400;
    const h = 400;
    const face = { x: 150, y: 120, width: 100, height: 120 };
    const skin = new Float32Array(w * h);
    const fill = filler(skin, w);
    fill(150, 250, 120, 240);
    fill(175, 225, 240, 330);
    return { w, h, face, skin, fill };
  }

  it('counts skin beside the face above the chin, not the ears, the face or the neck', () => {
    const { w, h, face, skin, fill } = faceAndNeck();
    // Two ears just outside the face's box.
    fill(142, 150, 160, 200);
    fill(250, 258, 160, 200);
    assert.ok(handBesideFace(skin, w, h, face) < 0.1, `ears and neck ${handBesideFace(skin, w, h, face)}`);
    // A hand at the temple: fingers beside the upper face.
    fill(262, 320, 110, 200);
    assert.ok(handBesideFace(skin, w, h, face) > 0.3);
  });

  it('does not take a skin-coloured hat crown above the face for a hand; a hand in the hair with its arm it does', () => {
    const { w, h, face, skin, fill } = faceAndNeck();
    // A straw hat's crown, wide and wholly above the face, apart from the skin below.
    fill(110, 290, 40, 110);
    assert.ok(handBesideFace(skin, w, h, face) < 0.1, `hat ${handBesideFace(skin, w, h, face)}`);
    // The same piece joined to an arm that comes down beside the head is a hand in the hair.
    fill(270, 290, 40, 300);
    assert.ok(handBesideFace(skin, w, h, face) > 0.3, `hand ${handBesideFace(skin, w, h, face)}`);
  });

  it('does not take the far cheek, ear and nape of a face in profile for a hand', () => {
    const w = 400;
    const h = 400;
    // The detector's box covers the front of a face turned 60 degrees (nose toward the right); the cheek, the ear
    // and the nape lie behind it, to its left, above the chin.
    const face = { x: 200, y: 120, width: 80, height: 120 };
    const skin = new Float32Array(w * h);
    const fill = filler(skin, w);
    fill(200, 280, 120, 240);
    fill(140, 200, 150, 240);
    assert.ok(handBesideFace(skin, w, h, face) > 0.3, 'read as a hand without the turn');
    assert.ok(handBesideFace(skin, w, h, face, 60) < 0.1, `profile ${handBesideFace(skin, w, h, face, 60)}`);
    // A hand in front of the face (on the nose's side) still counts.
    fill(300, 350, 110, 200);
    assert.ok(handBesideFace(skin, w, h, face, 60) > 0.3);
  });
});

describe('the face the mesh found (withFaceOval)', () => {
  it("a cheek the selfie model lost against a dark background is the member's; nothing outside the oval changes", () => {
    const w = 100;
    const h = 100;
    const oval = ellipseOval(w, h);
    const person = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 55; x < 90; x++) person[y * w + x] = 0.8;
    // A black wall; the cheek the model lost is in deep shade, the rest of the face lit.
    const image = paint(w, h, (x) => (x < 30 ? [25, 25, 28] : x < 55 ? [90, 60, 50] : [190, 140, 120]));
    const out = withFaceOval(person, oval, image);
    assert.equal(out[50 * w + 40], 1, 'the lost cheek is the member');
    assert.equal(person[50 * w + 40], 0, 'the input is left as it was');
    assert.equal(out[50 * w + 20], 0, 'beside the oval stays background');
    assert.ok(Math.abs(out[50 * w + 80]! - 0.8) < 1e-6, 'the mask beyond the oval is untouched');
  });

  it('where the oval runs beyond the jaw onto a pale wall, the wall stays background', () => {
    const w = 100;
    const h = 100;
    const oval = ellipseOval(w, h);
    // The face begins at x = 38, the selfie model's edge at 45; left of 38 is a white window.
    const person = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 45; x < 90; x++) person[y * w + x] = 1;
    const image = paint(w, h, (x) => (x < 38 ? [225, 228, 232] : [200, 150, 130]));
    const out = withFaceOval(person, oval, image);
    assert.equal(out[50 * w + 33], 0, 'the window inside the oval stays background');
    assert.equal(out[50 * w + 41], 1, 'the cheek the model missed is the member');
  });
});

/** The face oval as faceOvalMask gives it: an ellipse round the middle of a w x h frame, 40 x 56 px. */
function ellipseOval(w: number, h: number): Uint8Array {
  const oval = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) oval[y * w + x] = ((x - w / 2) / 20) ** 2 + ((y - h / 2) / 28) ** 2 < 1 ? 1 : 0;
  return oval;
}

/** A w x h photo whose colour depends on x alone. */
function paint(w: number, h: number, colourAt: (x: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(colourAt(x), (y * w + x) * 3);
  return { data, width: w, height: h, channels: 3 };
}

describe('leaves taken in with the hair (leavesBesideHead)', () => {
  // A 100 px head: the face's box 35..65 x 35..75, hair round it above the chin, a shirt below.
  const size = 100;
  const face = { x: 35, y: 35, width: 30, height: 40 };
  function scene(hairColour: (x: number, y: number) => readonly [number, number, number], shirt = [40, 140, 60]) {
    const data = new Uint8Array(size * size * 3);
    const alpha = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const o = y * size + x;
        const head = Math.hypot((x - 50) / 28, (y - 50) / 34) < 1;
        const body = y >= 80 && x >= 15 && x < 85;
        alpha[o] = head || body ? 1 : 0;
        const inFace = x >= face.x && x < face.x + face.width && y >= face.y && y < face.y + face.height;
        data.set(body ? shirt : inFace ? [200, 150, 120] : head ? hairColour(x, y) : [230, 230, 230], o * 3);
      }
    }
    return { image: { data, width: size, height: size, channels: 3 } as RgbImage, alpha };
  }

  it('counts green pieces in the hair round the head', () => {
    const { image, alpha } = scene((x, y) => ((x + y) % 4 === 0 ? [60, 150, 50] : [50, 35, 25]));
    const share = leavesBesideHead(image, alpha, face);
    assert.ok(share > 0.15 && share < 0.35, `leaves ${share.toFixed(3)}`);
  });

  it('counts nothing in brown, auburn or blonde hair, nor a green shirt below the chin', () => {
    for (const hair of [
      [50, 35, 25],
      [150, 70, 40],
      [220, 190, 120],
    ] as const) {
      const { image, alpha } = scene(() => hair);
      assert.equal(leavesBesideHead(image, alpha, face), 0);
    }
  });
});
