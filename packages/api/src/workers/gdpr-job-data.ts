/** The payload of a GDPR job: which request, in which tenant. Validated before any query runs. */
export interface GdprJobData {
  tenantId: string;
  requestId: string;
}

export interface GdprJob {
  id?: string;
  data: unknown;
}

/** The outcome a handler reports (stored by pg-boss as the job's output). */
export type GdprJobResult = {
  status: 'completed' | 'blocked' | 'failed' | 'skipped' | 'locked';
  reason?: string;
};

/** Pino-like; objects first. Never receives personal data or tokens. */
export interface GdprLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseGdprJobData(data: unknown): GdprJobData {
  const value = (data ?? {}) as Partial<Record<keyof GdprJobData, unknown>>;
  if (
    typeof value.tenantId !== 'string' ||
    !UUID.test(value.tenantId) ||
    typeof value.requestId !== 'string' ||
    !UUID.test(value.requestId)
  ) {
    throw new TypeError('GDPR job data must be { tenantId, requestId } (UUIDs)');
  }
  return { tenantId: value.tenantId, requestId: value.requestId };
}
