import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeError } from '../../src/core/messages.js';
import { type PortraitError, toErrorPayload } from '../../src/errors.js';
import { type CompositorEngine, createCompositorEngine } from '../../src/pipeline/engines/compositor.js';
import type { EngineRequest, PreparedSelfie } from '../../src/pipeline/engines/engine.js';
import { chooseMainFace, detectFaces } from '../../src/pipeline/face/detect.js';
import { estimateMesh } from '../../src/pipeline/face/mesh.js';
import { estimateHeadPose } from '../../src/pipeline/geometry/pose.js';
import { BOUNDARY, TRIANGLES } from '../../src/pipeline/geometry/triangles.js';
import { faceSideLuminance } from '../../src/pipeline/lighting/measure.js';
import { disposeSessions } from '../../src/pipeline/models/index.js';
import { segmentPerson } from '../../src/pipeline/segment/index.js';
import type { RgbImage } from '../../src/pipeline/types.js';
import { hasPhoto } from '../helpers/env.js';
import { loadSelfie } from './photos.js';

/**
 * The faults a blind review of compositor portraits found, where a number can catch them: a ghost of the old head
 * where the head was, a brightness step where the face's relight used to stop, styles ignored, variations that are
 * near-copies, selfies of two people used as one. What a person sees is judged with `npm run review`; these only
 * keep the measurable faults from coming back.
 */

let engine: CompositorEngine;
const selfies = new Map<string, PreparedSelfie>();

async function selfie(name: string, index = 1): Promise<PreparedSelfie> {
  let s = selfies.get(name);
  if (!s) {
    const l = await loadSelfie(name);
    s = { image: l.image, faces: l.faces, mainFace: l.face, index: 1 };
    selfies.set(name, s);
  }
  return { ...s, index };
}

/** The selfie with its background painted a plain grey wall, so the member is cut out of it. */
async function onPlainWall(s: PreparedSelfie): Promise<PreparedSelfie> {
  const { person } = await segmentPerson(s.image);
  const data = new Uint8Array(s.image.data);
  for (let i = 0; i < person.length; i++) {
    const a = person[i] ?? 0;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(a * (data[i * 3 + c] ?? 0) + (1 - a) * (150 + c * 4));
  }
  return { ...s, image: { ...s.image, data } };
}

function request(over: Partial<EngineRequest>): EngineRequest {
  return {
    selfies: [],
    pose: 'front',
    lighting: 'studio',
    style: '',
    seed: 5,
    variations: 1,
    outputSize: 512,
    outputFormat: 'png',
    debug: false,
    ...over,
  };
}

before(async () => {
  engine = (await createCompositorEngine({ PORTRAIT_IDENTITY_MODEL: 'identity' })) as CompositorEngine;
});
after(async () => {
  await engine.dispose();
  await disposeSessions();
});

