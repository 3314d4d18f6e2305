import { expect, test } from 'vitest';
import { AuthError } from './errors.js';
import {
  apiKeyRefused,
  mfaCodeRefused,
  onOutcome,
  publishApiKeyRefusal,
  signInOutcomeOf,
  type OutcomeEvent,
} from './outcomes.js';

function recording(): { events: OutcomeEvent[]; stop: () => void } {
  const events: OutcomeEvent[] = [];
  return { events, stop: onOutcome((event) => events.push(event)) };
}

test('a sign-in that threw counts as its refusal code, anything else as error', () => {
  expect(signInOutcomeOf(new AuthError('account_locked'))).toBe('account_locked');
  expect(signInOutcomeOf(new AuthError('rate_limited'))).toBe('rate_limited');
  expect(signInOutcomeOf(new AuthError('server_busy'))).toBe('error');
  expect(signInOutcomeOf(new Error('connection terminated'))).toBe('error');
  expect(signInOutcomeOf('not an error')).toBe('error');
});

test('the refusal helpers publish once and return the error to throw; an unsubscribed listener hears nothing', () => {
  const { events, stop } = recording();
  const mfa = mfaCodeRefused('mfa_code_replayed');
  const key = apiKeyRefused('api_key_quota_exhausted', { retryAfterSeconds: 9 });
  publishApiKeyRefusal(new AuthError('api_key_invalid'));
  publishApiKeyRefusal(new AuthError('forbidden')); // not a key refusal: nothing
  publishApiKeyRefusal(new AuthError('api_key_not_found')); // a missing key to manage, not a refused key
  stop();
  mfaCodeRefused('mfa_code_invalid');
  expect(mfa).toMatchObject({ code: 'mfa_code_replayed' });
  expect(key).toMatchObject({ code: 'api_key_quota_exhausted', retryAfterSeconds: 9 });
  expect(events).toEqual([
    { kind: 'mfa_failure', reason: 'mfa_code_replayed' },
    { kind: 'api_key_refused', reason: 'quota_exhausted' },
    { kind: 'api_key_refused', reason: 'invalid' },
  ]);
});
