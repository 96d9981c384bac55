#!/usr/bin/env node
// The layering check (npm run layers): dependency-cruiser's rules (.dependency-cruiser.cjs) over src/. Prints each
// violation and exits 1 when there is one; `--graph` prints the import graph between the top-level modules of src/
// as Mermaid instead (docs/architecture.md shows it).
//
// dependency-cruiser reads TypeScript through the TypeScript compiler API, which TypeScript 7 (this project's) does
// not offer, and its CLI refuses Node 20. So the sources are first transpiled one file at a time by esbuild (tsx's,
// types stripped, import paths unchanged) into .layers/, and the API cruises that: the graph of what really loads at
// run time. Type-only imports are erased, so a type shared across layers is never a violation.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { cruise, format } from 'dependency-cruiser';
import { transform } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, '.layers');
const require = createRequire(import.meta.url);
const config = require('../.dependency-cruiser.cjs');
const graph = process.argv.includes('--graph');

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

rmSync(out, { recursive: true, force: true });
for (const file of files(join(root, 'src'))) {
  const rel = relative(root, file);
  const target = join(out, rel.replace(/\.ts$/, '.js'));
  mkdirSync(dirname(target), { recursive: true });
  const source = readFileSync(file, 'utf8');
  if (!file.endsWith('.ts')) {
    writeFileSync(target, source);
    continue;
  }
  const { code } = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: rel });
  writeFileSync(target, code);
}

try {
  process.chdir(out);
  const result = await cruise(['src'], {
    ...config.options,
    ruleSet: { forbidden: config.forbidden },
    validate: true,
  });
  const { summary } = result.output;
  if (graph) process.stdout.write(layerGraph(result.output.modules));
  else {
    const report = await format(result.output, { outputType: 'err-long' });
    process.stdout.write(String(report.output));
    process.stdout.write(
      `\n${summary.totalCruised} modules, ${summary.totalDependenciesCruised} imports, ${summary.error} layering violations\n`,
    );
  }
  process.exitCode = summary.error > 0 ? 1 : 0;
} finally {
  process.chdir(root);
  rmSync(out, { recursive: true, force: true });
}

/** The imports between src/'s top-level parts (a folder, or errors/log/config together as "base"), as Mermaid. */
function layerGraph(modules) {
  const part = (path) => {
    const m = /^src\/([^/]+)\//.exec(path);
    if (m) return m[1];
    return /^src\/(errors|log|config)\.js$/.test(path) ? 'base' : undefined;
  };
  const edges = new Map();
  for (const mod of modules) {
    const from = part(mod.source);
    if (!from) continue;
    for (const dep of mod.dependencies) {
      const to = part(dep.resolved);
      if (!to || to === from) continue;
      const key = `${from} --> ${to}`;
      edges.set(key, (edges.get(key) ?? 0) + 1);
    }
  }
  const lines = [...edges.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([e, n]) => `  ${e.replace(' --> ', ` -->|${n}| `)}`);
  return `flowchart TD\n${lines.join('\n')}\n`;
}
