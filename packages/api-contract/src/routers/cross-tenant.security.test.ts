// Attack: staff of tenant B (owner, admin, compliance, or a secret API key with every scope) pass
// tenant A's real ids (users, sessions, API keys, privacy requests, legal holds, webhook endpoints
// and deliveries, passkeys, remembered devices, SSO identities, domains, custom roles...) to every procedure whose input
// takes an id (IDOR). RLS must make A's rows invisible: each call answers exactly what it answers
// for an id that exists nowhere (no oracle), never a 500, leaks none of A's ids, and no row of A
// changes. The procedure list and the id fields are derived from the router, not hand-kept.
// docs/design.md rule 1; ASVS V4.2.1 (IDOR), V8.2.
import { randomBytes, randomUUID } from 'node:crypto';
import { createApiKey } from '@tessera/auth/api-keys';
import { recordPrivacyWebhookEvent } from '@tessera/auth/privacy';
import { useTestDatabase } from '@tessera/db/testing';
import { TRPCError } from '@trpc/server';
import { expect, test } from 'vitest';
import type { z } from 'zod';
import type { Principal, Role } from '../context.js';
import { appRouter } from '../root.js';
import {
  callerFor,
  createCaller,
  createTestContext,
  principalFromToken,
  signUpOwner,
  testServices,
  type Caller,
} from '../testing/index.js';
import { sampleOf, stringLeaves, withValueAt, type StringLeaf } from '../testing/input-samples.js';
import { SoftAuthenticator } from '../testing/soft-authenticator.js';

const db = useTestDatabase();
const services = testServices({
  sso: { outbound: { mode: 'development' }, platformProviders: [] },
});
const ALL_SCOPES = [
  'users:read',
  'users:write',
  'api_keys:read',
  'api_keys:write',
  'audit:read',
  'privacy:read',
  'privacy:write',
];

type Procedure = { _def: { type: string; inputs: z.ZodType[] } };
const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, Procedure>,
);
/** An id field: a uuid, or a name ending in `id`/`Id` (credential ids, actor ids, cursors by id). */
const isIdField = (leaf: StringLeaf): boolean =>
  leaf.format === 'uuid' || /(^id|Id)$/.test(String(leaf.path.at(-1) ?? ''));
const idFields = procedures.flatMap(([name, procedure]) =>
  procedure._def.inputs.flatMap((schema) =>
    stringLeaves(schema)
      .filter(isIdField)
      .map((leaf) => ({ name, schema, leaf })),
  ),
);

function session(tenantId: string, userId: string, role: Role): Principal {
  return {
    kind: 'session',
    tenantId,
    userId,
    role,
    sessionId: randomUUID(),
    aal: 1,
    mfaVerifiedAt: null,
    mfaEnabled: false,
    enrollmentOnly: false,
    expiresAt: new Date(Date.now() + 3_600_000),
  };
}
// A fresh address per call: per-IP buckets (sign-in, passkeys) must not turn into a difference.
let calls = 0;
const callerAs =
  (principal: Principal | null): (() => Caller) =>
  () => {
    calls += 1;
    return createCaller(
      createTestContext(db.app, { principal, services, ip: `2001:db8::${calls.toString(16)}` }),
    );
  };
const procedureOf = (caller: Caller, name: string): ((input: unknown) => Promise<unknown>) =>
  name
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
    input: unknown,
  ) => Promise<unknown>;

/** What a client can tell from a call: the error code and reason, or the output (`id` masked). */
async function outcome(
  caller: () => Caller,
  name: string,
  input: unknown,
  id: string,
): Promise<{ error?: string; output?: string }> {
  try {
    return {
      output: JSON.stringify(await procedureOf(caller(), name)(input)).replaceAll(id, '<id>'),
    };
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    const reason = (error.cause as { code?: unknown } | undefined)?.code;
    return { error: `${error.code}/${typeof reason === 'string' ? reason : ''}` };
  }
}

async function seedUser(tenantId: string, role: Role): Promise<string> {
  const id = randomUUID();
  await db.withTenant(tenantId, (tx) =>
    tx.client.query(
      `INSERT INTO users (id, tenant_id, email, role) VALUES ($1::uuid, $2, $4 || '@example.com', $3)`,
      [id, tenantId, role, id],
    ),
  );
  return id;
}

