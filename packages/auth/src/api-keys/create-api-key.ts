import { apiKeys, type ApiKeyEnvironment, type ApiKeyType, type TenantTx } from '@tessera/db';
import { recordAuditEvent } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { apiKeyRefused } from '../outcomes.js';
import { auditActorOf, auditOriginOf, type ApiKeyActor } from './actor.js';
import { toApiKeyView, viewColumns, type ApiKeyView } from './api-key-view.js';
import { canonicalCidrs } from './cidr.js';
import { generateApiKey } from './key-format.js';
import type { TenantUseCase } from '../context/use-case.js';
import type { PepperRing } from './pepper-ring.js';
import { isApiKeyScope } from './scopes.js';

/** What key services need from configuration (API_KEY_PEPPERS). */
export interface ApiKeyDeps {
  peppers: PepperRing;
}

export interface CreateApiKeyParams {
  name: string;
  type: ApiKeyType;
  environment: ApiKeyEnvironment;
  scopes?: readonly string[] | undefined;
  allowedCidrs?: readonly string[] | undefined;
  rateLimit?: { max: number; windowSeconds: number } | undefined;
  /** Usage quota: `remaining` uses, optionally reset to `refill.amount` every `refill.intervalSeconds`. */
  quota?:
    | { remaining: number; refill?: { amount: number; intervalSeconds: number } | undefined }
    | undefined;
  expiresAt?: string | Date | undefined;
}

/** A freshly minted key: `key` is shown once and never stored. */
export interface MintedApiKey {
  key: string;
  apiKey: ApiKeyView;
}

export interface MintOptions {
  /** Called before a secret key is minted (step-up MFA for users who have MFA). */
  assertMayMintSecret?: () => void;
}

/**
 * One call that mints a key (create or rotate), inside the caller's tenant transaction: who asks (a
 * user or a key; the actor carries the request's origin), the peppers and the time.
 */
export interface MintUseCase extends Omit<TenantUseCase<ApiKeyActor>, 'request'>, MintOptions {
  deps: ApiKeyDeps;
}

/** Creates a key in the transaction's tenant and records `api_key.created` in the same transaction. */
export async function createApiKey(
  tx: TenantTx,
  uc: MintUseCase,
  params: CreateApiKeyParams,
): Promise<MintedApiKey> {
  const { actor, deps, now } = uc;
  const spec = validateSpec(params, now);
  if (spec.type === 'secret') uc.assertMayMintSecret?.();
  assertScopesWithin(actor, spec.scopes);
  const minted = await insertApiKey(tx, actor, spec, deps, now);
  await recordAuditEvent(tx, {
    actor: auditActorOf(actor),
    ...auditOriginOf(actor),
    action: 'api_key.created',
    occurredAt: now,
    target: { type: 'api_key', id: minted.apiKey.id },
    after: {
      keyPrefix: minted.apiKey.prefix,
      name: spec.name,
      type: spec.type,
      environment: spec.environment,
      scopes: spec.scopes,
      allowedCidrs: spec.allowedCidrs,
      rateLimit: params.rateLimit ?? null,
      quota: params.quota ?? null,
      expiresAt: spec.expiresAt?.toISOString() ?? null,
    },
  });
  return minted;
}

/**
 * A key may hand out only scopes it holds itself (docs/design.md "Secrets"); a user only scopes
 * among their permissions (docs/roles.md: nobody grants what they do not hold).
 */
export function assertScopesWithin(actor: ApiKeyActor, scopes: readonly string[]): void {
  if (actor.type !== 'api_key') {
    if (actor.grantable && !scopes.every((scope) => actor.grantable?.includes(scope)))
      throw new AuthError('forbidden', {
        detail: 'You cannot give a key scopes you do not hold.',
        field: 'scopes',
      });
    return;
  }
  if (!scopes.every((scope) => actor.scopes.includes(scope)))
    throw apiKeyRefused('api_key_forbidden');
}

