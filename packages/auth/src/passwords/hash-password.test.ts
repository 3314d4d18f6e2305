import { describe, expect, test } from 'vitest';
import { AuthError } from '../errors.js';
import { hashPassword } from './hash-password.js';
import { OWASP_PARAMS, TEST_PARAMS } from './hashing-params.js';
import { isOverlongPassword } from './password-text.js';
import { isWeakerThan, parseArgon2Phc } from './phc.js';
import { verifyPassword } from './verify-password.js';

const PHC_FORMAT =
  /^\$argon2id\$v=19\$(?:[mtp]=\d+,){2}[mtp]=\d+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;
const STRONGER = { ...TEST_PARAMS, memoryCost: 2048 };
const argon2 = (hash: string) => ({ hash, algorithm: 'argon2id' as const });

describe('Argon2id hashing', () => {
  test('a hash verifies its own password and refuses another', async () => {
    const hash = await hashPassword('violet tractor umbrella minus', TEST_PARAMS);
    expect(hash).toMatch(PHC_FORMAT);
    expect(parseArgon2Phc(hash)).toEqual({ variant: 'argon2id', version: 19, ...TEST_PARAMS });
    const same = await verifyPassword(argon2(hash), 'violet tractor umbrella minus', TEST_PARAMS);
    const other = await verifyPassword(argon2(hash), 'violet tractor umbrella minu', TEST_PARAMS);
    expect(same).toEqual({ ok: true, needsRehash: false });
    expect(other).toEqual({ ok: false, needsRehash: false });
  });

  test('the default OWASP parameters are written as m=19456, t=2, p=1', async () => {
    const hash = await hashPassword('violet tractor umbrella minus');
    expect(hash).toMatch(PHC_FORMAT);
    expect(hash).toContain('m=19456');
    expect(hash).toContain('t=2');
    expect(hash).toContain('p=1');
    expect(parseArgon2Phc(hash)).toMatchObject(OWASP_PARAMS);
  });

  test('a verified hash with weaker parameters than the current ones needs a rehash', async () => {
    const hash = await hashPassword('violet tractor umbrella minus', TEST_PARAMS);
    const result = await verifyPassword(argon2(hash), 'violet tractor umbrella minus', STRONGER);
    expect(result).toEqual({ ok: true, needsRehash: true });
  });

  test('a hash stronger than the current parameters is kept, never downgraded', async () => {
    const hash = await hashPassword('violet tractor umbrella minus', STRONGER);
    const result = await verifyPassword(argon2(hash), 'violet tractor umbrella minus', TEST_PARAMS);
    expect(result).toEqual({ ok: true, needsRehash: false });
  });

  test('a wrong password never asks for a rehash', async () => {
    const hash = await hashPassword('violet tractor umbrella minus', TEST_PARAMS);
    expect(await verifyPassword(argon2(hash), 'wrong', STRONGER)).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  test('a password typed in NFD verifies against the hash of its NFC form', async () => {
    const nfc = 'Crème brûlée façade 2019'.normalize('NFC');
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    const hash = await hashPassword(nfc, TEST_PARAMS);
    expect(await verifyPassword(argon2(hash), nfd, TEST_PARAMS)).toMatchObject({ ok: true });
    const fromNfd = await hashPassword(nfd, TEST_PARAMS);
    expect(await verifyPassword(argon2(fromNfd), nfc, TEST_PARAMS)).toMatchObject({ ok: true });
  });
});

describe('the 256-code-point limit', () => {
  const emoji256 = '🔐'.repeat(256); // 512 UTF-16 units, 256 code points

  test('256 emoji are accepted in full and 257 are refused, never truncated', async () => {
    expect(isOverlongPassword(emoji256)).toBe(false);
    const hash = await hashPassword(emoji256, TEST_PARAMS);
    expect(await verifyPassword(argon2(hash), emoji256, TEST_PARAMS)).toMatchObject({ ok: true });
    const shorter = emoji256.slice(0, -2);
    expect(await verifyPassword(argon2(hash), shorter, TEST_PARAMS)).toMatchObject({ ok: false });

    const emoji257 = `${emoji256}🔐`;
    expect(isOverlongPassword(emoji257)).toBe(true);
    await expect(hashPassword(emoji257, TEST_PARAMS)).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'password',
    });
    expect(await verifyPassword(argon2(hash), emoji257, TEST_PARAMS)).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  test('more than 1,024 UTF-16 units are refused before normalisation', () => {
    expect(isOverlongPassword('a'.repeat(1025))).toBe(true);
    expect(isOverlongPassword('a'.repeat(256))).toBe(false);
    expect(isOverlongPassword('a'.repeat(257))).toBe(true);
  });

  test('overlong input refused by hashPassword is an AuthError with a safe detail', async () => {
    const error: unknown = await hashPassword('x'.repeat(300), TEST_PARAMS).catch((e) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).detail).toBe('Use at most 256 characters.');
  });
});

describe('stored hashes', () => {
  test('a malformed or mismatched stored hash throws instead of answering "wrong password"', async () => {
    const bcryptHash = '$2b$04$abcdefghijklmnopqrstuuGlaJKCsxkMJ.ieLuRNXOVGxX6xgJv8G';
    await expect(verifyPassword(argon2('not a hash'), 'pw', TEST_PARAMS)).rejects.toThrow(
      TypeError,
    );
    await expect(verifyPassword(argon2(bcryptHash), 'pw', TEST_PARAMS)).rejects.toThrow(TypeError);
    const argonHash = await hashPassword('pw-long-enough', TEST_PARAMS);
    await expect(
      verifyPassword({ hash: argonHash, algorithm: 'bcrypt' }, 'pw-long-enough'),
    ).rejects.toThrow(TypeError);
  });

  test('PHC parameters are read in any order, and old variants or versions count as weaker', () => {
    const salt = 'c29tZXNhbHRzb21lc2FsdA';
    const digest = 'a'.repeat(43);
    const reordered = parseArgon2Phc(`$argon2id$v=19$t=2,p=1,m=19456$${salt}$${digest}`);
    expect(reordered).toEqual({ variant: 'argon2id', version: 19, ...OWASP_PARAMS });
    const noVersion = parseArgon2Phc(`$argon2id$m=19456,t=2,p=1$${salt}$${digest}`);
    expect(noVersion?.version).toBe(16);
    expect(noVersion && isWeakerThan(noVersion, OWASP_PARAMS)).toBe(true);
    const argon2i = parseArgon2Phc(`$argon2i$v=19$m=19456,t=2,p=1$${salt}$${digest}`);
    expect(argon2i && isWeakerThan(argon2i, OWASP_PARAMS)).toBe(true);
    expect(parseArgon2Phc(`$argon2id$v=19$m=19456,t=2$${salt}$${digest}`)).toBeNull();
    expect(parseArgon2Phc(`$argon2id$v=19$m=1,m=2,t=2,p=1$${salt}$${digest}`)).toBeNull();
  });
});
