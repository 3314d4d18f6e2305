import { randomBytes } from 'node:crypto';
import { auditLogs, tenantDomains, users } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { generateKeyringSpec, parseKeyring } from '../crypto/keyring.js';
import { OUTBOX_PURPOSE } from '../outbox/enqueue-email.js';
import { startLocalDnsServer, type LocalDnsServer } from '../testing/local-dns-server.js';
import { createTxtLookup } from './dns-check.js';
import { verificationRecord } from '../shared/domain-name.js';
import { reverifyDueDomains } from './reverify-domains.js';

const db = useTestDatabase();
const keyring = parseKeyring(generateKeyringSpec());
let dns: LocalDnsServer;
let deps: Parameters<typeof reverifyDueDomains>[0];

beforeAll(async () => {
  dns = await startLocalDnsServer();
  deps = {
    database: db.app,
    keyring,
    lookup: createTxtLookup({ servers: [dns.server], timeoutMs: 300 }),
  };
});
afterAll(async () => dns?.close());

/** A tenant with an owner, an admin, a member and one held domain whose record is published. */
async function heldDomain() {
  const tenant = await db.seedTenant();
  const domain = `r${randomBytes(4).toString('hex')}.example.org`;
  const token = randomBytes(24).toString('base64url');
  await db.withTenant(tenant.id, async (tx) => {
    await tx.insert(users).values(
      (['owner', 'admin', 'member'] as const).map((role) => ({
        tenantId: tenant.id,
        role,
        email: `${role}@${domain}`,
      })),
    );
    await tx.insert(tenantDomains).values({
      tenantId: tenant.id,
      domain,
      verificationToken: token,
      requireSso: true,
      verifiedAt: new Date('2026-01-01T00:00:00Z'),
    });
  });
  const record = verificationRecord(domain, token);
  dns.publishTxt(record.name, record.value);
  return { tenant, domain, record };
}

const rowOf = async (tenantId: string) =>
  (await db.withTenant(tenantId, (tx) => tx.select().from(tenantDomains)))[0];

async function mailsOf(tenantId: string): Promise<{ to: string; body: string }[]> {
  const { rows } = await db.owner.pool.query<{ id: string; to_address: string; body: string }>(
    `SELECT id, to_address, body FROM email_outbox WHERE tenant_id = $1 AND template = 'domain_verification_lost' ORDER BY to_address`,
    [tenantId],
  );
  return rows.map((r) => ({
    to: r.to_address,
    body: keyring.decryptString(r.body, { purpose: OUTBOX_PURPOSE, tenantId, rowId: r.id }),
  }));
}

test('a held domain whose record is still published stays held, quietly, and is not due again for a day', async () => {
  const { tenant } = await heldDomain();
  const now = new Date();
  await reverifyDueDomains(deps, now);
  const row = await rowOf(tenant.id);
  expect(row?.verifiedAt).toEqual(new Date('2026-01-01T00:00:00Z')); // first verified, kept
  expect(row?.lastCheckedAt?.getTime()).toBe(now.getTime());
  const events = await db.withTenant(tenant.id, (tx) => tx.select().from(auditLogs));
  expect(events).toEqual([]);
  const queried = dns.queries.length;
  await reverifyDueDomains(deps, new Date());
  expect(dns.queries.slice(queried)).not.toContain(`_tessera-verification.${row?.domain}`);
});

test('a record that disappears suspends the domain, audits it as the system, and mails every owner and admin', async () => {
  const { tenant, domain, record } = await heldDomain();
  dns.withdraw(record.name);
  await reverifyDueDomains(deps, new Date());
  const row = await rowOf(tenant.id);
  expect(row).toMatchObject({ verifiedAt: null, requireSso: true });
  expect(row?.suspendedAt).toBeInstanceOf(Date);
  const [event] = await db.withTenant(tenant.id, (tx) =>
    tx.select().from(auditLogs).where(eq(auditLogs.action, 'domain.suspended')),
  );
  expect(event).toMatchObject({ actorType: 'system', targetType: 'domain', targetId: row?.id });
  expect(event?.after).toMatchObject({ domain, status: 'suspended' });
  const mails = await mailsOf(tenant.id);
  expect(mails.map((m) => m.to)).toEqual([`admin@${domain}`, `owner@${domain}`]);
  expect(mails[0]?.body).toContain(domain);

  // Published again: the next daily check restores it (the day is moved on through the row).
  dns.publishTxt(record.name, record.value);
  await db.withTenant(tenant.id, (tx) =>
    tx.update(tenantDomains).set({ lastCheckedAt: new Date(Date.now() - 25 * 3600_000) }),
  );
  await reverifyDueDomains(deps, new Date());
  expect((await rowOf(tenant.id))?.verifiedAt).toBeInstanceOf(Date);
  const restored = await db.withTenant(tenant.id, (tx) =>
    tx.select().from(auditLogs).where(eq(auditLogs.action, 'domain.restored')),
  );
  expect(restored).toHaveLength(1);
});

test('a DNS failure that is not an answer changes nothing and is tried again within the hour', async () => {
  const { tenant, record } = await heldDomain();
  dns.fail(record.name);
  try {
    const now = new Date();
    await reverifyDueDomains(deps, now);
    const row = await rowOf(tenant.id);
    expect(row?.verifiedAt).toBeInstanceOf(Date);
    expect(row?.suspendedAt).toBeNull();
    expect(row?.lastCheckedAt?.getTime()).toBe(now.getTime() - 23 * 3600_000);
    expect(await mailsOf(tenant.id)).toEqual([]);
  } finally {
    dns.recover(record.name);
  }
});
