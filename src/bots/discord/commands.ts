import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  OAuth2Scopes,
  PermissionFlagsBits,
  REST,
  type RESTPostAPIApplicationCommandsJSONBody,
  Routes,
  SlashCommandBuilder,
} from 'discord.js';
import type { Config } from '../../config.js';
import { ConfigError } from '../../config.js';
import { MAX_VARIATIONS } from '../../core/request.js';
import { eventCommandDefinition } from './events.js';

/** Command names, shared by the builders and the interaction router. */
export const COMMANDS = {
  portrait: 'portrait',
  status: 'portrait-status',
  forget: 'portrait-forget',
  help: 'portrait-help',
  makePortrait: 'Make portrait',
} as const;

/** Extra selfie options after the required `selfie`. */
export const EXTRA_SELFIE_OPTIONS = ['selfie2', 'selfie3', 'selfie4'] as const;

const guildOnly = <
  T extends {
    setContexts(...c: InteractionContextType[]): T;
    setIntegrationTypes(...t: ApplicationIntegrationType[]): T;
  },
>(
  b: T,
): T =>
  // Portraits are per community (quotas, threads, allow-lists): the commands exist in servers only.
  b.setContexts(InteractionContextType.Guild).setIntegrationTypes(ApplicationIntegrationType.GuildInstall);

/** The application commands as Discord's JSON, built with discord.js's validating builders. */
export function commandDefinitions(): RESTPostAPIApplicationCommandsJSONBody[] {
  const portrait = guildOnly(
    new SlashCommandBuilder()
      .setName(COMMANDS.portrait)
      .setDescription('Turn your selfie into a portrait in the pose and lighting you choose'),
  ).addAttachmentOption((o) =>
    o.setName('selfie').setDescription('A clear photo of your face (JPEG, PNG, WebP, AVIF or GIF)').setRequired(true),
  );
  // More photos of the same person come right after the first, where a user looking for them expects them.
  for (const name of EXTRA_SELFIE_OPTIONS) {
    portrait.addAttachmentOption((o) =>
      o.setName(name).setDescription('Another photo of the same person, for a better likeness'),
    );
  }
  portrait
    .addStringOption((o) =>
      o
        .setName('pose')
        .setDescription('Head pose: front, three-quarter left, profile right, yaw=20 ...')
        .setAutocomplete(true)
        .setMaxLength(200),
    )
    .addStringOption((o) =>
      o
        .setName('lighting')
        .setDescription('Lighting: studio, rembrandt, golden hour, key from left, warm ...')
        .setAutocomplete(true)
        .setMaxLength(200),
    )
    .addStringOption((o) =>
      o
        .setName('style')
        .setDescription('Style: black and white, oil paint, pencil sketch, comic, studio grey ...')
        .setAutocomplete(true)
        .setMaxLength(500),
    )
    .addIntegerOption((o) =>
      o.setName('variations').setDescription('How many portraits (1-4)').setMinValue(1).setMaxValue(MAX_VARIATIONS),
    )
    .addIntegerOption((o) =>
      o
        .setName('seed')
        .setDescription('Repeat a result: the seed shown under a portrait')
        .setMinValue(0)
        .setMaxValue(2 ** 32 - 1),
    )
    .addBooleanOption((o) => o.setName('private').setDescription('Only you see the result'));
  return [
    portrait.toJSON(),
    guildOnly(
      new SlashCommandBuilder()
        .setName(COMMANDS.status)
        .setDescription('Your portraits in the queue, with cancel buttons'),
    ).toJSON(),
    guildOnly(
      new SlashCommandBuilder()
        .setName(COMMANDS.forget)
        .setDescription('Delete every selfie, portrait and job record stored about you (asks first)'),
    ).toJSON(),
    guildOnly(
      new SlashCommandBuilder()
        .setName(COMMANDS.help)
        .setDescription('How to get a good portrait, presets, limits, privacy'),
    ).toJSON(),
    guildOnly(
      new ContextMenuCommandBuilder().setName(COMMANDS.makePortrait).setType(ApplicationCommandType.Message),
    ).toJSON(),
    // Community avatar events (src/bots/discord/events.ts).
    eventCommandDefinition(),
  ];
}

export interface RegisterResult {
  scope: 'global' | 'guild';
  guildIds: string[];
  commands: number;
}

/**
 * Registers the commands: per guild when DISCORD_GUILD_IDS is set (instant, good for testing a bot), else
 * globally (can take a while to show up everywhere). PUT replaces the whole set, so re-running is safe.
 */
export async function registerCommands(
  config: Config,
  deps: { rest?: Pick<REST, 'put'> } = {},
): Promise<RegisterResult> {
  const { DISCORD_TOKEN: token, DISCORD_APPLICATION_ID: appId } = config;
  if (!token || !appId) {
    throw new ConfigError(
      'Registering commands needs DISCORD_TOKEN and DISCORD_APPLICATION_ID (Discord developer portal > your app > Bot / General Information).',
    );
  }
  const rest =
    deps.rest ??
    new REST({ version: '10', ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}) }).setToken(token);
  const body = commandDefinitions();
  if (config.DISCORD_GUILD_IDS.length > 0) {
    for (const guildId of config.DISCORD_GUILD_IDS) {
      await rest.put(Routes.applicationGuildCommands(appId, guildId), { body });
    }
    return { scope: 'guild', guildIds: [...config.DISCORD_GUILD_IDS], commands: body.length };
  }
  await rest.put(Routes.applicationCommands(appId), { body });
  return { scope: 'global', guildIds: [], commands: body.length };
}

/**
 * Exactly what the bot does in a channel: read it, answer, start a thread on its reply and post there, upload the
 * portraits, and read message history (needed to start a thread from a message and for Make portrait).
 */
export const BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.ReadMessageHistory;

/** The OAuth2 URL a server admin opens to add the bot with exactly BOT_PERMISSIONS. */
export function inviteUrl(config: Pick<Config, 'DISCORD_APPLICATION_ID'>): string {
  if (!config.DISCORD_APPLICATION_ID) {
    throw new ConfigError(
      'The invite URL needs DISCORD_APPLICATION_ID (Discord developer portal > your app > General Information).',
    );
  }
  const params = new URLSearchParams({
    client_id: config.DISCORD_APPLICATION_ID,
    scope: [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands].join(' '),
    permissions: BOT_PERMISSIONS.toString(),
    integration_type: '0',
  });
  return `https://discord.com/oauth2/authorize?${params.toString()}`;
}
