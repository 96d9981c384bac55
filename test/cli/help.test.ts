import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { PROJECT_ROOT, parseConfig, unknownNames } from '../../src/config.js';
import { createLogger, logDestination } from '../../src/log.js';

/** The CLI's own surface as an operator meets it: version, help per command, plain argument errors, .env typos, logs. */
const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');
const dir = mkdtempSync(join(tmpdir(), 'portrait-help-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function portrait(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: dir, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: unknown }).code as number) : 0, stdout, stderr }),
    );
  });
}

describe('portrait CLI surface', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await portrait(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `portrait ${version}\n`);
  });

  it('help <command> prints that command’s help, even with a broken setting', async () => {
    const r = await portrait(['help', 'generate'], { REDIS_URL: 'http://nowhere' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^portrait generate --selfie FILE \[options\]/);
    assert.match((await portrait(['help', 'models'])).stdout, /^portrait models list\|fetch/);
    assert.match((await portrait(['worker', '--help'])).stdout, /^portrait worker\n/);
  });

  it('an unknown command suggests the nearest one', async () => {
    const r = await portrait(['strat']);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      "portrait: there is no command 'strat' (did you mean 'start'?); `portrait help` lists them.\n",
    );
  });

  it('argument errors in plain words, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['--slefie', 'me.jpg'], '--slefie is not valid: there is no such option (did you mean --selfie?)'],
      [['--selfie'], '--selfie is not valid: it needs a value, e.g. --selfie path/to/selfie.jpg.'],
      [['me.jpg'], "'me.jpg' is not valid: every value follows its option, e.g. --selfie me.jpg"],
      [['--json=yes', '--selfie', 'a.jpg'], '--json is not valid: it takes no value; write --json alone.'],
    ];
    for (const [args, sentence] of cases) {
      const r = await portrait(['generate', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.ok(r.stderr.startsWith(`request.bad_option: ${sentence}`), r.stderr);
      assert.doesNotMatch(r.stderr, /positional argument|To specify/);
    }
  });

  it('names in .env that portrait does not read are warned at start, with the nearest real name', async () => {
    writeFileSync(join(dir, '.env'), 'PORTRAIT_MODEL_DIR=/x\nDISCORD_TOKN=abc\nOTHER_TOOL=1\nLOG_FORMAT=json\n');
    try {
      const r = await portrait(['start']);
      assert.equal(r.code, 2);
      const warned = r.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
      assert.deepEqual(warned, [
        '.env sets PORTRAIT_MODEL_DIR, which portrait does not read (did you mean PORTRAIT_MODELS_DIR?): it has no effect; see .env.example for every variable.',
        '.env sets DISCORD_TOKN, which portrait does not read (did you mean DISCORD_TOKEN?): it has no effect; see .env.example for every variable.',
      ]);
    } finally {
      rmSync(join(dir, '.env'));
    }
    assert.deepEqual(unknownNames(['PORTRAIT_ENGINE', 'SLACK_APP_TOKEN', 'HOME']), []);
  });
});

describe('log format', () => {
  function capture(isTTY: boolean) {
    const chunks: string[] = [];
    const stream = Object.assign(
      new Writable({
        write(chunk, _enc, done) {
          chunks.push(String(chunk));
          done();
        },
      }),
      { isTTY },
    );
    return { stream, text: () => chunks.join('') };
  }
  const secret = 'xoxb-very-secret-token';
  const config = parseConfig({ LOG_LEVEL: 'info', SLACK_BOT_TOKEN: secret });

  it('JSON lines when stderr is not a terminal', () => {
    const out = capture(false);
    createLogger(config, 'portrait', logDestination({}, out.stream)).info({ jobId: 'j1' }, `token ${secret}`);
    const line = JSON.parse(out.text()) as Record<string, unknown>;
    assert.equal(line['msg'], 'token [redacted]');
    assert.equal(line['jobId'], 'j1');
  });

  for (const [why, format, isTTY] of [
    ['on a terminal', undefined, true],
    ['with LOG_FORMAT=pretty', 'pretty', false],
  ] as const) {
    it(`readable lines ${why}, secrets still scrubbed`, () => {
      const out = capture(isTTY);
      const log = createLogger(config, 'portrait', logDestination(format ? { LOG_FORMAT: format } : {}, out.stream));
      log.warn({ jobId: 'j1' }, `token ${secret}`);
      const text = out.text().replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
      assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: token \[redacted\] \{"jobId":"j1"\}\n$/);
    });
  }

  it('LOG_FORMAT=json keeps JSON on a terminal', () => {
    const out = capture(true);
    createLogger(config, 'portrait', logDestination({ LOG_FORMAT: 'json' }, out.stream)).info('hello');
    assert.equal((JSON.parse(out.text()) as { msg: string }).msg, 'hello');
  });
});
