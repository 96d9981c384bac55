import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  APP_ID,
  autocomplete,
  CHANNEL_ID,
  chatCommand,
  componentPress,
  FakeDiscord,
  type FakeMessage,
  OTHER_USER,
  USER,
} from './fake-discord.js';
import { FakePortraitService } from './fake-service.js';
import {
  contentOf,
  customIds,
  dataOf,
  failureFor,
  isCallbackOf,
  isChannelPost,
  queuePortrait,
  type Running,
  resultFor,
  startBot,
} from './harness.js';

/**
 * Buttons carry what they need in their custom ids, and answers are posted with the bot token: a bot restarted
 * between the request and the answer (or the button press) loses nothing. "Restart" here is a brand-new
 * discord.js Client and adapter with no memory of the first one, against the same fake Discord and queue.
 */
describe('Discord buttons and answers across a bot restart', () => {
  let fake: FakeDiscord;
  let service: FakePortraitService;
  let second: Running;
  let resultMessage: FakeMessage;
  let recipeKey: string;
  let firstSelfies: string[];
  let pendingAcrossRestart: Awaited<ReturnType<typeof queuePortrait>>;
  let privateAcrossRestart: Awaited<ReturnType<typeof queuePortrait>>;

  before(async () => {
    fake = await new FakeDiscord().start();
    service = new FakePortraitService();
    service.inFlightLimit = 100;
    const first = await startBot(fake, service, { seeds: [11] });
    const done = await queuePortrait(fake, service, { options: [{ name: 'lighting', type: 3, value: 'loop' }] });
    await first.deliver(await resultFor(service, done.sub));
    const post = await fake.waitFor(isChannelPost(done.sub.request.route?.['thread'] ?? ''), 'the first upload');
    resultMessage = [...fake.messages.values()].find(
      (m) => m.attachments.length > 0 && m.channel_id === post.path.split('/')[2],
    )!;
    recipeKey = done.sub.request.route?.['recipe'] ?? '';
    firstSelfies = done.sub.request.selfieKeys;
    pendingAcrossRestart = await queuePortrait(fake, service);
    privateAcrossRestart = await queuePortrait(fake, service, { options: [{ name: 'private', type: 5, value: true }] });
    await first.bot.stop();
    second = await startBot(fake, service, { seeds: [22, 33] });
  });
  after(async () => {
    await second.bot.stop();
    await fake.stop();
  });

  it('posts the result of a job submitted before the restart, with the bot token', async () => {
    const { sub } = pendingAcrossRestart;
    const route = sub.request.route ?? {};
    await second.deliver(await resultFor(service, sub));
    const post = await fake.waitFor(isChannelPost(route['thread'] ?? ''), 'the upload after restart');
    assert.ok(post.auth?.startsWith('Bot '), 'bot token, not an interaction token');
    assert.equal(post.files.length, 1);
    const statusEdit = await fake.waitFor(
      (c) => c.method === 'PATCH' && c.path === `/channels/${route['channel']}/messages/${route['status']}`,
      'the status edit through the channel',
    );
    assert.match(contentOf(statusEdit), /^Done/);
  });

  it('sends a private result by DM once the token is gone', async () => {
    const { sub } = privateAcrossRestart;
    await second.deliver(await resultFor(service, sub));
    const dm = await fake.waitFor((c) => c.method === 'POST' && c.path === '/users/@me/channels', 'the DM channel');
    assert.equal(dm.body?.['recipient_id'], USER.id);
    const post = await fake.waitFor(isChannelPost(`9${USER.id.slice(1)}`), 'the DM');
    assert.equal(post.files.length, 1);
  });

  it('Reroll works from its custom id alone after the restart', async () => {
    const threadsBefore = fake.callsTo('POST', /\/threads$/).length;
    const press = componentPress(resultMessage, `pt1:reroll:${recipeKey}`);
    fake.dispatchInteraction(press);
    const cb = await fake.waitFor(isCallbackOf(press['id'] as string), 'the defer');
    assert.equal(cb.body?.['type'], 5, 'a new status message in the thread');
    await fake.waitFor(
      () => service.submitted.some((s) => s.idempotencyKey === `discord-${press['id']}`),
      'the reroll',
    );
    const sub = service.submitted.find((s) => s.idempotencyKey === `discord-${press['id']}`)!;
    assert.deepEqual(sub.request.selfieKeys, firstSelfies, 'same selfies, no new download');
    assert.equal(sub.request.lighting, 'loop');
    assert.equal(sub.request.seed, 22, 'a new seed');
    assert.equal(sub.request.route?.['thread'], resultMessage.channel_id, 'answered in the same thread');
    assert.equal(fake.callsTo('POST', /\/threads$/).length, threadsBefore, 'no new thread for a button');
  });

  it('Variations asks for four with a new seed, Relight keeps the seed and changes the light', async () => {
    const vary = componentPress(resultMessage, `pt1:vary:${recipeKey}`);
    fake.dispatchInteraction(vary);
    await fake.waitFor(() => service.submitted.some((s) => s.idempotencyKey === `discord-${vary['id']}`), 'variations');
    const v = service.submitted.find((s) => s.idempotencyKey === `discord-${vary['id']}`)!;
    assert.equal(v.request.variations, 4);
    assert.equal(v.request.seed, 33);

    const relight = componentPress(resultMessage, `pt1:relight:${recipeKey}`, { values: ['rim'] });
    fake.dispatchInteraction(relight);
    await fake.waitFor(() => service.submitted.some((s) => s.idempotencyKey === `discord-${relight['id']}`), 'relight');
    const r = service.submitted.find((s) => s.idempotencyKey === `discord-${relight['id']}`)!;
    assert.equal(r.request.lighting, 'rim');
    const original = service.submitted.find((s) => s.request.route?.['recipe'] === recipeKey)!;
    assert.equal(r.request.seed, original.request.seed, 'same seed, only the light changes');
  });

  it("refuses someone else's buttons privately", async () => {
    for (const id of [`pt1:reroll:${recipeKey}`, `pt1:delete:${USER.id}`]) {
      const press = componentPress(resultMessage, id, { user: OTHER_USER });
      fake.dispatchInteraction(press);
      const cb = await fake.waitFor(isCallbackOf(press['id'] as string), 'the refusal');
      assert.equal(cb.body?.['type'], 4);
      assert.equal(dataOf(cb)['flags'], 64);
      assert.equal(contentOf(cb), 'Only the person who asked for this portrait can do that.');
      assert.ok(!service.submitted.some((s) => s.idempotencyKey === `discord-${press['id']}`));
    }
  });

  it('Delete removes the portrait for its owner', async () => {
    const press = componentPress(resultMessage, `pt1:delete:${USER.id}`);
    fake.dispatchInteraction(press);
    const cb = await fake.waitFor(isCallbackOf(press['id'] as string), 'the ack');
    assert.equal(cb.body?.['type'], 6, 'deferred update');
    await fake.waitFor(
      (c) => c.method === 'DELETE' && c.path === `/channels/${resultMessage.channel_id}/messages/${resultMessage.id}`,
      'the delete',
    );
    assert.equal(fake.messages.get(resultMessage.id)?.deleted, true);
  });

  it('an expired recipe is answered with the expiry sentence', async () => {
    service.blobs.delete(recipeKey);
    const press = componentPress(resultMessage, `pt1:reroll:${recipeKey}`);
    fake.dispatchInteraction(press);
    const cb = await fake.waitFor(isCallbackOf(press['id'] as string), 'the refusal');
    assert.equal(contentOf(cb), 'This request expired before it could run. Send it again.');
  });

  it('falls back to the bot token when Discord says the interaction token expired', async () => {
    const { raw, sub } = await queuePortrait(fake, service);
    fake.expiredTokens.add(raw['token'] as string);
    await second.deliver(failureFor(sub, 'face.too_small'));
    const route = sub.request.route ?? {};
    const edit = await fake.waitFor(
      (c) => c.method === 'PATCH' && c.path === `/channels/${route['channel']}/messages/${route['status']}`,
      'the edit with the bot token',
    );
    assert.match(contentOf(edit), /^The face in your selfie is too small/);
  });

  it("Cancel on the status message cancels the owner's job", async () => {
    const { sub } = await queuePortrait(fake, service);
    const status = fake.messages.get(sub.request.route?.['status'] ?? '')!;
    assert.deepEqual(customIds(status.components), [`pt1:cancel:${sub.idempotencyKey}`]);
    const press = componentPress(status, `pt1:cancel:${sub.idempotencyKey}`);
    fake.dispatchInteraction(press);
    const cb = await fake.waitFor(isCallbackOf(press['id'] as string), 'the answer');
    assert.equal(contentOf(cb), 'Cancelled.');
    assert.equal(service.jobs.get(sub.idempotencyKey)?.state, 'cancelled');
  });

  it('/portrait-status lists my jobs with cancel buttons', async () => {
    const raw = chatCommand('portrait-status');
    fake.dispatchInteraction(raw);
    const edit = await fake.waitFor(
      (c) => c.method === 'PATCH' && c.path === `/webhooks/${APP_ID}/${raw['token']}/messages/@original`,
      'the list',
    );
    assert.match(contentOf(edit), /^Your portraits:\n1\. front, loop - /);
    assert.ok(customIds(edit.body?.['components']).every((id) => id.startsWith('pt1:cancel:discord-')));
    assert.ok(customIds(edit.body?.['components']).length >= 1);
  });

  it('/portrait-forget asks first, then deletes everything about me', async () => {
    const raw = chatCommand('portrait-forget');
    fake.dispatchInteraction(raw);
    const ask = await fake.waitFor(isCallbackOf(raw['id'] as string), 'the question');
    assert.equal(dataOf(ask)['flags'], 64);
    assert.deepEqual(customIds(dataOf(ask)['components']), [`pt1:forget:${USER.id}`, `pt1:keep:${USER.id}`]);
    assert.equal(service.forgotten.length, 0, 'nothing deleted before the confirmation');
    const question = [...fake.messages.values()].find((m) => m.interactionId === raw['id'])!;
    const press = componentPress(question, `pt1:forget:${USER.id}`);
    fake.dispatchInteraction(press);
    const done = await fake.waitFor(
      (c) => c.method === 'PATCH' && c.path === `/webhooks/${APP_ID}/${press['token']}/messages/@original`,
      'the confirmation',
    );
    assert.match(contentOf(done), /^Done - I deleted \d+ stored items? about you\.$/);
    assert.deepEqual(service.forgotten, [{ platform: 'discord', userId: USER.id, scopeId: '1100000000000000002' }]);
  });

  it('/portrait-help and autocomplete answer from the catalogues', async () => {
    const help = chatCommand('portrait-help');
    fake.dispatchInteraction(help);
    const cb = await fake.waitFor(isCallbackOf(help['id'] as string), 'the help');
    assert.equal(dataOf(cb)['flags'], 64);
    assert.match(contentOf(cb), /three-quarter left/);
    // The rest of the help (lighting, limits, privacy) follows in more private messages under 2000 characters.
    const rest = await fake.waitFor(
      (c) =>
        c.method === 'POST' && c.path === `/webhooks/${APP_ID}/${help['token']}` && contentOf(c).includes('Privacy'),
      'the rest of the help',
    );
    assert.equal(rest.body?.['flags'], 64);
    const all = fake.calls.filter((c) => c === cb || c.path === `/webhooks/${APP_ID}/${help['token']}`).map(contentOf);
    assert.ok(all.some((t) => t.includes('**rembrandt**')));
    assert.ok(all.every((t) => t.length <= 2000));

    const ac = autocomplete('lighting', 'rem');
    fake.dispatchInteraction(ac);
    const acb = await fake.waitFor(isCallbackOf(ac['id'] as string), 'the choices');
    assert.equal(acb.body?.['type'], 8);
    const choices = dataOf(acb)['choices'] as Array<{ name: string; value: string }>;
    assert.equal(choices[0]?.value, 'rembrandt');
    assert.ok(choices.every((c) => c.name.length <= 100));

    // Styles come from the catalogue too, completing the last part of a combination.
    const style = autocomplete('style', 'black and white, stu');
    fake.dispatchInteraction(style);
    const scb = await fake.waitFor(isCallbackOf(style['id'] as string), 'the style choices');
    assert.equal((dataOf(scb)['choices'] as Array<{ value: string }>)[0]?.value, 'black and white, studio grey');

    const typed = autocomplete('pose', 'yaw=20 pitch=-5');
    fake.dispatchInteraction(typed);
    const tcb = await fake.waitFor(isCallbackOf(typed['id'] as string), 'the choices');
    assert.equal((dataOf(tcb)['choices'] as Array<{ value: string }>)[0]?.value, 'yaw=20 pitch=-5');
  });

  it('a button of an unknown format gets a private answer', async () => {
    const press = componentPress(resultMessage, 'someone-elses-button');
    fake.dispatchInteraction(press);
    const cb = await fake.waitFor(isCallbackOf(press['id'] as string), 'the answer');
    assert.equal(dataOf(cb)['flags'], 64);
    assert.equal(
      fake.calls.filter((c) => c.path.startsWith(`/channels/${CHANNEL_ID}/messages`) && c.at > cb.at).length,
      0,
    );
  });
});
