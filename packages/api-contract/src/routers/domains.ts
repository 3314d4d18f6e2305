/**
 * Verified domains (docs/domains.md). `list`, `add`, `verify`, `update`, `remove`: owners and
 * admins; every change needs step-up, since a domain decides who must use SSO and who joins the
 * tenant. `route` is public: the pre-tenant lookup of the SSO start for an e-mail address.
 */
import {
  addDomain,
  createTxtLookup,
  domainToVerify,
  listDomains,
  lookUpDomainRecord,
  removeDomain,
  routeSignIn,
  updateDomainSettings,
  verifyDomain,
} from '@tessera/auth/domains';
import type { Context } from '../context.js';
import {
  addDomainInput,
  domainIdInput,
  routeSignInInput,
  updateDomainInput,
} from '../inputs/domains.js';
import { requireRecentMfa } from '../middleware/require-recent-mfa.js';
import { limitPerIp, publicProcedure, router, sessionProcedure } from '../trpc.js';
import { actingUseCaseOf } from '../use-case.js';

const read = { access: { permission: 'domains:read' } } as const;
const manage = { access: { permission: 'domains:write' } } as const;
/** Home-realm lookups per IP: enough for people, too few to sweep a list of domains. */
export const ROUTE_LIMIT = { max: 30, windowMs: 60_000 } as const;

/** The DNS lookup of services.domains; without it, the system's resolvers. */
const lookupOf = (ctx: Context) => ctx.services.domains?.lookup ?? createTxtLookup();

export const domainsRouter = router({
  list: sessionProcedure
    .meta(read)
    .query(({ ctx }) => ctx.withTenant((tx) => listDomains(tx), { readOnly: true })),
  add: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(addDomainInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) => addDomain(tx, actingUseCaseOf(ctx), input.domain)),
    ),
  verify: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(domainIdInput)
    .mutation(async ({ ctx, input }) => {
      const uc = { ...actingUseCaseOf(ctx), deps: { keyring: ctx.services.accounts.keyring } };
      const found = await ctx.withTenant((tx) => domainToVerify(tx, uc, input.id), {
        readOnly: true,
      });
      const looked = await lookUpDomainRecord({ lookup: lookupOf(ctx) }, found); // DNS between the two
      return ctx.withTenant((tx) => verifyDomain(tx, uc, looked));
    }),
  update: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(updateDomainInput)
    .mutation(({ ctx, input }) =>
      ctx.withTenant((tx) =>
        updateDomainSettings(tx, actingUseCaseOf(ctx), input.id, {
          requireSso: input.requireSso,
          autoJoin: input.autoJoin,
        }),
      ),
    ),
  remove: sessionProcedure
    .meta(manage)
    .use(requireRecentMfa)
    .input(domainIdInput)
    .mutation(async ({ ctx, input }) => {
      await ctx.withTenant((tx) => removeDomain(tx, actingUseCaseOf(ctx), input.id));
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
