/**
 * The layering check (`npm run layers`, part of `npm run check`). The map, top to bottom:
 *   cli -> bots -> conversation -> avatar-events -> queue -> pipeline -> core
 * (errors, log and config sit beside core; observability reads the queue). Nothing flows back up, platform SDKs
 * stay in their adapter, and the adapters reach the queue and the avatar events only through the conversation
 * layer (type imports excepted, and the pure event rules of avatar-events/definition.ts).
 */
const UPPER = {
  pipeline: '^src/(bots|conversation|avatar-events|queue|cli|observability|main\\.js)',
  queue: '^src/(bots|conversation|avatar-events|cli|observability|main\\.js)',
  avatarEvents: '^src/(bots|conversation|cli|main\\.js)',
  conversation: '^src/(bots|cli|main\\.js)',
};

module.exports = {
  forbidden: [
    {
      name: 'core-is-the-bottom',
      comment: 'core, errors, log and config are pure building blocks: they import no layer above them',
      severity: 'error',
      from: { path: '^src/(core/|errors\\.js|log\\.js|config\\.js)' },
      to: { path: '^src/(bots|conversation|avatar-events|queue|pipeline|cli|observability)/' },
    },
    {
      name: 'pipeline-knows-no-chat-or-queue',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: UPPER.pipeline },
    },
    {
      name: 'queue-knows-no-conversation',
      severity: 'error',
      from: { path: '^src/queue/' },
      to: { path: UPPER.queue },
    },
    {
      name: 'avatar-events-know-no-conversation',
      severity: 'error',
      from: { path: '^src/avatar-events/' },
      to: { path: UPPER.avatarEvents },
    },
    {
      name: 'conversation-knows-no-platform',
      severity: 'error',
      from: { path: '^src/conversation/' },
      to: { path: UPPER.conversation },
    },
    {
      name: 'adapters-go-through-the-conversation-layer',
      comment: 'bots use the queue and the avatar events through src/conversation; type imports are fine',
      severity: 'error',
      from: { path: '^src/bots/' },
      to: {
        path: '^src/(queue|avatar-events|pipeline)/',
        pathNot: '^src/avatar-events/definition\\.js$',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'adapters-are-separate',
      severity: 'error',
      from: { path: '^src/bots/(discord|slack)/' },
      to: { path: '^src/bots/(?!$1)[^/]+/' },
    },
    {
      name: 'discord-sdk-only-in-its-adapter',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/bots/discord/' },
      to: { path: 'node_modules/(discord\\.js|@discordjs)/' },
    },
    {
      name: 'slack-sdk-only-in-its-adapter',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/bots/slack/' },
      to: { path: 'node_modules/@slack/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
