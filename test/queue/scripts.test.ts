import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { runScript, SCRIPTS, scriptSource } from '../../src/queue/scripts.js';
import { REDIS_URL, uniquePrefix } from '../helpers/env.js';
import { deleteKeys } from '../helpers/redis.js';

/** The Lua scripts are files with one typed loader (src/queue/scripts.ts); this checks the loader's promises. */
describe('Redis scripts', () => {
  let redis: Redis;
  const prefix = uniquePrefix('scripts');

  before(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false });
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('every .lua file is declared, and every declared script has its file with includes resolved', () => {
    const files = readdirSync(new URL('../../src/queue/scripts/', import.meta.url)).filter((f) => f.endsWith('.lua'));
    const declared = Object.values(SCRIPTS).map((s) => s.file);
    // rate-window.lua is only ever included.
    assert.deepEqual([...declared, 'rate-window.lua'].sort(), files.sort());
    for (const s of Object.values(SCRIPTS)) {
      const source = scriptSource(s.file);
      assert.doesNotMatch(source, /^-- include/m, s.file);
      if (s.file === 'reserve-slot.lua' || s.file === 'take-rate.lua')
        assert.match(source, /local function rate_check/);
    }
  });

  it('registers each script once per connection and runs it by SHA', async () => {
    const key = `${prefix}:rate`;
    assert.equal(await runScript(redis, 'takeRate', [key], [Date.now(), 60_000, 1, 'a']), 0);
    const wait = await runScript(redis, 'takeRate', [key], [Date.now(), 60_000, 1, 'b']);
    assert.ok(wait > 0 && wait <= 60_000, `the second request waits (${wait} ms)`);
    // The first call loaded the script into Redis's cache; the SHA is that of the file's text with its includes.
    const sha = createHash('sha1').update(scriptSource(SCRIPTS.takeRate.file)).digest('hex');
    assert.deepEqual(await redis.script('EXISTS', sha), [1]);
  });

  it('refuses a call with the wrong number of keys', async () => {
    await assert.rejects(runScript(redis, 'eventLease', [`${prefix}:a`], ['ref', 0, 1]), /takes 2 keys, got 1/);
  });
});
