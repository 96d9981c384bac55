import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeError } from '../../src/core/messages.js';
import { type PortraitError, toErrorPayload } from '../../src/errors.js';
import {
  CompositorEngine,
  createCompositorEngine,
  headAndShouldersFrame,
  insideBorderLines,
  prepareTarget,
} from '../../src/pipeline/engines/compositor.js';
import type { Engine, EngineRequest, PreparedSelfie } from '../../src/pipeline/engines/engine.js';
import { chooseMainFace, detectFaces } from '../../src/pipeline/face/detect.js';
import { estimateMesh } from '../../src/pipeline/face/mesh.js';
import { INVENTED_LIMIT } from '../../src/pipeline/geometry/head-warp.js';
import { cropImage, resizeImage } from '../../src/pipeline/image.js';
import { disposeSessions } from '../../src/pipeline/models/index.js';
import { segmentPerson } from '../../src/pipeline/segment/index.js';
import type { Progress, RgbImage } from '../../src/pipeline/types.js';
import { needsPhotos } from '../helpers/env.js';
import { loadSelfie } from './photos.js';

let engine: Engine;
let selfie: PreparedSelfie;

before(async () => {
  engine = await createCompositorEngine({ PORTRAIT_IDENTITY_MODEL: 'identity' });
  const s = await loadSelfie('obama.jpg');
  selfie = { image: s.image, faces: s.faces, mainFace: s.face, index: 1 };
});
after(async () => {
  await engine.dispose();
  await disposeSessions();
});

function request(over: Partial<EngineRequest> = {}): EngineRequest {
  return {
    selfies: [selfie],
    pose: 'yaw=15',
    lighting: 'key from left, warm',
    style: '',
    seed: 42,
    variations: 1,
    outputSize: 512,
    outputFormat: 'png',
    debug: false,
    ...over,
  };
}

test('compositor end to end on a real photo: outputSize^2 portrait, stage timings, report, identity', async () => {
  const stages: string[] = [];
  const result = await engine.generate(request({ debug: true }), (p: Progress) => stages.push(p.stage));
  assert.equal(result.images.length, 1);
  const [img] = result.images;
  assert.ok(img);
  assert.equal(img.width, 512);
  assert.equal(img.height, 512);
  assert.equal(img.data.length, 512 * 512 * 3);
  assert.deepEqual(stages, ['mesh', 'warp', 'relight', 'stitch']);
  for (const k of ['mesh', 'warp', 'relight', 'stitch']) assert.ok((result.timings[k] ?? -1) >= 0, k);
  assert.equal(result.report['lighting'], 'key from left, warm');
  assert.equal(result.report['targetPose'], 'yaw=15');
  assert.equal(result.report['reference'], 1);
  // The output still looks like the person (identity model configured by id).
  const identity = result.report['identity'];
  assert.equal(typeof identity, 'number');
  assert.ok((identity as number) > 0.4, `identity ${identity}`);
  const labels = (result.debugImages ?? []).map((d) => d.label.split('\n')[0] ?? '');
  for (const want of ['reference', 'person mask', 'turned', 'background plate', 'relit', 'stitch', 'final']) {
    assert.ok(
      labels.some((l) => l.startsWith(want)),
      `debug image '${want}' in ${labels.join(' | ')}`,
    );
  }
});

test('compositor variations: seeded, the first unjittered, the others different', async () => {
  const a = await engine.generate(request({ variations: 2, outputSize: 256 }), () => {});
  const b = await engine.generate(request({ variations: 2, outputSize: 256 }), () => {});
  assert.equal(a.images.length, 2);
  assert.deepEqual(a.images[1]?.data, b.images[1]?.data);
  assert.notDeepEqual(a.images[0]?.data, a.images[1]?.data);
  const c = await engine.generate(request({ variations: 1, outputSize: 256, seed: 7 }), () => {});
  assert.deepEqual(c.images[0]?.data, a.images[0]?.data, 'variation 0 does not depend on the seed');
});

test('compositor refuses what it cannot draw, with user error codes', async () => {
  await assert.rejects(
    engine.generate(request({ pose: 'profile left' }), () => {}),
    { code: 'request.pose_out_of_range' },
  );
  await assert.rejects(
    engine.generate(request({ lighting: 'rembrant' }), () => {}),
    {
      code: 'request.bad_lighting',
      details: { got: 'rembrant', suggestion: 'rembrandt' },
    },
  );
  await assert.rejects(
    engine.generate(request({ pose: 'lft' }), () => {}),
    { code: 'request.bad_pose' },
  );
});

const TURNED = needsPhotos('pexels-sam-lion-5709614.jpg');

