import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { PortraitError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { PipelineInput } from '../../src/pipeline/types.js';
import { PipelineThreads } from '../../src/queue/pipeline-threads.js';
import { REDIS_URL } from '../helpers/env.js';
import { SCRIPTED_PIPELINE } from './helpers.js';

const config = parseConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', REDIS_URL });

const input = (style: string): PipelineInput => ({
  selfies: [new Uint8Array([1, 2, 3])],
  pose: 'front',
  lighting: 'soft',
  style,
  seed: 1,
  variations: 1,
  engine: 'crop',
  outputSize: 64,
  outputFormat: 'png',
  debug: false,
});

const isCancelled = (err: unknown) => err instanceof PortraitError && err.code === 'job.cancelled';

describe('pipeline threads: a cancel before the job reaches a thread', () => {
  it('ends a job waiting for a busy thread at once; the thread goes to the next job', { timeout: 20_000 }, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'pipeline-threads-test-'));
    const gate = join(tmp, 'gate');
    // A grace longer than the test's timeout: a cancel that reached a thread late would show as a hang.
    const run = { onProgress: () => {}, timeoutMs: 60_000, cancelGraceMs: 120_000 };
    const threads = new PipelineThreads(1, SCRIPTED_PIPELINE, config, silentLogger);
    try {
      await threads.ready(false);
      const busy = threads.run(input(`wait-for:${gate}`), run);

      // Already cancelled: refused without taking a thread.
      await assert.rejects(threads.run(input('noop'), { ...run, signal: AbortSignal.abort() }), isCancelled);

      // Cancelled while in line for the busy thread: answered at once, and out of the line.
      const waiting = new AbortController();
      const queued = threads.run(input('noop'), { ...run, signal: waiting.signal });
      const next = threads.run(input('noop'), run);
      waiting.abort();
      await assert.rejects(queued, isCancelled);

      writeFileSync(gate, '');
      assert.equal((await busy).engine, 'crop');
      // The thread went to the job behind the cancelled one, and no thread was ended.
      assert.equal((await next).engine, 'crop');
      assert.equal(threads.threadCount, 1);
    } finally {
      await threads.close(1000);
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
