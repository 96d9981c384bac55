import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import { isPortraitError } from '../../src/errors.js';
import { terminalProgress } from '../../src/pipeline/models/download.js';
import {
  configureModels,
  disposeSessions,
  getSession,
  MODEL_CARDS,
  ModelRegistry,
  modelCard,
  openSession,
  sha256File,
} from '../../src/pipeline/models/index.js';
import { MODELS_DIR } from '../helpers/env.js';

/** A loopback mirror: serves MODELS_DIR files by name, with per-name overrides (bad bytes, status codes). */
async function startMirror(overrides: Record<string, Buffer | number> = {}) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    hits.push(name);
    const o = overrides[name];
    if (typeof o === 'number') {
      res.writeHead(o).end();
    } else if (o) {
      res.writeHead(200, { 'content-length': o.length }).end(o);
    } else {
      const path = join(MODELS_DIR, name);
      stat(path).then(
        (st) => {
          res.writeHead(200, { 'content-length': st.size });
          createReadStream(path).pipe(res);
        },
        () => res.writeHead(404).end(),
      );
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await promise.then(
    () => assert.fail('expected a PortraitError'),
    (e: unknown) => e,
  );
  assert.ok(isPortraitError(err), String(err));
  return { code: err.code, message: err.message };
}

describe('model registry', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portrait-models-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds every model in PORTRAIT_MODELS_DIR and verifies its sha256', async () => {
    const registry = new ModelRegistry({ PORTRAIT_MODELS_DIR: MODELS_DIR, PORTRAIT_MODELS_CACHE: join(dir, 'unused') });
    const listed = registry.list();
    assert.deepEqual(
      listed.map((m) => m.id),
      MODEL_CARDS.map((c) => c.id),
    );
    assert.ok(listed.every((m) => m.location === 'models-dir'));
    const verified = await registry.verify();
    assert.ok(
      verified.every((v) => v.ok === true),
      JSON.stringify(verified),
    );
    const yunet = await registry.ensure('yunet');
    assert.equal(yunet.source, 'models-dir');
    assert.equal(yunet.path, join(MODELS_DIR, 'yunet_n_dynamic.onnx'));
  });

  it('refuses a wrong file in PORTRAIT_MODELS_DIR with model.checksum and leaves it alone', async () => {
    const bad = join(dir, 'bad-dir');
    await rm(bad, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(bad));
    const card = modelCard('yunet');
    // Same size as the real file, different bytes: only the hash can tell.
    await writeFile(join(bad, card.file), Buffer.alloc(card.bytes, 7));
    const registry = new ModelRegistry({ PORTRAIT_MODELS_DIR: bad, PORTRAIT_MODELS_CACHE: join(dir, 'c0') });
    const { code, message } = await codeOf(registry.resolve('yunet'));
    assert.equal(code, 'model.checksum');
    assert.match(message, /sha256/);
    assert.equal((await stat(join(bad, card.file))).size, card.bytes);
    const verified = await registry.verify();
    assert.equal(verified.find((v) => v.id === 'yunet')?.ok, false);
  });

  it('downloads from the mirror into the cache, checks the sha256, writes atomically, then reuses the cache', async () => {
    const mirror = await startMirror();
    try {
      const cache = join(dir, 'c1');
      const registry = new ModelRegistry({ PORTRAIT_MODELS_CACHE: cache, PORTRAIT_MODEL_MIRROR: mirror.url });
      const card = modelCard('yunet');
      assert.equal(registry.sourceUrl(card), `${mirror.url}${card.file}`);
      let last = 0;
      const first = await registry.ensure('yunet', { progress: false, onProgress: (received) => (last = received) });
      assert.equal(first.source, 'downloaded');
      assert.equal(first.path, join(cache, card.file));
      assert.equal(last, card.bytes);
      assert.equal(await sha256File(first.path), card.sha256);
      assert.deepEqual(await readdir(cache), [card.file]);
      const again = await registry.ensure('yunet');
      assert.equal(again.source, 'cache');
      // A fresh registry (a new process) finds the cached file and hashes it instead of downloading.
      const fresh = await new ModelRegistry({ PORTRAIT_MODELS_CACHE: cache, PORTRAIT_MODEL_MIRROR: mirror.url }).ensure(
        'yunet',
      );
      assert.equal(fresh.source, 'cache');
      assert.deepEqual(mirror.hits, [card.file]);
    } finally {
      await mirror.close();
    }
  });

  it('shares one download between concurrent callers and fetches required models by default', async () => {
    const mirror = await startMirror();
    try {
      const registry = new ModelRegistry({ PORTRAIT_MODELS_CACHE: join(dir, 'c2'), PORTRAIT_MODEL_MIRROR: mirror.url });
      const [a, b] = await Promise.all([registry.resolve('iris'), registry.resolve('iris')]);
      assert.equal(a, b);
      const fetched = await registry.fetch(undefined, { progress: false });
      assert.deepEqual(
        fetched.map((f) => f.id),
        ['yunet', 'face-mesh', 'iris', 'selfie-segmentation', 'skin-clothes-hair', 'depth'],
      );
      assert.equal(fetched.find((f) => f.id === 'iris')?.source, 'cache');
      assert.equal(mirror.hits.filter((h) => h === modelCard('iris').file).length, 1);
    } finally {
      await mirror.close();
    }
  });

  it('rejects a download with the wrong sha256 (model.checksum) and leaves nothing in the cache', async () => {
    const card = modelCard('face-mesh');
    const mirror = await startMirror({ [card.file]: Buffer.from('not the model you are looking for') });
    try {
      const cache = join(dir, 'c3');
      const registry = new ModelRegistry({ PORTRAIT_MODELS_CACHE: cache, PORTRAIT_MODEL_MIRROR: mirror.url });
      const { code } = await codeOf(registry.resolve('face-mesh', { progress: false }));
      assert.equal(code, 'model.checksum');
      assert.deepEqual(await readdir(cache), []);
    } finally {
      await mirror.close();
    }
  });

  it('replaces a tampered cache file with a fresh download', async () => {
    const mirror = await startMirror();
    try {
      const cache = join(dir, 'c4');
      const card = modelCard('yunet');
      const registry = new ModelRegistry({ PORTRAIT_MODELS_CACHE: cache, PORTRAIT_MODEL_MIRROR: mirror.url });
      await registry.resolve('yunet');
      await writeFile(join(cache, card.file), Buffer.alloc(10));
      const again = await new ModelRegistry({ PORTRAIT_MODELS_CACHE: cache, PORTRAIT_MODEL_MIRROR: mirror.url }).ensure(
        'yunet',
      );
      assert.equal(again.source, 'downloaded');
      assert.equal(await sha256File(again.path), card.sha256);
    } finally {
      await mirror.close();
    }
  });

  it('says how to provide the file when it is missing and cannot be fetched (model.missing)', async () => {
    const mirror = await startMirror({ [modelCard('yunet').file]: 404 });
    const unreachable = await startMirror();
    const deadUrl = unreachable.url;
    await unreachable.close();
    try {
      for (const url of [mirror.url, deadUrl]) {
        const registry = new ModelRegistry({ PORTRAIT_MODELS_CACHE: join(dir, 'c5'), PORTRAIT_MODEL_MIRROR: url });
        const { code, message } = await codeOf(registry.resolve('yunet', { progress: false }));
        assert.equal(code, 'model.missing');
        assert.match(message, /PORTRAIT_MODELS_DIR/);
        assert.match(message, /PORTRAIT_MODEL_MIRROR/);
      }
      const offline = new ModelRegistry({ PORTRAIT_MODELS_CACHE: join(dir, 'c6') });
      const { code } = await codeOf(offline.resolve('yunet', { download: false }));
      assert.equal(code, 'model.missing');
      assert.equal(offline.sourceUrl(modelCard('yunet')), modelCard('yunet').url);
      assert.equal(offline.list().find((m) => m.id === 'yunet')?.location, 'missing');
    } finally {
      await mirror.close();
    }
  });
});

