import { type DestinationStream, type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Config } from './config.js';
import { secretsOf } from './config.js';

export type { Logger } from 'pino';

/**
 * Where log lines go: JSON lines on stderr for machines (a process manager, a log shipper, `jq`), or one readable line
 * per entry (time, level, message, then the fields) when a person watches: stderr is a terminal, or
 * LOG_FORMAT=pretty. LOG_FORMAT=json forces JSON on a terminal too. Secrets are scrubbed before either.
 */
export function logDestination(
  config: Partial<Pick<Config, 'LOG_FORMAT'>>,
  stderr: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): DestinationStream {
  const pretty = config.LOG_FORMAT === 'pretty' || (config.LOG_FORMAT === undefined && stderr.isTTY === true);
  if (!pretty) return stderr === process.stderr ? pino.destination({ fd: 2, sync: false }) : stderr;
  return PinoPretty({
    destination: stderr,
    colorize: stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    singleLine: true,
    sync: true,
  });
}

/**
 * Structured logs on stderr (stdout stays for CLI output), as `logDestination` picks. Configured secrets are
 * replaced wherever they appear in a message or field, so a token pasted into an error text still never reaches the
 * log.
 *
 * Lines of one portrait job carry `jobId` and `requestId` (the adapter's interaction or event id, `cli-<uuid>` for the
 * CLI): from submit through the worker and its pipeline thread to the adapter posting the answer, so
 * `jq 'select(.requestId == "...")'` shows one request's whole story. `destination` replaces stderr (tests).
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'> & Partial<Config>,
  name = 'portrait',
  destination: DestinationStream = logDestination(config),
): Logger {
  const secrets = secretsOf(config as Config);
  return pino(
    {
      name,
      level: config.LOG_LEVEL,
      redact: { paths: ['*.token', '*.authorization', '*.headers.authorization', 'token'], censor: '[redacted]' },
      hooks: { streamWrite: (line) => scrub(line, secrets) },
    },
    destination,
  );
}

export function scrub(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join('[redacted]');
  return out;
}

/** A logger that drops everything: for tests and for library code used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
