import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressThrottle } from '../../src/conversation/throttle.js';
import { ManualClock, settle } from './manual-clock.js';

function setup(sendImpl?: (key: string, v: number) => Promise<void>) {
  const clock = new ManualClock();
  const sent: Array<[number, string, number]> = [];
  const throttle = new ProgressThrottle<number>({
    intervalMs: 2000,
    clock,
    send: async (key, v) => {
      sent.push([clock.now(), key, v]);
      await sendImpl?.(key, v);
    },
  });
  return { clock, sent, throttle };
}

describe('ProgressThrottle', () => {
  it('sends the first update at once and then at most every interval, the last one winning', async () => {
    const { clock, sent, throttle } = setup();
    for (let i = 1; i <= 10; i++) {
      throttle.update('m', i);
      await clock.advance(300);
    }
    await clock.advance(5000);
    // 1 at t=0, then the newest value each time the 2 s window opens, and the final value 10 last.
    assert.deepEqual(sent, [
      [0, 'm', 1],
      [2000, 'm', 7],
      [4000, 'm', 10],
    ]);
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i]![0] - sent[i - 1]![0] >= 2000);
  });

  it('keeps keys independent', async () => {
    const { clock, sent, throttle } = setup();
    throttle.update('a', 1);
    throttle.update('b', 1);
    throttle.update('a', 2);
    await clock.advance(2000);
    assert.deepEqual(sent, [
      [0, 'a', 1],
      [0, 'b', 1],
      [2000, 'a', 2],
    ]);
  });

  it('never overlaps sends for one key, even when a send is slower than the interval', async () => {
    const { clock, sent, throttle } = setup();
    let inFlight = 0;
    let maxInFlight = 0;
    const releases: Array<() => void> = [];
    const slow = new ProgressThrottle<number>({
      intervalMs: 2000,
      clock,
      send: (key, v) => {
        sent.push([clock.now(), key, v]);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise((r) =>
          releases.push(() => {
            inFlight--;
            r();
          }),
        );
      },
    });
    slow.update('m', 1);
    await clock.advance(5000);
    slow.update('m', 2);
    slow.update('m', 3);
    await clock.advance(5000);
    assert.equal(sent.length, 1, 'nothing else goes out while the first edit hangs');
    releases.shift()?.();
    await clock.advance(1);
    assert.deepEqual(sent.at(-1), [10_000, 'm', 3], 'the newest value goes out as soon as the edit returns');
    releases.shift()?.();
    await clock.advance(5000);
    assert.equal(maxInFlight, 1);
    assert.equal(throttle.active, 0);
  });

  it('finish drops pending updates, waits for the edit in flight and ignores late updates', async () => {
    let release: () => void = () => {};
    const { clock, sent, throttle } = setup(() => new Promise<void>((r) => (release = r)));
    throttle.update('m', 1);
    throttle.update('m', 2);
    let finished = false;
    const done = throttle.finish('m').then(() => {
      finished = true;
    });
    await settle();
    assert.equal(finished, false, 'finish waits for the edit in flight');
    release();
    await done;
    throttle.update('m', 3);
    await clock.advance(10_000);
    assert.deepEqual(sent, [[0, 'm', 1]]);
  });

  it('reports a failed send and carries on', async () => {
    const clock = new ManualClock();
    const errors: string[] = [];
    const sent: number[] = [];
    const t = new ProgressThrottle<number>({
      intervalMs: 1000,
      clock,
      send: async (_k, v) => {
        sent.push(v);
        if (v === 1) throw new Error('429');
      },
      onError: (err, key) => errors.push(`${key}:${(err as Error).message}`),
    });
    t.update('m', 1);
    t.update('m', 2);
    await clock.advance(1000);
    assert.deepEqual(sent, [1, 2]);
    assert.deepEqual(errors, ['m:429']);
  });

  it('forgets idle keys so memory does not grow with every job', async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 50; i++) throttle.update(`job${i}`, i);
    await clock.advance(2000);
    await clock.advance(2000);
    assert.equal(throttle.active, 0);
    assert.equal(clock.timers, 0);
  });
});
