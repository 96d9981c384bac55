import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermissionFlagsBits } from 'discord.js';
import { BOT_PERMISSIONS, commandDefinitions, inviteUrl } from '../../../src/bots/discord/commands.js';
import { resultComponents } from '../../../src/bots/discord/components.js';
import { CUSTOM_ID_MAX, decodeComponentId, encodeComponentId } from '../../../src/bots/discord/ids.js';
import { type DiscordRoute, routeFromRecord, routeToRecord } from '../../../src/bots/discord/route.js';
import { errorSentence, escapeUserText, helpMessages, resultText } from '../../../src/bots/discord/texts.js';
import { TOKEN_LIFETIME_MS, TokenBook } from '../../../src/bots/discord/tokens.js';
import { createCatalogue as coreCatalogue, matchPresets } from '../../../src/conversation/catalogue.js';
import { type DeclaredFile, type DeclaredLimits, declaredSelfies } from '../../../src/conversation/files.js';
import { PortraitError } from '../../../src/errors.js';

type DeclaredAttachment = DeclaredFile;

/** The shared declared-file check as Discord's slash command uses it (every attachment option is a selfie). */
function checkDeclaredAttachments(
  list: readonly DeclaredFile[],
  limits: DeclaredLimits,
): { ok: true } | { ok: false; error: PortraitError } {
  try {
    declaredSelfies(list, limits, 'slots');
    return { ok: true };
  } catch (error) {
    if (error instanceof PortraitError) return { ok: false, error };
    throw error;
  }
}

describe('custom ids', () => {
  it('round-trips every action and refuses what is not ours', () => {
    assert.deepEqual(decodeComponentId(encodeComponentId('reroll', 'blob:ab:cd')!), {
      action: 'reroll',
      arg: 'blob:ab:cd',
    });
    const table: Array<[string, boolean]> = [
      ['pt1:delete:123', true],
      ['pt1:nope:123', false],
      ['pt2:reroll:x', false],
      ['pt1:reroll:', false],
      ['reroll', false],
      [`pt1:reroll:${'x'.repeat(100)}`, false],
    ];
    for (const [id, ok] of table) assert.equal(decodeComponentId(id) !== undefined, ok, id);
  });
  it('never produces an id over 100 characters', () => {
    assert.equal(encodeComponentId('relight', 'k'.repeat(CUSTOM_ID_MAX)), undefined);
    const rows = resultComponents('k'.repeat(95), '1', coreCatalogue().lightings);
    assert.deepEqual(
      rows.flatMap((r) => r.components.map((c) => ('custom_id' in c ? c.custom_id : ''))),
      ['pt1:delete:1'],
      'redo buttons whose id would not fit are left out, Delete stays',
    );
  });
  it('offers at most 25 relight options with Discord-sized labels', () => {
    const rows = resultComponents('blob:1', '1', coreCatalogue().lightings);
    const select = rows[1]?.components[0];
    assert.ok(select && 'options' in select);
    assert.ok(select.options.length >= 10 && select.options.length <= 25);
    for (const o of select.options) assert.ok(o.label.length <= 100 && (o.description ?? '').length <= 100);
  });
});

describe('declared attachment check', () => {
  const limits = { maxBytes: 1000, allowedHosts: ['cdn.discordapp.com'] };
  const a = (over: Partial<DeclaredAttachment>): DeclaredAttachment => ({
    url: 'https://cdn.discordapp.com/attachments/1/2/me.jpg',
    contentType: 'image/jpeg',
    size: 500,
    name: 'me.jpg',
    ...over,
  });
  const table: Array<[string, DeclaredAttachment[], string | undefined]> = [
    ['jpeg', [a({})], undefined],
    ['webp without charset noise', [a({ contentType: 'image/webp; charset=binary' })], undefined],
    ['unknown type but image name', [a({ contentType: null, name: 'x.PNG' })], undefined],
    ['unknown type and name', [a({ contentType: null, name: 'x.bin' })], 'input.not_image'],
    ['pdf', [a({ contentType: 'application/pdf' })], 'input.not_image'],
    ['video', [a({ contentType: 'video/mp4' })], 'input.not_image'],
    ['svg', [a({ contentType: 'image/svg+xml' })], 'input.unsupported_format'],
    ['heic', [a({ contentType: 'image/heic' })], 'input.heic_unsupported'],
    ['heic by name', [a({ contentType: null, name: 'IMG.HEIF' })], 'input.heic_unsupported'],
    ['empty', [a({ size: 0 })], 'input.empty'],
    ['too large', [a({ size: 1001 })], 'input.too_large'],
    ['other host', [a({ url: 'https://example.com/me.jpg' })], 'download.host_not_allowed'],
    ['plain http', [a({ url: 'http://cdn.discordapp.com/me.jpg' })], 'download.host_not_allowed'],
    ['second one bad', [a({}), a({ contentType: 'text/plain' })], 'input.not_image'],
  ];
  for (const [name, list, code] of table) {
    it(name, () => {
      const r = checkDeclaredAttachments(list, limits);
      assert.equal(r.ok ? undefined : r.error.code, code);
    });
  }
  it('numbers the selfie only when there are several', () => {
    const one = checkDeclaredAttachments([a({ size: 0 })], limits);
    const two = checkDeclaredAttachments([a({}), a({ size: 0 })], limits);
    assert.ok(!one.ok && !two.ok);
    assert.deepEqual(one.error.details, {});
    assert.deepEqual(two.error.details, { selfie: 2 });
  });
});

