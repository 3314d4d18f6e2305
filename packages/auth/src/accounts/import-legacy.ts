/**
 * Legacy import: users migrating from an older system keep their bcrypt hashes, which are
 * verified once at sign-in and replaced by Argon2id in the same transaction. Costs above
 * BCRYPT_MAX_COST are refused: one such compare would hold a hashing slot for minutes or more,
 * and a tenant could use them to stall every tenant's sign-ins.
 */
import { users, type TenantTx, type UserRole } from '@tessera/db';
import { recordAuditEvent, type AuditActor } from '../audit/index.js';
import { AuthError } from '../errors.js';
import { BCRYPT_MAX_COST, bcryptCostOf } from '../passwords/bcrypt-legacy.js';
import { isPlausibleEmail, normalizeEmail } from './normalize-email.js';

export interface LegacyUser {
  email: string;
  role: UserRole;
  passwordHash: string;
  displayName?: string | null | undefined;
}

export interface ImportResult {
  imported: number;
  skipped: { email: string; reason: 'exists' | 'duplicate_in_file' }[];
}

export const MAX_IMPORT_ROWS = 1000;

export interface LegacyUserProblem {
  code: 'invalid_input' | 'forbidden';
  field?: 'email' | 'passwordHash';
  /** A sentence for the operator or admin, without the row's position. */
  reason: string;
}

/** Why one row cannot be imported, or null when it can. */
export function checkLegacyUser(row: LegacyUser, actorIsOwner: boolean): LegacyUserProblem | null {
  if (!isPlausibleEmail(normalizeEmail(row.email)))
    return { code: 'invalid_input', field: 'email', reason: 'the e-mail address is not valid.' };
  const cost = bcryptCostOf(row.passwordHash);
  if (cost === null)
    return {
      code: 'invalid_input',
      field: 'passwordHash',
      reason: 'the password hash is not a bcrypt hash ($2a$, $2b$ or $2y$).',
    };
  if (cost > BCRYPT_MAX_COST)
    return {
      code: 'invalid_input',
      field: 'passwordHash',
      reason: `bcrypt cost ${cost} is above the limit of ${BCRYPT_MAX_COST}; leave this user out and invite them instead.`,
    };
  if (row.role === 'owner' && !actorIsOwner)
    return { code: 'forbidden', reason: 'only owners can import owners.' };
  return null;
}

/** Validates every row first: a bad row refuses the whole import and nothing is written. */
function validate(rows: readonly LegacyUser[], actorIsOwner: boolean): void {
  if (rows.length > MAX_IMPORT_ROWS)
    throw new AuthError('invalid_input', {
      detail: `At most ${MAX_IMPORT_ROWS} users per import.`,
    });
  rows.forEach((row, index) => {
    const problem = checkLegacyUser(row, actorIsOwner);
    if (problem)
      throw new AuthError(problem.code, {
        detail: `row ${index + 1}: ${problem.reason}`,
        ...(problem.field ? { field: `users.${index}.${problem.field}` } : {}),
      });
  });
}

/**
 * Imports the rows into the caller's tenant transaction (the procedure's `ctx.withTenant`, or the
 * command-line tool's own, one per batch); every row is checked before anything is written.
 */
export async function importLegacyUsers(
  tx: TenantTx,
  actor: AuditActor & { isOwner: boolean },
  rows: readonly LegacyUser[],
  now: Date,
): Promise<ImportResult> {
  validate(rows, actor.isOwner);
  const seen = new Set<string>();
  const skipped: ImportResult['skipped'] = [];
  let imported = 0;
  for (const row of rows) {
    const email = normalizeEmail(row.email);
    if (seen.has(email)) {
      skipped.push({ email, reason: 'duplicate_in_file' });
      continue;
    }
    seen.add(email);
    const inserted = await tx
      .insert(users)
      .values({
        tenantId: tx.tenantId,
        email,
        role: row.role,
        displayName: row.displayName ?? null,
        passwordHash: row.passwordHash,
        passwordAlgorithm: 'bcrypt',
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: users.id });
    if (inserted.length === 0) skipped.push({ email, reason: 'exists' });
    else imported += 1;
  }
  await recordAuditEvent(tx, {
    actor: { type: actor.type, id: actor.id },
    action: 'user.imported',
    target: { type: 'tenant', id: tx.tenantId },
    metadata: { imported, skipped: skipped.length },
    occurredAt: now,
  });
  return { imported, skipped };
}
