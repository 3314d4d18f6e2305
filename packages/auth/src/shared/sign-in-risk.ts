import { eq, sql } from 'drizzle-orm';
import { knownDevices, loginThrottles, type TenantTx } from '@tessera/db';
import { sha256 } from '../crypto/tokens.js';
import {
  isUnusualHourShare,
  isUnusualSignInHour,
  signInHourSample,
  signInRiskScore,
} from '../audit/index.js';
import { secondFactorExists } from './factors.js';
import type { RequestContext } from '../context/deps.js';

export const userAgentHash = (userAgent: string | null): Buffer => sha256(userAgent ?? '');

/** Whether this user has signed in before from this IP, and with this user agent (read before remembering). */
export async function deviceNovelty(
  tx: TenantTx,
  userId: string | null,
  request: RequestContext,
): Promise<{ newIp: boolean; newUserAgent: boolean; anyDevice: boolean }> {
  if (!userId) return { newIp: true, newUserAgent: true, anyDevice: false };
  const [row] = await tx
    .select({
      any: sql<number>`count(*)::int`,
      ip: sql<number>`count(*) FILTER (WHERE ${knownDevices.ipAddress} = ${request.ip}::inet)::int`,
      ua: sql<number>`count(*) FILTER (WHERE ${knownDevices.userAgentHash} = ${userAgentHash(request.userAgent)})::int`,
    })
    .from(knownDevices)
    .where(eq(knownDevices.userId, userId));
  return {
    newIp: (row?.ip ?? 0) === 0,
    newUserAgent: (row?.ua ?? 0) === 0,
    anyDevice: (row?.any ?? 0) > 0,
  };
}

/** The documented deterministic sign-in risk model (docs/audit-log.md), for success and refusal events. */
export type DeviceNovelty = Awaited<ReturnType<typeof deviceNovelty>>;

/** The caller reads `deviceNovelty` once and passes it, since a successful sign-in needs it twice. */
export async function signInRisk(
  tx: TenantTx,
  novelty: DeviceNovelty,
  now: Date,
  failures: number,
  locked: boolean,
): Promise<number> {
  const unusualHour = await isUnusualSignInHour(tx, now);
  return signInRiskScore({
    newIp: novelty.newIp,
    newUserAgent: novelty.newUserAgent,
    recentFailures: failures,
    locked,
    unusualHour,
  });
}

/** What the successful end of a sign-in needs to know, read (and the device remembered) in one statement. */
export interface SignInFacts {
  novelty: DeviceNovelty;
  /** This user completed a sign-in from exactly this (ip, user agent) pair before. */
  knownPair: boolean;
  /** Failed attempts counted against the address (`login_throttles`), before they are cleared. */
  failures: number;
  unusualHour: boolean;
  /** An enabled TOTP app or a passkey (factors.ts). */
  hasFactor: boolean;
  /** Whether the device was new to this user; null when the statement did not remember it. */
  newDevice: boolean | null;
}

/**
 * When `readSignInFacts` remembers the (ip, user agent) pair: `always` (the sign-in completes), or
 * only if the sign-in is about to complete on the password alone, i.e. the user holds no second
 * factor and, with e-mailed codes in force, the pair is already known (otherwise a challenge
 * follows and nothing is remembered yet).
 */
export type RememberDevice = 'always' | { unlessFactor: true; unlessUnknownPair: boolean };

interface FactsRow extends Record<string, unknown> {
  any: number;
  ip: number;
  ua: number;
  pair: number;
  has_factor: boolean;
  at_hour: number;
  total: number;
  failures: number | null;
  new_device: boolean | null;
}

/**
 * One statement for what used to be five: the device novelty (read before remembering: every
 * sub-statement of a WITH sees the snapshot taken before the statement, so the counts do not see
 * the row the same statement upserts), the second-factor check, the sign-in hour sample, the
 * failures counted against the address, and the upsert of `known_devices` that remembers the
 * pair. Issued at once, so on a fresh tenant transaction it travels with BEGIN and set_config.
 */
export async function readSignInFacts(
  tx: TenantTx,
  who: { userId: string; email: string },
  request: RequestContext,
  now: Date,
  remember: RememberDevice,
): Promise<SignInFacts> {
  const ua = userAgentHash(request.userAgent);
  const at = now.toISOString();
  const when =
    remember === 'always'
      ? sql`true`
      : sql`NOT f.has_factor AND (${!remember.unlessUnknownPair}::boolean OR d.pair > 0)`;
  const result = await tx.execute<FactsRow>(sql`
    WITH d AS (
      SELECT count(*)::int AS any,
             count(*) FILTER (WHERE ip_address = ${request.ip}::inet)::int AS ip,
             count(*) FILTER (WHERE user_agent_hash = ${ua})::int AS ua,
             count(*) FILTER (WHERE ip_address = ${request.ip}::inet AND user_agent_hash = ${ua})::int AS pair
        FROM ${knownDevices} WHERE user_id = ${who.userId}::uuid
    ), f AS (
      SELECT ${secondFactorExists(who.userId)} AS has_factor
    ), h AS (
      ${signInHourSample(now)}
    ), r AS (
      INSERT INTO ${knownDevices} (tenant_id, user_id, ip_address, user_agent_hash, first_seen_at, last_seen_at)
      SELECT ${tx.tenantId}::uuid, ${who.userId}::uuid, ${request.ip}::inet, ${ua}, ${at}::timestamptz, ${at}::timestamptz
        FROM d, f WHERE ${when}
      ON CONFLICT (tenant_id, user_id, ip_address, user_agent_hash) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
      RETURNING first_seen_at = ${at}::timestamptz AS new_device
    )
    SELECT d.any, d.ip, d.ua, d.pair, f.has_factor, h.at_hour, h.total,
           (SELECT ${loginThrottles.failures} FROM ${loginThrottles} WHERE ${loginThrottles.email} = ${who.email}) AS failures,
           (SELECT new_device FROM r) AS new_device
      FROM d, f, h`);
  const row = result.rows[0];
  if (!row) throw new Error('sign-in facts returned no row');
  return {
    novelty: { newIp: row.ip === 0, newUserAgent: row.ua === 0, anyDevice: row.any > 0 },
    knownPair: row.pair > 0,
    failures: row.failures ?? 0,
    unusualHour: isUnusualHourShare({ atHour: row.at_hour, total: row.total }),
    hasFactor: row.has_factor,
    newDevice: row.new_device,
  };
}

/** The risk score of a successful sign-in, from facts already read (docs/audit-log.md). */
export function successRiskScore(facts: SignInFacts): number {
  return signInRiskScore({
    newIp: facts.novelty.newIp,
    newUserAgent: facts.novelty.newUserAgent,
    recentFailures: facts.failures,
    locked: false,
    unusualHour: facts.unusualHour,
  });
}
