import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.js';
import { APP_ID, BOT_TOKEN, FakeDiscord } from '../bots/discord/fake-discord.js';
import { FakeSlack } from '../bots/slack/fake-slack.js';
import { MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';

/**
 * Start-up checks on the real CLI (`portrait start` / `portrait worker` as spawned processes): every operator
 * mistake ends the process by itself, non-zero, with one sentence naming the variable and the fix, and no stack
 * trace. The chat platforms are the loopback fakes; "unreachable" is a port nothing listens on.
 */
const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');
const dir = mkdtempSync(join(tmpdir(), 'portrait-startup-'));
// A start that hangs instead of failing is the bug: the process is killed well past the 10 s the checks allow.
const HANG_MS = 40_000;

interface CliRun {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
}

function portrait(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: dir,
        env: {
          PATH: process.env['PATH'] ?? '',
          PORTRAIT_MODELS_DIR: MODELS_DIR,
          PORTRAIT_QUEUE_PREFIX: uniquePrefix('startup'),
          PORTRAIT_DATA_DIR: join(dir, 'data'),
          REDIS_URL,
          ...env,
        },
        timeout: HANG_MS,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number; killed?: boolean }) | null;
        done({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          killed: e?.killed ?? false,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** Ended by itself with `code` and one sentence matching `sentence` on stderr; no stack trace, no JSON log noise. */
function assertRefused(r: CliRun, code: number, sentence: RegExp): void {
  assert.equal(r.killed, false, `still running after ${HANG_MS} ms; stderr: ${r.stderr}`);
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, sentence);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace');
  assert.doesNotMatch(r.stderr, /"level":/, 'log lines instead of a sentence');
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as { port: number };
  await new Promise((ok) => srv.close(ok));
  return port;
}

let discord: FakeDiscord;
let slack: FakeSlack;
let nowhere: string;
before(async () => {
  discord = await new FakeDiscord().start();
  slack = await new FakeSlack().start();
  nowhere = `http://127.0.0.1:${await closedPort()}`;
});
after(async () => {
  await discord?.stop();
  await slack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis', () => {
  it('an http:// REDIS_URL is refused before anything starts', async () => {
    const r = await portrait(['worker'], { REDIS_URL: 'http://127.0.0.1:6379' });
    assertRefused(r, 2, /REDIS_URL: expected redis:\/\/host:6379, rediss:\/\/host:6380 \(TLS\) or unix:/);
  });

  it('a REDIS_URL nothing answers at ends the start (worker and generate alike)', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const sentence =
      /Nothing answers at REDIS_URL=redis:\/\/127\.0\.0\.1:\d+ \(connection refused\): start Redis there or correct REDIS_URL/;
    assertRefused(await portrait(['worker'], { REDIS_URL: url }), 1, sentence);
    const selfie = resolve(PROJECT_ROOT, 'samples/obama.jpg');
    assertRefused(await portrait(['generate', '--selfie', selfie], { REDIS_URL: url }), 1, sentence);
  });

  it('a host that does not exist is named, the password never shown', async () => {
    const r = await portrait(['worker'], { REDIS_URL: 'redis://user:s3cret-pass@no-such-host.invalid:6379' });
    assertRefused(r, 1, /The host in REDIS_URL=redis:\/\/user:\*\*\*@no-such-host\.invalid:6379 was not found/);
    assert.doesNotMatch(r.stderr, /s3cret-pass/);
  });

  it('something that is not Redis at REDIS_URL (an HTTP server) is said so', async () => {
    const sockets = new Set<Socket>();
    const http = createServer((socket) => {
      sockets.add(socket);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
    try {
      const r = await portrait(['worker'], {
        REDIS_URL: `redis://127.0.0.1:${(http.address() as { port: number }).port}`,
      });
      assertRefused(
        r,
        1,
        /(not Redis answers at|closed the connection without answering).*REDIS_URL=redis:\/\/127\.0\.0\.1:\d+/,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => http.close(ok));
    }
  });
});

describe('settings', () => {
  it('a PORTRAIT_MODELS_DIR that does not exist', async () => {
    const r = await portrait(['worker'], { PORTRAIT_MODELS_DIR: join(dir, 'no-such-models') });
    assertRefused(
      r,
      2,
      /PORTRAIT_MODELS_DIR: \S+no-such-models is not a folder: point it at the folder holding the model files/,
    );
  });

  it('nothing to start', async () => {
    const r = await portrait(['start'], {});
    assertRefused(r, 2, /^Nothing to start: set DISCORD_TOKEN or SLACK_BOT_TOKEN in \.env/);
  });

  it('Slack without SLACK_APP_TOKEN or SLACK_SIGNING_SECRET', async () => {
    const r = await portrait(['start'], { SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.apiUrl });
    assertRefused(r, 2, /Slack needs SLACK_APP_TOKEN \(Socket Mode, xapp-\.\.\.\) or SLACK_SIGNING_SECRET/);
  });
});

describe('Discord', () => {
  const env = () => ({
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_CDN_HOSTS: '127.0.0.1',
  });

  it('a wrong DISCORD_TOKEN', async () => {
    const r = await portrait(['start'], { ...env(), DISCORD_TOKEN: 'not-the-token.AAAAAA.BBBBBBBBBBBBBBBB' });
    assertRefused(r, 2, /Discord refused DISCORD_TOKEN \(401 Unauthorized\): copy the bot token again/);
    assert.doesNotMatch(r.stderr, /not-the-token/);
  });

  it('a DISCORD_APPLICATION_ID of another application', async () => {
    const r = await portrait(['start'], { ...env(), DISCORD_TOKEN: BOT_TOKEN, DISCORD_APPLICATION_ID: '42' });
    assertRefused(r, 2, new RegExp(`DISCORD_APPLICATION_ID is 42, but DISCORD_TOKEN belongs to application ${APP_ID}`));
  });

  it('a server in DISCORD_GUILD_IDS the bot is not in', async () => {
    discord.missingGuilds.add('77');
    const r = await portrait(['start'], { ...env(), DISCORD_TOKEN: BOT_TOKEN, DISCORD_GUILD_IDS: '77' });
    assertRefused(r, 2, /^DISCORD_GUILD_IDS names server 77, which this bot is not in \(Missing Access\): invite it/m);
  });

  it('Discord unreachable', async () => {
    const r = await portrait(['start'], { ...env(), DISCORD_TOKEN: BOT_TOKEN, DISCORD_API_URL: `${nowhere}/api` });
    assertRefused(
      r,
      1,
      /Discord cannot be reached at http:\/\/127\.0\.0\.1:\d+\/api \(ECONNREFUSED\): .*DISCORD_API_URL/,
    );
  });
});

describe('Slack', () => {
  const env = () => ({ SLACK_API_URL: slack.apiUrl, SLACK_FILE_HOSTS: '127.0.0.1' });

  it('a wrong SLACK_BOT_TOKEN', async () => {
    const r = await portrait(['start'], { ...env(), SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_APP_TOKEN: slack.appToken });
    assertRefused(r, 2, /Slack refused SLACK_BOT_TOKEN \(invalid_auth\): copy the Bot User OAuth Token/);
  });

  it('a wrong SLACK_APP_TOKEN', async () => {
    const r = await portrait(['start'], { ...env(), SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: 'xapp-wrong' });
    assertRefused(r, 2, /Slack refused SLACK_APP_TOKEN \(invalid_auth\): create an app-level token/);
  });

  it('the two tokens swapped', async () => {
    const r = await portrait(['start'], { ...env(), SLACK_BOT_TOKEN: slack.appToken, SLACK_APP_TOKEN: slack.botToken });
    assertRefused(r, 2, /SLACK_BOT_TOKEN holds an app-level token/);
  });

  it('Slack unreachable', async () => {
    const r = await portrait(['start'], {
      SLACK_API_URL: `${nowhere}/api/`,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
    });
    assertRefused(r, 1, /Slack cannot be reached at http:\/\/127\.0\.0\.1:\d+\/api\/ \(ECONNREFUSED\)/);
  });
});
