import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkSlackFiles } from '../../src/bots/slack/files.js';
import { printable } from '../../src/cli/generate.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { declaredSelfies } from '../../src/conversation/files.js';
import { PortraitError } from '../../src/errors.js';

/**
 * File names are the user's words too. The adapters never use them for anything but a first guess at the type
 * (uploads are named by the bot; secrets-in-logs.test.ts checks they reach no log and no file in a full run); the
 * CLI prints a selfie's path when it cannot read it, so a name carrying terminal escape sequences or a
 * right-to-left override is printed escaped.
 */
const ESC_NAME = 'me\u001b[31mRED\u001b]0;pwned\u0007.jpg';
const RLO_NAME = 'selfie\u202Egpj.exe';

describe('hostile file names', () => {
  describe('in the adapters, only a first guess at the type', () => {
    const limits = { maxBytes: 1 << 20, allowedHosts: ['cdn.discordapp.com'] };
    const url = 'https://cdn.discordapp.com/attachments/1/2/x';
    const table: Array<[string, string | null, string]> = [
      ['../../etc/passwd.jpg', 'image/jpeg', 'ok'],
      ['../../etc/passwd.jpg', null, 'ok'],
      ['..\\..\\windows\\win.ini.png', null, 'ok'],
      [RLO_NAME, null, 'input.not_image'], // shows as "selfieexe.jpg"; really .exe
      [`${'a'.repeat(1000)}.jpg`, null, 'ok'],
      ['photo.jpg\u0000.exe', null, 'input.not_image'],
      [ESC_NAME, null, 'ok'],
      ['portrait.heic', null, 'input.heic_unsupported'],
    ];
    for (const [name, contentType, expected] of table) {
      it(`Discord ${JSON.stringify(name.slice(0, 40))} (${contentType ?? 'no type'}) -> ${expected}`, () => {
        let r: { ok: true } | { ok: false; error: PortraitError };
        try {
          declaredSelfies([{ url, contentType, size: 1000, name }], limits, 'slots');
          r = { ok: true };
        } catch (error) {
          if (!(error instanceof PortraitError)) throw error;
          r = { ok: false, error };
        }
        assert.equal(r.ok ? 'ok' : r.error.code, expected);
        // A refusal's details never quote the name.
        if (!r.ok) assert.ok(!JSON.stringify(r.error.details).includes(name.slice(0, 8)), JSON.stringify(r.error));
      });
    }
    it('Slack decides from the declared type alone; a name never changes the outcome', () => {
      const slack = { maxBytes: 1 << 20, allowedHosts: ['files.slack.com'] };
      const url_private_download = 'https://files.slack.com/files-pri/T1-F1/x';
      for (const name of [ESC_NAME, RLO_NAME, '../../etc/passwd.jpg', 'x.pdf']) {
        const [ok] = checkSlackFiles(
          [{ name, mimetype: 'image/jpeg', filetype: 'jpg', size: 10, url_private_download }],
          slack,
        );
        assert.equal(ok?.name, name);
        assert.throws(
          () =>
            checkSlackFiles(
              [{ name, mimetype: 'application/pdf', filetype: 'pdf', size: 10, url_private_download }],
              slack,
            ),
          /not an image/,
        );
      }
    });
  });

  describe('in the CLI, printed escaped', () => {
    let cwd: string;
    before(async () => {
      cwd = await mkdtemp(join(tmpdir(), 'portrait-names-'));
    });
    after(async () => {
      await rm(cwd, { recursive: true, force: true });
    });

    it('escapes control and bidirectional characters, and nothing else', () => {
      assert.equal(printable(ESC_NAME), 'me\\u001b[31mRED\\u001b]0;pwned\\u0007.jpg');
      assert.equal(printable(RLO_NAME), 'selfie\\u202egpj.exe');
      assert.equal(printable('mes photos/été 2024 😀.jpg'), 'mes photos/été 2024 😀.jpg');
    });

    for (const name of [ESC_NAME, RLO_NAME, '../../etc/passwd.jpg']) {
      it(`portrait generate --selfie ${JSON.stringify(name)} (missing) answers with the name escaped`, async () => {
        const child = spawn(
          process.execPath,
          [resolve(PROJECT_ROOT, 'bin/portrait.mjs'), 'generate', '--selfie', name],
          {
            cwd,
            env: { PATH: process.env['PATH'] ?? '', HOME: cwd },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString('utf8');
        });
        child.stderr.on('data', (b: Buffer) => {
          out += b.toString('utf8');
        });
        const [code] = await once(child, 'exit');
        assert.equal(code, 2, out);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for raw control characters is the point
        assert.doesNotMatch(out, /[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e]/, JSON.stringify(out));
        assert.ok(out.includes(printable(name)), out);
        assert.deepEqual(await readdir(cwd), [], 'nothing written');
      });
    }
  });
});