describe('compositor portraits: the faults a person would see', () => {
  it('leaves no skin of the old head where the head was: what it uncovers is background', async () => {
    const { result, prepared } = await engine.run(
      // A turn (a tilt turns the whole frame and moves the head against nothing), of a member cut out: before a
      // plain wall, for a studio backdrop (before the photo's flags and curtains, or with no new ground behind the
      // member, nothing is cut: the whole frame turns as one).
      request({
        selfies: [await onPlainWall(await selfie('obama.jpg'))],
        pose: 'three-quarter left',
        style: 'studio grey',
      }),
      () => {},
    );
    const out = result.images[0];
    assert.ok(out);
    const { width, height } = out;
    assert.equal(prepared.cutFault, undefined, 'the member was not cut out');
    const before = prepared.segmentation;
    const after = await segmentPerson(out);
    // Pixels that were skin in the photo and that the turned person no longer covers.
    let vacated = 0;
    let skinLeft = 0;
    for (let i = 0; i < width * height; i++) {
      if ((before.skin[i] ?? 0) < 0.5 || (prepared.person.alpha[i] ?? 0) > 0.02) continue;
      vacated++;
      skinLeft += after.skin[i] ?? 0;
    }
    assert.ok(vacated > 200, `the head moved off ${vacated} skin pixels`);
    assert.ok(skinLeft / vacated < 0.15, `skin left behind on ${((100 * skinLeft) / vacated).toFixed(1)}%`);
  });

  it('renders a tilt as a turned frame: the head in the output has the roll asked for, the body turned with it', async () => {
    const { result, prepared } = await engine.run(
      request({ selfies: [await selfie('obama.jpg')], pose: 'tilt left' }),
      () => {},
    );
    const out = result.images[0];
    assert.ok(out);
    assert.ok(Math.abs(prepared.frameRoll) > 8, `frame turned ${prepared.frameRoll}`);
    // Measured on the output by the face models, as a member's eye would.
    const faces = await detectFaces(out);
    const face = faces[chooseMainFace(faces, out.width, out.height)];
    assert.ok(face);
    const measured = estimateHeadPose(await estimateMesh(out, face)).roll;
    assert.ok(
      Math.abs(measured - prepared.rendered.roll) < 4,
      `roll measured ${measured.toFixed(1)}, rendered ${prepared.rendered.roll.toFixed(1)}`,
    );
  });

  it('lights across the face edge without a step: the gain has no kink at the face outline', async () => {
    for (const lighting of ['split', 'key from right, warm', 'neon']) {
      const { prepared } = await engine.run(
        request({ selfies: [await selfie('biden.jpg')], pose: 'yaw=10', lighting }),
        () => {},
      );
      const { gain, width: gw, height: gh, cell } = prepared.light;
      const pts = prepared.framedPoints;
      const worst = outlineKink(gain, gw, gh, cell, pts);
      assert.ok(
        worst < 0.15,
        `${lighting}: the gain kinks by ${(100 * (Math.exp(worst) - 1)).toFixed(0)}% at the outline`,
      );
      // Control: the same gain with a 35% step where the face outline is (what a face-only relight did) fails.
      const stepped = gain.slice();
      const face = prepared.model.face;
      for (let o = 0; o < gw * gh; o++) {
        if ((face[o] ?? 0) < 0.5) continue;
        for (let c = 0; c < 3; c++) stepped[o * 3 + c] = (stepped[o * 3 + c] ?? 1) * 1.35;
      }
      assert.ok(outlineKink(stepped, gw, gh, cell, pts) > 0.15, 'the measure sees a step');
    }
  });

  it('lights the side the light comes from: "key from left" and "key from right" move the bright side', async () => {
    // The darker skin tone's photo is not committed: it runs where PORTRAIT_TEST_FACES has it.
    for (const name of ['obama.jpg', 'pexels-dinielle-de-veyra-4195444.jpg'].filter(hasPhoto)) {
      const ratios: number[] = [];
      let photo = 1;
      for (const lighting of ['key from left', 'key from right']) {
        const { result, prepared } = await engine.run(
          request({ selfies: [await selfie(name)], pose: 'front', lighting }),
          () => {},
        );
        const out = result.images[0];
        assert.ok(out);
        // Subject's left over subject's right (the picture's right over its left), before and after.
        photo = faceSideLuminance(prepared.framed, prepared.framedPoints, TRIANGLES).ratio;
        ratios.push(faceSideLuminance(out, prepared.renderedPoints, TRIANGLES).ratio);
      }
      const [left, right] = ratios as [number, number];
      // The photo's own light is only partly known (fitted on the face), so the measure is the change it makes.
      assert.ok(left > photo * 1.3, `${name}: key from left, ${photo.toFixed(2)} -> ${left.toFixed(2)}`);
      assert.ok(right < photo / 1.4, `${name}: key from right, ${photo.toFixed(2)} -> ${right.toFixed(2)}`);
      assert.ok(left / right > 2, `${name}: left ${left.toFixed(2)} vs right ${right.toFixed(2)}`);
    }
  });

  it('renders split as a split: the shadow half dark, the lit half as bright as the photo', async () => {
    // The shaped shadow's split set its exposure by the face's mean gain: the lit half hit the gain ceiling, the
    // shadow half was lifted to a mid grey, and blind raters posted none of its portraits ("the face stayed evenly
    // lit"). Deepened the same way, the whole picture dimmed.
    for (const name of ['obama.jpg', 'obama2.jpg']) {
      const { result, prepared } = await engine.run(
        request({ selfies: [await selfie(name)], lighting: 'split' }),
        () => {},
      );
      const out = result.images[0];
      assert.ok(out);
      const before = faceSideLuminance(prepared.framed, prepared.framedPoints, TRIANGLES);
      const after = faceSideLuminance(out, prepared.renderedPoints, TRIANGLES);
      // The key is on the subject's left. Their right goes to under 0.3 of the photo's (the shaped shadow's: 0.36 to
      // 0.43), while their left keeps at least 0.7 of its light (0.83 to 1.09; dimming the whole picture failed it).
      assert.ok(
        after.subjectRight < 0.3 * before.subjectRight,
        `${name}: the shadow half went from ${before.subjectRight.toFixed(3)} to ${after.subjectRight.toFixed(3)}`,
      );
      assert.ok(
        after.subjectLeft > 0.7 * before.subjectLeft,
        `${name}: the lit half went from ${before.subjectLeft.toFixed(3)} to ${after.subjectLeft.toFixed(3)}`,
      );
    }
  });

  it('lights the wall a turn drags along as the wall, not as the head: no ring round the head', async () => {
    // obama.jpg is not cut out: the whole frame turns, and the wall beside the head follows the head's turn. Its
    // light turned with the head: under split's hard edge a wall facing the camera sits on the shadow edge, and the
    // turn tipped it into shadow, a dark ring round the head (0.23 against 0.48 farther off, on a Pexels photo).
    const { prepared } = await engine.run(
      request({ selfies: [await selfie('obama.jpg')], pose: 'yaw=12', lighting: 'split' }),
      () => {},
    );
    const { gain } = prepared.light;
    const { follow, headLight } = prepared.model;
    assert.ok(headLight, 'the model says where it is lit as the head');
    const luminance = (o: number) => 0.2126 * gain[o * 3]! + 0.7152 * gain[o * 3 + 1]! + 0.0722 * gain[o * 3 + 2]!;
    const near: number[] = [];
    const far: number[] = [];
    for (let o = 0; o < follow.length; o++) {
      if ((headLight[o] ?? 1) > 0.02) continue;
      if ((follow[o] ?? 0) > 0.9) near.push(luminance(o));
      else if ((follow[o] ?? 0) < 0.02) far.push(luminance(o));
    }
    const median = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;
    assert.ok(near.length > 100 && far.length > 100, `${near.length} cells beside the head, ${far.length} far off`);
    const ratio = median(near) / median(far);
    assert.ok(Math.abs(ratio - 1) < 0.1, `the wall beside the head takes ${ratio.toFixed(2)} of the light farther off`);
  });

  it('renders neon as light that shows: each cheek in its own gel', async () => {
    // At the default contrast neon's gels showed as a faint pink (a blind panel: "the light barely shows"); this
    // fails on that rendering.
    for (const name of ['obama.jpg', 'obama2.jpg']) {
      const { result, prepared } = await engine.run(
        request({ selfies: [await selfie(name)], lighting: 'neon' }),
        () => {},
      );
      const out = result.images[0];
      assert.ok(out);
      // The magenta gel lights the subject's left, the blue one their right.
      const [lr, lg, lb] = cheekColour(out, prepared.renderedPoints, 454);
      const [rr, rg, rb] = cheekColour(out, prepared.renderedPoints, 234);
      assert.ok(
        lr - lg > 0.35 * lr && lb > lg + 10,
        `${name}: neon's magenta cheek is ${[lr, lg, lb].map(Math.round)}`,
      );
      assert.ok(rb - rr - (lb - lr) > 70, `${name}: neon's blue cheek is no cooler than the magenta one`);
      // Blue, not cyan: a cyan gel's green read as a sickly yellow-green cheek (blind raters). The cyan gave blue
      // over green of 2 and -13 here.
      assert.ok(rb - rg > 15, `${name}: neon's cool cheek is ${[rr, rg, rb].map(Math.round)}, not blue`);
    }
  });

  it('renders split as light: the far side of the face in shadow, the shadow warm on skin', async () => {
    // The rig's spherical-harmonic light, gently applied, faded from cheek to cheek and barely showed (blind raters
    // posted 2% of split portraits); taken deeper in grey it read as a smudge. Measured on the old rendering: the
    // sides' ratio grew 2.1 to 2.5 times and the shadow cheek kept the photo's colour (1.1 times its red share).
    for (const name of ['obama.jpg', 'obama2.jpg', 'astronaut.png']) {
      const { result, prepared } = await engine.run(
        request({ selfies: [await selfie(name)], lighting: 'split' }),
        () => {},
      );
      const out = result.images[0];
      assert.ok(out);
      const photo = faceSideLuminance(prepared.framed, prepared.framedPoints, TRIANGLES).ratio;
      const lit = faceSideLuminance(out, prepared.renderedPoints, TRIANGLES).ratio;
      assert.ok(
        lit / photo > 2.9,
        `${name}: the lit side over the shadow side went ${photo.toFixed(2)} -> ${lit.toFixed(2)}`,
      );
      // Warm: the shadow cheek's red share (R - B over R) well above the photo's own cheek's, not grey.
      const warmth = ([r, , b]: [number, number, number]) => (r - b) / Math.max(1, r);
      const before = warmth(cheekColour(prepared.framed, prepared.framedPoints, 234));
      const after = warmth(cheekColour(out, prepared.renderedPoints, 234));
      assert.ok(after > 1.3 * before, `${name}: shadow cheek's red share ${before.toFixed(2)} -> ${after.toFixed(2)}`);
    }
  });

  it('keeps split a shaped shadow on a black and white selfie: its colour goes, its light and shade stay', async () => {
    const s = await selfie('obama.jpg');
    const data = new Uint8Array(s.image.data.length);
    for (let i = 0; i < data.length; i += 3) {
      const y = Math.round(
        0.2126 * (s.image.data[i] ?? 0) + 0.7152 * (s.image.data[i + 1] ?? 0) + 0.0722 * (s.image.data[i + 2] ?? 0),
      );
      data[i] = y;
      data[i + 1] = y;
      data[i + 2] = y;
    }
    const grey = { ...s, image: { ...s.image, data } };
    const { result, prepared } = await engine.run(request({ selfies: [grey], lighting: 'split' }), () => {});
    const out = result.images[0];
    assert.ok(out);
    assert.ok(prepared.monochrome);
    const photo = faceSideLuminance(prepared.framed, prepared.framedPoints, TRIANGLES).ratio;
    const lit = faceSideLuminance(out, prepared.renderedPoints, TRIANGLES).ratio;
    // The gentle default it fell back to (the shaped shadow dropped with the colour) took the sides from 0.79 to 2.04.
    assert.ok(lit / photo > 2.9, `the lit side over the shadow side went ${photo.toFixed(2)} -> ${lit.toFixed(2)}`);
  });

  it('darkens the room round a member turned whole under neon, as it does behind a cut-out', async () => {
    // obama2.jpg's office is too busy to cut him out, so the whole frame turns and is lit as one; neon's darker
    // background treatment reached none of it ("a colour filter, not neon on a dark background", blind raters).
    const corners = (img: RgbImage) => {
      let sum = 0;
      let n = 0;
      for (let y = 0; y < 40; y++) {
        for (const x0 of [0, img.width - 40]) {
          for (let x = x0; x < x0 + 40; x++) {
            const i = (y * img.width + x) * 3;
            sum += 0.2126 * (img.data[i] ?? 0) + 0.7152 * (img.data[i + 1] ?? 0) + 0.0722 * (img.data[i + 2] ?? 0);
            n++;
          }
        }
      }
      return sum / n;
    };
    const base = request({ selfies: [await selfie('obama2.jpg')], outputSize: 256 });
    const neon = await engine.run({ ...base, lighting: 'neon' }, () => {});
    assert.equal(neon.prepared.cutFault, 'busy');
    const out = neon.result.images[0];
    assert.ok(out && neon.prepared.scene);
    // Untreated, the corners kept 0.74 of the photo's light.
    const photo = corners(neon.prepared.framed);
    assert.ok(corners(out) < 0.65 * photo, `corners ${corners(out).toFixed(0)} of the photo's ${photo.toFixed(0)}`);
    // Other rigs leave the room as the photo has it: darkened, blind raters found it no better for split or
    // rembrandt.
    for (const lighting of ['studio', 'split']) {
      assert.equal((await engine.run({ ...base, lighting }, () => {})).prepared.scene, undefined, lighting);
    }
  });

  it('renders black and white as grey, and every style differently from the plain portrait', async () => {
    const base = request({ selfies: [await selfie('obama2.jpg')], outputSize: 256 });
    const plain = (await engine.generate(base, () => {})).images[0];
    assert.ok(plain);
    const mono = (await engine.generate({ ...base, style: 'black and white' }, () => {})).images[0];
    assert.ok(mono);
    let maxSpread = 0;
    for (let i = 0; i < mono.data.length; i += 3) {
      const r = mono.data[i] ?? 0;
      const g = mono.data[i + 1] ?? 0;
      const b = mono.data[i + 2] ?? 0;
      maxSpread = Math.max(maxSpread, Math.max(r, g, b) - Math.min(r, g, b));
    }
    assert.ok(maxSpread <= 2, `black and white has colour: spread ${maxSpread}`);
    for (const style of ['oil paint', 'pencil sketch', 'comic', 'vintage film']) {
      const styled = (await engine.generate({ ...base, style }, () => {})).images[0];
      assert.ok(styled);
      assert.ok(
        meanAbs(styled, plain) > 4,
        `${style} looks like the plain portrait (${meanAbs(styled, plain).toFixed(1)})`,
      );
    }
    // A studio backdrop goes behind a member photographed against a plain background (the NASA portrait's).
    const space = request({ selfies: [await selfie('astronaut.png')], outputSize: 256 });
    const unstyled = (await engine.generate(space, () => {})).images[0];
    const blue = await engine.generate({ ...space, style: 'studio blue' }, () => {});
    assert.ok(unstyled && blue.images[0]);
    assert.equal(blue.report['cutFault'], 'none');
    assert.ok(meanAbs(blue.images[0], unstyled) > 4, 'studio blue looks like the plain portrait');
    await assert.rejects(
      engine.generate({ ...base, style: 'watercolour dreamscape' }, () => {}),
      {
        code: 'request.bad_style',
      },
    );
  });

  it('refuses a studio backdrop over a busy background, saying why and what selfie to send', async () => {
    // obama2.jpg stands before an office's shelves and flags: what a cut-out keeps of them would be patches of old
    // background in the hair on a plain backdrop.
    const base = request({ selfies: [await selfie('obama2.jpg')], outputSize: 256 });
    const plain = await engine.generate(base, () => {});
    assert.ok(Number(plain.report['backgroundBusy']) > 9, `busy ${plain.report['backgroundBusy']}`);
    await assert.rejects(
      engine.generate({ ...base, style: 'studio blue' }, () => {}),
      (e: PortraitError) => {
        assert.equal(e.code, 'request.backdrop_unavailable');
        assert.equal(
          describeError(toErrorPayload(e)),
          "I can't put a studio backdrop behind you in selfie 1: the background behind you is too busy to cut you out cleanly. Send a selfie against a plain wall. Or ask again without the backdrop to keep your own background.",
        );
        return true;
      },
    );
  });

  it('refuses a studio backdrop behind a black and white photo, and says so', async () => {
    // In grey alone white hair highlights, pale ears and a pale wall are one: every black and white cut-out a blind
    // panel saw was broken. The NASA portrait, which takes a backdrop in colour, made grey.
    const colour = await selfie('astronaut.png');
    const data = new Uint8Array(colour.image.data);
    for (let i = 0; i < data.length; i += 3) {
      data.fill(Math.round(0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!), i, i + 3);
    }
    const base = request({ selfies: [{ ...colour, image: { ...colour.image, data } }], outputSize: 256 });
    // The cut itself is clean: it is the grey that keeps the backdrop away.
    const plain = await engine.generate(base, () => {});
    assert.equal(plain.report['cutFault'], 'none');
    await assert.rejects(
      engine.generate({ ...base, style: 'studio blue' }, () => {}),
      {
        code: 'request.backdrop_unavailable',
        details: {
          selfie: 1,
          why: 'in a black and white photo you cannot be told from the wall cleanly',
          advice: 'Send a colour selfie.',
        },
      },
    );
  });

  it('makes variations that differ at a glance, with and without a style', async () => {
    // A backdrop goes only behind a member cut out cleanly: the NASA portrait's plain wall, not obama2's office.
    for (const [style, photo] of [
      ['', 'obama2.jpg'],
      ['studio grey', 'astronaut.png'],
    ] as const) {
      const r = await engine.generate(
        request({ selfies: [await selfie(photo)], outputSize: 256, variations: 2, style }),
        () => {},
      );
      const [a, b] = r.images;
      assert.ok(a && b);
      assert.ok(meanAbs(a, b) > 8, `'${style}': variations differ by ${meanAbs(a, b).toFixed(1)} of 255 on average`);
    }
  });

  it('refuses selfies of two people in one request, naming the odd one, and takes two of one person', async () => {
    const obama = await selfie('obama.jpg', 1);
    await assert.rejects(
      engine.generate(request({ selfies: [obama, await selfie('biden.jpg', 2)], outputSize: 256 }), () => {}),
      { code: 'face.different_people', details: { selfie: 2 } },
    );
    const same = await engine.generate(
      request({ selfies: [obama, await selfie('obama2.jpg', 2)], outputSize: 256 }),
      () => {},
    );
    assert.equal(same.images.length, 1);
  });
});