test('compositor picks the selfie whose pose is closest to the target', { skip: TURNED }, async () => {
  const turned = await loadSelfie('pexels-sam-lion-5709614.jpg');
  const selfies: PreparedSelfie[] = [
    selfie,
    { image: turned.image, faces: turned.faces, mainFace: turned.face, index: 2 },
  ];
  // Two different people: without an identity model nothing tells them apart (with one they are refused, see
  // portrait-quality.test.ts), which lets this test pick between two very different poses.
  const plain = new CompositorEngine();
  const towardTurned = await plain.generate(request({ selfies, pose: 'yaw=-25', outputSize: 256 }), () => {});
  assert.equal(towardTurned.report['reference'], 2);
  const front = await plain.generate(request({ selfies, pose: 'front', outputSize: 256 }), () => {});
  assert.equal(front.report['reference'], 1);
});

test('head-and-shoulders frame: square, inside the photo, face about 37% of the height', async () => {
  const small = await resizeImage(selfie.image, 600, Math.round((600 * selfie.image.height) / selfie.image.width));
  const pts = new Float32Array([200, 150, 0, 300, 150, 0, 250, 270, 0]);
  const f = headAndShouldersFrame(pts, small.width, small.height);
  assert.equal(f.width, f.height);
  assert.ok(f.x >= 0 && f.y >= 0 && f.x + f.width <= small.width && f.y + f.height <= small.height);
  // Forehead-to-chin 120 px is 37% of the side (room for hair above).
  assert.equal(f.width, 324);
});

test('head-and-shoulders frame: a face near the photo edge is framed tighter, not pushed to the border', () => {
  // Face 100 px wide, 120 tall, its centre 90 px from the right edge of a 600 x 600 photo.
  const pts = new Float32Array([460, 150, 0, 560, 150, 0, 510, 270, 0]);
  const f = headAndShouldersFrame(pts, 600, 600);
  const centre = (f.x + f.width / 2 - 510) / f.width;
  assert.ok(Math.abs(centre) <= 0.1 + 1e-6, `face centre ${centre.toFixed(2)} of the side off the middle`);
  // Tighter than the usual 324 px, never tighter than the face filling 60% of it.
  assert.ok(f.width < 324 && f.width >= 120 / 0.6 - 1, `side ${f.width}`);
});

test('head-and-shoulders frame: a close-up keeps the top of the head in, not the chest', () => {
  // Forehead-to-chin 220 px in a 400 x 500 photo: the frame (400 px, the photo's width) cannot give the face its
  // usual 37%. Its centre at 49% from the top would put the frame's top 54 px down, through the hair.
  const pts = new Float32Array([100, 140, 0, 300, 140, 0, 200, 360, 0]);
  const f = headAndShouldersFrame(pts, 400, 500);
  assert.equal(f.width, 400);
  // The head reaches about 0.45 of a face height above the forehead: 99 px, so the frame starts at 41 px or above.
  assert.ok(f.y <= 140 - 0.45 * 220 + 1, `frame top ${f.y}`);
  // ...and still holds the chin and some neck.
  assert.ok(f.y + f.height >= 360 + 0.25 * 220 - 1, `frame bottom ${f.y + f.height}`);
});

test('head-and-shoulders frame: a close-up too tight for the whole head keeps the chin, not the hair', () => {
  // Forehead-to-chin 260 px in a 400 x 600 photo: the head (hair included), the chin and some neck do not all fit in
  // 400 px. Raised to the top of the head, the frame would end 23 px above the chin.
  const pts = new Float32Array([100, 150, 0, 300, 150, 0, 200, 410, 0]);
  const f = headAndShouldersFrame(pts, 400, 600);
  assert.equal(f.width, 400);
  // The chin and a quarter face of neck below it stay in the frame, and it still rises above the usual placement.
  assert.ok(f.y + f.height >= 410 + 0.25 * 260 - 1, `frame bottom ${f.y + f.height}`);
  assert.ok(f.y < 280 - 0.49 * 400, `frame top ${f.y}`);
});

