import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import type { App } from '@slack/bolt';
import { registerHandlers } from '../../../src/bots/slack/handlers.js';
import { slackContext } from '../../../src/bots/slack/portraits.js';
import { PROJECT_ROOT, parseConfig } from '../../../src/config.js';
import { limitsFromConfig } from '../../../src/conversation/present.js';
import { silentLogger } from '../../../src/log.js';
import { MemoryService } from './fake-service.js';

/**
 * The manifest an admin installs from must declare everything the adapter listens for and every scope it uses, and
 * nothing more. Both sides are read from the code: the listeners by registering the adapter's real handlers on a
 * recorder, the Web API methods by reading the adapter's sources. A handler added without its manifest entry (or a
 * manifest entry left behind) fails here.
 */
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

type Matcher = string | RegExp | Record<string, unknown>;

/** What the adapter registers, by Bolt method. */
function registered(): Record<'event' | 'command' | 'shortcut' | 'action' | 'view' | 'options', Matcher[]> {
  const seen = { event: [], command: [], shortcut: [], action: [], view: [], options: [] } as Record<
    'event' | 'command' | 'shortcut' | 'action' | 'view' | 'options',
    Matcher[]
  >;
  const record =
    (kind: keyof typeof seen) =>
    (matcher: Matcher): void => {
      seen[kind].push(matcher);
    };
  const recorder = {
    event: record('event'),
    command: record('command'),
    shortcut: record('shortcut'),
    action: record('action'),
    view: record('view'),
    options: record('options'),
    message: () => assert.fail('app.message would need message.* events the manifest should declare'),
    error: () => {},
    use: () => {},
  } as unknown as App;
  const config = parseConfig({ SLACK_BOT_TOKEN: 'xoxb-manifest', LOG_LEVEL: 'silent' });
  const ctx = slackContext({ client: {} as never, service: new MemoryService(), config, log: silentLogger });
  registerHandlers(recorder, ctx, limitsFromConfig(config));
  return seen;
}

/** The Web API methods the adapter's sources call (`client.chat.postMessage(`, chained over lines or not). */
function apiMethods(): Set<string> {
  const dir = resolve(PROJECT_ROOT, 'src/bots/slack');
  const methods = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(resolve(dir, file), 'utf8').replace(/\s*\n\s*\./g, '.');
    for (const m of source.matchAll(/\bclient\.([a-zA-Z]+(?:\.[a-zA-Z0-9]+)+)\(/g)) methods.add(m[1] ?? '');
  }
  return methods;
}

/** The bot scope each Web API method needs (api.slack.com/methods). */
const METHOD_SCOPES: Readonly<Record<string, string | undefined>> = {
  'chat.postMessage': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'conversations.open': 'im:write',
  'files.uploadV2': 'files:write',
  'files.delete': 'files:write',
  'reactions.add': 'reactions:write',
  'usergroups.users.list': 'usergroups:read',
  'users.info': 'users:read',
  // Views need no scope of their own.
  'views.open': undefined,
  'views.publish': undefined,
};

/** The bot events and the scope each listener needs. `message` listens in public and private channels. */
const EVENT_SUBSCRIPTIONS: Readonly<Record<string, Array<[event: string, scope: string | undefined]>>> = {
  app_mention: [['app_mention', 'app_mentions:read']],
  message: [
    ['message.channels', 'channels:history'],
    ['message.groups', 'groups:history'],
  ],
  app_home_opened: [['app_home_opened', undefined]],
};

describe('slack-manifest.json, derived from the adapter', () => {
  const seen = registered();

  it('subscribes to exactly the events the handlers listen for', () => {
    const events = seen.event.map((e) => {
      assert.equal(typeof e, 'string', 'event listeners are registered by name');
      const subscriptions = EVENT_SUBSCRIPTIONS[e as string];
      assert.ok(
        subscriptions,
        `no manifest mapping for the '${String(e)}' listener: add it to this test and the manifest`,
      );
      return subscriptions.map(([event]) => event);
    });
    assert.deepEqual([...manifest.settings.event_subscriptions.bot_events].sort(), events.flat().sort());
    assert.equal(manifest.features.app_home.home_tab_enabled, seen.event.includes('app_home_opened'));
  });

  it('declares every slash command a command listener answers, and no other', () => {
    const matches = (m: Matcher, command: string) => (m instanceof RegExp ? m.test(command) : m === command);
    for (const c of manifest.features.slash_commands) {
      assert.ok(
        seen.command.some((m) => matches(m, c.command)),
        `${c.command} is declared but nothing answers it`,
      );
      assert.equal(c.should_escape, false, 'the adapter reads raw mention syntax');
    }
    for (const m of seen.command) {
      assert.ok(
        manifest.features.slash_commands.some((c) => matches(m, c.command)),
        `a listener for ${String(m)} has no declared command`,
      );
    }
  });

  it('declares the shortcuts the handlers answer, and interactivity for their buttons and forms', () => {
    assert.deepEqual(
      manifest.features.shortcuts.map((s) => s.callback_id).sort(),
      seen.shortcut.map((s) => String(s)).sort(),
    );
    assert.ok(manifest.features.shortcuts.every((s) => s.type === 'message'));
    const interactive = seen.action.length + seen.view.length + seen.shortcut.length > 0;
    assert.equal(manifest.settings.interactivity.is_enabled, interactive);
    assert.equal(manifest.settings.socket_mode_enabled, true);
  });

  it('asks for exactly the scopes the adapter uses', () => {
    const methods = apiMethods();
    assert.ok(methods.has('chat.postMessage') && methods.has('files.uploadV2'), [...methods].join(', '));
    const scopes = new Set<string>();
    for (const method of methods) {
      assert.ok(method in METHOD_SCOPES, `no scope known for ${method}: add it to METHOD_SCOPES and the manifest`);
      const scope = METHOD_SCOPES[method];
      if (scope) scopes.add(scope);
    }
    for (const e of seen.event)
      for (const [, scope] of EVENT_SUBSCRIPTIONS[e as string] ?? []) if (scope) scopes.add(scope);
    if (seen.command.length > 0) scopes.add('commands');
    // Selfies are fetched from url_private_download with the bot token (src/bots/slack/files.ts).
    scopes.add('files:read');
    assert.deepEqual([...manifest.oauth_config.scopes.bot].sort(), [...scopes].sort());
  });
});