export interface KeySpec {
  name: string;
  type: ApiKeyType;
  environment: ApiKeyEnvironment;
  scopes: string[];
  allowedCidrs: string[];
  rateLimitMax: number | null;
  rateLimitWindowSeconds: number | null;
  quotaRemaining: number | null;
  quotaRefillAmount: number | null;
  quotaRefillSeconds: number | null;
  quotaRefilledAt: Date | null;
  expiresAt: Date | null;
  rotatedFromId?: string;
}

/** Inserts a new key row for `spec` and returns the clear key once (shared with rotation). */
export async function insertApiKey(
  tx: TenantTx,
  actor: ApiKeyActor,
  spec: KeySpec,
  deps: ApiKeyDeps,
  now: Date,
): Promise<MintedApiKey> {
  const { key, prefix } = generateApiKey(spec.type, spec.environment);
  const [row] = await tx
    .insert(apiKeys)
    .values({
      ...spec,
      tenantId: tx.tenantId,
      prefix,
      keyHash: deps.peppers.hashCurrent(key),
      pepperVersion: deps.peppers.currentVersion,
      createdBy: actor.type === 'user' ? actor.id : null,
      createdByKeyId: actor.type === 'api_key' ? actor.id : null,
      createdAt: now,
    })
    .returning(viewColumns);
  if (!row) throw new Error('api key insert returned no row');
  return { key, apiKey: toApiKeyView(row) };
}

function validateSpec(params: CreateApiKeyParams, now: Date): KeySpec {
  const name = typeof params.name === 'string' ? params.name.trim() : '';
  if (name.length < 1 || name.length > 100)
    throw invalid('name', 'A name of 1 to 100 characters is required.');
  if (params.type !== 'publishable' && params.type !== 'secret')
    throw invalid('type', 'Type is publishable or secret.');
  if (params.environment !== 'live' && params.environment !== 'test')
    throw invalid('environment', 'Environment is live or test.');
  const scopes = [...new Set(params.scopes ?? [])];
  if (!scopes.every(isApiKeyScope)) throw invalid('scopes', 'Unknown scope.');
  // Publishable keys are public: they only identify their tenant to public procedures.
  if (params.type === 'publishable' && scopes.length > 0)
    throw invalid('scopes', 'Publishable keys carry no scopes.');
  const expiresAt = params.expiresAt === undefined ? null : new Date(params.expiresAt);
  if (expiresAt !== null && !(expiresAt.getTime() > now.getTime()))
    throw invalid('expiresAt', 'The expiry must be in the future.');
  const { rateLimit, quota } = params;
  if (
    rateLimit &&
    !(within(rateLimit.max, 1, 1_000_000) && within(rateLimit.windowSeconds, 1, 86_400))
  )
    throw invalid('rateLimit', 'Rate limit out of range.');
  if (
    quota &&
    !(
      within(quota.remaining, 0, 1_000_000_000) &&
      (!quota.refill ||
        (within(quota.refill.amount, 1, 1_000_000_000) &&
          within(quota.refill.intervalSeconds, 60, 31_536_000)))
    )
  ) {
    throw invalid('quota', 'Quota out of range.');
  }
  return {
    name,
    type: params.type,
    environment: params.environment,
    scopes,
    expiresAt,
    allowedCidrs: canonicalCidrs(params.allowedCidrs ?? []),
    rateLimitMax: rateLimit?.max ?? null,
    rateLimitWindowSeconds: rateLimit?.windowSeconds ?? null,
    quotaRemaining: quota?.remaining ?? null,
    quotaRefillAmount: quota?.refill?.amount ?? null,
    quotaRefillSeconds: quota?.refill?.intervalSeconds ?? null,
    quotaRefilledAt: quota?.refill ? now : null,
  };
}

function within(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function invalid(field: string, detail: string): AuthError {
  return new AuthError('invalid_input', { field, detail });
}
