/**
 * The scheduled GDPR upkeep job (every 5 minutes by default): purge exports 7 days after
 * completion, remove used and stale download links and delivered erasure confirmations, remind
 * compliance staff of requests due within 3 days; prune spent authentication rows (challenges,
 * one-time codes, old remembered devices; migration 0016); and audit API-key refusals that no
 * event has reported yet (migration 0021); and re-check the DNS record of verified domains not
 * checked for a day (migration 0026, docs/domains.md). Each step lists (tenant_id, id) across
 * tenants through a SECURITY DEFINER function and works inside withTenant; every step is idempotent.
 */
import { flushApiKeyRefusalTallies } from '@tessera/auth/api-keys';
import { createTxtLookup, reverifyDueDomains, type TxtLookup } from '@tessera/auth/domains';
import { pruneSpentAuthArtifacts } from '@tessera/auth/maintenance';
import { runPrivacyMaintenance, type MaintenanceResult } from '@tessera/auth/privacy';
import type { GdprJobDeps } from './gdpr-export.js';

export async function handleMaintenanceJob(
  deps: Pick<GdprJobDeps, 'database' | 'keyring' | 'logger' | 'now'> & {
    /** DNS for the domain re-check; absent: the system's resolvers. */
    domainLookup?: TxtLookup | undefined;
  },
): Promise<MaintenanceResult> {
  const now = (deps.now ?? (() => new Date()))();
  const result = await runPrivacyMaintenance({
    database: deps.database,
    keyring: deps.keyring,
    now,
  });
  if (Object.values(result).some((n) => n > 0))
    deps.logger?.info(result, 'gdpr maintenance finished');
  // Spent challenges, one-time codes and old remembered devices ride on the same schedule.
  const pruned = await pruneSpentAuthArtifacts(deps.database);
  if (Object.values(pruned).some((n) => n > 0))
    deps.logger?.info(pruned, 'spent authentication rows pruned');
  const refusals = await flushApiKeyRefusalTallies(deps.database, now);
  if (refusals > 0) deps.logger?.info({ events: refusals }, 'summarised api key refusals audited');
  const domains = await reverifyDueDomains(
    {
      database: deps.database,
      keyring: deps.keyring,
      lookup: deps.domainLookup ?? createTxtLookup(),
    },
    now,
  );
  if (Object.values(domains).some((n) => n > 0))
    deps.logger?.info(domains, 'verified domains re-checked');
  return result;
}
