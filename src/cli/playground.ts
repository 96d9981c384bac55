import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { PortraitError } from '../errors.js';
import type { Logger } from '../log.js';
import { isLoopbackHost } from '../playground/host.js';
import { Shutdown, stopOnSignals } from './shutdown.js';

export const PLAYGROUND_HELP = `portrait playground [--port N] [--host H] [--no-worker]

A page in your browser to try every pose, lighting and style on your own selfies, through the same queue and
worker as the chat bots (no chat token needed). Uses REDIS_URL, or an embedded redis-server under .data/.

  --port N       port to listen on (default 7860; 0 picks a free one)
  --host H       address to listen on (default 127.0.0.1, this machine only). 0.0.0.0 opens it to your network:
                 anyone who can reach it can use your worker.
  --no-worker    do not run a pipeline worker here; the workers of the configured Redis make the portraits
  -h, --help     this text
`;

/** `portrait playground`: runs until a signal; returns an exit code only when it could not start. */
export async function playgroundCommand(argv: string[], config: Config, log: Logger): Promise<number | undefined> {
  let values: { port?: string; host?: string; 'no-worker'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'no-worker': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${PLAYGROUND_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(PLAYGROUND_HELP);
    return 0;
  }
  const port = values.port === undefined ? 7860 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a whole number from 0 to 65535 (got '${values.port}').\n`);
    return 2;
  }
  const host = values.host?.trim() || '127.0.0.1';
  if (values['no-worker'] && !config.REDIS_URL) {
    process.stderr.write(
      '--no-worker needs a shared Redis that workers use: set REDIS_URL (with the embedded Redis no worker could take the jobs).\n',
    );
    return 2;
  }

  const shutdown = new Shutdown(log, config.PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS * 1000);
  stopOnSignals(shutdown, log);
  const { startPlayground } = await import('../playground/index.js');
  let running: Awaited<ReturnType<typeof startPlayground>>;
  try {
    running = await startPlayground(config, log, { host, port, worker: !values['no-worker'] });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      process.stderr.write(
        `Port ${port} is already in use: pass --port with another number (--port 0 picks a free one).\n`,
      );
      return 2;
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      process.stderr.write(
        `Cannot listen on '${host}': pass --host with an address of this machine (default 127.0.0.1).\n`,
      );
      return 2;
    }
    // A missing or damaged model: its message names the file and what to set (PORTRAIT_MODELS_DIR ...).
    if (err instanceof PortraitError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  shutdown.addResource({ name: 'playground', close: () => running.close() });
  process.stdout.write(`Portrait playground: ${running.url}\n`);
  if (!isLoopbackHost(host)) {
    process.stderr.write(
      `Listening on ${host}: anyone who can reach this address can make portraits with your worker. Stop with Ctrl-C.\n`,
    );
  }
  return undefined;
}