/** Tenant A with a row of every kind an id input can name, created through the real services. */
async function seedTenantA() {
  const owner = await signUpOwner(db.app, { services });
  const tenantId = owner.tenant.id;
  const [adminId, officerId, memberId] = [
    await seedUser(tenantId, 'admin'),
    await seedUser(tenantId, 'compliance'),
    await seedUser(tenantId, 'member'),
  ];
  const ownerPrincipal = await principalFromToken(db.app, owner.token);
  if (!ownerPrincipal) throw new Error('no owner session');
  const asOwner = callerAs(ownerPrincipal)();
  const asOfficer = callerAs(session(tenantId, officerId, 'compliance'))();
  // Two of each kind that a positive control below may revoke or delete before another field tries it.
  for (const name of ['a-key-1', 'a-key-2'])
    await asOwner.apiKeys.create({
      name,
      type: 'secret',
      environment: 'live',
      scopes: ['users:read'],
    });
  const exportRequest = (await asOwner.privacy.requestExport({ format: 'json' })).request;
  await asOfficer.compliance.placeLegalHold({ userId: memberId, reason: 'litigation' });
  await asOfficer.compliance.createRequest({ userId: memberId, type: 'deletion' });
  for (const port of [9, 10])
    await asOwner.privacy.webhooks.create({
      url: `http://127.0.0.1:${port}/hooks`,
      requireAck: true,
    });
  await db.withTenant(tenantId, (tx) =>
    recordPrivacyWebhookEvent(
      tx,
      { id: exportRequest.id, userId: owner.user.id },
      'privacy.export.started',
      new Date(),
    ),
  );
  const device = new SoftAuthenticator({
    seed: `cross-${randomUUID()}`,
    origin: 'http://localhost:3000',
    rpId: 'localhost',
  });
  const registering = callerAs(ownerPrincipal)();
  await registering.passkeys.verifyRegistration({
    response: device.register(await registering.passkeys.registrationOptions()),
    name: 'a-passkey',
  });
  await db.owner.pool.query(
    `INSERT INTO remembered_devices (tenant_id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, now(), now() + interval '30 days')`,
    [tenantId, owner.user.id, randomBytes(32)],
  );
  await db.owner.pool.query(
    `INSERT INTO user_identities (tenant_id, user_id, provider, issuer, subject) VALUES ($1, $2, 'tenant', 'https://idp.example.com', 'a-subject')`,
    [tenantId, owner.user.id],
  );
  await asOwner.domains.add({ domain: `a-${randomBytes(4).toString('hex')}.example.com` });
  for (const name of ['a-scim-1', 'a-scim-2']) await asOwner.scim.createToken({ name });
  for (const name of ['A staff', 'A admins'])
    await db.owner.pool.query(
      `INSERT INTO scim_groups (tenant_id, display_name, created_at, updated_at) VALUES ($1, $2, now(), now())`,
      [tenantId, name],
    );
  await db.owner.pool.query(
    `INSERT INTO saml_connections (tenant_id, name, idp_entity_id) VALUES ($1, 'a-saml', 'https://idp.example.com/saml')`,
    [tenantId],
  );
  // Two custom roles (a positive control may delete one before another field tries it).
  for (const name of ['a-role-1', 'a-role-2'])
    await asOwner.roles.create({ name, permissions: ['users:read'] });
  // An app registered with A's OpenID provider: its public client_id is what oidc.* procedures take.
  await db.owner.pool.query(
    `INSERT INTO oidc_clients (tenant_id, client_id, name, kind, redirect_uris) VALUES ($1, $2, 'a-app', 'spa', '["https://app.example.com/callback"]')`,
    [tenantId, `oc_${randomBytes(16).toString('base64url').slice(0, 22)}`],
  );
  return { tenantId, owner, adminId, officerId, memberId, ownerPrincipal };
}

/** Every row of the tenant in every table with a tenant_id, read as the owner (no RLS). */
async function snapshot(tenantId: string): Promise<Map<string, string[]>> {
  const { rows: tables } = await db.owner.pool.query<{ table: string }>(
    `SELECT table_name AS table FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY 1`,
  );
  const out = new Map<string, string[]>();
  for (const { table } of tables) {
    // Identifiers come from the catalog and are quoted by format(%I) server-side.
    const { rows: statements } = await db.owner.pool.query<{ q: string }>(
      `SELECT format('SELECT to_jsonb(t)::text AS j FROM public.%I t WHERE tenant_id = $1', $1::text) AS q`,
      [table],
    );
    const { rows } = await db.owner.pool.query<{ j: string }>(statements[0]?.q ?? '', [tenantId]);
    out.set(table, rows.map((r) => r.j).sort());
  }
  const { rows } = await db.owner.pool.query<{ j: string }>(
    'SELECT to_jsonb(t)::text AS j FROM public.tenants t WHERE id = $1',
    [tenantId],
  );
  out.set(
    'tenants',
    rows.map((r) => r.j),
  );
  return out;
}

