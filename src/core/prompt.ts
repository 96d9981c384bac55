import { PortraitError } from '../errors.js';
import { parseLighting } from './lighting.js';
import { parsePose } from './pose.js';
import { MAX_VARIATIONS } from './request.js';
import { closest, editDistance } from './typos.js';

/**
 * The forgiving request grammar of chat messages, e.g.
 *   `pose: three-quarter left, light: golden hour, style: oil painting, 2 variations, seed 42`
 *   `profile right in golden hour light, oil painting`
 * - keys in any order, with aliases (`light`/`lighting`, `variants`/`variations` ...) and `:` or `=`;
 * - counts and seeds also as phrases: `2 variations`, `variations 2`, `seed 42`;
 * - text without a key is recognised as a pose or a lighting preset (matched loosely by their own parsers),
 *   otherwise it becomes the style; a short phrase that is almost a preset is refused with a suggestion instead of
 *   silently becoming a style ("profle left" -> "Did you mean 'profile left'?");
 * - a keyed value that swallowed the next unkeyed phrase (`light: golden hour, oil painting`) is split back.
 * Platform-neutral: the adapter removes its own mention markup first. Never throws.
 */

export interface PromptFields {
  /** Canonical pose label from the pose parser. */
  pose?: string;
  /** Canonical lighting label from the lighting parser. */
  lighting?: string;
  style?: string;
  variations?: number;
  seed?: number;
}

export type PromptResult = { ok: true; value: PromptFields } | { ok: false; error: PortraitError };

/** A preset parser reduced to what the grammar needs: the canonical label, or the parser's own error. */
export type LabelResult = { ok: true; label: string } | { ok: false; error: PortraitError };

export interface PromptVocabulary {
  pose(text: string): LabelResult;
  lighting(text: string): LabelResult;
}

type Field = keyof PromptFields;

/** Every key users type, lower-case, mapped to its field. */
export const PROMPT_KEYS: Readonly<Record<string, Field>> = {
  pose: 'pose',
  head: 'pose',
  angle: 'pose',
  view: 'pose',
  light: 'lighting',
  lights: 'lighting',
  lighting: 'lighting',
  lit: 'lighting',
  style: 'style',
  prompt: 'style',
  variations: 'variations',
  variation: 'variations',
  variants: 'variations',
  variant: 'variations',
  versions: 'variations',
  count: 'variations',
  seed: 'seed',
};

const KEY_NAMES = 'pose, lighting, style, variations or seed';
const MAX_SEED = 2 ** 32 - 1;

/** The lighting parser of src/core/lighting.ts, reduced to its label. */
export const lightingLabel = (text: string): LabelResult => {
  const r = parseLighting(text);
  return r.ok ? { ok: true, label: r.value.label } : { ok: false, error: r.error };
};

/** The pose parser of src/core/pose.ts, reduced to its label. */
export const poseLabel = (text: string): LabelResult => {
  const r = parsePose(text);
  return r.ok ? { ok: true, label: r.value.label } : { ok: false, error: r.error };
};

/** The presets of src/core: what every adapter uses; tests may pass their own. */
export const DEFAULT_VOCABULARY: PromptVocabulary = { pose: poseLabel, lighting: lightingLabel };

interface Span {
  start: number;
  end: number;
}

