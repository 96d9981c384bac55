/**
 * Entry of a pipeline thread: loads the pipeline module once, creates one Pipeline (its ORT sessions live as long as
 * the thread) and runs one job at a time for the main thread. Synchronous image and ORT work blocks only this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { PortraitError } from '../errors.js';
import {
  type FromThread,
  type PipelineLike,
  type PipelineModule,
  type ThreadData,
  type ToThread,
  toThreadError,
} from './thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('pipeline-thread must run in a worker thread');
const data = workerData as ThreadData;
const cancel = new Int32Array(data.cancelFlag);
const send = (message: FromThread) => port.postMessage(message);
// The pipeline's lines go to the main thread, which adds the running job's ids and writes them with its own logger
// (its destination, its secret scrubbing): a thread writing to stderr itself could not say which job a line is of.
const logger = pino(
  { level: data.logLevel, base: null, timestamp: false },
  { write: (line: string) => send({ type: 'log', line }) },
);

async function load(): Promise<PipelineLike | undefined> {
  try {
    const mod = (await import(data.pipelineModule)) as Partial<PipelineModule>;
    if (typeof mod.createPipeline !== 'function') {
      throw new Error(`${data.pipelineModule} exports no createPipeline(config)`);
    }
    return await mod.createPipeline(data.config, { logger });
  } catch (err) {
    // The main thread terminates this thread on init-error; nothing is listened to, so it may also just end.
    send({ type: 'init-error', error: toThreadError(err) });
    return undefined;
  }
}

const pipeline = await load();
if (pipeline) {
  let running: AbortController | undefined;
  port.on('message', async (message: ToThread) => {
    if (message.type === 'dispose') {
      await pipeline.dispose().catch(() => {});
      port.close();
      return;
    }
    if (message.type === 'cancel') {
      // Reaches the pipeline while it awaits (ORT runs inference off this thread's event loop).
      running?.abort(new PortraitError('job.cancelled', 'cancelled while running'));
      return;
    }
    running = new AbortController();
    try {
      const output = await pipeline.run(
        message.input,
        (progress) => {
          // Checked at every progress report, for stages that never yield: a cancelled job stops at the next stage
          // boundary without losing the thread (and its loaded models). The main thread ends the thread if that
          // takes too long.
          if (Atomics.load(cancel, 0) === 1) throw new PortraitError('job.cancelled', 'cancelled while running');
          send({ type: 'progress', progress });
        },
        running.signal,
      );
      send({ type: 'done', output });
    } catch (err) {
      // However the pipeline reports an abort (AbortError, its own error), it was our cancel.
      const cancelled = running.signal.aborted ? running.signal.reason : err;
      send({ type: 'error', error: toThreadError(cancelled) });
    } finally {
      running = undefined;
    }
  });
  send({ type: 'ready' });
}
