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
      e instanceof ConfigError &&
      /PORTRAIT_OUTPUT_SIZE/.test(e.message) &&
      /REDIS_URL: expected redis:\/\/host:6379/.test(e.message),
  );
});

test('REDIS_URL: redis://, rediss:// and unix: only', () => {
  for (const ok of ['redis://h:6379', 'rediss://u:p@h:6380/2', 'unix:/run/redis.sock', 'REDIS://H']) {
    assert.equal(parseConfig({ REDIS_URL: ok }).REDIS_URL, ok);
  }
  for (const bad of ['http://h:6379', 'https://h', 'h:6379', 'redis:/h', 'redis://']) {
    assert.throws(
      () => parseConfig({ REDIS_URL: bad }),
      (e: unknown) =>
        e instanceof ConfigError && /REDIS_URL: expected redis:\/\/host:6379, rediss:\/\//.test(e.message),
      bad,
    );
  }
});

test('allow-list entries may carry a port; one that can never match stops the start with a sentence', () => {
  const c = parseConfig({ DISCORD_CDN_HOSTS: '127.0.0.1:8080, cdn.example', SLACK_FILE_HOSTS: 'files.example:8443' });
  assert.deepEqual(c.DISCORD_CDN_HOSTS, ['127.0.0.1:8080', 'cdn.example']);
  const refused: Array<[string, RegExp]> = [
    [
      'https://cdn.example',
      /DISCORD_CDN_HOSTS: 'https:\/\/cdn\.example' has a scheme: write the host alone, e\.g\. cdn\.example/,
    ],
    ['cdn.example/attachments', /DISCORD_CDN_HOSTS: 'cdn\.example\/attachments' has a path: write the host alone/],
    ['user@cdn.example', /has a user name/],
    ['cdn.example:99999', /is not a host name/],
  ];
  for (const [entry, sentence] of refused) {
    assert.throws(
      () => parseConfig({ DISCORD_CDN_HOSTS: entry }),
      (e: unknown) => e instanceof ConfigError && sentence.test(e.message),
      entry,
    );
  }
  assert.throws(
    () => parseConfig({ SLACK_FILE_HOSTS: 'files.slack.com, https://files.example:8443/' }),
    (e: unknown) =>
      e instanceof ConfigError && /SLACK_FILE_HOSTS: 'https:\/\/files\.example:8443\/' has a scheme/.test(e.message),
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