/** Parses a chat request. Empty text gives `{}` (every field defaulted by the caller). */
export function parsePrompt(text: string, vocabulary: PromptVocabulary = DEFAULT_VOCABULARY): PromptResult {
  const fields: PromptFields = {};
  // Keyed values win over values recognised from unkeyed text, whatever the order.
  const keyed = new Set<Field>();
  let input = ` ${text.replace(/[\u2018\u2019]/g, "'").replace(/[\u201C\u201D]/g, '"')} `;

  // 1. Count and seed phrases anywhere: "2 variations", "variations 2", "seed 42", "seed #42".
  const phrases: Array<[RegExp, Field]> = [
    [/(?<![\w=:])(?<n>\d+)\s*(?:variations?|variants?|versions?|takes?)\b/gi, 'variations'],
    [/\b(?:variations?|variants?|versions?)\s+(?<n>\d+)\b/gi, 'variations'],
    [/\bseed\s*#?\s*(?<n>-?\d+)\b/gi, 'seed'],
  ];
  for (const [re, field] of phrases) {
    for (const m of input.matchAll(re)) {
      const err = setNumber(fields, field, m.groups?.['n'] ?? '');
      if (err) return { ok: false, error: err };
      keyed.add(field);
    }
    input = input.replace(re, ', ');
  }

  // 2. Keyed values: "key: value" or "key = value", each running up to the next key.
  const keyRe = /(?<![\w-])(?<key>[a-z][a-z]*)\s*[:=]/gi;
  const keys: Array<Span & { field: Field; valueStart: number }> = [];
  for (const m of input.matchAll(keyRe)) {
    const word = (m.groups?.['key'] ?? '').toLowerCase();
    const field = PROMPT_KEYS[word];
    const start = m.index ?? 0;
    if (field) {
      keys.push({ field, start, end: start + m[0].length, valueStart: start + m[0].length });
      continue;
    }
    // "lightning: golden hour": a misspelt key is refused rather than read as a style.
    if (m[0].includes(':')) {
      const near = closest(word, Object.keys(PROMPT_KEYS), word.length <= 4 ? 1 : 2);
      if (near) {
        return {
          ok: false,
          error: new PortraitError('request.bad_option', `unknown option '${word}'`, {
            option: `The option '${word.slice(0, 30)}'`,
            expected: `use ${KEY_NAMES} (did you mean '${PROMPT_KEYS[near]}'?)`,
          }),
        };
      }
    }
  }

  const unkeyed: string[] = [];
  unkeyed.push(input.slice(0, keys[0]?.start ?? input.length));
  for (const [i, k] of keys.entries()) {
    const raw = input.slice(k.valueStart, keys[i + 1]?.start ?? input.length);
    const value = tidy(raw);
    // "pose:" with nothing after it asks for nothing; the default applies.
    if (value === '') continue;
    if (k.field === 'variations' || k.field === 'seed') {
      const m = /^#?\s*(-?\d+)\b(?<rest>.*)$/s.exec(value);
      const err = setNumber(fields, k.field, m ? (m[1] ?? '') : value);
      if (err) return { ok: false, error: err };
      keyed.add(k.field);
      if (m?.groups?.['rest']) unkeyed.push(m.groups['rest']);
      continue;
    }
    if (k.field === 'style') {
      fields.style = value;
      keyed.add('style');
      continue;
    }
    // pose / lighting: the longest comma-prefix the parser accepts; the rest goes back to the unkeyed text.
    const parser = k.field === 'pose' ? vocabulary.pose : vocabulary.lighting;
    const parsed = parseLongestPrefix(value, parser);
    if (!parsed.ok) return parsed;
    fields[k.field] = parsed.label;
    keyed.add(k.field);
    if (parsed.rest) unkeyed.push(parsed.rest);
  }

  // 3. Unkeyed phrases: a pose, a lighting, or part of the style.
  const styleParts: string[] = [];
  let poseText: string | undefined;
  for (const segment of unkeyed.flatMap(splitSegments)) {
    const recognised = recognise(segment, vocabulary);
    if (!recognised.ok) return recognised;
    if (recognised.kind === 'style') {
      styleParts.push(segment);
      continue;
    }
    for (const [field, label] of recognised.found) {
      if (keyed.has(field)) continue;
      if (field === 'pose' && poseText !== undefined) {
        // "three-quarter left, look up": pose parts combine when the pose parser can join them.
        const joined = vocabulary.pose(`${poseText}, ${label}`);
        fields.pose = joined.ok ? joined.label : label;
        poseText = joined.ok ? `${poseText}, ${label}` : label;
        continue;
      }
      if (field === 'pose') poseText = label;
      fields[field] = label;
    }
  }
  if (styleParts.length > 0 && !keyed.has('style')) fields.style = styleParts.join(', ');
  if (fields.style !== undefined) {
    fields.style = fields.style.slice(0, 500);
    if (fields.style === '') delete fields.style;
  }
  return { ok: true, value: fields };
}

/** The default vocabulary with another pose parser (tests). */
export function vocabulary(pose: PromptVocabulary['pose']): PromptVocabulary {
  return { pose, lighting: lightingLabel };
}

function setNumber(fields: PromptFields, field: Field, digits: string): PortraitError | undefined {
  const n = /^-?\d+$/.test(digits.trim()) ? Number(digits.trim()) : Number.NaN;
  if (field === 'variations') {
    if (!Number.isInteger(n) || n < 1 || n > MAX_VARIATIONS) {
      return new PortraitError('request.bad_option', 'variations out of range', {
        option: 'Variations',
        expected: `use a number from 1 to ${MAX_VARIATIONS}`,
        ...(digits ? { got: digits.slice(0, 20) } : {}),
      });
    }
    fields.variations = n;
    return undefined;
  }
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SEED) {
    return new PortraitError('request.bad_option', 'seed out of range', {
      option: 'The seed',
      expected: `use a whole number from 0 to ${MAX_SEED}`,
      ...(digits ? { got: digits.slice(0, 20) } : {}),
    });
  }
  fields.seed = n;
  return undefined;
}

