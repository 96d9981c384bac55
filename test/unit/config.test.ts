import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ConfigError, PROJECT_ROOT, parseConfig } from '../../src/config.js';

test('defaults apply when nothing is set', () => {
  const c = parseConfig({});
  assert.equal(c.PORTRAIT_ENGINE, 'compositor');
  assert.equal(c.PORTRAIT_OUTPUT_SIZE, 1024);
  assert.equal(c.REDIS_URL, undefined);
  assert.ok(Object.isFrozen(c));
});

test('a bad value names the variable and what is expected', () => {
  assert.throws(
    () => parseConfig({ PORTRAIT_OUTPUT_SIZE: 'big', REDIS_URL: 'not a url' }),
    (e: unknown) =>
      e instanceof ConfigError && /PORTRAIT_OUTPUT_SIZE/.test(e.message) && /REDIS_URL: expected a URL/.test(e.message),
  );
});

test('empty strings count as unset and lists are split', () => {
  const c = parseConfig({ REDIS_URL: '', DISCORD_GUILD_IDS: '1, 2,,3' });
  assert.equal(c.REDIS_URL, undefined);
  assert.deepEqual(c.DISCORD_GUILD_IDS, ['1', '2', '3']);
});

test('relative paths resolve against the project root, defaults included', () => {
  const c = parseConfig({ PORTRAIT_MODELS_CACHE: 'x/cache' });
  assert.equal(c.PORTRAIT_DATA_DIR, resolve(PROJECT_ROOT, '.data'));
  assert.equal(c.PORTRAIT_MODELS_CACHE, resolve(PROJECT_ROOT, 'x/cache'));
});

test('numbers out of range or not numbers say which range is expected', () => {
  for (const value of ['big', '12', '1.5']) {
    assert.throws(
      () => parseConfig({ PORTRAIT_OUTPUT_SIZE: value }),
      (e: unknown) =>
        e instanceof ConfigError && /PORTRAIT_OUTPUT_SIZE: expected a whole number from 64 to 2048/.test(e.message),
      value,
    );
  }
});
