/**
 * GET /audit/export?format=jsonl|csv&afterSeq=N: streams the caller's tenant audit log, e.g. into a
 * SIEM. JSON lines are the form docs/audit-verify-example.mjs verifies; CSV is for spreadsheets.
 * The audit page's filter (action, actorId, since, until, target) narrows it to the rows on
 * screen; such an export is a selection, not a chain a verifier can walk.
 *
 * Who: owner, admin and compliance sessions (not enrollment-only ones) and secret API keys with
 * `audit:read`, the same rule as audit.list. The export reads personal data, so it is audited
 * (docs/design.md "Privacy"): `audit.log.exported` is committed before the first byte leaves. Rows are
 * streamed from one read-only tenant transaction with backpressure; nothing is buffered whole.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Principal } from '@tessera/api-contract';
import {
  AUDIT_EXPORT_CONTENT_TYPES,
  auditExportChunks,
  recordAuditEvent,
  targetIdsMatching,
  type AuditActor,
  type AuditExportFormat,
  type ChainFilter,
  type NameVisibility,
} from '@tessera/auth/audit';
import { withTenant, type Database, type TenantTx } from '@tessera/db';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export interface AuditExportPluginOptions {
  database: Database;
  now?: () => Date;
}

interface ExportQuery {
  format?: AuditExportFormat;
  afterSeq?: number;
  action?: string;
  actorId?: string;
  since?: string;
  until?: string;
  target?: string;
}

const READ_ROLES: ReadonlySet<string> = new Set(['owner', 'admin', 'compliance']);

/** owner/admin/compliance sessions past MFA enrollment, or secret keys holding audit:read. */
export function mayReadAuditLog(principal: Principal): boolean {
  if (principal.kind === 'session')
    return !principal.enrollmentOnly && READ_ROLES.has(principal.role);
  return principal.keyType === 'secret' && principal.scopes.includes('audit:read');
}

export function auditActorOf(principal: Principal): AuditActor {
  return principal.kind === 'session'
    ? { type: 'user', id: principal.userId }
    : { type: 'api_key', id: principal.keyId };
}

const QUERYSTRING = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { type: 'string', enum: ['jsonl', 'csv'] },
    afterSeq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    // The audit page's current filter, as audit.list takes it (exportAuditLogInput).
    action: {
      type: 'string',
      maxLength: 100,
      pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$',
    },
    actorId: { type: 'string', minLength: 1, maxLength: 200 },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    target: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

const UNAUTHORIZED = { error: 'Unauthorized', message: 'Sign in first.', statusCode: 401 };
const FORBIDDEN = {
  error: 'Forbidden',
  message: 'You are not allowed to do this.',
  statusCode: 403,
};

export const auditExportPlugin = fp<AuditExportPluginOptions>(
  async (app: FastifyInstance, options) => {
    const now = options.now ?? ((): Date => new Date());
    app.get<{ Querystring: ExportQuery }>(
      '/audit/export',
      { schema: { querystring: QUERYSTRING }, config: { answers: 'data' } },
      async (request, reply) => {
        const principal = request.principal;
        if (!principal) return reply.code(401).send(UNAUTHORIZED);
        if (!mayReadAuditLog(principal)) return reply.code(403).send(FORBIDDEN);
        const query = {
          ...request.query,
          format: request.query.format ?? 'jsonl',
          afterSeq: request.query.afterSeq ?? 0,
        };
        const at = now();
        await recordExport(options.database, principal, query, request, at);
        return reply
          .header('content-type', AUDIT_EXPORT_CONTENT_TYPES[query.format])
          .header(
            'content-disposition',
            `attachment; filename="audit-${at.toISOString().slice(0, 10)}.${query.format}"`,
          )
          .header('cache-control', 'no-store')
          .send(streamExport(options.database, principal, query, request.log));
      },
    );
  },
  { name: 'tessera-audit-export', fastify: '5.x', dependencies: ['tessera-principal'] },
);

/** Committed before the first byte: a read of personal data leaves its trace even if the stream dies. */
async function recordExport(
  database: Database,
  principal: Principal,
  query: FullQuery,
  request: FastifyRequest,
  at: Date,
): Promise<void> {
  await withTenant(database, principal.tenantId, (tx) =>
    recordAuditEvent(tx, {
      actor: auditActorOf(principal),
      action: 'audit.log.exported',
      occurredAt: at,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      metadata: { ...query },
    }),
  );
}

type FullQuery = ExportQuery & Required<Pick<ExportQuery, 'format' | 'afterSeq'>>;

function streamExport(
  database: Database,
  principal: Principal,
  query: FullQuery,
  log: FastifyBaseLogger,
): Readable {
  const out = new PassThrough();
  const work = withTenant(
    database,
    principal.tenantId,
    async (tx) => {
      const filter = await chainFilterOf(tx, principal, query);
      for await (const chunk of auditExportChunks(tx, { ...query, filter })) {
        if (!out.write(chunk)) await drained(out);
      }
    },
    { readOnly: true },
  );
  void work.then(
    () => out.end(),
    (error: unknown) => {
      if (out.destroyed) return; // the client went away; the transaction is already rolled back
      log.error({ err: error }, 'audit export failed mid-stream');
      out.destroy(error instanceof Error ? error : new Error('audit export failed'));
    },
  );
  return out;
}

/** The page's filter for the chain reader; undefined (the whole chain) when none is given. */
async function chainFilterOf(
  tx: TenantTx,
  principal: Principal,
  query: FullQuery,
): Promise<ChainFilter | undefined> {
  const { action, actorId, since, until, target } = query;
  if ([action, actorId, since, until, target].every((value) => value === undefined))
    return undefined;
  return {
    action,
    actorId,
    since: since === undefined ? undefined : new Date(since),
    until: until === undefined ? undefined : new Date(until),
    targetIds:
      target === undefined
        ? undefined
        : await targetIdsMatching(tx, target, exportNameVisibility(principal)),
  };
}

/** The names a search may match: as audit.list's (users with users:read, keys with api_keys:read). */
function exportNameVisibility(principal: Principal): NameVisibility {
  if (principal.kind === 'session') return { users: true, apiKeys: true };
  return {
    users: principal.scopes.includes('users:read'),
    apiKeys: principal.scopes.includes('api_keys:read'),
  };
}

/** Waits for the consumer; rejects when the response is torn down, which ends the transaction. */
function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => settle(resolve);
    const onClose = (): void => settle(() => reject(new Error('audit export consumer closed')));
    const settle = (done: () => void): void => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      done();
    };
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