function parseLongestPrefix(
  value: string,
  parser: (text: string) => LabelResult,
): { ok: true; label: string; rest: string } | { ok: false; error: PortraitError } {
  const whole = parser(value);
  if (whole.ok) return { ok: true, label: whole.label, rest: '' };
  const parts = value.split(',');
  for (let n = parts.length - 1; n >= 1; n--) {
    const r = parser(parts.slice(0, n).join(','));
    if (r.ok) return { ok: true, label: r.label, rest: parts.slice(n).join(',') };
  }
  // Report the error for the first phrase: the rest was probably meant for something else.
  const first = parts.length > 1 ? parser(tidy(parts[0] ?? '')) : whole;
  return first.ok ? { ok: false, error: whole.error } : { ok: false, error: first.error };
}

type Recognised =
  | { ok: true; kind: 'preset'; found: Array<['pose' | 'lighting', string]> }
  | { ok: true; kind: 'style' }
  | { ok: false; error: PortraitError };

const CONNECTORS = /\s+(?:in|with|and|under|using)\s+/i;
const FILLER_START =
  /^(?:please\s+|(?:can|could) you\s+|make\s+(?:me\s+)?(?:an?\s+|my\s+)?(?:portrait|picture|photo)?\s*(?:of me\s*)?)+/i;

function recognise(segment: string, vocab: PromptVocabulary): Recognised {
  const text = tidy(segment.replace(FILLER_START, '').replace(/\s+please$/i, ''));
  if (text === '') return { ok: true, kind: 'preset', found: [] };

  const one = recogniseOne(text, vocab);
  if (one) return { ok: true, kind: 'preset', found: [one] };

  // "profile left in golden hour light": every part a preset.
  const parts = text.split(CONNECTORS).map(tidy).filter(Boolean);
  if (parts.length > 1) {
    const found = parts.map((p) => recogniseOne(p, vocab));
    if (found.every((f) => f !== undefined)) return { ok: true, kind: 'preset', found };
  }

  // Nearly a preset: a typo, not a style. Only short phrases, and only close suggestions.
  if (text.split(/\s+/).length <= 3) {
    let best: { error: PortraitError; distance: number } | undefined;
    for (const r of [vocab.pose(text), vocab.lighting(stripLightWord(text))]) {
      if (r.ok) continue;
      const suggestion = r.error.details['suggestion'];
      if (typeof suggestion !== 'string') continue;
      const d = editDistance(text.toLowerCase(), suggestion.toLowerCase());
      const limit = Math.max(1, Math.min(3, Math.floor(text.length / 4)));
      if (d <= limit && (!best || d < best.distance)) best = { error: r.error, distance: d };
    }
    if (best) return { ok: false, error: best.error };
  }
  return { ok: true, kind: 'style' };
}

function recogniseOne(text: string, vocab: PromptVocabulary): ['pose' | 'lighting', string] | undefined {
  const pose = vocab.pose(text);
  if (pose.ok) return ['pose', pose.label];
  const light = vocab.lighting(text);
  if (light.ok) return ['lighting', light.label];
  const stripped = stripLightWord(text);
  if (stripped !== text && stripped !== '') {
    const again = vocab.lighting(stripped);
    if (again.ok) return ['lighting', again.label];
  }
  return undefined;
}

/** "golden hour light", "rembrandt lighting" -> the preset name. */
function stripLightWord(text: string): string {
  return text.replace(/\s+(?:light|lighting|lit|style)$/i, '').trim();
}

function splitSegments(text: string): string[] {
  return text
    .split(/[,;\n]+/)
    .map(tidy)
    .filter(Boolean);
}

/** Trims spaces and the punctuation people put around values. */
function tidy(s: string): string {
  return s
    .replace(/\s+/g, ' ')
    .replace(/^[\s,;.:"'`]+|[\s,;.:"'`!]+$/g, '')
    .trim();
}