/**
 * An id that exists nowhere, shaped like `id` (same prefix up to its last "_", same length), so
 * it passes the same input format: `oc_…` for an OpenID client id.
 */
function unknownLike(id: string | undefined): string {
  if (id === undefined) return `unknown${randomUUID().slice(0, 8)}`;
  const cut = id.lastIndexOf('_') + 1;
  const tail = randomBytes(id.length)
    .toString('hex')
    .slice(0, id.length - cut);
  return id.slice(0, cut) + tail;
}

/** A's ids: the primary key of up to two rows of every table, passkey credential ids and OpenID client ids. */
function idsOf(rows: Map<string, string[]>): { table: string; id: string }[] {
  const ids: { table: string; id: string }[] = [];
  for (const [table, json] of rows) {
    // Two rows of each kind, but every user: only some users act (and so appear as audit actors),
    // and rows are sorted by their random ids, so two users could miss every actor.
    for (const row of json
      .slice(0, table === 'users' ? json.length : 2)
      .map((j) => JSON.parse(j) as Record<string, unknown>)) {
      for (const column of ['id', 'credential_id', 'client_id'])
        if (typeof row[column] === 'string') ids.push({ table, id: row[column] });
    }
  }
  return ids;
}

test(
  "staff and keys of tenant B get, for each of A's ids in every id input, the answer an unknown id gets, and A is unchanged",
  { timeout: 120_000 },
  async () => {
    const a = await seedTenantA();
    const b = await signUpOwner(db.app, { services });
    const bKey = await db.withTenant(b.tenant.id, (tx) =>
      createApiKey(
        tx,
        { actor: { type: 'user', id: b.user.id }, deps: services.apiKeys, now: new Date() },
        { name: 'b-all', type: 'secret', environment: 'live', scopes: ALL_SCOPES },
      ),
    );
    const bCallers: Record<string, () => Caller> = {
      owner: callerAs(await principalFromToken(db.app, b.token)),
      admin: callerAs(session(b.tenant.id, await seedUser(b.tenant.id, 'admin'), 'admin')),
      compliance: callerAs(
        session(b.tenant.id, await seedUser(b.tenant.id, 'compliance'), 'compliance'),
      ),
      apiKey: callerAs({
        kind: 'api_key',
        tenantId: b.tenant.id,
        keyId: bKey.apiKey.id,
        keyType: 'secret',
        scopes: ALL_SCOPES,
      }),
    };
    const before = await snapshot(a.tenantId);
    const aIds = idsOf(before);
    const tablesWithRows = [...before]
      .filter(([, rows]) => rows.length > 0)
      .map(([table]) => table);
    for (const kind of [
      'users',
      'sessions',
      'api_keys',
      'privacy_requests',
      'privacy_legal_holds',
      'privacy_webhook_endpoints',
      'privacy_webhook_deliveries',
      'webauthn_credentials',
      'remembered_devices',
      'user_identities',
      'saml_connections',
      'tenant_roles',
      'audit_logs',
    ]) {
      expect(tablesWithRows, `tenant A has no ${kind} row to aim at`).toContain(kind);
    }
    const problems: string[] = [];
    let attempts = 0;
    for (const { name, schema, leaf } of idFields) {
      const field = leaf.path.join('.');
      const fitting = aIds.filter(({ id }) => leaf.schema.safeParse(id).success);
      if (fitting.length === 0) problems.push(`${name} ${field}: none of A's ids fits this field`);
      const base = sampleOf(schema);
      if (!schema.safeParse(withValueAt(schema, base, leaf.path, fitting[0]?.id)).success)
        problems.push(`${name} ${field}: the sample input does not parse`);
      for (const [who, caller] of Object.entries(bCallers)) {
        const unknownId = leaf.format === 'uuid' ? randomUUID() : unknownLike(fitting[0]?.id);
        const unknown = await outcome(
          caller,
          name,
          withValueAt(schema, base, leaf.path, unknownId),
          unknownId,
        );
        for (const { table, id } of fitting) {
          attempts += 1;
          const got = await outcome(caller, name, withValueAt(schema, base, leaf.path, id), id);
          const leaked = aIds.find((other) => got.output?.includes(other.id));
          const sameAnswer =
            got.error === unknown.error &&
            (got.error !== undefined ||
              got.output === unknown.output ||
              ORDERING_FIELDS.includes(field));
          if (got.error?.startsWith('INTERNAL_SERVER_ERROR'))
            problems.push(`${name} ${field}=${table} as ${who}: 500`);
          else if (leaked)
            problems.push(
              `${name} ${field}=${table} as ${who}: output holds A's ${leaked.table} id`,
            );
          else if (!sameAnswer)
            problems.push(
              `${name} ${field}=${table} as ${who}: ${JSON.stringify(got)} but an unknown id gets ${JSON.stringify(unknown)}`,
            );
        }
      }
    }
    expect(problems).toEqual([]);
    expect(await snapshot(a.tenantId)).toEqual(before);
    // The walk is walking: 32 id fields in 28 procedures when this was written.
    expect(idFields.length).toBeGreaterThan(28);
    expect(new Set(idFields.map((f) => f.name)).size).toBeGreaterThan(24);
    expect(attempts).toBeGreaterThan(idFields.length * 4);

    // Positive control: A's own staff find what B could not, so each field was aimed at a real row.
    const aCallers = [
      callerAs(a.ownerPrincipal),
      callerAs(session(a.tenantId, a.officerId, 'compliance')),
    ];
    const blind: string[] = [];
    const seen: string[] = []; // what a blind field answered, so a failure explains itself
    for (const { name, schema, leaf } of idFields) {
      const base = sampleOf(schema);
      let found = false;
      for (const caller of aCallers) {
        const unknownId =
          leaf.format === 'uuid' ? randomUUID() : `unknown${randomUUID().slice(0, 8)}`;
        const unknown = await outcome(
          caller,
          name,
          withValueAt(schema, base, leaf.path, unknownId),
          unknownId,
        );
        for (const { id } of aIds.filter(
          (candidate) => leaf.schema.safeParse(candidate.id).success,
        )) {
          const got = await outcome(caller, name, withValueAt(schema, base, leaf.path, id), id);
          if (JSON.stringify(got) !== JSON.stringify(unknown)) found = true;
          else
            seen.push(`${name} ${leaf.path.join('.')}=${id}: ${JSON.stringify(got).slice(0, 300)}`);
          if (found) break;
        }
        if (found) break;
      }
      if (!found) blind.push(`${name} ${leaf.path.join('.')}`);
    }
    const { rows: auditActors } = await db.owner.pool.query<{ actor: string | null; n: number }>(
      'SELECT actor_id AS actor, count(*)::int AS n FROM audit_logs WHERE tenant_id = $1 GROUP BY 1',
      [a.tenantId],
    );
    expect(
      blind.sort(),
      [
        ...seen.filter((line) => blind.some((b) => line.startsWith(`${b}=`))),
        `A's audit actors: ${JSON.stringify(auditActors)}`,
      ].join('\n'),
    ).toEqual(NOT_ROW_REFERENCES);
  },
);

