import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';

/**
 * Test photos. The public-domain ones the suite needs are committed in test/fixtures/faces, so a fresh clone runs
 * the tests; PORTRAIT_TEST_FACES may point at a larger set (CI and development: ../shared/testdata/faces, with
 * photos under licenses that do not allow committing them). Tests about a particular photo of that set (a dark
 * skin tone, a turned head, a close-up, a crowd) are skipped, saying why, when it is not there.
 */
export const COMMITTED_FACES_DIR = resolve(PROJECT_ROOT, 'test/fixtures/faces');
const EXTRA_FACES_DIR = process.env['PORTRAIT_TEST_FACES'];
/** The folder to list every test photo from (review scripts): the larger set when given, else the committed one. */
export const FACES_DIR = EXTRA_FACES_DIR ?? COMMITTED_FACES_DIR;

/**
 * The face models: PORTRAIT_MODELS_DIR when set (CI points it at offline copies), else the registry's own cache,
 * which `npm test` fills from the canonical URLs before the tests start (scripts/run-tests.mjs).
 */
export const MODELS_DIR = process.env['PORTRAIT_MODELS_DIR'] ?? resolve(PROJECT_ROOT, 'models/cache');
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

function find(name: string): string | undefined {
  for (const dir of [COMMITTED_FACES_DIR, EXTRA_FACES_DIR]) {
    if (dir === undefined) continue;
    const p = resolve(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function facePath(name: string): string {
  const p = find(name);
  if (!p) {
    throw new Error(
      `test photo ${name} is neither in test/fixtures/faces nor in PORTRAIT_TEST_FACES (${EXTRA_FACES_DIR ?? 'unset'})`,
    );
  }
  return p;
}

/**
 * For `test(name, { skip: needsPhotos(...) }, fn)`: false when every photo is there, else the reason to skip
 * (photos only in the uncommitted set at PORTRAIT_TEST_FACES).
 */
export function needsPhotos(...names: string[]): string | false {
  const missing = names.filter((n) => find(n) === undefined);
  return missing.length === 0 ? false : `needs ${missing.join(', ')} from PORTRAIT_TEST_FACES (not committed)`;
}

/** Whether a test photo is at hand (the committed ones always are). */
export function hasPhoto(name: string): boolean {
  return find(name) !== undefined;
}

/**
 * `name` where it is at hand, else a committed head-and-shoulders photo: a bench measured on an uncommitted photo
 * still runs on a clone with nothing beside it (and says which photo it used).
 */
export function photoOrCommitted(name: string): string {
  return hasPhoto(name) ? name : 'obama.jpg';
}

/** The single-face photos of the test set (tight close-ups included); the uncommitted ones only where present. */
export const SINGLE_FACE_PHOTOS: readonly string[] = [
  'astronaut.png',
  'pexels-dinielle-de-veyra-4195444.jpg',
  'pexels-sam-lion-5709614.jpg',
  'pexels-tim-douglas-6567248.jpg',
  'pexels-closeup-smile_facelandmark-Test1.jpg',
  'pexels-closeup-wink_facelandmark-Test2.jpg',
  'obama.jpg',
  'obama2.jpg',
  'biden.jpg',
].filter((n) => find(n) !== undefined);

/** A prefix no other test uses, for queues and Redis keys. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}
