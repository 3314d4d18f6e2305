import type { UserRow, TenantRow } from '@tessera/db';

export interface UserView {
  id: string;
  email: string;
  displayName: string | null;
  role: UserRow['role'];
  mfaEnabled: boolean;
}

export interface TenantView {
  id: string;
  slug: string;
  name: string;
}

export function toUserView(user: UserRow, mfaEnabled = false): UserView {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    mfaEnabled,
  };
}

export function toTenantView(tenant: Pick<TenantRow, 'id' | 'slug' | 'name'>): TenantView {
  return { id: tenant.id, slug: tenant.slug, name: tenant.name };
}
