import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { DecryptionError, generateKeyringSpec, KeyringError, parseKeyring } from './keyring.js';
import type { EncryptionContext } from './keyring.js';

const keyV1 = randomBytes(32).toString('base64');
const keyV2 = randomBytes(32).toString('base64');
const context: EncryptionContext = {
  purpose: 'totp_secret',
  tenantId: '0b6c3f2e-7f43-4a53-9a51-3f1f8c0f6b11',
  rowId: '5d2a9c1e-1c0b-4e0e-8a2f-0f3b1a7c9d22',
};

/** Flips one bit of the decoded body at `index` (negative counts from the end). */
function flipByte(ciphertext: string, index: number): string {
  const [version, encoded] = ciphertext.split('.') as [string, string];
  const body = Buffer.from(encoded, 'base64url');
  const at = index < 0 ? body.length + index : index;
  body[at] = (body[at] ?? 0) ^ 0x01;
  return `${version}.${body.toString('base64url')}`;
}

function keyringErrorOf(spec: string): KeyringError {
  try {
    parseKeyring(spec);
  } catch (error) {
    if (error instanceof KeyringError) return error;
    throw error;
  }
  throw new Error('expected a KeyringError');
}

describe('encrypt and decrypt', () => {
  const ring = parseKeyring(`v2:${keyV2},v1:${keyV1}`);

  test('a ciphertext decrypts back to its plaintext under the same context', () => {
    const sealed = ring.encrypt('JBSWY3DPEHPK3PXP', context);
    expect(ring.decryptString(sealed, context)).toBe('JBSWY3DPEHPK3PXP');
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect(ring.decrypt(ring.encrypt(bytes, context), context)).toEqual(Buffer.from(bytes));
  });

  test('an empty plaintext round-trips', () => {
    expect(ring.decryptString(ring.encrypt('', context), context)).toBe('');
  });

  test('the first key of the ring encrypts and its version prefixes the ciphertext', () => {
    const sealed = ring.encrypt('secret', context);
    expect(ring.currentVersion).toBe('v2');
    expect(sealed).toMatch(/^v2\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealed.slice(3), 'base64url')).toHaveLength(12 + 6 + 16);
  });

  test('the wire format is version.base64url(nonce|ciphertext|tag) with the documented AAD', () => {
    const body = Buffer.from(ring.encrypt('wire', context).slice(3), 'base64url');
    // eslint-disable-next-line tessera/no-gcm-outside-keyring -- an independent decryption pins the wire format
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(keyV2, 'base64'),
      body.subarray(0, 12),
    );
    const { purpose, tenantId, rowId } = context;
    const aad = JSON.stringify(['tessera.keyring.aad.v1', 'v2', purpose, tenantId, rowId, null]);
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(body.subarray(-16));
    const plaintext = Buffer.concat([decipher.update(body.subarray(12, -16)), decipher.final()]);
    expect(plaintext.toString()).toBe('wire');
  });

  test('two encryptions of the same plaintext differ because each uses a fresh nonce', () => {
    const first = ring.encrypt('same', context);
    const second = ring.encrypt('same', context);
    expect(first).not.toBe(second);
    expect(first.slice(3, 19)).not.toBe(second.slice(3, 19));
  });

  test('the ciphertext does not contain the plaintext', () => {
    const plaintext = 'plaintext-marker';
    const sealed = ring.encrypt(plaintext, context);
    expect(sealed).not.toContain(plaintext);
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain(plaintext);
  });
});

describe('rotation', () => {
  const oldRing = parseKeyring(`v1:${keyV1}`);
  const newRing = parseKeyring(`v2:${keyV2},v1:${keyV1}`);

  test('a ciphertext under an old key still decrypts after a new key is prepended', () => {
    const sealed = oldRing.encrypt('old secret', context);
    expect(newRing.decryptString(sealed, context)).toBe('old secret');
  });

  test('reencrypt moves an old ciphertext to the first key', () => {
    const sealed = oldRing.encrypt('old secret', context);
    expect(newRing.needsRotation(sealed)).toBe(true);
    const moved = newRing.reencrypt(sealed, context);
    expect(moved.startsWith('v2.')).toBe(true);
    expect(newRing.needsRotation(moved)).toBe(false);
    expect(newRing.decryptString(moved, context)).toBe('old secret');
  });

  test('a ciphertext under the first key does not need rotation', () => {
    expect(oldRing.needsRotation(oldRing.encrypt('x', context))).toBe(false);
  });

  test('a ciphertext under a version the ring does not hold throws KeyringError', () => {
    const sealed = newRing.encrypt('new secret', context);
    expect(() => oldRing.decrypt(sealed, context)).toThrow(KeyringError);
    expect(() => oldRing.decrypt(sealed, context)).toThrow('unknown key version');
    expect(() => oldRing.reencrypt(sealed, context)).toThrow(KeyringError);
  });
});

