import { z } from 'zod';

/** A 6-digit TOTP or a backup code (12 letters/digits, any case, spaces or hyphens allowed). */
export const mfaCode = z.string().trim().min(6).max(32);
export const mfaCodeInput = z.strictObject({ code: mfaCode });
export const verifyMfaInput = z.strictObject({
  challengeToken: z.string().min(1).max(200).optional(),
  code: mfaCode,
  rememberDevice: z.boolean().optional(),
});
export const disableMfaInput = z.strictObject({
  password: z.string().min(1).max(1024),
  code: mfaCode,
});
