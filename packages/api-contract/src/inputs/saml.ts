import { z } from 'zod';

const attributeName = z.string().trim().min(1).max(255).nullable().optional();

const samlConnectionFields = {
  name: z.string().trim().min(1).max(100).optional(),
  enabled: z.boolean().optional(),
  /** IdP metadata XML (no DOCTYPE), or a URL to fetch it from through the outbound-URL rule. */
  metadataXml: z
    .string()
    .min(1)
    .max(256 * 1024)
    .optional(),
  metadataUrl: z.string().trim().min(8).max(1024).url().optional(),
  idpEntityID: z.string().trim().min(1).max(1024).optional(),
  idpSsoUrl: z.string().trim().min(8).max(1024).url().optional(),
  /** PEM or base64 DER signing certificates: one, or two while the IdP rotates. Replaces the list. */
  certificates: z.array(z.string().min(1).max(16_384)).min(1).max(2).optional(),
  allowIdpInitiated: z.boolean().optional(),
  jitProvisioning: z.boolean().optional(),
  emailsVerified: z.boolean().optional(),
  trustIdpMfa: z.boolean().optional(),
  mfaContexts: z.array(z.string().trim().min(1).max(255)).max(20).optional(),
  emailAttribute: attributeName,
  nameAttribute: attributeName,
  groupsAttribute: attributeName,
  groupRoles: z
    .array(
      z.strictObject({
        group: z.string().trim().min(1).max(255),
        role: z.enum(['admin', 'compliance', 'member']),
      }),
    )
    .max(50)
    .optional(),
};

export const createSamlConnectionInput = z.strictObject({
  ...samlConnectionFields,
  name: z.string().trim().min(1).max(100),
});
export const updateSamlConnectionInput = z.strictObject({
  id: z.string().uuid(),
  ...samlConnectionFields,
});
export const samlConnectionIdInput = z.strictObject({ id: z.string().uuid() });
