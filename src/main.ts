/**
 * The `portrait` CLI: start | worker | generate | register-commands | models ...
 * Wiring lives here (config, Redis, logger, engines); the commands themselves are in src/cli/.
 */
const HELP = `portrait <command>

  start                 run every configured chat adapter plus a worker
  worker                run a pipeline worker only
  generate              make a portrait from selfie files (see: portrait generate --help)
  models list|fetch|verify
  register-commands     register Discord slash commands
`;

const [command] = process.argv.slice(2);
switch (command) {
  default:
    process.stdout.write(HELP);
}
