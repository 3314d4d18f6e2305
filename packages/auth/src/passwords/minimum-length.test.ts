import { describe, expect, test } from 'vitest';
import { assertMinimumLengthAllowed, minimumLengthFor } from './minimum-length.js';

describe('minimum password length from the tenant policy', () => {
  test('15 is the minimum unless MFA is required for everyone', () => {
    expect(minimumLengthFor({ mfaRequired: 'off' })).toBe(15);
    expect(minimumLengthFor({ mfaRequired: 'off', passwordMinLength: 8 })).toBe(15);
    expect(minimumLengthFor({ mfaRequired: 'admins', passwordMinLength: 8 })).toBe(15);
    expect(minimumLengthFor({ mfaRequired: 'all' })).toBe(15);
  });

  test('a tenant requiring MFA for everyone may lower it, never below 8', () => {
    expect(minimumLengthFor({ mfaRequired: 'all', passwordMinLength: 8 })).toBe(8);
    expect(minimumLengthFor({ mfaRequired: 'all', passwordMinLength: 12 })).toBe(12);
    expect(minimumLengthFor({ mfaRequired: 'all', passwordMinLength: 4 })).toBe(8);
  });

  test('a higher minimum is kept, capped at the maximum length, and junk falls back to 15', () => {
    expect(minimumLengthFor({ mfaRequired: 'off', passwordMinLength: 20 })).toBe(20);
    expect(minimumLengthFor({ mfaRequired: 'off', passwordMinLength: 1000 })).toBe(256);
    expect(minimumLengthFor({ mfaRequired: 'all', passwordMinLength: Number.NaN })).toBe(15);
  });

  test('a policy update may only set what the MFA setting allows', () => {
    expect(() =>
      assertMinimumLengthAllowed({ mfaRequired: 'all', passwordMinLength: 8 }),
    ).not.toThrow();
    expect(() =>
      assertMinimumLengthAllowed({ mfaRequired: 'off', passwordMinLength: 20 }),
    ).not.toThrow();
    expect(() => assertMinimumLengthAllowed({ mfaRequired: 'off' })).not.toThrow();
    for (const bad of [
      { mfaRequired: 'admins', passwordMinLength: 12 },
      { mfaRequired: 'all', passwordMinLength: 7 },
      { mfaRequired: 'all', passwordMinLength: 65 },
      { mfaRequired: 'all', passwordMinLength: 9.5 },
    ] as const) {
      expect(() => assertMinimumLengthAllowed(bad)).toThrow(
        expect.objectContaining({ code: 'invalid_input', field: 'passwordMinLength' }),
      );
    }
  });
});
