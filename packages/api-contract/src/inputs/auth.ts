import { z } from 'zod';

/** Passwords: up to 256 code points (NIST rev 4); the schema bounds UTF-16 units cheaply first. */
export const password = z.string().min(1).max(1024);
export const email = z.string().trim().min(3).max(254).email();
export const tenantSlug = z
  .string()
  .trim()
  .min(3)
  .max(40)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'Use lowercase letters, digits and hyphens.');
const token = z.string().min(1).max(200);

export const signUpInput = z.strictObject({
  tenantName: z.string().trim().min(1).max(100),
  tenantSlug,
  email,
  password,
  displayName: z.string().trim().min(1).max(100).optional(),
});
export type SignUpInput = z.infer<typeof signUpInput>;

export const signInInput = z.strictObject({
  tenantSlug: z.string().trim().min(1).max(40),
  email: z.string().trim().min(1).max(254),
  password,
});
export type SignInInput = z.infer<typeof signInInput>;

export const changePasswordInput = z.strictObject({
  currentPassword: password,
  newPassword: password,
});
export const requestPasswordResetInput = z.strictObject({
  tenantSlug: z.string().trim().min(1).max(40),
  email: z.string().trim().min(1).max(254),
});
export const resetPasswordInput = z.strictObject({ token, newPassword: password });
export const passwordStrengthInput = z.strictObject({
  password,
  email: z.string().max(254).optional(),
  tenantSlug: z.string().max(40).optional(),
});
export const acceptInviteInput = z.strictObject({
  token,
  password,
  displayName: z.string().trim().min(1).max(100).optional(),
});
export const verifyEmailInput = z.strictObject({ token });
export const requestEmailChangeInput = z.strictObject({
  newEmail: z.string().trim().min(3).max(254),
  password,
});
export const confirmEmailChangeInput = z.strictObject({ token });
