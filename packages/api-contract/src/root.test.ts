// Guards on the whole contract: an unguarded procedure cannot ship (docs/contributing.md convention 7), and no
// procedure that takes a secret is a query, whose input would travel in the URL (docs/design.md rule 4).
import { expect, test } from 'vitest';
import { z } from 'zod';
import { PERMISSIONS } from '@tessera/auth/roles';
import { appRouter } from './root.js';
import type { Access } from './trpc.js';

interface ProcedureDef {
  type: 'query' | 'mutation' | 'subscription';
  meta?: { access?: unknown };
  inputs: unknown[];
}

const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>,
);

function keysOf(schema: unknown, prefix = ''): string[] {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault
  ) {
    return keysOf((schema as unknown as { unwrap(): unknown }).unwrap(), prefix);
  }
  if (schema instanceof z.ZodArray) return keysOf(schema.element, prefix);
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, unknown>).flatMap(([key, value]) => [
      `${prefix}${key}`,
      ...keysOf(value, `${prefix}${key}.`),
    ]);
  }
  return [];
}

test('the router has the contract procedures', () => {
  const names = procedures.map(([name]) => name);
  for (const required of [
    'health.check',
    'auth.signUp',
    'auth.signIn',
    'auth.signOut',
    'auth.me',
    'auth.changePassword',
    'auth.requestPasswordReset',
    'auth.resetPassword',
    'auth.passwordStrength',
    'auth.acceptInvite',
    'sessions.list',
    'sessions.revoke',
    'sessions.revokeOthers',
    'tenant.get',
    'tenant.updateSecurityPolicy',
    'users.list',
    'users.invite',
    'users.setRole',
    'users.disable',
    'users.unlock',
    'audit.list',
    'audit.verify',
    'apiKeys.create',
    'apiKeys.list',
    'apiKeys.revoke',
    'apiKeys.rotate',
    'apiKeys.revokeSelf',
    'mfa.status',
    'mfa.beginEnrollment',
    'mfa.confirmEnrollment',
    'mfa.regenerateBackupCodes',
    'mfa.disable',
    'mfa.stepUp',
    'auth.verifyMfa',
    'tenant.sso.get',
    'tenant.sso.update',
    'privacy.requestExport',
    'privacy.requestDeletion',
    'privacy.myRequests',
    'privacy.exportDownload',
    'compliance.listRequests',
    'compliance.createRequest',
    'compliance.placeLegalHold',
    'compliance.releaseLegalHold',
    'compliance.rejectRequest',
    'compliance.extendDeadline',
  ]) {
    expect(names).toContain(required);
  }
});

test('every procedure declares who may call it', () => {
  for (const [name, procedure] of procedures)
    expect(procedure._def.meta?.access, name).toBeDefined();
});

test('every non-public procedure names the permission it needs, or is explicitly self-service', () => {
  const vocabulary = new Set<string>([...PERMISSIONS, 'self']);
  const missing = procedures.flatMap(([name, procedure]) => {
    const access = procedure._def.meta?.access as Access | undefined;
    if (access === 'public') return [];
    const permission = (access as { permission?: unknown } | undefined)?.permission;
    return typeof permission === 'string' && vocabulary.has(permission)
      ? []
      : [`${name}: ${JSON.stringify(access)}`];
  });
  expect(missing).toEqual([]);
});

test('every procedure whose input holds a secret is a mutation', () => {
  for (const [name, procedure] of procedures) {
    const keys = procedure._def.inputs.flatMap((input) => keysOf(input));
    const secret = keys.filter((key) =>
      /(password|code|token|secret)$/i.test(key.split('.').at(-1) ?? ''),
    );
    if (secret.length)
      expect(procedure._def.type, `${name} takes ${secret.join(', ')}`).toBe('mutation');
  }
});

test('the secret-field detector sees nested and optional fields (the guard itself works)', () => {
  expect(keysOf(z.object({ a: z.object({ token: z.string() }).optional() }))).toContain('a.token');
});
