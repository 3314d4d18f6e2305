// Domain takeover across tenants (docs/threat-model.md "Verified domains"): tenant B tries to
// hold, see, change or route a domain tenant A verified, with and without a DNS record of its own,
// and both try to verify one domain at the same moment. One domain, one tenant: the
// tenant_domains_hold_once trigger (migrations/0026) decides, under RLS everywhere else
// (docs/design.md rule 1); the pre-tenant route answers pending and unknown domains alike (rule 3).
import { randomBytes } from 'node:crypto';
import { createTxtLookup } from '@tessera/auth/domains';
import { startLocalDnsServer, type LocalDnsServer } from '@tessera/auth/testing';
import { auditLogs, ssoSettings, tenantDomains } from '@tessera/db';
import { useTestDatabase } from '@tessera/db/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Services } from '../context.js';
import {
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  testServices,
} from '../testing/index.js';

const db = useTestDatabase();
let dns: LocalDnsServer;
let services: Services;

beforeAll(async () => {
  dns = await startLocalDnsServer();
  services = {
    ...testServices(),
    domains: { lookup: createTxtLookup({ servers: [dns.server], timeoutMs: 500 }) },
  };
});
afterAll(async () => dns?.close());

const uniqueDomain = () => `t${randomBytes(4).toString('hex')}.example.net`;

async function tenant() {
  const seeded = await signUpOwner(db.app, { services });
  const principal = await principalFromToken(db.app, seeded.token);
  if (!principal) throw new Error('no session');
  return { ...seeded, caller: createCaller(createTestContext(db.app, { services, principal })) };
}

async function holders(domain: string): Promise<string[]> {
  const rows = await db.owner.db
    .select()
    .from(tenantDomains)
    .where(eq(tenantDomains.domain, domain));
  return rows.filter((r) => r.verifiedAt !== null).map((r) => r.tenantId);
}

describe('one domain, one tenant', () => {
  test('a second tenant cannot verify a domain another holds: without a record of its own, nor with one (held_elsewhere, audited)', async () => {
    const a = await tenant();
    const b = await tenant();
    const domain = uniqueDomain();
    const aDomain = await a.caller.domains.add({ domain });
    dns.publishTxt(aDomain.record.name, aDomain.record.value);
    expect((await a.caller.domains.verify({ id: aDomain.id })).outcome).toBe('verified');

    // B may list the name (adding reveals nothing), but A's record does not prove B's token.
    const bDomain = await b.caller.domains.add({ domain });
    expect(bDomain.record.value).not.toBe(aDomain.record.value);
    expect((await b.caller.domains.verify({ id: bDomain.id })).outcome).toBe('record_missing');

    // Even B's own record (say the domain changed hands) does not move a live hold.
    dns.publishTxt(bDomain.record.name, bDomain.record.value);
    const attempt = await b.caller.domains.verify({ id: bDomain.id });
    expect(attempt).toMatchObject({ outcome: 'held_elsewhere', domain: { status: 'pending' } });
    expect(await holders(domain)).toEqual([a.tenant.id]);
    const [event] = await db.withTenant(b.tenant.id, (tx) =>
      tx.select().from(auditLogs).where(eq(auditLogs.action, 'domain.verification_failed')),
    );
    expect(event).toBeDefined();

    // Writing the row directly as the runtime role is refused by the trigger too.
    await expect(
      db.withTenant(b.tenant.id, (tx) =>
        tx
          .update(tenantDomains)
          .set({ verifiedAt: new Date() })
          .where(eq(tenantDomains.id, bDomain.id)),
      ),
    ).rejects.toMatchObject({ cause: { code: '23505' } });

    // Once A's record is gone and A's hold suspended, B's proof wins.
    dns.withdraw(aDomain.record.name, aDomain.record.value);
    expect((await a.caller.domains.verify({ id: aDomain.id })).outcome).toBe('suspended');
    expect((await b.caller.domains.verify({ id: bDomain.id })).outcome).toBe('verified');
    dns.publishTxt(aDomain.record.name, aDomain.record.value);
    expect((await a.caller.domains.verify({ id: aDomain.id })).outcome).toBe('held_elsewhere');
    expect(await holders(domain)).toEqual([b.tenant.id]);
  });

  test('two tenants verifying one domain at the same moment: exactly one holds it', async () => {
    const tenants = await Promise.all([tenant(), tenant(), tenant()]);
    const domain = uniqueDomain();
    const rows = await Promise.all(tenants.map((t) => t.caller.domains.add({ domain })));
    for (const row of rows) dns.publishTxt(row.record.name, row.record.value);
    const outcomes = await Promise.all(
      tenants.map((t, i) => t.caller.domains.verify({ id: rows[i]?.id ?? '' })),
    );
    expect(outcomes.map((o) => o.outcome).sort()).toEqual([
      'held_elsewhere',
      'held_elsewhere',
      'verified',
    ]);
    expect(await holders(domain)).toHaveLength(1);
  });
});

describe("another tenant's domains", () => {
  test('are invisible, and cannot be verified, changed or removed by id (RLS: not found)', async () => {
    const a = await tenant();
    const b = await tenant();
    const aDomain = await a.caller.domains.add({ domain: uniqueDomain() });
    expect(await b.caller.domains.list()).toEqual([]);
    const notFound = { code: 'NOT_FOUND' };
    await expect(b.caller.domains.verify({ id: aDomain.id })).rejects.toMatchObject(notFound);
    await expect(
      b.caller.domains.update({ id: aDomain.id, requireSso: true }),
    ).rejects.toMatchObject(notFound);
    await expect(b.caller.domains.remove({ id: aDomain.id })).rejects.toMatchObject(notFound);
    expect(await a.caller.domains.list()).toEqual([aDomain]);
  });

  test('the route lookup names only held domains of tenants with SSO on, never a pending claim', async () => {
    const a = await tenant();
    const domain = uniqueDomain();
    const pending = await a.caller.domains.add({ domain });
    await db.withTenant(a.tenant.id, (tx) =>
      tx.insert(ssoSettings).values({
        tenantId: a.tenant.id,
        enabled: true,
        issuer: 'https://idp.example.com',
        clientId: 'c',
        clientSecretCiphertext: 'v1.x',
      }),
    );
    const anonymous = createCaller(createTestContext(db.app, { services }));
    const unknown = await anonymous.domains.route({ email: `x@${uniqueDomain()}` });
    expect(await anonymous.domains.route({ email: `x@${domain}` })).toEqual(unknown);
    dns.publishTxt(pending.record.name, pending.record.value);
    await a.caller.domains.verify({ id: pending.id });
    expect(await anonymous.domains.route({ email: `x@${domain}` })).toMatchObject({
      sso: { tenantSlug: a.tenant.slug },
    });
  });
});
