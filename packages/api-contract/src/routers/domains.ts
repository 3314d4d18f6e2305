/**
 * Verified domains (docs/domains.md). `list`, `add`, `verify`, `update`, `remove`: owners and
 * admins; every change needs step-up, since a domain decides who must use SSO and who joins the
 * tenant. `route` is public: the pre-tenant lookup of the SSO start for an e-mail address.
 */
import {
  addDomain,
  createTxtLookup,
  listDomains,
  removeDomain,
  routeSignIn,
  updateDomainSettings,
  verifyDomain,
} from '@tessera/auth/domains';
import type { Context, SessionPrincipal } from '../context.js';
import {
  addDomainInput,
  domainIdInput,
  routeSignInInput,
  updateDomainInput,
} from '../inputs/domains.js';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import { limitPerIp, publicProcedure, requestOf, router, sessionProcedure } from '../trpc.js';

const read = { access: { permission: 'domains:read' } } as const;
const manage = { access: { permission: 'domains:write' } } as const;
/** Home-realm lookups per IP: enough for people, too few to sweep a list of domains. */
export const ROUTE_LIMIT = { max: 30, windowMs: 60_000 } as const;

const actorOf = (p: SessionPrincipal) => ({
  tenantId: p.tenantId,
  userId: p.userId,
  role: p.role,
  customPermissions: p.customRole?.permissions,
  sessionId: p.sessionId,
});

/** The DNS lookup of services.domains; without it, the system's resolvers. */
const lookupOf = (ctx: Context) => ctx.services.domains?.lookup ?? createTxtLookup();

export const domainsRouter = router({
  list: sessionProcedure.meta(read).query(({ ctx }) => listDomains(ctx.db, ctx.principal.tenantId)),
  add: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(addDomainInput)
    .mutation(({ ctx, input }) =>
      addDomain(ctx.db, actorOf(ctx.principal), input.domain, requestOf(ctx), ctx.now()),
    ),
  verify: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(domainIdInput)
    .mutation(({ ctx, input }) =>
      verifyDomain(
        ctx.db,
        { lookup: lookupOf(ctx), keyring: ctx.services.accounts.keyring },
        actorOf(ctx.principal),
        input.id,
        requestOf(ctx),
        ctx.now(),
      ),
    ),
  update: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(updateDomainInput)
    .mutation(({ ctx, input }) =>
      updateDomainSettings(
        ctx.db,
        actorOf(ctx.principal),
        input.id,
        { requireSso: input.requireSso, autoJoin: input.autoJoin },
        requestOf(ctx),
        ctx.now(),
      ),
    ),
  remove: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(domainIdInput)
    .mutation(async ({ ctx, input }) => {
      await removeDomain(ctx.db, actorOf(ctx.principal), input.id, requestOf(ctx), ctx.now());
      return { ok: true as const };
    }),
  // A mutation so the address travels in the body, never in a URL or an access log.
  route: publicProcedure
    .meta({ access: 'public' })
    .input(routeSignInInput)
    .mutation(async ({ ctx, input }) => {
      await limitPerIp(ctx, 'domain_route', ROUTE_LIMIT);
      const route = await routeSignIn(ctx.db, ctx.services.accounts.publicUrl, input.email);
      return { sso: route };
    }),
});
