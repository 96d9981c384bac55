import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { Requester } from '../../src/core/request.js';
import type { EventUpdate } from '../../src/queue/event-jobs.js';
import type { EventCaller } from '../../src/queue/event-service.js';

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

/** A minimal zip reader (central directory), independent of the writer: names, data and stored CRCs. */
export function readZip(zip: Uint8Array) {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.length - 22;
  assert.equal(view.getUint32(end, true), 0x06054b50, 'end of central directory');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const files: { name: string; data: Uint8Array; crc: number }[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(view.getUint32(at, true), 0x02014b50, 'central header');
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 20, true);
    const nameLen = view.getUint16(at + 28, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLen));
    assert.equal(view.getUint32(local, true), 0x04034b50, 'local header');
    const localNameLen = view.getUint16(local + 26, true);
    const start = local + 30 + localNameLen + view.getUint16(local + 28, true);
    files.push({ name, data: zip.subarray(start, start + size), crc });
    at += 46 + nameLen + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return files;
}
