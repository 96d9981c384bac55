import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv, parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { closest } from './core/typos.js';

/** The repository root (src/.. or dist/..), so relative defaults do not depend on the caller's cwd. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const int = (min: number, max: number) => {
  const message = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ message }).int({ message }).min(min, { message }).max(max, { message });
};
/**
 * An allow-list entry (DISCORD_CDN_HOSTS, SLACK_FILE_HOSTS): a host name, optionally with a port (`files.example:8443`,
 * `[::1]:8080`). Returns the lower-case host name and the port ('' when none: any port), or why the entry can never
 * match a download URL (a scheme, a path, a user name).
 */
export function parseHostEntry(entry: string): { hostname: string; port: string } | { problem: string } {
  const host = entry.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    return {
      problem: `'${host}' has a scheme: write the host alone, e.g. ${host.replace(/^[^:]+:\/\//, '').split('/')[0]}`,
    };
  }
  let url: URL;
  try {
    url = new URL(`https://${host}`);
  } catch {
    return { problem: `'${host}' is not a host name (expected e.g. files.example.com or files.example.com:8443)` };
  }
  if (url.username || url.password) return { problem: `'${host}' has a user name: write the host alone` };
  if (url.pathname !== '/' || url.search || url.hash || /[/?#]/.test(host)) {
    return { problem: `'${host}' has a path: write the host alone, e.g. ${url.host}` };
  }
  // new URL drops a port that is the scheme's default; keep what was written.
  const port = url.port || (/:443$/.test(host) ? '443' : '');
  return { hostname: url.hostname.toLowerCase(), port };
}

const hostList = list.superRefine((entries, ctx) => {
  for (const entry of entries) {
    const parsed = parseHostEntry(entry);
    if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: parsed.problem });
  }
});

/** Paths are relative to the project root; defaults go through the same resolution (zod skips transforms for them). */
const toAbsolute = (p: string) => resolve(PROJECT_ROOT, p);
const path = z.string().min(1).transform(toAbsolute);
const pathOr = (fallback: string) => z.string().min(1).default(fallback).transform(toAbsolute);
const url = z.url({ message: 'expected a URL such as https://example.com' });
/** Redis speaks its own protocol: an http:// URL (a web console's address, say) can never work. */
const redisUrl = z.string().regex(/^(rediss?:\/\/[^/?#\s]+|unix:\/*[^\s]+)/i, {
  message: 'expected redis://host:6379, rediss://host:6380 (TLS) or unix:/path/to/redis.sock',
});
/**
 * PORTRAIT_MODELS_DIR must be a folder: a typo would otherwise show only as a model missing at the first job. The
 * registry never writes there, so nothing would create it either.
 */
const modelsFolder = z
  .string()
  .min(1)
  .transform(toAbsolute)
  .superRefine((p, ctx) => {
    let folder = false;
    try {
      folder = statSync(p).isDirectory();
    } catch {
      folder = false;
    }
    if (!folder) {
      ctx.addIssue({
        code: 'custom',
        message: `${p} is not a folder: point it at the folder holding the model files, or leave it unset to download them into models/cache`,
      });
    }
  });

/**
 * Every environment variable the product reads, with its default next to it. `.env.example` documents each one.
 * Nothing outside this file reads process.env.
 */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset: readable lines when stderr is a terminal, JSON lines otherwise. */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),

  REDIS_URL: redisUrl.optional(),
  PORTRAIT_DATA_DIR: pathOr('.data'),
  PORTRAIT_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, - or _')
    .default('portrait'),

  PORTRAIT_MODELS_DIR: modelsFolder.optional(),
  PORTRAIT_MODELS_CACHE: pathOr('models/cache'),
  PORTRAIT_MODEL_MIRROR: url.optional(),
  PORTRAIT_EXECUTION_PROVIDER: z.enum(['cpu', 'cuda', 'tensorrt']).default('cpu'),
  PORTRAIT_ORT_THREADS: int(1, 256).default(2),
  PORTRAIT_IDENTITY_MODEL: z.string().min(1).optional(),

  PORTRAIT_ENGINE: z.enum(['compositor', 'crop', 'diffusion']).default('compositor'),
  PORTRAIT_DIFFUSION_PACK: path.optional(),
  PORTRAIT_PREVIEW_INTERVAL_MS: int(0, 3_600_000).default(2000),
  PORTRAIT_OUTPUT_SIZE: int(64, 2048).default(1024),
  PORTRAIT_OUTPUT_FORMAT: z.enum(['webp', 'png']).default('webp'),

  PORTRAIT_MAX_INPUT_BYTES: int(1024, 200 * 1024 * 1024).default(20 * 1024 * 1024),
  // A 200-megapixel phone photo (16320 x 12240) gets through: 48 and 50 MP phone photos were refused at 40 MP. JPEG
  // shrinks while it decodes, so a 200 MP one costs about 0.6 s and 75 MB (a flat 256 MP WebP: 1.3 s, 180 MB).
  PORTRAIT_MAX_INPUT_PIXELS: int(4096, 268_000_000).default(210_000_000),
  PORTRAIT_BLOB_TTL_SECONDS: int(60, 30 * 24 * 3600).default(24 * 3600),

  PORTRAIT_WORKER_CONCURRENCY: int(1, 64).default(1),
  PORTRAIT_JOB_ATTEMPTS: int(1, 20).default(3),
  PORTRAIT_JOB_TIMEOUT_SECONDS: int(5, 24 * 3600).default(600),
  PORTRAIT_SHUTDOWN_TIMEOUT_SECONDS: int(0, 3600).default(30),
  PORTRAIT_USER_IN_FLIGHT: int(1, 100).default(2),
  PORTRAIT_SCOPE_QUEUE_CAP: int(1, 100_000).default(50),
  PORTRAIT_USER_RATE: int(0, 100_000).default(30),
  PORTRAIT_USER_RATE_WINDOW_SECONDS: int(60, 30 * 24 * 3600).default(3600),
  PORTRAIT_EVENT_IN_FLIGHT: int(1, 1000).default(2),
  PORTRAIT_EXIT_WITH_PARENT: z
    .enum(['true', 'false'], { message: 'expected true or false' })
    .default('true')
    .transform((v) => v === 'true'),

  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_APPLICATION_ID: z.string().regex(/^\d+$/, 'expected the numeric application id').optional(),
  DISCORD_GUILD_IDS: list.default([]),
  DISCORD_ALLOWED_CHANNELS: list.default([]),
  DISCORD_CDN_HOSTS: hostList.default(['cdn.discordapp.com', 'media.discordapp.net']),
  DISCORD_API_URL: url.optional(),
  DISCORD_EVENT_ROLES: list.default([]),

  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z.string().min(1).optional(),
  SLACK_PORT: int(1, 65535).default(3000),
  SLACK_API_URL: url.default('https://slack.com/api/'),
  SLACK_FILE_HOSTS: hostList.default(['files.slack.com']),
  SLACK_ALLOWED_CHANNELS: list.default([]),
  SLACK_EVENT_GROUPS: list.default([]),

  HEALTH_PORT: int(0, 65535).optional(),
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
});

