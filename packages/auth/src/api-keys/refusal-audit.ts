/**
 * Audit events for refused keys (DESIGN "Failure bookkeeping"): written in the key's tenant in a
 * transaction that commits before the refusal is answered, never with the key (prefix only).
 * Only keys that exist can be attributed to a tenant; unknown and malformed keys leave no row.
 * To keep a flood of refused requests from queueing on the tenant's audit chain, one event per
 * key and reason is written per interval, carrying how many refusals it summarises.
 */
import { withTenant } from '@tessera/db';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/index.js';

export type ApiKeyRefusalReason = 'revoked' | 'expired' | 'ip_not_allowed' | 'rate_limited' | 'quota_exhausted';
const MAX_TRACKED = 10_000;

export class RefusalAuditor {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs: number,
  ) {}

  async record(key: { id: string; tenantId: string; prefix: string }, reason: ApiKeyRefusalReason, ip: string | null, now: Date): Promise<void> {
    const slot = `${key.id}:${reason}`;
    const last = this.#last.get(slot);
    if (last && now.getTime() - last.at < this.intervalMs && now.getTime() >= last.at) {
      last.suppressed += 1;
      return;
    }
    if (this.#last.size >= MAX_TRACKED) this.#last.clear();
    this.#last.set(slot, { at: now.getTime(), suppressed: 0 });
    try {
      await withTenant({ pool: this.pool }, key.tenantId, (tx) => recordAuditEvent(tx, {
        actor: { type: 'api_key', id: key.id }, action: 'api_key.refused', occurredAt: now, ip,
        target: { type: 'api_key', id: key.id },
        metadata: { reason, keyPrefix: key.prefix, refusalsSinceLastEvent: last?.suppressed ?? 0 },
      }));
    } catch (error) {
      this.#last.delete(slot); // not recorded: the next refusal tries again
      throw error;
    }
  }
}
