/**
 * A listening server (real HTTP on loopback) over the test database, and tenants with a SCIM
 * token minted through the real scim.createToken procedure, for the /scim/v2 tests.
 */
import { createCaller, createTestContext, signUpOwner } from '@tessera/api-contract/testing';
import type { Principal, Services } from '@tessera/api-contract';
import type { Database } from '@tessera/db';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../build-server.js';
import { defaultApiConfig } from '../config.js';

export interface ListeningServer {
  app: FastifyInstance;
  origin: string;
}

export async function listeningServer(
  database: Database,
  services: Services,
): Promise<ListeningServer> {
  const app = await buildServer(
    { ...defaultApiConfig, logLevel: 'silent', rateLimit: { max: 100_000, windowMs: 60_000 } },
    { database, services },
  );
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, origin: address };
}

export interface ScimTenant {
  tenantId: string;
  ownerId: string;
  ownerEmail: string;
  /** The owner's session token (cookie value). */
  session: string;
  /** The SCIM bearer token, as shown once by scim.createToken. */
  token: string;
  tokenId: string;
  /** The owner's tRPC caller (in-process), for scim.* console procedures. */
  owner: ReturnType<typeof createCaller>;
}

let signUps = 0;

export async function scimTenant(database: Database, services: Services): Promise<ScimTenant> {
  // Sign-ups are limited per IP: each tenant comes from an address of its own.
  const seeded = await signUpOwner(database, { services, ip: `198.51.100.${(signUps += 1)}` });
  const principal: Principal = {
    kind: 'session',
    tenantId: seeded.tenant.id,
    userId: seeded.user.id,
    role: 'owner',
    sessionId: '00000000-0000-4000-8000-000000000000',
    aal: 1,
    mfaVerifiedAt: null,
    mfaEnabled: false,
    enrollmentOnly: false,
    expiresAt: new Date(Date.now() + 3_600_000),
  };
  const owner = createCaller(createTestContext(database, { principal, services }));
  const { token, scimToken } = await owner.scim.createToken({ name: 'Okta' });
  return {
    tenantId: seeded.tenant.id,
    ownerId: seeded.user.id,
    ownerEmail: seeded.user.email,
    session: seeded.token,
    token,
    tokenId: scimToken.id,
    owner,
  };
}
