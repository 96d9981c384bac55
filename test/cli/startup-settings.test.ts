import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertRefused, dir, portrait } from './spawn-cli.js';

/** Start-up checks of the settings, on the spawned CLI (`portrait worker`, `start`, `generate`). */

describe('settings', () => {
  it('a PORTRAIT_MODELS_DIR that does not exist', async () => {
    const r = await portrait(['worker'], { PORTRAIT_MODELS_DIR: join(dir, 'no-such-models') });
    assertRefused(
      r,
      2,
      /PORTRAIT_MODELS_DIR: \S+no-such-models is not a folder: point it at the folder holding the model files/,
    );
  });

  it('nothing to start', async () => {
    const r = await portrait(['start'], {});
    assertRefused(r, 2, /^Nothing to start: set DISCORD_TOKEN or SLACK_BOT_TOKEN in \.env/);
  });

  it('Slack without SLACK_APP_TOKEN or SLACK_SIGNING_SECRET', async () => {
    // Refused before Slack is asked anything.
    const r = await portrait(['start'], { SLACK_BOT_TOKEN: 'xoxb-some-token' });
    assertRefused(r, 2, /Slack needs SLACK_APP_TOKEN \(Socket Mode, xapp-\.\.\.\) or SLACK_SIGNING_SECRET/);
  });
});
