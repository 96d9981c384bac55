import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/config.js';
import { facePath, MODELS_DIR, REDIS_URL, uniquePrefix } from '../helpers/env.js';
import { deleteKeys } from '../helpers/redis.js';

/**
 * The playground in a real browser, as a newcomer uses it: `portrait playground` started as a process, its printed
 * URL opened in Debian's Chromium (driven by playwright-core), a selfie picked, a portrait made and seen; a refusal
 * shown in the bots' sentence; and a page reached through a foreign host name (what DNS rebinding does) refused.
 *
 * Without Chromium the test is skipped with how to install it, except under CI=true, where a missing browser fails.
 */
const CHROMIUM = process.env['PORTRAIT_CHROMIUM'] ?? onPath(['chromium', 'chromium-browser']);
const INSTALL = `Chromium is not installed${CHROMIUM ? ` at ${CHROMIUM}` : ''}: install it with 'apt-get install -y chromium' (Debian/Ubuntu), or set PORTRAIT_CHROMIUM to a Chromium binary`;
const haveBrowser = CHROMIUM !== undefined && existsSync(CHROMIUM);
if (!haveBrowser && process.env['CI'] === 'true') throw new Error(`${INSTALL} (CI=true needs the browser test).`);

const BIN = resolve(PROJECT_ROOT, 'bin/portrait.mjs');
const prefix = uniquePrefix('playground-browser');
const dir = mkdtempSync(join(tmpdir(), 'portrait-playground-'));
/** A name that resolves to 127.0.0.1 in this browser only, as an attacker's rebinding DNS name would. */
const REBIND_NAME = 'rebind.attacker.test';

let child: ChildProcess | undefined;
let url = '';
let browser: Browser | undefined;

/** Starts `portrait playground --port 0` and resolves with the URL it prints. */
function startCli(): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    const proc = spawn(process.execPath, [BIN, 'playground', '--port', '0'], {
      cwd: dir,
      env: {
        PATH: process.env['PATH'] ?? '',
        PORTRAIT_MODELS_DIR: MODELS_DIR,
        PORTRAIT_QUEUE_PREFIX: prefix,
        PORTRAIT_DATA_DIR: join(dir, 'data'),
        PORTRAIT_OUTPUT_SIZE: '384',
        REDIS_URL,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`playground did not print its URL: ${out}${err}`)), 60_000);
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /Portrait playground: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`playground exited with ${code}: ${out}${err}`));
    });
  });
}

function onPath(names: readonly string[]): string | undefined {
  for (const folder of (process.env['PATH'] ?? '').split(delimiter)) {
    for (const name of names) if (folder && existsSync(join(folder, name))) return join(folder, name);
  }
  return undefined;
}

const pageErrors = new WeakMap<Page, string[]>();

/** Closes a page opened by open(), failing the test if its script threw. */
async function close(page: Page): Promise<void> {
  await page.close();
  assert.deepEqual(pageErrors.get(page) ?? [], [], 'no script errors on the page');
}

/**
 * Polls a page expression until it is truthy. Evaluated from here (DevTools protocol), not by waitForFunction,
 * whose string predicates need eval, which the page's Content-Security-Policy rightly forbids.
 */
