import type { Database } from '@tessera/db';

export type Role = 'owner' | 'admin' | 'compliance' | 'member';

export interface RequestMeta {
  /** Socket address, or the proxy-reported one when TRUST_PROXY is set (DESIGN "Requests"). */
  ip: string;
  userAgent: string | null;
  requestId: string;
}

export interface SessionPrincipal {
  kind: 'session';
  tenantId: string;
  userId: string;
  role: Role;
  sessionId: string;
  aal: 1 | 2;
}

export interface ApiKeyPrincipal {
  kind: 'api_key';
  tenantId: string;
  keyId: string;
  keyType: 'publishable' | 'secret';
  scopes: readonly string[];
}

export type Principal = SessionPrincipal | ApiKeyPrincipal;

/** What `api` must build per request (createContext). Procedures never read Fastify objects. */
export interface Context {
  db: Database;
  meta: RequestMeta;
  principal: Principal | null;
  now(): Date;
}
