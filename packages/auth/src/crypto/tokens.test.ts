import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { hmacSha256, randomToken, sha256, sha256Hex, timingSafeEqualHex } from './tokens.js';

describe('randomToken', () => {
  test('a token is base64url of 32 random bytes by default', () => {
    const token = randomToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  test('a token has the requested number of bytes', () => {
    expect(Buffer.from(randomToken(48), 'base64url')).toHaveLength(48);
  });

  test('two tokens differ', () => {
    expect(new Set(Array.from({ length: 100 }, () => randomToken())).size).toBe(100);
  });

  test('a token under 128 bits or a fractional size is programmer misuse', () => {
    expect(() => randomToken(15)).toThrow(TypeError);
    expect(() => randomToken(16.5)).toThrow(TypeError);
  });
});

describe('sha256', () => {
  test('the digest matches the FIPS 180-2 "abc" vector', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex('abc')).toBe(abc);
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe(abc);
    expect(sha256('abc').toString('hex')).toBe(abc);
  });

  test('strings are hashed as UTF-8', () => {
    expect(sha256Hex('é')).toBe(sha256Hex(Buffer.from([0xc3, 0xa9])));
  });
});

describe('timingSafeEqualHex', () => {
  const hash = sha256Hex('token');

  test('equal hashes compare equal, whatever the hex case', () => {
    expect(timingSafeEqualHex(hash, sha256Hex('token'))).toBe(true);
    expect(timingSafeEqualHex(hash, hash.toUpperCase())).toBe(true);
  });

  test('different hashes compare unequal', () => {
    expect(timingSafeEqualHex(hash, sha256Hex('other'))).toBe(false);
  });

  test('a length mismatch returns false instead of throwing', () => {
    expect(timingSafeEqualHex(hash, hash.slice(0, -2))).toBe(false);
    expect(timingSafeEqualHex(hash, `${hash}00`)).toBe(false);
  });

  test('empty, odd-length or non-hex input never compares equal', () => {
    expect(timingSafeEqualHex('', '')).toBe(false);
    expect(timingSafeEqualHex('abc', 'abc')).toBe(false);
    expect(timingSafeEqualHex('zz', 'zz')).toBe(false);
    expect(timingSafeEqualHex(`${hash.slice(0, -2)}zz`, `${hash.slice(0, -2)}zz`)).toBe(false);
  });
});

describe('hmacSha256', () => {
  test('the MAC matches RFC 4231 test case 2', () => {
    const expected = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
    expect(hmacSha256('Jefe', 'what do ya want for nothing?').toString('hex')).toBe(expected);
  });

  test('a different key gives a different MAC', () => {
    const data = 'payload';
    expect(hmacSha256('k1', data).equals(hmacSha256('k2', data))).toBe(false);
    expect(hmacSha256('k1', data)).toEqual(createHmac('sha256', 'k1').update(data).digest());
  });
});
