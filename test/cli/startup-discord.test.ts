import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APP_ID, BOT_TOKEN, FakeDiscord } from '../bots/discord/fake-discord.js';
import { assertRefused, closedPort, portrait } from './spawn-cli.js';

/**
 * Start-up checks of Discord's settings on the spawned CLI (`portrait start`), against the loopback
 * Discord fake; "unreachable" is a port nothing listens on.
 */
let discord: FakeDiscord;
let nowhere: string;
before(async () => {
  discord = await new FakeDiscord().start();
  nowhere = `http://127.0.0.1:${await closedPort()}`;
});
after(async () => {
  await discord?.stop();
});

describe('Discord', () => {
  const env = () => ({
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_APPLICATION_ID: APP_ID,
    DISCORD_CDN_HOSTS: '127.0.0.1',
  });

  it('a wrong DISCORD_TOKEN', async () => {
    const r = await portrait(['start'], { ...env(), DISCORD_TOKEN: 'not-the-token.AAAAAA.BBBBBBBBBBBBBBBB' });
    assertRefused(r, 2, /Discord refused DISCORD_TOKEN \(401 Unauthorized\): copy the bot token again/);
    assert.doesNotMatch(r.stderr, /not-the-token/);
  });

  it('a DISCORD_APPLICATION_ID of another application', async () => {
    const r = await portrait(['start'], { ...env(), DISCORD_TOKEN: BOT_TOKEN, DISCORD_APPLICATION_ID: '42' });
    assertRefused(r, 2, new RegExp(`DISCORD_APPLICATION_ID is 42, but DISCORD_TOKEN belongs to application ${APP_ID}`));
  });

  it('a server in DISCORD_GUILD_IDS the bot is not in', async () => {
    discord.missingGuilds.add('77');
    const r = await portrait(['start'], { ...env(), DISCORD_TOKEN: BOT_TOKEN, DISCORD_GUILD_IDS: '77' });
    assertRefused(r, 2, /^DISCORD_GUILD_IDS names server 77, which this bot is not in \(Missing Access\): invite it/m);
  });

  it('Discord unreachable', async () => {
    const r = await portrait(['start'], { ...env(), DISCORD_TOKEN: BOT_TOKEN, DISCORD_API_URL: `${nowhere}/api` });
    assertRefused(
      r,
      1,
      /Discord cannot be reached at http:\/\/127\.0\.0\.1:\d+\/api \(ECONNREFUSED\): .*DISCORD_API_URL/,
    );
  });
});
