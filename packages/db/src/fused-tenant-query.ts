/**
 * One statement and the tenant setting in a single implicit transaction: the extended protocol
 * runs everything between two Sync messages as one transaction, so Bind/Execute of
 * `set_config('app.tenant_id', $1, true)` followed by the statement's Bind/Execute and one Sync is
 * a transaction of its own without BEGIN or COMMIT. The setting is transaction-local exactly as
 * inside BEGIN ... COMMIT: it is gone when the Sync ends the transaction, and a failing statement
 * rolls the whole transaction back. PostgreSQL then handles two statements instead of four, and
 * node-postgres one query object and one answer instead of four
 * (docs/decisions/0010-one-sync-tenant-read.md).
 *
 * node-postgres has no API for two Executes before one Sync, so this is a `Query` that writes
 * the tenant statement's Bind and Execute before its own Parse/Bind/Describe/Execute/Sync, and
 * drops that statement's answer (its DataRow and CommandComplete) before handling its own. The
 * tenant statement (tenant-context.ts, the one place that sets the tenant) is a named statement
 * this connection has already prepared or queued for preparing (client.ts makes sure of it): a
 * Parse sent from here would be booked by node-postgres under the query's own name.
 */
/** A named statement that sets the tenant from its one parameter. */
export interface TenantStatement {
  readonly name: string;
  readonly text: string;
}

import pg from 'pg';

/** The parts of node-postgres's Connection this query writes to (pg/lib/connection.js). */
interface Wire {
  bind(config: { statement: string; values: unknown[]; valueMapper?: unknown }): void;
  execute(config: { portal?: string }): void;
}

/** node-postgres's internal hooks a `Query` answers to (pg/lib/query.js), not in its types. */
interface QueryInternals {
  prepare(connection: Wire): void;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: unknown): void;
}

/** A query config that always takes the extended protocol (Parse/Bind/Execute), even unnamed and without values. */
export type ExtendedQueryConfig = pg.QueryConfig & { queryMode: 'extended'; rowMode?: 'array' };

const Base = pg.Query as unknown as new (config: ExtendedQueryConfig) => pg.Query & QueryInternals;

export class FusedTenantQuery extends Base {
  readonly #tenantStatement: string;
  readonly #tenantId: string;
  /** The tenant statement's answer has been read; what follows is the query's own. */
  #tenantSet = false;

  constructor(config: ExtendedQueryConfig, tenantStatement: string, tenantId: string) {
    super(config);
    this.#tenantStatement = tenantStatement;
    this.#tenantId = tenantId;
  }

  override prepare(connection: Wire): void {
    connection.bind({ statement: this.#tenantStatement, values: [this.#tenantId] });
    connection.execute({});
    super.prepare(connection); // the statement's Parse (first time), Bind, Describe, Execute, Sync
  }

  override handleDataRow(message: unknown): void {
    if (this.#tenantSet) super.handleDataRow(message);
  }

  override handleCommandComplete(message: unknown, connection: unknown): void {
    if (!this.#tenantSet) {
      this.#tenantSet = true;
      return;
    }
    super.handleCommandComplete(message, connection);
  }
}
