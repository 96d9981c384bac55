/**
 * `npm run bench`: runs every benchmark module in bench/ (or the ones named on the command line, e.g.
 * `npm run bench -- ingest queue`) and prints the machine it ran on first, since numbers mean nothing without it.
 */
import { readdirSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

import { MODELS_DIR } from '../test/helpers/env.js';

// Benchmarks use the offline models beside the repository when nothing else is configured, as the tests do.
process.env['PORTRAIT_MODELS_DIR'] ??= MODELS_DIR;

const here = new URL('.', import.meta.url);
const wanted = process.argv.slice(2);
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `machine: ${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
);
for (const name of names) {
  console.log(`\n== ${name}`);
  const mod = (await import(new URL(`./${name}.ts`, here).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts exports no run()`);
  await mod.run();
}
// Benchmarks leave Redis connections and ORT sessions behind; end the process rather than wait on them.
process.exit(0);
