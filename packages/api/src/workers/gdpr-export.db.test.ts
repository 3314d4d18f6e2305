// The export job handler on real Postgres (docs/contributing.md convention 16): each format holds the subject's
// data and parses (JSON validates, the zip's CSVs parse, the PDF shows the e-mail), nothing of
// other users, chunks are bound to their index, a run killed halfway leaves nothing behind, and
// two workers never run one request at once.
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import { recordAuditEvent } from '@tessera/auth/audit';
import { createPrivacyRequest, readExportChunks } from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import { parse as parseCsv } from 'csv-parse/sync';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { describe, expect, test } from 'vitest';
import yauzl from 'yauzl';
import { handleExportJob, type GdprJobDeps } from './gdpr-export.js';

const db = useTestDatabase();
const keyring = parseKeyring(generateKeyringSpec());
const now = new Date('2026-03-01T12:00:00Z');
const deps = (): GdprJobDeps => ({
  database: db.app,
  keyring,
  consoleUrl: 'http://localhost:3000',
  now: () => now,
  batchSize: 7,
});

async function subjectWithRequest(
  format: 'json' | 'csv' | 'pdf',
  auditEvents = 3,
  extraSessions = 0,
): Promise<{ tenantId: string; userId: string; email: string; requestId: string }> {
  const { id: tenantId } = await db.seedTenant();
  const [userId, otherId] = [randomUUID(), randomUUID()];
  const email = `ada-${randomBytes(3).toString('hex')}@example.com`;
  const requestId = await db.withTenant(tenantId, async (tx) => {
    await tx.client.query(
      `INSERT INTO users (id, tenant_id, email, role, display_name, password_hash, password_algorithm) VALUES ($1, $2, $3, 'member', '=Ada Lovelace', '$argon2id$hash-must-not-leak', 'argon2id'), ($4, $2, 'bob@example.com', 'member', 'Bob', NULL, NULL)`,
      [userId, tenantId, email, otherId],
    );
    await tx.client.query(
      `INSERT INTO sessions (tenant_id, user_id, token_hash, ip_address, user_agent) VALUES ($1, $2, $3, '198.51.100.7', 'AdaBrowser/1.0')`,
      [tenantId, userId, randomBytes(32)],
    );
    await tx.client.query(
      `INSERT INTO sessions (tenant_id, user_id, token_hash, ip_address, user_agent)
      SELECT $1, $2, sha256(gen_random_uuid()::text::bytea), '198.51.100.8', repeat('LongAgent/', 50) || n FROM generate_series(1, $3::int) n`,
      [tenantId, userId, extraSessions],
    );
    for (let i = 0; i < auditEvents; i += 1)
      await recordAuditEvent(tx, {
        actor: { type: 'user', id: userId },
        action: 'auth.sign_in.succeeded',
        ip: '198.51.100.7',
        occurredAt: now,
      });
    await recordAuditEvent(tx, {
      actor: { type: 'user', id: otherId },
      action: 'auth.sign_in.succeeded',
      ip: '203.0.113.50',
      occurredAt: now,
    });
    return (
      await createPrivacyRequest(
        tx,
        { type: 'user', id: userId },
        { userId, type: 'export', format },
        { keyring, now },
      )
    ).request.id;
  });
  return { tenantId, userId, email, requestId };
}

async function fileOf(tenantId: string, requestId: string): Promise<Buffer> {
  const { rows } = await db.owner.pool.query<{ export_chunks: number }>(
    'SELECT export_chunks FROM privacy_requests WHERE id = $1',
    [requestId],
  );
  const chunks = await db.withTenant(tenantId, (tx) =>
    readExportChunks(tx, keyring, requestId, 0, rows[0]?.export_chunks ?? 0),
  );
  return Buffer.concat(chunks);
}

function unzip(file: Buffer): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const files: Record<string, string> = {};
      zip.on('entry', (entry: yauzl.Entry) =>
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error('no stream'));
          const parts: Buffer[] = [];
          stream
            .on('data', (c: Buffer) => parts.push(c))
            .on('end', () => {
              files[entry.fileName] = Buffer.concat(parts).toString('utf8');
              zip.readEntry();
            });
        }),
      );
      zip.on('end', () => resolve(files)).on('error', reject);
      zip.readEntry();
    });
  });
}

async function pdfText(file: Buffer): Promise<string> {
  const standardFontDataUrl = path.join(
    path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')),
    'standard_fonts/',
  );
  const pdf = await getDocument({ data: new Uint8Array(file), standardFontDataUrl }).promise;
  const pages: string[] = [];
  for (let n = 1; n <= pdf.numPages; n += 1)
    pages.push(
      (await (await pdf.getPage(n)).getTextContent()).items
        .map((i) => ('str' in i ? i.str : ''))
        .join(' '),
    );
  return pages.join('\n');
}

const counts = async (tenantId: string, requestId: string) =>
  (
    await db.owner.pool.query(
      `SELECT
    (SELECT count(*)::int FROM privacy_export_chunks WHERE request_id = $2) AS chunks,
    (SELECT count(*)::int FROM audit_logs WHERE tenant_id = $1 AND action = 'privacy.export.completed') AS completed,
    (SELECT count(*)::int FROM email_outbox WHERE tenant_id = $1 AND template = 'privacy_export_ready') AS mails,
    (SELECT status FROM privacy_requests WHERE id = $2) AS status`,
      [tenantId, requestId],
    )
  ).rows[0];

