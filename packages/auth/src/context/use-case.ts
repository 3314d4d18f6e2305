import type { Database } from '@tessera/db';
import type { Actor } from './actor.js';
import type { AccountDeps, RequestContext } from './deps.js';

/**
 * One call of a use case: the database its tenant transactions run on, the services it may use,
 * the request it answers and the time it runs at (docs/design.md "One way into a tenant"). A use
 * case takes this one object and then its own input, instead of a row of positional parameters.
 */
export interface UseCase<Deps = AccountDeps> {
  db: Database;
  deps: Deps;
  request: RequestContext;
  now: Date;
}

/** A use case called by someone signed in: `actor` says who, and names the tenant. */
export interface ActorUseCase<
  Who extends { tenantId: string } = Actor,
  Deps = AccountDeps,
> extends UseCase<Deps> {
  actor: Who;
}

/**
 * A use case that runs inside the caller's tenant transaction (`ctx.withTenant` in a procedure):
 * it takes the `TenantTx` first and this, without `db`, since it opens no transaction itself. The
 * transaction names the tenant, so `actor` need not.
 */
export interface TenantUseCase<Who = Actor> {
  actor: Who;
  request: RequestContext;
  now: Date;
}