describe('download progress bar', () => {
  it('draws on a terminal and stays silent otherwise', () => {
    const written: string[] = [];
    const fake = (isTTY: boolean) =>
      ({ isTTY, write: (s: string) => written.push(s) }) as unknown as NodeJS.WriteStream;
    const bar = terminalProgress('downloading x.onnx', fake(true));
    bar.onProgress(512, 1024);
    bar.onProgress(1024, 1024);
    bar.done();
    assert.match(written[0] ?? '', /^\rdownloading x\.onnx \[#+\.+\] +50%/);
    assert.match(written[1] ?? '', /100%/);
    assert.equal(written.at(-1), '\n');
    written.length = 0;
    const quiet = terminalProgress('downloading x.onnx', fake(false));
    quiet.onProgress(1024, 1024);
    quiet.done();
    assert.deepEqual(written, []);
  });
});

describe('ORT sessions', () => {
  after(async () => {
    await disposeSessions();
  });

  it('creates a session once per process and reuses it until disposed', async () => {
    await configureModels(parseConfig({ PORTRAIT_MODELS_DIR: MODELS_DIR }));
    const [a, b] = await Promise.all([getSession('yunet'), getSession('yunet')]);
    assert.equal(a, b);
    assert.equal(await getSession('yunet'), a);
    assert.deepEqual(a.inputNames, ['input']);
    await disposeSessions();
    const c = await getSession('yunet');
    assert.notEqual(c, a);
  });

  it('falls back to CPU with a warning when the GPU provider cannot start', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'warn' }, sink);
    const opened = await openSession(join(MODELS_DIR, 'mediapipe-iris_landmark_barracuda.onnx'), {
      provider: 'cuda',
      threads: 1,
      logger,
    });
    try {
      // This build installs onnxruntime-node for CPU; a CUDA build on a GPU host would keep 'cuda'.
      if (opened.provider === 'cpu') {
        assert.equal(lines.length, 1);
        assert.match(lines[0] ?? '', /execution provider cuda is unavailable for .+; running on cpu/);
      } else {
        assert.equal(opened.provider, 'cuda');
      }
      assert.deepEqual(opened.session.inputNames, ['input_1']);
    } finally {
      await opened.session.release();
    }
  });

  it('reports a file onnxruntime cannot load as model.invalid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portrait-badonnx-'));
    try {
      const path = join(dir, 'broken.onnx');
      await writeFile(path, (await readFile(join(MODELS_DIR, 'yunet_n_dynamic.onnx'))).subarray(0, 5000));
      const { code } = await codeOf(openSession(path, { provider: 'cpu', threads: 1 }));
      assert.equal(code, 'model.invalid');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