test('compositor turns as far as is clean toward a pose the selfie is far from, and says so', {
  skip: TURNED,
}, async () => {
  // This selfie faces about 33 degrees to the subject's right: "three-quarter left" (+30) would need ~63 degrees.
  const turned = await loadSelfie('pexels-sam-lion-5709614.jpg');
  const only: PreparedSelfie[] = [{ image: turned.image, faces: turned.faces, mainFace: turned.face, index: 1 }];
  const r = await engine.generate(request({ selfies: only, pose: 'three-quarter left', outputSize: 256 }), () => {});
  const asked = r.report['turnAsked'] as number;
  const done = r.report['turnDegrees'] as number;
  assert.ok(asked > 50, `asked ${asked}`);
  assert.ok(done >= 5 && done <= 20, `rendered turn ${done}`);
  assert.ok((r.report['renderedYaw'] as number) > (r.report['referenceYaw'] as number) + 4, 'turned toward the left');
  assert.ok((r.report['inventedShare'] as number) <= INVENTED_LIMIT + 1e-6);
  assert.match(String(r.report['note']), /^turned \d+ of the \d+ degrees you asked; .*facing more to your left\.$/);
  // "Front" (also what a request without a pose gets) says where the degrees come from.
  const front = await engine.generate(request({ selfies: only, pose: 'front', outputSize: 256 }), () => {});
  assert.match(String(front.report['note']), /^turned \d+ of the \d+ degrees it takes to face the camera; /);
  // "look up" keeps the selfie's own yaw instead of demanding a turn to the front.
  const up = await engine.generate(request({ selfies: only, pose: 'look up', outputSize: 256 }), () => {});
  assert.ok(
    Math.abs((up.report['renderedYaw'] as number) - (up.report['referenceYaw'] as number)) < 0.5,
    `look up kept yaw ${up.report['referenceYaw']} -> ${up.report['renderedYaw']}`,
  );
  assert.ok((up.report['renderedPitch'] as number) > (up.report['referencePitch'] as number) + 5);
});

test('compositor raises a chin less far than it lowers one: looking up shows a throat the photo never saw', async () => {
  const up = await engine.generate(request({ selfies: [selfie], pose: 'look up', outputSize: 256 }), () => {});
  const down = await engine.generate(request({ selfies: [selfie], pose: 'look down', outputSize: 256 }), () => {});
  const raised = (up.report['renderedPitch'] as number) - (up.report['referencePitch'] as number);
  const lowered = (down.report['referencePitch'] as number) - (down.report['renderedPitch'] as number);
  assert.ok(raised > 4 && raised <= 8 + 0.1, `raised ${raised}`);
  assert.ok(lowered > raised + 1 && lowered <= 10 + 0.1, `lowered ${lowered}, raised ${raised}`);
});

test('compositor turns a face that fills the photo only a little, and asks for more room around the head', async () => {
  // The selfie cut down to its face: the frame's edges run through the hair and chin.
  const b = selfie.mainFace.box;
  const tight = cropImage(selfie.image, {
    x: b.x - b.width * 0.1,
    y: b.y - b.height * 0.15,
    width: b.width * 1.2,
    height: b.height * 1.3,
  });
  const faces = await detectFaces(tight);
  const face = faces[chooseMainFace(faces, tight.width, tight.height)];
  assert.ok(face);
  const only: PreparedSelfie[] = [{ image: tight, faces, mainFace: face, index: 1 }];
  const r = await engine.generate(request({ selfies: only, pose: 'yaw=12', outputSize: 256 }), () => {});
  assert.ok((r.report['turnDegrees'] as number) < 8, `turned ${r.report['turnDegrees']}`);
  assert.match(String(r.report['note']), /more room around your head/);
  // The same turn on the whole photo is done in full.
  const roomy = await engine.generate(request({ selfies: [selfie], pose: 'yaw=12', outputSize: 256 }), () => {});
  assert.ok((roomy.report['turnDegrees'] as number) > 10, `turned ${roomy.report['turnDegrees']}`);
});

test('compositor turns a close-up less, even with room at the edges: the face fills the frame', async () => {
  // A square crop with the face's box 62% of its height, centred: the frame's edges stay clear of the face, but the
  // face is large in the portrait, where a full turn's stretched near cheek and held-still ear read as a melted
  // face pasted on a head that did not move (blind panels rated such close-ups broken).
  const b = selfie.mainFace.box;
  const side = b.height / 0.62;
  const close = cropImage(selfie.image, {
    x: b.x + b.width / 2 - side / 2,
    y: b.y + b.height / 2 - side / 2,
    width: side,
    height: side,
  });
  const faces = await detectFaces(close);
  const face = faces[chooseMainFace(faces, close.width, close.height)];
  assert.ok(face);
  const only: PreparedSelfie[] = [{ image: close, faces, mainFace: face, index: 1 }];
  const r = await engine.generate(request({ selfies: only, pose: 'yaw=15', outputSize: 256 }), () => {});
  assert.ok((r.report['turnDegrees'] as number) < 10, `turned ${r.report['turnDegrees']}`);
  assert.match(String(r.report['note']), /more room around your head/);
});

