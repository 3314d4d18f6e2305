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
 * jobs: cross-tenant work that lists (tenant_id, id) and enters each tenant in turn.
 * An in-tenant use case called by a procedure is none of these: it takes the TenantTx of
 * `ctx.withTenant`, and does what must not hold a connection (DNS, fetching an IdP's metadata,
 * drawing a QR code) before or after that transaction, as a step of its own.
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
  'packages/auth/src/mfa/enrollment.ts': 4, // verifyCodeForSession; regenerateBackupCodes and disableMfa write after it
  'packages/auth/src/passkeys/registration.ts': 1,
  'packages/auth/src/passkeys/step-up.ts': 1,
  // jobs: every tenant in turn
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
  'packages/auth/src/sso/saml-connections.ts': 1, // loadSamlConnection: the connection in the URL
  // pre-tenant: the OIDC sign-in loads the connection of the tenant its flow names
  'packages/auth/src/sso/settings.ts': 1, // loadSsoConnection
};

/**
 * Router files that hand `ctx.db` to a domain function, and how often: public procedures called
 * before anyone is signed in, which have no `ctx.withTenant` (the tenant comes from a slug, a token
 * or a challenge), and the health probe, which reads no tenant.
 */
const ROUTERS_PASSING_DB = {
  // signUp, signIn, verifyMfa, requestPasswordReset, resetPassword, verifyEmail,
  // confirmEmailChange, acceptInvite
  'packages/api-contract/src/routers/auth.ts': 8,
  'packages/api-contract/src/routers/domains.ts': 1, // route: the SSO start for an e-mail address
  'packages/api-contract/src/routers/health.ts': 1, // SELECT 1, no tenant
  'packages/api-contract/src/routers/passkeys.ts': 2, // authenticationOptions, verifyAuthentication
  'packages/api-contract/src/routers/sso.ts': 1, // signInOptions: a tenant's sign-in page buttons
};

/**
 * Exported functions of packages/auth/src with six or more positional parameters: none. A
 * function that needs that many takes a use case object instead (docs/design.md "One way into a
 * tenant").
 */
const LONG_PARAMETER_ROWS = [];

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
