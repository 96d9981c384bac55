/**
 * A strict reader of Prometheus' text exposition format (version 0.0.4), for tests: every line must be a HELP,
 * a TYPE or a sample of a declared family; histograms must have ordered, cumulative buckets ending in +Inf equal to
 * their _count. Returns the samples keyed by `name{label="value",...}` with labels sorted.
 */
export interface Exposition {
  samples: Map<string, number>;
  types: Map<string, string>;
  /** The value of one sample, by name and labels; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Exposition {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  for (const [i, line] of lines.slice(0, -1).entries()) {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      if (!new RegExp(`^# HELP ${NAME} `).test(line)) throw new Error(`bad HELP, ${where}`);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (!name || !type || !TYPES.has(type) || !new RegExp(`^${NAME}$`).test(name)) {
        throw new Error(`bad TYPE, ${where}`);
      }
      if (types.has(name)) throw new Error(`family declared twice, ${where}`);
      types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample, ${where}`);
    const [, name = '', labelText = '', raw = ''] = m;
    const family = familyOf(name, types);
    if (!family) throw new Error(`sample of an undeclared family, ${where}`);
    const labels = labelText === '' ? [] : splitLabels(labelText).map((l) => parseLabel(l, where));
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
    if (raw === '' || (Number.isNaN(value) && raw !== 'NaN')) throw new Error(`bad value, ${where}`);
    const key = keyOf(name, Object.fromEntries(labels));
    if (samples.has(key)) throw new Error(`duplicate sample, ${where}`);
    samples.set(key, value);
  }
  checkHistograms(samples, types);
  return {
    samples,
    types,
    value: (name, labels = {}) => samples.get(keyOf(name, labels)),
  };
}

function keyOf(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    if (base && (types.get(base) === 'histogram' || types.get(base) === 'summary')) return base;
  }
  return undefined;
}

/** Splits `a="x",b="y, z"` at the commas between labels (not those inside quoted values). */
function splitLabels(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) {
      current += c + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  if (current !== '') out.push(current);
  return out;
}

function parseLabel(text: string, where: string): [string, string] {
  const m = LABEL.exec(text);
  if (!m) throw new Error(`bad label '${text}', ${where}`);
  return [m[1] ?? '', (m[2] ?? '').replace(/\\n/g, '\n').replace(/\\(.)/g, '$1')];
}

/** Buckets of each histogram series: `le` ascending with non-decreasing counts, +Inf last and equal to _count. */
function checkHistograms(samples: Map<string, number>, types: Map<string, string>): void {
  const series = new Map<string, { le: number; count: number }[]>();
  for (const [key, value] of samples) {
    const m = /^([^{]+)_bucket\{(.*)\}$/.exec(key);
    if (!m || types.get(m[1] ?? '') !== 'histogram') continue;
    const labels = Object.fromEntries(splitLabels(m[2] ?? '').map((l) => parseLabel(l, key)));
    const { le, ...rest } = labels;
    if (le === undefined) throw new Error(`bucket without le: ${key}`);
    const id = keyOf(m[1] ?? '', rest);
    const list = series.get(id) ?? [];
    list.push({ le: le === '+Inf' ? Infinity : Number(le), count: value });
    series.set(id, list);
  }
  for (const [id, buckets] of series) {
    buckets.sort((a, b) => a.le - b.le);
    for (let i = 1; i < buckets.length; i++) {
      if ((buckets[i]?.count ?? 0) < (buckets[i - 1]?.count ?? 0)) throw new Error(`buckets not cumulative: ${id}`);
    }
    const last = buckets.at(-1);
    if (last?.le !== Infinity) throw new Error(`no +Inf bucket: ${id}`);
    const name = id.replace(/\{.*$/, '');
    const count = samples.get(id.replace(name, `${name}_count`));
    if (count !== last.count) throw new Error(`+Inf bucket ${last.count} != _count ${count}: ${id}`);
  }
}
