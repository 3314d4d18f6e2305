/**
 * Audit trail of a tenant's provider (docs/design.md rule 6 and "Failure bookkeeping"): every
 * token issued, every refusal at the authorization and token endpoints, every grant revoked
 * (including the revocation of a whole grant when a refresh token is reused) and every logout.
 * oidc-provider reports them as events during a request; they are queued on the request and
 * written by a middleware wrapped around the provider, in one tenant transaction that commits
 * before the response leaves, so a refusal's trace cannot be lost to a dropped connection.
 */
import { recordAuditEvent, type AuditEventInput } from '@tessera/auth/audit';
import { withTenant, type Database } from '@tessera/db';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

const QUEUE = Symbol('tessera.oidc.audit');
type Queued = Pick<AuditEventInput, 'action' | 'metadata'> & {
  target: NonNullable<AuditEventInput['target']>;
};
type WithQueue = { [QUEUE]?: Queued[] };

interface ProviderError {
  error?: string;
  error_detail?: string;
}

function queue(ctx: KoaContextWithOIDC, event: Queued): void {
  const state = ctx.state as WithQueue;
  (state[QUEUE] ??= []).push(event);
}

function who(ctx: KoaContextWithOIDC): { clientId: string | null; accountId: string | null } {
  const account = ctx.oidc?.entities?.Account as { accountId?: string } | undefined;
  return {
    clientId: ctx.oidc?.client?.clientId ?? null,
    accountId: account?.accountId ?? ctx.oidc?.session?.accountId ?? null,
  };
}

function userTarget(accountId: string | null): Queued['target'] {
  return accountId ? { type: 'user', id: accountId } : { type: 'oidc_client', id: null };
}

function errorOf(error: unknown): { error: string; detail: string | null } {
  const e = error as ProviderError;
  return { error: e.error ?? 'server_error', detail: e.error_detail?.slice(0, 200) ?? null };
}

export function installProviderAudit(
  provider: Provider,
  database: Database,
  tenantId: string,
): void {
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const { clientId, accountId } = who(ctx);
    queue(ctx, {
      action: 'oidc.token.issued',
      target: userTarget(accountId),
      metadata: { clientId, grantType: ctx.oidc.params?.['grant_type'] ?? null },
    });
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: unknown) => {
    const { clientId, accountId } = who(ctx);
    queue(ctx, {
      action: 'oidc.token.refused',
      target: userTarget(accountId),
      metadata: {
        clientId,
        grantType: ctx.oidc?.params?.['grant_type'] ?? null,
        ...errorOf(error),
      },
    });
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    const { clientId, accountId } = who(ctx);
    queue(ctx, {
      action: 'oidc.grant.revoked',
      target: userTarget(accountId),
      // At the token endpoint a grant is revoked only because a used refresh token came back.
      metadata: {
        clientId,
        grantId,
        reason: ctx.oidc?.route === 'token' ? 'refresh_token_reused' : (ctx.oidc?.route ?? null),
      },
    });
  });
  provider.on('authorization.error', (ctx: KoaContextWithOIDC, error: unknown) => {
    const { clientId, accountId } = who(ctx);
    queue(ctx, {
      action: 'oidc.authorization.refused',
      target: userTarget(accountId),
      metadata: { clientId, ...errorOf(error) },
    });
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const { clientId, accountId } = who(ctx);
    queue(ctx, { action: 'oidc.logout', target: userTarget(accountId), metadata: { clientId } });
  });

  const backchannel =
    (ok: boolean) =>
    (ctx: KoaContextWithOIDC, ...rest: unknown[]): void => {
      const [error, app, accountId] = ok ? [null, ...rest] : rest;
      queue(ctx, {
        action: ok ? 'oidc.backchannel_logout.sent' : 'oidc.backchannel_logout.failed',
        target: userTarget(typeof accountId === 'string' ? accountId : null),
        metadata: {
          clientId: (app as { clientId?: string } | undefined)?.clientId ?? null,
          ...(ok
            ? {}
            : { error: String((error as Error | undefined)?.message ?? '').slice(0, 200) }),
        },
      });
    };
  provider.on('backchannel.success', backchannel(true));
  provider.on('backchannel.error', backchannel(false));

  provider.use(async (ctx, next) => {
    await next();
    const events = (ctx.state as WithQueue)[QUEUE];
    if (!events?.length) return;
    await withTenant(database, tenantId, async (tx) => {
      for (const event of events) {
        const clientId = (event.metadata?.['clientId'] as string | null) ?? null;
        await recordAuditEvent(tx, {
          ...event,
          actor: { type: 'system', id: clientId ? `oidc_client:${clientId}` : 'oidc' },
          ip: ctx.ip || null,
          userAgent: ctx.get('user-agent') || null,
        });
      }
    });
  });
}
