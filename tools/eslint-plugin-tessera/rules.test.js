import { readFileSync } from 'node:fs';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import plugin, { semgrepRules } from './index.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const ruleTester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
});

const SRC = 'packages/auth/src/some-module.ts';
const { rules } = plugin;

describe('no-raw-sql-interpolation', () => {
  ruleTester.run('no-raw-sql-interpolation', rules['no-raw-sql-interpolation'], {
    valid: [
      'db.execute(sql`select * from users where id = ${id}`)',
      "sql.raw('select 1')",
      'sql.raw(`select 1`)',
      "sql.raw('select 1' + ' from dual')",
      "client.query('select * from users where id = $1', [id])",
      "pool.query({ text: 'select $1::int', values: [1] })",
      'postgres.unsafe(STATIC_SQL)',
      'logger.info(`user ${id} signed in`)',
      'String.raw`a${b}`',
    ],
    invalid: [
      {
        code: 'sql.raw(`set local app.tenant_id = ${tenantId}`)',
        errors: [{ messageId: 'stringBuiltSql' }],
      },
      {
        code: "sql.raw('select ' + column + ' from t')",
        errors: [{ messageId: 'stringBuiltSql' }],
      },
      { code: 'drizzle.sql.raw(`drop table ${name}`)', errors: [{ messageId: 'stringBuiltSql' }] },
      {
        code: "client.query(`select * from users where email = '${email}'`)",
        errors: [{ messageId: 'stringBuiltSql' }],
      },
      {
        code: "pool.query('select * from t where id = ' + id, [])",
        errors: [{ messageId: 'stringBuiltSql' }],
      },
      { code: 'tx.unsafe(`delete from ${table}`)', errors: [{ messageId: 'stringBuiltSql' }] },
      {
        code: "db.execute('select ' + (col as string))",
        errors: [{ messageId: 'stringBuiltSql' }],
      },
      { code: 'await this.pool!.query(`select ${x}`)', errors: [{ messageId: 'stringBuiltSql' }] },
    ],
  });
});

describe('no-set-app-setting', () => {
  ruleTester.run('no-set-app-setting', rules['no-set-app-setting'], {
    valid: [
      {
        code: "await tx.execute(sql`select set_config('app.tenant_id', ${id}, true)`)",
        filename: 'packages/db/src/tenant-context.ts',
      },
      {
        code: 'const q = "select set_config(\'app.tenant_id\', $1, true)"',
        filename: 'packages/db/src/tenant-context.ts',
      },
      // A sql`...` tag parameterises: not string-built.
      {
        code: "await client.query(sql`select set_config('app.tenant_id', ${id}, true)`)",
        filename: 'packages/db/src/tenant-context.ts',
      },
      { code: "const setting = 'app.tenant_id'", filename: SRC },
      { code: "await client.query('RESET app.tenant_id')", filename: SRC },
      { code: "await client.query('SET search_path = public')", filename: SRC },
      { code: "const s = sql`select current_setting('app.tenant_id', true)`", filename: SRC },
    ],
    invalid: [
      {
        code: "await client.query('SET app.tenant_id = 1')",
        filename: SRC,
        errors: [{ messageId: 'setAppSetting' }],
      },
      {
        code: 'await tx.execute(sql`set local app.tenant_id = ${id}`)',
        filename: SRC,
        errors: [{ messageId: 'setAppSetting' }],
      },
      {
        code: "const q = 'SET LOCAL ' + 'app.user_id = ' + id",
        filename: SRC,
        errors: [{ messageId: 'setAppSetting' }],
      },
      {
        code: 'const q = `SET SESSION "app".tenant_id TO x`',
        filename: SRC,
        errors: [{ messageId: 'setAppSetting' }],
      },
      // The narrow exception in tenant-context.ts still needs an eslint-disable comment.
      {
        code: "sql.raw(`SET LOCAL app.tenant_id = '${uuid}'`)",
        filename: 'packages/db/src/tenant-context.ts',
        errors: [{ messageId: 'setAppSetting' }],
      },
      {
        code: "await tx.execute(sql`select set_config('app.tenant_id', ${id}, true)`)",
        filename: 'packages/auth/src/sessions/validate-session.ts',
        errors: [{ messageId: 'setConfigOutsideTenantContext' }],
      },
      {
        code: 'const q = "SELECT set_config( \'app.tenant_id\', $1, true)"',
        filename: 'packages/db/src/lookups.ts',
        errors: [{ messageId: 'setConfigOutsideTenantContext' }],
      },
      // String-built set_config is the narrow exception: flagged even in tenant-context.ts.
      {
        code: "const q = `BEGIN; SELECT set_config('app.tenant_id', '${id}', true)`",
        filename: 'packages/db/src/tenant-context.ts',
        errors: [{ messageId: 'stringBuiltSetConfig' }],
      },
      {
        code: 'const q = "select set_config(\'app.tenant_id\', \'" + id + "\', true)"',
        filename: 'packages/db/src/tenant-context.ts',
        errors: [{ messageId: 'stringBuiltSetConfig' }],
      },
    ],
  });
});

