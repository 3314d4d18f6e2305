import { randomBytes } from 'node:crypto';
import { generateKeyringSpec, parseKeyring } from '@tessera/auth';
import { createTxtLookup } from '@tessera/auth/domains';
import { startLocalDnsServer } from '@tessera/auth/testing';
import { tenantDomains } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { expect, test } from 'vitest';
import { handleMaintenanceJob } from './gdpr-maintenance.js';

const db = useTestDatabase();

test('the scheduled maintenance job re-checks verified domains and suspends one whose record is gone', async () => {
  const dns = await startLocalDnsServer();
  try {
    const tenant = await db.seedTenant();
    const domain = `m${randomBytes(4).toString('hex')}.example.com`;
    await db.withTenant(tenant.id, (tx) =>
      tx.insert(tenantDomains).values({
        tenantId: tenant.id,
        domain,
        verificationToken: randomBytes(24).toString('base64url'),
        verifiedAt: new Date('2026-01-01T00:00:00Z'),
      }),
    );
    await handleMaintenanceJob({
      database: db.app,
      keyring: parseKeyring(generateKeyringSpec()),
      domainLookup: createTxtLookup({ servers: [dns.server], timeoutMs: 300 }),
    });
    expect(dns.queries).toContain(`_tessera-verification.${domain}`);
    const [row] = await db.withTenant(tenant.id, (tx) => tx.select().from(tenantDomains));
    expect(row?.verifiedAt).toBeNull();
    expect(row?.suspendedAt).toBeInstanceOf(Date);
  } finally {
    await dns.close();
  }
});