/** Mean colour of a patch on a cheek: a third of the way from mesh point `point` (234, 454) to the nose tip. */
function cheekColour(image: RgbImage, points: Float32Array, point: number): [number, number, number] {
  const at = (k: number, c: number) => points[k * 3 + c] ?? 0;
  const cx = Math.round((2 * at(point, 0) + at(1, 0)) / 3);
  const cy = Math.round((2 * at(point, 1) + at(1, 1)) / 3);
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = cy - 6; y <= cy + 6; y++) {
    for (let x = cx - 6; x <= cx + 6; x++) {
      for (let c = 0; c < 3; c++) sum[c] = (sum[c] ?? 0) + (image.data[(y * image.width + x) * 3 + c] ?? 0);
      n++;
    }
  }
  return [(sum[0] ?? 0) / n, (sum[1] ?? 0) / n, (sum[2] ?? 0) / n];
}

function meanAbs(a: RgbImage, b: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs((a.data[i] ?? 0) - (b.data[i] ?? 0));
  return sum / a.data.length;
}

/**
 * The worst kink of the log luminance gain across the face outline (jaw excluded): at each outline point, the slope
 * just outside minus the slope just inside, along the radius from the face's centre. A step where a face-only relight ended
 * shows as a kink; a smooth falloff (a hard light's terminator included) has equal slopes on both sides.
 */