describe('no-math-random', () => {
  ruleTester.run('no-math-random', rules['no-math-random'], {
    valid: [
      'const id = randomUUID()',
      'const n = randomInt(10)',
      'const r = rng.random()',
      'Math.floor(x)',
    ],
    invalid: [
      { code: 'const n = Math.random()', errors: [{ messageId: 'mathRandom' }] },
      { code: "const f = Math['random']", errors: [{ messageId: 'mathRandom' }] },
      { code: 'const { random } = Math', errors: [{ messageId: 'mathRandom' }] },
    ],
  });
});

describe('no-weak-hash', () => {
  ruleTester.run('no-weak-hash', rules['no-weak-hash'], {
    valid: [
      "createHash('sha256').update(token).digest('hex')",
      "crypto.createHmac('sha512', key)",
      "hash.digest('base64url')",
      "const ALG = 'sha256'; createHash(ALG)",
      'createHash(algorithm)',
      "await crypto.subtle.digest('SHA-256', data)",
    ],
    invalid: [
      { code: "createHash('md5')", errors: [{ messageId: 'weakHash' }] },
      { code: "crypto.createHash('SHA1').update(password)", errors: [{ messageId: 'weakHash' }] },
      { code: "createHmac('sha1', secret)", errors: [{ messageId: 'weakHash' }] },
      { code: 'nodeCrypto.createHmac(`md5`, key)', errors: [{ messageId: 'weakHash' }] },
      { code: "const ALG = 'sha1'; createHash(ALG)", errors: [{ messageId: 'weakHash' }] },
      { code: "await crypto.subtle.digest('SHA-1', data)", errors: [{ messageId: 'weakHash' }] },
    ],
  });
});

describe('no-plain-compare-secret', () => {
  ruleTester.run('no-plain-compare-secret', rules['no-plain-compare-secret'], {
    valid: [
      'timingSafeEqual(Buffer.from(tokenHash), Buffer.from(expected))',
      'if (row.keyHash === null) {}',
      'if (tokenHash !== undefined) {}',
      'if (row.keyHash.length === 32) {}',
      'if (hash === other) {}', // lower-case name: suffix is case-sensitive
      'if (isMacOS === true) {}',
      "if (typeof row.keyHash === 'string') {}",
    ],
    invalid: [
      { code: 'if (tokenHash === expected) {}', errors: [{ messageId: 'plainCompare' }] },
      { code: 'if (row.keyHash !== computed) {}', errors: [{ messageId: 'plainCompare' }] },
      { code: 'if (expectedMac == mac) {}', errors: [{ messageId: 'plainCompare' }] },
      { code: 'if (candidate === user?.passwordHash) {}', errors: [{ messageId: 'plainCompare' }] },
      { code: "if (row['codeHash']! === digest) {}", errors: [{ messageId: 'plainCompare' }] },
    ],
  });
});

describe('no-gcm-outside-keyring', () => {
  ruleTester.run('no-gcm-outside-keyring', rules['no-gcm-outside-keyring'], {
    valid: [
      {
        code: "createCipheriv('aes-256-gcm', key, iv)",
        filename: 'packages/auth/src/crypto/keyring.ts',
      },
      {
        code: "crypto.createDecipheriv('aes-256-gcm', key, iv)",
        filename: 'packages/auth/src/crypto/keyring.ts',
      },
      { code: "createCipheriv('chacha20-poly1305', key, iv)", filename: SRC },
      { code: 'keyring.encrypt(secret)', filename: 'packages/auth/src/mfa/enroll-totp.ts' },
    ],
    invalid: [
      {
        code: "createCipheriv('aes-256-gcm', key, iv)",
        filename: 'packages/auth/src/mfa/totp.ts',
        errors: [{ messageId: 'gcmOutsideKeyring' }],
      },
      {
        code: "crypto.createDecipheriv('AES-256-GCM', key, iv)",
        filename: SRC,
        errors: [{ messageId: 'gcmOutsideKeyring' }],
      },
      {
        code: "const ALG = 'aes-256-gcm'; createCipheriv(ALG, k, iv)",
        filename: 'packages/auth/src/crypto/keyring.test.ts',
        errors: [{ messageId: 'gcmOutsideKeyring' }],
      },
    ],
  });
});

