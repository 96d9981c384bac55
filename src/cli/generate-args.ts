import { parseArgs } from 'node:util';
import {
  ENGINE_NAMES,
  type EngineName,
  MAX_SELFIES,
  MAX_VARIATIONS,
  OUTPUT_FORMATS,
  type OutputFormat,
} from '../core/request.js';
import { styleNames } from '../core/style.js';
import { closest } from '../core/typos.js';
import { PortraitError } from '../errors.js';

export interface GenerateArgs {
  selfies: string[];
  pose: string;
  lighting: string;
  style: string;
  engine?: EngineName;
  /** `--pack DIR`: the diffusion model pack for this run (implies --engine diffusion). */
  pack?: string;
  seed?: number;
  variations: number;
  out: string;
  json: boolean;
  debugDir?: string;
  size?: number;
  format?: OutputFormat;
  help: boolean;
}

/** The style names wrapped under the --style option (the catalogue is src/core/style.ts). */
const STYLE_HELP = wrap(
  `${styleNames().join(', ')}; combine a look and a backdrop: "warm film, studio beige". The diffusion engine also takes free words.`,
  90,
).join(`\n${' '.repeat(21)}`);

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export const GENERATE_HELP = `portrait generate --selfie FILE [options]

  --selfie FILE      a photo of your face (repeat up to ${MAX_SELFIES} times; more photos, better likeness)
  --pose P           front, three-quarter left|right, profile left|right, look up|down, tilt left|right,
                     or degrees: "yaw=25 pitch=-10 roll=0". Left and right are the subject's own.
  --light L          studio, rembrandt, loop, split, butterfly, rim, golden hour, blue hour, window, neon,
                     candle, or "key from left, warm"
  --style S          ${STYLE_HELP}
  --engine NAME      ${ENGINE_NAMES.join(', ')} (default from PORTRAIT_ENGINE)
  --pack DIR         diffusion model pack to run (implies --engine diffusion; default PORTRAIT_DIFFUSION_PACK);
                     checked before anything starts, see models/README.md
  --seed N           seed for reproducible results
  --variations N     1-${MAX_VARIATIONS} portraits (written as NAME-2.webp ...)
  --size N           output size in pixels (default from PORTRAIT_OUTPUT_SIZE)
  --out FILE         output file (default portrait.<format>); the extension picks webp or png
  --debug DIR        write a debug contact sheet explaining every step into DIR
  --json             print one JSON object (code, output paths, timings per stage) instead of text
`;

const bad = (option: string, expected: string) =>
  new PortraitError('request.bad_option', `${option}: ${expected}`, { option, expected });

/** Parses `portrait generate` arguments. Throws PortraitError('request.bad_option') with the option at fault. */
export function parseGenerateArgs(argv: string[]): GenerateArgs {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    throw plainArgumentError(err as Error & { code?: string });
  }
  const selfies = values.selfie ?? [];
  const int = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw bad(`--${name}`, `expected a whole number from ${min} to ${max}`);
    return n;
  };
  if (values.engine !== undefined && !(ENGINE_NAMES as readonly string[]).includes(values.engine)) {
    throw bad('--engine', `expected one of ${ENGINE_NAMES.join(', ')}`);
  }
  if (values.pack !== undefined) {
    if (values.pack === '') throw bad('--pack', 'expected the folder of a diffusion model pack');
    if (values.engine !== undefined && values.engine !== 'diffusion') {
      throw bad('--pack', 'a model pack runs on the diffusion engine: use it with --engine diffusion or alone');
    }
  }
  const engine = values.engine ?? (values.pack !== undefined ? 'diffusion' : undefined);
  const out = values.out ?? 'portrait.webp';
  const ext = out.toLowerCase().split('.').pop() ?? '';
  const format = (OUTPUT_FORMATS as readonly string[]).includes(ext) ? (ext as OutputFormat) : undefined;
  if (values.out !== undefined && !format) throw bad('--out', 'expected a file name ending in .webp or .png');
  const seed = int('seed', values.seed, 0, 2 ** 32 - 1);
  const size = int('size', values.size, 64, 2048);
  return {
    selfies,
    pose: values.pose ?? 'front',
    lighting: values.light ?? 'studio',
    style: values.style ?? '',
    variations: int('variations', values.variations, 1, MAX_VARIATIONS) ?? 1,
    out,
    json: values.json ?? false,
    help: values.help ?? false,
    ...(engine !== undefined ? { engine: engine as EngineName } : {}),
    ...(values.pack !== undefined ? { pack: values.pack } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(size !== undefined ? { size } : {}),
    ...(format ? { format } : {}),
    ...(values.debug !== undefined ? { debugDir: values.debug } : {}),
  };
}

/**
 * node's parseArgs errors in plain words: the option at fault, what it wants, the nearest real option for a typo.
 * Its own texts ("To specify a positional argument starting with a '-', place it at the end of the command after
 * '--'") answer a question nobody asked here.
 */
function plainArgumentError(err: Error & { code?: string }): PortraitError {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  const names = Object.keys(OPTIONS).map((n) => `--${n}`);
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = closest(quoted, names);
      return bad(
        quoted,
        `there is no such option${near ? ` (did you mean ${near}?)` : ''}; see portrait help generate`,
      );
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = quoted.split(' ')[0] ?? quoted;
      if (/argument missing/.test(err.message))
        return bad(name, `it needs a value, e.g. ${name} ${EXAMPLES[name] ?? 'VALUE'}`);
      return bad(name, `it takes no value; write ${name} alone`);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return bad(
        `'${quoted}'`,
        `every value follows its option${/\.(jpe?g|png|webp|heic|gif)$/i.test(quoted) ? `, e.g. --selfie ${quoted}` : ''}; see portrait help generate`,
      );
    default:
      return bad('the arguments', err.message);
  }
}

const EXAMPLES: Record<string, string> = {
  '--selfie': 'path/to/selfie.jpg',
  '--pose': '"three-quarter left"',
  '--light': 'rembrandt',
  '--style': '"oil painting"',
  '--engine': 'compositor',
  '--pack': 'path/to/pack',
  '--seed': '42',
  '--variations': '2',
  '--size': '512',
  '--out': 'portrait.webp',
  '--debug': 'out/',
};

const OPTIONS = {
  selfie: { type: 'string', multiple: true },
  pose: { type: 'string' },
  light: { type: 'string' },
  style: { type: 'string' },
  engine: { type: 'string' },
  pack: { type: 'string' },
  seed: { type: 'string' },
  variations: { type: 'string' },
  size: { type: 'string' },
  out: { type: 'string' },
  debug: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: false, options: OPTIONS });
}
