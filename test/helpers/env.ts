import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';

/** Shared test inputs live beside the repository (../shared) and are never committed. CI exports these too. */
export const FACES_DIR = process.env['PORTRAIT_TEST_FACES'] ?? resolve(PROJECT_ROOT, '../shared/testdata/faces');
export const MODELS_DIR = process.env['PORTRAIT_MODELS_DIR'] ?? resolve(PROJECT_ROOT, '../shared/models');
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export function facePath(name: string): string {
  const p = resolve(FACES_DIR, name);
  if (!existsSync(p)) throw new Error(`test photo ${p} is missing: is ../shared beside the repository?`);
  return p;
}

/** The single-face photos of the shared test set (tight close-ups included). */
export const SINGLE_FACE_PHOTOS = [
  'astronaut.png',
  'pexels-dinielle-de-veyra-4195444.jpg',
  'pexels-sam-lion-5709614.jpg',
  'pexels-tim-douglas-6567248.jpg',
  'pexels-closeup-smile_facelandmark-Test1.jpg',
  'pexels-closeup-wink_facelandmark-Test2.jpg',
  'obama.jpg',
  'obama2.jpg',
  'biden.jpg',
] as const;

/** A prefix no other test uses, for queues and Redis keys. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}
