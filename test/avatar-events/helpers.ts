import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import type { EventUpdate } from '../../src/avatar-events/scheduler.js';
import type { EventCaller } from '../../src/avatar-events/service.js';
import type { Requester } from '../../src/core/request.js';

/**
 * The cheap stand-in pipeline of the event tests: flat photos have no face, `sleep:<ms>` styles take time (events
 * with such a style name the diffusion engine: the compositor takes only catalogue styles).
 */
export const EVENT_PIPELINE = new URL('./fixtures/event-pipeline.ts', import.meta.url).href;

export const organiser: EventCaller = { platform: 'discord', scopeId: 'g1', userId: 'org', isAdmin: true, roleIds: [] };
export const member = (userId: string, scopeId = 'g1'): Requester => ({ platform: 'discord', userId, scopeId });

/** A small PNG with detail (noise on a colour seeded by `seed`): the stand-in pipeline takes it as a face. */
export async function selfie(seed: number): Promise<Uint8Array> {
  const w = 24;
  const data = Buffer.alloc(w * w * 3);
  let s = seed * 2654435761 + 1;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (i % 3 === 0 ? (seed * 40) % 256 : 128) ^ (s >>> 26);
  }
  return new Uint8Array(
    await sharp(data, { raw: { width: w, height: w, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

/** One flat colour: no face for the stand-in pipeline. */
export async function flatPhoto(): Promise<Uint8Array> {
  const img = sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 90, g: 90, b: 90 } } });
  return new Uint8Array(await img.png().toBuffer());
}

/** Collects the scheduler's updates and lets a test await a count without sleeping. */
export class UpdateLog {
  readonly updates: EventUpdate[] = [];
  private waiters: { n: number; match: (u: EventUpdate) => boolean; resolve: () => void }[] = [];
  readonly handler = async (update: EventUpdate): Promise<void> => {
    this.updates.push(update);
    this.settle();
  };
  count(match: (u: EventUpdate) => boolean = () => true): number {
    return this.updates.filter(match).length;
  }
  /** Resolves once `n` updates matching `match` have arrived. */
  waitFor(n: number, match: (u: EventUpdate) => boolean = () => true): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ n, match, resolve });
      this.settle();
    });
  }
  private settle(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.count(w.match) < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

/**
 * Reads a zip with Python's `zipfile`, a reader independent of the writer (fflate): it checks every member's CRC
 * (`testzip`) and refuses a malformed archive (a wrong method field, bad offsets) the way users' tools would.
 */
export function readZip(zip: Uint8Array): { name: string; data: Uint8Array; crc: number }[] {
  const script = [
    'import base64, io, json, sys, zipfile',
    'z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))',
    'bad = z.testzip()',
    'assert bad is None, "bad CRC in " + str(bad)',
    'print(json.dumps([[i.filename, i.compress_type, i.CRC, base64.b64encode(z.read(i)).decode()] for i in z.infolist()]))',
  ].join('\n');
  const out = execFileSync('python3', ['-c', script], { input: zip, maxBuffer: 512 * 1024 * 1024 });
  const members = JSON.parse(out.toString()) as Array<[string, number, number, string]>;
  return members.map(([name, method, crc, data]) => {
    assert.equal(method, 0, `${name} is stored, not compressed`);
    return { name, data: new Uint8Array(Buffer.from(data, 'base64')), crc };
  });
}