test('compositor always shows the face, and lays no empty backdrop, from a photo that is all face', async () => {
  // (A 250 px face-only crop once left the selfie model without a person and delivered an empty backdrop; the engine
  // now keeps the photo's background then. No committed photo makes the model fail, so this pins the outcome.) The
  // crop keeps the chin and cheeks: a photo that cuts them off is refused (face.cut_off).
  const b = selfie.mainFace.box;
  const tight = cropImage(selfie.image, {
    x: b.x - b.width * 0.05,
    y: b.y + b.height * 0.1,
    width: b.width * 1.1,
    height: b.height * 1.1,
  });
  const faces = await detectFaces(tight);
  const face = faces[chooseMainFace(faces, tight.width, tight.height)];
  assert.ok(face);
  const only: PreparedSelfie[] = [{ image: tight, faces, mainFace: face, index: 1 }];
  // No backdrop goes behind a member the photo leaves no room round: refused with a sentence, not laid empty.
  await assert.rejects(
    engine.generate(request({ selfies: only, style: 'studio grey', outputSize: 256 }), () => {}),
    (e: PortraitError) => e.code === 'request.backdrop_unavailable',
  );
  const r = await engine.generate(request({ selfies: only, outputSize: 256 }), () => {});
  const out = r.images[0];
  assert.ok(out);
  // The middle of the portrait is a face, not a flat backdrop: its brightness varies.
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = 64; y < 192; y++) {
    for (let x = 64; x < 192; x++) {
      const v = out.data[(y * 256 + x) * 3 + 1] ?? 0;
      sum += v;
      sq += v * v;
      n++;
    }
  }
  const sd = Math.sqrt(sq / n - (sum / n) ** 2);
  assert.ok(sd > 12, `the middle is flat (sd ${sd.toFixed(1)})`);
});

test('compositor does not cut a member whose outline the photo does not show: the whole frame turns as one', async () => {
  // obama.jpg as dark hair on a dark wall: the background (what the selfie model calls background) and a head of
  // hair round his face down to the shoulders painted in one dark, slightly noisy grey, like an afro on a black
  // backdrop. The mask's outline there is a guess; cut along it, the part of the hair it lost was filled with
  // smooth grey beside the turned head, or cut in blocks.
  const found = await segmentPerson(selfie.image, { face: selfie.mainFace.box });
  const { width, height } = selfie.image;
  const data = new Uint8Array(selfie.image.data);
  const fb = selfie.mainFace.box;
  const cx = fb.x + fb.width / 2;
  const cy = fb.y + fb.height * 0.3;
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff - 0.5;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const hair =
        (((x - cx) / fb.width) ** 2 + ((y - cy) / (fb.height * 0.9)) ** 2 < 1 && y < fb.y + fb.height * 0.12) ||
        (Math.abs(x - cx) > fb.width * 0.48 &&
          Math.abs(x - cx) < fb.width &&
          y > cy - fb.height * 0.3 &&
          y < fb.y + fb.height * 1.4);
      const a = hair ? 1 : 1 - (found.person[i] ?? 0);
      const v = 28 + noise() * 12;
      for (let k = 0; k < 3; k++) data[i * 3 + k] = Math.round((1 - a) * (data[i * 3 + k] ?? 0) + a * v);
    }
  }
  const dark: PreparedSelfie = { ...selfie, image: { ...selfie.image, data } };
  const asked = request({ selfies: [dark], style: 'studio grey', outputSize: 256 });
  const prepared = await prepareTarget(asked, 256, () => {}, { backdrop: true });
  assert.ok(prepared.outlineUnsupported > 0.26, `outline unsupported ${prepared.outlineUnsupported}`);
  assert.equal(prepared.cutFault, 'outline');
  // Nothing is cut: the person layer is the whole frame, so no part of the guess can show.
  let least = 1;
  for (const a of prepared.person.alpha) least = Math.min(least, a);
  assert.ok(least > 0.99, `the person layer is cut (alpha down to ${least.toFixed(2)})`);
  // The backdrop asked for is refused, saying why and what selfie to send.
  await assert.rejects(
    new CompositorEngine().run(asked, () => {}),
    {
      code: 'request.backdrop_unavailable',
      details: {
        selfie: 1,
        why: "your hair or clothes are too close to the background's colour to cut you out cleanly",
        advice: 'Send a selfie against a wall that stands out from your hair.',
      },
    },
  );
});

