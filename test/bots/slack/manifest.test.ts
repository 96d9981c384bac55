import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { CALLBACK_IDS } from '../../../src/bots/slack/blocks.js';
import { PROJECT_ROOT } from '../../../src/config.js';

/** The manifest an admin installs from must declare everything the adapter listens for and every scope it uses. */
interface Manifest {
  features: {
    app_home: { home_tab_enabled: boolean };
    shortcuts: Array<{ type: string; callback_id: string }>;
    slash_commands: Array<{ command: string; should_escape: boolean }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { bot_events: string[] };
    interactivity: { is_enabled: boolean };
    socket_mode_enabled: boolean;
  };
}

const manifest = JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'slack-manifest.json'), 'utf8')) as Manifest;

describe('slack-manifest.json', () => {
  it('declares the events, command, shortcut, Home tab and interactivity the adapter handles', () => {
    assert.deepEqual([...manifest.settings.event_subscriptions.bot_events].sort(), [
      'app_home_opened',
      'app_mention',
      'message.channels',
      'message.groups',
    ]);
    assert.deepEqual(
      manifest.features.slash_commands.map((c) => c.command),
      ['/portrait', '/portrait-status'],
    );
    assert.ok(manifest.features.slash_commands.every((c) => c.should_escape === false));
    assert.deepEqual(
      manifest.features.shortcuts.map((s) => [s.type, s.callback_id]),
      [['message', CALLBACK_IDS.shortcut]],
    );
    assert.equal(manifest.features.app_home.home_tab_enabled, true);
    assert.equal(manifest.settings.interactivity.is_enabled, true);
    assert.equal(manifest.settings.socket_mode_enabled, true);
  });

  it('asks for exactly the scopes the adapter uses', () => {
    assert.deepEqual([...manifest.oauth_config.scopes.bot].sort(), [
      'app_mentions:read', // app_mention events
      'channels:history', // message.channels (file_share mentions)
      'chat:write', // status messages, results, ephemeral answers
      'commands', // /portrait
      'files:read', // downloading the selfies
      'files:write', // uploading portraits, Delete
      'groups:history', // message.groups (private channels)
      'im:write', // avatar events: avatars and exports by direct message
      'reactions:write', // the "seen" and "done" reactions
      'usergroups:read', // avatar events: organiser user groups
      'users:read', // avatar events: workspace admins may organise; display names in the gallery
    ]);
  });
});
