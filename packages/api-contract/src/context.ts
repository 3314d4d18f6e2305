import type { AccountDeps } from '@tessera/auth/context';
import type { ApiKeyDeps } from '@tessera/auth/api-keys';
import type { TxtLookup } from '@tessera/auth/domains';
import type { SmsGateway } from '@tessera/auth/mfa';
import type { OutboundPolicy } from '@tessera/auth/outbound';
import type { PlatformProviderInfo } from '@tessera/auth/sso';
import type { KeyObject } from 'node:crypto';
import type { Database } from '@tessera/db';

export type Role = 'owner' | 'admin' | 'compliance' | 'member';

export interface RequestMeta {
  /** Socket address, or the proxy-reported one when TRUST_PROXY is set (docs/design.md "Requests"). */
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
  mfaVerifiedAt: Date | null;
  /** The user has an active second factor (step-up applies). */
  mfaEnabled: boolean;
  enrollmentOnly: boolean;
  expiresAt: Date;
  /**
   * The user's custom role (docs/roles.md): its permissions add to the built-in role's (always
   * 'member' then). Read with the session (resolve_session), so it is as fresh as the session.
   */
  customRole?: { id: string; permissions: readonly string[] };
}

export interface ApiKeyPrincipal {
  kind: 'api_key';
  tenantId: string;
  keyId: string;
  keyType: 'publishable' | 'secret';
  scopes: readonly string[];
}

export type Principal = SessionPrincipal | ApiKeyPrincipal;

/** Sets and clears the session cookie on the response; the transport decides name and flags. */
export interface SessionCookieJar {
  set(token: string, expiresAt: Date): void;
  clear(): void;
  /** The remembered-device cookie (docs/mfa-factors.md); absent where the transport has none. */
  device?: DeviceCookieJar;
}

/** `tessera_device` / `__Host-tessera_device`: httpOnly, Secure, SameSite=Lax, Path=/. */
export interface DeviceCookieJar {
  /** The token the request carried, if any. */
  readonly token: string | undefined;
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface Services {
  accounts: AccountDeps;
  apiKeys: ApiKeyDeps;
  sso?: { outbound: OutboundPolicy; platformProviders: readonly PlatformProviderInfo[] };
  /** SMS one-time codes; absent when no provider is configured (production without Twilio). */
  sms?: SmsGateway;
  /** Verified domains: the DNS lookup for TXT records; absent: the system's resolvers. */
  domains?: { lookup: TxtLookup };
  /** TENANT_SIGNUP=open */
  signupOpen: boolean;
  /** Global per-IP budget; every tRPC call counts, so batching gains nothing (docs/design.md "Requests"). */
  callLimit: { max: number; windowMs: number };
}

/** What `api` must build per request (createContext). Procedures never read Fastify objects. */
export interface Context {
  db: Database;
  meta: RequestMeta;
  principal: Principal | null;
  services: Services;
  cookies: SessionCookieJar;
  /** The short-lived httpOnly challenge cookie set after an SSO callback (docs/design.md "MFA"). */
  mfaChallengeCookie?: string | undefined;
  /**
   * Trusted Ed25519 public key(s) of AUDIT_SIGNING_KEY: audit.verify then also checks every
   * checkpoint signature. Absent, it checks hashes and checkpoint hashes only.
   */
  auditPublicKey?: KeyObject | readonly KeyObject[] | undefined;
  now(): Date;
}
