import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeError } from '../../src/core/messages.js';
import { INTERNAL_ERROR_CODES, USER_ERROR_CODES } from '../../src/errors.js';

test('every code has a sentence that reads well with no details and with typical ones', () => {
  for (const code of [...USER_ERROR_CODES, ...INTERNAL_ERROR_CODES]) {
    for (const details of [{}, { selfie: 2, limit: '10 MB', got: 'PDF', suggestion: 'left', engine: 'compositor' }]) {
      const text = describeError({ code, details });
      assert.match(text, /^[A-Z"]/, `${code} starts a sentence: ${text}`);
      assert.match(text, /[.!?)]$/, `${code} ends a sentence: ${text}`);
      assert.doesNotMatch(text, /undefined|\[object|NaN/, `${code}: ${text}`);
    }
  }
});

test('internal errors carry their reference id; the selfie and counts read naturally', () => {
  assert.match(describeError({ code: 'internal.error', details: {}, refId: 'ab12cd34' }), /\(reference ab12cd34\)$/);
  assert.match(describeError({ code: 'face.none', details: { selfie: 2 } }), /in selfie 2:/);
  assert.match(describeError({ code: 'quota.user_in_flight', details: { limit: 1 } }), /have 1 portrait in/);
  assert.match(
    describeError({ code: 'face.low_resolution', details: { selfie: 1, got: '177 pixels', limit: '293 pixels' } }),
    /^Selfie 1 is too small .* only 177 pixels across.* original photo .*at least 293 pixels/,
  );
  assert.match(
    describeError({ code: 'request.bad_pose', details: { got: 'lft', suggestion: 'left' } }),
    /Did you mean 'left'\?/,
  );
  assert.match(
    describeError({ code: 'request.bad_pose', details: { got: 'yaw=120', range: 'yaw from -90 to 90' } }),
    /outside what I can draw: yaw from -90 to 90\./,
  );
});
