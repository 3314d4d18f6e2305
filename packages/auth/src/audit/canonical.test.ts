import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  canonicalAroundSeq,
  canonicalEvent,
  canonicalJson,
  chainHash,
  GENESIS_HASH,
  personalDigest,
  piiToken,
  type ChainFields,
} from './canonical.js';
import { defaultRiskScore, signInRiskScore } from './risk-score.js';
import { preparePayload, REDACTED, toJsonValue } from './sanitize.js';

const fields: ChainFields = {
  tenantId: '0b6c3f2e-7f43-4a53-9a51-3f1f8c0f6b11',
  seq: 1,
  occurredAt: '2026-03-01T12:00:00.000Z',
  actorType: 'user',
  actorId: 'u1',
  action: 'user.role.changed',
  targetType: 'user',
  targetId: 'u2',
  ipDigest: null,
  userAgentDigest: null,
  before: { role: 'member' },
  after: { role: 'admin' },
  metadata: { b: 1, a: [true, null] },
  riskScore: 60,
};

describe('canonical form', () => {
  test('object keys are sorted at every depth and there is no whitespace', () => {
    expect(canonicalJson({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 'é' }] })).toBe(
      '{"a":[{"y":"é","z":1}],"b":{"c":2,"d":1}}',
    );
  });

  test('canonical(event) is the documented fixed-order array', () => {
    expect(canonicalEvent(fields)).toBe(
      '["tessera.audit.v1","0b6c3f2e-7f43-4a53-9a51-3f1f8c0f6b11",1,"2026-03-01T12:00:00.000Z","user","u1",' +
        '"user.role.changed","user","u2",null,null,{"role":"member"},{"role":"admin"},{"a":[true,null],"b":1},60]',
    );
  });

  test('the text around seq that the database completes is exactly the canonical form', () => {
    const { head, tail } = canonicalAroundSeq(fields);
    expect(`${head}1${tail}`).toBe(canonicalEvent(fields));
    expect(`${head}123456789${tail}`).toBe(canonicalEvent({ ...fields, seq: 123_456_789 }));
  });

  test('hash = SHA-256(prev_hash || canonical(event)), starting from 32 zero bytes', () => {
    const expected = createHash('sha256')
      .update(Buffer.alloc(32))
      .update(canonicalEvent(fields))
      .digest('hex');
    expect(chainHash(GENESIS_HASH, fields).toString('hex')).toBe(expected);
  });

  test('a personal value is covered by SHA-256(salt || value) and replaced by its token', () => {
    const salt = Buffer.alloc(16, 7);
    const digest = createHash('sha256').update(salt).update('alice@example.com').digest('hex');
    expect(personalDigest(salt, 'alice@example.com').toString('hex')).toBe(digest);
    expect(piiToken(salt, 'alice@example.com')).toBe(`pii:${digest}`);
  });
});

describe('payload sanitising', () => {
  const mask = (clear: string): string => `pii:${clear.length}`;

  test('secret keys and whole API keys are redacted wherever they appear, ids and prefixes are kept', () => {
    const out = preparePayload(
      {
        password: 'p',
        newPassword: 'p',
        token_hash: 'h',
        apiKey: 'k',
        backupCodes: ['1'],
        nested: [{ totpSecret: 's' }],
        keyId: 'id',
        keyPrefix: 'sk_live_ab',
        role: 'admin',
        pasted: `sk_test_${'a'.repeat(49)}`,
      },
      mask,
    );
    expect(out).toEqual({
      password: REDACTED,
      newPassword: REDACTED,
      token_hash: REDACTED,
      apiKey: REDACTED,
      backupCodes: REDACTED,
      nested: [{ totpSecret: REDACTED }],
      keyId: 'id',
      keyPrefix: 'sk_live_ab',
      role: 'admin',
      pasted: REDACTED,
    });
  });

  test('e-mail addresses anywhere and name or phone values are masked', () => {
    const out = preparePayload(
      {
        email: 'a@b.co',
        note: 'x',
        invited: ['c@d.io'],
        displayName: 'Alice',
        phoneNumber: '+1 555',
      },
      mask,
    );
    expect(out).toEqual({
      email: 'pii:6',
      note: 'x',
      invited: ['pii:6'],
      displayName: 'pii:5',
      phoneNumber: 'pii:6',
    });
  });

  test('values become what jsonb stores: dates as ISO strings, no undefined, no NUL or lone surrogates', () => {
    const when = new Date('2026-03-01T12:00:00Z');
    expect(
      toJsonValue({ when, gone: undefined, n: Number.NaN, z: -0, s: 'a\u0000b\uD800', big: 10n }),
    ).toEqual({
      when: '2026-03-01T12:00:00.000Z',
      n: null,
      z: 0,
      s: 'a\uFFFDb\uFFFD',
      big: '10',
    });
  });

  test('a __proto__ key stays data and never becomes a prototype', () => {
    const out = preparePayload(
      JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>,
      mask,
    ) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
  });
});

describe('risk score', () => {
  const calm = {
    newIp: false,
    newUserAgent: false,
    recentFailures: 0,
    locked: false,
    unusualHour: false,
  };

  test('a sign-in from a known device at a usual hour scores 0', () => {
    expect(signInRiskScore(calm)).toBe(0);
  });

  test('each signal adds its documented weight and failures count up to three', () => {
    expect(signInRiskScore({ ...calm, newIp: true })).toBe(25);
    expect(signInRiskScore({ ...calm, newUserAgent: true, unusualHour: true })).toBe(30);
    expect(signInRiskScore({ ...calm, recentFailures: 2 })).toBe(20);
    expect(signInRiskScore({ ...calm, recentFailures: 9 })).toBe(30);
    expect(signInRiskScore({ ...calm, locked: true, newIp: true })).toBe(65);
  });

  test('the score never exceeds 100', () => {
    expect(
      signInRiskScore({
        newIp: true,
        newUserAgent: true,
        recentFailures: 5,
        locked: true,
        unusualHour: true,
      }),
    ).toBe(100);
  });

  test('other actions carry a fixed score per action, refusals 40 and the rest 10 by default', () => {
    expect(defaultRiskScore('mfa.disabled')).toBe(60);
    expect(defaultRiskScore('webhook.delivery.failed')).toBe(40);
    expect(defaultRiskScore('widget.renamed')).toBe(10);
  });
});
