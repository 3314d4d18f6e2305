/**
 * E-mail outbox sender (docs/design.md "Secrets" and "Decisions: cross-tenant background work").
 *
 * Guarantees: due mail is listed through `list_due_outbox` (tenant id and row id only), and each
 * row is delivered inside `withTenant` of its own tenant, so RLS scopes every read and write and
 * the body decrypts only under the context it was sealed with (purpose, that tenant, that row).
 * The row is locked `FOR UPDATE SKIP LOCKED` for the whole delivery, so two senders never deliver
 * the same mail at the same time. Success sets `sent_at` and scrubs the body in the transaction
 * that held the lock; failure records the attempt, the error message (never the body) and a
 * backoff, and commits that record.
 *
 * Delivery is at-least-once: if the process dies or the commit fails after the SMTP server
 * accepted a message, the row is still unsent and is delivered again on the next run.
 *
 * Any number of senders (and manual `sendDue` calls) may run at once against one database.
 * Callers must not: pass an owner (RLS-bypassing) database, or log message bodies anywhere but
 * `fileTransport`. Pinned by outbox-sender.db.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import type { Keyring } from '@tessera/auth';
import { OUTBOX_PURPOSE } from '@tessera/auth/outbox';
import { listDueOutbox, withTenant, type Database, type TenantTx } from '@tessera/db';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface MailTransport {
  /** Resolves once the message is accepted for delivery; rejects otherwise. */
  send(message: MailMessage): Promise<void>;
}

/** Pino-like; objects first. Never receives a message body, except from `fileTransport`. */
export interface WorkerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface OutboxSenderDeps {
  /** Runtime role: RLS applies. */
  database: Database;
  keyring: Keyring;
  transport: MailTransport;
  logger: WorkerLogger;
  now?: () => Date;
  /** Rows per run, 1..1000 (default 50). */
  batchSize?: number;
}

export interface OutboxSender {
  sendDue(): Promise<{ sent: number; failed: number }>;
  /** Runs `sendDue` every `intervalMs` (no overlap, errors logged, never thrown). */
  start(intervalMs?: number): void;
  /** Stops the loop and resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

export const DEFAULT_FROM = 'Tessera <no-reply@localhost>';
const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 3_600_000;
const MAX_ERROR_LENGTH = 500;
/** `list_due_outbox` (migrations/0004_identity.sql) stops listing a row after this many failures. */
const MAX_ATTEMPTS = 10;

/** Delay before the next try after the `attempts`-th failure: 30 s, 60 s, 120 s, ... capped at 1 h. */
export function outboxBackoffMs(attempts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_CAP_MS);
}

/** SMTP through nodemailer. `smtpUrl` carries credentials: it is never logged. */
export function smtpTransport(smtpUrl: string, options: { from?: string } = {}): MailTransport {
  // Short timeouts: the outbox row (and a pooled connection) stays locked while SMTP talks.
  // Query parameters of the URL (e.g. `?socketTimeout=60000`) override these.
  const mailer = createTransport(
    { url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 },
    { from: options.from ?? DEFAULT_FROM },
  );
  return {
    send: async ({ to, subject, text }) => {
      await mailer.sendMail({ to, subject, text });
    },
  };
}

/**
 * Development without SMTP_URL: each message becomes a file under `dir` (TESSERA_HOME/mail/,
 * folder 0700, file 0600) and a log line, so a local user can finish an invite or a reset.
 * docs/design.md "Secrets": in development without SMTP_URL, mail goes to files under TESSERA_HOME/mail/
 * and the log, with a warning: the only place a token may be logged.
 */
export function fileTransport(
  dir: string,
  logger: WorkerLogger,
  options: { from?: string } = {},
): MailTransport {
  const from = options.from ?? DEFAULT_FROM;
  return {
    send: async (message) => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700); // mkdir leaves an existing folder's mode alone
      const date = new Date();
      const file = join(dir, `${date.toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`);
      // 'wx': never follow or overwrite an existing file (or a planted symlink).
      await writeFile(file, formatEml(message, from, date), { mode: 0o600, flag: 'wx' });
      logger.warn(
        { file, to: message.to, subject: message.subject, text: message.text },
        'DEVELOPMENT ONLY: SMTP_URL is not set, so mail is written to a file and this log, ' +
          'tokens included. Never run like this in production.',
      );
    },
  };
}

