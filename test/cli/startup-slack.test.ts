import { after, before, describe, it } from 'node:test';
import { FakeSlack } from '../bots/slack/fake-slack.js';
import { assertRefused, closedPort, portrait } from './spawn-cli.js';

/**
 * Start-up checks of Slack's settings on the spawned CLI (`portrait start`), against the loopback
 * Slack fake; "unreachable" is a port nothing listens on.
 */
let slack: FakeSlack;
let nowhere: string;
before(async () => {
  slack = await new FakeSlack().start();
  nowhere = `http://127.0.0.1:${await closedPort()}`;
});
after(async () => {
  await slack?.close();
});

describe('Slack', () => {
  const env = () => ({ SLACK_API_URL: slack.apiUrl, SLACK_FILE_HOSTS: '127.0.0.1' });

  it('a wrong SLACK_BOT_TOKEN', async () => {
    const r = await portrait(['start'], { ...env(), SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_APP_TOKEN: slack.appToken });
    assertRefused(r, 2, /Slack refused SLACK_BOT_TOKEN \(invalid_auth\): copy the Bot User OAuth Token/);
  });

  it('a wrong SLACK_APP_TOKEN', async () => {
    const r = await portrait(['start'], { ...env(), SLACK_BOT_TOKEN: slack.botToken, SLACK_APP_TOKEN: 'xapp-wrong' });
    assertRefused(r, 2, /Slack refused SLACK_APP_TOKEN \(invalid_auth\): create an app-level token/);
  });

  it('the two tokens swapped', async () => {
    const r = await portrait(['start'], { ...env(), SLACK_BOT_TOKEN: slack.appToken, SLACK_APP_TOKEN: slack.botToken });
    assertRefused(r, 2, /SLACK_BOT_TOKEN holds an app-level token/);
  });

  it('Slack unreachable', async () => {
    const r = await portrait(['start'], {
      SLACK_API_URL: `${nowhere}/api/`,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
    });
    assertRefused(r, 1, /Slack cannot be reached at http:\/\/127\.0\.0\.1:\d+\/api\/ \(ECONNREFUSED\)/);
  });
});
