/**
 * GET /privacy/downloads/<token>: serves a finished export (docs/design.md "Privacy", rule 4) to the
 * subject's own session or the tenant's compliance staff, and only with a valid link: 256 random
 * bits, stored only hashed, five minutes, one download, its use audited (redeemExportDownload).
 * A link presented without such a session (another user, another tenant, an API key, no cookie) is
 * refused and spent, and the refusal is audited before the answer. The token travels in the path, so
 * this route's log lines replace the path (`logSerializers`), and the response is never cached or
 * sent on as a referrer. The file is decrypted a few chunks at a time from Postgres, so any API
 * node serves it and memory stays flat. An unknown, used or expired link answers 404; a valid link
 * to an export past its 7 days answers 410.
 */
import { Readable } from 'node:stream';
import type { Principal } from '@tessera/api-contract';
import type { Keyring } from '@tessera/auth';
import {
  readExportChunks,
  redeemExportDownload,
  DOWNLOAD_PATH,
  type DownloadPresenter,
} from '@tessera/auth/privacy';
import { withTenant, type Database } from '@tessera/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export interface PrivacyDownloadOptions {
  /** Runtime role: RLS applies. */
  database: Database;
  keyring: Keyring;
  now?: () => Date;
}

const CHUNKS_PER_READ = 8;

/** Only a full session presents a link: API keys and enrollment-only sessions do not. */
function presenterOf(principal: Principal | null): DownloadPresenter | null {
  if (principal?.kind !== 'session' || principal.enrollmentOnly) return null;
  return { tenantId: principal.tenantId, userId: principal.userId, role: principal.role };
}
const REDACTED_PATH = `${DOWNLOAD_PATH}[redacted]`;

/** The request line without the token, for every log line of this route. */
const logSerializers = {
  req: (req: FastifyRequest | { id?: string; method?: string; ip?: string }) => ({
    id: req.id,
    method: req.method,
    path: REDACTED_PATH,
    ip: req.ip,
  }),
};

async function* decryptedChunks(
  database: Database,
  keyring: Keyring,
  file: { tenantId: string; requestId: string; chunks: number },
): AsyncGenerator<Buffer> {
  for (let from = 0; from < file.chunks; from += CHUNKS_PER_READ) {
    const count = Math.min(CHUNKS_PER_READ, file.chunks - from);
    // Short read-only transactions: a slow client never holds a connection for the whole file.
    yield* await withTenant(
      database,
      file.tenantId,
      (tx) => readExportChunks(tx, keyring, file.requestId, from, count),
      { readOnly: true },
    );
  }
}

export const privacyDownloadPlugin = fp<PrivacyDownloadOptions>(
  async (app: FastifyInstance, options) => {
    const now = options.now ?? ((): Date => new Date());
    app.get(
      `${DOWNLOAD_PATH}*`,
      { logSerializers, config: { answers: 'data' } },
      async (request, reply) => {
        reply
          .header('cache-control', 'no-store')
          .header('referrer-policy', 'no-referrer')
          .header('x-content-type-options', 'nosniff');
        const token = (request.params as { '*': string })['*'];
        const redeemed = await redeemExportDownload(options.database, token, {
          now: now(),
          presenter: presenterOf(request.principal),
          ip: request.ip,
          userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
        });
        if (redeemed.status === 'refused' && redeemed.reason === 'no_session') {
          return reply.code(401).send({
            error: 'unauthorized',
            message:
              'Sign in as the person this export belongs to, then ask for a new download link.',
          });
        }
        // Another user's or tenant's session learns no more than from a dead link.
        if (redeemed.status === 'invalid' || redeemed.status === 'refused')
          return reply.code(404).send({
            error: 'not_found',
            message: 'This download link is invalid, already used or expired. Ask for a new one.',
          });
        if (redeemed.status === 'expired')
          return reply.code(410).send({
            error: 'export_expired',
            message: 'This export has expired and was deleted. Request a new one.',
          });
        const fileName = redeemed.fileName.replace(/[^A-Za-z0-9._-]/g, '_');
        reply
          .header('content-type', redeemed.contentType)
          .header('content-length', String(redeemed.bytes))
          .header('content-disposition', `attachment; filename="${fileName}"`);
        return reply.send(
          Readable.from(decryptedChunks(options.database, options.keyring, redeemed)),
        );
      },
    );
  },
  { name: 'tessera-privacy-download', fastify: '5.x', dependencies: ['tessera-principal'] },
);