describe('no-trpc-error-in-routers', () => {
  ruleTester.run('no-trpc-error-in-routers', rules['no-trpc-error-in-routers'], {
    valid: [
      {
        code: "throw new TRPCError({ code: 'UNAUTHORIZED' })",
        filename: 'packages/api-contract/src/middleware/map-errors.ts',
      },
      {
        code: "throw new AuthError('invalid_credentials')",
        filename: 'packages/api-contract/src/routers/auth.ts',
      },
      {
        code: 'if (e instanceof TRPCError) throw e',
        filename: 'packages/api-contract/src/routers/auth.ts',
      },
    ],
    invalid: [
      {
        code: "throw new TRPCError({ code: 'NOT_FOUND' })",
        filename: 'packages/api-contract/src/routers/api-keys.ts',
        errors: [{ messageId: 'trpcErrorInRouter' }],
      },
      {
        code: "throw new server.TRPCError({ code: 'FORBIDDEN' })",
        filename: 'packages/api-contract/src/routers/admin/tenants.ts',
        errors: [{ messageId: 'trpcErrorInRouter' }],
      },
    ],
  });
});

describe('no-log-request-body', () => {
  ruleTester.run('no-log-request-body', rules['no-log-request-body'], {
    valid: [
      "request.log.info({ route: request.routeOptions.url }, 'request')",
      'logger.info({ userId: req.user.id })',
      'reply.send(request.body)',
      'validate(req.body)',
      'log.info(response.body)',
      'metrics.error(request.body)',
    ],
    invalid: [
      { code: 'logger.info(req.body)', errors: [{ messageId: 'logRequestBody' }] },
      {
        code: "request.log.warn({ body: request.body }, 'bad input')",
        errors: [{ messageId: 'logRequestBody' }],
      },
      {
        code: 'app.log.error({ err, input: JSON.stringify(request.body) })',
        errors: [{ messageId: 'logRequestBody' }],
      },
      {
        code: "this.logger.debug('payload', ctx.req.body)",
        errors: [{ messageId: 'logRequestBody' }],
      },
      { code: "log.fatal({ ...request['body'] })", errors: [{ messageId: 'logRequestBody' }] },
    ],
  });
});

describe('require-disable-reason', () => {
  // Register the plugin so the directives under test name rules ESLint knows.
  const withPlugin = new RuleTester({
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    plugins: { tessera: plugin },
  });
  withPlugin.run('require-disable-reason', rules['require-disable-reason'], {
    valid: [
      "// eslint-disable-next-line tessera/no-weak-hash -- HIBP k-anonymity range API is defined on SHA-1\ncreateHash('sha1')",
      '/* eslint-disable tessera/no-set-app-setting -- the id was parsed as a UUID above; see tenant-context.test.ts */',
      '// eslint-disable-next-line no-console -- CLI output\nconsole.log(1)',
      '// a comment mentioning tessera/no-weak-hash',
    ],
    invalid: [
      {
        code: "// eslint-disable-next-line tessera/no-weak-hash\ncreateHash('sha1')",
        errors: [{ messageId: 'missingReason' }],
      },
      {
        code: '/* eslint-disable tessera/no-math-random, no-console -- */',
        errors: [{ messageId: 'missingReason' }],
      },
      {
        code: '// eslint-disable-next-line no-console\nconsole.log(1)',
        errors: [{ messageId: 'missingReason' }],
      },
      // (A bare file-wide `/* eslint-disable */` also silences this rule: ESLint limitation.)
      { code: '// eslint-disable-next-line\nfoo()', errors: [{ messageId: 'missingReason' }] },
    ],
  });
});

describe('.semgrep.yml mirrors the plugin', () => {
  // Semgrep cannot be installed on the CI image, so check ids and messages textually.
  const yaml = readFileSync(new URL('../../.semgrep.yml', import.meta.url), 'utf8');
  // Messages are one-line YAML scalars, single- ('' escapes ') or double-quoted (no escapes used).
  const semgrep = [
    ...yaml.matchAll(
      /^\s*-\s+id:\s*(\S+)\s*\n(?:.*\n)*?\s*message:\s*(?:"([^"\\]*)"|'((?:[^']|'')*)')\s*$/gm,
    ),
  ].map(([, id, doubleQuoted, singleQuoted]) => ({
    id,
    message: doubleQuoted ?? singleQuoted.replaceAll("''", "'"),
  }));

  it('has one Semgrep rule per (ESLint rule, message)', () => {
    const expected = Object.entries(semgrepRules).flatMap(([name, rule]) =>
      Object.values(rule.meta.messages).map((message) => ({ name, message })),
    );
    for (const { name, message } of expected) {
      expect(semgrep, `${name}: ${message}`).toContainEqual({
        id: expect.stringMatching(new RegExp(`^${name}(?:\\.[a-z-]+)?$`)),
        message,
      });
    }
    expect(semgrep).toHaveLength(expected.length);
  });
});
