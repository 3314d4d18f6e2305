/**
 * Who in the tenant holds a second factor, and which. A second factor is what `auth.me`'s
 * `mfaEnabled` counts (an enabled TOTP app or a passkey, passkeys/factors.ts); a verified SMS
 * number is reported on its own, since SMS is a restricted authenticator the tenant may not allow
 * (docs/mfa-factors.md). Disabled accounts are counted apart and left out of the other figures.
 * One statement over the tenant's users joined to its factor tables (RLS scopes every table).
 */
import type { TenantTx } from '@tessera/db';

export interface RoleFactorCounts {
  role: 'owner' | 'admin' | 'compliance' | 'member';
  members: number;
  withSecondFactor: number;
}

export interface MemberFactorCounts {
  /** Active (not disabled) accounts. */
  members: number;
  withSecondFactor: number;
  withoutSecondFactor: number;
  /** By factor; one member may hold several. */
  factors: { totp: number; passkey: number; sms: number };
  /** Members whose only extra factor is SMS (counted in withoutSecondFactor). */
  smsOnly: number;
  disabled: number;
  byRole: RoleFactorCounts[];
}

const SQL = `
  WITH f AS (
    SELECT u.role, u.disabled_at IS NOT NULL AS disabled,
           t.user_id IS NOT NULL AS totp, w.user_id IS NOT NULL AS passkey, p.user_id IS NOT NULL AS sms
    FROM public.users u
    LEFT JOIN public.mfa_totp t ON t.tenant_id = u.tenant_id AND t.user_id = u.id AND t.enabled_at IS NOT NULL
    LEFT JOIN (SELECT DISTINCT tenant_id, user_id FROM public.webauthn_credentials) w
           ON w.tenant_id = u.tenant_id AND w.user_id = u.id
    LEFT JOIN public.mfa_phone_numbers p ON p.tenant_id = u.tenant_id AND p.user_id = u.id AND p.verified_at IS NOT NULL
  )
  SELECT role, count(*) FILTER (WHERE NOT disabled)::int AS members,
         count(*) FILTER (WHERE NOT disabled AND (totp OR passkey))::int AS second,
         count(*) FILTER (WHERE NOT disabled AND totp)::int AS totp,
         count(*) FILTER (WHERE NOT disabled AND passkey)::int AS passkey,
         count(*) FILTER (WHERE NOT disabled AND sms)::int AS sms,
         count(*) FILTER (WHERE NOT disabled AND sms AND NOT (totp OR passkey))::int AS sms_only,
         count(*) FILTER (WHERE disabled)::int AS disabled
  FROM f GROUP BY role`;

interface Row {
  role: RoleFactorCounts['role'];
  members: number;
  second: number;
  totp: number;
  passkey: number;
  sms: number;
  sms_only: number;
  disabled: number;
}

const ROLES = ['owner', 'admin', 'compliance', 'member'] as const;

export async function memberFactorCounts(tx: TenantTx): Promise<MemberFactorCounts> {
  const { rows } = await tx.client.query<Row>({ name: 'tessera_overview_members', text: SQL });
  const sum = (pick: (row: Row) => number): number => rows.reduce((n, row) => n + pick(row), 0);
  const members = sum((r) => r.members);
  const withSecondFactor = sum((r) => r.second);
  return {
    members,
    withSecondFactor,
    withoutSecondFactor: members - withSecondFactor,
    factors: { totp: sum((r) => r.totp), passkey: sum((r) => r.passkey), sms: sum((r) => r.sms) },
    smsOnly: sum((r) => r.sms_only),
    disabled: sum((r) => r.disabled),
    byRole: ROLES.map((role) => {
      const row = rows.find((r) => r.role === role);
      return { role, members: row?.members ?? 0, withSecondFactor: row?.second ?? 0 };
    }),
  };
}