/**
 * Id-named fields that name no row of the tenant, so no id of A can change their answer. Every
 * other id field must be aimed at a real row of A above: a new procedure whose id names a new
 * kind of row fails here until the seed holds one.
 */
const NOT_ROW_REFERENCES: string[] = [
  // Inside a signed WebAuthn response: refused at the tenant-bound challenge before the credential
  // is looked up; another tenant's credential is pinned by passkeys.security.test.ts.
  ...['passkeys.verifyRegistration', 'passkeys.verifyAuthentication', 'passkeys.stepUp'].flatMap(
    (name) => [`${name} response.id`, `${name} response.rawId`],
  ),
  'tenant.sso.update clientId', // the OAuth client id issued by the tenant's identity provider
].sort();

/**
 * Keyset cursors: the value positions a page of the caller's own rows by comparison and is never
 * looked up, so another value gives another page. Only the leak and no-change checks apply.
 */
const ORDERING_FIELDS = ['cursor'];

test("B's own data stays B's: listing users shows none of A's, and B's session is untouched", async () => {
  const a = await signUpOwner(db.app, { services });
  const b = await signUpOwner(db.app, { services });
  const asA = await callerFor(db.app, a.token, { services });
  expect((await asA.users.list()).items.map((u) => u.id)).toEqual([a.user.id]);
  const asB = await callerFor(db.app, b.token, { services });
  expect((await asB.auth.me()).user.role).toBe('owner');
  expect(await principalFromToken(db.app, b.token)).not.toBeNull();
});
