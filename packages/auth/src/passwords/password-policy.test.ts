import { describe, expect, test, vi } from 'vitest';
import { AuthError } from '../errors.js';
import { assertPasswordAcceptable, checkPassword } from './password-policy.js';
import type { PasswordCheckOptions } from './password-policy.js';
import { minimumLengthFor } from './minimum-length.js';
import type { StrengthEstimator } from './strength-estimator.js';

// These cases run the real zxcvbn (language-common + language-en) in its worker thread.
const SINGLE_FACTOR = { minLength: minimumLengthFor({ mfaRequired: 'off' }) };
const ALL_MFA = { minLength: minimumLengthFor({ mfaRequired: 'all', passwordMinLength: 8 }) };
const STRONG = 'violet tractor umbrella minus';

function spyEstimator(): StrengthEstimator & ReturnType<typeof vi.fn> {
  return vi.fn<StrengthEstimator>(async () => ({ score: 4, warning: null, suggestions: [] }));
}

describe('length', () => {
  test('14 characters are too short when MFA is off', async () => {
    const result = await checkPassword('k9$Tm4&wZp#Lq2', SINGLE_FACTOR);
    expect(result).toMatchObject({ acceptable: false, reason: 'too_short' });
    expect(result.feedback[0]).toMatch(/at least 15 characters/);
  });

  test('the 8-character minimum applies when MFA is required for everyone', async () => {
    expect(ALL_MFA.minLength).toBe(8);
    expect(await checkPassword('k9$Tm4&wZp', ALL_MFA)).toMatchObject({ acceptable: true });
    expect(await checkPassword('k9$Tm4&wZp', SINGLE_FACTOR)).toMatchObject({ reason: 'too_short' });
    const eight = await checkPassword('Wg8!nQ2$', ALL_MFA);
    expect(eight.reason).not.toBe('too_short');
  });

  test('a minimum below 8 passed by a caller is raised to 8, and junk means 15', async () => {
    const estimator = spyEstimator();
    const raised = await checkPassword('Wg8!nQ2', { minLength: 4, estimator });
    expect(raised).toMatchObject({ acceptable: false, reason: 'too_short' });
    const junk = await checkPassword('k9$Tm4&wZp#Lq2', { minLength: Number.NaN, estimator });
    expect(junk).toMatchObject({ acceptable: false, reason: 'too_short' });
  });

  test('overlong input is refused without calling the estimator', async () => {
    for (const overlong of ['🔐'.repeat(257), 'a'.repeat(5_000_000)]) {
      const estimator = spyEstimator();
      const result = await checkPassword(overlong, { ...SINGLE_FACTOR, estimator });
      expect(result).toEqual({
        score: 0,
        acceptable: false,
        reason: 'too_long',
        feedback: ['Use at most 256 characters.'],
      });
      expect(estimator).not.toHaveBeenCalled();
    }
  });

  test('256 emoji are within the limit and the estimator reads only the first 100', async () => {
    const estimator = spyEstimator();
    const result = await checkPassword('🔐'.repeat(256), { ...SINGLE_FACTOR, estimator });
    expect(result.reason).not.toBe('too_long');
    expect(estimator).toHaveBeenCalledWith('🔐'.repeat(100), []);
  });
});

describe('common, contextual and weak passwords', () => {
  test('a password on the bundled common list is refused, whatever its case', async () => {
    expect(await checkPassword('FOOTBALL', ALL_MFA)).toMatchObject({ reason: 'common', score: 0 });
    const long = await checkPassword('1QAZ2WSX3EDC4RFV', SINGLE_FACTOR);
    expect(long).toMatchObject({ acceptable: false, reason: 'common', score: 0 });
  });

  test("a password containing the e-mail's local part is refused", async () => {
    const options = { ...SINGLE_FACTOR, email: 'Marguerite.Dupont@example.com' };
    const result = await checkPassword('sailing-with-MARGUERITE-42', options);
    expect(result).toMatchObject({ acceptable: false, reason: 'contains_context' });
    expect(result.feedback[0]).not.toContain('marguerite');
  });

  test("a password containing the tenant's slug or name is refused", async () => {
    const bySlug = { ...SINGLE_FACTOR, tenantSlug: 'acme-rockets' };
    const byName = { ...SINGLE_FACTOR, tenantName: 'Globex Corporation' };
    expect(await checkPassword('my acme-rockets vault key', bySlug)).toMatchObject({
      reason: 'contains_context',
    });
    expect(await checkPassword('violet AcmeRockets umbrella', bySlug)).toMatchObject({
      reason: 'contains_context',
    });
    expect(await checkPassword('violet globex tractor umbrella', byName)).toMatchObject({
      reason: 'contains_context',
    });
  });

  test('context parts shorter than 3 characters, and short words, are ignored', async () => {
    const options = { ...SINGLE_FACTOR, email: 'jo@example.com', tenantName: 'The App Inc' };
    const result = await checkPassword('Jo-pelican-harbour-lantern-the-app', options);
    expect(result).toMatchObject({ acceptable: true });
  });

  test('context words are given to zxcvbn as user inputs', async () => {
    const estimator = spyEstimator();
    const options: PasswordCheckOptions = {
      ...SINGLE_FACTOR,
      email: 'jane.doe@example.com',
      tenantSlug: 'acme-rockets',
      estimator,
    };
    await checkPassword(STRONG, options);
    expect(estimator.mock.calls[0]?.[1]).toEqual(
      expect.arrayContaining(['jane.doe', 'janedoe', 'acme-rockets', 'acmerockets', 'rockets']),
    );
  });

  test('a guessable password scoring below 3 is refused with zxcvbn hints', async () => {
    const result = await checkPassword('aaaaaaaaaaaaaaaa', SINGLE_FACTOR);
    expect(result).toMatchObject({ acceptable: false, reason: 'too_weak' });
    expect(result.score).toBeLessThan(3);
    expect(result.feedback[0]).toBe('This password is too easy to guess.');
    expect(result.feedback.length).toBeGreaterThan(1);
  });

  test('a strong passphrase is accepted with a score of at least 3', async () => {
    const result = await checkPassword(STRONG, { ...SINGLE_FACTOR, email: 'jane@example.com' });
    expect(result.acceptable).toBe(true);
    expect(result.score).toBeGreaterThanOrEqual(3);
    expect(result).not.toHaveProperty('reason');
  });
});

describe('breach check and errors', () => {
  test('a breached password is refused, and the check only runs once the rules pass', async () => {
    const breachCheck = vi.fn(async () => true);
    const result = await checkPassword(STRONG, { ...SINGLE_FACTOR, breachCheck });
    expect(result).toMatchObject({ acceptable: false, reason: 'breached', score: 0 });
    await checkPassword('FOOTBALL', { ...ALL_MFA, breachCheck });
    expect(breachCheck).toHaveBeenCalledTimes(1);
  });

  test('assertPasswordAcceptable throws weak_password with a safe detail for the form', async () => {
    const error: unknown = await assertPasswordAcceptable('FOOTBALL', ALL_MFA).catch((e) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'weak_password', field: 'password' });
    expect((error as AuthError).detail).toMatch(/commonly used/);
    expect((error as AuthError).detail).not.toContain('FOOTBALL');
    await expect(assertPasswordAcceptable(STRONG, SINGLE_FACTOR)).resolves.toMatchObject({
      acceptable: true,
    });
  });
});
