// Attack: the runtime role (a compromised process, an injected query) calls a SECURITY DEFINER
// function with a time of its choosing: `prune_spent_auth_artifacts('infinity')` deletes every
// tenant's live challenges, codes and remembered devices; a past time revives an idle-expired
// session; a future one refills an API key's quota. docs/design.md "Tenancy and database": definer
// functions read the database clock (now()), never a time the caller passes in. Queries run as
// the runtime role; the owner connection only seeds and backdates rows.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { useTestDatabase } from './testing/index.js';

const db = useTestDatabase();
const asOwner = (text: string, values: unknown[] = []) => db.owner.pool.query(text, values);

async function userIn(): Promise<{ tenantId: string; userId: string }> {
  const { id: tenantId } = await db.seedTenant();
  const userId = randomUUID();
  await asOwner('INSERT INTO users (id, tenant_id, email) VALUES ($1, $2, $3)', [
    userId,
    tenantId,
    `${userId}@example.com`,
  ]);
  return { tenantId, userId };
}

/** A live MFA challenge (5 minutes left), a live one-time code and a trusted device (20 days left). */
async function liveArtifacts(who: {
  tenantId: string;
  userId: string;
}): Promise<{ challenge: string; code: string; device: string }> {
  const challenge = randomUUID();
  const code = randomUUID();
  const device = randomUUID();
  await asOwner(
    `INSERT INTO mfa_challenges (id, tenant_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, now() + interval '5 minutes')`,
    [challenge, who.tenantId, who.userId, randomBytes(32)],
  );
  await asOwner(
    `INSERT INTO one_time_codes (id, tenant_id, user_id, purpose, channel, challenge_id, code_hash, key_ciphertext, created_at, expires_at)
                 VALUES ($1, $2, $3, 'mfa_sign_in', 'sms', $4, $5, 'k', now(), now() + interval '10 minutes')`,
    [code, who.tenantId, who.userId, challenge, randomBytes(32)],
  );
  await asOwner(
    `INSERT INTO remembered_devices (id, tenant_id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, now(), now() + interval '20 days')`,
    [device, who.tenantId, who.userId, randomBytes(32)],
  );
  return { challenge, code, device };
}

async function stillThere(table: string, id: string): Promise<boolean> {
  return (await asOwner(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).rowCount === 1;
}

/** Runs a query as the runtime role; a refusal (e.g. no such function) counts as "did nothing". */
async function tryAsRuntime(text: string, values: unknown[] = []): Promise<unknown[]> {
  return db.app.pool.query(text, values).then(
    (result) => result.rows,
    () => [],
  );
}

describe('definer functions and the clock', () => {
  test('no SECURITY DEFINER function the runtime role may call takes a time from its caller', async () => {
    const { rows } = await db.app.pool.query<{ fn: string }>(`
      SELECT p.oid::regprocedure::text AS fn FROM pg_proc p
      WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef AND has_function_privilege(p.oid, 'EXECUTE')
        AND p.proargtypes::oid[] && ARRAY['timestamptz', 'timestamp', 'date', 'timestamptz[]', 'timestamp[]', 'date[]']::regtype[]::oid[]
      ORDER BY 1`);
    // audit_append's first argument is the event's own timestamp (chained into its hash), not a
    // clock the function decides by; the runtime role can never delete what it appends.
    expect(rows.map((r) => r.fn).filter((fn) => !fn.startsWith('audit_append('))).toEqual([]);
  });

  test("a caller-chosen 'infinity' cannot make the artifact prune delete live rows of any tenant", async () => {
    const a = await userIn();
    const b = await userIn();
    const live = [await liveArtifacts(a), await liveArtifacts(b)];
    await tryAsRuntime(`SELECT * FROM public.prune_spent_auth_artifacts('infinity'::timestamptz)`);
    await tryAsRuntime('SELECT * FROM public.prune_spent_auth_artifacts($1)', [
      new Date(Date.now() + 400 * 86_400_000),
    ]);
    await tryAsRuntime('SELECT * FROM public.prune_spent_auth_artifacts()');
    for (const rows of live) {
      expect(await stillThere('mfa_challenges', rows.challenge)).toBe(true);
      expect(await stillThere('one_time_codes', rows.code)).toBe(true);
      expect(await stillThere('remembered_devices', rows.device)).toBe(true);
    }
  });

  test('the artifact prune removes rows that are spent by the database clock', async () => {
    const a = await userIn();
    const rows = await liveArtifacts(a);
    await asOwner(
      `UPDATE one_time_codes SET expires_at = now() - interval '25 hours' WHERE id = $1`,
      [rows.code],
    );
    await asOwner(
      `UPDATE mfa_challenges SET expires_at = now() - interval '25 hours' WHERE id = $1`,
      [rows.challenge],
    );
    await asOwner(
      `UPDATE remembered_devices SET revoked_at = now() - interval '31 days' WHERE id = $1`,
      [rows.device],
    );
    await db.app.pool.query('SELECT * FROM public.prune_spent_auth_artifacts()');
    expect([
      await stillThere('mfa_challenges', rows.challenge),
      await stillThere('remembered_devices', rows.device),
    ]).toEqual([false, false]);
  });

  test('a past time cannot revive an idle-expired session, and activity is stamped by the database clock', async () => {
    const { tenantId, userId } = await userIn();
    const expired = randomBytes(32);
    const live = randomBytes(32);
    await asOwner(
      `INSERT INTO sessions (tenant_id, user_id, token_hash, created_at, last_activity_at)
                   VALUES ($1, $2, $3, now() - interval '2 hours', now() - interval '31 minutes'),
                          ($1, $2, $4, now() - interval '2 hours', now() - interval '5 minutes')`,
      [tenantId, userId, expired, live],
    );
    const backThen = new Date(Date.now() - 30 * 60_000);
    expect(
      await tryAsRuntime('SELECT * FROM public.resolve_session($1, $2)', [expired, backThen]),
    ).toEqual([]);
    expect(await tryAsRuntime('SELECT * FROM public.resolve_session($1)', [expired])).toEqual([]);
    // A far-future "now" would have stamped last activity in the future (an idle timeout that never comes).
    await tryAsRuntime('SELECT * FROM public.resolve_session($1, $2)', [
      live,
      new Date(Date.now() + 7 * 86_400_000),
    ]);
    expect(
      await tryAsRuntime('SELECT session_id FROM public.resolve_session($1)', [live]),
    ).toHaveLength(1);
    const { rows } = await asOwner(
      'SELECT last_activity_at <= now() AS ok FROM sessions WHERE token_hash = $1',
      [live],
    );
    expect(rows).toEqual([{ ok: true }]);
  });
});