async function until<T = unknown>(page: Page, expression: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = (await page.evaluate(expression)) as T;
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A page expression: the image's natural size once it has loaded and decoded, else false. */
function loadedSize(selector: string): string {
  return `(() => {
    const img = document.querySelector(${JSON.stringify(selector)});
    return img && img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : false;
  })()`;
}

describe('the playground in Chromium', { skip: haveBrowser ? false : INSTALL }, () => {
  before(async () => {
    url = await startCli();
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: [`--host-resolver-rules=MAP ${REBIND_NAME} 127.0.0.1`],
    });
  });
  after(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    const conn = new Redis(REDIS_URL);
    await deleteKeys(conn, prefix);
    await conn.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const page = await browser!.newPage({ viewport });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    pageErrors.set(page, errors);
    await page.goto(url);
    await page.waitForSelector('#pose-chips .chip');
    return page;
  }

  test('pick a selfie, make a portrait, see it with its caption and what happened', async () => {
    const page = await open();
    await page.setInputFiles('#files', facePath('obama.jpg'));
    await page.waitForSelector('#selfies .selfie.ready');
    await page.click('#pose-chips .chip >> text=three-quarter left');
    await page.click('#lighting-chips .chip >> text=golden hour');
    await page.fill('#seed', '7');
    await page.click('#make');

    await page.waitForSelector('#result:not([hidden])', { timeout: 90_000 });
    assert.deepEqual(await until(page, loadedSize('#result-img')), [384, 384]);
    assert.match(
      await page.textContent('#caption').then(String),
      /^Pose: three-quarter left · Lighting: golden hour · Engine: compositor · Seed: 7 · /,
    );
    assert.equal(await page.getAttribute('#download', 'download'), 'portrait-7.webp');
    assert.equal(await page.locator('#history li').count(), 1);
    // The debug sheet behind "What happened" is an image the browser can decode.
    await page.click('#debug summary');
    assert.ok((await until<number[]>(page, loadedSize('#debug-img')))[0]! > 384);
    await close(page);
  });

  test('a selfie dropped on the page is taken like a picked one', async () => {
    const page = await open({ width: 390, height: 844 });
    const bytes = readFileSync(facePath('obama.jpg')).toString('base64');
    // What a drag from the file manager delivers: a DataTransfer holding the file (the page code is a string: the
    // test compiles without the DOM types).
    await page.evaluate(`(() => {
      const data = Uint8Array.from(atob(${JSON.stringify(bytes)}), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], 'me.jpg', { type: 'image/jpeg' }));
      const target = document.querySelector('#drop');
      target.dispatchEvent(new DragEvent('dragenter', { bubbles: true, dataTransfer: transfer }));
      target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }));
    })()`);
    await page.waitForSelector('#selfies .selfie.ready');
    assert.equal(await page.textContent('#selfie-count'), '1 of 4');
    await close(page);
  });

  test('a refusal shows the sentence the bots would say', async () => {
    const page = await open();
    // A file that is not a photo, refused on upload.
    await page.setInputFiles('#files', { name: 'cv.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('%PDF-1.7 cv') });
    await page.waitForSelector('#selfies-msg.bad');
    assert.equal(
      await page.textContent('#selfies-msg'),
      'Your selfie is not an image (got a PDF). Send a JPEG, PNG, WebP, AVIF or GIF photo.',
    );
    assert.equal(await page.locator('#selfies .selfie').count(), 0, 'the refused file is not kept');
    // A typo in the pose: told under the field as you type, and refused when you press the button anyway.
    await page.setInputFiles('#files', facePath('obama.jpg'));
    await page.waitForSelector('#selfies .selfie.ready');
    await page.fill('#pose', 'profle left');
    await page.waitForSelector('#pose-msg.bad');
    const sentence =
      "I don't know the pose 'profle left'. Did you mean 'profile left'? Try front, three-quarter left, profile right, look up, or yaw=20 pitch=-10.";
    assert.equal(await page.textContent('#pose-msg'), sentence);
    await page.click('#make');
    await until(page, `document.querySelector('#refusal')?.textContent === ${JSON.stringify(sentence)}`);
    await close(page);
  });

  test('a page reached through a foreign host name is refused (DNS rebinding)', async () => {
    const page = await browser!.newPage();
    const port = new URL(url).port;
    const response = await page.goto(`http://${REBIND_NAME}:${port}/`);
    assert.equal(response?.status(), 403);
    assert.match(
      await page.textContent('body').then(String),
      /^Refused: this playground answers only requests addressed to 127\.0\.0\.1:/,
    );
    const api = await page.evaluate(`fetch('/api/catalogue').then((r) => r.status)`);
    assert.equal(api, 403);
    await page.close();
  });
});
