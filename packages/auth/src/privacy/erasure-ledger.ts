/**
 * Erasure ledger replay (docs/design.md "Privacy", "Jobs and backups"): a backup taken before an erasure
 * brings the subject back on restore. The ledger (tenant, request id, user id: ids only) is read
 * before the restore, kept outside it, and replayed on the restored database before it takes
 * traffic: each entry re-runs every source's erasure and deletes the user row again. Replay is
 * idempotent and ignores legal holds (the erasure already happened lawfully; a restore must not
 * resurrect it).
 */
import { eq } from 'drizzle-orm';
import {
  listErasureLedger,
  privacyErasureLedger,
  privacyRequests,
  users,
  withTenant,
  type Database,
} from '@tessera/db';
import { recordAuditEvent } from '../audit/record-audit-event.js';
import type { Keyring } from '../crypto/keyring.js';
import { eraseSubjectData } from './erase-user-data.js';

export interface ErasureLedgerEntry {
  tenantId: string;
  requestId: string;
  userId: string;
  erasedAt: string;
}

/** Every ledger entry of every tenant (ids only): what an operator saves before a restore. */
export async function readErasureLedger(
  database: Pick<Database, 'pool'>,
): Promise<ErasureLedgerEntry[]> {
  const entries: ErasureLedgerEntry[] = [];
  for (const ref of await listErasureLedger(database.pool)) {
    const [row] = await withTenant(
      database,
      ref.tenantId,
      (tx) =>
        tx.select().from(privacyErasureLedger).where(eq(privacyErasureLedger.requestId, ref.id)),
      { readOnly: true },
    );
    if (row)
      entries.push({
        tenantId: row.tenantId,
        requestId: row.requestId,
        userId: row.userId,
        erasedAt: row.erasedAt.toISOString(),
      });
  }
  return entries;
}

/** Re-applies `entries` (default: the database's own ledger); returns how many subjects still had data. */
export async function replayErasureLedger(
  database: Pick<Database, 'pool'>,
  deps: { keyring: Keyring; now: Date },
  entries?: readonly ErasureLedgerEntry[],
): Promise<{ replayed: number; resurrected: number }> {
  const list = entries ?? (await readErasureLedger(database));
  let resurrected = 0;
  for (const entry of list) {
    resurrected += await withTenant(database, entry.tenantId, async (tx) => {
      await tx
        .insert(privacyErasureLedger)
        .values({
          tenantId: tx.tenantId,
          requestId: entry.requestId,
          userId: entry.userId,
          erasedAt: new Date(entry.erasedAt),
        })
        .onConflictDoNothing();
      const [user] = await tx
        .select({ email: users.email })
        .from(users)
        .where(eq(users.id, entry.userId))
        .for('update');
      await tx
        .update(privacyRequests)
        .set({
          status: 'completed',
          completedAt: new Date(entry.erasedAt),
          contactEmail: null,
          updatedAt: deps.now,
        })
        .where(eq(privacyRequests.id, entry.requestId));
      if (!user) return 0;
      await eraseSubjectData(
        tx,
        { userId: entry.userId, email: user.email },
        { keyring: deps.keyring, now: deps.now },
      );
      await recordAuditEvent(tx, {
        actor: { type: 'system', id: null },
        action: 'privacy.erasure.replayed',
        target: { type: 'user', id: entry.userId },
        metadata: { requestId: entry.requestId },
        occurredAt: deps.now,
      });
      return 1;
    });
  }
  return { replayed: list.length, resurrected };
}
