import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { syncCommands } from '../../../src/bots/discord/command-sync.js';
import { commandDefinitions } from '../../../src/bots/discord/commands.js';
import { PROJECT_ROOT } from '../../../src/config.js';
import { StartupError } from '../../../src/errors.js';
import { MODELS_DIR, REDIS_URL, uniquePrefix } from '../../helpers/env.js';
import { APP_ID, BOT_TOKEN, FakeDiscord, GUILD_ID } from './fake-discord.js';
import { testConfig } from './harness.js';

/**
 * `portrait start` keeps the slash commands in step (src/bots/discord/command-sync.ts): against the loopback Discord
 * REST fake, which stores what is registered per route and answers GET with it, as Discord does.
 */
describe('discord command sync', () => {
  let fake: FakeDiscord;
  before(async () => {
    fake = await new FakeDiscord().start();
  });
  after(() => fake.stop());

  const puts = () => fake.callsTo('PUT', /\/commands$/).map((c) => c.path);
  const global = `/applications/${APP_ID}/commands`;
  const guildRoute = (g: string) => `/applications/${APP_ID}/guilds/${g}/commands`;

  it('registers globally when nothing is, and writes nothing when the set is already there', async () => {
    fake.registeredCommands.clear();
    const before = puts().length;
    const first = await syncCommands(testConfig(fake), APP_ID);
    assert.deepEqual(first, { scope: 'global', updated: ['global'], unchanged: [], commands: 6 });
    assert.deepEqual(puts().slice(before), [global]);
    const again = await syncCommands(testConfig(fake), APP_ID);
    assert.deepEqual(again.updated, []);
    assert.deepEqual(again.unchanged, ['global']);
    assert.deepEqual(puts().slice(before), [global], 'no second write');
  });

  it('per guild with DISCORD_GUILD_IDS: only the guild whose set differs is replaced', async () => {
    fake.registeredCommands.clear();
    const current = commandDefinitions().map((c, i) => ({
      ...c,
      id: String(i + 1),
      application_id: APP_ID,
      version: '1',
    }));
    fake.registeredCommands.set(guildRoute(GUILD_ID), current);
    // An older version: one command's description changed, another missing.
    const old = current
      .filter((c) => c.name !== 'avatar-event')
      .map((c) => (c.name === 'portrait' ? { ...c, description: 'Make a portrait' } : c));
    fake.registeredCommands.set(guildRoute('42'), old);
    const before = puts().length;
    const r = await syncCommands(testConfig(fake, { DISCORD_GUILD_IDS: `${GUILD_ID},42` }), APP_ID);
    assert.deepEqual(r, { scope: 'guild', updated: ['42'], unchanged: [GUILD_ID], commands: 6 });
    assert.deepEqual(puts().slice(before), [guildRoute('42')]);
    assert.equal(fake.registeredCommands.get(guildRoute('42'))?.length, 6);
  });

  it('a server in DISCORD_GUILD_IDS the bot is not in stops the start with a sentence', async () => {
    fake.missingGuilds.add('77');
    try {
      await assert.rejects(syncCommands(testConfig(fake, { DISCORD_GUILD_IDS: '77' }), APP_ID), (err: unknown) => {
        assert.ok(err instanceof StartupError);
        assert.match(
          err.message,
          /^DISCORD_GUILD_IDS names server 77, which this bot is not in \(Missing Access\): invite it there with https:\/\/discord\.com\/oauth2\/authorize\?client_id=1100000000000000001/,
        );
        return true;
      });
    } finally {
      fake.missingGuilds.delete('77');
    }
  });

  it('`portrait start` syncs on start, logs the bot name and invite URL, and writes nothing the second time', async () => {
    fake.registeredCommands.clear();
    const env = {
      PATH: process.env['PATH'] ?? '',
      REDIS_URL,
      PORTRAIT_MODELS_DIR: MODELS_DIR,
      PORTRAIT_QUEUE_PREFIX: uniquePrefix('sync'),
      LOG_FORMAT: 'json',
      DISCORD_TOKEN: BOT_TOKEN,
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_CDN_HOSTS: '127.0.0.1',
    };
    const startOnce = async () => {
      const child: ChildProcess = spawn(process.execPath, [resolve(PROJECT_ROOT, 'bin/portrait.mjs'), 'start'], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const msgs: string[] = [];
      let rest = '';
      const ready = new Promise<void>((resolveReady, reject) => {
        child.stderr?.on('data', (chunk: Buffer) => {
          const parts = (rest + chunk.toString('utf8')).split('\n');
          rest = parts.pop() ?? '';
          for (const part of parts) {
            try {
              msgs.push((JSON.parse(part) as { msg: string }).msg);
            } catch {
              msgs.push(part);
            }
            if (msgs.at(-1)?.startsWith('Discord bot ')) resolveReady();
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}:\n${msgs.join('\n')}`)));
      });
      try {
        await ready;
      } finally {
        const exited = new Promise<number | null>((r) => child.once('exit', r));
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
      }
      return msgs;
    };
    const before = puts().length;
    const first = await startOnce();
    assert.ok(
      first.includes(
        'discord commands registered globally (they differed; clients may take up to an hour to show them)',
      ),
      first.join('\n'),
    );
    assert.ok(
      first.includes(
        'Discord bot portrait is online; invite it to a server with https://discord.com/oauth2/authorize?client_id=1100000000000000001&scope=bot+applications.commands&permissions=309237746688&integration_type=0',
      ),
      first.join('\n'),
    );
    assert.deepEqual(puts().slice(before), [global]);
    const second = await startOnce();
    assert.ok(second.includes('discord commands up to date'), second.join('\n'));
    assert.deepEqual(puts().slice(before), [global], 'the second start wrote nothing');
  });
});
