// One way into a tenant (docs/design.md "One way into a tenant", ADR 0001). A procedure reaches
// its tenant through `ctx.withTenant` and hands the `TenantTx` to a domain function; a domain
// function opens its own tenant transaction only when no procedure can do it for it, and every
// such opening is listed in OPENS_A_TENANT below, the one place that names them. Use cases take
// one use-case object (db, deps, actor, request, now) instead of six or more positional
// parameters. The lists only shrink: a new opening, a new `ctx.db` in a router or a new long
// parameter row fails here; one removed asks for its line to go.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Files of packages/auth/src that call `withTenant` themselves, and how often. Each is one of:
 * pre-tenant: the tenant is learnt from a token, slug or challenge through a definer function
 *   (design.md rule 3) before any transaction can be bound to it;
 * commit-then-refuse: a refusal is counted and audited in its own transaction that commits before
 *   the error leaves, so the flow needs two transactions;
 * jobs: cross-tenant work that lists (tenant_id, id) and enters each tenant in turn;
 * not yet moved: an in-tenant use case still to take a TenantTx from `ctx.withTenant`
 *   (docs/roadmap.md "One way into a tenant").
 */
const OPENS_A_TENANT = {
  // pre-tenant: sign-up, sign-in and its second step, tokens mailed or remembered
  'packages/auth/src/accounts/sign-in.ts': 3,
  'packages/auth/src/accounts/sign-up.ts': 1,
  'packages/auth/src/accounts/invites.ts': 2, // acceptInvite
  'packages/auth/src/accounts/email-verification.ts': 1, // verifyEmail
  'packages/auth/src/accounts/email-change.ts': 2, // confirmEmailChange; requestEmailChange commit-then-refuse
  'packages/auth/src/accounts/passwords-flow.ts': 4, // reset request and reset; changePassword commit-then-refuse
  'packages/auth/src/shared/complete-sign-in.ts': 1,
  'packages/auth/src/mfa/challenge.ts': 2,
  'packages/auth/src/mfa/email-codes.ts': 2, // mailSignInCode
  'packages/auth/src/mfa/remembered-devices-sign-in.ts': 1,
  'packages/auth/src/mfa/oob-codes-sms.ts': 8, // sign-in codes, send limits; enrollment commit-then-refuse; rotation job
  'packages/auth/src/passkeys/sign-in-with-passkey.ts': 5,
  'packages/auth/src/sso/sign-in.ts': 1,
  'packages/auth/src/sso/sign-in-options.ts': 1,
  'packages/auth/src/privacy/download-links.ts': 1,
  'packages/auth/src/api-keys/refusal-audit.ts': 2,
  // commit-then-refuse: a wrong password or code is committed before the refusal leaves
  'packages/auth/src/shared/confirm-password.ts': 2,
  'packages/auth/src/mfa/enrollment.ts': 5, // beginEnrollment not yet moved
  'packages/auth/src/passkeys/registration.ts': 1,
  'packages/auth/src/passkeys/step-up.ts': 1,
  // jobs and command-line tools: every tenant in turn
  'packages/auth/src/accounts/import-legacy.ts': 1,
  'packages/auth/src/audit/checkpoints.ts': 1,
  'packages/auth/src/audit/retention.ts': 2,
  'packages/auth/src/maintenance/rotate-secrets.ts': 2,
  'packages/auth/src/oidc/signing-keys.ts': 1, // rotate-keys: each signing key in its tenant
  'packages/auth/src/privacy/erasure-ledger.ts': 2,
  'packages/auth/src/privacy/maintenance.ts': 4,
  'packages/auth/src/privacy/webhook-log.ts': 1,
  'packages/auth/src/sso/rotate.ts': 1,
  'packages/auth/src/domains/reverify-domains.ts': 2, // the daily re-check of every tenant's domains
  // pre-tenant: a SAML response names its tenant only through the connection in its URL; its
  // assertion id is committed to the replay cache on its own, before the sign-in goes on
  'packages/auth/src/sso/saml-sign-in.ts': 1,
  'packages/auth/src/sso/saml-sp.ts': 1,
  // not yet moved: in-tenant use cases called by procedures
  'packages/auth/src/accounts/me.ts': 1,
  'packages/auth/src/domains/manage-domains.ts': 6, // domains.add/verify/update/remove/list
  'packages/auth/src/sso/saml-connections.ts': 4, // tenant.saml.list/create/update/delete
  // updateSsoSettings resolves the issuer's DNS before its transaction; loadSsoConnection is pre-tenant
  'packages/auth/src/sso/settings.ts': 2,
};

/** Router files that still hand `ctx.db` to a domain function, and how often. */
const ROUTERS_PASSING_DB = {
  'packages/api-contract/src/routers/auth.ts': 9,
  'packages/api-contract/src/routers/domains.ts': 6, // not yet moved (manage-domains.ts)
  'packages/api-contract/src/routers/health.ts': 1,
  'packages/api-contract/src/routers/mfa.ts': 1,
  'packages/api-contract/src/routers/passkeys.ts': 2,
  'packages/api-contract/src/routers/saml.ts': 4, // not yet moved (saml-connections.ts)
  'packages/api-contract/src/routers/sso.ts': 1,
  'packages/api-contract/src/routers/users.ts': 1,
};

