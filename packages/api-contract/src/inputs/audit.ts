import { z } from 'zod';

/** Dotted snake_case audit action, e.g. `auth.sign_in.failed` (the writer's own rule). */
export const auditAction = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/);

export const listAuditEventsInput = z
  .strictObject({
    /** Page size, 1..100 (default 50). */
    limit: z.number().int().min(1).max(100).optional(),
    /** `nextCursor` of the previous page: events with a lower seq. */
    cursor: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    action: auditAction.optional(),
    actorId: z.string().min(1).max(200).optional(),
    /** Inclusive lower bound on occurredAt (ISO-8601 with offset). */
    since: z.iso.datetime({ offset: true }).optional(),
    /** Exclusive upper bound on occurredAt. */
    until: z.iso.datetime({ offset: true }).optional(),
    /** Free text: events whose target is a user (e-mail, name) or API key (name) it names, or that id. */
    target: z.string().trim().min(1).max(200).optional(),
  })
  .refine(
    (input) => !input.since || !input.until || Date.parse(input.since) < Date.parse(input.until),
    {
      message: 'since must be before until',
      path: ['until'],
    },
  )
  .optional();
export type ListAuditEventsInput = z.infer<typeof listAuditEventsInput>;

/** One event for the console's detail drawer. */
export const getAuditEventInput = z.strictObject({
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});
export type GetAuditEventInput = z.infer<typeof getAuditEventInput>;

/** Query string of the HTTP export (`GET /audit/export`). */
export const exportAuditLogInput = z.strictObject({
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
  /** Only events after this seq (incremental SIEM feeds). */
  afterSeq: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** The audit page's current filter (same meaning as in audit.list). */
  action: auditAction.optional(),
  actorId: z.string().min(1).max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  target: z.string().trim().min(1).max(200).optional(),
});
export type ExportAuditLogInput = z.infer<typeof exportAuditLogInput>;
