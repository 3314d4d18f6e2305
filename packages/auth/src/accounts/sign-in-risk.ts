import { eq, sql } from 'drizzle-orm';
import { knownDevices, type TenantTx } from '@tessera/db';
import { sha256 } from '../crypto/tokens.js';
import { isUnusualSignInHour, signInRiskScore } from '../audit/index.js';
import type { RequestContext } from './deps.js';

export const userAgentHash = (userAgent: string | null): Buffer => sha256(userAgent ?? '');

/** Whether this user has signed in before from this IP, and with this user agent (read before remembering). */
export async function deviceNovelty(tx: TenantTx, userId: string | null, request: RequestContext): Promise<{ newIp: boolean; newUserAgent: boolean; anyDevice: boolean }> {
  if (!userId) return { newIp: true, newUserAgent: true, anyDevice: false };
  const [row] = await tx
    .select({
      any: sql<number>`count(*)::int`,
      ip: sql<number>`count(*) FILTER (WHERE ${knownDevices.ipAddress} = ${request.ip}::inet)::int`,
      ua: sql<number>`count(*) FILTER (WHERE ${knownDevices.userAgentHash} = ${userAgentHash(request.userAgent)})::int`,
    })
    .from(knownDevices)
    .where(eq(knownDevices.userId, userId));
  return { newIp: (row?.ip ?? 0) === 0, newUserAgent: (row?.ua ?? 0) === 0, anyDevice: (row?.any ?? 0) > 0 };
}

/** The documented deterministic sign-in risk model (docs/audit-log.md), for success and refusal events. */
export type DeviceNovelty = Awaited<ReturnType<typeof deviceNovelty>>;

/** The caller reads `deviceNovelty` once and passes it, since a successful sign-in needs it twice. */
export async function signInRisk(tx: TenantTx, novelty: DeviceNovelty, now: Date, failures: number, locked: boolean): Promise<number> {
  const unusualHour = await isUnusualSignInHour(tx, now);
  return signInRiskScore({ newIp: novelty.newIp, newUserAgent: novelty.newUserAgent, recentFailures: failures, locked, unusualHour });
}