describe('routes', () => {
  const route: DiscordRoute = {
    app: '1',
    interaction: '2',
    guild: '3',
    channel: '4',
    status: '5',
    thread: '6',
    private: true,
    user: '7',
    recipe: 'blob:x',
    pose: 'front',
    lighting: 'key from left, warm',
    selfies: 2,
  };
  it('round-trips and holds no token', () => {
    const rec = routeToRecord(route);
    assert.deepEqual(routeFromRecord(rec), route);
    assert.ok(Object.values(rec).every((v) => typeof v === 'string'));
    assert.ok(!Object.keys(rec).some((k) => /token/i.test(k)));
  });
  it('ignores routes written by others', () => {
    assert.equal(routeFromRecord({}), undefined);
    assert.equal(routeFromRecord({ ...routeToRecord(route), platform: 'slack' }), undefined);
    assert.equal(routeFromRecord({ ...routeToRecord(route), channel: 'not-a-snowflake' }), undefined);
  });
});

describe('texts', () => {
  it('escapes markdown, mentions, links and newlines in user text', () => {
    assert.equal(escapeUserText('**bold** _it_'), '\\*\\*bold\\*\\* \\_it\\_');
    assert.equal(escapeUserText('@everyone @here'), '@\u200beveryone @\u200bhere');
    assert.equal(escapeUserText('<@123> <#4> <@&5>'), '<\u200b@\u200b123> <\u200b#4> <\u200b@\u200b&5>');
    assert.equal(escapeUserText('[x](https://evil.example)'), '\\[x](https:\u200b//evil.example)');
    assert.equal(escapeUserText('# big\n- list\r\n1. item'), '\\# big - list 1. item');
    assert.equal(escapeUserText('x'.repeat(300), 10), `${'x'.repeat(9)}…`);
  });
  it('escapes user details inside error sentences', () => {
    const s = errorSentence({ code: 'request.bad_lighting', details: { got: '<@&1> **x**', suggestion: 'rim' } });
    assert.equal(
      s,
      "I don't know the lighting '<\u200b@\u200b&1> \\*\\*x\\*\\*'. Did you mean 'rim'? Try studio, rembrandt, golden hour, or \"key from left, warm\".",
    );
  });
  it('result text: who it is for, then pose, lighting, engine, seed and time, escaped', () => {
    const c = resultText('9', 1, {
      pose: 'look up',
      lighting: 'rim **x**',
      engine: 'compositor',
      seed: 5,
      elapsedMs: 12_400,
    });
    assert.equal(
      c,
      'Your portrait for <@9>\nPose: look up · Lighting: rim \\*\\*x\\*\\* · Engine: compositor · Seed: 5 · 12 s',
    );
  });
  it('help fits Discord messages and lists the presets the engine can draw', () => {
    const catalogue = coreCatalogue('compositor');
    const limits = {
      maxSelfies: 4,
      maxVariations: 4,
      maxInputBytes: 20 * 1024 * 1024,
      userInFlight: 2,
      scopeQueueCap: 50,
      retentionSeconds: 86400,
    };
    const msgs = helpMessages({ poses: catalogue.poses, lightings: catalogue.lightings, limits });
    assert.ok(msgs.length >= 1 && msgs.every((m) => m.length <= 2000));
    const all = msgs.join('\n');
    assert.match(all, /\*\*three-quarter left\*\*/);
    assert.match(all, /\*\*golden hour\*\*/);
    assert.ok(!all.includes('profile left'));
    assert.match(all, /\/portrait-forget/);
  });
});

describe('interaction tokens', () => {
  it('are usable until a minute before the 15 minutes, and only in memory', () => {
    let now = 1_000_000;
    const book = new TokenBook(() => now);
    book.remember('i1', 'tok', now);
    assert.equal(book.get('i1'), 'tok');
    now += TOKEN_LIFETIME_MS - 61_000;
    assert.equal(book.get('i1'), 'tok');
    now += 2000;
    assert.equal(book.get('i1'), undefined);
    book.remember('old', 'tok', now - TOKEN_LIFETIME_MS);
    assert.equal(book.size, 0, 'an already expired token is not kept');
  });
});

describe('catalogue and commands', () => {
  it('matches presets by prefix, then substring, then description', () => {
    const lightings = coreCatalogue().lightings;
    assert.equal(matchPresets(lightings, 'gold')[0]?.name, 'golden hour');
    assert.equal(matchPresets(lightings, '')[0]?.name, 'studio');
    assert.deepEqual(matchPresets(lightings, 'zzzz'), []);
  });
  it('leaves out poses the compositor cannot draw and refuses them when typed', () => {
    const compositor = coreCatalogue('compositor');
    assert.ok(!compositor.poses.some((p) => p.name.startsWith('profile')));
    assert.equal(compositor.checkPose('profile left')?.code, 'request.pose_out_of_range');
    assert.equal(coreCatalogue('diffusion').checkPose('profile left'), undefined);
    assert.equal(compositor.checkPose('lft')?.code, 'request.bad_pose');
  });
  it('defines commands within Discord limits', () => {
    const defs = commandDefinitions();
    for (const d of defs) {
      const options = 'options' in d ? (d.options ?? []) : [];
      assert.ok(options.length <= 25);
      assert.deepEqual('contexts' in d ? d.contexts : undefined, [0], `${d.name} is guild-only`);
    }
  });
  it('prints an invite URL with exactly the permissions the bot uses', () => {
    const url = new URL(inviteUrl({ DISCORD_APPLICATION_ID: '123' }));
    assert.equal(url.searchParams.get('client_id'), '123');
    assert.equal(url.searchParams.get('scope'), 'bot applications.commands');
    const perms = BigInt(url.searchParams.get('permissions') ?? '0');
    assert.equal(perms, BOT_PERMISSIONS);
    assert.equal(perms & PermissionFlagsBits.Administrator, 0n);
    assert.equal(perms & PermissionFlagsBits.MentionEveryone, 0n);
    assert.equal(perms & PermissionFlagsBits.ManageMessages, 0n);
  });
});