export type Config = Readonly<z.infer<typeof schema>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses an environment (process.env by default). Throws a ConfigError naming every bad variable. */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // Empty strings in .env files mean "unset", as they do for most tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration (see .env.example):\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

let cached: Config | undefined;
let fileWarnings: string[] = [];

/** The names this product reads. */
export const CONFIG_NAMES: readonly string[] = Object.keys(schema.shape);

/**
 * Names in a .env file that look like this product's (PORTRAIT_*, DISCORD_*, SLACK_*) but are not read by it: a typo
 * (PORTRAIT_MODEL_DIR) or a leftover would otherwise do nothing, silently. One sentence each, with the nearest name.
 */
export function unknownNames(names: Iterable<string>, source = '.env'): string[] {
  const known = new Set(CONFIG_NAMES);
  const out: string[] = [];
  for (const name of names) {
    if (!/^(PORTRAIT|DISCORD|SLACK)_/.test(name) || known.has(name)) continue;
    const near = closest(name, CONFIG_NAMES);
    out.push(
      `${source} sets ${name}, which portrait does not read${near ? ` (did you mean ${near}?)` : ''}: it has no effect; ` +
        'see .env.example for every variable.',
    );
  }
  return out;
}

/** What getConfig found questionable in .env, for the caller to log once it has a logger. */
export function envFileWarnings(): readonly string[] {
  return fileWarnings;
}

/**
 * The process's configuration: `.env` (when present) under the real environment, parsed once and frozen.
 * `defaults` sit under both (the CLI's quieter log level, say); only the first call's defaults count.
 */
export function getConfig(defaults: Readonly<Record<string, string>> = {}): Config {
  if (!cached) {
    const envFile = resolve(process.cwd(), '.env');
    if (existsSync(envFile)) {
      loadDotenv({ path: envFile, quiet: true });
      fileWarnings = unknownNames(Object.keys(parseDotenv(readFileSync(envFile))));
    }
    cached = parseConfig({ ...defaults, ...process.env });
  }
  return cached;
}

/** The secrets in a config, so logs can redact them (and tests can scan for them). */
export function secretsOf(config: Config): string[] {
  return [config.DISCORD_TOKEN, config.SLACK_BOT_TOKEN, config.SLACK_SIGNING_SECRET, config.SLACK_APP_TOKEN].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