/** Exported functions of packages/auth/src with six or more positional parameters. */
const LONG_PARAMETER_ROWS = [
  'packages/auth/src/accounts/user-tokens.ts#issueUserToken',
  'packages/auth/src/api-keys/create-api-key.ts#createApiKey',
  'packages/auth/src/api-keys/rotate-api-key.ts#rotateApiKey',
  'packages/auth/src/domains/apply-check.ts#applyRecordCheck',
  'packages/auth/src/domains/manage-domains.ts#updateDomainSettings',
  'packages/auth/src/domains/manage-domains.ts#verifyDomain',
  'packages/auth/src/mfa/remembered-devices.ts#revokeUserDevices',
  'packages/auth/src/mfa/remembered-devices.ts#trustRememberedDevice',
  'packages/auth/src/privacy/notifications.ts#enqueuePrivacyEmail',
  'packages/auth/src/shared/complete-sign-in.ts#finishSignIn',
  'packages/auth/src/shared/lockout.ts#recordLockout',
  'packages/auth/src/sso/saml-connections.ts#saveSamlConnection',
  'packages/auth/src/sso/saml-sign-in.ts#completeSamlSignIn',
  'packages/auth/src/sso/saml-sp.ts#validateSamlResponse',
];

function sources(dir) {
  const out = execFileSync('git', ['ls-files', '-z', '--', dir], { cwd: ROOT, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((file) => /\.ts$/.test(file) && !/\.test\.ts$/.test(file))
    .map((file) => ({
      file,
      ast: ts.createSourceFile(file, readFileSync(path.join(ROOT, file), 'utf8'), 99, true),
    }));
}

function walk(node, visit) {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

/** Per file: how many calls `callee(...)` match. */
function countCalls(dir, matches) {
  const counts = {};
  for (const { file, ast } of sources(dir)) {
    let n = 0;
    walk(ast, (node) => {
      if (ts.isCallExpression(node) && matches(node)) n += 1;
    });
    if (n > 0) counts[file] = n;
  }
  return counts;
}

const isWithTenant = (call) =>
  ts.isIdentifier(call.expression) && call.expression.text === 'withTenant';
/** A call that passes `ctx.db` as an argument (a domain function that opens its own transaction). */
const passesCtxDb = (call) =>
  call.arguments.some(
    (arg) =>
      ts.isPropertyAccessExpression(arg) &&
      ts.isIdentifier(arg.expression) &&
      arg.expression.text === 'ctx' &&
      arg.name.text === 'db',
  );

function isExported(node) {
  return (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export) !== 0;
}

function longParameterRows(dir) {
  const found = [];
  for (const { file, ast } of sources(dir)) {
    walk(ast, (node) => {
      if (ts.isFunctionDeclaration(node) && node.name && isExported(node)) {
        if (node.parameters.length >= 6) found.push(`${file}#${node.name.text}`);
      }
      if (ts.isVariableStatement(node) && isExported(node)) {
        for (const decl of node.declarationList.declarations) {
          const init = decl.initializer;
          if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)))
            if (init.parameters.length >= 6) found.push(`${file}#${decl.name.getText()}`);
        }
      }
    });
  }
  return found.sort();
}

describe('one way into a tenant', () => {
  test('packages/auth opens a tenant transaction only where OPENS_A_TENANT says', () => {
    expect(countCalls('packages/auth/src', isWithTenant)).toEqual(OPENS_A_TENANT);
  });

  test('routers hand ctx.db to a domain function only where ROUTERS_PASSING_DB says', () => {
    expect(countCalls('packages/api-contract/src/routers', passesCtxDb)).toEqual(
      ROUTERS_PASSING_DB,
    );
  });

  test('no new exported function of packages/auth takes six or more positional parameters', () => {
    expect(longParameterRows('packages/auth/src')).toEqual(LONG_PARAMETER_ROWS);
  });

  test('the counters see what they are meant to see', () => {
    const ast = ts.createSourceFile(
      'x.ts',
      [
        'export function six(a, b, c, d, e, f) {}',
        'export const arrow = (a, b, c, d, e, f) => a;',
        'function hidden(a, b, c, d, e, f) {}',
        'withTenant(db, id, (tx) => tx);',
        'other.withTenant(fn);',
        'go(ctx.db, x); go(ctx.now());',
      ].join('\n'),
      99,
      true,
    );
    let tenants = 0;
    let db = 0;
    walk(ast, (node) => {
      if (ts.isCallExpression(node) && isWithTenant(node)) tenants += 1;
      if (ts.isCallExpression(node) && passesCtxDb(node)) db += 1;
    });
    expect([tenants, db]).toEqual([1, 1]);
    const rows = [];
    walk(ast, (node) => {
      if (ts.isFunctionDeclaration(node) && isExported(node)) rows.push(node.name.text);
      if (ts.isVariableStatement(node) && isExported(node)) rows.push('arrow');
    });
    expect(rows).toEqual(['six', 'arrow']);
  });
});
