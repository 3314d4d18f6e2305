import { expect, test } from 'vitest';
import { explainRiskScore } from './risk-explanation.js';
import { signInRiskScore } from './risk-score.js';

test('a fixed-score action names its table entry', () => {
  expect(explainRiskScore('user.role.changed', 60, {})).toEqual({
    basis: 'fixed',
    score: 60,
    summary: 'Fixed score for user.role.changed: 60.',
  });
});

test('an action without a table entry names the default rule', () => {
  expect(explainRiskScore('scim.token.refused', 40, {}).summary).toMatch(
    /refusals and failures.*40/,
  );
  expect(explainRiskScore('domain.added', 10, {}).summary).toMatch(/without a fixed score: 10/);
});

test('a sign-in lists the signal sets that add up to its score, narrowed by its metadata', () => {
  const score = signInRiskScore({
    newIp: true,
    newUserAgent: false,
    recentFailures: 2,
    locked: false,
    unusualHour: false,
  });
  const explained = explainRiskScore('auth.sign_in.failed', score, {
    failures: 2,
    reason: 'bad_credentials',
  });
  expect(explained.basis).toBe('signals');
  if (explained.basis !== 'signals') return;
  for (const set of explained.combinations)
    expect(set.reduce((n, s) => n + s.points, 0)).toBe(score);
  expect(explained.combinations.map((set) => set.map((s) => s.label))).toContainEqual([
    'new IP address for this user',
    '2 recent failed attempts',
  ]);
  // The metadata says two failures: no combination with another failure count is offered.
  expect(explained.combinations.flat().every((s) => !/^[13] recent/.test(s.label))).toBe(true);
});