test('compositor cuts a member out only for a new ground behind them, and never out of a busy background: the whole frame turns as one', async () => {
  // obama2.jpg stands before an office's shelves and flags. Cut out and turned, the head uncovered a fill of them
  // and left what the matte missed of them in the hair; turned whole, nothing of a cut shows.
  const s = await loadSelfie('obama2.jpg');
  const busy: PreparedSelfie = { image: s.image, faces: s.faces, mainFace: s.face, index: 1 };
  const { prepared } = await new CompositorEngine().run(
    request({ selfies: [busy], pose: 'three-quarter left', outputSize: 256 }),
    () => {},
  );
  assert.ok(prepared.backgroundBusy > 9, `busy ${prepared.backgroundBusy}`);
  assert.equal(prepared.cutFault, 'busy');
  assert.ok(prepared.turn.rendered > 5, `turned ${prepared.turn.rendered}`);
  let least = 1;
  for (const a of prepared.person.alpha) least = Math.min(least, a);
  assert.ok(least > 0.99, `the person layer is cut (alpha down to ${least.toFixed(2)})`);
  // Before a plain background (the NASA portrait's) the member is cut out for a studio backdrop, and only then:
  // with no new ground behind them the frame turns whole, the cut saying only where the member is lit.
  const a = await loadSelfie('astronaut.png');
  const space = { selfies: [{ image: a.image, faces: a.faces, mainFace: a.face, index: 1 }], outputSize: 256 };
  const backdrop = await new CompositorEngine().run(request({ ...space, style: 'studio blue' }), () => {});
  assert.equal(backdrop.prepared.cutFault, undefined);
  assert.equal(backdrop.prepared.guessedMember, undefined, 'not cut out for a backdrop');
  const own = await new CompositorEngine().run(request(space), () => {});
  assert.equal(own.prepared.cutFault, undefined);
  assert.ok(own.prepared.guessedMember, 'cut out with no backdrop behind');
  let wall = 1;
  for (const v of own.prepared.person.alpha) wall = Math.min(wall, v);
  assert.ok(wall < 0.01, 'the light follows the cut');
});

test('compositor refuses a studio backdrop behind a small photo, saying what photo to send, and still cuts it out for pop art', async () => {
  // The NASA portrait is 512 px; its head-and-shoulders frame is about 290 px of it.
  const a = await loadSelfie('astronaut.png');
  const space = { selfies: [{ image: a.image, faces: a.faces, mainFace: a.face, index: 1 }] };
  const run = (style: string, outputSize: number) =>
    new CompositorEngine().run(request({ ...space, style, outputSize }), () => {});
  // Enlarged about 2.6 times: its outline is a few pixels blown up, so no backdrop; the refusal says why.
  await assert.rejects(run('studio blue', 768), {
    code: 'request.backdrop_unavailable',
    details: { selfie: 1, why: 'at this size you cannot be cut out cleanly', advice: 'Send a closer selfie.' },
  });
  // Pop art's ground still goes behind a crisp cut-out of the same photo at the same size.
  const comic = await run('comic', 768);
  assert.ok(comic.prepared.enlargement > 2.2, `enlarged ${comic.prepared.enlargement}`);
  assert.equal(comic.prepared.cutFault, undefined);
  // Enlarged about 2 times, the backdrop goes behind the cut-out.
  const less = await run('studio blue', 600);
  assert.ok(less.prepared.enlargement < 2.2, `enlarged ${less.prepared.enlargement}`);
  assert.equal(less.prepared.cutFault, undefined);
  assert.ok(less.result.images[0]);
});

test('compositor says when a small face makes a soft portrait, and not for a sharp one', async () => {
  // The photo shrunk and set into a large grey canvas: a small face in a large photo (enlarged about 3 times).
  const small = inGreyCanvas(
    await resizeImage(selfie.image, 360, Math.round((360 * selfie.image.height) / selfie.image.width)),
  );
  const faces = await detectFaces(small);
  const face = faces[chooseMainFace(faces, small.width, small.height)];
  assert.ok(face);
  const only: PreparedSelfie[] = [{ image: small, faces, mainFace: face, index: 1 }];
  // Asked for a turn too, so the caption joins two clauses: one sentence, no stray full stop between them.
  const soft = await engine.generate(
    request({ selfies: only, outputSize: 1024, pose: 'three-quarter left' }),
    () => {},
  );
  const note = String(soft.report['note']);
  assert.match(note, /degrees you asked; .*; your face is small in this photo.*[^.]\.$/);
  assert.doesNotMatch(note, /\.;/);
  const sharp = await engine.generate(request({ selfies: [selfie], outputSize: 512 }), () => {});
  assert.doesNotMatch(String(sharp.report['note'] ?? ''), /face is small|photo is only/);
  // A small avatar that is all head and shoulders: the photo is small, not the face; a closer selfie would not help.
  const f = selfie.mainFace.box;
  const side = Math.round(Math.min(f.width * 2.6, selfie.image.width, selfie.image.height));
  const x = Math.round(Math.min(Math.max(0, f.x + f.width / 2 - side / 2), selfie.image.width - side));
  const y = Math.round(Math.min(Math.max(0, f.y + f.height * 0.55 - side / 2), selfie.image.height - side));
  const avatar = await resizeImage(cropImage(selfie.image, { x, y, width: side, height: side }), 300, 300);
  const avatarFaces = await detectFaces(avatar);
  const avatarFace = avatarFaces[chooseMainFace(avatarFaces, 300, 300)];
  assert.ok(avatarFace);
  const tight = await engine.generate(
    request({ selfies: [{ image: avatar, faces: avatarFaces, mainFace: avatarFace, index: 1 }], outputSize: 1024 }),
    () => {},
  );
  assert.match(String(tight.report['note']), /this photo is only 300 pixels across, so the portrait is soft; a larger/);
});

