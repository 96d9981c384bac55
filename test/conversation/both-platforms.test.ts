import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { App } from '@slack/bolt';
import { createSlackApp, type SlackApp } from '../../src/bots/slack/index.js';
import { parseConfig } from '../../src/config.js';
import { createCatalogue } from '../../src/conversation/catalogue.js';
import { describeError } from '../../src/core/messages.js';
import type { ErrorCode, ErrorDetails } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { Delivery } from '../../src/queue/jobs.js';
import { chatCommand, FakeDiscord, messageCommand, USER } from '../bots/discord/fake-discord.js';
import { FakePortraitService } from '../bots/discord/fake-service.js';
import {
  contentOf,
  isCallbackOf,
  isOriginalEdit,
  type Running,
  startBot,
  testConfig,
} from '../bots/discord/harness.js';
import { MemoryService } from '../bots/slack/fake-service.js';
import { FakeSlack } from '../bots/slack/fake-slack.js';
import { facePath } from '../helpers/env.js';

/**
 * The same cases through both adapters: each platform parses its own input (a Discord slash command or "Make
 * portrait", a Slack mention) into the conversation layer, and the user must get the same sentence, at the same
 * moment (before anything is downloaded or queued), on both. These cases used to differ (issue 13): Slack queued
 * poses the compositor refuses, took no empty-file check, and named a single selfie "selfie 1".
 */

const selfie = new Uint8Array(readFileSync(facePath('obama.jpg')));

/** A file as a case describes it; each platform turns it into its own attachment or file object. */
interface CaseFile {
  name: string;
  contentType: string;
  size?: number;
}

interface Case {
  name: string;
  files: CaseFile[];
  pose?: string;
  /** The answer's code and details: its sentence is what both platforms must show. */
  code: ErrorCode;
  details: ErrorDetails;
}

const jpeg = (name = 'me.jpg', size?: number): CaseFile => ({
  name,
  contentType: 'image/jpeg',
  ...(size !== undefined ? { size } : {}),
});

const CASES: Case[] = [
  {
    name: 'a pose the compositor cannot draw is refused at once',
    files: [jpeg()],
    pose: 'profile left',
    code: 'request.pose_out_of_range',
    details: { engine: 'compositor', limit: 30 },
  },
  {
    name: 'a typo in the pose gets the parser suggestion',
    files: [jpeg()],
    pose: 'three-quater left',
    code: 'request.bad_pose',
    details: { got: 'three-quater left', suggestion: 'three quarter left' },
  },
  { name: 'an empty photo', files: [jpeg('me.jpg', 0)], code: 'input.empty', details: {} },
  {
    name: 'the second of two photos is empty: it is named by number',
    files: [jpeg('a.jpg'), jpeg('b.jpg', 0)],
    code: 'input.empty',
    details: { selfie: 2 },
  },
  {
    name: 'a single photo over the size limit says "your selfie"',
    files: [jpeg('big.jpg', 2 * 1024 * 1024)],
    code: 'input.too_large',
    details: { limit: '977 KB', got: '2 MB' },
  },
  {
    name: 'a PDF',
    files: [{ name: 'cv.pdf', contentType: 'application/pdf' }],
    code: 'input.not_image',
    details: { got: 'a PDF' },
  },
  {
    name: 'a HEIC photo',
    files: [{ name: 'IMG_1.heic', contentType: 'image/heic' }],
    code: 'input.heic_unsupported',
    details: {},
  },
];

const MAX_INPUT_BYTES = '1000000';

/**
 * A fetch that holds each download until a second one is in flight (or a safety timer fires), recording how many
 * ran at once: downloads made one after the other never overlap, downloads started together do.
 */
