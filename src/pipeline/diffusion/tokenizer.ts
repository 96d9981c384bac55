/**
 * CLIP's byte-level BPE tokenizer (OpenAI CLIP `simple_tokenizer.py`, as Hugging Face's CLIPTokenizer loads it
 * from `vocab.json` + `merges.txt`): clean and lowercase the text, split it with CLIP's regex, map each word's
 * UTF-8 bytes to printable characters, apply the merges by rank with `</w>` marking the end of a word, then
 * wrap in start/end tokens and pad to the model length (77).
 */

export interface TokenizerFiles {
  /** vocab.json: token -> id. */
  vocab: Record<string, number>;
  /** merges.txt contents: an optional `#version` line, then one "left right" merge per line, in rank order. */
  merges: string;
  /** tokenizer_config.json (and special_tokens_map.json merged under it), when the pack has them. */
  config?: TokenizerConfig;
}

type TokenSpec = string | { content: string };

export interface TokenizerConfig {
  bos_token?: TokenSpec | null;
  eos_token?: TokenSpec | null;
  pad_token?: TokenSpec | null;
  unk_token?: TokenSpec | null;
  model_max_length?: number;
}

export type TokenizerResult = { ok: true; tokenizer: ClipTokenizer } | { ok: false; error: string };

const CLIP_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** GPT-2/CLIP's reversible byte -> printable character table: printable Latin-1 stays, the rest shifts past 255. */
function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  const keep = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep(b) ? b : 256 + n++);
  return table;
}

const BYTE_CHARS = bytesToUnicode();

function tokenText(spec: TokenSpec | null | undefined): string | undefined {
  if (spec === null || spec === undefined) return undefined;
  return typeof spec === 'string' ? spec : spec.content;
}

/** The entity decoding of Python's html.unescape that prompts can carry (CLIP runs it twice before BPE). */
function htmlUnescape(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return named[body.toLowerCase()] ?? whole;
  });
}

/** CLIP's text cleaning: NFC, HTML entities, collapsed whitespace, lowercase. */
export function cleanPrompt(text: string): string {
  const unescaped = htmlUnescape(htmlUnescape(text.normalize('NFC'))).trim();
  return unescaped.replace(/\s+/g, ' ').trim().toLowerCase();
}

export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  private readonly vocab: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, number[]>();

  private constructor(
    vocab: Map<string, number>,
    ranks: Map<string, number>,
    ids: { bos: number; eos: number; pad: number },
    maxLength: number,
  ) {
    this.vocab = vocab;
    this.ranks = ranks;
    this.bosId = ids.bos;
    this.eosId = ids.eos;
    this.padId = ids.pad;
    this.maxLength = maxLength;
  }

  /** Builds a tokenizer from a pack's files; a result, not an exception, so the loader can name the bad file. */
  static create(files: TokenizerFiles): TokenizerResult {
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(files.vocab)) {
      if (!Number.isInteger(id) || id < 0) return { ok: false, error: `vocab.json: token ${token} has id ${id}` };
      vocab.set(token, id);
    }
    const ranks = new Map<string, number>();
    const lines = files.merges.split('\n');
    let rank = 0;
    for (const [i, raw] of lines.entries()) {
      const line = raw.replace(/\r$/, '');
      if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
      const parts = line.split(' ');
      if (parts.length !== 2 || !parts[0] || !parts[1]) {
        return { ok: false, error: `merges.txt line ${i + 1}: expected "left right", got "${line.slice(0, 40)}"` };
      }
      if (!vocab.has(parts[0] + parts[1])) {
        return {
          ok: false,
          error: `merges.txt line ${i + 1}: merge result "${parts[0]}${parts[1]}" is not in vocab.json`,
        };
      }
      ranks.set(`${parts[0]} ${parts[1]}`, rank++);
    }
    const config = files.config ?? {};
    const bos = tokenText(config.bos_token) ?? '<|startoftext|>';
    const eos = tokenText(config.eos_token) ?? '<|endoftext|>';
    // CLIP pads with the end token unless the config names another pad (SD 2.x's tokenizer pads with "!").
    const pad = tokenText(config.pad_token) ?? eos;
    const ids: Record<string, number> = {};
    for (const [role, token] of [
      ['bos', bos],
      ['eos', eos],
      ['pad', pad],
    ] as const) {
      const id = vocab.get(token);
      if (id === undefined) return { ok: false, error: `vocab.json has no ${role} token "${token}"` };
      ids[role] = id;
    }
    const maxLength = config.model_max_length;
    // Hugging Face writes a huge sentinel when a tokenizer has no limit; CLIP text encoders take 77.
    const length = maxLength !== undefined && maxLength >= 3 && maxLength <= 4096 ? maxLength : 77;
    for (const b of BYTE_CHARS) {
      if (!vocab.has(b) && !vocab.has(`${b}</w>`)) {
        return { ok: false, error: `vocab.json lacks the byte symbol "${b}": not a byte-level BPE vocabulary` };
      }
    }
    return {
      ok: true,
      tokenizer: new ClipTokenizer(vocab, ranks, { bos: ids.bos!, eos: ids.eos!, pad: ids.pad! }, length),
    };
  }

  /** Token ids of the text alone, without start/end tokens or padding. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanPrompt(text).matchAll(CLIP_PATTERN)) {
      const word = match[0];
      const special = word === '<|startoftext|>' || word === '<|endoftext|>' ? this.vocab.get(word) : undefined;
      if (special !== undefined) {
        ids.push(special);
        continue;
      }
      let encoded = '';
      for (const byte of new TextEncoder().encode(word)) encoded += BYTE_CHARS[byte];
      ids.push(...this.bpe(encoded));
    }
    return ids;
  }

  /**
   * The model input: start token, the text truncated to fit, end token, then padding to `maxLength`
   * (Hugging Face's `padding="max_length", truncation=True`, as the diffusers pipelines call it).
   */
  encode(text: string): number[] {
    const body = this.tokenize(text).slice(0, this.maxLength - 2);
    const ids = [this.bosId, ...body, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return ids;
  }

  private bpe(token: string): number[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    let word = chars.map((c, i) => (i === chars.length - 1 ? `${c}</w>` : c));
    while (word.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // Merge every occurrence of the best pair, left to right, as the reference implementation does.
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    // A symbol missing from the vocabulary cannot happen with a consistent byte-level vocab (checked at load);
    // unknown pieces fall back to their single-byte symbols rather than failing a job.
    const ids: number[] = [];
    for (const piece of word) {
      const id = this.vocab.get(piece);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      const pieceChars = Array.from(piece.replace(/<\/w>$/, ''));
      for (const [i, c] of pieceChars.entries()) {
        const end = i === pieceChars.length - 1 && piece.endsWith('</w>');
        const fallback = this.vocab.get(end ? `${c}</w>` : c) ?? this.vocab.get(c);
        if (fallback !== undefined) ids.push(fallback);
      }
    }
    if (this.cache.size < 10_000) this.cache.set(token, ids);
    return ids;
  }
}
