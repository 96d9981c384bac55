/** The Discord adapter's public surface, for main.ts and the CLI. */

export { type Catalogue, createCatalogue, type PresetInfo } from '../../conversation/catalogue.js';
export { DiscordAdapter, type DiscordAdapterOptions } from './adapter.js';
export { type DiscordBot, type DiscordBotDeps, startDiscordBot } from './bot.js';
export { BOT_PERMISSIONS, commandDefinitions, inviteUrl, type RegisterResult, registerCommands } from './commands.js';