class OverlapProbe {
  inFlight = 0;
  maxInFlight = 0;
  #waiting: Array<() => void> = [];
  readonly fetch: typeof fetch = async (input, init) => {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.inFlight >= 2) for (const go of this.#waiting.splice(0)) go();
    else await new Promise<void>((go) => this.#waiting.push(go) && setTimeout(go, 1000).unref());
    try {
      return await fetch(input, init);
    } finally {
      this.inFlight -= 1;
    }
  };
}

describe('the same case behaves the same on Discord and Slack', () => {
  let discord: FakeDiscord;
  let discordService: FakePortraitService;
  let running: Running;
  let slack: FakeSlack;
  let slackService: MemoryService;
  let slackApp: SlackApp;
  let seq = 0;
  const discordFetch = new OverlapProbe();
  const slackFetch = new OverlapProbe();

  before(async () => {
    discord = await new FakeDiscord().start();
    discordService = new FakePortraitService();
    discordService.inFlightLimit = 100;
    running = await startBot(discord, discordService, {
      config: testConfig(discord, { PORTRAIT_MAX_INPUT_BYTES: MAX_INPUT_BYTES }),
      catalogue: createCatalogue('compositor'),
      fetch: discordFetch.fetch,
    });
    slack = await new FakeSlack().start();
    slackService = new MemoryService({ userInFlight: 100, scopeCap: 100 });
    slackApp = createSlackApp(
      parseConfig({
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: 'test-signing-secret',
        SLACK_API_URL: slack.apiUrl,
        SLACK_FILE_HOSTS: '127.0.0.1',
        LOG_LEVEL: 'silent',
        PORTRAIT_MAX_INPUT_BYTES: MAX_INPUT_BYTES,
      }),
      slackService,
      silentLogger,
      { fetch: slackFetch.fetch },
    );
  });
  after(async () => {
    await running.bot.stop();
    await discord.stop();
    await slackApp.deliveries.close();
    await slack.close();
  });

  /** The Discord answer to a /portrait with these files (one per selfie option) and pose. */
  async function viaDiscord(c: Case): Promise<string> {
    const attachments: Record<string, { url: string; filename: string; contentType: string; size: number }> = {};
    for (const [i, f] of c.files.entries()) {
      attachments[i === 0 ? 'selfie' : `selfie${i + 1}`] = {
        url: discord.putCdnFile(f.name, selfie, f.contentType),
        filename: f.name,
        contentType: f.contentType,
        size: f.size ?? selfie.byteLength,
      };
    }
    const raw = chatCommand('portrait', {
      attachments,
      ...(c.pose ? { options: [{ name: 'pose', type: 3, value: c.pose }] } : {}),
    });
    discord.dispatchInteraction(raw);
    return contentOf(await discord.waitFor(isCallbackOf(raw['id'] as string), 'the answer'));
  }

  /** The Slack answer to a mention with these files and pose, as plain text. */
  async function viaSlack(c: Case): Promise<string> {
    seq += 1;
    const ts = `1720000${String(seq).padStart(3, '0')}.000100`;
    const files = c.files.map((f, i) => ({
      id: `F${seq}x${i}`,
      name: f.name,
      mimetype: f.contentType,
      filetype: f.name.split('.').pop(),
      size: f.size ?? selfie.byteLength,
      url_private_download: slack.addFile(`${seq}-${f.name}`, selfie, f.contentType),
    }));
    const before = slack.callsOf('chat.postMessage').length;
    await feed(slackApp.app, {
      token: 'legacy',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: `EvBoth${seq}`,
      event_time: 1_720_000_000,
      event: {
        type: 'app_mention',
        user: 'U1',
        text: `<@${slack.botUserId}>${c.pose ? ` pose: ${c.pose}` : ''}`,
        ts,
        event_ts: ts,
        channel: 'C1',
        files,
      },
    });
    const answer = slack.callsOf('chat.postMessage')[before];
    return plain(String(answer?.args['text'] ?? ''));
  }

  for (const c of CASES) {
    it(c.name, async () => {
      const sentence = describeError({ code: c.code, details: c.details });
      const downloadsBefore = slack.callsOf('file_download').length;
      const [onDiscord, onSlack] = [await viaDiscord(c), await viaSlack(c)];
      assert.equal(onDiscord, sentence, 'Discord');
      assert.equal(onSlack, sentence, 'Slack');
      // Refused from what the platform declared: nothing fetched, nothing queued, on either side.
      assert.equal(slack.callsOf('file_download').length, downloadsBefore);
      assert.equal(slackService.jobs.length, 0);
      assert.equal(discordService.submitted.length, 0);
    });
  }

  it('more than four photos: refused with the same sentence (Make portrait on Discord, a mention on Slack)', async () => {
    const five = Array.from({ length: 5 }, (_, i) => jpeg(`p${i}.jpg`));
    const sentence = describeError({ code: 'request.too_many_selfies', details: { limit: 4 } });
    const raw = messageCommand(
      USER,
      five.map((f) => ({
        url: discord.putCdnFile(f.name, selfie, f.contentType),
        filename: f.name,
        contentType: f.contentType,
        size: selfie.byteLength,
      })),
    );
    discord.dispatchInteraction(raw);
    const onDiscord = contentOf(await discord.waitFor(isCallbackOf(raw['id'] as string), 'the answer'));
    assert.equal(onDiscord, sentence);
    assert.equal(
      await viaSlack({ name: 'five', files: five, code: 'request.too_many_selfies', details: {} }),
      sentence,
    );
  });

  it('the compositor catalogue offers no profile pose on either platform', () => {
    const names = createCatalogue('compositor').poses.map((p) => p.name);
    assert.deepEqual(names, [
      'front',
      'three-quarter left',
      'three-quarter right',
      'look up',
      'look down',
      'tilt left',
      'tilt right',
    ]);
    assert.ok(createCatalogue('diffusion').poses.some((p) => p.name === 'profile left'));
  });

  it('two selfies are downloaded at once on both platforms', async () => {
    const two = [jpeg('a.jpg'), jpeg('b.jpg')];
    const attachments = Object.fromEntries(
      two.map((f, i) => [
        i === 0 ? 'selfie' : 'selfie2',
        {
          url: discord.putCdnFile(f.name, selfie, f.contentType),
          filename: f.name,
          contentType: f.contentType,
          size: selfie.byteLength,
        },
      ]),
    );
    const raw = chatCommand('portrait', { attachments });
    discord.dispatchInteraction(raw);
    await discord.waitFor(isOriginalEdit(raw['token'] as string, 'Queued'), 'queued');
    assert.equal(discordFetch.maxInFlight, 2, 'Discord');

    seq += 1;
    const ts = `1720000${String(seq).padStart(3, '0')}.000100`;
    await feed(slackApp.app, {
      token: 'legacy',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: `EvBoth${seq}`,
      event_time: 1_720_000_000,
      event: {
        type: 'app_mention',
        user: 'U1',
        text: `<@${slack.botUserId}>`,
        ts,
        event_ts: ts,
        channel: 'C1',
        files: two.map((f, i) => ({
          id: `F${seq}x${i}`,
          name: f.name,
          mimetype: f.contentType,
          filetype: 'jpg',
          size: selfie.byteLength,
          url_private_download: slack.addFile(`${seq}-${f.name}`, selfie),
        })),
      },
    });
    assert.equal(slackService.jobs.at(-1)?.request.selfieKeys?.length, 2);
    assert.equal(slackFetch.maxInFlight, 2, 'Slack');
  });

  it('a failure of a one-selfie job says "your selfie" on both', async () => {
    // The worker numbers every selfie it reads; the shared delivery flow drops the number for a single one.
    const details = { selfie: 1 };
    const sentence = describeError({ code: 'face.none', details: {} });
    const dUrl = discord.putCdnFile('one.jpg', selfie, 'image/jpeg');
    const raw = chatCommand('portrait', {
      attachments: { selfie: { url: dUrl, filename: 'one.jpg', contentType: 'image/jpeg', size: selfie.byteLength } },
    });
    discord.dispatchInteraction(raw);
    await discord.waitFor(isOriginalEdit(raw['token'] as string, 'Queued'), 'queued');
    const dSub = discordService.submitted.at(-1)!;
    await running.deliver(
      failure('discord', dSub.idempotencyKey, dSub.request.route ?? {}, dSub.request.requester, details),
    );
    const dEdit = await discord.waitFor(isOriginalEdit(raw['token'] as string, 'face'), 'the failure');
    assert.equal(contentOf(dEdit), sentence);

    seq += 1;
    const ts = `1720000${String(seq).padStart(3, '0')}.000100`;
    const url = slack.addFile(`${seq}-one.jpg`, selfie);
    await feed(slackApp.app, {
      token: 'legacy',
      team_id: 'T1',
      api_app_id: 'A1',
      type: 'event_callback',
      event_id: `EvBoth${seq}`,
      event_time: 1_720_000_000,
      event: {
        type: 'app_mention',
        user: 'U1',
        text: `<@${slack.botUserId}>`,
        ts,
        event_ts: ts,
        channel: 'C1',
        files: [
          {
            id: 'F1',
            name: 'one.jpg',
            mimetype: 'image/jpeg',
            filetype: 'jpg',
            size: selfie.byteLength,
            url_private_download: url,
          },
        ],
      },
    });
    const job = slackService.jobs.at(-1)!;
    await slackApp.deliveries.handle(
      failure('slack', job.jobId, job.request.route ?? {}, job.request.requester, details),
    );
    assert.equal(plain(String(slack.callsOf('chat.update').at(-1)?.args['text'])), sentence);
  });
});

function failure(
  platform: 'discord' | 'slack',
  jobId: string,
  route: Record<string, string>,
  requester: Delivery['requester'],
  details: ErrorDetails,
): Delivery {
  return { kind: 'failure', jobId, platform, route, requester, error: { code: 'face.none', message: 'x', details } };
}

/** A Slack answer as plain text: the warning emoji off and mrkdwn entities decoded. */
function plain(text: string): string {
  return text
    .replace(/^:warning: /, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

async function feed(app: App, body: unknown): Promise<void> {
  await app.processEvent({ body: body as Record<string, unknown>, ack: async () => {} });
}
