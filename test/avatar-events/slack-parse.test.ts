import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isEventMention, parseEventMention } from '../../src/bots/slack/events.js';

describe('Slack event mention grammar', () => {
  it('tells event commands from portrait prompts', () => {
    for (const t of ['event create X', 'events', 'join Winter', 'leave', 'JOIN winter party dm']) {
      assert.equal(isEventMention(t), true, t);
    }
    for (const t of ['pose: left', 'three-quarter left, golden hour', 'joined lighting', 'eventually front']) {
      assert.equal(isEventMention(t), false, t);
    }
  });

  it('reads join and leave with the event name and the dm wish', () => {
    assert.deepEqual(parseEventMention('join Winter party'), { kind: 'join', name: 'Winter party', dm: false });
    assert.deepEqual(parseEventMention('join "Winter party" dm'), { kind: 'join', name: 'Winter party', dm: true });
    assert.deepEqual(parseEventMention('join Winter party by DM me'), { kind: 'join', name: 'Winter party', dm: true });
    assert.deepEqual(parseEventMention('join'), { kind: 'join', name: '', dm: false });
    assert.deepEqual(parseEventMention('leave Winter party'), { kind: 'leave', name: 'Winter party' });
  });

  it('reads create with a name and keyed options in any order, values keeping their commas', () => {
    const p = parseEventMention(
      'event create Winter party pose: 3/4 left, light: key from left, warm, ends: in 7 days; entries: 2, frame: gold, keep: 2w',
    );
    assert.deepEqual(p, {
      kind: 'manage',
      sub: 'create',
      name: 'Winter party',
      options: {
        pose: '3/4 left',
        lighting: 'key from left, warm',
        endsAt: 'in 7 days',
        entriesPerMember: '2',
        frameColour: 'gold',
        retentionDays: '2w',
      },
      confirm: false,
      page: 1,
    });
  });

  it('reads delete confirm, gallery pages, and anything else as help', () => {
    const del = parseEventMention('event delete Winter party confirm');
    assert.ok(del.kind === 'manage' && del.confirm && del.name === 'Winter party');
    const unconfirmed = parseEventMention('event delete Winter party');
    assert.ok(unconfirmed.kind === 'manage' && !unconfirmed.confirm);
    const page = parseEventMention('event gallery Winter party page 3');
    assert.ok(page.kind === 'manage' && page.page === 3 && page.name === 'Winter party');
    assert.deepEqual(parseEventMention('event'), { kind: 'help' });
    assert.deepEqual(parseEventMention('event dance Winter'), { kind: 'help' });
  });
});
