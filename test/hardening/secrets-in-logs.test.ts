import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { PROJECT_ROOT, parseConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { openRedis } from '../../src/queue/connection.js';
import { APP_ID, BOT_TOKEN, chatCommand, FakeDiscord } from '../bots/discord/fake-discord.js';
import { isOriginalEdit } from '../bots/discord/harness.js';
import { FakeSlack } from '../bots/slack/fake-slack.js';
import { facePath, MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';

/**
 * Secrets never reach a log: `portrait start` runs as a child process (the real CLI: config from the environment,
 * the real logger, Redis, a worker, the Discord adapter on the loopback gateway and REST fake, the Slack adapter in
 * Socket Mode on the loopback fake) with every secret set to a distinctive value and LOG_LEVEL=trace. A Discord and
 * a Slack portrait, a selfie without a face and a text file named .jpg go through it, with hostile file names;
 * then everything the process wrote to stdout and stderr is scanned for each secret, for the selfie URLs and for
 * the raw file names. The fakes check the secrets were really in use, so a clean log is not a clean log of nothing.
 */

const SLACK_BOT_TOKEN = 'xoxb-S3CRET-slack-bot-token-7f3a9c';
const SLACK_SIGNING_SECRET = 'S3CRET-slack-signing-secret-2b8e41';
/** File names a user chose: path traversal, a right-to-left override, a very long one. */
const HOSTILE_NAMES = ['../../etc/passwd.jpg', 'selfie\u202Egpj.exe.jpg', `${'long'.repeat(60)}.jpg`];

describe('no secret, selfie URL or raw file name in the logs of a full run at LOG_LEVEL=trace', () => {
  let discord: FakeDiscord;
  let slack: FakeSlack;
  let child: ChildProcess;
  let cwd: string;
  let home: string;
  let output = '';
  let prefix: string;
  const selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));

  before(async () => {
    discord = await new FakeDiscord().start();
    slack = await new FakeSlack(SLACK_BOT_TOKEN).start();
    // A directory of its own: no .env is picked up, and any file the process wrote there would show.
    cwd = await mkdtemp(join(tmpdir(), 'portrait-secrets-'));
    home = await mkdtemp(join(tmpdir(), 'portrait-secrets-home-'));
    prefix = uniquePrefix('secrets');
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      // onnxruntime keeps a device id under $HOME/.cache: a home of its own, apart from the working directory.
      HOME: home,
      NODE_ENV: 'production',
      LOG_LEVEL: 'trace',
      REDIS_URL,
      PORTRAIT_QUEUE_PREFIX: prefix,
      PORTRAIT_MODELS_DIR: MODELS_DIR,
      PORTRAIT_OUTPUT_SIZE: '256',
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_CDN_HOSTS: '127.0.0.1',
      SLACK_BOT_TOKEN,
      SLACK_SIGNING_SECRET,
      SLACK_APP_TOKEN: slack.appToken,
      SLACK_API_URL: slack.apiUrl,
      SLACK_FILE_HOSTS: '127.0.0.1',
    };
    const identified = discord.waitForIdentify();
    const connected = slack.socketConnected();
    child = spawn(process.execPath, [resolve(PROJECT_ROOT, 'bin/portrait.mjs'), 'start'], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (b: Buffer) => {
      output += b.toString('utf8');
    });
    child.stderr?.on('data', (b: Buffer) => {
      output += b.toString('utf8');
    });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`portrait start exited early (${String(code)}):\n${output.slice(-3000)}`);
    });
    await Promise.race([Promise.all([identified, connected]), exited]);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await discord?.stop();
    await slack?.close();
    for (const dir of [cwd, home]) if (dir) await rm(dir, { recursive: true, force: true });
    const redis = await openRedis(parseConfig({ REDIS_URL }), silentLogger).catch(() => undefined);
    if (redis) {
      const conn = redis.connection();
      let cursor = '0';
      do {
        const [next, found] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (found.length > 0) await conn.del(...found);
      } while (cursor !== '0');
      await redis.close();
    }
  });

  const urls: string[] = [];

  it('serves a Discord portrait, a face-less selfie, a text file and a vanished file, each with a hostile name', async () => {
    const sky = new Uint8Array(
      await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 90, g: 150, b: 220 } } })
        .jpeg()
        .toBuffer(),
    );
    const cases: Array<[Uint8Array, string, string]> = [
      [selfie, HOSTILE_NAMES[0] ?? '', 'Done'],
      [sky, HOSTILE_NAMES[1] ?? '', 'face'],
      [new TextEncoder().encode('not a photo at all'), HOSTILE_NAMES[2] ?? '', 'not an image'],
    ];
    for (const [bytes, name, answer] of cases) {
      const url = discord.putCdnFile(name, bytes, 'image/jpeg');
      urls.push(url);
      const raw = chatCommand('portrait', {
        attachments: { selfie: { url, filename: name, contentType: 'image/jpeg', size: bytes.byteLength } },
      });
      discord.dispatchInteraction(raw);
      await discord.waitFor(isOriginalEdit(raw['token'] as string, answer), answer);
    }
    // A signed CDN URL whose file is gone: the download fails and is logged, without the URL.
    const gone = discord.putCdnFile('gone.jpg', selfie, 'image/jpeg').replace('/gone.jpg', '/vanished.jpg');
    urls.push(gone);
    const vanished = chatCommand('portrait', {
      attachments: { selfie: { url: gone, filename: 'vanished.jpg', contentType: 'image/jpeg', size: 1000 } },
    });
    discord.dispatchInteraction(vanished);
    await discord.waitFor(isOriginalEdit(vanished['token'] as string, "couldn't download"), 'the download failure');
    const upload = discord.calls.find((c) => c.files.length > 0);
    assert.ok(upload, 'a portrait was uploaded');
    // The upload is named by the bot, never after the user's file.
    assert.match(upload.files[0]?.name ?? '', /^portrait-\d+\.webp$/);
  });

  it('serves a Slack portrait over Socket Mode, with a hostile file name', async () => {
    const name = HOSTILE_NAMES[0] ?? '';
    const url = slack.addFile(name, selfie);
    urls.push(url);
    const ts = '1760000000.000100';
    await slack.sendEnvelope('events_api', {
      token: 'x',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: 'EvSecrets1',
      event_time: 1,
      event: {
        type: 'app_mention',
        user: 'U1',
        text: `<@${slack.botUserId}> front, studio`,
        ts,
        event_ts: ts,
        channel: 'C1',
        files: [
          {
            id: 'F1',
            name,
            mimetype: 'image/jpeg',
            filetype: 'jpg',
            size: selfie.byteLength,
            url_private_download: url,
          },
        ],
      },
    });
    const done = await slack.waitFor('files.getUploadURLExternal', () => true, 60_000);
    assert.match(String(done.args['filename']), /^portrait-\d+\.webp$/);
    await slack.waitFor('files.completeUploadExternal', () => true, 30_000);
  });

  it('the secrets were in use: the fakes saw every one of them', () => {
    assert.ok(
      discord.calls.some((c) => c.auth === `Bot ${BOT_TOKEN}`),
      'Discord bot token',
    );
    assert.equal(slack.callsOf('apps.connections.open')[0]?.authorization, `Bearer ${slack.appToken}`);
    assert.ok(
      slack.calls.some((c) => c.authorization === `Bearer ${SLACK_BOT_TOKEN}`),
      'Slack bot token',
    );
  });

  it('after a clean shutdown, the whole output holds no secret, no selfie URL and no raw file name', async () => {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, output.slice(-2000));
    if (process.env['SECRETS_LOG']) writeFileSync(process.env['SECRETS_LOG'], output);
    const lines = output.split('\n').filter(Boolean);
    // Not a clean log of nothing: the run logged at trace level, jobs included.
    assert.ok(lines.length > 30, `${lines.length} lines`);
    assert.match(output, /"level":20/, 'debug lines (nothing in the product logs below debug)');
    assert.match(output, /discord adapter ready/);
    assert.match(output, /slack adapter ready/);

    const secrets = {
      DISCORD_TOKEN: BOT_TOKEN,
      SLACK_BOT_TOKEN,
      SLACK_SIGNING_SECRET,
      SLACK_APP_TOKEN: slack.appToken,
    };
    for (const [name, secret] of Object.entries(secrets)) {
      // Also the part after the first '.', '-' or '_': a token cut by a library still must not show.
      const tail = secret.slice(Math.max(...['.', '-', '_'].map((c) => secret.indexOf(c))) + 1);
      for (const needle of [secret, tail.length >= 8 ? tail : secret]) {
        assert.ok(!output.includes(needle), `${name} appears in the log: ${lineWith(output, needle)}`);
      }
    }
    for (const url of urls) {
      const path = new URL(url).pathname;
      for (const needle of [url, path, decodeURIComponent(path)]) {
        assert.ok(!output.includes(needle), `a selfie URL appears in the log: ${lineWith(output, needle)}`);
      }
    }
    assert.doesNotMatch(output, /is=signed|\/cdn\/attachments\/|\/files\//, 'URL fragments');
    for (const name of HOSTILE_NAMES) {
      assert.ok(!output.includes(name), `a raw file name appears in the log: ${lineWith(output, name)}`);
    }
    assert.doesNotMatch(output, /\u202e/, 'a bidirectional override reached the log');
    // And nothing was written where the process ran.
    assert.deepEqual(await readdir(cwd, { recursive: true }), []);
  });
});

function lineWith(text: string, needle: string): string {
  return (
    text
      .split('\n')
      .find((l) => l.includes(needle))
      ?.slice(0, 400) ?? ''
  );
}
