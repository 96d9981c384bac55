import { isPortraitError } from '../errors.js';
import { fetchModels, isModelId, listModels, MODEL_IDS, type ModelId, verifyModels } from '../pipeline/models/index.js';

export const MODELS_HELP = `portrait models list|fetch [id ...|--all]|verify

  list     every model: where it resolves (PORTRAIT_MODELS_DIR, the cache, or not yet downloaded), size, license
  fetch    download the required models (the ids named, or --all with the optional ones) into the cache, checking
           sha256
  verify   check the sha256 of every model file present; exit 1 if one does not match or a required one is missing
`;

/** `portrait models ...`. Returns the exit code. */
export async function modelsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list': {
      const rows = listModels().map((m) => [
        m.id,
        m.location + (m.optional ? ' (optional)' : ''),
        `${(m.bytes / 1e6).toFixed(1)} MB`,
        m.license,
        m.path ?? m.url,
      ]);
      printTable(['id', 'where', 'size', 'license', 'path or url'], rows);
      return 0;
    }
    case 'fetch': {
      // --all: the optional models too (identity score, depth), e.g. to prepare a machine that goes offline.
      const all = rest.includes('--all');
      const ids = all ? [...MODEL_IDS] : rest;
      const unknown = ids.filter((id) => !isModelId(id));
      if (unknown.length > 0) {
        process.stderr.write(`unknown model id: ${unknown.join(', ')} (see: portrait models list)\n`);
        return 2;
      }
      let results: Awaited<ReturnType<typeof fetchModels>>;
      try {
        results = await fetchModels(ids.length > 0 ? (ids as ModelId[]) : undefined);
      } catch (err) {
        // Offline, a wrong mirror, a changed upstream file: the registry's sentence names the file and the way out.
        if (isPortraitError(err) && err.code.startsWith('model.')) {
          process.stderr.write(`${err.message}\n`);
          return 1;
        }
        throw err;
      }
      printTable(
        ['id', 'source', 'path'],
        results.map((r) => [r.id, r.source, r.path]),
      );
      return 0;
    }
    case 'verify': {
      const results = await verifyModels();
      printTable(
        ['id', 'status', 'path'],
        results.map((r) => [
          r.id,
          r.ok === undefined ? (r.optional ? 'missing (optional)' : 'MISSING') : r.ok ? 'ok' : 'SHA256 MISMATCH',
          r.path ?? '-',
        ]),
      );
      const missing = results.filter((r) => r.ok === undefined && !r.optional).map((r) => r.file);
      const wrong = results.filter((r) => r.ok === false).map((r) => r.path ?? r.file);
      if (wrong.length > 0) {
        process.stderr.write(
          `${wrong.join(', ')} ${wrong.length === 1 ? 'does' : 'do'} not match the expected sha256: delete ` +
            `${wrong.length === 1 ? 'it' : 'them'} and run \`npx portrait models fetch\` (a file in PORTRAIT_MODELS_DIR ` +
            'you replace yourself, see `npx portrait models list` for the URLs).\n',
        );
      }
      if (missing.length > 0) {
        process.stderr.write(
          `${missing.length === 1 ? 'A required model is' : 'Required models are'} missing (${missing.join(', ')}): ` +
            'run `npx portrait models fetch`, or set PORTRAIT_MODELS_DIR to a folder holding them.\n',
        );
      }
      return wrong.length > 0 || missing.length > 0 ? 1 : 0;
    }
    default:
      process.stdout.write(MODELS_HELP);
      return sub === undefined || sub === '--help' || sub === 'help' ? 0 : 2;
  }
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
}