test("a white line along a web photo's edge does not become a light strip down the portrait's side", async () => {
  // The selfie cut close round the head, with a 1 px white line down its left edge (a page's frame).
  const b = selfie.mainFace.box;
  const tight = cropImage(selfie.image, {
    x: b.x - b.width * 0.35,
    y: b.y - b.height * 0.4,
    width: b.width * 1.7,
    height: b.height * 1.9,
  });
  for (let y = 0; y < tight.height; y++) tight.data.fill(255, y * tight.width * 3, y * tight.width * 3 + 3);
  const faces = await detectFaces(tight);
  const face = faces[chooseMainFace(faces, tight.width, tight.height)];
  assert.ok(face);
  const only: PreparedSelfie[] = [{ image: tight, faces, mainFace: face, index: 1 }];
  const r = await engine.generate(request({ selfies: only, pose: 'front', style: 'black and white' }), () => {});
  const img = r.images[0];
  assert.ok(img);
  const column = (x: number) => {
    let sum = 0;
    for (let y = 0; y < img.height; y++) sum += img.data[(y * img.width + x) * 3] ?? 0;
    return sum / img.height;
  };
  assert.ok(column(0) < column(12) + 12, `edge ${column(0).toFixed(0)} vs inside ${column(12).toFixed(0)}`);
});

test('frame inside border lines: a faint line along a smooth edge is trimmed, a textured edge is not', () => {
  // A pale, smooth sky 200 x 200 (a gentle gradient), its top row 12 levels darker: a JPEG's edge row.
  const smooth = (line: number, noise: number): RgbImage => {
    const data = new Uint8Array(200 * 200 * 3);
    let seed = 7;
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 200; x++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const v = 200 + x / 20 + (noise * seed) / 2147483648 - (y === 0 ? line : 0);
        data.fill(Math.round(v), (y * 200 + x) * 3, (y * 200 + x) * 3 + 3);
      }
    }
    return { data, width: 200, height: 200, channels: 3 };
  };
  const whole = { x: 0, y: 0, width: 200, height: 200 };
  const trimmed = insideBorderLines(smooth(12, 0), whole);
  assert.ok(trimmed.y >= 1 && trimmed.width < 200, `frame ${JSON.stringify(trimmed)}`);
  // No line: nothing trimmed. Textured rows that differ by as much anyway (foliage, a knit): nothing trimmed.
  assert.deepEqual(insideBorderLines(smooth(0, 0), whole), whole);
  assert.deepEqual(insideBorderLines(smooth(12, 40), whole), whole);
});