function outlineKink(gain: Float32Array, gw: number, gh: number, cell: number, pts: Float32Array): number {
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < pts.length; i += 3) {
    cx += pts[i] ?? 0;
    cy += pts[i + 1] ?? 0;
  }
  cx /= pts.length / 3;
  cy /= pts.length / 3;
  const at = (x: number, y: number) => {
    const gx = Math.min(gw - 1, Math.max(0, Math.round(x / cell - 0.5)));
    const gy = Math.min(gh - 1, Math.max(0, Math.round(y / cell - 0.5)));
    const o = (gy * gw + gx) * 3;
    return Math.log(0.2126 * (gain[o] ?? 1) + 0.7152 * (gain[o + 1] ?? 1) + 0.0722 * (gain[o + 2] ?? 1));
  };
  let worst = 0;
  for (const b of BOUNDARY) {
    const x = pts[b * 3] ?? 0;
    const y = pts[b * 3 + 1] ?? 0;
    const r = Math.hypot(x - cx, y - cy) || 1;
    // Under the jaw the neck begins, in the chin's shadow: light may turn there. Forehead, temples and cheeks are
    // where a face-shaped relight showed its edge.
    const below = Math.atan2(y - cy, x - cx) * (180 / Math.PI);
    if (below > 50 && below < 130) continue;
    const ux = ((x - cx) / r) * 3 * cell;
    const uy = ((y - cy) / r) * 3 * cell;
    const inside = at(x - ux, y - uy);
    const edge = at(x, y);
    const outside = at(x + ux, y + uy);
    worst = Math.max(worst, Math.abs(outside - edge - (edge - inside)));
  }
  return worst;
}
