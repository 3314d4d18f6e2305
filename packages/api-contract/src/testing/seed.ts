import { randomBytes } from 'node:crypto';
import type { Database } from '@tessera/db';
import type { Services } from '../context.js';
import { createCaller, createTestContext, type TestContextOptions } from './index.js';

export const STRONG_PASSWORD = 'quiet-lantern-orbit-maple-7391';
export const OTHER_STRONG_PASSWORD = 'velvet-harbor-cinnamon-glacier-2048';

export interface SeededOwner {
  tenant: { id: string; slug: string; name: string };
  user: { id: string; email: string };
  token: string;
  services: Services;
}

/** Signs up a fresh tenant and owner through the real procedure and returns the session token. */
export async function signUpOwner(
  db: Database,
  options: TestContextOptions & { email?: string } = {},
): Promise<SeededOwner> {
  const ctx = createTestContext(db, options);
  const slug = `acme-${randomBytes(4).toString('hex')}`;
  const email = options.email ?? `owner-${randomBytes(3).toString('hex')}@example.com`;
  const result = await createCaller(ctx).auth.signUp({
    tenantName: `Acme ${slug}`,
    tenantSlug: slug,
    email,
    password: STRONG_PASSWORD,
  });
  if (!ctx.cookies.token) throw new Error('sign-up set no cookie');
  return {
    tenant: result.tenant,
    user: { id: result.user.id, email: result.user.email },
    token: ctx.cookies.token,
    services: ctx.services,
  };
}