describe('tampering', () => {
  const ring = parseKeyring(`v1:${keyV1}`);
  const sealed = ring.encrypt('tamper me', context);

  test('a flipped ciphertext byte fails with DecryptionError', () => {
    expect(() => ring.decrypt(flipByte(sealed, 12), context)).toThrow(DecryptionError);
  });

  test('a flipped tag byte fails with DecryptionError', () => {
    expect(() => ring.decrypt(flipByte(sealed, -1), context)).toThrow(DecryptionError);
  });

  test('a flipped nonce byte fails with DecryptionError', () => {
    expect(() => ring.decrypt(flipByte(sealed, 0), context)).toThrow(DecryptionError);
  });

  test('a truncated or malformed ciphertext fails with DecryptionError', () => {
    for (const bad of [sealed.slice(0, 20), 'v1', 'v1.', 'v1.***', `x${sealed}`, sealed.slice(3)]) {
      expect(() => ring.decrypt(bad, context), bad).toThrow(DecryptionError);
    }
  });

  test('a DecryptionError says nothing about why decryption failed', () => {
    expect(() => ring.decrypt(flipByte(sealed, -1), context)).toThrow(/^decryption failed$/);
  });

  test('a ciphertext relabelled with another key version fails', () => {
    const both = parseKeyring(`v2:${keyV2},v1:${keyV1}`);
    expect(() => both.decrypt(`v2.${sealed.slice(3)}`, context)).toThrow(DecryptionError);
  });
});

describe('associated data binds the context', () => {
  const ring = parseKeyring(`v1:${keyV1}`);
  const sealed = ring.encrypt('bound', context);

  test.each([
    ['tenantId', { ...context, tenantId: '9f0e2d1c-0000-4000-8000-000000000001' }],
    ['rowId', { ...context, rowId: '9f0e2d1c-0000-4000-8000-000000000002' }],
    ['purpose', { ...context, purpose: 'webhook_secret' }],
    ['chunk', { ...context, chunk: 0 }],
  ])('a ciphertext moved to another %s fails with DecryptionError', (_field, moved) => {
    expect(() => ring.decrypt(sealed, moved)).toThrow(DecryptionError);
  });

  test('a chunk ciphertext moved to another chunk fails with DecryptionError', () => {
    const chunk3 = ring.encrypt('part', { ...context, chunk: 3 });
    expect(ring.decryptString(chunk3, { ...context, chunk: 3 })).toBe('part');
    expect(() => ring.decrypt(chunk3, { ...context, chunk: 4 })).toThrow(DecryptionError);
    expect(() => ring.decrypt(chunk3, context)).toThrow(DecryptionError);
  });

  test('context fields cannot be shifted into each other', () => {
    const split = ring.encrypt('x', { purpose: 'a', tenantId: 'b|c', rowId: 'd' });
    expect(() => ring.decrypt(split, { purpose: 'a|b', tenantId: 'c', rowId: 'd' })).toThrow(
      DecryptionError,
    );
  });

  test('an empty context field or a fractional chunk is rejected as programmer misuse', () => {
    expect(() => ring.encrypt('x', { ...context, rowId: '' })).toThrow(TypeError);
    expect(() => ring.encrypt('x', { ...context, chunk: 1.5 })).toThrow(TypeError);
    expect(() => ring.encrypt('x', { ...context, chunk: -1 })).toThrow(TypeError);
  });
});

describe('parseKeyring', () => {
  const short = randomBytes(16).toString('base64');

  test.each([
    ['an empty spec', '', /empty/],
    ['a trailing comma', `v1:${keyV1},`, /entry 2 is empty/],
    ['a key of the wrong length', `v2:${short}`, /key v2 is 16 bytes, expected 32/],
    ['a duplicate version', `v1:${keyV1},v1:${keyV2}`, /v1 appears more than once/],
    ['bad base64', `v1:${keyV1.slice(0, 20)}!!${keyV1.slice(22)}`, /key v1 is not valid base64/],
    ['non-canonical base64 (junk bits)', `v1:${'A'.repeat(42)}B=`, /key v1 is not valid base64/],
    ['a missing version', keyV1, /not of the form/],
    ['a zero version', `v0:${keyV1}`, /invalid version/],
    ['a version that is not v<number>', `_${keyV2.slice(0, 8)}:${keyV1}`, /invalid version/],
  ])('%s is refused with a KeyringError that never echoes key material', (_name, spec, message) => {
    const error = keyringErrorOf(spec);
    expect(error.message).toMatch(message);
    for (const key of [keyV1, keyV2, short]) {
      expect(error.message).not.toContain(key);
      expect(error.message).not.toContain(key.slice(0, 8));
    }
  });

  test('entries may be separated by spaces after the comma', () => {
    expect(parseKeyring(` v2:${keyV2}, v1:${keyV1} `).versions).toEqual(['v2', 'v1']);
  });

  test('serialising or inspecting a keyring never reveals its keys', async () => {
    const ring = parseKeyring(`v2:${keyV2},v1:${keyV1}`);
    const { inspect } = await import('node:util');
    const shown = `${JSON.stringify(ring)} ${inspect(ring, { depth: 5, showHidden: true })}`;
    expect(shown).not.toContain(keyV1);
    expect(shown).not.toContain(keyV2);
    expect(shown).not.toContain(Buffer.from(keyV1, 'base64').toString('hex'));
  });
});

describe('generateKeyringSpec', () => {
  test('a generated spec parses into a one-key ring under the requested version', () => {
    const spec = generateKeyringSpec();
    expect(spec).toMatch(/^v1:[A-Za-z0-9+/]{43}=$/);
    expect(parseKeyring(spec).versions).toEqual(['v1']);
    expect(parseKeyring(generateKeyringSpec(7)).currentVersion).toBe('v7');
  });

  test('two generated specs hold different keys', () => {
    expect(generateKeyringSpec()).not.toBe(generateKeyringSpec());
  });

  test('a version that is not a positive integer is programmer misuse', () => {
    expect(() => generateKeyringSpec(0)).toThrow(TypeError);
    expect(() => generateKeyringSpec(1.5)).toThrow(TypeError);
  });
});