function formatEml({ to, subject, text }: MailMessage, from: string, date: Date): string {
  const header = (value: string): string => value.replace(/[\r\n]+/g, ' '); // no header injection
  return [
    `From: ${header(from)}`,
    `To: ${header(to)}`,
    `Subject: ${header(subject)}`,
    `Date: ${date.toUTCString()}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '',
  ].join('\r\n');
}

// A type alias (not an interface) so it satisfies pg's QueryResultRow index signature.
type LockedRow = { to_address: string; subject: string; body: string | null; attempts: number };

type Outcome = 'sent' | 'failed' | 'skipped';

// Constant, parameterised SQL on the tenant transaction's own connection; RLS applies.
const LOCK_ROW = `SELECT to_address, subject, body, attempts FROM public.email_outbox
  WHERE id = $1 AND sent_at IS NULL AND send_after <= $2
  FOR UPDATE SKIP LOCKED`;
const MARK_SENT = `UPDATE public.email_outbox SET sent_at = $2, body = NULL, last_error = NULL
  WHERE id = $1`;
const MARK_FAILED = `UPDATE public.email_outbox SET attempts = $2, last_error = $3, send_after = $4
  WHERE id = $1`;

export function createOutboxSender(deps: OutboxSenderDeps): OutboxSender {
  const resolved = { ...deps, now: deps.now ?? ((): Date => new Date()) };
  const batchSize = deps.batchSize ?? 50;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
    throw new TypeError('batchSize must be an integer from 1 to 1000');
  }

  async function sendDue(): Promise<{ sent: number; failed: number }> {
    const due = await listDueOutbox(deps.database.pool, batchSize);
    const result = { sent: 0, failed: 0 };
    for (const { tenantId, id } of due) {
      try {
        // Each row in its own tenant's transaction: RLS and the decryption context both bind it.
        const outcome = await withTenant(deps.database, tenantId, (tx) =>
          deliver(tx, id, resolved),
        );
        if (outcome !== 'skipped') result[outcome] += 1;
      } catch (error) {
        // The database failed (the attempt was not recorded); the row stays due for the next run.
        result.failed += 1;
        deps.logger.warn(
          { tenantId, outboxId: id, error: errorMessage(error) },
          'outbox delivery aborted',
        );
      }
    }
    if (result.sent + result.failed > 0) deps.logger.info(result, 'outbox run finished');
    return result;
  }

  return { sendDue, ...createLoop(sendDue, deps.logger, batchSize) };
}

type ResolvedDeps = OutboxSenderDeps & { now: () => Date };

async function deliver(tx: TenantTx, id: string, deps: ResolvedDeps): Promise<Outcome> {
  const at = deps.now();
  const { rows } = await tx.client.query<LockedRow>(LOCK_ROW, [id, at]);
  const row = rows[0];
  // Locked by another sender, already sent, or pushed back since it was listed.
  if (row === undefined) return 'skipped';
  try {
    if (row.body === null) throw new Error('message body is missing');
    const context = { purpose: OUTBOX_PURPOSE, tenantId: tx.tenantId, rowId: id };
    const text = deps.keyring.decryptString(row.body, context);
    await deps.transport.send({ to: row.to_address, subject: row.subject, text });
  } catch (error) {
    // Committed with the transaction (docs/design.md "Failure bookkeeping"); the message, never the body.
    const attempts = row.attempts + 1;
    const retryAt = new Date(at.getTime() + outboxBackoffMs(attempts));
    const message = errorMessage(error);
    await tx.client.query(MARK_FAILED, [id, attempts, message, retryAt]);
    deps.logger.warn(
      { tenantId: tx.tenantId, outboxId: id, attempts, retryAt, error: message },
      attempts >= MAX_ATTEMPTS
        ? 'outbox mail not delivered; giving up (runbook: email-delivery)'
        : 'outbox mail not delivered; will retry',
    );
    return 'failed';
  }
  // At-least-once: a crash or failed commit after the SMTP server accepted the mail resends it.
  await tx.client.query(MARK_SENT, [id, deps.now()]);
  return 'sent';
}

/** Sequential timer loop: the next run is scheduled only after the previous one settled. */
function createLoop(
  run: () => Promise<{ sent: number; failed: number }>,
  logger: WorkerLogger,
  batchSize: number,
): Pick<OutboxSender, 'start' | 'stop'> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let generation = 0; // bumped by stop(): a run that outlives its loop schedules nothing more
  let active = false;

  const tick = async (intervalMs: number, loop: number): Promise<void> => {
    let again = false;
    try {
      const { sent, failed } = await run();
      again = sent > 0 && sent + failed >= batchSize; // a full batch: drain the backlog now
    } catch (error) {
      logger.warn({ error: errorMessage(error) }, 'outbox run failed; retrying later');
    }
    if (active && loop === generation) schedule(intervalMs, again ? 0 : intervalMs);
  };
  const schedule = (intervalMs: number, delay: number): void => {
    const loop = generation;
    timer = setTimeout(() => {
      timer = undefined;
      // Waits for a run left over from before a stop()/start(), so runs never overlap.
      const previous = running;
      const current = (async (): Promise<void> => {
        await previous;
        if (loop === generation) await tick(intervalMs, loop);
      })();
      running = current;
      const settle = (): void => {
        if (running === current) running = undefined;
      };
      current.then(settle, settle);
    }, delay);
  };

  return {
    start(intervalMs = 2000) {
      if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
        throw new TypeError('intervalMs must be a positive number');
      }
      if (active) throw new TypeError('the outbox sender is already running');
      active = true;
      schedule(intervalMs, 0);
    },
    async stop() {
      active = false;
      generation += 1;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

/** The message only: never a stack, never the body, bounded for the `last_error` column. */
function errorMessage(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
  return message.slice(0, MAX_ERROR_LENGTH);
}
