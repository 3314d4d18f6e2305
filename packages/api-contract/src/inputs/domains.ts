import { z } from 'zod';

/** Checked again on the server (IDNA, public suffixes); here only the shape, for forms. */
export const addDomainInput = z.strictObject({
  domain: z.string().trim().min(3).max(253),
});
export type AddDomainInput = z.infer<typeof addDomainInput>;

export const domainIdInput = z.strictObject({ id: z.string().uuid() });
export type DomainIdInput = z.infer<typeof domainIdInput>;

export const updateDomainInput = z.strictObject({
  id: z.string().uuid(),
  requireSso: z.boolean().optional(),
  autoJoin: z.boolean().optional(),
});
export type UpdateDomainInput = z.infer<typeof updateDomainInput>;

export const routeSignInInput = z.strictObject({
  email: z.string().trim().min(3).max(254),
});
export type RouteSignInInput = z.infer<typeof routeSignInInput>;
