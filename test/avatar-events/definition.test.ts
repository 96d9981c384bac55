import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AvatarEvent,
  applyEventEdit,
  canManageEvent,
  checkEntryWindow,
  effectiveStatus,
  eventExpiresAt,
  parseColour,
  parseEventTime,
  parseRetentionDays,
  transitionEvent,
  validateEventDraft,
} from '../../src/avatar-events/definition.js';
import { describeError } from '../../src/core/messages.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const DAY = 24 * 3600 * 1000;
const ctx = { now: NOW, defaultEngine: 'compositor' as const };
const destination = { channelId: 'c1' };

function draft(extra: Record<string, unknown> = {}) {
  return validateEventDraft({ name: 'Winter 2026', destination, ...extra }, ctx);
}

function event(extra: Partial<AvatarEvent> = {}): AvatarEvent {
  const d = draft();
  assert.ok(d.ok);
  return {
    ...d.value,
    id: 'evtest1',
    platform: 'discord',
    scopeId: 'g1',
    createdBy: 'owner',
    createdAt: NOW,
    updatedAt: NOW,
    ...extra,
  };
}

describe('event definition', () => {
  it('fills defaults: front, studio, starts now, a week long, one entry each, 30 days retention, draft', () => {
    const d = draft();
    assert.ok(d.ok);
    assert.deepEqual(d.value.theme, { pose: 'front', lighting: 'studio', style: '' });
    assert.equal(d.value.startsAt, NOW);
    assert.equal(d.value.endsAt, NOW + 7 * DAY);
    assert.equal(d.value.entriesPerMember, 1);
    assert.equal(d.value.retentionDays, 30);
    assert.equal(d.value.status, 'draft');
  });

  it('stores canonical pose and lighting labels, output and frame colour', () => {
    const d = draft({ pose: '3/4 left', lighting: 'Golden-Hour', size: 512, format: 'png', frameColour: 'F80' });
    assert.ok(d.ok);
    assert.equal(d.value.theme.pose, 'three-quarter left');
    assert.equal(d.value.theme.lighting, 'golden hour');
    assert.deepEqual(d.value.theme.output, { size: 512, format: 'png' });
    assert.equal(d.value.theme.frameColour, '#ff8800');
  });

  const refusals: [string, Record<string, unknown>, string, RegExp][] = [
    ['a typo in the pose', { pose: 'thre-quarter lft' }, 'request.bad_pose', /Did you mean/],
    ['a typo in the lighting', { lighting: 'rembrant' }, 'request.bad_lighting', /Did you mean 'rembrandt'/],
    ['a profile with the compositor', { pose: 'profile left' }, 'request.pose_out_of_range', /compositor/],
    ['an end before the start', { startsAt: NOW + DAY, endsAt: NOW }, 'request.bad_option', /after the start/],
    ['an end in the past', { startsAt: NOW - 3 * DAY, endsAt: NOW - DAY }, 'request.bad_option', /in the future/],
    ['zero entries per member', { entriesPerMember: 0 }, 'request.bad_option', /entries per member/],
    ['a retention of 400 days', { retentionDays: 400 }, 'request.bad_option', /retention/],
    ['an unknown engine', { engine: 'dalle' }, 'request.bad_option', /compositor, crop, diffusion/],
    ['a size of 10', { size: 10 }, 'request.bad_option', /64 to 2048/],
    ['a bad frame colour', { frameColour: 'plaid' }, 'request.bad_option', /frame colour/],
    ['a name with a mention', { name: '@everyone party' }, 'request.bad_option', /name/],
    ['an empty name', { name: '   ' }, 'request.bad_option', /1 to 80/],
  ];
  for (const [what, extra, code, sentence] of refusals) {
    it(`refuses ${what} with ${code} and a helpful sentence`, () => {
      const d = draft(extra);
      assert.equal(d.ok, false);
      if (d.ok) return;
      assert.equal(d.error.code, code);
      assert.match(describeError(d.error), sentence);
    });
  }

  it('takes a profile pose when the theme names the diffusion engine', () => {
    const d = draft({ pose: 'profile left', engine: 'diffusion' });
    assert.ok(d.ok);
    assert.equal(d.value.theme.engine, 'diffusion');
  });

  it('opens, closes and re-opens; an open event past its end is closed for members', () => {
    const e = event();
    assert.equal(effectiveStatus(e, NOW), 'draft');
    const open = transitionEvent(e, 'open', NOW);
    assert.ok(open.ok);
    assert.equal(open.value.status, 'open');
    assert.equal(effectiveStatus(open.value, open.value.endsAt), 'closed');
    const closed = transitionEvent(open.value, 'close', NOW + 1000);
    assert.ok(closed.ok);
    assert.equal(closed.value.closedAt, NOW + 1000);
    const again = transitionEvent(closed.value, 'open', NOW + 2000);
    assert.ok(again.ok);
    assert.equal(again.value.status, 'open');
    assert.equal(again.value.closedAt, undefined);
    const late = transitionEvent(closed.value, 'open', closed.value.endsAt + 1);
    assert.equal(late.ok, false);
  });

  it('takes entries only while open and started; says why not otherwise', () => {
    const e = event();
    const draftRefusal = checkEntryWindow(e, NOW);
    assert.ok(!draftRefusal.ok && draftRefusal.error.code === 'event.not_open');
    const open = { ...e, status: 'open' as const, startsAt: NOW + DAY };
    const early = checkEntryWindow(open, NOW);
    assert.ok(!early.ok);
    assert.match(describeError(early.error), /opens at 2026-11-25 12:00 UTC/);
    assert.ok(checkEntryWindow(open, NOW + DAY).ok);
    const ended = checkEntryWindow(open, open.endsAt);
    assert.ok(!ended.ok && ended.error.code === 'event.closed');
    assert.match(describeError(ended.error), /'Winter 2026' is closed and takes no new entries/);
  });

  it('locks the theme once members joined, but not the name or the end', () => {
    const e = event();
    const locked = applyEventEdit(e, { lighting: 'neon' }, { ...ctx, hasEntries: true });
    assert.ok(!locked.ok);
    assert.equal(locked.error.code, 'event.not_allowed');
    assert.match(describeError(locked.error), /theme can't change/);
    const renamed = applyEventEdit(e, { name: 'Winter party', endsAt: NOW + 2 * DAY }, { ...ctx, hasEntries: true });
    assert.ok(renamed.ok);
    assert.equal(renamed.value.name, 'Winter party');
    const relit = applyEventEdit(e, { lighting: 'neon', frameColour: 'gold' }, { ...ctx, hasEntries: false });
    assert.ok(relit.ok);
    assert.equal(relit.value.theme.lighting, 'neon');
    assert.equal(relit.value.theme.pose, 'front');
    assert.equal(relit.value.theme.frameColour, '#d4af37');
  });

  it('lets admins, organiser roles, the creator and named managers manage; nobody else', () => {
    const e = event({ managers: ['role-mods', 'u-helper'] });
    const who = (userId: string, isAdmin = false, roleIds: string[] = []) => ({ userId, isAdmin, roleIds });
    assert.equal(canManageEvent(who('x', true), e, []), true);
    assert.equal(canManageEvent(who('x', false, ['role-org']), e, ['role-org']), true);
    assert.equal(canManageEvent(who('owner'), e, []), true);
    assert.equal(canManageEvent(who('y', false, ['role-mods']), e, []), true);
    assert.equal(canManageEvent(who('u-helper'), e, []), true);
    assert.equal(canManageEvent(who('z', false, ['role-other']), e, ['role-org']), false);
    assert.equal(canManageEvent(who('z'), undefined, []), false);
  });

  it('keeps results for the retention after the end, or after an early close', () => {
    const e = event({ status: 'open' });
    assert.equal(eventExpiresAt(e), e.endsAt + 30 * DAY);
    assert.equal(eventExpiresAt({ ...e, closedAt: NOW + DAY, retentionDays: 2 }), NOW + 3 * DAY);
  });

  it('parses times, retention and colours as organisers type them', () => {
    const t = (s: string) => {
      const r = parseEventTime(s, NOW);
      return r.ok ? r.value : r.error.code;
    };
    assert.equal(t('now'), NOW);
    assert.equal(t('in 3 days'), NOW + 3 * DAY);
    assert.equal(t('12h'), NOW + 12 * 3600_000);
    assert.equal(t('2w'), NOW + 14 * DAY);
    assert.equal(t('90 min'), NOW + 90 * 60_000);
    assert.equal(t('2026-12-01'), Date.parse('2026-12-01T00:00:00Z'));
    assert.equal(t('2026-12-01 18:30'), Date.parse('2026-12-01T18:30:00Z'));
    assert.equal(t('2026-12-01T18:30+02:00'), Date.parse('2026-12-01T16:30:00Z'));
    assert.equal(t('2026-02-30'), 'request.bad_option');
    assert.equal(t('next tuesday'), 'request.bad_option');
    assert.deepEqual(parseRetentionDays('2w'), { ok: true, value: 14 });
    assert.equal(parseRetentionDays('0').ok, false);
    assert.equal(parseColour('#ABC'), '#aabbcc');
    assert.equal(parseColour('gold'), '#d4af37');
    assert.equal(parseColour('#12345'), undefined);
  });
});