describe('formats', () => {
  test('JSON: one valid document with every source, the subject only, no secrets', async () => {
    const s = await subjectWithRequest('json');
    expect(
      await handleExportJob({ data: { tenantId: s.tenantId, requestId: s.requestId } }, deps()),
    ).toEqual({ status: 'completed' });
    const doc = JSON.parse((await fileOf(s.tenantId, s.requestId)).toString('utf8'));
    expect(doc).toMatchObject({
      format: 'tessera.personal-data-export',
      version: 1,
      subject: { userId: s.userId },
      generatedAt: now.toISOString(),
    });
    expect(doc.sources.profile.records).toEqual([
      expect.objectContaining({ email: s.email, displayName: '=Ada Lovelace' }),
    ]);
    expect(doc.sources.sessions.records).toEqual([
      expect.objectContaining({ ipAddress: '198.51.100.7', userAgent: 'AdaBrowser/1.0' }),
    ]);
    expect(doc.sources.audit_events.records.length).toBeGreaterThanOrEqual(3); // more than one cursor batch each
    const text = JSON.stringify(doc);
    for (const leak of ['hash-must-not-leak', 'bob@example.com', '203.0.113.50'])
      expect(text).not.toContain(leak);
    expect(await counts(s.tenantId, s.requestId)).toMatchObject({
      completed: 1,
      mails: 1,
      status: 'completed',
    });
  });

  test('CSV: a zip with one parseable CSV per source, formula cells escaped', async () => {
    const s = await subjectWithRequest('csv', 9);
    await handleExportJob({ data: { tenantId: s.tenantId, requestId: s.requestId } }, deps());
    const files = await unzip(await fileOf(s.tenantId, s.requestId));
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining([
        'README.txt',
        'profile.csv',
        'sessions.csv',
        'audit_events.csv',
        'mfa.csv',
        'api_keys.csv',
      ]),
    );
    const profile = parseCsv<Record<string, string>>(files['profile.csv'] ?? '', { columns: true });
    expect(profile).toEqual([
      expect.objectContaining({ email: s.email, id: s.userId, displayName: "'=Ada Lovelace" }),
    ]); // CSV injection escaped
    expect(parseCsv(files['audit_events.csv'] ?? '', { columns: true })).toHaveLength(10); // 9 sign-ins + the request itself
    expect(Object.values(files).join('\n')).not.toContain('hash-must-not-leak');
  });

  test('PDF: a readable report that shows the e-mail address', async () => {
    const s = await subjectWithRequest('pdf');
    await handleExportJob({ data: { tenantId: s.tenantId, requestId: s.requestId } }, deps());
    const file = await fileOf(s.tenantId, s.requestId);
    expect(file.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await pdfText(file);
    expect(text).toContain(s.email);
    expect(text).toContain('Personal data export');
    expect(text).not.toContain('bob@example.com');
  });
});

describe('robustness', () => {
  test('chunks are bound to their index: swapping two fails to decrypt', async () => {
    const s = await subjectWithRequest('json', 1, 300);
    await handleExportJob({ data: { tenantId: s.tenantId, requestId: s.requestId } }, deps());
    await db.owner.pool.query(
      `UPDATE privacy_export_chunks c SET ciphertext = o.ciphertext FROM privacy_export_chunks o
      WHERE c.request_id = $1 AND o.request_id = $1 AND c.chunk_index = 0 AND o.chunk_index = 1`,
      [s.requestId],
    );
    await expect(fileOf(s.tenantId, s.requestId)).rejects.toThrow(/decryption failed/);
  });

  test('a run killed halfway leaves no chunk; the rerun writes the file, the event and the mail once', async () => {
    const s = await subjectWithRequest('csv', 1, 300);
    const crash = {
      ...deps(),
      afterChunk: (i: number) => {
        if (i === 3) throw new Error('simulated crash');
      },
    };
    await expect(
      handleExportJob({ data: { tenantId: s.tenantId, requestId: s.requestId } }, crash),
    ).rejects.toThrow('simulated crash');
    expect(await counts(s.tenantId, s.requestId)).toMatchObject({
      chunks: 0,
      completed: 0,
      mails: 0,
      status: 'processing',
    });
    expect(
      await handleExportJob({ data: { tenantId: s.tenantId, requestId: s.requestId } }, deps()),
    ).toEqual({ status: 'completed' });
    expect(
      await handleExportJob({ data: { tenantId: s.tenantId, requestId: s.requestId } }, deps()),
    ).toEqual({ status: 'skipped', reason: 'completed' });
    expect(await counts(s.tenantId, s.requestId)).toMatchObject({
      completed: 1,
      mails: 1,
      status: 'completed',
    });
    expect(Object.keys(await unzip(await fileOf(s.tenantId, s.requestId)))).toContain(
      'profile.csv',
    );
  });

  test('two workers never run one request: the second sees the lock and leaves it', async () => {
    const s = await subjectWithRequest('json');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = handleExportJob(
      { data: { tenantId: s.tenantId, requestId: s.requestId } },
      { ...deps(), afterChunk: () => gate },
    );
    await new Promise((r) => setTimeout(r, 150));
    expect(
      await handleExportJob({ data: { tenantId: s.tenantId, requestId: s.requestId } }, deps()),
    ).toEqual({ status: 'locked' });
    release();
    expect(await first).toEqual({ status: 'completed' });
    await expect(
      handleExportJob({ data: { tenantId: 'not-a-uuid', requestId: s.requestId } }, deps()),
    ).rejects.toThrow(TypeError);
  });
});
