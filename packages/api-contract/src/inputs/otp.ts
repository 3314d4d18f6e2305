import { z } from 'zod';

/** E.164 after removing spaces, dots, hyphens and parentheses; the server normalises again. */
export const phoneNumber = z
  .string()
  .trim()
  .max(32)
  .refine(
    (v) => /^\+[1-9][0-9]{7,14}$/.test(v.replace(/[\s().-]/g, '')),
    'Enter the number in international format, e.g. +44 7700 900123.',
  );
export const beginSmsEnrollmentInput = z.strictObject({ phone: phoneNumber });
export const oneTimeCodeInput = z.strictObject({ code: z.string().trim().min(6).max(16) });
/** E-mail is accepted by the schema so the refusal is a clear domain error, not a validation one. */
export const sendCodeInput = z.strictObject({
  challengeToken: z.string().min(1).max(200).optional(),
  channel: z.enum(['sms', 'email']),
});
export const challengeOptionsInput = z.strictObject({
  challengeToken: z.string().min(1).max(200).optional(),
});
export const deviceIdInput = z.strictObject({ id: z.string().uuid() });

export type BeginSmsEnrollmentInput = z.infer<typeof beginSmsEnrollmentInput>;
export type SendCodeInput = z.infer<typeof sendCodeInput>;
