import { z } from 'zod';

/** Privacy and compliance inputs (DESIGN public contract); strict and bounded (STYLE convention 8). */
export const privacyRequestType = z.enum(['export', 'deletion']);
export const privacyExportFormat = z.enum(['json', 'csv', 'pdf']);
export const privacyRequestStatus = z.enum(['pending', 'processing', 'completed', 'failed', 'rejected', 'blocked']);
const reason = z.string().trim().min(1).max(1000);

export const requestExportInput = z.strictObject({ format: privacyExportFormat });
export type RequestExportInput = z.infer<typeof requestExportInput>;

export const exportDownloadInput = z.strictObject({ requestId: z.uuid() });
export type ExportDownloadInput = z.infer<typeof exportDownloadInput>;

export const listPrivacyRequestsInput = z
  .strictObject({
    status: privacyRequestStatus.optional(),
    type: privacyRequestType.optional(),
    /** `nextCursor` of the previous page. */
    cursor: z.string().min(1).max(100).optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .optional();
export type ListPrivacyRequestsInput = z.infer<typeof listPrivacyRequestsInput>;

export const createPrivacyRequestInput = z
  .strictObject({ userId: z.uuid(), type: privacyRequestType, format: privacyExportFormat.optional() })
  .refine((input) => (input.type === 'export') === (input.format !== undefined), { message: 'exports need a format; erasure takes none', path: ['format'] });
export type CreatePrivacyRequestInput = z.infer<typeof createPrivacyRequestInput>;

export const placeLegalHoldInput = z.strictObject({ userId: z.uuid(), reason });
export type PlaceLegalHoldInput = z.infer<typeof placeLegalHoldInput>;

export const releaseLegalHoldInput = z.strictObject({ holdId: z.uuid() });
export type ReleaseLegalHoldInput = z.infer<typeof releaseLegalHoldInput>;

export const rejectPrivacyRequestInput = z.strictObject({ id: z.uuid(), reason });
export type RejectPrivacyRequestInput = z.infer<typeof rejectPrivacyRequestInput>;

export const extendPrivacyDeadlineInput = z.strictObject({ id: z.uuid(), months: z.number().int().min(1).max(2), reason });
export type ExtendPrivacyDeadlineInput = z.infer<typeof extendPrivacyDeadlineInput>;