test('a black and white photo stays black and white under coloured light', async () => {
  // Neon laid its magenta and cyan over a black and white photo as a lavender cast (a blind panel); the rig's
  // direction stays, its colour goes.
  const data = new Uint8Array(selfie.image.data);
  for (let i = 0; i < data.length; i += 3) {
    const l = Math.round(0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!);
    data.fill(l, i, i + 3);
  }
  const grey: PreparedSelfie = { ...selfie, image: { ...selfie.image, data } };
  for (const lighting of ['neon', 'golden hour']) {
    const r = await engine.generate(request({ selfies: [grey], pose: 'front', lighting }), () => {});
    const img = r.images[0];
    assert.ok(img);
    let chroma = 0;
    for (let i = 0; i < img.data.length; i += 3) {
      chroma += Math.max(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
      chroma -= Math.min(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
    }
    chroma /= img.data.length / 3;
    assert.ok(chroma < 3, `${lighting}: mean chroma ${chroma.toFixed(1)}`);
    // The caption says why the colour asked for is not there (a blind panel marked a grey "warm" portrait down).
    assert.match(String(r.report['note']), /your photo is black and white, so the light's colour was left out/);
  }
  // A light without a colour of its own leaves nothing out, and says nothing of it.
  const plain = await engine.generate(request({ selfies: [grey], pose: 'front', lighting: 'studio' }), () => {});
  assert.doesNotMatch(String(plain.report['note'] ?? ''), /black and white/);
});

test('golden hour and candle colour the whole picture, and a candle leaves the room round the face dark', async () => {
  // Through the relight alone their warmth reached the skin at a share of a share and the wall stayed as it was:
  // blind raters saw "the selfie's colours", and a candle portrait was the photo (paired panels: 74 to 1, 96 to 12).
  const render = async (lighting: string) => {
    const r = await engine.generate(request({ pose: 'front', lighting, outputSize: 256 }), () => {});
    assert.ok(r.images[0]);
    return r.images[0];
  };
  /** Warmth (R - B per level of luminance, in percent) and mean luminance over columns [x0, x1) and rows [y0, y1). */
  const region = (img: RgbImage, x0: number, x1: number, y0: number, y1: number) => {
    let warmth = 0;
    let lum = 0;
    let n = 0;
    for (let y = Math.floor(y0 * img.height); y < y1 * img.height; y++) {
      for (let x = Math.floor(x0 * img.width); x < x1 * img.width; x++) {
        const i = (y * img.width + x) * 3;
        warmth += img.data[i]! - img.data[i + 2]!;
        lum += 0.2126 * img.data[i]! + 0.7152 * img.data[i + 1]! + 0.0722 * img.data[i + 2]!;
        n++;
      }
    }
    return { warmth: (100 * warmth) / lum, lum: lum / n };
  };
  const studio = await render('studio');
  const golden = await render('golden hour');
  const candle = await render('candle');
  // The curtains and window above the shoulders, and the face.
  const wall = (img: RgbImage) => region(img, 0, 0.2, 0, 0.3);
  const face = (img: RgbImage) => region(img, 0.4, 0.6, 0.3, 0.5);
  for (const [name, img] of [
    ['golden hour', golden],
    ['candle', candle],
  ] as const) {
    const wallWarmer = wall(img).warmth - wall(studio).warmth;
    const faceWarmer = face(img).warmth - face(studio).warmth;
    assert.ok(wallWarmer > 15, `${name}: the wall ${wallWarmer.toFixed(1)}% warmer than studio's`);
    assert.ok(faceWarmer > 15, `${name}: the face ${faceWarmer.toFixed(1)}% warmer than studio's`);
  }
  // A corner keeps under half the face's light under a candle; under studio light the room is as it was.
  const dark = (img: RgbImage) => region(img, 0, 0.15, 0, 0.15).lum / face(img).lum;
  assert.ok(
    dark(candle) < 0.5 * dark(studio),
    `corner to face: candle ${dark(candle).toFixed(2)}, studio ${dark(studio).toFixed(2)}`,
  );
});

test('compositor refuses a thumbnail-sized photo with a sentence asking for the original, and takes a larger selfie', async () => {
  // obama.jpg at 200 px wide: its head-and-shoulders frame is under 200 px, enlarged more than 5 times for 1024.
  const thumb = await resizeImage(selfie.image, 200, Math.round((200 * selfie.image.height) / selfie.image.width));
  const faces = await detectFaces(thumb);
  const face = faces[chooseMainFace(faces, thumb.width, thumb.height)];
  assert.ok(face);
  const small: PreparedSelfie = { image: thumb, faces, mainFace: face, index: 1 };
  const refused = (code: string) => (e: { code?: string; details?: Record<string, unknown> }) => {
    assert.equal(e.code, code);
    assert.equal(e.details?.['selfie'], 1);
    return true;
  };
  await assert.rejects(
    engine.generate(request({ selfies: [small], outputSize: 1024 }), () => {}),
    refused('face.low_resolution'),
  );
  // Set into a large photo, the same face is small in it: a closer photo is what would help.
  const canvas = inGreyCanvas(thumb);
  const canvasFaces = await detectFaces(canvas);
  const canvasFace = canvasFaces[chooseMainFace(canvasFaces, canvas.width, canvas.height)];
  assert.ok(canvasFace);
  await assert.rejects(
    engine.generate(
      request({ selfies: [{ image: canvas, faces: canvasFaces, mainFace: canvasFace, index: 1 }], outputSize: 1024 }),
      () => {},
    ),
    refused('face.too_small'),
  );
  // The same photo is enough for a 512 px portrait (under 3 times, within the 4 allowed), and beside a larger selfie the larger one wins.
  const half = await engine.generate(request({ selfies: [small], outputSize: 512 }), () => {});
  assert.equal(half.images.length, 1);
  const both = await engine.generate(
    request({ selfies: [small, { ...selfie, index: 2 }], pose: 'front', outputSize: 1024 }),
    () => {},
  );
  assert.equal(both.report['reference'], 2);
});

/** `photo` set into a 900 x 900 grey canvas: a small face in a large photo. */
function inGreyCanvas(photo: RgbImage): RgbImage {
  const canvas: RgbImage = { data: new Uint8Array(900 * 900 * 3).fill(128), width: 900, height: 900, channels: 3 };
  for (let y = 0; y < photo.height; y++) {
    canvas.data.set(photo.data.subarray(y * photo.width * 3, (y + 1) * photo.width * 3), ((300 + y) * 900 + 330) * 3);
  }
  return canvas;
}

test('compositor refuses a selfie whose chin the photo cuts off, with a sentence, and takes a whole selfie beside it', async () => {
  // obama.jpg cut off just under the mouth: no portrait of it has a chin (a black and white close-up cut this way was
  // rated broken by 25 of 27 blind ratings, on every request).
  // Half way from the lower lip (mesh point 17) to the chin's tip (152).
  const points = (await estimateMesh(selfie.image, selfie.mainFace)).points;
  const bottom = Math.round(((points[17 * 3 + 1] ?? 0) + (points[152 * 3 + 1] ?? 0)) / 2);
  const cutImage: RgbImage = {
    data: selfie.image.data.slice(0, bottom * selfie.image.width * 3),
    width: selfie.image.width,
    height: bottom,
    channels: 3,
  };
  const faces = await detectFaces(cutImage);
  const face = faces[chooseMainFace(faces, cutImage.width, cutImage.height)];
  assert.ok(face);
  const cut: PreparedSelfie = { image: cutImage, faces, mainFace: face, index: 1 };
  await assert.rejects(
    engine.generate(request({ selfies: [cut], outputSize: 512 }), () => {}),
    (e: PortraitError) => {
      assert.equal(e.code, 'face.cut_off');
      assert.equal(e.details['part'], 'your chin');
      assert.equal(
        describeError(toErrorPayload(e)),
        "Your chin runs off the edge of selfie 1, so I can't make a whole portrait of you from it. Send a selfie with your whole face in the picture and a little room around your head.",
      );
      return true;
    },
  );
  // The whole photo is no such selfie; beside the cut one, it is the one used.
  const both = await engine.generate(
    request({ selfies: [cut, { ...selfie, index: 2 }], pose: 'front', outputSize: 512 }),
    () => {},
  );
  assert.equal(both.report['reference'], 2);
});

test('compositor refuses a studio backdrop where the photo cuts through the head, and lays it where it does not', async () => {
  // The NASA portrait with its top cut off through the hair: on a backdrop the hair would end in a straight line
  // along the frame's top (blind raters rated 14 of 18 such backdrops broken).
  const s = await loadSelfie('astronaut.png');
  const whole: PreparedSelfie = { image: s.image, faces: s.faces, mainFace: s.face, index: 1 };
  const points = (await estimateMesh(s.image, s.face)).points;
  // Through the hair: a fifth of the way from the forehead's top (mesh point 10) up to the photo's top.
  const top = Math.round(0.8 * (points[10 * 3 + 1] ?? 0));
  const image: RgbImage = {
    data: s.image.data.slice(top * s.image.width * 3),
    width: s.image.width,
    height: s.image.height - top,
    channels: 3,
  };
  const faces = await detectFaces(image);
  const face = faces[chooseMainFace(faces, image.width, image.height)];
  assert.ok(face);
  const cut: PreparedSelfie = { image, faces, mainFace: face, index: 1 };
  const backdrop = { style: 'studio grey', outputSize: 512 };
  await assert.rejects(
    engine.generate(request({ selfies: [cut], ...backdrop }), () => {}),
    (e: PortraitError) => {
      assert.equal(e.code, 'request.backdrop_unavailable');
      assert.match(String(e.details['why']), /your head touches the photo's edge/);
      assert.equal(e.details['advice'], 'Send a selfie with some room above and beside your head.');
      return true;
    },
  );
  const laid = await engine.generate(request({ selfies: [whole], ...backdrop }), () => {});
  assert.equal(laid.report['cutFault'], 'none');
  assert.equal(laid.report['headAtEdge'], 0);
});
