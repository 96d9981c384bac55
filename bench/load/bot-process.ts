/**
 * The bot process of the load run: `portrait start`'s own composition (src/cli/start.ts: Redis, service, avatar
 * events, the Discord and Slack adapters, signal handling and shutdown order) with its in-process worker left out,
 * so this process's RSS is the adapters' alone and the pipeline runs in the `portrait worker` processes beside it.
 * Config comes from the environment, as for the CLI.
 */
import { startCommand } from '../../src/cli/start.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';

const config = parseConfig(process.env);
await startCommand(config, createLogger(config), { worker: false, adapters: true });
