// A real worker process killed with SIGKILL in the middle of an export: while it runs,
// another worker is turned away by the advisory lock; once it dies, its connection, transaction and
// lock die with it (nothing it wrote survives), and the next run completes the export exactly once.
// Runs the built handler (dist/) in a child process, as `pnpm test` builds before testing.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import { createPrivacyRequest } from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { handleExportJob } from './gdpr-export.js';

const db = useTestDatabase();
const spec = generateKeyringSpec();
const keyring = parseKeyring(spec);
const apiRoot = fileURLToPath(new URL('../../', import.meta.url));

const CHILD = `
  import { createDatabase } from '@tessera/db';
  import { parseKeyring } from '@tessera/auth';
  const { handleExportJob } = await import(new URL('./dist/workers/gdpr-export.js', 'file://' + process.cwd() + '/').href);
  const [url, spec, tenantId, requestId] = process.argv.slice(1);
  const database = createDatabase(url, { max: 3 });
  await handleExportJob({ data: { tenantId, requestId } }, {
    database, keyring: parseKeyring(spec), consoleUrl: 'http://localhost:3000', batchSize: 5,
    afterChunk: async (i) => { if (i === 2) { process.stdout.write('HOLDING\\n'); await new Promise(() => {}); } },
  });`;

test('a worker killed mid-export leaves nothing behind; the job then completes once', async () => {
  const { id: tenantId } = await db.seedTenant();
  const userId = randomUUID();
  const requestId = await db.withTenant(tenantId, async (tx) => {
    await tx.client.query(
      `INSERT INTO users (id, tenant_id, email) VALUES ($1, $2, 'kim@example.com')`,
      [userId, tenantId],
    );
    await tx.client.query(
      `INSERT INTO sessions (tenant_id, user_id, token_hash, user_agent) SELECT $1, $2, sha256(n::text::bytea), repeat('UA', 200) FROM generate_series(1, 200) n`,
      [tenantId, userId],
    );
    return (
      await createPrivacyRequest(
        tx,
        { type: 'user', id: userId },
        { userId, type: 'export', format: 'csv' },
        { keyring, now: new Date() },
      )
    ).request.id;
  });
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', CHILD, db.appUrl, spec, tenantId, requestId],
    { cwd: apiRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('HOLDING')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited early (${String(code)})`)));
  });
  const deps = { database: db.app, keyring, consoleUrl: 'http://localhost:3000' };
  expect(await handleExportJob({ data: { tenantId, requestId } }, deps)).toEqual({
    status: 'locked',
  });

  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  let result = await handleExportJob({ data: { tenantId, requestId } }, deps);
  for (let i = 0; result.status === 'locked' && i < 50; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server notices the dead socket
    result = await handleExportJob({ data: { tenantId, requestId } }, deps);
  }
  expect(result).toEqual({ status: 'completed' });
  const { rows } = await db.owner.pool.query(
    `SELECT r.status, r.attempts, r.export_chunks = (SELECT count(*) FROM privacy_export_chunks c WHERE c.request_id = r.id) AS consistent,
      (SELECT count(*)::int FROM audit_logs WHERE tenant_id = r.tenant_id AND action = 'privacy.export.completed') AS completions
    FROM privacy_requests r WHERE r.id = $1`,
    [requestId],
  );
  expect(rows[0]).toEqual({ status: 'completed', attempts: 2, consistent: true, completions: 1 });
});
